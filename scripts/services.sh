#!/usr/bin/env bash
# A private PostgreSQL and Redis for development, left running between commands:
#
#   eval "$(scripts/services.sh start)"   # start them; sets ARTISTSAID_* in this shell
#   ctest --test-dir build -L integration  # ... use them ...
#   eval "$(scripts/services.sh stop)"    # stop them (DIR defaults to $ARTISTSAID_SERVICES_DIR)
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/services.sh start [--fsync]
       scripts/services.sh stop [DIR]
       scripts/services.sh up DIR
       scripts/services.sh down DIR

start  Starts a private PostgreSQL and Redis on free 127.0.0.1 ports in a new
       temporary directory, leaves them running, and prints `export` lines for eval:
       ARTISTSAID_SERVICES_DIR, ARTISTSAID_TEST_DATABASE_URL, ARTISTSAID_TEST_REDIS_URL,
       ARTISTSAID_SERVICES_{PG,REDIS}_{PID,PORT}, and ARTISTSAID_DATABASE_URL and
       ARTISTSAID_REDIS_URL (the same servers, for running build/cli/artistsaid by hand).
       --fsync keeps PostgreSQL's fsync and full_page_writes on (default: off).
       ARTISTSAID_PG_SETTINGS="name=value ..." adds PostgreSQL settings (e.g.
       "shared_buffers=512MB max_wal_size=8GB" for bench billing at 1,000,000).
stop   Stops the servers recorded in DIR (default $ARTISTSAID_SERVICES_DIR), deletes
       DIR, and prints `unset` lines for eval.
up     Persistent servers in DIR (the demo's var/demo): reuses the ones running
       there, else starts them on DIR's kept data (fsync on, Redis append-only file),
       preferring their previous ports; prints the same `export` lines as start.
down   Stops the servers of DIR and keeps DIR and its data for the next `up`.
EOF
}

here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source-path=SCRIPTDIR source=lib/services.sh
source "$here/lib/services.sh"
SERVICES_LOG_PREFIX=services

exports=(ARTISTSAID_SERVICES_DIR ARTISTSAID_TEST_DATABASE_URL ARTISTSAID_TEST_REDIS_URL
  ARTISTSAID_SERVICES_PG_PID ARTISTSAID_SERVICES_PG_PORT
  ARTISTSAID_SERVICES_REDIS_PID ARTISTSAID_SERVICES_REDIS_PORT
  ARTISTSAID_DATABASE_URL ARTISTSAID_REDIS_URL)

cmd=${1:-}
(($#)) && shift
case $cmd in
  start)
    started=0
    # Leave the servers running only once start has fully succeeded.
    trap '((started)) || services_stop || true' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    services_start "$@"
    export ARTISTSAID_DATABASE_URL=$ARTISTSAID_TEST_DATABASE_URL
    export ARTISTSAID_REDIS_URL=$ARTISTSAID_TEST_REDIS_URL
    for v in "${exports[@]}"; do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
    # shellcheck disable=SC2034 # read by the EXIT trap
    started=1
    echo "services: stop them with: eval \"\$(scripts/services.sh stop $(printf '%q' "$ARTISTSAID_SERVICES_DIR"))\"" >&2
    ;;
  stop)
    (($# <= 1)) || { usage >&2; exit 2; }
    dir=${1:-${ARTISTSAID_SERVICES_DIR:-}}
    if [[ -z $dir ]]; then
      echo "services: stop: no DIR given and ARTISTSAID_SERVICES_DIR is not set" >&2
      exit 2
    fi
    env_dir=${ARTISTSAID_SERVICES_DIR:-}
    if [[ ! -d $dir ]]; then
      echo "services: $dir does not exist (already stopped?)" >&2
    else
      services_stop "$dir"
      [[ -d $dir ]] || echo "services: stopped; removed $dir" >&2
    fi
    # Unset the variables only when they describe the servers just stopped.
    if [[ -n $env_dir && ${env_dir%/} == "${dir%/}" ]]; then
      echo "unset ${exports[*]}"
    fi
    ;;
  up)
    (($# == 1)) || { usage >&2; exit 2; }
    services_up "$1"
    export ARTISTSAID_DATABASE_URL=$ARTISTSAID_TEST_DATABASE_URL
    export ARTISTSAID_REDIS_URL=$ARTISTSAID_TEST_REDIS_URL
    for v in "${exports[@]}"; do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
    ;;
  down)
    (($# == 1)) || { usage >&2; exit 2; }
    services_down "$1"
    ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
