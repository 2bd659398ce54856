#!/usr/bin/env bash
# The local disk cache and write-back against the local disk, on a tessera
# volume in a local s3rver (issue 5's warm-cache and write-back figures):
#
#   local      the local disk under WORKDIR: `dd bs=1M conv=fsync` write and
#              cold read of SIZE_MIB, fio 4 KiB random read (libaio, qd16,
#              O_DIRECT) of that file for FIO_SECONDS
#   cold       tessera with its disk cache under WORKDIR: the same write, and
#              the read after emptying the cache (the read fills it again)
#   warm       remount (memory emptied, disk cache kept), page cache dropped:
#              the same read and fio random read, all from the disk cache
#   writeback  a fresh file written with `--writeback`: MiB/s until fsync
#              returns (staged on the local disk), then the seconds until the
#              last staged block is in the bucket
#
# Each figure REPEAT times (medians printed). Needs root, fio, jq, bc.
# Usage: bench/warm.sh [WORKDIR]   (default /tmp/tessera-warm; removed first)
# Knobs: SIZE_MIB=1024 FIO_SECONDS=10 REPEAT=3
set -euo pipefail
WORK=${1:-/tmp/tessera-warm}
rm -rf "$WORK" && mkdir -p "$WORK/results" "$WORK/local" "$WORK/mnt"
source "$(dirname "$0")/lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
FIO_SECONDS=${FIO_SECONDS:-10}
REPEAT=${REPEAT:-3}
require_tools fio jq bc
[ "$(id -u)" = 0 ] || bench_die "needs root (FUSE, drop_caches)"
[ -x "$TESSERA" ] || bench_die "no $TESSERA: build it first"
trap bench_cleanup EXIT
start_s3 "${PORT:-24571}"
MNT=$WORK/mnt
CACHE=$WORK/cache
export TESSERA_MOUNT_OPTS="--cache-dir $CACHE --metrics off ${TESSERA_MOUNT_OPTS:-}"

record() { echo "$2" >>"$WORK/results/$1"; }
result() { [ -f "$WORK/results/$1" ] && median <"$WORK/results/$1" || echo -; }

write_mib_s() {  # write_mib_s FILE: MiB/s of a fsync'd dd of SIZE_MIB
  local t0 t1
  t0=$(now)
  dd if=/dev/zero of="$1" bs=1M count="$SIZE_MIB" conv=fsync status=none
  t1=$(now)
  rate "$SIZE_MIB" "$t0" "$t1"
}
read_mib_s() {  # read_mib_s FILE: MiB/s of a dd read after dropping the page cache
  local t0 t1
  drop_caches
  t0=$(now)
  dd if="$1" of=/dev/null bs=1M status=none
  t1=$(now)
  rate "$SIZE_MIB" "$t0" "$t1"
}
rand_iops() {  # rand_iops DIR: fio 4 KiB random read IOPS of DIR/data
  drop_caches
  fio --name=randr --directory="$1" --filename=data --rw=randread --bs=4k \
    --size="${SIZE_MIB}M" --ioengine=libaio --iodepth=16 --direct=1 \
    --runtime="$FIO_SECONDS" --time_based --output-format=json | jq '.jobs[0].read.iops'
}
staged_blocks() { find "$CACHE" -path '*rawstaging*' -type f 2>/dev/null | wc -l; }

for i in $(seq "$REPEAT"); do
  bench_log "repetition $i of $REPEAT: local disk"
  record local_write "$(write_mib_s "$WORK/local/data")"
  record local_read "$(read_mib_s "$WORK/local/data")"
  record local_rand "$(rand_iops "$WORK/local")"
  rm -f "$WORK/local/data"

  bench_log "repetition $i: tessera, cold then warm"
  rm -rf "$CACHE" "$WORK/bench-w.db"
  mount_tessera bench-w "$MNT"
  record cold_write "$(write_mib_s "$MNT/data")"
  # The write left its blocks in the disk cache: empty it for a cold read.
  umount_tessera bench-w "$MNT" && rm -rf "$CACHE" && mount_tessera bench-w "$MNT"
  record cold_read "$(read_mib_s "$MNT/data")"
  umount_tessera bench-w "$MNT" && mount_tessera bench-w "$MNT"
  record warm_read "$(read_mib_s "$MNT/data")"
  record warm_rand "$(rand_iops "$MNT")"
  rm -f "$MNT/data"
  umount_tessera bench-w "$MNT"

  bench_log "repetition $i: tessera --writeback"
  TESSERA_MOUNT_OPTS="$TESSERA_MOUNT_OPTS --writeback" mount_tessera bench-w "$MNT"
  dd if=/dev/urandom of="$WORK/wb.src" bs=1M count="$SIZE_MIB" status=none
  t0=$(now)
  dd if="$WORK/wb.src" of="$MNT/wb" bs=1M conv=fsync status=none
  t1=$(now)
  record wb_write "$(rate "$SIZE_MIB" "$t0" "$t1")"
  while [ "$(staged_blocks)" -gt 0 ]; do sleep 0.2; done
  t2=$(now)
  record wb_uploaded "$(echo "$t2 - $t1" | bc -l)"
  record wb_total "$(rate "$SIZE_MIB" "$t0" "$t2")"
  rm -f "$MNT/wb" "$WORK/wb.src"
  umount_tessera bench-w "$MNT"
done

# row TITLE A B: the medians of A and B, rounded, and A/B to two places.
row() {
  local a b
  a=$(result "$2") b=$(result "$3")
  if [ "$a" = - ] || [ "$b" = - ]; then printf '| %s | %s | %s | - |\n' "$1" "$a" "$b"; return; fi
  printf '| %s | %.0f | %.0f | %.2f |\n' "$1" "$a" "$b" "$(echo "$a / $b" | bc -l)"
}
echo "| ${SIZE_MIB} MiB, medians of $REPEAT | tessera | local disk | ratio |"
echo "|---|---|---|---|"
row "cold write, fsync'd (MiB/s)" cold_write local_write
row "cold read, from s3rver (MiB/s)" cold_read local_read
row "warm read, from the disk cache (MiB/s)" warm_read local_read
row "warm random 4 KiB read, qd16 (IOPS)" warm_rand local_rand
row "--writeback write, fsync'd (MiB/s)" wb_write local_write
echo
printf -- '--writeback: %.1f s more until every block was in the bucket; %.0f MiB/s from the first write to the last upload\n' \
  "$(result wb_uploaded)" "$(result wb_total)"
