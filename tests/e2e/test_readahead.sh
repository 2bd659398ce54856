#!/usr/bin/env bash
# --readahead-ratio: short sequential runs at random places of a large file
# (records of 256 KiB read in two 128 KiB requests) fetch only the blocks they
# touch with the default ratio, where plain window doubling (ratio 0) fetches a
# block ahead after every run; a long run reaches the full window either way.
# Counts object GETs and their bytes from the mount's metrics, never timings.
source "$(dirname "$0")/lib.sh"

PORT=$((20000 + ($$ + 5000) % 10000))
BLOCK=$((4 << 20))
RUNS=40
RUN=$((256 << 10))
format_volume
mount_volume --metrics "127.0.0.1:$PORT" --cache-size 0

scrape() { curl -sf "http://127.0.0.1:$PORT/metrics"; }
metric() { scrape | awk -v n="$1" '$1 == n {v = $2} END {printf "%d", v}'; }
# The GET count once background fetches have ended: unchanged for a second.
settled_gets() {
  local last=-1 same=0 now
  for _ in $(seq 300); do
    now=$(metric tessera_object_get_seconds_count)
    if [ "$now" = "$last" ]; then
      same=$((same + 1))
      [ $same -ge 5 ] && break
    else
      same=0
    fi
    last=$now
    sleep 0.2
  done
  echo "$last"
}

# 1 GiB (256 blocks) of data that does not compress away.
dd if=/dev/urandom of="$WORK/seed" bs=1M count=16 status=none
for _ in $(seq 64); do cat "$WORK/seed"; done > "$MNT/big"

# reads MODE: MODE "runs" reads $RUNS runs of two 128 KiB requests, each in
# its own block among blocks 0, 4, ..., 188 (so no run shares a block with
# another or with the block after another); MODE "long" reads blocks 200-207
# (32 MiB) in 128 KiB requests. POSIX_FADV_RANDOM: the kernel reads no more
# than asked, so the mount sees exactly these requests.
reads() {
  python3 - "$MNT/big" "$1" "$RUNS" "$BLOCK" <<'PY'
import os, random, sys
path, mode, runs, block = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
piece = 128 << 10
fd = os.open(path, os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
if mode == "runs":
    rng = random.Random(11)
    for b in rng.sample(range(0, 192, 4), runs):
        off = b * block + rng.randrange(0, (block - 2 * piece) // 4096 + 1) * 4096
        for i in range(2):
            assert len(os.pread(fd, piece, off + i * piece)) == piece
else:
    for off in range(200 * block, 208 * block, piece):
        assert len(os.pread(fd, piece, off)) == piece
os.close(fd)
PY
}

# measure RATIO: remounts (no cached blocks, no page cache) with RATIO, reads
# the runs, then the long run; sets RUN_GETS, RUN_BYTES and LONG_GETS.
measure() {
  remount_volume --metrics "127.0.0.1:$PORT" --cache-size 0 --readahead-ratio "$1"
  local g0 b0 g1
  g0=$(settled_gets)
  b0=$(metric tessera_object_get_bytes_total)
  reads runs
  g1=$(settled_gets)
  RUN_GETS=$((g1 - g0))
  RUN_BYTES=$(($(metric tessera_object_get_bytes_total) - b0))
  reads long
  LONG_GETS=$(($(settled_gets) - g1))
}

READ=$((RUNS * RUN))
# What the ratio promises: the blocks the runs touch (one each), plus at most
# 4 times the bytes read, fetched ahead.
BOUND=$((RUNS * BLOCK + 4 * READ))

measure 4
echo "ratio 4: $RUNS runs of 256 KiB: $RUN_GETS GETs, $((RUN_BYTES >> 20)) MiB for" \
  "$((READ >> 20)) MiB read; a 32 MiB run: $LONG_GETS GETs"
[ "$RUN_GETS" -ge "$RUNS" ] || fail "only $RUN_GETS GETs for $RUNS runs: the counters are wrong"
[ "$RUN_BYTES" -le "$BOUND" ] ||
  fail "ratio 4: fetched $RUN_BYTES bytes for $READ read in $RUNS runs (bound $BOUND)"
[ "$RUN_GETS" -le $((RUNS + 2)) ] || fail "ratio 4: $RUN_GETS GETs for $RUNS runs in $RUNS blocks"
# A long run still reaches the full 8-block window: its 8 blocks and 8 ahead.
[ "$LONG_GETS" -ge 15 ] || fail "ratio 4: a 32 MiB run made $LONG_GETS GETs: no full window"
[ "$LONG_GETS" -le 17 ] || fail "ratio 4: a 32 MiB run made $LONG_GETS GETs (want 16)"
capped_bytes=$RUN_BYTES

measure 0
echo "ratio 0: $RUNS runs of 256 KiB: $RUN_GETS GETs, $((RUN_BYTES >> 20)) MiB for" \
  "$((READ >> 20)) MiB read; a 32 MiB run: $LONG_GETS GETs"
# Without the cap every run fetches the block after its own.
[ "$RUN_BYTES" -gt "$BOUND" ] ||
  fail "ratio 0 fetched $RUN_BYTES bytes, within the bound $BOUND: the test proves nothing"
[ "$RUN_BYTES" -gt "$capped_bytes" ] || fail "ratio 0 fetched no more than ratio 4"
[ "$LONG_GETS" -ge 15 ] || fail "ratio 0: a 32 MiB run made $LONG_GETS GETs: no full window"

if out=$("$TESSERA" mount "$META" "$WORK/mnt2" --readahead-ratio -1 2>&1); then
  fail "a negative --readahead-ratio was accepted"
fi
echo "$out" | grep -q -- "--readahead-ratio: must be" || fail "--readahead-ratio -1: $out"
umount_volume
pass
