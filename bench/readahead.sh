#!/usr/bin/env bash
# What --readahead-ratio costs and saves, on one volume with no disk cache
# (--cache-size 0: every block read comes from the store, counted by the
# mount's metrics).
#
#   amplification  RUNS runs of RUN_KIB at random 4 KiB-aligned offsets of a
#                  SIZE_MIB file, in 128 KiB reads, remounted (cold) before
#                  each: object GET bytes / bytes read, with no readahead at
#                  all (--max-readahead 0: only the blocks the runs touch),
#                  and with each ratio of RATIOS. Twice: with
#                  POSIX_FADV_RANDOM (the mount sees exactly the reads) and
#                  with plain buffered reads (the kernel's readahead adds its
#                  own requests, up to 1 MiB).
#   sequential     a cold `dd bs=1M` of the whole file, then of MEDIUM_COUNT
#                  files of MEDIUM_MIB one after another (each a new stream,
#                  where the ratio's warm-up shows), REPEAT times per ratio,
#                  alternating: MiB/s (median) and GETs.
#
# Usage: bench/readahead.sh [WORKDIR]   (default /tmp/tessera-readahead; removed first)
# Knobs (environment): SIZE_MIB=1024 RUNS=100 RUN_KIB="64 256 512 1024"
#   MEDIUM_MIB=32 MEDIUM_COUNT=16 RATIOS="0 4" REPEAT=5
#   STORAGE=file (or s3: a local s3rver, or the server S3_ENDPOINT names)
set -euo pipefail
WORK=${1:-/tmp/tessera-readahead}
rm -rf "$WORK" && mkdir -p "$WORK/mnt"
source "$(dirname "$0")/lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-100}
RUN_KIB=${RUN_KIB:-"64 256 512 1024"}
RATIOS=${RATIOS:-"0 4"}
REPEAT=${REPEAT:-5}
MEDIUM_MIB=${MEDIUM_MIB:-32}
MEDIUM_COUNT=${MEDIUM_COUNT:-16}
STORAGE=${STORAGE:-file}
META="sqlite3://$WORK/meta.db"
MNT=$WORK/mnt

cleanup() {
  "$TESSERA" umount "$MNT" >/dev/null 2>&1 || true
  [ -n "${BENCH_S3RVER_STARTED:-}" ] && "$BENCH_ROOT/scripts/s3rver.sh" stop "$WORK/s3rver"
  return 0
}
trap cleanup EXIT

if [ "$STORAGE" = s3 ]; then
  start_s3 "${PORT:-24571}"
  make_bucket rabench
  "$TESSERA" format "$META" rabench --storage s3 --bucket "$S3_ENDPOINT/rabench" >/dev/null
else
  "$TESSERA" format "$META" rabench --storage file --bucket "$WORK/blocks" >/dev/null
fi
mount_with() {  # mount_with FLAGS...: a cold mount (no blocks in memory, no page cache)
  "$TESSERA" umount "$MNT" >/dev/null 2>&1 || true
  "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log" --cache-size 0 \
    --metrics off "$@" >/dev/null
  drop_caches
}
metric() {
  getfattr -n tessera.stats --only-values "$MNT" 2>/dev/null |
    awk -v n="$1" '$1 == n {v = $2} END {printf "%d", v}'
}
# The GET counters once background fetches have ended (unchanged for a second).
settled() {
  local last="" now
  for _ in $(seq 100); do
    sleep 0.25
    now="$(metric tessera_object_get_seconds_count) $(metric tessera_object_get_bytes_total)"
    [ "$now" = "$last" ] && break
    last=$now
    sleep 0.75
  done
  echo "$now"
}

mount_with
dd if=/dev/urandom of="$WORK/seed" bs=1M count=16 status=none
for _ in $(seq $((SIZE_MIB / 16))); do cat "$WORK/seed"; done >"$MNT/big"
for i in $(seq "$MEDIUM_COUNT"); do
  for _ in $(seq $(((MEDIUM_MIB + 15) / 16))); do cat "$WORK/seed"; done >"$MNT/medium$i"
  truncate -s "${MEDIUM_MIB}M" "$MNT/medium$i"
done

# runs KIB ADVICE: reads the runs; prints the bytes read.
runs() {
  python3 - "$MNT/big" "$1" "$2" "$RUNS" <<'PY'
import os, random, sys
path, kib, advice, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
run, piece = kib << 10, min(kib, 128) << 10
fd = os.open(path, os.O_RDONLY)
if advice == "random":
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
size = os.fstat(fd).st_size
rng = random.Random(kib)
done = 0
for _ in range(runs):
    off = rng.randrange(0, (size - run) // 4096) * 4096
    for i in range(0, run, piece):
        done += len(os.pread(fd, piece, off + i))
print(done)
PY
}

echo "## Amplification: GET bytes / bytes read ($RUNS runs at random offsets, ${SIZE_MIB} MiB file, $STORAGE store)"
echo
header="| advice | run |  no readahead |"
rule="|---|---|---|"
for r in $RATIOS; do
  header="$header ratio $r |"
  rule="$rule---|"
done
echo "$header"
echo "$rule"
for advice in random normal; do
  for kib in $RUN_KIB; do
    line="| $advice | $kib KiB |"
    for config in none $RATIOS; do
      if [ "$config" = none ]; then mount_with --max-readahead 0; else mount_with --readahead-ratio "$config"; fi
      read -r g0 b0 <<<"$(settled)"
      read_bytes=$(runs "$kib" "$advice")
      read -r g1 b1 <<<"$(settled)"
      line="$line $(echo "($b1 - $b0) / $read_bytes" | bc -l | xargs printf '%.1f')x ($((g1 - g0)) GETs) |"
    done
    echo "$line"
  done
done

echo
echo "## Sequential cold reads (dd bs=1M), $REPEAT times each, alternating"
echo
declare -A big medium gets
for _ in $(seq "$REPEAT"); do
  for r in $RATIOS; do
    mount_with --readahead-ratio "$r"
    read -r g0 _ <<<"$(settled)"
    t0=$(now)
    dd if="$MNT/big" of=/dev/null bs=1M status=none
    t1=$(now)
    read -r g1 _ <<<"$(settled)"
    t2=$(now)
    for i in $(seq "$MEDIUM_COUNT"); do dd if="$MNT/medium$i" of=/dev/null bs=1M status=none; done
    t3=$(now)
    big[$r]="${big[$r]:-} $(rate "$SIZE_MIB" "$t0" "$t1")"
    medium[$r]="${medium[$r]:-} $(rate $((MEDIUM_MIB * MEDIUM_COUNT)) "$t2" "$t3")"
    gets[$r]="${gets[$r]:-} $((g1 - g0))"
  done
done
summary() {  # summary "RATES": the median, then each run
  printf '%.0f (%s)' "$(tr ' ' '\n' <<<"$1" | grep . | median)" \
    "$(for x in $1; do printf '%.0f ' "$x"; done | sed 's/ $//')"
}
echo "| ratio | ${SIZE_MIB} MiB file, MiB/s | its GETs | ${MEDIUM_COUNT} x ${MEDIUM_MIB} MiB files, MiB/s |"
echo "|---|---|---|---|"
for r in $RATIOS; do
  echo "| $r | $(summary "${big[$r]}") |${gets[$r]} | $(summary "${medium[$r]}") |"
done
