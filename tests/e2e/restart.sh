# The body of the engine-restart tests (sourced by test_restart_*.sh after
# lib.sh, with ENGINE set to redis, postgres or etcd): the engine's server,
# started here from scripts/ENGINE.sh, restarts under a mount; operations in
# flight fail or retry, the mount keeps working afterwards, and nothing that
# was committed is lost.
# Below the ephemeral range, away from the ports scripts/test.sh uses.
PORT=$((30000 + $$ % 1000 * 2))
SERVER="$ROOT/scripts/$ENGINE.sh"
"$SERVER" start "$WORK/server" "$PORT" >/dev/null
stop_server() { "$SERVER" stop "$WORK/server" >/dev/null 2>&1 || true; }
trap 'rc=$?; set +e; "$TESSERA" umount "$MNT" >/dev/null 2>&1; stop_server; (exit $rc); cleanup' EXIT
eval "$("$SERVER" env "$WORK/server")"
case $ENGINE in
  redis) META="$REDIS_URL/1" ;;
  postgres) META="$POSTGRES_URL?search_path=restart" ;;
  etcd) META="$ETCD_URL/restart" ;;
esac
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
"$SERVER" restart "$WORK/server" >/dev/null
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
