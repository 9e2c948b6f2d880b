#include "plugins/billing/invoice_generator.hpp"

#include <algorithm>
#include <chrono>
#include <pqxx/pqxx>
#include <utility>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/store/database.hpp"
#include "engine/store/run_store.hpp"
#include "plugins/billing/adjustment_billing.hpp"

namespace artistsaid::billing {
namespace {

// Serialises invoice generation runs (different keys) so that they never deadlock on
// subscription rows locked in different orders; the constraints stay the arbiters.
constexpr const char* kLockSql = "SELECT pg_advisory_xact_lock(hashtext('billing.generate_invoices'))";

// Advances every due, priced subscription by one period and records the period billed.
// $1 = cutoff date; $2, $3 = partition count and index, used by the /*partition*/ condition
// (left out when there is one partition; the parameters stay referenced). `SET
// next_due_date = ...` reads the old value; the WHERE re-checks it under the row lock, so a
// row another transaction moved meanwhile is skipped.
constexpr const char* kTakePeriodsSql = R"SQL(
WITH due AS (
    SELECT s.id, s.next_due_date, coalesce(s.price_override, sp.amount) AS unit_amount
      FROM subscriptions s
      LEFT JOIN service_prices sp
             ON sp.service_id = s.service_id AND sp.currency = s.currency AND sp.cycle = s.cycle
     WHERE s.status = 'active' AND s.next_due_date <= $1::date
       AND $2::bigint > 0 AND $3::bigint >= 0 /*partition*/ /*catch-up*/
       AND (s.price_override IS NOT NULL OR sp.id IS NOT NULL)
), moved AS (
    UPDATE subscriptions s
       SET next_due_date = CASE WHEN s.cycle = 'one_off' THEN NULL
                                ELSE billing_period_end(s.next_due_date, s.cycle, s.billing_day) END,
           updated_at = now()  -- set here, the row trigger skips (0015)
      FROM due
     WHERE s.id = due.id AND s.status = 'active' AND s.next_due_date = due.next_due_date
    RETURNING s.id, s.client_id, s.service_id, s.currency::text AS currency, s.cycle::text AS cycle,
              s.billing_day::integer AS billing_day, s.quantity, due.unit_amount,
              due.next_due_date AS period_start, s.next_due_date AS next_due
)
INSERT INTO bill_periods
SELECT id, client_id, service_id, currency, cycle, billing_day, quantity, unit_amount,
       period_start, coalesce(next_due, period_start + 1)
  FROM moved
)SQL";

constexpr const char* kCreateTempSql = R"SQL(
CREATE TEMP TABLE bill_periods (
    subscription_id bigint NOT NULL, client_id bigint NOT NULL, service_id bigint NOT NULL,
    currency text NOT NULL, cycle text NOT NULL, billing_day integer NOT NULL,
    quantity integer NOT NULL, unit_amount bigint NOT NULL,
    period_start date NOT NULL, period_end date NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE bill_lines (
    client_id bigint NOT NULL, currency text NOT NULL, kind text NOT NULL,
    description text NOT NULL, quantity bigint NOT NULL, unit_amount bigint NOT NULL,
    amount bigint NOT NULL, taxable boolean NOT NULL, subscription_id bigint,
    subscription_addon_id bigint, period_start date, period_end date, sort_order integer NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE bill_usage_records (usage_id bigint NOT NULL, subscription_addon_id bigint NOT NULL)
    ON COMMIT DROP;
)SQL";

// Catch-up rounds after the first: only subscriptions an earlier round moved to a date
// that is still due can be due again (the rest were not due, or had no price), so the
// round looks them up by id instead of reading every subscription again.
// The planner cannot estimate `client_id % n = k` (it assumes 0.5 % of the rows), so with
// partitions the first round is planned for a few hundred rows: nested loops, one of them
// comparing every subscription with every price (2 s per 200,000 subscriptions). Without
// partitions the condition is left out (the estimate is the real one); with partitions
// that round is planned without nested loops.
constexpr const char* kPartitionSql = "AND s.client_id % $2::bigint = $3::bigint";

constexpr const char* kCatchUpRoundSql =
    "AND s.id IN (SELECT subscription_id FROM bill_periods WHERE period_end <= $1::date)";

// A period billed before (an operator moved next_due_date back) is not billed again. Looked
// up per period in the unique index (a subquery per row, so the plan never reads every
// recurring item ever billed), cost proportional to what is due.
constexpr const char* kDropBilledSql = R"SQL(
DELETE FROM bill_periods bp
 WHERE coalesce((SELECT true FROM invoice_items ii
                  WHERE ii.kind = 'recurring' AND ii.subscription_id = bp.subscription_id
                    AND ii.period_start = bp.period_start LIMIT 1), false)
)SQL";

constexpr const char* kRecurringLinesSql = R"SQL(
INSERT INTO bill_lines
SELECT bp.client_id, bp.currency, 'recurring',
       sv.name || ' (' || bp.period_start || ' to ' || (bp.period_end - 1) || ')',
       bp.quantity, bp.unit_amount, bp.unit_amount * bp.quantity, sv.taxable,
       bp.subscription_id, NULL, bp.period_start, bp.period_end, 0
  FROM bill_periods bp JOIN services sv ON sv.id = bp.service_id
)SQL";

