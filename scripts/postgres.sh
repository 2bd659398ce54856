#!/usr/bin/env bash
# postgres.sh — a throw-away PostgreSQL server on 127.0.0.1, for tessera's
# postgres metadata engine tests (TESSERA_TEST_POSTGRES_URL in src/kv and src/meta).
#
#   postgres.sh start DIR PORT   initdb a cluster under DIR/data (owned by the `postgres`
#                                system user: the server refuses to run as root), run it
#                                on 127.0.0.1:PORT with its unix socket in DIR, create
#                                role `tessera` (password `tessera`) and database
#                                `tessera`, wait until it answers, print POSTGRES_URL.
#                                On a DIR whose server was stopped, start it again, data kept.
#   postgres.sh stop DIR         stop the server started for DIR (waiting for it to exit)
#                                and remove DIR.
#   postgres.sh restart DIR      stop the server and start it again on the same port, data
#                                kept (for reconnect tests).
#   postgres.sh env DIR          print the POSTGRES_URL line again (eval-able).
#
# Knobs (environment):
#   POSTGRES_BIN       directory of initdb/pg_ctl (default: the newest
#                      /usr/lib/postgresql/*/bin, Debian's layout)
#   POSTGRES_TIMEOUT   seconds to wait for the server to start or stop (default 30)
#
# TCP connections need the password (scram-sha-256); the unix socket in DIR
# (mode 0700, reachable by root and `postgres` only) trusts the superuser, which
# this script uses to create the role. Never touches the system-wide cluster,
# /etc or /var/run/postgresql, so several instances (other DIR and PORT) can run
# side by side. Needs root (runuser) or to be run as the `postgres` user.
set -euo pipefail

readonly DB_USER="tessera"
readonly DB_PASSWORD="tessera"
readonly DB_NAME="tessera"
readonly PG_USER="postgres"

log() { printf '[postgres %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {  # print the header comment
  awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0" >&2
  exit 2
}

