#!/usr/bin/env bash
# Writeback through a mount: closed files survive a kill -9 of the mount
# before any upload and reach the bucket after the restart; a file deleted
# within --upload-delay never reaches the bucket; a clean unmount uploads
# what is staged; another client waits for a block still staged here.
source "$(dirname "$0")/lib.sh"
format_volume --block-size 1024 --trash-days 0  # 1 MiB blocks; deletes free at once
MiB=$((1 << 20))
staged_files() { find "$WORK/cache" -type f -path '*/rawstaging/*' ! -name '.tmp.*' | wc -l; }
objects_are() { [ "$(count_objects)" -eq "$1" ]; }
staged_are() { [ "$(staged_files)" -eq "$1" ]; }

head -c $((6 * MiB)) /dev/urandom >"$WORK/a"
head -c $((3 * MiB + 100)) /dev/urandom >"$WORK/b"
mount_volume --writeback --upload-delay 3600
cp "$WORK/a" "$MNT/a"
cp "$WORK/b" "$MNT/b"
check "staged file reads back" cmp "$WORK/a" "$MNT/a"
expect_eq "nothing uploaded within the delay" "$(count_objects)" 0
expect_eq "blocks staged" "$(staged_files)" 10

# Crash: the daemon dies with every block only in staging.
pid=$(mount_pid "$MNT")
[ -n "$pid" ] || fail "no mount daemon found"
kill -9 "$pid"
wait_until 10 bash -c "! kill -0 $pid 2>/dev/null" || fail "the daemon did not die"
fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT"
expect_eq "nothing uploaded before the crash" "$(count_objects)" 0

# The next mount uploads what was staged; the files are whole meanwhile and after.
mount_volume --writeback
check "a after the crash" cmp "$WORK/a" "$MNT/a"
check "b after the crash" cmp "$WORK/b" "$MNT/b"
wait_until 30 objects_are 10 || fail "staged blocks were not uploaded: $(count_objects) of 10"
wait_until 10 staged_are 0 || fail "staging not emptied: $(staged_files) left"
umount_volume
rm -rf "$WORK/cache"  # the bucket alone must now hold the data
mount_volume
check "a from the bucket" cmp "$WORK/a" "$MNT/a"
check "b from the bucket" cmp "$WORK/b" "$MNT/b"
umount_volume

# A file deleted within the upload delay is never uploaded.
mount_volume --writeback --upload-delay 3600
head -c $((4 * MiB)) /dev/urandom >"$MNT/tmp"
expect_eq "temporary file staged" "$(staged_files)" 4
rm "$MNT/tmp"
wait_until 20 staged_are 0 || fail "deleted blocks still staged: $(staged_files)"
expect_eq "deleted file never reached the bucket" "$(count_objects)" 10

# A clean unmount uploads what is staged, delay or not.
head -c $((2 * MiB)) /dev/urandom >"$WORK/c"
cp "$WORK/c" "$MNT/c"
expect_eq "c staged, not uploaded" "$(count_objects)" 10
umount_volume
expect_eq "c uploaded at unmount" "$(count_objects)" 12
expect_eq "staging empty after unmount" "$(staged_files)" 0
rm -rf "$WORK/cache"
mount_volume
check "c from the bucket" cmp "$WORK/c" "$MNT/c"
umount_volume

# Another client reading a block still staged on the writer waits for its
# upload and gets the right bytes (never an error or zeros).
mount_volume --writeback --upload-delay 3
mkdir -p "$WORK/other"
"$TESSERA" mount "$META" "$WORK/other" --background --log "$WORK/other.log" \
  --cache-dir "$WORK/other-cache" --metrics off >/dev/null
head -c $((2 * MiB)) /dev/urandom >"$WORK/d"
cp "$WORK/d" "$MNT/d"
expect_eq "d staged on the writer" "$(count_objects)" 12
cmp "$WORK/d" "$WORK/other/d" || { cat "$WORK/other.log"; fail "the other client did not read d"; }
grep -q "waiting up to" "$WORK/other.log" || fail "the other client did not wait for the upload"
"$TESSERA" umount "$WORK/other"
pass
