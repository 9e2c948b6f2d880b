#!/bin/bash
# What the plan-change phase of billing.generate_invoices costs: `billing preview` (the real
# InvoiceGenerator, rolled back) on a seeded book, three times without and three times with N
# pending subscription_adjustments (a credit and a charge for each of N subscriptions).
# Usage: ARTISTSAID_DATABASE_URL=postgresql://.../postgres bench/plan_change_phase.sh
# (env: BIN=build/cli/artistsaid, SUBSCRIPTIONS=20000, N=10000). Uses a private database.
set -euo pipefail
BIN=${BIN:-build/cli/artistsaid}
SUBSCRIPTIONS=${SUBSCRIPTIONS:-20000}
N=${N:-10000}
BASE=${ARTISTSAID_DATABASE_URL%/*}
MIGRATIONS=$(cd "$(dirname "$0")/.." && pwd)/migrations
psql "$BASE/postgres" -qc "DROP DATABASE IF EXISTS bench_plan_change" \
    -qc "CREATE DATABASE bench_plan_change"
trap 'psql "$BASE/postgres" -qc "DROP DATABASE IF EXISTS bench_plan_change"' EXIT
export ARTISTSAID_DATABASE_URL=$BASE/bench_plan_change ARTISTSAID_MIGRATIONS_DIR=$MIGRATIONS
"$BIN" migrate up > /dev/null
"$BIN" billing seed --as-of 2026-01-15 --clients $((SUBSCRIPTIONS / 2)) \
    --subscriptions "$SUBSCRIPTIONS" --json > /dev/null
preview() {
    for _ in 1 2 3; do
        local start end
        start=$(date +%s%N)
        "$BIN" billing preview --as-of 2026-01-15 --lead-days 7 --json > /tmp/bench_plan_change.json
        end=$(date +%s%N)
        echo "  $(((end - start) / 1000000)) ms"
    done
    head -c 300 /tmp/bench_plan_change.json; echo
}
echo "preview, no adjustments:"; preview
psql "$ARTISTSAID_DATABASE_URL" -q <<SQL
INSERT INTO billing_runs (kind, idempotency_key, as_of, outputs)
SELECT 'change_plan', 'bench:' || s.id, '2026-01-10', '{}' FROM subscriptions s ORDER BY s.id LIMIT $N;
INSERT INTO subscription_adjustments (subscription_id, client_id, currency, kind, amount, taxable,
    description, effective_date, period_start, period_end, billing_run_id)
SELECT s.id, s.client_id, s.currency, k.kind, k.sign * (100 + s.id % 900), true, 'bench',
       '2026-01-10', '2026-01-10', '2026-02-01', r.id
  FROM subscriptions s JOIN billing_runs r ON r.idempotency_key = 'bench:' || s.id
 CROSS JOIN (VALUES ('proration_credit', -1), ('proration_charge', 2)) AS k(kind, sign);
SQL
echo "preview, $((2 * N)) pending adjustments:"; preview
uptime
