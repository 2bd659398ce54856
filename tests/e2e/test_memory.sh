#!/usr/bin/env bash
# Memory stays bounded: while 8 threads stream 8 GiB in and out of a mount,
# the daemon's peak resident memory stays within --buffer-size plus a fixed
# overhead (100 MiB).
source "$(dirname "$0")/lib.sh"

BUFFER_MIB=64
format_volume
mount_volume --buffer-size $BUFFER_MIB
pid=$(mount_pid "$MNT")
[ -n "$pid" ] || fail "no daemon for $MNT"
hwm() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status"; }
echo "resident after mount: $(hwm) MiB"

dd if=/dev/urandom of="$WORK/seed" bs=1M count=8 status=none
for t in $(seq 8); do
  (for _ in $(seq ${STREAM_CHUNKS:-128}); do cat "$WORK/seed"; done > "$MNT/stream$t") &
done
wait
echo "peak resident after writing 8 x 1 GiB: $(hwm) MiB"
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
for t in $(seq 8); do
  (cmp <(for _ in $(seq ${STREAM_CHUNKS:-128}); do cat "$WORK/seed"; done) "$MNT/stream$t" ||
     echo "stream$t differs" > "$WORK/bad") &
done
wait
[ ! -e "$WORK/bad" ] || fail "$(cat "$WORK/bad")"
peak=$(hwm)
echo "peak resident after reading them back: $peak MiB (limit $((BUFFER_MIB + 100)) MiB)"
[ "$peak" -le $((BUFFER_MIB + 100)) ] ||
  fail "peak resident memory $peak MiB exceeds --buffer-size $BUFFER_MIB MiB + 100 MiB"
umount_volume
pass