constexpr const char* kAddonLinesSql = R"SQL(
INSERT INTO bill_lines
SELECT bp.client_id, bp.currency, 'addon', a.name,
       sa.quantity, coalesce(sa.price_override, ap.amount),
       coalesce(sa.price_override, ap.amount) * sa.quantity, sv.taxable,
       bp.subscription_id, sa.id, bp.period_start, bp.period_end, 1
  FROM bill_periods bp
  JOIN subscription_addons sa ON sa.subscription_id = bp.subscription_id AND sa.status = 'active'
  JOIN service_addons a ON a.id = sa.addon_id AND a.metric IS NULL
  JOIN addon_prices ap ON ap.addon_id = a.id AND ap.currency = bp.currency AND ap.cycle = bp.cycle
  JOIN services sv ON sv.id = bp.service_id
)SQL";

// Usage in arrears, on the latest period billed for each subscription in this run.
constexpr const char* kUsageSql = R"SQL(
CREATE TEMP TABLE bill_usage ON COMMIT DROP AS
WITH latest AS (
    SELECT DISTINCT ON (subscription_id) *
      FROM bill_periods
     WHERE EXISTS (SELECT 1 FROM usage_records u
                    WHERE u.subscription_id = bill_periods.subscription_id
                      AND u.invoice_item_id IS NULL)
     ORDER BY subscription_id, period_start DESC
)
SELECT lp.client_id, lp.currency, lp.subscription_id, sa.id AS subscription_addon_id,
       a.name, a.metric, ap.unit_amount, ap.included_quantity, sv.taxable,
       CASE WHEN lp.cycle = 'one_off' THEN lp.period_start - 1
            ELSE billing_add_months(lp.period_start, -billing_cycle_months(lp.cycle),
                                    lp.billing_day) END AS usage_start,
       lp.period_start AS usage_end,
       sum(u.quantity)::bigint AS used, array_agg(u.id) AS usage_ids
  FROM latest lp
  JOIN subscription_addons sa ON sa.subscription_id = lp.subscription_id AND sa.status = 'active'
  JOIN service_addons a ON a.id = sa.addon_id AND a.metric IS NOT NULL
  JOIN addon_prices ap ON ap.addon_id = a.id AND ap.currency = lp.currency
                      AND ap.cycle = lp.cycle AND ap.unit_amount IS NOT NULL
  JOIN services sv ON sv.id = lp.service_id
  JOIN usage_records u ON u.subscription_id = lp.subscription_id AND u.metric = a.metric
                      AND u.invoice_item_id IS NULL
                      AND u.recorded_at < (lp.period_start::timestamp AT TIME ZONE 'UTC')
 GROUP BY lp.client_id, lp.currency, lp.subscription_id, sa.id, a.name, a.metric,
          ap.unit_amount, ap.included_quantity, sv.taxable, lp.cycle, lp.period_start,
          lp.billing_day;
INSERT INTO bill_lines
SELECT client_id, currency, 'usage', name || ' (' || metric || ', ' || used || ' used, ' ||
       included_quantity || ' included)',
       greatest(used - included_quantity, 0), unit_amount,
       greatest(used - included_quantity, 0) * unit_amount, taxable,
       subscription_id, subscription_addon_id, usage_start, usage_end, 2
  FROM bill_usage;
