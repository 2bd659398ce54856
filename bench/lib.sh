# shellcheck shell=bash
# bench/lib.sh — what the S3 bench scripts share: a local s3rver, and tessera,
# s3fs and rclone mounted on buckets of it. Source it with WORK set (a
# scratch directory of the script's own); then `trap bench_cleanup EXIT`.
# It defines functions only, so a --before-read/--after-write hook of
# `tessera bench` can source it too (`bash -c 'source bench/lib.sh; ...'`)
# when WORK, S3_* and TESSERA_MOUNT_OPTS are exported.
#
# Knobs (environment):
#   TESSERA             the binary (default build/tessera)
#   TESSERA_MOUNT_OPTS  extra flags for `tessera mount` (cache, write-back, ...)
#   S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY   use that server, not a local s3rver
BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESSERA=${TESSERA:-$BENCH_ROOT/build/tessera}
TESSERA_MOUNT_OPTS=${TESSERA_MOUNT_OPTS:-}

bench_log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
bench_die() { bench_log "ERROR: $*"; exit 1; }

# require_tools TOOL...: each must be on PATH; says how to get the missing ones.
require_tools() {
  local t missing=()
  for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  ((${#missing[@]} == 0)) || bench_die "missing: ${missing[*]} (Debian: apt-get install ${missing[*]})"
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
# rate AMOUNT T0 T1: AMOUNT per second between two `now` stamps.
rate() { echo "$1 / ($3 - $2)" | bc -l; }
# median: the median of the numbers on stdin ("-" when there are none).
median() {
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# start_s3 PORT: a local s3rver under $WORK/s3rver unless S3_ENDPOINT is set;
# exports S3_* and AWS_* either way.
start_s3() {
  if [ -z "${S3_ENDPOINT:-}" ]; then
    "$BENCH_ROOT/scripts/s3rver.sh" start "$WORK/s3rver" "$1" >/dev/null
    BENCH_S3RVER_STARTED=1
    eval "$("$BENCH_ROOT/scripts/s3rver.sh" env "$WORK/s3rver")"
  fi
  export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY
  export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
}

# make_bucket NAME: creates the bucket (through a throw-away tessera format,
# a request every S3 server accepts).
make_bucket() {
  "$TESSERA" format "sqlite3://$WORK/bucket-$1.db" "$1" --storage s3 \
    --bucket "$S3_ENDPOINT/$1" >/dev/null
}

# wait_mounted DIR WHAT: FUSE daemons return before the mount is there.
wait_mounted() {
  for _ in $(seq 100); do mountpoint -q "$1" && return 0; sleep 0.1; done
  bench_die "$2 did not mount on $1"
}

# --- tessera: a SQLite volume named after its bucket, meta in $WORK/NAME.db
mount_tessera() {  # mount_tessera BUCKET DIR
  local meta="sqlite3://$WORK/$1.db"
  if [ ! -f "$WORK/$1.db" ]; then
    "$TESSERA" format "$meta" "$1" --storage s3 --bucket "$S3_ENDPOINT/$1" ${TESSERA_FORMAT_OPTS:-} >/dev/null
  fi
  mkdir -p "$2"
  # A disk cache of the bucket's own under WORK (remount empties it), unless
  # the options name one.
  local cache=()
  [[ $TESSERA_MOUNT_OPTS == *--cache-dir* ]] || cache=(--cache-dir "$WORK/tessera-cache/$1")
  # shellcheck disable=SC2086  # the options are words
  "$TESSERA" mount "$meta" "$2" --background --log "$WORK/$1.log" "${cache[@]}" \
    $TESSERA_MOUNT_OPTS >/dev/null
  wait_mounted "$2" tessera
}
umount_tessera() { "$TESSERA" umount "$2"; }

# --- s3fs (Debian's package); no local cache directory
s3fs_passwd() {
  [ -f "$WORK/s3fs.passwd" ] && return 0
  echo "$S3_ACCESS_KEY:$S3_SECRET_KEY" >"$WORK/s3fs.passwd"
  chmod 600 "$WORK/s3fs.passwd"
}
mount_s3fs() {  # mount_s3fs BUCKET DIR
  s3fs_passwd
  mkdir -p "$2"
  s3fs "$1" "$2" -o url="$S3_ENDPOINT" -o use_path_request_style \
    -o passwd_file="$WORK/s3fs.passwd" -o sigv4 -o endpoint=us-east-1
  # s3fs daemonizes before it checks the bucket: make sure it really mounted.
  wait_mounted "$2" s3fs
}
umount_s3fs() {  # umount_s3fs BUCKET DIR: returns once the daemon has exited
  umount "$2"
  while pgrep -f "s3fs $1 $2 " >/dev/null; do sleep 0.2; done
}

# --- rclone mount with a full VFS cache in $WORK/rclone-cache/BUCKET,
# uploading a file as soon as it is closed
rclone_conf() {
  [ -f "$WORK/rclone.conf" ] && return 0
  cat >"$WORK/rclone.conf" <<EOT
[bench]
type = s3
provider = Other
access_key_id = $S3_ACCESS_KEY
secret_access_key = $S3_SECRET_KEY
endpoint = $S3_ENDPOINT
region = us-east-1
force_path_style = true
EOT
}
# rclone's S3 client fails on AWS_CA_BUNDLE ("unable to load custom CA bundle");
# the local server speaks plain HTTP, so it is dropped.
rclone_cmd() { env -u AWS_CA_BUNDLE rclone --config "$WORK/rclone.conf" "$@"; }
mount_rclone() {  # mount_rclone BUCKET DIR
  rclone_conf
  mkdir -p "$2" "$WORK/rclone-cache/$1"
  rclone_cmd mount "bench:$1" "$2" --daemon --vfs-cache-mode full --vfs-write-back 0s \
    --cache-dir "$WORK/rclone-cache/$1" --log-file "$WORK/rclone-$1.log"
  wait_mounted "$2" rclone
}
umount_rclone() {  # umount_rclone BUCKET DIR: returns once the daemon has exited
  umount "$2"
  while pgrep -f "rclone --config $WORK/rclone.conf mount bench:$1 $2 " >/dev/null; do
    sleep 0.2
  done
}
# rclone_wait_uploaded BUCKET DIR [SECONDS]: waits until rclone has uploaded
# everything: no file of its VFS cache is marked dirty, and the bucket holds,
# under DIR's path in the mount, as many objects and bytes as DIR shows.
rclone_wait_uploaded() {
  local bucket=$1 dir=$2 limit=${3:-600} mnt rel want got start=$SECONDS
  mnt=$(findmnt -n -o TARGET --target "$dir")
  rel=${dir#"$mnt"}
  want=$(find "$dir" -type f -printf '%s\n' | awk '{n++; b += $1} END {print n + 0, b + 0}')
  while :; do
    got=""
    if ! grep -rqE '"Dirty": *true' "$WORK/rclone-cache/$bucket/vfsMeta" 2>/dev/null; then
      got=$(rclone_cmd size "bench:$bucket$rel" --json 2>/dev/null |
        jq -r '"\(.count) \(.bytes)"') || got=""
    fi
    [ "$got" = "$want" ] && return 0
    ((SECONDS - start < limit)) || bench_die "rclone: bucket has '$got' under $rel, want '$want'"
    sleep 0.2
  done
}

# remount KIND BUCKET DIR: unmount and mount again with the client's own
# caches emptied, so that the next read comes from the object store.
remount() {
  case $1 in
    tessera) umount_tessera "$2" "$3" && rm -rf "$WORK/tessera-cache/$2" && mount_tessera "$2" "$3" ;;
    s3fs) umount_s3fs "$2" "$3" && mount_s3fs "$2" "$3" ;;
    rclone) umount_rclone "$2" "$3" && rm -rf "$WORK/rclone-cache/$2" && mount_rclone "$2" "$3" ;;
    local) ;;
    *) bench_die "remount: unknown kind $1" ;;
  esac
}

# bench_cleanup: unmounts everything under $WORK and stops the s3rver we started.
bench_cleanup() {
  local m type
  while read -r m type; do
    if [ "$type" = fuse.tessera ]; then
      "$TESSERA" umount "$m" >/dev/null 2>&1 || umount -l "$m" 2>/dev/null || true
    else
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done < <(awk -v w="$WORK" 'index($2, w) == 1 {print $2, $3}' /proc/mounts | sort -r)
  if [ -n "${BENCH_S3RVER_STARTED:-}" ]; then
    "$BENCH_ROOT/scripts/s3rver.sh" stop "$WORK/s3rver" >/dev/null 2>&1 || true
  fi
}
