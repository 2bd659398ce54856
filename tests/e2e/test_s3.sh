#!/usr/bin/env bash
# A volume on a real S3 server (Ceph RGW, which checks SigV4 signatures):
# 1 GiB and 5,000 small files round trip, across a remount; bad credentials,
# a missing bucket, an unreachable endpoint and a malformed URL each fail with
# one clear line. Needs TESSERA_TEST_RGW_{ENDPOINT,ACCESS_KEY,SECRET_KEY}
# (scripts/test.sh starts the server and sets them).
source "$(dirname "$0")/lib.sh"
: "${TESSERA_TEST_RGW_ENDPOINT:?start scripts/ceph-rgw.sh and set TESSERA_TEST_RGW_* (scripts/test.sh does)}"
EP=$TESSERA_TEST_RGW_ENDPOINT
AK=$TESSERA_TEST_RGW_ACCESS_KEY
SK=$TESSERA_TEST_RGW_SECRET_KEY
BKT="tessera-e2e-$RANDOM$RANDOM"

expect_error "wrong secret key" "SignatureDoesNotMatch|credentials|403" \
  "$TESSERA" format "$META" "$VOLUME" --storage s3 --bucket "$EP/$BKT" --access-key "$AK" --secret-key "wrong$SK"
expect_error "unknown access key" "InvalidAccessKeyId|credentials|403" \
  "$TESSERA" format "$META" "$VOLUME" --storage s3 --bucket "$EP/$BKT" --access-key "NOSUCHKEY" --secret-key "$SK"
expect_error "unreachable endpoint" "connect|refused|unreachable" \
  "$TESSERA" format "$META" "$VOLUME" --storage s3 --bucket "http://127.0.0.1:1/$BKT" --access-key "$AK" --secret-key "$SK"
expect_error "malformed bucket URL" "bucket|URL" \
  "$TESSERA" format "$META" "$VOLUME" --storage s3 --bucket "127.0.0.1:7480" --access-key "$AK" --secret-key "$SK"

check "format on S3" "$TESSERA" format "$META" "$VOLUME" --storage s3 --bucket "$EP/$BKT" \
  --access-key "$AK" --secret-key "$SK"
"$TESSERA" status "$META" | grep -q "$SK" && fail "the secret key is in the settings in plain text"
mount_volume

head -c $((1 << 30)) /dev/urandom >"$WORK/big"
cp "$WORK/big" "$MNT/big"
mkdir -p "$WORK/small" "$MNT/small"
for d in $(seq 0 49); do
  mkdir -p "$WORK/small/$d"
  for f in $(seq 0 99); do head -c $((RANDOM * 3)) /dev/urandom >"$WORK/small/$d/$f"; done
done
cp -r "$WORK/small/." "$MNT/small/"
check "1 GiB file reads back" cmp "$WORK/big" "$MNT/big"
check "5,000 small files read back" diff -r "$WORK/small" "$MNT/small"
expect_eq "small file count" "$(find "$MNT/small" -type f | wc -l)" 5000

remount_volume
check "1 GiB file after remount" cmp "$WORK/big" "$MNT/big"
check "small files after remount" diff -r "$WORK/small" "$MNT/small"

# Credentials from the environment override the stored ones: a wrong one is refused at mount.
umount_volume
out=$(AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="bad$SK" "$TESSERA" mount "$META" "$MNT" \
  --background --log "$WORK/mount.log" 2>&1) && fail "mounted with a wrong secret key"
echo "$out" | grep -qiE "SignatureDoesNotMatch|403|credentials" || fail "wrong key at mount: $out"
# A bucket that is gone (settings pointing at a bucket nobody created) stops the mount.
sqlite3 "$WORK/meta.db" "UPDATE kv SET v = CAST(replace(CAST(v AS TEXT), '$BKT', 'gone-$BKT') AS BLOB) WHERE k = CAST('setting' AS BLOB)"
out=$("$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log" 2>&1) && fail "mounted a volume whose bucket is missing"
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "missing bucket: more than one line: $out"
echo "$out" | grep -qiE "NoSuchBucket|does not exist" || fail "missing bucket at mount: $out"
pass
