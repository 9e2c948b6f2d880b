#include "plugins/payments/charge_batch_step.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/core/id.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "plugins/billing/step_inputs.hpp"
#include "plugins/payments/batch_invoice_charger.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& ChargeBatchStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.charge_batch",
        "Charge one batch of the invoices due for collection (payments.collect_due's "
        "`invoices`, batch `batch` of `batch_size`) set based: one write-ahead statement, "
        "the gateway's batch call, one outcome transaction; unknown outcomes are reconciled "
        "by lookup, never charged twice.",
        {{"invoices", ValueType::kAny, true,
          "the run's collection of {id, collection_day} ({\"$collection\": {\"id\"}})", {}},
         {"batch", ValueType::kInteger, true, "which batch (0, 1, ...: an item of `batches`)", {}},
         {"batch_size", ValueType::kInteger, false,
          "invoices per batch, as given to payments.collect_due (500)", {}},
         {"gateway_parallel", ValueType::kInteger, false,
          "charges in flight at once for gateways without a batch API (8)", {}}},
        {{"batch", ValueType::kInteger, false, "the batch", {}},
         {"count", ValueType::kInteger, false, "invoices in the batch", {}},
         {"charged", ValueType::kInteger, false, "gateway charge calls this attempt made", {}},
         {"succeeded", ValueType::kInteger, false, "payments succeeded", {}},
         {"declined", ValueType::kInteger, false, "payments declined", {}},
         {"unknown", ValueType::kInteger, false, "outcomes left to reconciliation (unknown, pending)", {}},
         {"statuses", ValueType::kAny, false, "invoices per status (see payments.charge)", {}},
         {"decline_codes", ValueType::kAny, false, "declined invoices per decline code", {}}}};
    return d;
}

runtime::StepResult ChargeBatchStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.charge_batch", call.with);
    const auto batch = in.integer("batch", 0, 0, 1'000'000'000);
    const auto size = in.integer("batch_size", 500, 1,
                                 static_cast<std::int64_t>(BatchInvoiceCharger::kMaxBatch));
    const auto& handle = in.raw("invoices");
    const nlohmann::json* id = nullptr;
    if (handle.is_object() && handle.contains("$collection") && handle["$collection"].is_object())
        id = &handle["$collection"]["id"];
    if (id == nullptr || !id->is_string() || !Uuid::parse(id->get<std::string>()))
        throw InputError("payments.charge_batch: invoices must be a collection handle "
                         "{\"$collection\": {\"id\": \"<uuid>\"}} (payments.collect_due's invoices)");
    std::vector<BatchChargeItem> items;
    {
        auto conn = context_.connect();
        try {
            pqxx::read_transaction tx(*conn);
            auto owner = store::RunStore::find_collection(tx, id->get<std::string>());
            if (!owner || owner->first != call.run_id)
                throw InputError("payments.charge_batch: no collection " + id->get<std::string>() +
                                 " in this run");
            for (const auto& r : tx.exec_params(
                     "SELECT (item->>'id')::bigint, coalesce(item->>'collection_day', '') FROM "
                     "collection_items WHERE collection_id = $1::uuid AND idx >= $2 AND idx < $3 "
                     "ORDER BY idx",
                     id->get<std::string>(), batch * size, (batch + 1) * size))
                items.push_back({r[0].as<std::int64_t>(),
                                 call.idempotency_key + ":" + r[0].as<std::string>(),
                                 r[1].as<std::string>()});
        } catch (const Error&) {
            throw;
        } catch (const std::exception&) {
            store::throw_from_pqxx("reading a batch of invoices to charge");
        }
    }
    BatchChargeOptions o;
    o.deadline = call.deadline;
    o.gateway_parallel = static_cast<int>(in.integer("gateway_parallel", 8, 1, 64));
    nlohmann::json statuses = nlohmann::json::object();
    nlohmann::json decline_codes = nlohmann::json::object();
    long long charged = 0;
    for (const auto& out : BatchInvoiceCharger(context_).charge(items, o)) {
        const std::string status = out.value("status", "?");
        statuses[status] = statuses.value(status, 0) + 1;
        if (status == "declined") {
            const std::string code = out.value("decline_code", "");
            decline_codes[code] = decline_codes.value(code, 0) + 1;
        }
        if (out.value("charged", false)) ++charged;
    }
    return runtime::StepResult::success(
        {{"batch", batch},
         {"count", items.size()},
         {"charged", charged},
         {"succeeded", statuses.value("succeeded", 0)},
         {"declined", statuses.value("declined", 0)},
         {"unknown", statuses.value("unknown", 0) + statuses.value("pending", 0)},
         {"statuses", statuses},
         {"decline_codes", decline_codes}});
}

}  // namespace artistsaid::payments
