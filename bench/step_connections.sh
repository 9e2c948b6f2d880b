#!/usr/bin/env bash
# Backend starts of one billing-cycle run through a worker: `artistsaid demo` (its
# in-process worker runs workflows/billing-cycle.yaml with the production step registration)
# on a fresh database, then PostgreSQL's count of sessions started in that database
# (pg_stat_database.sessions: migration, seed and the cycle) and the demo's wall time.
#
#   eval "$(scripts/services.sh start)"
#   bench/step_connections.sh build/cli/artistsaid [--clients N] [--concurrency N]
#
# Needs ARTISTSAID_TEST_DATABASE_URL (a superuser URL ending in /DBNAME, no query string) and
# ARTISTSAID_TEST_REDIS_URL; creates and drops database bench_sessions_<pid>. Prints one line:
#   sessions=N demo_seconds=S run=STATUS run_seconds=S (the billing-cycle run alone)
set -euo pipefail

bin=${1:?usage: bench/step_connections.sh ARTISTSAID_BINARY [demo options]}
shift
admin=${ARTISTSAID_TEST_DATABASE_URL:?start the services: eval "\$(scripts/services.sh start)"}
redis=${ARTISTSAID_TEST_REDIS_URL:?start the services: eval "\$(scripts/services.sh start)"}
db=bench_sessions_$$
dir=$(mktemp -d)
cleanup() {
  psql "$admin" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
psql "$admin" -qAtc "CREATE DATABASE $db" >/dev/null
url=${admin%/*}/$db

start=$(date +%s.%N)
ARTISTSAID_DATABASE_URL=$url ARTISTSAID_REDIS_URL=$redis ARTISTSAID_QUEUE_PREFIX=$db \
  "$bin" demo --dir "$dir" --json "$@" >"$dir/summary.json" 2>"$dir/demo.err" || {
  echo "demo failed:" >&2
  tail -20 "$dir/demo.err" >&2
  exit 1
}
end=$(date +%s.%N)

# A backend's session count reaches pg_stat_database when it flushes its statistics, at the
# latest when it exits: wait (at most 10 s) until the demo's backends are gone.
for _ in $(seq 100); do
  left=$(psql "$admin" -qAtc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$db'")
  [[ $left == 0 ]] && break
  sleep 0.1
done
sessions=$(psql "$admin" -qAtc "SELECT sessions FROM pg_stat_database WHERE datname = '$db'")
run=$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; print(r["status"], round(r["seconds"], 1))' \
  "$dir/summary.json" 2>/dev/null || echo "? ?")
echo "sessions=$sessions demo_seconds=$(echo "$end - $start" | bc) run=${run% *} run_seconds=${run#* }"
