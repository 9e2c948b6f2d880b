# shellcheck shell=bash
# scripts/lib/services.sh: a private PostgreSQL and a private Redis in a temporary
# directory, on free 127.0.0.1 ports, for the tests, the demo and developers.
# Source it (bash only); it changes no shell options of its caller.
#
#   services_start [--fsync]  Start both servers (calls services_prepare if needed).
#                             PostgreSQL runs with fsync=off and full_page_writes=off
#                             unless --fsync is given. On success exports:
#                               ARTISTSAID_SERVICES_DIR          the temporary directory
#                               ARTISTSAID_TEST_DATABASE_URL     postgresql://postgres@127.0.0.1:PORT/postgres
#                               ARTISTSAID_TEST_REDIS_URL        redis://127.0.0.1:PORT/0
#                               ARTISTSAID_SERVICES_PG_PID,    ARTISTSAID_SERVICES_PG_PORT
#                               ARTISTSAID_SERVICES_REDIS_PID, ARTISTSAID_SERVICES_REDIS_PORT
#                             and writes the same `export` lines to $ARTISTSAID_SERVICES_DIR/env.
#                             On failure it cleans up after itself and returns 1.
#   services_prepare          Only create the temporary directory and export
#                             ARTISTSAID_SERVICES_DIR (to name it before starting).
#   services_up DIR           Persistent servers in DIR (created if missing), for the
#                             demo: servers already running there are reused; else they
#                             start on the data DIR keeps (initdb only the first time,
#                             Redis with an append-only file), preferring the ports they
#                             had. fsync stays on. Exports and writes DIR/env as
#                             services_start does. Stop them with services_down DIR.
#   services_down DIR         Stop the servers of DIR and keep DIR and its data.
#   services_stop [DIR]       Stop the servers of DIR (default: the ones this shell
#                             started) by the PIDs recorded in DIR/postgres.pid and
#                             DIR/redis.pid, then delete DIR. Safe to call twice.
#                             Without DIR it never touches servers this shell did not
#                             start, whatever ARTISTSAID_SERVICES_DIR says.
#
# Call these directly, not in $(...): the shell that starts the servers keeps state.
# Progress goes to stderr as "$SERVICES_LOG_PREFIX: ..." (default prefix "services").
# Knobs (environment): ARTISTSAID_PG_BINDIR (PostgreSQL's bin directory; default the
# newest /usr/lib/postgresql/*/bin), ARTISTSAID_SERVICES_KEEP=1 (services_stop keeps
# the directory and its logs), TMPDIR (where the directory is created),
# ARTISTSAID_PG_SETTINGS (extra PostgreSQL settings, space-separated name=value pairs,
# e.g. "shared_buffers=512MB max_wal_size=8GB" for the 1,000,000-subscription benchmark).
#
# The servers run in their own sessions (setsid), so a Ctrl-C at the terminal reaches
# only the caller, which stops them through services_stop (put it in a trap).
# PostgreSQL refuses to run as root: as root, the directory belongs to the `postgres`
# user and initdb/postgres run as that user.

_svc_dir=${_svc_dir:-}           # the directory this shell prepared/started, if any
_svc_start_timeout=30            # seconds to wait for each server to accept connections
_svc_stop_timeout=15             # seconds to wait for a graceful shutdown
_svc_marker=.artistsaid-services # a file that marks a directory as ours (safe to rm -rf)

_svc_log() { printf '%s: %s\n' "${SERVICES_LOG_PREFIX:-services}" "$*" >&2; }

# _svc_tail FILE: the end of a log, indented, on stderr.
_svc_tail() {
  [[ -f $1 ]] || return 0
  printf '%s\n' "--- last lines of $1:" >&2
  tail -n 25 "$1" | sed 's/^/    /' >&2
}