INSERT INTO bill_usage_records
SELECT unnest(usage_ids), subscription_addon_id FROM bill_usage;
)SQL";

// Tax rates per jurisdiction (country, region) of the clients billed, then every line's
// tax per rate: TaxCalculator::line_tax in SQL.
// The clients billed are read by id (an array probe of the primary key), not by reading
// every client.
constexpr const char* kTaxSql = R"SQL(
CREATE TEMP TABLE bill_clients ON COMMIT DROP AS
SELECT c.id, c.country::text AS country, coalesce(c.region, '') AS region, c.tax_exempt
  FROM clients c WHERE c.id = ANY (ARRAY(SELECT DISTINCT client_id FROM bill_lines));
ANALYZE bill_clients;
CREATE TEMP TABLE bill_jurisdictions ON COMMIT DROP AS
WITH j AS (SELECT DISTINCT country, region FROM bill_clients)
SELECT j.country, j.region,
       r1.id AS r1_id, r1.name AS r1_name, coalesce(r1.rate_ppm, 0) AS p1,
       r2.id AS r2_id, r2.name AS r2_name, coalesce(r2.rate_ppm, 0) AS p2,
       coalesce(r1.inclusive, r2.inclusive, false) AS incl,
       coalesce(r2.compound AND r1.id IS NOT NULL, false) AS compound
  FROM j
  LEFT JOIN LATERAL (
      SELECT t.* FROM tax_rates t
       WHERE t.level = 1 AND t.country = j.country AND (t.region IS NULL OR t.region = j.region)
         AND t.valid_from <= {as_of}::date AND (t.valid_to IS NULL OR t.valid_to > {as_of}::date)
       ORDER BY (t.region IS NOT NULL) DESC, t.valid_from DESC LIMIT 1) r1 ON true
  LEFT JOIN LATERAL (
      SELECT t.* FROM tax_rates t
       WHERE t.level = 2 AND t.country = j.country AND (t.region IS NULL OR t.region = j.region)
         AND t.valid_from <= {as_of}::date AND (t.valid_to IS NULL OR t.valid_to > {as_of}::date)
       ORDER BY (t.region IS NOT NULL) DESC, t.valid_from DESC LIMIT 1) r2 ON true;
CREATE TEMP TABLE bill_taxed ON COMMIT DROP AS
SELECT l.*, x.r1_id, x.r2_id, x.t1, x.t2,
       CASE WHEN x.incl THEN l.amount - x.t1 - x.t2 ELSE l.amount END AS net
  FROM bill_lines l
  JOIN bill_clients c ON c.id = l.client_id
  CROSS JOIN LATERAL (
      SELECT j.r1_id, j.r2_id, j.incl, r.t1,
             CASE WHEN r.p2 = 0 THEN 0
                  WHEN NOT j.incl
                  THEN billing_round_idiv((l.amount + CASE WHEN j.compound THEN r.t1 ELSE 0 END)
                                          * r.p2, 1000000, {mode})
                  ELSE r.t2_incl END AS t2
        FROM bill_jurisdictions j
        CROSS JOIN LATERAL (
            SELECT CASE WHEN l.taxable AND NOT c.tax_exempt THEN j.p1 ELSE 0 END::bigint AS p1,
                   CASE WHEN l.taxable AND NOT c.tax_exempt THEN j.p2 ELSE 0 END::bigint AS p2) p
        CROSS JOIN LATERAL (
            SELECT p.p2,
                   CASE WHEN p.p1 = 0 THEN 0
                        WHEN NOT j.incl
                        THEN billing_round_idiv(l.amount * p.p1, 1000000, {mode})
                        WHEN j.compound
                        THEN billing_round_idiv((l.amount - billing_round_idiv(
                                 l.amount * p.p2, 1000000 + p.p2, {mode})) * p.p1,
                                 1000000 + p.p1, {mode})
                        ELSE billing_round_idiv(l.amount * p.p1, 1000000 + p.p1 + p.p2, {mode})
                   END AS t1,
                   CASE WHEN p.p2 = 0 THEN 0
                        WHEN j.compound
                        THEN billing_round_idiv(l.amount * p.p2, 1000000 + p.p2, {mode})
                        ELSE billing_round_idiv(l.amount * p.p2, 1000000 + p.p1 + p.p2, {mode})
                   END AS t2_incl) r
       WHERE j.country = c.country AND j.region = c.region) x
)SQL";

