#!/usr/bin/env bash
# The quickest way to see the engine work: installs missing packages, builds the CLI, and
# runs `artistsaid demo "$@"` — which starts (or reuses) its own PostgreSQL and Redis under
# ./var/demo unless ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL are both set, seeds the
# demo data once, and runs the billing cycle through the real queue. Exits with its status.
# `scripts/demo.sh --down` stops the demo's servers (the data stays for the next run).
set -euo pipefail

case ${1:-} in
  -h | --help)
    cat <<'EOF_USAGE'
usage: scripts/demo.sh [ARGS...]

Builds build/cli/artistsaid and runs `artistsaid demo ARGS...` (see
`artistsaid demo --help`: --as-of, --clients, --subscriptions, --down, --json, ...).
Set both ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL to use your own servers;
with neither set, the demo keeps its own PostgreSQL and Redis under ./var/demo.
EOF_USAGE
    exit 0
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci=OFF
[[ -n ${CI:-} && ${CI,,} != false && $CI != 0 ]] && ci=ON
scripts/setup.sh
echo "demo: building build/cli/artistsaid" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARTISTSAID_WERROR="$ci" \
  -DARTISTSAID_SANITIZE=OFF >/dev/null
cmake --build build -j2 --target artistsaid
exec build/cli/artistsaid demo "$@"
