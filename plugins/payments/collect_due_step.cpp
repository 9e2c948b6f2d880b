#include "plugins/payments/collect_due_step.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/invoice_generator.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::payments {

using workflow::ValueType;

const workflow::StepTypeDescriptor& CollectDueStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "payments.collect_due",
        "Invoices to charge today under the collection schedule (days relative to the due "
        "date: capture before due, retries after), each day at most once per invoice.",
        {{"as_of", ValueType::kDate, true, "the day of the run", {}},
         {"schedule", ValueType::kArray, false,
          "days relative to the due date, e.g. [0, 3, 7, 14] (the default) or [-2, 0, 5]", {}},
         {"batch_size", ValueType::kInteger, false,
          "invoices per batch of `batches` for payments.charge_batch (500; 0: no batches)", {}},
         {"partitions", ValueType::kInteger, false,
          "client partitions, as billing.generate_invoices's (default 1: all clients)", {}},
         {"partition", ValueType::kInteger, false,
          "collect only clients whose id % partitions equals this (default 0)", {}}},
        {{"invoices", ValueType::kAny, false, "collection of {id, collection_day, attempt}", {}},
         {"count", ValueType::kInteger, false, "invoices due for collection today", {}},
         {"on_first_day", ValueType::kInteger, false, "of which on the schedule's first day", {}},
         {"batches", ValueType::kAny, false,
          "the batch numbers of `invoices` for a for_each of payments.charge_batch ($range)", {}}}};
    return d;
}

runtime::StepResult CollectDueStep::run(const runtime::StepCall& call) {
    billing::StepInputs in("payments.collect_due", call.with);
    const std::string as_of = billing::format_date(in.date("as_of"));
    // 0: no batches (the cycle charges one invoice per payments.charge item instead).
    const auto batch_size = in.integer("batch_size", 500, 0, 10'000);
    const auto partitions = in.integer("partitions", 1, 1, billing::kMaxPartitions);
    const auto partition = in.integer("partition", 0, 0, billing::kMaxPartitions - 1);
    if (partition >= partitions)
        throw InputError("payments.collect_due: partition must be between 0 and partitions - 1 (" +
                         std::to_string(partitions - 1) + "), not " + std::to_string(partition));
    std::vector<int> schedule{0, 3, 7, 14};
    const auto& raw = in.raw("schedule");
    if (!raw.is_null()) {
        if (!raw.is_array() || raw.empty() || raw.size() > 32)
            throw InputError("payments.collect_due: schedule must be a list of 1 to 32 day offsets");
        schedule.clear();
        for (const auto& d : raw) {
            if (!d.is_number_integer() || d.get<long long>() < -365 || d.get<long long>() > 3650)
                throw InputError("payments.collect_due: schedule entries must be whole days in -365..3650");
            schedule.push_back(d.get<int>());
        }
        std::sort(schedule.begin(), schedule.end());
        if (std::adjacent_find(schedule.begin(), schedule.end()) != schedule.end())
            throw InputError("payments.collect_due: schedule has a day twice");
    }
    std::string days = "{";
    for (std::size_t i = 0; i < schedule.size(); ++i) days += (i ? "," : "") + std::to_string(schedule[i]);
    days += "}";
    auto conn = context_.connect();
    try {
        pqxx::work tx(*conn);
        // The latest schedule day on or before as_of; inputs are checked above (a date, integers).
        const std::string sql =
            "SELECT jsonb_build_object('id', i.id, 'collection_day', (i.due_date + s.d)::text, "
            "'attempt', s.n) FROM invoices i "
            "CROSS JOIN LATERAL (SELECT t.d, t.n FROM unnest('" + days + "'::int[]) WITH ORDINALITY "
            "AS t(d, n) WHERE i.due_date + t.d <= DATE '" + as_of + "' ORDER BY t.d DESC LIMIT 1) s "
            "WHERE i.status = 'unpaid' AND i.total - i.credit_applied - i.amount_paid > 0 "
            // Only with partitions: the planner assumes 0.5 % of the rows match a modulo.
            + (partitions > 1 ? "AND i.client_id % " + std::to_string(partitions) + " = " +
                                    std::to_string(partition) + " "
                              : std::string()) +
            "AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id AND "
            "(p.status IN ('unknown', 'pending') OR p.collection_day >= i.due_date + s.d)) "
            "ORDER BY i.id";
        const std::string collection = store::RunStore::create_collection_from_query(tx, call.run_id, sql);
        auto counts = tx.exec_params1(
            "SELECT count(*), count(*) FILTER (WHERE (item->>'attempt')::int = 1) "
            "FROM collection_items WHERE collection_id = $1::uuid",
            collection);
        tx.commit();
        const long long count = counts[0].as<long long>();
        return runtime::StepResult::success({{"invoices", {{"$collection", {{"id", collection}}}}},
                                             {"batches", {{"$range", {{"start", 0},
                                                                      {"count", batch_size > 0 ? (count + batch_size - 1) / batch_size : 0},
                                                                      {"step", 1}}}}},
                                             {"count", count},
                                             {"on_first_day", counts[1].as<long long>()}});
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("finding the invoices due for collection");
    }
}

}  // namespace artistsaid::payments