// One invoice per client and currency. .
constexpr const char* kInvoiceGroupsSql = R"SQL(
CREATE TEMP TABLE bill_invoices ON COMMIT DROP AS
WITH g AS (
    SELECT client_id, currency, sum(net)::bigint AS subtotal, sum(t1 + t2)::bigint AS tax,
           min(period_start) FILTER (WHERE kind = 'recurring') AS first_due,
           count(*) FILTER (WHERE kind = 'recurring') AS recurring_lines,
           min(subscription_id) AS min_sub, max(subscription_id) AS max_sub,
           min(period_start) FILTER (WHERE kind = 'recurring') AS p_start,
           min(period_end) FILTER (WHERE kind = 'recurring') AS p_end,
           -- The invoice's tax per rate, for its tax lines: every line of a client has
           -- the rates of the client's jurisdiction, so one rate per level (one_rate).
           min(r1_id) AS r1_id, sum(t1)::bigint AS t1, min(r2_id) AS r2_id, sum(t2)::bigint AS t2,
           (min(r1_id) IS NOT DISTINCT FROM max(r1_id) AND count(r1_id) IN (0, count(*))
            AND min(r2_id) IS NOT DISTINCT FROM max(r2_id) AND count(r2_id) IN (0, count(*)))
               AS one_rate
      FROM bill_taxed GROUP BY client_id, currency
)
SELECT g.*, g.subtotal + g.tax AS total,
       CASE WHEN {apply_credit}::boolean THEN least(g.subtotal + g.tax, coalesce(b.balance, 0)) ELSE 0 END
           AS credit,
       row_number() OVER (ORDER BY g.client_id, g.currency) AS seq,
       greatest(coalesce(g.first_due, {as_of}::date), {as_of}::date) AS due_date
  FROM g
  LEFT JOIN client_credit_balances b ON b.client_id = g.client_id AND b.currency = g.currency
)SQL";

// Invoices with gap-free numbers from {base}.
constexpr const char* kInsertInvoicesSql = R"SQL(
CREATE TEMP TABLE bill_invoice_ids ON COMMIT DROP AS
WITH ins AS (
    INSERT INTO invoices (client_id, number, currency, status, issue_date, due_date, subtotal,
                          tax, total, credit_applied, subscription_id, period_start, period_end,
                          billing_run_id, paid_at)
    SELECT b.client_id, d.prefix || lpad(({base}::bigint + b.seq - 1)::text, 8, '0'), b.currency,
           CASE WHEN b.total = b.credit THEN 'paid' ELSE 'unpaid' END,
           {as_of}::date, b.due_date, b.subtotal, b.tax, b.total, b.credit,
           CASE WHEN b.recurring_lines = 1 AND b.min_sub = b.max_sub THEN b.min_sub END,
           CASE WHEN b.recurring_lines = 1 AND b.min_sub = b.max_sub THEN b.p_start END,
           CASE WHEN b.recurring_lines = 1 AND b.min_sub = b.max_sub THEN b.p_end END,
           {run}::bigint, CASE WHEN b.total = b.credit THEN now() END
      FROM bill_invoices b CROSS JOIN document_counters d
     WHERE d.name = 'invoice'
     ORDER BY b.seq
    RETURNING id, client_id, currency::text AS currency, number, status, total, credit_applied,
              due_date
)
SELECT * FROM ins
)SQL";

// The usage lines' ids are kept as inserted (one per subscribed add-on and run), so the
// usage records are marked without searching invoice_items.
constexpr const char* kInsertItemsSql = R"SQL(
CREATE TEMP TABLE bill_usage_items ON COMMIT DROP AS
WITH ins AS (
    INSERT INTO invoice_items (invoice_id, kind, description, quantity, unit_amount, amount,
                               taxable, subscription_id, subscription_addon_id, period_start,
                               period_end, sort_order)
    SELECT m.id, l.kind, l.description, l.quantity, l.unit_amount, l.net, l.taxable,
           l.subscription_id, l.subscription_addon_id, l.period_start, l.period_end, l.sort_order
      FROM bill_taxed l JOIN bill_invoice_ids m ON m.client_id = l.client_id AND m.currency = l.currency
    RETURNING id, kind, subscription_addon_id
)
SELECT id, subscription_addon_id FROM ins WHERE kind = 'usage'
)SQL";

