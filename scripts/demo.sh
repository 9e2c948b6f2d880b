#!/usr/bin/env bash
# The quickest way to see the engine work: installs missing packages, builds the CLI,
# and runs `artistsaid demo "$@"`. Uses ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL
# when both are set; when neither is, starts a private PostgreSQL and Redis for the
# run (stopped again on exit, Ctrl-C included). Exits with the demo's status.
set -euo pipefail

case ${1:-} in
  -h | --help)
    cat <<'EOF'
usage: scripts/demo.sh [ARGS...]

Builds build/cli/artistsaid and runs `artistsaid demo ARGS...`. Set both
ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL to use your own servers; with
neither set, a private PostgreSQL and Redis run in a temporary directory meanwhile.
EOF
    exit 0
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source-path=SCRIPTDIR source=lib/services.sh
source scripts/lib/services.sh
SERVICES_LOG_PREFIX=demo

db_url=${ARTISTSAID_DATABASE_URL:-} redis_url=${ARTISTSAID_REDIS_URL:-}
if [[ -n $db_url && -z $redis_url ]] || [[ -z $db_url && -n $redis_url ]]; then
  echo "demo: set both ARTISTSAID_DATABASE_URL and ARTISTSAID_REDIS_URL, or neither (to use local servers)" >&2
  exit 2
fi

demo_pid='' signal=TERM
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
cleanup() {
  local status=$?
  trap '' INT TERM HUP
  if [[ -n $demo_pid ]] && _svc_alive "$demo_pid"; then
    # Pass the signal on (a Ctrl-C at the terminal has reached the demo already),
    # give the demo a moment to finish, then make sure it is gone.
    kill "-$signal" "$demo_pid" 2>/dev/null || true
    if ! _svc_wait_gone 10 "$demo_pid"; then
      echo "demo: artistsaid (pid $demo_pid) did not exit; killing it" >&2
      kill -KILL "$demo_pid" 2>/dev/null || true
    fi
  fi
  services_stop || true
  exit "$status"
}
trap cleanup EXIT
trap 'signal=INT; exit 130' INT
trap 'signal=TERM; exit 143' TERM
trap 'signal=HUP; exit 129' HUP

ci=OFF
[[ -n ${CI:-} && ${CI,,} != false && $CI != 0 ]] && ci=ON
scripts/setup.sh
echo "demo: building build/cli/artistsaid" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DARTISTSAID_WERROR="$ci" \
  -DARTISTSAID_SANITIZE=OFF >/dev/null
cmake --build build -j2 --target artistsaid

if [[ -z $db_url ]]; then
  services_prepare
  echo "demo: no ARTISTSAID_*_URL set; starting local PostgreSQL and Redis in $ARTISTSAID_SERVICES_DIR" >&2
  # shellcheck disable=SC2119 # no arguments: fsync off, fine for a demo
  services_start
  export ARTISTSAID_DATABASE_URL=$ARTISTSAID_TEST_DATABASE_URL
  export ARTISTSAID_REDIS_URL=$ARTISTSAID_TEST_REDIS_URL
fi

# In the background with `wait`, so that a signal sent to this script alone runs the
# traps at once; with the terminal's stdin and SIGINT/SIGQUIT restored (bash ignores
# them in background commands), so Ctrl-C reaches the demo as usual.
status=0
(
  trap - INT QUIT
  exec build/cli/artistsaid demo "$@"
) <&0 &
demo_pid=$!
wait "$demo_pid" || status=$?
demo_pid=
exit "$status"
