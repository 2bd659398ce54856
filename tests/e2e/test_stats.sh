#!/usr/bin/env bash
# The mount's counters: the Prometheus endpoint (--metrics), `tessera stats`,
# and what they prove about the read path — a sequential read makes far fewer,
# larger object reads than the application's reads, and random 4 KiB reads
# fetch no more than the blocks they touch (no readahead).
source "$(dirname "$0")/lib.sh"

PORT=$((20000 + $$ % 10000))
format_volume
mount_volume --metrics "127.0.0.1:$PORT" --buffer-size 64 --cache-size 0

scrape() { curl -sf "http://127.0.0.1:$PORT/metrics"; }
metric() { scrape | awk -v n="$1" '$1 == n {print $2}'; }

scrape | grep -q '^# TYPE tessera_fuse_ops_seconds summary' ||
  fail "the endpoint does not answer in Prometheus text: $(scrape | head -3)"
mkdir -p "$WORK/mnt2"
expect_error "a second mount may not take a port that is busy" "$PORT|in use" \
  "$TESSERA" mount "$META" "$WORK/mnt2" --metrics "127.0.0.1:$PORT" --background \
    --log "$WORK/mount2.log" --cache-dir "$WORK/cache2"

# Write 1 GiB; the counters see every byte written and stored.
MIB=1024
dd if=/dev/urandom of="$WORK/seed" bs=1M count=16 status=none
for _ in $(seq $((MIB / 16))); do cat "$WORK/seed"; done > "$MNT/big" &
writer=$!
stats=$("$TESSERA" stats "$MNT" --interval 0.5 --count 3)
wait $writer
echo "$stats" | head -5
[ "$(echo "$stats" | grep -c '^ *[0-9]')" -eq 3 ] || fail "stats printed no 3 figure lines: $stats"
echo "$stats" | awk 'NR > 2 && $4 + 0 > 0 {found = 1} END {exit !found}' ||
  fail "stats showed no write throughput while 1 GiB was written"
written=$(metric tessera_fuse_write_bytes_total)
[ "${written%.*}" -ge $((MIB << 20)) ] || fail "fuse write bytes $written < 1 GiB"
put=$(metric tessera_object_put_bytes_total)
[ "${put%.*}" -ge $((MIB << 20)) ] || fail "object put bytes $put < 1 GiB"
echo "stats of $MNT via xattr:"
getfattr -n tessera.stats --only-values "$MNT" | grep -q '^tessera_meta_txn_seconds_count' ||
  fail "the tessera.stats xattr of the root lacks the metadata counters"

# A cold sequential read (remount: no cached blocks, and page cache dropped).
remount_volume --metrics "127.0.0.1:$PORT" --buffer-size 64 --cache-size 0
g0=$(metric tessera_object_get_seconds_count)
r0=$(metric tessera_fuse_read_seconds_count)
b0=$(metric tessera_object_get_bytes_total)
cmp <(for _ in $(seq $((MIB / 16))); do cat "$WORK/seed"; done) "$MNT/big" ||
  fail "the 1 GiB file does not read back"
gets=$(( $(metric tessera_object_get_seconds_count) - g0 ))
reads=$(( $(metric tessera_fuse_read_seconds_count) - r0 ))
got=$(( $(metric tessera_object_get_bytes_total) - b0 ))
echo "sequential 1 GiB: $reads FUSE reads, $gets object GETs, $((got >> 20)) MiB fetched"
[ "$gets" -ge $((MIB / 4)) ] || fail "only $gets GETs for $((MIB / 4)) blocks: not read from the store"
# The kernel asks for 1 MiB at a time (the mount raised its read_ahead_kb):
# each 4 MiB GET serves at least four FUSE reads.
ra=$(cat "/sys/class/bdi/$(mountpoint -d "$MNT")/read_ahead_kb")
[ "$ra" = 1024 ] || fail "the mount's kernel readahead is $ra KiB, not 1024"
[ $((gets * 4)) -le "$reads" ] || fail "readahead: $gets GETs for $reads reads (want 4x fewer)"
[ "$gets" -le $((MIB / 4 + 16)) ] || fail "$gets GETs for $((MIB / 4)) blocks: blocks fetched twice"
[ "$got" -le $(((MIB + 64) << 20)) ] || fail "fetched $got bytes to read 1 GiB"

# Random 4 KiB reads: each may fetch its block, nothing more (no readahead).
remount_volume --metrics "127.0.0.1:$PORT" --buffer-size 64 --cache-size 0
g0=$(metric tessera_object_get_seconds_count)
python3 - "$MNT/big" <<'PY'
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
rng = random.Random(7)
for _ in range(200):
    off = rng.randrange(0, size // 4096) * 4096
    os.posix_fadvise(fd, off, 4096, os.POSIX_FADV_RANDOM)
    assert len(os.pread(fd, 4096, off)) == 4096
PY
gets=$(( $(metric tessera_object_get_seconds_count) - g0 ))
echo "200 random 4 KiB reads: $gets object GETs"
[ "$gets" -le 200 ] || fail "random reads fetched $gets blocks for 200 reads: readahead ran"
[ "$gets" -ge 20 ] || fail "random reads fetched only $gets blocks: the counters are wrong"
umount_volume
pass