// One tax line per invoice and rate, from the invoice groups' sums per rate.
constexpr const char* kInsertTaxItemsSql = R"SQL(
INSERT INTO invoice_items (invoice_id, kind, description, quantity, unit_amount, amount,
                           taxable, tax_rate_id, sort_order)
SELECT m.id, 'tax', t.name || ' ' || trim(trailing '.' FROM trim(trailing '0' FROM
           (t.rate_ppm / 10000.0)::numeric(12, 4)::text)) || '%',
       1, s.amount, s.amount, false, t.id, 10 + t.level
  FROM (SELECT client_id, currency, r1_id AS rate_id, t1 AS amount
          FROM bill_invoices WHERE r1_id IS NOT NULL
        UNION ALL
        SELECT client_id, currency, r2_id, t2 FROM bill_invoices WHERE r2_id IS NOT NULL) s
  JOIN tax_rates t ON t.id = s.rate_id
  JOIN bill_invoice_ids m ON m.client_id = s.client_id AND m.currency = s.currency
 WHERE s.amount > 0
)SQL";

constexpr const char* kMarkUsageSql = R"SQL(
UPDATE usage_records u
   SET invoice_item_id = ui.id
  FROM bill_usage_records r
  JOIN bill_usage_items ui ON ui.subscription_addon_id = r.subscription_addon_id
 WHERE u.id = r.usage_id
)SQL";

// Ledger: per currency, receivable / revenue / tax payable for the invoices, and client
// credit / receivable for the credit used. 
constexpr const char* kLedgerSql = R"SQL(
CREATE TEMP TABLE bill_currency_totals ON COMMIT DROP AS
SELECT currency, count(*) AS invoices, sum(subtotal)::bigint AS subtotal, sum(tax)::bigint AS tax,
       sum(total)::bigint AS total, sum(credit)::bigint AS credit
  FROM bill_invoices GROUP BY currency;
CREATE TEMP TABLE bill_ledger_txns ON COMMIT DROP AS
WITH ins AS (
    INSERT INTO ledger_transactions (kind, reference, idempotency_key, description)
    SELECT 'invoice.issued', 'billing_run:' || {run}::bigint, {key} || ':invoices:' || currency,
           invoices || ' invoices issued by billing run ' || {run}::bigint
      FROM bill_currency_totals WHERE total > 0
    UNION ALL
    SELECT 'credit.applied', 'billing_run:' || {run}::bigint, {key} || ':credit:' || currency,
           'client credit applied by billing run ' || {run}::bigint
      FROM bill_currency_totals WHERE credit > 0
    RETURNING id, kind, idempotency_key
)
SELECT id, kind, right(idempotency_key, 3) AS currency FROM ins;
INSERT INTO ledger_entries (transaction_id, account_id, amount, currency)
SELECT t.id, a.id, e.amount, c.currency
  FROM bill_ledger_txns t
  JOIN bill_currency_totals c ON c.currency = t.currency
  CROSS JOIN LATERAL (VALUES
      ('invoice.issued', 'receivable', c.total, 1),
      ('invoice.issued', 'revenue', -c.subtotal, 2),
      ('invoice.issued', 'tax_payable', -c.tax, 3),
      ('credit.applied', 'client_credit', c.credit, 1),
      ('credit.applied', 'receivable', -c.credit, 2)) AS e(kind, account, amount, ord)
  JOIN ledger_accounts a ON a.code = e.account
 WHERE e.kind = t.kind AND e.amount <> 0
 ORDER BY t.id, e.ord;
INSERT INTO invoice_items (invoice_id, kind, description, quantity, unit_amount, amount,
                           taxable, sort_order)
SELECT m.id, 'credit_applied', 'Credit applied', 1, -b.credit, -b.credit, false, 20
  FROM bill_invoices b
  JOIN bill_invoice_ids m ON m.client_id = b.client_id AND m.currency = b.currency
 WHERE b.credit > 0;
