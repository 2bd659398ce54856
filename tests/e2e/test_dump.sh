#!/usr/bin/env bash
# dump and load: a tree made with ordinary programs, dumped and loaded into a
# second SQLite database over the same bucket, mounts with the same contents,
# inode numbers, attributes, symlinks and xattrs; load refuses a non-empty
# engine and a truncated dump; dump and load of 100,000 files stay small.
source "$(dirname "$0")/lib.sh"
META2="sqlite3://$WORK/meta2.db"
MNT2="$WORK/mnt2"
mkdir -p "$MNT2"
# lib.sh's cleanup unmounts $MNT; the second mount goes first.
# (errexit off first: "(exit $rc)" hands cleanup the status and must not end the trap)
trap 'rc=$?; set +e; if mountpoint -q "$MNT2" 2>/dev/null; then
        "$TESSERA" umount "$MNT2" >/dev/null 2>&1 || umount -l "$MNT2" 2>/dev/null; fi
      (exit $rc); cleanup' EXIT

# expect_rc1 DESCRIPTION PATTERN COMMAND...: one line matching PATTERN, exit status 1.
expect_rc1() {
  expect_error "$@"
  local what=$1
  shift 2
  local rc=0
  "$@" >/dev/null 2>&1 || rc=$?
  expect_eq "$what: exit status" "$rc" 1
}

format_volume
mount_volume
T="$MNT/tree"
mkdir "$T"
cp -a "$ROOT/src" "$T/src"
ln -s src/meta "$T/link"
ln -s /no/such/target "$T/dangling"
ln "$T/src/meta/keys.h" "$T/hardlink"
setfattr -n user.text -v hello "$T/src"
setfattr -n user.bin -v 0sAAEC//4A "$T/hardlink"
head -c $((70 << 20)) /dev/urandom >"$WORK/big"
cp "$WORK/big" "$T/big"  # two chunks
truncate -s 10M "$T/sparse"
echo tail | dd of="$T/sparse" bs=1 seek=$((9 << 20)) conv=notrunc status=none
touch "$T/"$'new\nline' "$T/"$'bad\xff\xfename' "$T/q\"uote\\back"
mkfifo "$T/fifo"
mkdir -p "$T/deep/a/b/c"
echo owned >"$T/deep/a/owned"
chown 1234:5678 "$T/deep/a/owned"
chmod 4750 "$T/deep/a/owned"
touch -d '2001-02-03 04:05:06.789123456' "$T/deep/a/b"
umount_volume

# Dump: a summary line; valid JSON.
"$TESSERA" dump "$META" "$WORK/dump.json" 2>"$WORK/dump.err" || fail "dump: $(cat "$WORK/dump.err")"
grep -qE '^dumped [0-9]+ inodes, [0-9]+ entries, [0-9]+ slices in [0-9.]+ s$' "$WORK/dump.err" ||
  fail "dump summary: $(cat "$WORK/dump.err")"
expect_eq "dump is JSON of version 1" "$(jq .tessera_dump "$WORK/dump.json")" 1
[ -z "$(ls "$WORK" | grep '\.tmp\.')" ] || fail "dump left a temporary file"

# Load into a second database; it dumps byte for byte the same.
"$TESSERA" load "$META2" "$WORK/dump.json" 2>"$WORK/load.err" || fail "load: $(cat "$WORK/load.err")"
grep -qE '^loaded [0-9]+ inodes, [0-9]+ entries, [0-9]+ slices in [0-9.]+ s$' "$WORK/load.err" ||
  fail "load summary: $(cat "$WORK/load.err")"
"$TESSERA" dump "$META2" - >"$WORK/dump2.json" 2>/dev/null
check "the loaded volume dumps the same" cmp "$WORK/dump.json" "$WORK/dump2.json"

