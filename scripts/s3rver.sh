#!/usr/bin/env bash
# s3rver.sh — a throw-away s3rver (the npm package: a small S3 imitation on
# Node.js, objects under a directory) on 127.0.0.1, for tessera's S3 backend
# tests (TESSERA_TEST_S3RVER_* in src/object/store_test.cc).
#
#   s3rver.sh start DIR PORT   install s3rver@3 with npm if missing, run it on
#                              127.0.0.1:PORT with its data under DIR/data, wait
#                              until it answers, print the S3_* lines. On a DIR
#                              whose server was stopped, start it again, data kept.
#   s3rver.sh stop DIR         stop the server started for DIR (by recorded PID)
#                              and remove DIR.
#   s3rver.sh env DIR          print S3_ENDPOINT / S3_ACCESS_KEY / S3_SECRET_KEY /
#                              S3_REGION lines (eval-able).
#
# Knobs (environment):
#   S3RVER_CACHE     where s3rver is installed (default ~/.cache/tessera/s3rver)
#   S3RVER_TIMEOUT   seconds to wait for the server to answer (default 30)
#
# s3rver checks the access key (default S3RVER / S3RVER) but not SigV4
# signatures, and lacks some calls (AbortMultipartUpload among them).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=detach.sh
source "$(dirname "${BASH_SOURCE[0]}")/detach.sh"

readonly ACCESS_KEY="S3RVER"
readonly SECRET_KEY="S3RVER"
readonly REGION="us-east-1"
CACHE=${S3RVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tessera/s3rver}
readonly CACHE
readonly BIN="$CACHE/node_modules/s3rver/bin/s3rver.js"

log() { printf '[s3rver %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
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
    / | /root | /home | /tmp | /var | /usr | /etc) die "refusing DIR=$d" ;;
  esac
}

ensure_installed() {
  [[ -f $BIN ]] && return 0
  command -v node >/dev/null 2>&1 || die "node is missing (Debian: apt-get install nodejs npm)"
  command -v npm >/dev/null 2>&1 || die "npm is missing (Debian: apt-get install npm)"
  log "installing s3rver@3 into $CACHE"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error s3rver@3 >&2
  [[ -f $BIN ]] || die "s3rver still missing after npm install"
}

server_alive() {  # server_alive -> 0 when the recorded PID is our s3rver
  pid_runs "$DIR/pid" "$DIR/data"
}

answers() {  # answers PORT -> 0 once the server sends any HTTP answer
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null) || true
  [[ -n $code && $code != 000 ]]
}

cmd_start() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  local port=$2
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number"
  if [[ -f $DIR/env ]] && server_alive; then
    log "s3rver in $DIR already running"
    cat "$DIR/env"
    return 0
  fi
  if [[ -e $DIR ]] && [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    # A server of ours that was stopped (an outage test): start again, data kept.
    grep -qs 'written by s3rver.sh' "$DIR/marker" ||
      die "$DIR exists and is not empty (run: $0 stop $DIR)"
    log "restarting s3rver in $DIR with its data"
  fi
  answers "$port" && die "port $port is already in use"
  command -v curl >/dev/null 2>&1 || die "curl is missing"
  ensure_installed

  mkdir -p "$DIR/data"
  echo "written by s3rver.sh" >"$DIR/marker"
  # s3rver's file store races when a Delete prunes a directory that a concurrent
  # Put writes into, and the stream error it leaves unhandled kills the process;
  # log such errors instead, so that one failed request does not end the server.
  cat >"$DIR/keepalive.js" <<'EOT'
process.on('uncaughtException', (err) => console.error('s3rver.sh: uncaught:', err));
EOT
  # --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation tokens
  # with DES, which OpenSSL 3 offers only through its legacy provider.
  : >"$DIR/s3rver.log"
  detach "$DIR/pid" "$DIR/s3rver.log" node --openssl-legacy-provider \
    --require "$DIR/keepalive.js" "$BIN" \
    --address 127.0.0.1 --port "$port" --directory "$DIR/data" --silent
  cat >"$DIR/env" <<EOT
S3_ENDPOINT=http://127.0.0.1:$port
S3_ACCESS_KEY=$ACCESS_KEY
S3_SECRET_KEY=$SECRET_KEY
S3_REGION=$REGION
EOT
  local deadline=$((SECONDS + ${S3RVER_TIMEOUT:-30}))
  until answers "$port"; do
    sleep 0.2
    if ! server_alive; then
      tail -n 20 "$DIR/s3rver.log" >&2 || true
      die "s3rver exited (log in $DIR/s3rver.log)"
    fi
    if ((SECONDS >= deadline)); then
      kill_server
      die "s3rver did not answer on 127.0.0.1:$port in time"
    fi
  done
  log "s3rver (pid $(cat "$DIR/pid")) answers on 127.0.0.1:$port"
  cat "$DIR/env"
}

kill_server() {
  local pid
  server_alive || return 0
  pid=$(cat "$DIR/pid")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
  if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  log "stopped s3rver (pid $pid)"
}

cmd_stop() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  [[ -e $DIR ]] || { log "$DIR does not exist; nothing to stop"; return 0; }
  grep -qs 'written by s3rver.sh' "$DIR/marker" ||
    die "$DIR does not look like an s3rver.sh dir; not touching it"
  kill_server
  rm -rf -- "$DIR"
  log "removed $DIR"
}

cmd_env() {
  DIR=$(abs_dir "$1")
  [[ -f $DIR/env ]] || die "$DIR/env missing: not an s3rver.sh dir (or start failed)"
  cat "$DIR/env"
}

main() {
  (($# >= 2)) || usage
  local cmd=$1; shift
  case "$cmd" in
    start) (($# == 2)) || usage; cmd_start "$@" ;;
    stop) cmd_stop "$1" ;;
    env) cmd_env "$1" ;;
    *) usage ;;
  esac
}

main "$@"