INSERT INTO credits (client_id, currency, amount, kind, invoice_id, ledger_transaction_id,
                     idempotency_key, description)
SELECT b.client_id, b.currency, -b.credit, 'applied', m.id, t.id,
       {key} || ':credit:' || m.id, 'applied to invoice ' || m.id
  FROM bill_invoices b
  JOIN bill_invoice_ids m ON m.client_id = b.client_id AND m.currency = b.currency
  JOIN bill_ledger_txns t ON t.kind = 'credit.applied' AND t.currency = b.currency
 WHERE b.credit > 0
 ORDER BY b.client_id, b.currency
)SQL";

constexpr long long kAnalyzeAfterInvoices = 1000;

// Fills {name} placeholders with SQL literals quoted by the connection (values are
// dates, integers, an enum's name and the step's idempotency key; never SQL text).
std::string render(pqxx::work& tx, const std::string& sql,
                   const std::vector<std::pair<std::string, std::string>>& values) {
    std::string out;
    out.reserve(sql.size() + 256);
    std::size_t at = 0;
    while (at < sql.size()) {
        const std::size_t open = sql.find('{', at);
        const std::size_t close = open == std::string::npos ? open : sql.find('}', open);
        if (close == std::string::npos) break;
        out.append(sql, at, open - at);
        const std::string name = sql.substr(open + 1, close - open - 1);
        const auto it = std::find_if(values.begin(), values.end(),
                                     [&](const auto& v) { return v.first == name; });
        if (it == values.end())
            throw Error(ErrorCode::kInternal, "billing SQL placeholder {" + name + "} has no value");
        out += tx.quote(it->second);
        at = close + 1;
    }
    out.append(sql, at, std::string::npos);
    return out;
}

long long count_of(pqxx::work& tx, const std::string& sql) {
    return tx.exec1(sql)[0].as<long long>();
}

}  // namespace