# _svc_pg_bindir: prints PostgreSQL's bin directory.
_svc_pg_bindir() {
  if [[ -n ${ARTISTSAID_PG_BINDIR:-} ]]; then
    printf '%s\n' "$ARTISTSAID_PG_BINDIR"
    return 0
  fi
  local d best=
  while IFS= read -r d; do
    [[ -x $d/postgres && -x $d/initdb && -x $d/pg_isready ]] && best=$d
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
  if [[ -z $best ]] && command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null) && [[ -x $d/postgres && -x $d/initdb ]] && best=$d
  fi
  if [[ -z $best ]] && command -v postgres >/dev/null 2>&1; then
    d=$(dirname "$(command -v postgres)") && [[ -x $d/initdb ]] && best=$d
  fi
  [[ -n $best ]] || return 1
  printf '%s\n' "$best"
}

# _svc_alive PID: is PID a live process (zombies count as gone)?
_svc_alive() {
  local pid=${1:-} stat
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  if [[ -d /proc/$pid ]]; then
    { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || return 1
    stat=${stat##*) }
    # (An explicit status: a bare `return` in an EXIT trap returns the status the
    # shell is exiting with.)
    [[ ${stat:0:1} != Z ]] && return 0
    return 1
  fi
  [[ -d /proc/self ]] && return 1
  kill -0 "$pid" 2>/dev/null
}

# _svc_port_in_use PORT: does anything listen on (or answer at) 127.0.0.1:PORT?
_svc_port_in_use() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Hltn "sport = :$port" 2>/dev/null) ]] && return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
  return 1
}

# _svc_pick_port [EXCLUDED...]: sets _svc_port to a free port in 20000-31999 (below
# Linux's ephemeral range, so outgoing connections never hold it). Binding can still
# race with another process; the callers retry with a new port when it does.
_svc_pick_port() {
  local i p x taken
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + ${SRANDOM:-$((RANDOM * 32768 + RANDOM))} % 12000))
    taken=0
    for x in "$@"; do [[ $x == "$p" ]] && taken=1; done
    ((taken)) && continue
    if ! _svc_port_in_use "$p"; then
      _svc_port=$p
      return 0
    fi
  done
  _svc_log "error: found no free port on 127.0.0.1"
  return 1
}

# _svc_as_pg_init: sets _svc_as_pg, the command prefix that runs a program as the
# `postgres` user when we are root (empty otherwise). setpriv execs, so the PID of
# a server started through it is the server's own; runuser is the fallback.
_svc_as_pg_init() {
  _svc_as_pg=()
  [[ $(id -u) -eq 0 ]] || return 0
  if command -v setpriv >/dev/null 2>&1; then
    _svc_as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  elif command -v runuser >/dev/null 2>&1; then
    _svc_as_pg=(runuser -u postgres --)
  else
    _svc_log "error: running as root, but neither setpriv nor runuser is available"
    return 1
  fi
}

# _svc_size FILE: prints FILE's size in bytes (0 when it does not exist).
_svc_size() {
  local n
  n=$(stat -c %s "$1" 2>/dev/null) || n=0
  printf '%s\n' "$n"
}

# _svc_readpid FILE: prints the PID on the first line of FILE, if any.
_svc_readpid() {
  local pid=
  [[ -f $1 ]] && { IFS= read -r pid <"$1" || true; } 2>/dev/null
  [[ $pid =~ ^[1-9][0-9]*$ ]] && printf '%s\n' "$pid"
  return 0
}

# _svc_server_pid DIR pg|redis: the server's PID as the server itself recorded it
# (postmaster.pid, redis-server.pid), else the PID we recorded when we launched it.
_svc_server_pid() {
  local dir=$1 kind=$2 pid
  if [[ $kind == pg ]]; then
    pid=$(_svc_readpid "$dir/pgdata/postmaster.pid")
    [[ -n $pid ]] || pid=$(_svc_readpid "$dir/postgres.pid")
  else
    pid=$(_svc_readpid "$dir/redis/redis-server.pid")
    [[ -n $pid ]] || pid=$(_svc_readpid "$dir/redis.pid")
  fi
  printf '%s\n' "$pid"
}

