#!/usr/bin/env bash
# Deleted data leaves the bucket, and `status` shows usage back down.
source "$(dirname "$0")/lib.sh"
format_volume --block-size 1024 --trash-days 0  # freed at once, not kept in the trash
mount_volume

base_space=$(usage_of used_space)
base_inodes=$(usage_of used_inodes)
[ "$(count_objects)" -eq 0 ] || fail "a fresh volume has block objects"

head -c $((5 << 20)) /dev/urandom >"$MNT/a"
head -c $((3 << 20)) /dev/urandom >"$MNT/b"
mkdir "$MNT/dir" && for i in $(seq 1 50); do echo "$i" >"$MNT/dir/$i"; done
sync
[ "$(count_objects)" -ge 8 ] || fail "expected at least 8 blocks, found $(count_objects)"
full_space=$(usage_of used_space)
[ "$full_space" -ge $((8 << 20)) ] || fail "used_space $full_space after writing 8 MiB"

# Overwriting truncates: the old blocks must go too.
head -c $((2 << 20)) /dev/urandom >"$MNT/b"
rm "$MNT/a"
rm -r "$MNT/dir"
: >"$MNT/b"
rm "$MNT/b"
check "every block object is deleted" wait_until 20 bash -c "[ \$(find '$BUCKET' -type f -path '*/chunks/*' | wc -l) -eq 0 ]"
expect_eq "used_space back to the start" "$(usage_of used_space)" "$base_space"
expect_eq "used_inodes back to the start" "$(usage_of used_inodes)" "$base_inodes"

# `tessera info` names the objects of a file, and they exist.
head -c $(((2 << 20) + 7)) /dev/urandom >"$MNT/c"
info=$("$TESSERA" info "$MNT/c")
echo "$info" | grep -q '"inode"' || fail "info has no inode: $info"
keys=$(echo "$info" | grep -o '"testvol/chunks/[^"]*"' | tr -d '"')
expect_eq "objects named by info" "$(echo "$keys" | wc -l)" 3
for k in $keys; do [ -f "$BUCKET/$k" ] || fail "info names $k, which is not in the bucket"; done

# status lists the mounted session.
"$TESSERA" status "$META" | grep -q "\"mountpoint\": \"$MNT\"" || fail "status does not list the session"
umount_volume
"$TESSERA" status "$META" | grep -q "\"mountpoint\"" && fail "session still listed after umount"
pass