abs_dir() {  # abs_dir PATH -> absolute path without trailing slashes
  local p=$1
  [[ $p == /* ]] || p="$PWD/$p"
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  printf '%s\n' "$p"
}

check_dir_arg() {
  local d=$1
  [[ $d =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR must be a path without spaces or odd characters: '$d'"
  case "$d" in
    / | /root | /home | /tmp | /var | /usr | /etc | /work) die "refusing DIR=$d" ;;
  esac
  # The socket path (DIR/.s.PGSQL.PORT) must fit in sockaddr_un (107 bytes).
  ((${#d} <= 80)) || die "DIR is too long for a unix socket path (max 80 characters): $d"
}

find_bin() {
  if [[ -n ${POSTGRES_BIN:-} ]]; then
    [[ -x $POSTGRES_BIN/pg_ctl ]] || die "POSTGRES_BIN=$POSTGRES_BIN has no pg_ctl"
    BIN=$POSTGRES_BIN
    return 0
  fi
  BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -n $BIN && -x $BIN/pg_ctl ]] ||
    die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
}

# Runs a command as the postgres user, from DIR or / (the caller's cwd may be
# unreadable to it).
as_pg() {
  local cwd=/
  [[ -d $DIR ]] && cwd=$DIR
  if [[ $(id -un) == "$PG_USER" ]]; then
    (cd "$cwd" && "$@")
  else
    (cd "$cwd" && runuser -u "$PG_USER" -- "$@")
  fi
}

ensure_pg_user() {
  id -u "$PG_USER" >/dev/null 2>&1 && return 0
  (($(id -u) == 0)) || die "user '$PG_USER' is missing and only root can create it"
  log "creating system user $PG_USER"
  useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
    --shell /usr/sbin/nologin "$PG_USER"
}

# The server runs as `postgres`, so it must be able to walk down to DIR.
check_reachable() {
  local p=$DIR
  while [[ $p != / ]]; do
    p=$(dirname "$p")
    [[ -e $p ]] || continue  # mkdir -p makes it 0755
    if ! as_pg test -x "$p" 2>/dev/null; then
      die "user '$PG_USER' cannot enter $p (mode $(stat -c %A "$p")), so it cannot reach $DIR;" \
        "use a DIR under a traversable parent, or: chmod o+x $p"
    fi
  done
}

port_in_use() {  # port_in_use PORT -> 0 when something listens on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_pid() {  # the postmaster's PID from its pid file, if that process is alive
  local pid
  pid=$(head -n 1 "$DIR/data/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  grep -qa -- "$DIR/data" "/proc/$pid/cmdline" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

answers() {  # answers -> 0 once the server accepts connections on its TCP port
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$DIR/port")" -t 2 >/dev/null 2>&1
}

write_env() {
  printf 'POSTGRES_URL=postgres://%s:%s@127.0.0.1:%s/%s\n' \
    "$DB_USER" "$DB_PASSWORD" "$(cat "$DIR/port")" "$DB_NAME" >"$DIR/env"
}

init_cluster() {
  log "initdb in $DIR/data"
  check_reachable
  mkdir -p "$DIR"
  echo "written by postgres.sh" >"$DIR/marker"
  echo "$1" >"$DIR/port"
  chown "$PG_USER:" "$DIR"
  chmod 0700 "$DIR"
  as_pg "$BIN/initdb" -D "$DIR/data" -U "$PG_USER" --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
    { tail -n 20 "$DIR/initdb.log" >&2; die "initdb failed (log in $DIR/initdb.log)"; }
  # Only what differs from the defaults. Messages stay in English (lc_messages=C):
  # the engine recognises connection errors by their text. More predicate locks
  # per transaction: SERIALIZABLE transactions then escalate to page or relation
  # locks (and false conflicts) later.
  cat >>"$DIR/data/postgresql.conf" <<EOT

# --- postgres.sh ---
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$DIR'
max_connections = 200
max_pred_locks_per_transaction = 256
lc_messages = 'C'
logging_collector = off
EOT
  # Nothing but the socket in DIR and password-checked TCP from 127.0.0.1.
  cat >"$DIR/data/pg_hba.conf" <<EOT
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       $PG_USER            trust
host    all       all   127.0.0.1/32  scram-sha-256
EOT
}

start_server() {
  log "starting PostgreSQL ($("$BIN/postgres" --version | awk '{print $3}')) on 127.0.0.1:$(cat "$DIR/port")"
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t "${POSTGRES_TIMEOUT:-30}" \
    -s start >/dev/null ||
    { tail -n 20 "$DIR/postgres.log" >&2 || true; die "server did not start (log in $DIR/postgres.log)"; }
  server_pid >"$DIR/pid" || die "server exited right after starting (log in $DIR/postgres.log)"
  local deadline=$((SECONDS + ${POSTGRES_TIMEOUT:-30}))
  until answers; do
    ((SECONDS < deadline)) || { stop_server; die "server did not answer on 127.0.0.1:$(cat "$DIR/port") in time"; }
    sleep 0.2
  done
}

# Creates the role and the database once (the marker remembers it).
provision() {
  grep -qs 'provisioned' "$DIR/marker" && return 0
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$(cat "$DIR/port")" -U "$PG_USER" \
    -d postgres >/dev/null <<EOT
SET password_encryption = 'scram-sha-256';
CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOT
  echo "provisioned" >>"$DIR/marker"
}

stop_server() {
  local pid
  pid=$(server_pid) || return 0
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t "${POSTGRES_TIMEOUT:-30}" -s stop >/dev/null 2>&1 ||
    kill -QUIT "$pid" 2>/dev/null || true  # immediate shutdown
  for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  rm -f "$DIR/pid"
  log "stopped PostgreSQL (pid $pid)"
}

cmd_start() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  local port=$2
  if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1 || port > 65535)); then
    die "PORT must be a number in 1..65535"
  fi
  find_bin
  if [[ -f $DIR/env ]] && server_pid >/dev/null; then
    [[ $(cat "$DIR/port") == "$port" ]] ||
      die "PostgreSQL in $DIR already runs on port $(cat "$DIR/port"), not $port"
    log "PostgreSQL in $DIR already running"
    cat "$DIR/env"
    return 0
  fi
  if [[ -e $DIR ]] && [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    # A server of ours that was stopped (an outage test): start again, data kept.
    grep -qs 'written by postgres.sh' "$DIR/marker" ||
      die "$DIR exists and is not empty (run: $0 stop $DIR)"
    [[ $(cat "$DIR/port") == "$port" ]] ||
      die "$DIR was made for port $(cat "$DIR/port"), not $port (or run: $0 stop $DIR)"
    [[ -f $DIR/data/PG_VERSION ]] || die "$DIR has no cluster (a failed start?); run: $0 stop $DIR"
    log "restarting PostgreSQL in $DIR with its data"
  fi
  port_in_use "$port" && die "port $port is already in use"
  if [[ $(id -un) != "$PG_USER" ]]; then
    (($(id -u) == 0)) || die "run as root (the server runs as '$PG_USER' through runuser)"
    ensure_pg_user
  fi
  [[ -f $DIR/data/PG_VERSION ]] || init_cluster "$port"
  start_server
  provision
  write_env
  log "PostgreSQL (pid $(cat "$DIR/pid")) answers on 127.0.0.1:$port"
  cat "$DIR/env"
}

# Checks that DIR is ours; `stop` on a DIR that does not exist is not an error.
open_dir() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  [[ -e $DIR ]] || return 1
  grep -qs 'written by postgres.sh' "$DIR/marker" ||
    die "$DIR does not look like a postgres.sh dir; not touching it"
  find_bin
}

cmd_stop() {
  open_dir "$1" || { log "$DIR does not exist; nothing to stop"; return 0; }
  stop_server
  rm -rf -- "$DIR"
  log "removed $DIR"
}

cmd_restart() {
  open_dir "$1" || die "$DIR does not exist"
  [[ -f $DIR/data/PG_VERSION ]] || die "$DIR has no cluster; run: $0 start $DIR PORT"
  stop_server
  start_server
  log "PostgreSQL (pid $(cat "$DIR/pid")) answers on 127.0.0.1:$(cat "$DIR/port")"
}

cmd_env() {
  DIR=$(abs_dir "$1")
  [[ -f $DIR/env ]] || die "$DIR/env missing: not a postgres.sh dir (or start failed)"
  cat "$DIR/env"
}

main() {
  (($# >= 2)) || usage
  local cmd=$1; shift
  case "$cmd" in
    start) (($# == 2)) || usage; cmd_start "$@" ;;
    stop) cmd_stop "$1" ;;
    restart) cmd_restart "$1" ;;
    env) cmd_env "$1" ;;
    *) usage ;;
  esac
}

main "$@"
