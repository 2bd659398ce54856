#!/usr/bin/env bash
# etcd.sh — a throw-away single-member etcd (Debian's etcd-server package) on
# 127.0.0.1, for tessera's etcd metadata engine tests (TESSERA_TEST_ETCD_URL
# in src/kv/engine_test.cc and src/meta/meta_test_util.h).
#
#   etcd.sh start DIR PORT   run etcd with clients on 127.0.0.1:PORT and its
#                            peer port on 127.0.0.1:PORT+1, data under DIR/data,
#                            log in DIR/etcd.log, PID in DIR/pid; wait until it
#                            answers, print the ETCD_URL line. On a DIR whose
#                            server was stopped, start it again, data kept.
#   etcd.sh restart DIR      stop the server of DIR and start it again on the
#                            same port with its data (an outage test).
#   etcd.sh stop DIR         stop the server started for DIR (by recorded PID)
#                            and remove DIR.
#   etcd.sh env DIR          print the ETCD_URL line again (eval-able).
#
# Knobs (environment):
#   ETCDSH_BIN       the etcd binary (default: etcd on PATH)
#   ETCDSH_TIMEOUT   seconds to wait for the server to answer (default 30)
#   (not ETCD_*: etcd reads those as flags)
#
# The server runs with etcd's default limits (--max-txn-ops 128,
# --max-request-bytes 1.5 MiB), as a production one would. It never touches
# the system-wide instance or /etc: no systemd, no config file, and any
# ETCD_* variables of the caller (which etcd reads as flags) are dropped.
# Several can run at once with different DIR and PORT.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=detach.sh
source "$(dirname "${BASH_SOURCE[0]}")/detach.sh"

readonly MARKER="written by etcd.sh"
readonly BIN=${ETCDSH_BIN:-etcd}

log() { printf '[etcd %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
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
    / | /root | /home | /tmp | /var | /usr | /etc | /var/lib/etcd) die "refusing DIR=$d" ;;
  esac
}

check_port_arg() {
  local p=$1
  [[ $p =~ ^[0-9]+$ ]] && ((p >= 1024 && p < 65535)) ||
    die "PORT must be a number from 1024 to 65534 (PORT+1 is the peer port): '$p'"
}

port_in_use() {  # port_in_use PORT -> 0 when something accepts connections on it
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

server_alive() {  # server_alive -> 0 when the recorded PID is our etcd
  pid_runs "$DIR/pid" "$DIR/data"
}

answers() {  # answers PORT -> 0 once etcd reports itself healthy
  curl -s -m 2 "http://127.0.0.1:$1/health" 2>/dev/null | grep -q '"health":"true"'
}

write_env() {
  printf 'ETCD_URL=etcd://127.0.0.1:%s\n' "$(cat "$DIR/port")" >"$DIR/env"
}

preflight() {  # preflight PORT: dies unless etcd can be started on PORT and PORT+1
  command -v "$BIN" >/dev/null 2>&1 || die "$BIN is missing (Debian: apt-get install etcd-server)"
  command -v curl >/dev/null 2>&1 || die "curl is missing (Debian: apt-get install curl)"
  port_in_use "$1" && die "port $1 is already in use"
  port_in_use "$(($1 + 1))" && die "port $(($1 + 1)) (the peer port, PORT+1) is already in use"
  return 0
}

launch() {  # launch PORT: runs etcd in the background and records its PID
  local port=$1 peer=$(($1 + 1)) name="tessera-test-$1"
  local -a unset_etcd=()
  local var
  for var in $(compgen -e); do
    [[ $var == ETCD_* ]] && unset_etcd+=(-u "$var")
  done
  # --initial-* flags only matter on the first start; a restart reads the member from DIR/data.
  detach "$DIR/pid" "$DIR/etcd.log" env "${unset_etcd[@]}" "$BIN" \
    --name "$name" \
    --data-dir "$DIR/data" \
    --listen-client-urls "http://127.0.0.1:$port" \
    --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$name=http://127.0.0.1:$peer" \
    --initial-cluster-token "$name-$$-$RANDOM" \
    --initial-cluster-state new
}

wait_until_answers() {
  local port
  port=$(cat "$DIR/port")
  local deadline=$((SECONDS + ${ETCDSH_TIMEOUT:-30}))
  until answers "$port"; do
    if ! server_alive; then
      tail -n 20 "$DIR/etcd.log" >&2 || true
      die "etcd exited (log in $DIR/etcd.log)"
    fi
    if ((SECONDS >= deadline)); then
      kill_server
      die "etcd did not answer on 127.0.0.1:$port in time (log in $DIR/etcd.log)"
    fi
    sleep 0.2
  done
  log "etcd (pid $(cat "$DIR/pid")) answers on 127.0.0.1:$port"
}

kill_server() {
  local pid
  server_alive || return 0
  pid=$(cat "$DIR/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  log "stopped etcd (pid $pid)"
}

cmd_start() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  local port=$2
  check_port_arg "$port"
  if [[ -f $DIR/env ]] && server_alive; then
    log "etcd in $DIR already running"
    cat "$DIR/env"
    return 0
  fi
  if [[ -e $DIR ]] && [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    # A server of ours that was stopped (an outage test): start again, data kept.
    grep -qs "$MARKER" "$DIR/marker" || die "$DIR exists and is not empty (run: $0 stop $DIR)"
    [[ $(cat "$DIR/port" 2>/dev/null) == "$port" ]] ||
      die "$DIR belongs to a server on port $(cat "$DIR/port" 2>/dev/null); use that port"
    log "restarting etcd in $DIR with its data"
  fi
  preflight "$port"
  mkdir -p "$DIR"
  echo "$MARKER" >"$DIR/marker"
  echo "$port" >"$DIR/port"
  write_env
  launch "$port"
  wait_until_answers
  cat "$DIR/env"
}

cmd_restart() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  grep -qs "$MARKER" "$DIR/marker" || die "$DIR is not an etcd.sh dir; nothing to restart"
  kill_server
  preflight "$(cat "$DIR/port")"
  launch "$(cat "$DIR/port")"
  wait_until_answers
  cat "$DIR/env"
}

cmd_stop() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  [[ -e $DIR ]] || { log "$DIR does not exist; nothing to stop"; return 0; }
  grep -qs "$MARKER" "$DIR/marker" || die "$DIR does not look like an etcd.sh dir; not touching it"
  kill_server
  rm -rf -- "$DIR"
  log "removed $DIR"
}

cmd_env() {
  DIR=$(abs_dir "$1")
  [[ -f $DIR/env ]] || die "$DIR/env missing: not an etcd.sh dir (or start failed)"
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
