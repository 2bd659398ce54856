#!/usr/bin/env bash
# ceph-rgw.sh — a throw-away, single-host Ceph cluster with a RADOS Gateway
# (S3 API, real AWS Signature V4 checks) bound to 127.0.0.1 only, for tessera's
# S3 backend tests (TESSERA_TEST_RGW_* in src/object/store_test.cc).
#
#   ceph-rgw.sh start DIR [PORT]   install Debian's Ceph packages if missing, build a
#                                  cluster whose every file lives under DIR (1 mon,
#                                  1 mgr, 1 OSD, radosgw/beast on 127.0.0.1:PORT),
#                                  create an S3 user, wait until a signed S3 request
#                                  works, print the S3_* lines.
#   ceph-rgw.sh stop DIR           stop every daemon started for DIR (by recorded PID)
#                                  and remove DIR.
#   ceph-rgw.sh env DIR            print S3_ENDPOINT / S3_ACCESS_KEY / S3_SECRET_KEY /
#                                  S3_REGION lines (eval-able).
#   ceph-rgw.sh status DIR         daemons, their RSS, and `ceph -s`.
#   ceph-rgw.sh selftest DIR       signed curl round trip (bucket, PUT, ranged GET, list,
#                                  multipart, DELETE, wrong secret -> 403); prints
#                                  "N passed, N failed".
#
# Knobs (environment):
#   CEPH_RGW_ACCESS_KEY / CEPH_RGW_SECRET_KEY  S3 credentials (defaults below)
#   CEPH_RGW_OBJECTSTORE   memstore (default: objects live in the OSD's RAM, about
#                          2x their size in RSS) or bluestore (a sparse file
#                          DIR/osd/0/block; ~3 s slower to start, data on disk)
#   CEPH_RGW_STORE_GIB     capacity the OSD reports, GiB (default 8; memstore only
#                          uses RAM for what is actually written)
#   CEPH_RGW_NO_MGR=1      skip ceph-mgr (saves ~150 MB RSS; S3 works the same,
#                          `ceph -s` then shows no PG statistics)
#   CEPH_RGW_TIMEOUT       seconds to wait for each step (default 120)
#
# Daemon-to-daemon cephx is off (auth_* = none); S3 requests are still
# authenticated by radosgw against the user's keys (SigV4 and V2).
# Everything listens on 127.0.0.1 only. Needs root for apt-get only.
# Start takes ~18 s once the packages are there (~300 MB RSS in all, ~150 MB
# with CEPH_RGW_NO_MGR=1); stop ~5 s.
#
# Known radosgw 16.2 quirks a client may meet:
#   - CompleteMultipartUpload answers 200 with an empty <ETag></ETag>; HEAD the
#     object for its "<md5>-<parts>" ETag.
#   - Deleted objects' tails (> 4 MiB or multipart) are freed by GC after ~30-60 s.
#   - Errors carry an empty <Message/> (awscli v1 then crashes printing them).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=detach.sh
source "$(dirname "${BASH_SOURCE[0]}")/detach.sh"

readonly DEFAULT_ACCESS_KEY="TESSERATESTACCESSKEY"
readonly DEFAULT_SECRET_KEY="tesseraTestSecretKey0123456789abcdefABCD"
readonly S3_REGION_NAME="us-east-1"
readonly PACKAGES=(ceph-mon ceph-mgr ceph-osd radosgw ceph-common curl)
readonly BINARIES=(ceph-mon ceph-mgr ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool curl)

