#include "plugins/billing/documents_due_step.hpp"

#include <pqxx/pqxx>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "plugins/billing/billing_period.hpp"
#include "plugins/billing/step_inputs.hpp"

namespace artistsaid::billing {

using workflow::ValueType;

const workflow::StepTypeDescriptor& DocumentsDueStep::descriptor() const {
    static const workflow::StepTypeDescriptor d{
        "billing.documents_due",
        "Invoices still without their document: unpaid ones without the HTML invoice, paid "
        "ones without the receipt (issued or paid within since_days of as_of).",
        {{"as_of", ValueType::kDate, true, "the day of the run", {}},
         {"since_days", ValueType::kInteger, false, "the window in days (default 7)", {}}},
        {{"documents", ValueType::kAny, false,
          "collection of {id, kind: invoice|receipt, number, client_id}", {}},
         {"count", ValueType::kInteger, false, "documents due", {}},
         {"invoices", ValueType::kInteger, false, "of which HTML invoices", {}},
         {"receipts", ValueType::kInteger, false, "of which receipts", {}}}};
    return d;
}

runtime::StepResult DocumentsDueStep::run(const runtime::StepCall& call) {
    StepInputs in("billing.documents_due", call.with);
    const std::string as_of = format_date(in.date("as_of"));
    const auto since_days = in.integer("since_days", 7, 0, 3660);
    auto conn = connect_();
    try {
        pqxx::work tx(*conn);
        // Values are checked above (a date and an integer), so they can be literals.
        const std::string window = "(DATE '" + as_of + "' - " + std::to_string(since_days) + ")";
        const std::string sql =
            "SELECT jsonb_build_object('id', i.id, 'kind', k.kind, 'number', i.number, "
            "'client_id', i.client_id) FROM invoices i "
            "CROSS JOIN LATERAL (SELECT CASE WHEN i.status = 'paid' THEN 'receipt' "
            "ELSE 'invoice' END AS kind) k "
            "WHERE ((i.status = 'unpaid' AND i.issue_date >= " + window + ") OR "
            "(i.status = 'paid' AND i.paid_at >= LEAST(" + window + "::timestamptz, now() - interval '" +
            std::to_string(since_days) + " days'))) "
            "AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.owner_kind = 'invoice' "
            "AND d.owner_id = i.id AND d.kind = k.kind || '_html') ORDER BY i.id";
        const std::string collection = store::RunStore::create_collection_from_query(tx, call.run_id, sql);
        auto counts = tx.exec_params1(
            "SELECT count(*), count(*) FILTER (WHERE item->>'kind' = 'invoice') "
            "FROM collection_items WHERE collection_id = $1::uuid",
            collection);
        tx.commit();
        const auto count = counts[0].as<long long>();
        const auto invoices = counts[1].as<long long>();
        return runtime::StepResult::success({{"documents", {{"$collection", {{"id", collection}}}}},
                                             {"count", count},
                                             {"invoices", invoices},
                                             {"receipts", count - invoices}});
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("finding the documents due");
    }
}

}  // namespace artistsaid::billing
