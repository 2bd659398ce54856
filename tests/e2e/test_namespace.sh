#!/usr/bin/env bash
# The namespace through a mount: trees, renames, links, unlink-while-open,
# a large directory, attributes, statfs.
source "$(dirname "$0")/lib.sh"
format_volume --trash-days 0  # unlinked files free at once (test_trash.sh: the trash)
mount_volume
cd "$MNT"

# Deep tree.
deep=$(printf 'd%02d/' $(seq 1 40))
mkdir -p "$deep"
echo bottom >"${deep}leaf"
expect_eq "deep leaf" "$(cat "${deep}leaf")" bottom

# Renames across directories and over existing entries.
mkdir -p a b
echo one >a/x
echo two >b/y
mv a/x b/y
expect_eq "rename over existing file" "$(cat b/y)" one
[ ! -e a/x ] || fail "source of rename still exists"
mkdir -p a/sub/inner && echo in >a/sub/inner/f
mv a/sub b/
expect_eq "directory moved across parents" "$(cat b/sub/inner/f)" in
expect_eq "nlink of a after its subdir left" "$(stat -c %h a)" 2
expect_eq "nlink of b with one subdir" "$(stat -c %h b)" 3
mkdir -p c/empty && mkdir d
mv -T d c/empty   # a directory over an empty directory
[ -d c/empty ] && [ ! -e d ] || fail "rename of a dir over an empty dir"
if mv b b/sub/ 2>/dev/null; then fail "moved a directory into its own subtree"; fi

# Hard links.
echo linked >h1
ln h1 h2
ln h1 b/h3
expect_eq "nlink after two links" "$(stat -c %h h1)" 3
rm h2
expect_eq "nlink after unlink" "$(stat -c %h h1)" 2
expect_eq "content through link" "$(cat b/h3)" linked
[ "$(stat -c %i h1)" == "$(stat -c %i b/h3)" ] || fail "links have different inodes"

# Symlinks.
ln -s b/sub/inner/f sl
expect_eq "readlink" "$(readlink sl)" b/sub/inner/f
expect_eq "read through symlink" "$(cat sl)" in
ln -s /nonexistent dangling
[ -L dangling ] && [ ! -e dangling ] || fail "dangling symlink"

# Unlink while open: still readable, space freed after close.
head -c $((3 << 20)) /dev/urandom >"$WORK/big"
cp "$WORK/big" open_then_unlink
sync
before=$(count_objects)
exec 7<open_then_unlink
rm open_then_unlink
[ ! -e open_then_unlink ] || fail "unlinked name still visible"
check "unlinked-but-open file still readable" cmp "$WORK/big" /proc/self/fd/7
sleep 1.5
expect_eq "blocks kept while open" "$(count_objects)" "$before"
exec 7<&-
check "blocks freed after the last close" wait_until 20 bash -c "[ \$(find '$BUCKET' -type f -path '*/chunks/*' | wc -l) -lt $before ]"

# A directory of 10,000 entries is listed exactly once each.
mkdir big && (cd big && seq 1 10000 | xargs touch)
expect_eq "entries listed" "$(ls -f big | grep -v '^\.\.\?$' | wc -l)" 10000
expect_eq "no entry twice" "$(ls -f big | sort | uniq -d | wc -l)" 0
expect_eq "find counts them" "$(find big -type f | wc -l)" 10000
rm -rf big
[ ! -e big ] || fail "rm -rf of a big directory"

# chmod / chown / utimensat.
touch attrs
chmod 640 attrs
expect_eq "chmod" "$(stat -c %a attrs)" 640
chown 1234:5678 attrs
expect_eq "chown" "$(stat -c %u:%g attrs)" 1234:5678
touch -m -d '2001-02-03 04:05:06.123456789 UTC' attrs
expect_eq "mtime with nanoseconds" "$(TZ=UTC stat -c %y attrs)" "2001-02-03 04:05:06.123456789 +0000"
touch -a -d '2002-01-01 00:00:00 UTC' attrs
expect_eq "atime" "$(TZ=UTC stat -c %x attrs)" "2002-01-01 00:00:00.000000000 +0000"

# Extended attributes.
setfattr -n user.color -v blue attrs
expect_eq "xattr" "$(getfattr --only-values -n user.color attrs)" blue
setfattr -x user.color attrs
if getfattr -n user.color attrs 2>/dev/null; then fail "removed xattr still there"; fi

# statfs reports the used space.
df_used=$(df -B1 --output=used "$MNT" | tail -1 | tr -d ' ')
[ "$df_used" -gt 0 ] || fail "statfs used space is $df_used"
df_files=$(df --output=iused "$MNT" | tail -1 | tr -d ' ')
[ "$df_files" -gt 10 ] || fail "statfs used inodes is $df_files"

# rename(2) flags via mv --exchange is not in coreutils 9.1; RENAME_NOREPLACE via mv -n:
echo keep >n1 && echo other >n2
mv -n n2 n1 || true
expect_eq "mv -n kept the target" "$(cat n1)" keep

cd /
remount_volume
expect_eq "tree survives remount" "$(cat "$MNT/${deep}leaf")" bottom
expect_eq "links survive remount" "$(stat -c %h "$MNT/h1")" 2
expect_eq "mtime survives remount" "$(TZ=UTC stat -c %y "$MNT/attrs")" "2001-02-03 04:05:06.123456789 +0000"
pass
