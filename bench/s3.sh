#!/usr/bin/env bash
# tessera on S3 against the raw store and against s3fs, in one run on one server.
#   1. tessera objbench: raw PUT/GET rates of the store (the ceiling)
#   2. a tessera mount on the store: 1 GiB of random data written (fsync) and
#      read, then 1,000 x 128 KiB files written and read; every read phase on a
#      fresh mount with the page cache dropped
#   3. the same workload through s3fs (Debian's package) on the same server
# Usage: bench/s3.sh [WORKDIR]   — starts its own s3rver on 127.0.0.1:$PORT
#   (default 24568); set S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY to use another server.
# Needs root (FUSE, drop_caches) and s3fs (apt-get install s3fs).
# bench/compare.sh runs a larger workload on s3fs and rclone too, repeated.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/tessera-bench-s3}
source "$ROOT/bench/lib.sh"
PORT=${PORT:-24568}
SIZE=${SIZE_MIB:-1024}
FILES=${FILES:-1000}
require_tools s3fs bc
rm -rf "$WORK" && mkdir -p "$WORK/t" "$WORK/s"
trap bench_cleanup EXIT
start_s3 "$PORT"

echo "== objbench on $S3_ENDPOINT (4 MiB objects, -p 4)"
"$TESSERA" objbench --storage s3 --bucket "$S3_ENDPOINT/objbench" -p 4 --big-object-size 512
echo

# workload DIR REMOUNT_FN: prints "write_MiBps read_MiBps small_write_files_per_s
# small_read_files_per_s". Each read phase runs on a fresh mount (REMOUNT_FN)
# with the page cache dropped, so neither client answers from what it kept of
# its own writes.
workload() {
  local d=$1 remount=$2 t0 t1 t2 t3 t4 t5 t6
  drop_caches
  t0=$(now)
  dd if="$WORK/big-src" of="$d/big" bs=1M count="$SIZE" conv=fsync status=none
  t1=$(now)
  $remount
  drop_caches
  t2=$(now)
  dd if="$d/big" of=/dev/null bs=1M status=none
  t3=$(now)
  mkdir -p "$d/small"
  for i in $(seq 1 "$FILES"); do head -c 131072 "$WORK/small-src" >"$d/small/$i"; done
  sync
  t4=$(now)
  $remount
  drop_caches
  t5=$(now)
  cat "$d"/small/* >/dev/null
  t6=$(now)
  echo "$(rate "$SIZE" "$t0" "$t1") $(rate "$SIZE" "$t2" "$t3") $(rate "$FILES" "$t3" "$t4") $(rate "$FILES" "$t5" "$t6")"
}
head -c 131072 /dev/urandom >"$WORK/small-src"
head -c $((SIZE << 20)) /dev/urandom >"$WORK/big-src"  # random: nobody gets zeros for free

mount_tessera tessera-bench "$WORK/t"
remount_t() { remount tessera tessera-bench "$WORK/t"; }
read -r tw tr tsw tsr < <(workload "$WORK/t" remount_t)

# s3fs needs an existing bucket.
make_bucket s3fs-bench
mount_s3fs s3fs-bench "$WORK/s"
remount_s() { remount s3fs s3fs-bench "$WORK/s"; }
read -r sw sr ssw ssr < <(workload "$WORK/s" remount_s)

printf '%-30s %10s %10s %8s\n' "" tessera s3fs ratio
printf '%-30s %10.1f %10.1f %8.2f\n' "write ${SIZE} MiB (MiB/s)" "$tw" "$sw" "$(echo "$tw / $sw" | bc -l)"
printf '%-30s %10.1f %10.1f %8.2f\n' "read ${SIZE} MiB (MiB/s)" "$tr" "$sr" "$(echo "$tr / $sr" | bc -l)"
printf '%-30s %10.1f %10.1f %8.2f\n' "write ${FILES}x128 KiB (files/s)" "$tsw" "$ssw" "$(echo "$tsw / $ssw" | bc -l)"
printf '%-30s %10.1f %10.1f %8.2f\n' "read ${FILES}x128 KiB (files/s)" "$tsr" "$ssr" "$(echo "$tsr / $ssr" | bc -l)"