log() { printf '[ceph-rgw %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

usage() {  # print the header comment
  awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0" >&2
  exit 2
}

abs_dir() {  # abs_dir PATH -> absolute path (PATH need not exist)
  local p=$1
  [[ $p == /* ]] || p="$PWD/$p"
  # collapse trailing slashes
  while [[ $p == */ && $p != / ]]; do p=${p%/}; done
  printf '%s\n' "$p"
}

check_dir_arg() {
  local d=$1
  [[ $d =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR must be a path without spaces or odd characters: '$d'"
  case "$d" in
    / | /root | /home | /tmp | /var | /usr | /etc | /work) die "refusing DIR=$d" ;;
  esac
}

port_in_use() {  # port_in_use PORT -> 0 when something listens on it
  local p=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n $(ss -Htln "( sport = :$p )" 2>/dev/null) ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
  fi
}

free_port() {  # free_port START [EXCLUDE...] -> first free TCP port >= START
  local p=$1; shift
  local ex
  while :; do
    local taken=0
    for ex in "$@"; do [[ $p == "$ex" ]] && taken=1; done
    if ((taken == 0)) && ! port_in_use "$p"; then printf '%s\n' "$p"; return 0; fi
    p=$((p + 1))
    ((p < 65000)) || die "no free port found"
  done
}

new_uuid() { cat /proc/sys/kernel/random/uuid; }

ensure_packages() {
  local missing=() b
  for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || missing+=("$b"); done
  ((${#missing[@]} == 0)) && return 0
  log "missing ${missing[*]}: installing ${PACKAGES[*]} (Debian packages)"
  ((EUID == 0)) || die "need root to apt-get install ${PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${PACKAGES[@]}" >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y --no-install-recommends "${PACKAGES[@]}" >/dev/null
  fi
  for b in "${BINARIES[@]}"; do command -v "$b" >/dev/null 2>&1 || die "$b still missing after install"; done
}

# ---- per-cluster helpers (need DIR set) ------------------------------------

cephc() { ceph -c "$DIR/ceph.conf" --connect-timeout 10 "$@"; }

# start_daemon NAME CMD... : run CMD in the foreground mode of the daemon, detached
# into its own session, stdout/stderr to DIR/log/NAME.out, PID to DIR/pids/NAME.
start_daemon() {
  local name=$1; shift
  : >"$DIR/log/$name.out"
  detach "$DIR/pids/$name" "$DIR/log/$name.out" "$@"
  log "started $name (pid $(cat "$DIR/pids/$name"))"
}

daemon_alive() {  # daemon_alive NAME
  pid_runs "$DIR/pids/$1" "$DIR/ceph.conf"
}

check_daemons() {
  local f name
  for f in "$DIR"/pids/*; do
    [[ -e $f ]] || continue
    name=${f##*/}
    if ! daemon_alive "$name"; then
      log "daemon $name died; last lines of its logs:"
      tail -n 20 "$DIR/log/$name.out" >&2 2>/dev/null || true
      tail -n 30 "$DIR/log/"*"$name"*.log >&2 2>/dev/null || true
      return 1
    fi
  done
}

# wait_for DESC CMD... : retry CMD every second until it succeeds, a daemon dies,
# or CEPH_RGW_TIMEOUT seconds pass.
wait_for() {
  local desc=$1; shift
  local deadline=$((SECONDS + ${CEPH_RGW_TIMEOUT:-120}))
  while ! "$@" >/dev/null 2>&1; do
    check_daemons || die "while waiting for $desc"
    ((SECONDS < deadline)) || die "timed out waiting for $desc (logs in $DIR/log)"
    sleep 1
  done
  log "ready: $desc"
}

load_env() {
  [[ -f $DIR/env ]] || die "$DIR/env missing: not a ceph-rgw.sh cluster dir (or start failed early)"
  # shellcheck disable=SC1091
  source "$DIR/env"
}

s3curl() {  # s3curl [curl args...] : a SigV4-signed request with the cluster's user
  curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

s3_code() {  # s3_code METHOD PATH [curl args] -> HTTP status on stdout
  local m=$1 p=$2; shift 2
  s3curl -o /dev/null -w '%{http_code}' -X "$m" "$@" "$S3_ENDPOINT$p"
}

s3_list_ok() { [[ $(s3_code GET /) == 200 ]]; }

write_conf() {
  local fsid=$1 mon_v2=$2 mon_v1=$3 rgw_port=$4 store=$5 store_bytes=$6
  cat >"$DIR/ceph.conf" <<EOF
# written by ceph-rgw.sh — throw-away cluster, everything under $DIR
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
public network = 127.0.0.0/8
cluster network = 127.0.0.0/8
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
# no cephx between daemons/clients; S3 users are still authenticated by radosgw
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
keyring = $DIR/keyring
run dir = $DIR/run
crash dir = $DIR/crash
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = default=$DIR/log/\$cluster.\$channel.log cluster=$DIR/log/\$cluster.log
# one replica, small PG counts, no autoscaler
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
mon data avail warn = 2
mon data avail crit = 1
mgr initial modules = status

[mon]
mon data = $DIR/mon/\$id
mon initial members = a
mon allow pool delete = true
mon warn on insecure global id reclaim allowed = false

[mgr]
mgr data = $DIR/mgr/\$id
# only the always-on python modules (the full set costs ~150 MB more RSS)
mgr module path = $DIR/mgr-modules

[osd]
osd data = $DIR/osd/\$id
osd objectstore = $store
memstore device bytes = $store_bytes
bluestore block create = true
bluestore block size = $store_bytes
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
bluestore fsck on mkfs = false
osd memory target = 1073741824
osd memory cache min = 134217728
osd op num shards = 2
osd op num threads per shard = 2
osd crush update on start = true

[client.rgw]
rgw data = $DIR/rgw
# radosgw defaults to ms_mon_client_mode=secure, which auth=none cannot give
ms mon client mode = secure crc
# tcp_nodelay: without it a reused connection waits ~40 ms per small answer
# (Nagle against the client's delayed ACK)
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
rgw thread pool size = 64
# virtual-hosted requests to BUCKET.localhost:PORT (curl resolves *.localhost itself)
rgw dns name = localhost
# deleted objects' tails (objects > 4 MiB, multipart) are freed by radosgw's GC;
# the default waits 2 h, which with memstore keeps them in RAM
rgw gc obj min wait = 30
rgw gc processor period = 30
rgw gc processor max time = 30
EOF
}

# ---- subcommands ------------------------------------------------------------

cmd_start() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  local rgw_port=${2:-}
  local t0=$SECONDS

  if [[ -f $DIR/env ]] && daemon_alive rgw; then
    log "cluster in $DIR already running"
    cat "$DIR/env"
    return 0
  fi
  if [[ -e $DIR ]] && [[ -n $(ls -A "$DIR" 2>/dev/null) ]]; then
    die "$DIR exists and is not empty (run: $0 stop $DIR)"
  fi

  ensure_packages

  local store=${CEPH_RGW_OBJECTSTORE:-memstore}
  [[ $store == memstore || $store == bluestore ]] || die "CEPH_RGW_OBJECTSTORE must be memstore or bluestore"
  local store_bytes=$(( ${CEPH_RGW_STORE_GIB:-8} * 1024 * 1024 * 1024 ))

  if [[ -n $rgw_port ]]; then
    [[ $rgw_port =~ ^[0-9]+$ ]] || die "PORT must be a number"
    port_in_use "$rgw_port" && die "port $rgw_port is already in use"
  else
    rgw_port=$(free_port 7480)
  fi
  local mon_v2 mon_v1
  mon_v2=$(free_port $((20000 + RANDOM % 20000)) "$rgw_port")
  mon_v1=$(free_port $((mon_v2 + 1)) "$rgw_port")

  mkdir -p "$DIR"/{mon/a,mgr/x,osd/0,rgw,run,log,crash,pids}
  local fsid
  fsid=$(new_uuid)
  write_conf "$fsid" "$mon_v2" "$mon_v1" "$rgw_port" "$store" "$store_bytes"
  local access=${CEPH_RGW_ACCESS_KEY:-$DEFAULT_ACCESS_KEY}
  local secret=${CEPH_RGW_SECRET_KEY:-$DEFAULT_SECRET_KEY}
  cat >"$DIR/env" <<EOF
S3_ENDPOINT=http://127.0.0.1:$rgw_port
S3_ACCESS_KEY=$access
S3_SECRET_KEY=$secret
S3_REGION=$S3_REGION_NAME
EOF
  load_env

  # On any failure from here on: stop what was started, keep DIR for the logs.
  trap 'rc=$?; if ((rc != 0)); then log "start failed; stopping daemons, logs kept in $DIR/log"; kill_daemons; fi' EXIT

  log "mon: mkfs (fsid $fsid, 127.0.0.1:$mon_v2 v2 / :$mon_v1 v1)"
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" \
    "$DIR/monmap" >/dev/null
  ceph-mon -c "$DIR/ceph.conf" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
    >"$DIR/log/mon-mkfs.out" 2>&1 || { cat "$DIR/log/mon-mkfs.out" >&2; die "ceph-mon --mkfs failed"; }
  start_daemon mon ceph-mon -c "$DIR/ceph.conf" -i a -f
  wait_for "mon quorum" cephc mon stat

  if [[ ${CEPH_RGW_NO_MGR:-0} != 1 ]]; then
    link_mgr_modules
    start_daemon mgr ceph-mgr -c "$DIR/ceph.conf" -i x -f
  fi

  log "osd: mkfs ($store, $((store_bytes >> 30)) GiB)"
  local osd_uuid osd_id
  osd_uuid=$(new_uuid)
  osd_id=$(cephc osd new "$osd_uuid")
  [[ $osd_id == 0 ]] || die "unexpected osd id '$osd_id'"
  ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" \
    >"$DIR/log/osd-mkfs.out" 2>&1 || { cat "$DIR/log/osd-mkfs.out" >&2; die "ceph-osd --mkfs failed"; }
  start_daemon osd ceph-osd -c "$DIR/ceph.conf" -i 0 -f
  wait_for "osd.0 up" osd_up

  start_daemon rgw radosgw -c "$DIR/ceph.conf" -n client.rgw -f
  wait_for "radosgw listening on 127.0.0.1:$rgw_port" rgw_listening "$rgw_port"

  log "creating S3 user 'tester'"
  radosgw-admin -c "$DIR/ceph.conf" -n client.admin user create --uid=tester \
    --display-name="tessera test user" --access-key="$access" --secret="$secret" \
    >"$DIR/log/user-create.out" 2>&1 || { cat "$DIR/log/user-create.out" >&2; die "radosgw-admin user create failed"; }
  wait_for "signed S3 ListBuckets" s3_list_ok

  # Warm up: the first bucket makes radosgw create its index/data pools.
  local probe="ceph-rgw-probe-$$"
  [[ $(s3_code PUT "/$probe") == 200 ]] || die "probe bucket create failed"
  [[ $(s3_code PUT "/$probe/o" --data-binary probe) == 200 ]] || die "probe object put failed"
  s3_code DELETE "/$probe/o" >/dev/null
  s3_code DELETE "/$probe" >/dev/null

  trap - EXIT
  log "up in $((SECONDS - t0)) s; daemons' RSS $(total_rss_mib) MiB"
  cat "$DIR/env"
}

# The mgr loads every python module in its module path; give it only the ones
# it insists on (always-on) so its RSS stays near 150 MB instead of 300.
link_mgr_modules() {
  local src=/usr/share/ceph/mgr m
  mkdir -p "$DIR/mgr-modules"
  for m in mgr_module.py mgr_util.py balancer crash devicehealth orchestrator pg_autoscaler \
    progress rbd_support status telemetry volumes; do
    if [[ -e $src/$m ]]; then ln -s "$src/$m" "$DIR/mgr-modules/$m"; fi
  done
}

rgw_listening() {  # rgw_listening PORT -> 0 when OUR radosgw listens on PORT
  local pid
  pid=$(cat "$DIR/pids/rgw")
  if command -v ss >/dev/null 2>&1; then
    ss -Htlnp "( sport = :$1 )" 2>/dev/null | grep -q "pid=$pid,"
  else
    port_in_use "$1"
  fi
}

osd_up() { cephc osd stat | grep -q '1 up.*1 in'; }

total_rss_mib() {
  local f pid kb total=0
  for f in "$DIR"/pids/*; do
    [[ -e $f ]] || continue
    pid=$(cat "$f")
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${kb:-0}))
  done
  echo $((total / 1024))
}

proc_gone() {  # proc_gone PID -> 0 when the process has exited (a zombie counts as gone)
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [[ -z $state || $state == Z ]]
}

# kill_daemons: SIGTERM every recorded daemon that is still ours, wait up to 10 s,
# then SIGKILL the stragglers. Never touches a PID whose command line lacks DIR.
kill_daemons() {
  local f name pid pids=() names=() i waited
  for f in "$DIR"/pids/*; do
    [[ -e $f ]] || continue
    name=${f##*/}
    pid=$(cat "$f")
    if daemon_alive "$name"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid"); names+=("$name")
    fi
    rm -f "$f"
  done
  for i in "${!pids[@]}"; do
    waited=0
    while ! proc_gone "${pids[$i]}" && ((waited < 100)); do sleep 0.1; waited=$((waited + 1)); done
    if ! proc_gone "${pids[$i]}"; then
      log "${names[$i]} (pid ${pids[$i]}) ignored SIGTERM; sending SIGKILL"
      kill -KILL "${pids[$i]}" 2>/dev/null || true
    fi
    log "stopped ${names[$i]} (pid ${pids[$i]})"
  done
}

cmd_stop() {
  DIR=$(abs_dir "$1")
  check_dir_arg "$DIR"
  [[ -e $DIR ]] || { log "$DIR does not exist; nothing to stop"; return 0; }
  if ! grep -qs 'written by ceph-rgw.sh' "$DIR/ceph.conf"; then
    die "$DIR does not look like a ceph-rgw.sh cluster dir; not touching it"
  fi
  kill_daemons
  rm -rf -- "$DIR"
  log "removed $DIR"
}

cmd_env() {
  DIR=$(abs_dir "$1")
  load_env
  cat "$DIR/env"
}

cmd_status() {
  DIR=$(abs_dir "$1")
  load_env
  local f name pid
  for f in "$DIR"/pids/*; do
    [[ -e $f ]] || continue
    name=${f##*/}; pid=$(cat "$f")
    if daemon_alive "$name"; then
      printf '%-4s pid %-8s RSS %6s MiB\n' "$name" "$pid" \
        "$(($(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status") / 1024))"
    else
      printf '%-4s pid %-8s DEAD\n' "$name" "$pid"
    fi
  done
  echo "total RSS $(total_rss_mib) MiB"
  cephc -s || true
}