# Both volumes mounted side by side (same bucket) read the same.
mount_volume
"$TESSERA" mount "$META2" "$MNT2" --background --log "$WORK/mount2.log" --cache-dir "$WORK/cache2" >/dev/null
listing() {
  (cd "$1/tree" && find . -printf '%p|%i|%y|%m|%u|%g|%s|%n|%l|%T@|%C@|%A@\n' &&
    getfattr -R -h -d -m - -e base64 . 2>&1)
}
listing "$MNT" >"$WORK/list1"
listing "$MNT2" >"$WORK/list2"
grep -q 'user.bin=0sAAEC//4A' "$WORK/list1" || fail "binary xattr missing from the listing"
grep -q '^./deep/a/owned|[0-9]*|f|4750|1234|5678|' "$WORK/list1" || fail "owned file listing"
check "same inodes, attributes and xattrs" diff "$WORK/list1" "$WORK/list2"
check "same contents" diff -r --no-dereference -x fifo "$MNT/tree" "$MNT2/tree"
check "the 70 MiB file" cmp "$WORK/big" "$MNT2/tree/big"
expect_eq "symlink target" "$(readlink "$MNT2/tree/link")" src/meta
"$TESSERA" umount "$MNT2"

# The same dump loads into each server engine that scripts/test.sh runs; each
# dumps it back byte for byte and mounts with the same tree.
for var in TESSERA_TEST_REDIS_URL TESSERA_TEST_POSTGRES_URL TESSERA_TEST_ETCD_URL; do
  base=${!var:-}
  if [ -z "$base" ]; then
    [ "${TESSERA_TEST_REQUIRE_SERVERS:-}" = 1 ] && fail "$var is not set"
    echo "(no $var: not loading into that engine)"
    continue
  fi
  case $var in
    *REDIS*) url="$base/6"; redis-cli -u "$url" flushdb >/dev/null ;;
    *POSTGRES*) url="$base?search_path=dump_$$" ;;
    *ETCD*) url="$base/dump_$$" ;;
  esac
  "$TESSERA" load "$url" "$WORK/dump.json" 2>"$WORK/load.err" || fail "load into $var: $(cat "$WORK/load.err")"
  "$TESSERA" dump "$url" - >"$WORK/dump3.json" 2>/dev/null
  check "$var: the loaded volume dumps the same" cmp "$WORK/dump.json" "$WORK/dump3.json"
  "$TESSERA" mount "$url" "$MNT2" --background --log "$WORK/mount3.log" --cache-dir "$WORK/cache3" >/dev/null
  listing "$MNT2" >"$WORK/list3"
  check "$var: same inodes, attributes and xattrs" diff "$WORK/list1" "$WORK/list3"
  check "$var: the 70 MiB file" cmp "$WORK/big" "$MNT2/tree/big"
  "$TESSERA" umount "$MNT2"
done
umount_volume

# Loading into the now non-empty second database fails, writing nothing.
"$TESSERA" dump "$META2" "$WORK/before.json" 2>/dev/null
expect_rc1 "load into a non-empty engine" "already holds data.*empty engine" \
  "$TESSERA" load "$META2" "$WORK/dump.json"
"$TESSERA" dump "$META2" - 2>/dev/null | cmp - "$WORK/before.json" || fail "failed load changed meta2"

# A truncated dump and garbage fail with one line; nothing becomes a volume.
size=$(stat -c %s "$WORK/dump.json")
head -c $((size / 2)) "$WORK/dump.json" >"$WORK/half.json"
expect_rc1 "truncated dump" "ends early.*truncated.*partial load" \
  "$TESSERA" load "sqlite3://$WORK/meta3.db" "$WORK/half.json"
expect_rc1 "partial load is not a volume" "not formatted" "$TESSERA" status "sqlite3://$WORK/meta3.db"
echo "not json" >"$WORK/garbage"
expect_rc1 "garbage" "not a tessera dump.*nothing was written" \
  "$TESSERA" load "sqlite3://$WORK/meta4.db" "$WORK/garbage"
expect_rc1 "truncated header" "ends early.*nothing was written" \
  sh -c "head -c 100 '$WORK/dump.json' | '$TESSERA' load 'sqlite3://$WORK/meta5.db'"
sed 's/"tessera_dump": 1/"tessera_dump": 7/' "$WORK/dump.json" >"$WORK/v7.json"
expect_rc1 "unknown version" "version 7" "$TESSERA" load "sqlite3://$WORK/meta6.db" "$WORK/v7.json"
expect_rc1 "dump of an engine without a volume" "not formatted" \
  "$TESSERA" dump "sqlite3://$WORK/meta4.db" "$WORK/none.json"
[ ! -e "$WORK/none.json" ] || fail "a failed dump left a file"

