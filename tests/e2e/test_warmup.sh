#!/usr/bin/env bash
# tessera warmup: --evict empties the disk cache of a tree, --check says how
# much is cached, warmup fetches every block so the files then read with the
# bucket gone; --file-list; a path outside a mount is one clear error.
source "$(dirname "$0")/lib.sh"
format_volume --block-size 1024  # 1 MiB blocks
mount_volume
mkdir -p "$MNT/data/sub" "$WORK/model"
for i in 1 2 3; do head -c $((i * 1500000)) /dev/urandom >"$WORK/model/f$i"; done
cp "$WORK/model/f1" "$WORK/model/f2" "$MNT/data/"
cp "$WORK/model/f3" "$MNT/data/sub/"

cached_pct() { "$TESSERA" warmup --check "$@" | sed -n 's/.*cached now: \([0-9.]*\)%.*/\1/p'; }

"$TESSERA" warmup --evict "$MNT/data" >/dev/null
expect_eq "nothing cached after --evict" "$(cached_pct "$MNT/data")" "0.0"
out=$("$TESSERA" warmup -p 4 "$MNT/data")
echo "$out"
echo "$out" | grep -q "warmed up 3 files" || fail "warmup did not count 3 files: $out"
expect_eq "everything cached after warmup" "$(cached_pct "$MNT/data")" "100.0"

# Served from the cache alone: the bucket is away.
mv "$BUCKET" "$WORK/bucket-away"
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
check "f1 from the cache" cmp "$WORK/model/f1" "$MNT/data/f1"
check "f3 from the cache" cmp "$WORK/model/f3" "$MNT/data/sub/f3"
mv "$WORK/bucket-away" "$BUCKET"

# --file-list, and a partial evict.
echo "$MNT/data/f2" >"$WORK/list"
"$TESSERA" warmup --evict --file-list "$WORK/list" >/dev/null
expect_eq "f2 evicted" "$(cached_pct "$MNT/data/f2")" "0.0"
expect_eq "f1 still cached" "$(cached_pct "$MNT/data/f1")" "100.0"

expect_error "a path outside a mount" "not in a tessera mount" \
  "$TESSERA" warmup --check "$WORK/model"
umount_volume
pass
