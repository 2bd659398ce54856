# The body of the shared-volume tests (sourced by test_shared*.sh after lib.sh,
# with META set to the engine under test): two mounts — two processes, two
# mountpoints — of one volume see one namespace, exclude each other with
# flock and fcntl locks, and clean up after a mount that died.
MNT2="$WORK/mnt2"
mkdir -p "$MNT2"
format_volume --trash-days 0  # the dead mount's unlinked file must be freed, not trashed
mount_volume --heartbeat 1
"$TESSERA" mount "$META" "$MNT2" --background --log "$WORK/mount2.log" --cache-dir "$WORK/cache2" --heartbeat 1 >/dev/null

# A file written and closed in one mount reads identically in the other.
head -c $((9 << 20)) /dev/urandom >"$WORK/src"
cp "$WORK/src" "$MNT/f"
check "closed file is identical in the other mount" cmp "$WORK/src" "$MNT2/f"
echo appended >>"$MNT2/f"
check "append from the other mount is seen" bash -c "tail -c 9 '$MNT/f' | grep -q appended"

# A rename in one is seen by the other within the cache TTL (1 s).
mkdir "$MNT/d"
echo x >"$MNT/d/old"
ls "$MNT2/d" >/dev/null
mv "$MNT/d/old" "$MNT/d/new"
check "rename is seen in the other mount" wait_until 5 test -e "$MNT2/d/new"
check "old name disappears in the other mount" wait_until 5 test ! -e "$MNT2/d/old"

# Concurrent creates of distinct files from both mounts: exactly 2,000 entries.
mkdir "$MNT/many"
(for i in $(seq 1 1000); do : >"$MNT/many/a$i"; done) &
p1=$!
(for i in $(seq 1 1000); do : >"$MNT2/many/b$i"; done) &
p2=$!
wait $p1 || fail "creates in mount 1 failed"
wait $p2 || fail "creates in mount 2 failed"
expect_eq "entries after concurrent creates (mount 1)" "$(ls "$MNT/many" | wc -l)" 2000
expect_eq "entries after concurrent creates (mount 2)" "$(ls "$MNT2/many" | wc -l)" 2000

# Appends under flock from both mounts interleave whole records.
: >"$MNT/log"
append() {  # append MOUNT TAG
  local i
  for i in $(seq 1 100); do
    flock "$1/log" -c "printf '%s-%03d-%s\n' $2 $i 0123456789abcdefghijklmnopqrstuvwxyz >>'$1/log'"
  done
}
append "$MNT" A &
p1=$!
append "$MNT2" B &
p2=$!
wait $p1 || fail "appends in mount 1 failed"
wait $p2 || fail "appends in mount 2 failed"
expect_eq "records appended under flock" "$(wc -l <"$MNT/log")" 200
bad=$(grep -cvE '^[AB]-[0-9]{3}-0123456789abcdefghijklmnopqrstuvwxyz$' "$MNT/log" || true)
expect_eq "torn records" "$bad" 0
expect_eq "records from mount 2" "$(grep -c '^B-' "$MNT2/log")" 100

# flock -n fails on one mount while the other holds the lock.
touch "$MNT/lock"
flock "$MNT/lock" -c "touch '$WORK/held'; sleep 3" &
holder=$!
check "the holder took the lock" wait_until 10 test -e "$WORK/held"
flock -n "$MNT2/lock" true && fail "flock -n succeeded while the other mount holds the lock"
check "flock waits, then gets the lock" flock -w 20 "$MNT2/lock" true
wait $holder

# fcntl byte ranges: disjoint ranges coexist, overlapping ones exclude, F_GETLK names the holder.
head -c 4096 /dev/zero >"$MNT/ranges"
"$LOCKRANGE" "$MNT/ranges" write 0 100 wait "touch '$WORK/ranged'; sleep 3" &
holder=$!
check "the range holder took its lock" wait_until 10 test -e "$WORK/ranged"
check "a disjoint range is free" "$LOCKRANGE" "$MNT2/ranges" write 100 100 try true
rc=0
"$LOCKRANGE" "$MNT2/ranges" read 50 10 try true || rc=$?
expect_eq "an overlapping range is held (exit status)" "$rc" 75
"$LOCKRANGE" "$MNT2/ranges" test 0 0 | grep -q "^held write 0 100 pid" || fail "F_GETLK: $("$LOCKRANGE" "$MNT2/ranges" test 0 0)"
wait $holder
expect_eq "the range is free after the holder exits" "$("$LOCKRANGE" "$MNT2/ranges" test 0 0)" free

# A mount that dies (kill -9) holding a lock and an unlinked-but-open file:
# after the stale limit (5 heartbeats) the other mount takes the lock and the
# file's space is freed.
head -c $((8 << 20)) /dev/urandom >"$MNT2/doomed"
sync
space_with=$(usage_of used_space)
(exec 3<"$MNT2/doomed" 4<"$MNT2/lock"; rm "$MNT2/doomed"; flock 4; touch "$WORK/dying"; sleep 600) &
dying=$!
check "the dying mount holds its lock" wait_until 10 test -e "$WORK/dying"
flock -n "$MNT/lock" true && fail "lock free while the other mount holds it"
pid2=$(mount_pid "$MNT2")
[ -n "$pid2" ] || fail "cannot find the second mount's process"
kill -9 "$pid2"
kill -9 $dying 2>/dev/null || true
umount -l "$MNT2" 2>/dev/null || true
check "the lock is released after the stale limit" wait_until 30 flock -n "$MNT/lock" true
check "the unlinked file's space is freed" wait_until 30 bash -c "[ \$('$TESSERA' status '$META' | grep '\"used_space\"' | tr -dc 0-9) -le $((space_with - (8 << 20))) ]"
expect_eq "sessions left" "$("$TESSERA" status "$META" | grep -c '"mountpoint"')" 1
umount_volume
