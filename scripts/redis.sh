#!/usr/bin/env bash
# redis.sh — a throw-away redis-server on 127.0.0.1, for tessera's Redis
# metadata engine tests (TESSERA_TEST_REDIS_URL in src/kv/engine_test.cc and
# src/meta/meta_test_util.h; the tests append the database number, "/N").
#
#   redis.sh start DIR PORT    run redis-server on 127.0.0.1:PORT with its config,
#                              data (append-only file), log and PID file under
#                              DIR, wait until it answers PING, print the
#                              REDIS_URL line. On a DIR whose server was stopped
#                              (restart), start it again, data kept.
#   redis.sh restart DIR       stop the server of DIR, keeping its data, and start
#                              it again on the same port (for reconnect tests).
#   redis.sh stop DIR          stop the server started for DIR (by recorded PID)
#                              and remove DIR.
#   redis.sh env DIR           print the REDIS_URL line again (eval-able).
#
# Knobs (environment):
#   REDIS_TIMEOUT   seconds to wait for the server to start or stop (default 30)
#
# Needs only the redis-server binary (Debian: apt-get install redis-server). The
# system-wide instance, its service and /etc/redis are never used or touched:
# the server runs from a config written into DIR. Persistence is on
# (appendonly yes, appendfsync everysec): a restarted server has the data
# committed before a clean stop.
set -euo pipefail

log() { printf '[redis %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
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
    / | /root | /home | /tmp | /var | /usr | /etc | /var/lib/redis) die "refusing DIR=$d" ;;
  esac
}

server_pid() {  # server_pid -> the PID of DIR's live redis-server, or fail
  local pid
  pid=$(cat "$DIR/redis.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  # redis-server chdirs into its data dir: a recycled PID will not sit in DIR.
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == redis-server* ]] || return 1
  [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$DIR" ]] || return 1
  echo "$pid"
}

port_open() {  # port_open PORT -> 0 when something accepts connections on it
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

answers() {  # answers PORT -> 0 once a Redis server there replies +PONG (not -LOADING)
  local reply
  reply=$(
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 line <&3 || exit 1
    printf '%s' "$line"
  ) 2>/dev/null || return 1
  [[ $reply == +PONG* ]]
}

write_config() {  # write_config PORT
  cat >"$DIR/redis.conf" <<EOT
# written by redis.sh: a throw-away test server
bind 127.0.0.1
port $1
protected-mode yes
daemonize yes
supervised no
pidfile $DIR/redis.pid
logfile $DIR/redis.log
dir $DIR
databases 16
save ""
appendonly yes
appendfsync everysec
appendfilename "appendonly.aof"
appenddirname "aof"
EOT
}

start_server() {  # start_server PORT: start redis on DIR's config, wait until it answers
  local port=$1 deadline
  port_open "$port" && die "port $port is already in use"
  rm -f "$DIR/redis.pid"
  redis-server "$DIR/redis.conf" >>"$DIR/start.log" 2>&1 ||
    { tail -n 20 "$DIR/redis.log" "$DIR/start.log" >&2 2>/dev/null || true; die "redis-server failed to start"; }
  deadline=$((SECONDS + ${REDIS_TIMEOUT:-30}))
  until server_pid >/dev/null && answers "$port"; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$DIR/redis.log" >&2 2>/dev/null || true
      kill_server
      die "redis-server did not answer on 127.0.0.1:$port in time (log in $DIR/redis.log)"
    fi
    sleep 0.1
  done
  log "redis-server (pid $(server_pid)) answers on 127.0.0.1:$port"
}

kill_server() {  # SIGTERM: redis flushes the append-only file and exits
  local pid
  pid=$(server_pid) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + ${REDIS_TIMEOUT:-30}))
  while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.1; done
  if [[ -d /proc/$pid ]]; then
    log "redis-server (pid $pid) ignored SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while [[ -d /proc/$pid ]]; do sleep 0.1; done
  fi
  log "stopped redis-server (pid $pid)"
}

cmd_start() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  local port=$2
  [[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "PORT must be a number 1-65535"
  command -v redis-server >/dev/null 2>&1 ||
    die "redis-server is missing (Debian: apt-get install redis-server)"
  if [[ -f $DIR/env ]] && server_pid >/dev/null; then
    log "redis-server in $DIR already running"
    cat "$DIR/env"
    return 0
  fi
  if [[ -e $DIR ]] && [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    # A server of ours that was stopped (an outage test): start again, data kept.
    grep -qs 'written by redis.sh' "$DIR/marker" ||
      die "$DIR exists and is not empty (run: $0 stop $DIR)"
    [[ $(cat "$DIR/port" 2>/dev/null) == "$port" ]] ||
      die "$DIR was a server on port $(cat "$DIR/port" 2>/dev/null), not $port"
    log "restarting redis-server in $DIR with its data"
  fi
  port_open "$port" && die "port $port is already in use"
  mkdir -p "$DIR"
  echo "written by redis.sh" >"$DIR/marker"
  echo "$port" >"$DIR/port"
  write_config "$port"
  echo "REDIS_URL=redis://127.0.0.1:$port" >"$DIR/env"
  start_server "$port"
  cat "$DIR/env"
}

cmd_restart() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  grep -qs 'written by redis.sh' "$DIR/marker" ||
    die "$DIR is not a redis.sh dir (run: $0 start $DIR PORT)"
  local port
  port=$(cat "$DIR/port")
  kill_server
  start_server "$port"
  cat "$DIR/env"
}

cmd_stop() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  [[ -e $DIR ]] || { log "$DIR does not exist; nothing to stop"; return 0; }
  grep -qs 'written by redis.sh' "$DIR/marker" ||
    die "$DIR does not look like a redis.sh dir; not touching it"
  kill_server
  rm -rf -- "$DIR"
  log "removed $DIR"
}

cmd_env() {
  DIR=$(abs_dir "$1")
  [[ -f $DIR/env ]] || die "$DIR/env missing: not a redis.sh dir (or start failed)"
  cat "$DIR/env"
}

main() {
  (($# >= 2)) || usage
  local cmd=$1; shift
  case "$cmd" in
    start) (($# == 2)) || usage; cmd_start "$@" ;;
    restart) (($# == 1)) || usage; cmd_restart "$1" ;;
    stop) (($# == 1)) || usage; cmd_stop "$1" ;;
    env) (($# == 1)) || usage; cmd_env "$1" ;;
    *) usage ;;
  esac
}

main "$@"
