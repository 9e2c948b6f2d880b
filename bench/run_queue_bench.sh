#!/usr/bin/env bash
# Runs the queue benchmark the way bench/RESULTS.md records it: a private Redis (unless
# ARTISTSAID_REDIS_URL is set), redis-benchmark's LPUSH/RPOP/EVALSHA figures as the
# ceiling, then `artistsaid bench queue` at concurrency 1, 8 and 64, each REPEAT times.
# Prints a markdown report on stdout; raw JSON lines go to bench/results/.
# Usage: bench/run_queue_bench.sh [--jobs N] [--repeat R]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=200000
repeat=3
while (($#)); do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "usage: $0 [--jobs N] [--repeat R]" >&2; exit 2 ;;
  esac
done

binary=build/cli/artistsaid
[[ -x $binary ]] || { echo "build first: scripts/test.sh --unit (or cmake --build build)" >&2; exit 2; }

if [[ -z ${ARTISTSAID_REDIS_URL:-} ]]; then
  # shellcheck source=scripts/lib/services.sh
  source scripts/lib/services.sh
  trap 'services_stop' EXIT
  services_start >&2
  export ARTISTSAID_REDIS_URL=$ARTISTSAID_TEST_REDIS_URL
fi
port=${ARTISTSAID_REDIS_URL##*:}
port=${port%%/*}

mkdir -p bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
raw=bench/results/queue-$stamp.jsonl

echo "## Queue benchmark, $(date -u +%Y-%m-%d)"
echo
echo "Load average when started: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: compare rows of one run)"
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(redis-server --version | awk '{print $1, $3}')"
echo "Command: \`bench/run_queue_bench.sh --jobs $jobs --repeat $repeat\` (Redis on the same machine)"
echo
echo "### Ceiling: redis-benchmark (requests/s, 200,000 requests, 50 clients)"
echo
echo "| command | no pipelining | pipeline 16 |"
echo "|---|---|---|"
sha=$(redis-cli -p "$port" SCRIPT LOAD "return redis.call('LPUSH', KEYS[1], ARGV[1])")
rb() { redis-benchmark -p "$port" -n 200000 -q "$@" 2>/dev/null | tr '\r' '\n' | grep -oE '[0-9.]+ requests per second' | tail -1 | awk '{printf "%\047.0f", $1}'; }
for t in lpush rpop; do
  echo "| ${t^^} | $(rb -t "$t") | $(rb -t "$t" -P 16) |"
done
echo "| EVALSHA (one LPUSH) | $(rb EVALSHA "$sha" 1 bench:evalsha x) | $(rb -P 16 EVALSHA "$sha" 1 bench:evalsha x) |"
redis-cli -p "$port" DEL bench:evalsha >/dev/null

echo
echo "### artistsaid bench queue --jobs $jobs (median of $repeat runs; all runs in $raw)"
echo
echo "| concurrency | enqueue single/s | enqueue batch/s | process/s | p50 ms | p99 ms | p99.9 ms | RSS idle KiB | RSS peak KiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in 1 8 64; do
  for ((i = 0; i < repeat; i++)); do
    "$binary" bench queue --jobs "$jobs" --concurrency "$c" --json --log-level warn >> "$raw"
  done
  /usr/bin/python3 - "$raw" "$c" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rows = [r for r in rows if r["concurrency"] == int(sys.argv[2])]
m = lambda k: statistics.median(r[k] for r in rows)
print(f"| {sys.argv[2]} | {m('enqueue_single_per_s'):,.0f} | {m('enqueue_batch_per_s'):,.0f} | "
      f"{m('process_per_s'):,.0f} | {m('latency_p50_ms'):.3f} | {m('latency_p99_ms'):.3f} | "
      f"{m('latency_p999_ms'):.3f} | {m('rss_idle_kib'):,.0f} | {m('rss_peak_kib'):,.0f} |")
PY
done
