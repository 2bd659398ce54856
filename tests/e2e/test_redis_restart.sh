#!/usr/bin/env bash
# Redis restarts under a mount: operations in flight fail or retry, the mount
# keeps working afterwards, and nothing that was committed is lost.
source "$(dirname "$0")/lib.sh"
command -v redis-server >/dev/null || fail "redis-server is not installed (scripts/deps.sh)"
PORT=$((17000 + $$ % 1000))
REDIS="$ROOT/scripts/redis.sh"
"$REDIS" start "$WORK/redis" "$PORT" >/dev/null
stop_redis() { "$REDIS" stop "$WORK/redis" >/dev/null 2>&1 || true; }
trap 'stop_redis; cleanup' EXIT
META="redis://127.0.0.1:$PORT/1"
format_volume
mount_volume

head -c $((3 << 20)) /dev/urandom >"$WORK/src"
mkdir "$MNT/before"
for i in $(seq 1 30); do cp "$WORK/src" "$MNT/before/$i"; done

# A writer keeps creating files while the server restarts; it records each
# file whose close succeeded.
mkdir "$MNT/during"
(
  for i in $(seq 1 300); do
    if cp "$WORK/src" "$MNT/during/$i" 2>/dev/null; then echo "$i" >>"$WORK/ok"; fi
  done
) &
writer=$!
check "the writer gets going" wait_until 20 test -s "$WORK/ok"
"$REDIS" restart "$WORK/redis" >/dev/null
wait $writer || true
[ "$(wc -l <"$WORK/ok")" -ge 100 ] || fail "only $(wc -l <"$WORK/ok") of 300 writes succeeded around the restart"

verify() {
  local i
  for i in $(seq 1 30); do cmp -s "$WORK/src" "$MNT/before/$i" || fail "before/$i differs $1"; done
  while read -r i; do cmp -s "$WORK/src" "$MNT/during/$i" || fail "during/$i (closed) differs $1"; done <"$WORK/ok"
}
verify "after the restart"
# The mount keeps working.
mkdir "$MNT/after" && cp "$WORK/src" "$MNT/after/x" && mv "$MNT/after/x" "$MNT/after/y"
check "writes after the restart read back" cmp "$WORK/src" "$MNT/after/y"
remount_volume
verify "after a remount"
check "the file written after the restart survives a remount" cmp "$WORK/src" "$MNT/after/y"
umount_volume
pass
