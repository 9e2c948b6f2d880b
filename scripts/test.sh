#!/usr/bin/env bash
# Builds the project and runs its tests: unit tests alone, or unit and integration
# tests against a private PostgreSQL and Redis started for this run and stopped when
# it ends (also on failure, Ctrl-C and SIGTERM). Exits with ctest's status.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/test.sh [--unit] [--sanitize] [-R REGEX] [--help]

Installs missing packages (scripts/setup.sh), configures and builds with CMake, and
runs ctest. Without --unit it first starts a private PostgreSQL and Redis on free
127.0.0.1 ports (see scripts/lib/services.sh) and runs every test.

  --unit        only the unit tests (ctest -L unit); starts no services
  --sanitize    build in build-asan/ with AddressSanitizer and UBSan
  -R REGEX      only the tests whose names match REGEX (passed to ctest)
  -h, --help    this help

Environment: CI (set and not "false"/"0": warnings are errors),
ARTISTSAID_SERVICES_KEEP=1 (keep the services' directory and logs).
EOF
}

unit=0 sanitize=0 regex=
while (($#)); do
  case $1 in
    --unit) unit=1 ;;
    --sanitize) sanitize=1 ;;
    -R)
      (($# >= 2)) || { echo "test: -R needs a REGEX" >&2; usage >&2; exit 2; }
      regex=$2
      shift
      ;;
    -R?*) regex=${1#-R} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "test: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source-path=SCRIPTDIR source=lib/services.sh
source scripts/lib/services.sh
SERVICES_LOG_PREFIX="test"

ctest_pid=
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
cleanup() {
  local status=$?
  trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
  if [[ -n $ctest_pid ]] && _svc_alive "$ctest_pid"; then
    echo "test: stopping ctest (pid $ctest_pid)" >&2
    kill -TERM -- "-$ctest_pid" 2>/dev/null || kill -TERM "$ctest_pid" 2>/dev/null || true
    _svc_wait_gone 10 "$ctest_pid" || kill -KILL -- "-$ctest_pid" 2>/dev/null || true
  fi
  services_stop || true
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

ci=OFF
[[ -n ${CI:-} && ${CI,,} != false && $CI != 0 ]] && ci=ON
build_dir=build san=OFF
if ((sanitize)); then
  build_dir=build-asan san=ON
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
fi

scripts/setup.sh
echo "test: configuring $build_dir (RelWithDebInfo, werror=$ci, sanitize=$san)"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DARTISTSAID_WERROR="$ci" -DARTISTSAID_SANITIZE="$san"
echo "test: building $build_dir"
cmake --build "$build_dir" -j2

ctest_args=(--test-dir "$build_dir" --output-on-failure --no-tests=error -j2)
((unit)) && ctest_args+=(-L unit)
[[ -n $regex ]] && ctest_args+=(-R "$regex")
# shellcheck disable=SC2119 # no arguments: fsync stays off for tests
((unit)) || services_start

echo "test: running ctest ${ctest_args[*]}"
# ctest runs in its own session so that, on Ctrl-C or SIGTERM, cleanup can end it
# and every test it started as one process group; `wait` lets the traps run at once.
status=0
setsid ctest "${ctest_args[@]}" </dev/null &
ctest_pid=$!
wait "$ctest_pid" || status=$?
ctest_pid=
echo "test: ctest exited with status $status"
exit "$status"
