#!/usr/bin/env bash
# A volume on s3rver (the npm S3 imitation many users test with): a round
# trip across a remount, then an outage: with the server gone, writes and
# reads fail with EIO within a bounded time, and work again once it is back.
# Needs TESSERA_TEST_S3RVER_{ENDPOINT,ACCESS_KEY,SECRET_KEY,DIR,PORT} (scripts/test.sh).
source "$(dirname "$0")/lib.sh"
: "${TESSERA_TEST_S3RVER_ENDPOINT:?start scripts/s3rver.sh and set TESSERA_TEST_S3RVER_* (scripts/test.sh does)}"
BKT="tessera-e2e-$RANDOM$RANDOM"
export AWS_ACCESS_KEY_ID=$TESSERA_TEST_S3RVER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$TESSERA_TEST_S3RVER_SECRET_KEY
check "format on s3rver" "$TESSERA" format "$META" "$VOLUME" --storage s3 \
  --bucket "$TESSERA_TEST_S3RVER_ENDPOINT/$BKT" --compress lz4
mount_volume --io-retries 3

head -c $((100 << 20)) /dev/urandom >"$WORK/big"
cp "$WORK/big" "$MNT/big"
mkdir "$WORK/small" && for i in $(seq 1 300); do head -c $((RANDOM * 4)) /dev/urandom >"$WORK/small/$i"; done
cp -r "$WORK/small" "$MNT/small"
check "big file on s3rver" cmp "$WORK/big" "$MNT/big"
check "small files on s3rver" diff -r "$WORK/small" "$MNT/small"
# No disk cache from here on: during the outage reads must go to the store.
remount_volume --io-retries 3 --cache-size 0
check "big file after remount" cmp "$WORK/big" "$MNT/big"

# Outage: stop the server (keeping its data), then bring it back.
kill -TERM "$(cat "$TESSERA_TEST_S3RVER_DIR/pid")"
check "s3rver stopped" wait_until 10 bash -c "! curl -s -o /dev/null $TESSERA_TEST_S3RVER_ENDPOINT"
start=$(date +%s)
if cp "$WORK/big" "$MNT/during-outage" 2>"$WORK/cp.err"; then fail "a write succeeded with the store down"; fi
grep -q "Input/output error" "$WORK/cp.err" || fail "write during outage: $(cat "$WORK/cp.err")"
if cat "$MNT/small/1" >/dev/null 2>"$WORK/cat.err"; then
  # The block may still be in the memory cache; a block never read must fail.
  cat "$MNT/small/2" "$MNT/small/3" "$MNT/small/4" >/dev/null 2>"$WORK/cat.err" && fail "reads succeeded with the store down"
fi
grep -q "Input/output error" "$WORK/cat.err" || fail "read during outage: $(cat "$WORK/cat.err")"
elapsed=$(($(date +%s) - start))
[ "$elapsed" -lt 120 ] || fail "failing took $elapsed s"
"$(dirname "$0")/../../scripts/s3rver.sh" start "$TESSERA_TEST_S3RVER_DIR" "$TESSERA_TEST_S3RVER_PORT" >/dev/null
cp "$WORK/big" "$MNT/after-outage"
check "write after the store is back" cmp "$WORK/big" "$MNT/after-outage"
check "reads after the store is back" diff -r "$WORK/small" "$MNT/small"
pass
