#!/usr/bin/env bash
# The disk cache through a mount: a block read once is read again from the
# cache (with the bucket moved away), the cache stays within --cache-size,
# and a damaged cache file is never served.
source "$(dirname "$0")/lib.sh"
format_volume --block-size 1024  # 1 MiB blocks
MiB=$((1 << 20))
CACHE="$WORK/cache"
# Apparent bytes of the files in the cache (blocks plus their headers).
cache_bytes() { find "$CACHE" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
cache_files() { find "$CACHE" -type f -path '*/raw/*' | wc -l; }

head -c $((20 * MiB + 12345)) /dev/urandom >"$WORK/ref"
mount_volume --cache-size 1024
cp "$WORK/ref" "$MNT/f"
check "written file reads back" cmp "$WORK/ref" "$MNT/f"
umount_volume  # small blocks are written to the cache behind; unmounting writes them
expect_eq "written blocks are cached" "$(cache_files)" 21

# A cold cache: the first read fetches every block and keeps it.
rm -rf "$CACHE"
mount_volume --cache-size 1024
check "first read" cmp "$WORK/ref" "$MNT/f"
umount_volume
expect_eq "read blocks are cached" "$(cache_files)" 21

# The second read (fresh mount: no page cache, no memory cache) needs no bucket.
mount_volume --cache-size 1024
mv "$BUCKET" "$WORK/bucket-away"
check "second read served by the disk cache alone" cmp "$WORK/ref" "$MNT/f"
mv "$WORK/bucket-away" "$BUCKET"
umount_volume

# A damaged cached block is deleted and fetched again: the read is still right.
victim=$(find "$CACHE" -type f -path '*/raw/*' | sort | sed -n 5p)
printf 'garbage' | dd of="$victim" bs=1 seek=100000 conv=notrunc status=none
mount_volume --cache-size 1024
check "read with a damaged cache file" cmp "$WORK/ref" "$MNT/f"
grep -q "is damaged" "$WORK/mount.log" || fail "the damaged cache file was not reported"
umount_volume
mount_volume --cache-size 1024
mv "$BUCKET" "$WORK/bucket-away"
check "the damaged block was cached again" cmp "$WORK/ref" "$MNT/f"
mv "$WORK/bucket-away" "$BUCKET"
umount_volume

# A random read takes just its 4 KiB from the cache file, verifying only the
# pieces it reads: a damaged piece there is caught too, and refetched.
victim=$(find "$CACHE" -type f -path '*/raw/*' -name '*_7_1048576')
[ -n "$victim" ] || fail "no cached block 7"
header=$((16 + 4 * 256))  # the fixed header and a sum per 4 KiB piece
printf 'garbage' | dd of="$victim" bs=1 seek=$((header + 512 * 1024 + 100)) conv=notrunc status=none
damaged_before=$(grep -c "is damaged" "$WORK/mount.log" || true)
mount_volume --cache-size 1024
for piece in $((7 * 256 + 127)) $((7 * 256 + 128)) $((3 * 256 + 5)); do
  dd if="$MNT/f" of="$WORK/piece" bs=4k skip=$piece count=1 iflag=direct status=none
  cmp "$WORK/piece" <(dd if="$WORK/ref" bs=4k skip=$piece count=1 status=none) ||
    fail "random 4 KiB read of piece $piece is wrong"
done
damaged=$(grep -c "is damaged" "$WORK/mount.log" || true)
[ "$damaged" -eq $((damaged_before + 1)) ] ||
  fail "the damaged piece was not reported once ($damaged_before then $damaged)"
check "file reads back after the damaged piece" cmp "$WORK/ref" "$MNT/f"
umount_volume

# A small cache holds at most --cache-size (plus one block) whatever is read.
rm -rf "$CACHE"
mount_volume --cache-size 8
head -c $((40 * MiB)) /dev/urandom >"$WORK/big"
cp "$WORK/big" "$MNT/big"
check "big file reads back" cmp "$WORK/big" "$MNT/big"
used=$(cache_bytes)
[ "$used" -le $((9 * MiB)) ] || fail "cache holds $used bytes, over 8 MiB + one block"
[ "$used" -ge $((4 * MiB)) ] || fail "cache holds only $used bytes"
umount_volume
mount_volume --cache-size 8
check "big file reads back through a full cache" cmp "$WORK/big" "$MNT/big"
used=$(cache_bytes)
[ "$used" -le $((9 * MiB)) ] || fail "cache holds $used bytes after a reread, over 8 MiB + one block"

# A cache directory that cannot be used (a regular file) costs nothing but speed.
umount_volume
echo x >"$WORK/not-a-dir"
mount_volume --cache-dir "$WORK/not-a-dir"
check "read with an unusable cache dir" cmp "$WORK/ref" "$MNT/f"
cp "$WORK/ref" "$MNT/g"
check "write with an unusable cache dir" cmp "$WORK/ref" "$MNT/g"

# The RAM cache.
umount_volume
mount_volume --cache-dir memory --cache-size 64
check "read through the memory cache" cmp "$WORK/ref" "$MNT/f"
pass