# Bounded memory: 100,000 files (written as a dump, loaded, dumped again).
gen_dump() {  # gen_dump DIRS FILES_PER_DIR
  awk -v dirs="$1" -v per="$2" -v bucket="$BUCKET" 'BEGIN {
    t = "[1700000000,0]"
    a = "\"uid\":0,\"gid\":0,\"atime\":" t ",\"mtime\":" t ",\"ctime\":" t
    print "{\"tessera_dump\": 1,"
    print "\"setting\": {\"block_size\":4194304,\"bucket\":\"" bucket "\",\"checksum\":\"xxh3\"," \
          "\"compression\":\"none\",\"format_version\":1,\"name\":\"many\",\"storage\":\"file\"," \
          "\"uuid\":\"00000000-0000-0000-0000-000000000042\"},"
    print "\"inodes\": ["
    printf "{\"ino\": 1, \"attr\": {\"type\":\"dir\",\"mode\":\"0777\",%s,\"nlink\":%d," \
           "\"length\":0,\"rdev\":0,\"parent\":1,\"flags\":0},\n \"entries\": [", a, dirs + 2
    for (d = 0; d < dirs; d++) printf "%s\n  [\"d%d\", %d, \"dir\"]", (d ? "," : ""), d, d + 2
    print "]},"
    ino = dirs + 2; slice = 1
    for (d = 0; d < dirs; d++) {
      printf "{\"ino\": %d, \"attr\": {\"type\":\"dir\",\"mode\":\"0755\",%s,\"nlink\":2," \
             "\"length\":0,\"rdev\":0,\"parent\":1,\"flags\":0},\n \"entries\": [", d + 2, a
      for (f = 0; f < per; f++) printf "%s\n  [\"file-%06d\", %d, \"file\"]", (f ? "," : ""), f, ino + f
      print "]},"
      for (f = 0; f < per; f++) {
        printf "{\"ino\": %d, \"attr\": {\"type\":\"file\",\"mode\":\"0644\",%s,\"nlink\":1," \
               "\"length\":1000,\"rdev\":0,\"parent\":%d,\"flags\":0},\n \"chunks\": {\n" \
               "  \"0\": [[0,%d,1000,0,1000]]}}%s\n", ino + f, a, d + 2, slice++,
               (d == dirs - 1 && f == per - 1) ? "" : ","
      }
      ino += per
    }
    print "],\n\"deleted\": [],\n\"slice_refs\": [],"
    n = dirs + dirs * per
    printf "\"counters\": {\"nextInode\": %d, \"nextSlice\": %d, \"totalInodes\": %d, " \
           "\"usedSpace\": %d}\n}\n", ino, slice, n, n * 4096
  }'
}
peak_kib() { grep 'Maximum resident set size' "$1" | tr -dc '0-9'; }
gen_dump 100 1000 >"$WORK/many.json"
BIG="sqlite3://$WORK/many.db"
/usr/bin/time -v "$TESSERA" load "$BIG" "$WORK/many.json" 2>"$WORK/load.time" ||
  fail "load of 100,000 files: $(cat "$WORK/load.time")"
grep -q '^loaded 100101 inodes, 100100 entries, 100000 slices' "$WORK/load.time" ||
  fail "load of 100,000 files: $(head -1 "$WORK/load.time")"
/usr/bin/time -v "$TESSERA" dump "$BIG" "$WORK/many2.json" 2>"$WORK/dump.time" ||
  fail "dump of 100,000 files: $(cat "$WORK/dump.time")"
grep -q '^dumped 100101 inodes, 100100 entries, 100000 slices' "$WORK/dump.time" ||
  fail "dump of 100,000 files: $(head -1 "$WORK/dump.time")"
load_kib=$(peak_kib "$WORK/load.time")
dump_kib=$(peak_kib "$WORK/dump.time")
echo "100,000 files: load peak RSS ${load_kib} KiB, dump peak RSS ${dump_kib} KiB"
[ "$load_kib" -lt $((100 << 10)) ] || fail "load of 100,000 files peaked at $load_kib KiB"
[ "$dump_kib" -lt $((100 << 10)) ] || fail "dump of 100,000 files peaked at $dump_kib KiB"
[ "$(jq '.inodes | length' "$WORK/many2.json")" == 100101 ] || fail "dump of 100,000 files"
pass