# services_prepare: create the temporary directory and export ARTISTSAID_SERVICES_DIR.
services_prepare() {
  if [[ -n $_svc_dir ]]; then
    _svc_log "error: services already prepared in $_svc_dir (call services_stop first)"
    return 1
  fi
  local root=0 parent dir
  [[ $(id -u) -eq 0 ]] && root=1
  if ((root)) && ! id -u postgres >/dev/null 2>&1; then
    _svc_log "error: running as root, but there is no 'postgres' user to run PostgreSQL as"
    return 1
  fi
  _svc_as_pg_init || return 1
  for parent in "${TMPDIR:-/tmp}" /tmp; do
    # Unix socket paths are limited to 107 bytes: $dir/.s.PGSQL.NNNNN must fit.
    ((${#parent} < 60)) || continue
    dir=$(mktemp -d "${parent%/}/artistsaid-services.XXXXXX" 2>/dev/null) || continue
    : >"$dir/$_svc_marker"
    if ((root)); then
      chown postgres: "$dir" 2>/dev/null || true
      if ! "${_svc_as_pg[@]}" test -w "$dir" 2>/dev/null; then
        rm -rf -- "$dir"
        continue # e.g. TMPDIR under /root: postgres cannot reach it
      fi
    fi
    _svc_dir=$dir
    export ARTISTSAID_SERVICES_DIR=$dir
    return 0
  done
  _svc_log "error: cannot create a temporary directory (TMPDIR=${TMPDIR:-}; as root it must be usable by the postgres user)"
  return 1
}

# _svc_spawn CWD PIDFILE LOG COMMAND...: start COMMAND in the background in CWD, in
# its own session (setsid: no terminal signals), stdin from /dev/null and output to
# LOG; print its PID. Run it in $(...): the server is then a child of that subshell,
# which exits at once, never of the calling shell. (bash reaping a background child
# that died of SIGINT can make a script exit by itself; and the caller gets no job
# notices.) The child writes PIDFILE itself before it execs, so a signal to the caller
# right after the spawn cannot leave an unrecorded server behind.
_svc_spawn() {
  local cwd=$1 pidfile=$2 log=$3
  shift 3
  (
    cd "$cwd" || exit 1
    echo "$BASHPID" >"$pidfile"
    exec setsid "$@"
  ) </dev/null >>"$log" 2>&1 &
  echo "$!"
}

# _svc_start_pg DIR BINDIR FSYNC: initdb + postgres; sets _svc_pg_port/_svc_pg_pid.
_svc_start_pg() {
  local dir=$1 bindir=$2 fsync=$3 log=$1/postgres.log locale=C pid logged
  locale -a 2>/dev/null | grep -qix 'c\.utf-\?8' && locale=C.UTF-8
  if [[ ! -f $dir/pgdata/PG_VERSION ]] &&
    ! (cd "$dir" && "${_svc_as_pg[@]}" "$bindir/initdb" -D "$dir/pgdata" -A trust -U postgres \
      --no-sync -E UTF8 --locale="$locale") </dev/null >"$dir/initdb.log" 2>&1; then
    _svc_log "error: initdb failed"
    _svc_tail "$dir/initdb.log"
    return 1
  fi
  local prefer=${_svc_prefer_pg_port:-} setting extra=()
  for setting in ${ARTISTSAID_PG_SETTINGS:-}; do
    if [[ ! $setting =~ ^[a-z_.]+=[^[:space:]]+$ ]]; then
      _svc_log "error: ARTISTSAID_PG_SETTINGS: '$setting' is not name=value"
      return 1
    fi
    extra+=(-c "$setting")
  done
  for _ in 1 2 3 4 5; do
    if [[ -n $prefer ]] && ! _svc_port_in_use "$prefer"; then
      _svc_port=$prefer
    else
      _svc_pick_port || return 1
    fi
    prefer=
    _svc_pg_port=$_svc_port
    _svc_log "starting PostgreSQL on 127.0.0.1:$_svc_pg_port"
    logged=$(_svc_size "$log")
    pid=$(_svc_spawn "$dir" "$dir/postgres.pid" "$log" \
      "${_svc_as_pg[@]}" "$bindir/postgres" -D "$dir/pgdata" -k "$dir" \
      -p "$_svc_pg_port" -c listen_addresses=127.0.0.1 -c max_connections=300 \
      -c fsync="$fsync" -c full_page_writes="$fsync" "${extra[@]}")
    echo "$pid" >"$dir/postgres.pid"
    local deadline=$((SECONDS + _svc_start_timeout))
    while :; do
      if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$_svc_pg_port" -U postgres -d postgres -t 2 >/dev/null 2>&1; then
        _svc_pg_pid=$(_svc_server_pid "$dir" pg)
        echo "$_svc_pg_pid" >"$dir/postgres.pid"
        return 0
      fi
      if ! _svc_alive "$pid" && ! _svc_alive "$(_svc_readpid "$dir/pgdata/postmaster.pid")"; then
        if tail -c "+$((logged + 1))" "$log" |
          grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets'; then
          _svc_log "port $_svc_pg_port was taken meanwhile; retrying"
          rm -f "$dir/pgdata/postmaster.pid"
          continue 2
        fi
        _svc_log "error: PostgreSQL exited during startup"
        _svc_tail "$log"
        return 1
      fi
      if ((SECONDS >= deadline)); then
        _svc_log "error: PostgreSQL did not accept connections within ${_svc_start_timeout}s"
        _svc_tail "$log"
        return 1
      fi
      sleep 0.1
    done
  done
  _svc_log "error: could not bind PostgreSQL to a free port"
  return 1
}

# _svc_start_redis DIR EXCLUDED_PORT: sets _svc_redis_port/_svc_redis_pid.
_svc_start_redis() {
  local dir=$1 exclude=$2 log=$1/redis.log pid reply redis_server logged
  local prefer=${_svc_prefer_redis_port:-} persist=(--save '' --appendonly no)
  # Persistent servers (services_up) keep the queue across restarts.
  [[ -n ${_svc_persistent:-} ]] && persist=(--save '' --appendonly yes --appendfsync everysec)
  redis_server=$(command -v redis-server 2>/dev/null || true)
  [[ -n $redis_server ]] || { _svc_log "error: redis-server not found on PATH (run scripts/setup.sh)"; return 1; }
  command -v redis-cli >/dev/null 2>&1 || { _svc_log "error: redis-cli not found on PATH"; return 1; }
  mkdir -p "$dir/redis"
  for _ in 1 2 3 4 5; do
    if [[ -n $prefer && $prefer != "$exclude" ]] && ! _svc_port_in_use "$prefer"; then
      _svc_port=$prefer
    else
      _svc_pick_port "$exclude" || return 1
    fi
    prefer=
    _svc_redis_port=$_svc_port
    _svc_log "starting Redis on 127.0.0.1:$_svc_redis_port"
    logged=$(_svc_size "$log")
    rm -f "$dir/redis/redis-server.pid"
    pid=$(_svc_spawn "$dir/redis" "$dir/redis.pid" "$log" \
      "$redis_server" --port "$_svc_redis_port" --bind 127.0.0.1 \
      "${persist[@]}" --dir "$dir/redis" --daemonize no \
      --pidfile "$dir/redis/redis-server.pid")
    echo "$pid" >"$dir/redis.pid"
    local deadline=$((SECONDS + _svc_start_timeout))
    while :; do
      reply=$(timeout 3 redis-cli -h 127.0.0.1 -p "$_svc_redis_port" ping 2>/dev/null || true)
      if [[ $reply == PONG ]]; then
        _svc_redis_pid=$(_svc_server_pid "$dir" redis)
        echo "$_svc_redis_pid" >"$dir/redis.pid"
        return 0
      fi
      if ! _svc_alive "$pid" && ! _svc_alive "$(_svc_readpid "$dir/redis/redis-server.pid")"; then
        if tail -c "+$((logged + 1))" "$log" |
          grep -qiE 'address already in use|could not create server tcp listening socket'; then
          _svc_log "port $_svc_redis_port was taken meanwhile; retrying"
          continue 2
        fi
        _svc_log "error: Redis exited during startup"
        _svc_tail "$log"
        return 1
      fi
      if ((SECONDS >= deadline)); then
        _svc_log "error: Redis did not answer PING within ${_svc_start_timeout}s"
        _svc_tail "$log"
        return 1
      fi
      sleep 0.1
    done
  done
  _svc_log "error: could not bind Redis to a free port"
  return 1
}

# _svc_export DIR: exports the started servers' URLs, PIDs and ports and writes the same
# `export` lines to DIR/env.
_svc_export() {
  export ARTISTSAID_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$_svc_pg_port/postgres"
  export ARTISTSAID_TEST_REDIS_URL="redis://127.0.0.1:$_svc_redis_port/0"
  export ARTISTSAID_SERVICES_PG_PID=$_svc_pg_pid ARTISTSAID_SERVICES_PG_PORT=$_svc_pg_port
  export ARTISTSAID_SERVICES_REDIS_PID=$_svc_redis_pid ARTISTSAID_SERVICES_REDIS_PORT=$_svc_redis_port
  local v
  for v in ARTISTSAID_SERVICES_DIR ARTISTSAID_TEST_DATABASE_URL ARTISTSAID_TEST_REDIS_URL \
    ARTISTSAID_SERVICES_PG_PID ARTISTSAID_SERVICES_PG_PORT \
    ARTISTSAID_SERVICES_REDIS_PID ARTISTSAID_SERVICES_REDIS_PORT; do
    printf 'export %s=%q\n' "$v" "${!v}"
  done >"$1/env"
}

services_start() {
  local fsync=off arg bindir
  for arg in "$@"; do
    case $arg in
      --fsync) fsync=on ;;
      *) _svc_log "error: services_start: unknown argument '$arg'"; return 2 ;;
    esac
  done
  if [[ -n $_svc_dir && -e $_svc_dir/postgres.pid ]]; then
    _svc_log "error: services already started in $_svc_dir (call services_stop first)"
    return 1
  fi
  if ! bindir=$(_svc_pg_bindir); then
    _svc_log "error: PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (run scripts/setup.sh)"
    return 1
  fi
  _svc_as_pg_init || return 1
  [[ -n $_svc_dir ]] || services_prepare || return 1
  local dir=$_svc_dir
  if ! _svc_start_pg "$dir" "$bindir" "$fsync" || ! _svc_start_redis "$dir" "$_svc_pg_port"; then
    services_stop "$dir"
    return 1
  fi
  _svc_export "$dir"
  _svc_log "PostgreSQL (pid $_svc_pg_pid) and Redis (pid $_svc_redis_pid) ready in $dir"
}

# _svc_cwd_in PID DIR: is PID's working directory DIR or below? Our servers start in
# the services directory (and PostgreSQL moves into pgdata/), which tells them from an
# unrelated process that reused a recorded PID.
_svc_cwd_in() {
  local cwd
  [[ -e /proc/$1 ]] || return 0 # no /proc: cannot check
  cwd=$(readlink "/proc/$1/cwd" 2>/dev/null) || return 1
  [[ $cwd == "$2" || $cwd == "$2"/* ]]
}

# _svc_pgid PID: prints PID's process group.
_svc_pgid() {
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  read -r _ _ stat _ <<<"$stat"
  printf '%s\n' "$stat"
}

# _svc_wait_gone SECONDS PID...: wait until none of PIDs is alive; 1 on timeout.
_svc_wait_gone() {
  local deadline=$((SECONDS + $1)) pid alive
  shift
  while :; do
    alive=0
    for pid in "$@"; do _svc_alive "$pid" && alive=1; done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

services_stop() {
  local dir=${1:-$_svc_dir}
  [[ -n $dir ]] || return 0
  [[ $dir == / ]] || dir=${dir%/}
  if [[ ! -d $dir ]]; then
    [[ $dir == "$_svc_dir" ]] && _svc_forget
    return 0
  fi
  if [[ ! -e $dir/$_svc_marker ]]; then
    _svc_log "error: $dir is not a services directory (no $_svc_marker); not touching it"
    return 1
  fi
  local pg redis pids=() names=()
  pg=$(_svc_server_pid "$dir" pg)
  redis=$(_svc_server_pid "$dir" redis)
  if _svc_alive "$pg"; then
    if _svc_cwd_in "$pg" "$dir"; then
      pids+=("$pg") names+=("PostgreSQL (pid $pg)")
    else
      _svc_log "warning: pid $pg is not this directory's PostgreSQL; leaving it alone"
    fi
  fi
  if _svc_alive "$redis"; then
    if _svc_cwd_in "$redis" "$dir"; then
      pids+=("$redis") names+=("Redis (pid $redis)")
    else
      _svc_log "warning: pid $redis is not this directory's Redis; leaving it alone"
    fi
  fi
  if ((${#pids[@]})); then
    local what=${names[0]}
    ((${#names[@]} < 2)) || what+=" and ${names[1]}"
    _svc_log "stopping $what"
    # PostgreSQL: SIGINT is its "fast" shutdown (disconnects clients); SIGTERM would
    # wait for every client to disconnect. Redis: SIGTERM.
    [[ " ${pids[*]} " == *" $pg "* ]] && { kill -INT "$pg" 2>/dev/null || true; }
    [[ " ${pids[*]} " == *" $redis "* ]] && { kill -TERM "$redis" 2>/dev/null || true; }
    if ! _svc_wait_gone "$_svc_stop_timeout" "${pids[@]}"; then
      if [[ " ${pids[*]} " == *" $pg "* ]] && _svc_alive "$pg"; then
        _svc_log "PostgreSQL did not stop within ${_svc_stop_timeout}s; immediate shutdown"
        kill -QUIT "$pg" 2>/dev/null || true
        _svc_wait_gone 5 "$pg" || true
      fi
      local pid kids=()
      for pid in "${pids[@]}"; do
        _svc_alive "$pid" || continue
        _svc_log "pid $pid still running; sending SIGKILL"
        # PostgreSQL's children call setsid() themselves, so find them by parent PID.
        if command -v pgrep >/dev/null 2>&1; then
          mapfile -t kids < <(pgrep -P "$pid" || true)
        fi
        # Each server leads its own process group (setsid): kill the group.
        if [[ $(_svc_pgid "$pid") == "$pid" ]]; then
          kill -KILL -- "-$pid" 2>/dev/null || true
        else
          kill -KILL "$pid" 2>/dev/null || true
        fi
        ((${#kids[@]} == 0)) || kill -KILL "${kids[@]}" 2>/dev/null || true
      done
      _svc_wait_gone 5 "${pids[@]}" || _svc_log "warning: could not stop pid(s) ${pids[*]}"
    fi
  fi
  if [[ ${ARTISTSAID_SERVICES_KEEP:-0} == 1 ]]; then
    rm -f "$dir/postgres.pid" "$dir/redis.pid"
    _svc_log "kept $dir (ARTISTSAID_SERVICES_KEEP=1)"
  else
    rm -rf -- "$dir" || _svc_log "warning: could not remove $dir"
  fi
  [[ $dir == "$_svc_dir" || $dir == "${ARTISTSAID_SERVICES_DIR:-}" ]] && _svc_forget
  return 0
}

_svc_forget() {
  _svc_dir=
  unset ARTISTSAID_SERVICES_DIR ARTISTSAID_TEST_DATABASE_URL ARTISTSAID_TEST_REDIS_URL \
    ARTISTSAID_SERVICES_PG_PID ARTISTSAID_SERVICES_PG_PORT \
    ARTISTSAID_SERVICES_REDIS_PID ARTISTSAID_SERVICES_REDIS_PORT
}

# _svc_env_value DIR NAME: the value DIR/env recorded for NAME (empty if none).
_svc_env_value() {
  [[ -f $1/env ]] || return 0
  (
    # shellcheck disable=SC1091 # written by services_start
    source "$1/env" 2>/dev/null && printf '%s\n' "${!2:-}"
  )
}

# _svc_running DIR: are DIR's recorded servers alive, ours, and answering?
_svc_running() {
  local dir=$1 pg redis pg_port redis_port bindir
  pg=$(_svc_server_pid "$dir" pg)
  redis=$(_svc_server_pid "$dir" redis)
  pg_port=$(_svc_env_value "$dir" ARTISTSAID_SERVICES_PG_PORT)
  redis_port=$(_svc_env_value "$dir" ARTISTSAID_SERVICES_REDIS_PORT)
  [[ -n $pg_port && -n $redis_port ]] || return 1
  _svc_alive "$pg" && _svc_cwd_in "$pg" "$dir" || return 1
  _svc_alive "$redis" && _svc_cwd_in "$redis" "$dir" || return 1
  bindir=$(_svc_pg_bindir) || return 1
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -t 2 >/dev/null 2>&1 || return 1
  [[ $(timeout 3 redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null) == PONG ]]
}

services_up() {
  local dir=${1:-} bindir
  [[ -n $dir ]] || { _svc_log "error: services_up: no directory given"; return 2; }
  if [[ -n $_svc_dir ]]; then
    _svc_log "error: services already prepared in $_svc_dir"
    return 1
  fi
  mkdir -p -- "$dir" || { _svc_log "error: cannot create $dir"; return 1; }
  dir=$(cd "$dir" && pwd -P)
  # Unix socket paths are limited to 107 bytes: $dir/.s.PGSQL.NNNNN must fit.
  if ((${#dir} > 90)); then
    _svc_log "error: $dir is too long a path for PostgreSQL's socket (at most 90 characters)"
    return 1
  fi
  if [[ -n $(ls -A "$dir") && ! -e $dir/$_svc_marker ]]; then
    _svc_log "error: $dir is not empty and is not a services directory; not touching it"
    return 1
  fi
  : >"$dir/$_svc_marker"
  if ! bindir=$(_svc_pg_bindir); then
    _svc_log "error: PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (run scripts/setup.sh)"
    return 1
  fi
  _svc_as_pg_init || return 1
  if [[ $(id -u) -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
      _svc_log "error: running as root, but there is no 'postgres' user to run PostgreSQL as"
      return 1
    fi
    chown postgres: "$dir" 2>/dev/null || true
    if ! "${_svc_as_pg[@]}" test -w "$dir" 2>/dev/null; then
      _svc_log "error: the postgres user cannot write $dir (a parent directory is closed to it); choose a directory it can reach"
      return 1
    fi
  fi
  if _svc_running "$dir"; then
    # shellcheck disable=SC1091 # written by services_start
    source "$dir/env"
    export ARTISTSAID_SERVICES_DIR=$dir
    _svc_log "reusing PostgreSQL (pid $ARTISTSAID_SERVICES_PG_PID) and Redis (pid $ARTISTSAID_SERVICES_REDIS_PID) in $dir"
    return 0
  fi
  # Not (all) running: stop a half-running pair, then start both on the kept data.
  ARTISTSAID_SERVICES_KEEP=1 services_stop "$dir" >/dev/null 2>&1 || true
  : >"$dir/$_svc_marker"
  local _svc_prefer_pg_port _svc_prefer_redis_port _svc_persistent=1
  _svc_prefer_pg_port=$(_svc_env_value "$dir" ARTISTSAID_SERVICES_PG_PORT)
  _svc_prefer_redis_port=$(_svc_env_value "$dir" ARTISTSAID_SERVICES_REDIS_PORT)
  _svc_dir=$dir
  export ARTISTSAID_SERVICES_DIR=$dir
  if ! _svc_start_pg "$dir" "$bindir" on || ! _svc_start_redis "$dir" "$_svc_pg_port"; then
    ARTISTSAID_SERVICES_KEEP=1 services_stop "$dir"
    return 1
  fi
  _svc_export "$dir"
  _svc_log "PostgreSQL (pid $_svc_pg_pid) and Redis (pid $_svc_redis_pid) ready in $dir"
}

services_down() {
  local dir=${1:-}
  [[ -n $dir ]] || { _svc_log "error: services_down: no directory given"; return 2; }
  [[ -d $dir ]] || { _svc_log "$dir does not exist (nothing to stop)"; return 0; }
  dir=$(cd "$dir" && pwd -P)
  ARTISTSAID_SERVICES_KEEP=1 services_stop "$dir"
}
