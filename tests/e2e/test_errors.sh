#!/usr/bin/env bash
# Bad input: each gives one line that says what is wrong, and a non-zero exit.
source "$(dirname "$0")/lib.sh"

expect_error "unknown URL scheme" "unsupported.*sqlite3://" \
  "$TESSERA" format "mysql://root@localhost/x" vol --bucket "$BUCKET"
expect_error "not a URL" "sqlite3://" "$TESSERA" status "$WORK/meta.db"
expect_error "mount of an unformatted volume" "not formatted; run 'tessera format" \
  "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log"
expect_error "bad volume name" "bad volume name" "$TESSERA" format "$META" "Bad_Name" --bucket "$BUCKET"
expect_error "bad block size" "block-size" "$TESSERA" format "$META" vol --bucket "$BUCKET" --block-size 3000
touch "$WORK/afile"
expect_error "bucket not writable" "not (usable|writable)" \
  "$TESSERA" format "$META" vol --bucket "$WORK/afile/blocks"
if "$TESSERA" status "$META" >/dev/null 2>&1; then fail "a failed format left a volume behind"; fi

format_volume
expect_error "format over an existing volume" "already formatted.*--force" \
  "$TESSERA" format "$META" other --storage file --bucket "$BUCKET"
check "format --force works" "$TESSERA" format "$META" "$VOLUME" --storage file --bucket "$BUCKET" --force

expect_error "missing mountpoint" "does not exist" \
  "$TESSERA" mount "$META" "$WORK/nope" --background --log "$WORK/mount.log"
expect_error "mountpoint is a file" "not a directory" \
  "$TESSERA" mount "$META" "$WORK/afile" --background --log "$WORK/mount.log"
mount_volume
expect_error "already mounted" "already mounted" \
  "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log"
expect_error "info outside a mount" "not inside a tessera mount" "$TESSERA" info "$WORK/afile"
umount_volume
expect_error "umount of something not mounted" "not mounted" "$TESSERA" umount "$MNT"
expect_error "missing database directory" "meta|sqlite|no such" \
  "$TESSERA" status "sqlite3://$WORK/no/such/dir/meta.db"
pass
