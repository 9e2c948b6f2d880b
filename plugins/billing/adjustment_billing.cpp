#include "plugins/billing/adjustment_billing.hpp"

namespace artistsaid::billing {

long long AdjustmentBilling::collect(pqxx::work& tx, const std::string& cutoff, int partitions,
                                     int partition) {
    tx.exec_params0(
        "CREATE TEMP TABLE bill_adjustments ON COMMIT DROP AS "
        "SELECT id, client_id, currency::text AS currency, subscription_id, amount, taxable, "
        "       description, period_start, period_end "
        "  FROM subscription_adjustments WHERE invoice_id IS NULL AND effective_date <= $1::date "
        "   AND client_id % $2::bigint = $3::bigint",
        cutoff, partitions, partition);
    return static_cast<long long>(
        tx.exec0(
              "INSERT INTO bill_lines SELECT client_id, currency, 'proration', description, 1, "
              "amount, amount, taxable, subscription_id, NULL, period_start, period_end, 3 "
              "FROM bill_adjustments ORDER BY id")
            .affected_rows());
}

void AdjustmentBilling::defer_unbillable(pqxx::work& tx) {
    tx.exec0(
        "CREATE TEMP TABLE bill_deferred ON COMMIT DROP AS "
        "SELECT client_id, currency FROM bill_taxed GROUP BY client_id, currency "
        "HAVING bool_or(kind = 'proration') AND (sum(net) < 0 OR sum(t1) < 0 OR sum(t2) < 0)");
    tx.exec0(
        "DELETE FROM bill_taxed t USING bill_deferred d WHERE t.kind = 'proration' AND "
        "t.client_id = d.client_id AND t.currency = d.currency");
    tx.exec0(
        "DELETE FROM bill_adjustments a USING bill_deferred d WHERE "
        "a.client_id = d.client_id AND a.currency = d.currency");
}

void AdjustmentBilling::mark_billed(pqxx::work& tx) {
    tx.exec0(
        "UPDATE subscription_adjustments a SET invoice_id = m.id FROM bill_adjustments b "
        "JOIN bill_invoice_ids m ON m.client_id = b.client_id AND m.currency = b.currency "
        "WHERE a.id = b.id AND a.invoice_id IS NULL");
}

}  // namespace artistsaid::billing