# selftest DIR: exercise the gateway with curl's SigV4 signer and print
# "N passed, N failed". Query values must be percent-encoded for curl 7.88's
# signer ('/' as %2F), as SigV4's canonical query string requires.
cmd_selftest() {
  DIR=$(abs_dir "$1")
  load_env
  local tmp pass=0 fail=0 b="selftest-$$" got
  tmp=$(mktemp -d)
  check() {  # check NAME EXPECTED ACTUAL
    if [[ $2 == "$3" ]]; then pass=$((pass + 1)); echo "ok   $1"
    else fail=$((fail + 1)); echo "FAIL $1: expected '$2', got '$3'"; fi
  }
  head -c 1000000 /dev/urandom >"$tmp/small"
  head -c 6000000 /dev/urandom >"$tmp/p1"
  head -c 1234567 /dev/urandom >"$tmp/p2"
  check "create bucket" 200 "$(s3_code PUT "/$b")"
  check "put object" 200 "$(s3_code PUT "/$b/dir/small" -T "$tmp/small")"
  got=$(s3curl -r 100-199 -o "$tmp/range" -w '%{http_code}' "$S3_ENDPOINT/$b/dir/small")
  check "ranged get status" 206 "$got"
  check "ranged get bytes" "$(tail -c +101 "$tmp/small" | head -c 100 | md5sum)" "$(md5sum <"$tmp/range")"
  got=$(s3curl "$S3_ENDPOINT/$b?list-type=2&prefix=dir%2F" | grep -o '<Key>[^<]*</Key>')
  check "list v2 with prefix" "<Key>dir/small</Key>" "$got"
  got=$(s3curl "$S3_ENDPOINT/$b?delimiter=%2F" | grep -o '<CommonPrefixes><Prefix>[^<]*</Prefix>')
  check "list with delimiter" "<CommonPrefixes><Prefix>dir/</Prefix>" "$got"
  local upload e1 e2
  upload=$(s3curl -X POST "$S3_ENDPOINT/$b/mp?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
  check "multipart initiate" 1 "$([[ -n $upload ]] && echo 1 || echo 0)"
  e1=$(s3curl -D - -o /dev/null -T "$tmp/p1" "$S3_ENDPOINT/$b/mp?partNumber=1&uploadId=$upload" |
    tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  e2=$(s3curl -D - -o /dev/null -T "$tmp/p2" "$S3_ENDPOINT/$b/mp?partNumber=2&uploadId=$upload" |
    tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  check "multipart part etags" "\"$(md5sum <"$tmp/p1" | cut -c1-32)\" \"$(md5sum <"$tmp/p2" | cut -c1-32)\"" "$e1 $e2"
  got=$(s3_code POST "/$b/mp?uploadId=$upload" --data-binary \
    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>$e1</ETag></Part><Part><PartNumber>2</PartNumber><ETag>$e2</ETag></Part></CompleteMultipartUpload>")
  check "multipart complete" 200 "$got"
  check "multipart content" "$(cat "$tmp/p1" "$tmp/p2" | md5sum)" "$(s3curl "$S3_ENDPOINT/$b/mp" | md5sum)"
  got=$(curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS_KEY:wrong$S3_SECRET_KEY" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -w ' %{http_code}' "$S3_ENDPOINT/$b/dir/small" |
    sed -n 's:.*<Code>\([A-Za-z]*\)</Code>.* \([0-9]*\)$:\2 \1:p')
  check "wrong secret rejected" "403 SignatureDoesNotMatch" "$got"
  check "anonymous get rejected" 403 "$(curl -sS -o /dev/null -w '%{http_code}' "$S3_ENDPOINT/$b/dir/small")"
  check "delete bucket not empty" 409 "$(s3_code DELETE "/$b")"
  check "delete object" 204 "$(s3_code DELETE "/$b/dir/small")"
  check "delete multipart object" 204 "$(s3_code DELETE "/$b/mp")"
  check "get deleted object" 404 "$(s3_code GET "/$b/dir/small")"
  check "delete bucket" 204 "$(s3_code DELETE "/$b")"
  rm -rf "$tmp"
  echo "$pass passed, $fail failed"
  ((fail == 0))
}

main() {
  (($# >= 2)) || usage
  local cmd=$1; shift
  case "$cmd" in
    start) (($# <= 2)) || usage; cmd_start "$@" ;;
    stop) cmd_stop "$1" ;;
    env) cmd_env "$1" ;;
    status) cmd_status "$1" ;;
    selftest) cmd_selftest "$1" ;;
    *) usage ;;
  esac
}

main "$@"