nlohmann::json InvoiceGenerator::generate(pqxx::connection& conn,
                                          const InvoiceRunOptions& o) const {
    if (o.lead_days < 0 || o.lead_days > 366)
        throw InputError("lead_days must be between 0 and 366, not " + std::to_string(o.lead_days));
    if (o.max_periods < 1 || o.max_periods > 1000)
        throw InputError("max_periods must be between 1 and 1000");
    if (o.idempotency_key.empty()) throw InputError("invoice generation needs an idempotency key");
    if (o.partitions < 1 || o.partitions > kMaxPartitions)
        throw InputError("partitions must be between 1 and " + std::to_string(kMaxPartitions) +
                         ", not " + std::to_string(o.partitions));
    if (o.partition < 0 || o.partition >= o.partitions)
        throw InputError("partition must be between 0 and partitions - 1 (" +
                         std::to_string(o.partitions - 1) + "), not " + std::to_string(o.partition));
    const std::string as_of = format_date(o.as_of);
    const std::string cutoff = format_date(o.as_of + std::chrono::days(o.lead_days));
    const std::string mode(to_string(o.rounding));
    const nlohmann::json parameters = {{"as_of", as_of},
                                       {"lead_days", o.lead_days},
                                       {"apply_credit", o.apply_credit},
                                       {"rounding", mode},
                                       {"partition", o.partition},
                                       {"partitions", o.partitions}};
    try {
        pqxx::work tx(conn);
        tx.exec(kLockSql);
        // Room for the hash joins and sorts of a million rows (per plan node, this
        // transaction only).
        tx.exec("SET LOCAL work_mem = '32MB'");
        // No JIT compilation: these statements evaluate simple expressions over many rows,
        // and the large plans' costs made PostgreSQL compile (with inlining and
        // optimisation, depending on the statistics of the moment) in the statements and
        // in the foreign-key triggers they fire: 1,000,000 subscriptions invoiced in
        // 58-110 s with JIT, 61-65 s without (bench/RESULTS.md).
        tx.exec("SET LOCAL jit = off");
        auto claimed = tx.exec_params(
            "INSERT INTO billing_runs (kind, idempotency_key, as_of, parameters) "
            "VALUES ('generate_invoices', $1, $2::date, $3::jsonb) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            o.idempotency_key, as_of, parameters.dump());
        if (claimed.empty()) {
            auto row = tx.exec_params1(
                "SELECT kind, outputs::text FROM billing_runs WHERE idempotency_key = $1",
                o.idempotency_key);
            if (row[0].as<std::string>() != "generate_invoices" || row[1].is_null())
                throw InputError("idempotency key '" + o.idempotency_key +
                                 "' was used by another billing step");
            auto out = nlohmann::json::parse(row[1].as<std::string>());
            out["replayed"] = true;
            return out;
        }
        const long long run = claimed[0][0].as<long long>();
        std::vector<std::pair<std::string, std::string>> values = {
            {"as_of", as_of}, {"mode", mode}, {"apply_credit", o.apply_credit ? "true" : "false"},
            {"run", std::to_string(run)}, {"key", o.idempotency_key}};

        using Clock = std::chrono::steady_clock;
        nlohmann::json timings = nlohmann::json::object();
        auto phase_start = Clock::now();
        const auto phase = [&](const char* name) {
            const auto now = Clock::now();
            timings[name] =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - phase_start).count();
            phase_start = now;
        };
        tx.exec(kCreateTempSql);
        long long periods = 0;
        int rounds = 0;
        std::string first_sql = kTakePeriodsSql;
        if (o.partitions > 1) first_sql.replace(first_sql.find("/*partition*/"), 13, kPartitionSql);
        std::string catch_up_sql = first_sql;
        catch_up_sql.replace(catch_up_sql.find("/*catch-up*/"), 12, kCatchUpRoundSql);
        for (; rounds < o.max_periods; ++rounds) {
            const bool hash_only = rounds == 0 && o.partitions > 1;
            if (hash_only) tx.exec("SET LOCAL enable_nestloop = off");
            auto r = tx.exec_params(rounds == 0 ? first_sql : catch_up_sql, cutoff, o.partitions,
                                    o.partition);
            if (hash_only) tx.exec("SET LOCAL enable_nestloop = on");
            if (r.affected_rows() == 0) break;
            periods += static_cast<long long>(r.affected_rows());
            // Statistics for the catch-up rounds and the billed-period check below; the
            // catch-up rounds add only the few subscriptions that were behind.
            if (rounds == 0) tx.exec("ANALYZE bill_periods");
        }
        const long long still_due = tx.exec_params1(
            "SELECT count(*) FROM subscriptions WHERE status = 'active' AND next_due_date <= $1::date "
            "AND client_id % $2::bigint = $3::bigint",
            cutoff, o.partitions, o.partition)[0].as<long long>();
        periods -= static_cast<long long>(tx.exec(kDropBilledSql).affected_rows());
        phase("take_periods");

        tx.exec(kRecurringLinesSql);
        tx.exec(kAddonLinesSql);
        const long long prorations =  // plan changes' proration
            AdjustmentBilling::collect(tx, cutoff, o.partitions, o.partition);
        if (count_of(tx, "SELECT count(*) FROM (SELECT 1 FROM usage_records WHERE invoice_item_id "
                         "IS NULL LIMIT 1) x") > 0)
            tx.exec(kUsageSql);
        tx.exec("ANALYZE bill_lines");
        phase("lines");
        tx.exec(render(tx, kTaxSql, values));
        tx.exec("ANALYZE bill_taxed");
        if (prorations > 0) AdjustmentBilling::defer_unbillable(tx);
        phase("tax");

        // Credit balances used below are locked until commit (another payment or credit
        // note waits), so the balance cannot change between reading and using it.
        if (o.apply_credit)
            tx.exec(
                "SELECT 1 FROM client_credit_balances b WHERE balance > 0 AND client_id IN "
                "(SELECT id FROM bill_clients) FOR UPDATE");
        tx.exec(render(tx, kInvoiceGroupsSql, values));
        const auto counted =
            tx.exec1("SELECT count(*), count(*) FILTER (WHERE NOT one_rate) FROM bill_invoices");
        const long long invoice_count = counted[0].as<long long>();
        tx.exec("ANALYZE bill_invoices");
        if (counted[1].as<long long>() > 0)
            throw Error(ErrorCode::kInternal,
                        "an invoice has lines taxed at different rates of one level; its tax "
                        "lines would be wrong");
        phase("invoice_groups");

        long long base = 1;
        if (invoice_count > 0) {
            base = tx.exec_params1(
                         "UPDATE document_counters SET next_value = next_value + $1 "
                         "WHERE name = 'invoice' RETURNING next_value - $1",
                         invoice_count)[0]
                       .as<long long>();
            values.push_back({"base", std::to_string(base)});
            tx.exec(render(tx, kInsertInvoicesSql, values));
            tx.exec("ANALYZE bill_invoice_ids");
            phase("invoices");
            tx.exec(kInsertItemsSql);
            phase("items");
            tx.exec(kInsertTaxItemsSql);
            phase("tax_items");
            AdjustmentBilling::mark_billed(tx);
            tx.exec(render(tx, kMarkUsageSql, values));
            phase("usage_marks");
            tx.exec(render(tx, kLedgerSql, values));
            phase("ledger_and_credit");
        } else {
            tx.exec("CREATE TEMP TABLE bill_invoice_ids (id bigint, client_id bigint, "
                    "currency text, number text, status text, total bigint, credit_applied bigint, "
                    "due_date date) ON COMMIT DROP");
            tx.exec("CREATE TEMP TABLE bill_currency_totals ON COMMIT DROP AS "
                     "SELECT ''::text AS currency, 0::bigint AS invoices, 0::bigint AS subtotal, "
                     "0::bigint AS tax, 0::bigint AS total, 0::bigint AS credit WHERE false");
        }

        nlohmann::json totals = nlohmann::json::object();
        for (const auto& row : tx.exec("SELECT currency, invoices, subtotal, tax, total, credit "
                                        "FROM bill_currency_totals ORDER BY currency")) {
            const long long total = row[4].as<long long>();
            const long long credit = row[5].as<long long>();
            totals[row[0].as<std::string>()] = {{"invoices", row[1].as<long long>()},
                                                {"subtotal", row[2].as<long long>()},
                                                {"tax", row[3].as<long long>()},
                                                {"total", total},
                                                {"credit_applied", credit},
                                                {"balance_due", total - credit}};
        }
        nlohmann::json out = {{"billing_run_id", run},
                              {"invoice_count", invoice_count},
                              {"subscription_periods", periods},
                              {"skipped_subscriptions", still_due},
                              {"totals", totals},
                              {"replayed", false},
                              {"dry_run", o.dry_run}};
        if (o.dry_run) {
            out["invoices"] = nullptr;
            out["to_collect_count"] =
                invoice_count > 0 ? count_of(tx, "SELECT count(*) FROM bill_invoices WHERE total > credit")
                                  : 0;
            tx.abort();
            return out;
        }
        const std::string collection = store::RunStore::create_collection_from_query(
            tx, o.run_id,
            // As inserted above (nothing has been paid on a new invoice): no read of invoices.
            "SELECT jsonb_build_object('id', m.id, 'number', m.number, 'client_id', m.client_id, "
            "'currency', m.currency, 'total', m.total, 'balance_due', m.total - m.credit_applied, "
            "'due_date', m.due_date) FROM bill_invoice_ids m WHERE m.status = 'unpaid' ORDER BY m.id");
        phase("collection");
        out["invoices"] = {{"$collection", {{"id", collection}}}};
        out["to_collect_count"] = tx.exec_params1(
            "SELECT item_count FROM collections WHERE id = $1::uuid", collection)[0].as<long long>();
        tx.exec_params0("UPDATE billing_runs SET outputs = $2::jsonb WHERE id = $1", run, out.dump());
        // A run that grew invoices by a tenth or more (autovacuum's analyze threshold) refreshes
        // its statistics now, counting its own rows: the charges that follow plan against the
        // table as it is (a first run of a large book would otherwise look like an empty
        // table to them until autovacuum came by).
        if (invoice_count >= kAnalyzeAfterInvoices &&
            invoice_count * 10 >= tx.exec1("SELECT reltuples::bigint FROM pg_class WHERE oid = "
                                            "'invoices'::regclass")[0].as<long long>())
            tx.exec("ANALYZE invoices");
        tx.commit();
        phase("commit");
        out["timings_ms"] = timings;  // not stored: a replay reports the first outputs only
        return out;
    } catch (const Error&) {
        throw;
    } catch (const std::exception&) {
        store::throw_from_pqxx("generating invoices");
    }
}

}  // namespace artistsaid::billing
