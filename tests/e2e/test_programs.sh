#!/usr/bin/env bash
# Ordinary programs on the mount: tar, git, a C compiler, cp -a + diff -r.
source "$(dirname "$0")/lib.sh"
format_volume
mount_volume

# A source tree to copy around: a snapshot of this repository's sources.
SRC="$WORK/src"
cp -a "$ROOT/src" "$SRC"

# cp -a in, diff -r against the source.
cp -a "$SRC" "$MNT/src"
check "cp -a tree matches" diff -r "$SRC" "$MNT/src"

# tar create on the mount and extract elsewhere on the mount.
tar -C "$MNT" -cf "$MNT/src.tar" src
mkdir "$MNT/untar"
tar -C "$MNT/untar" -xf "$MNT/src.tar"
check "tar round trip" diff -r "$SRC" "$MNT/untar/src"
tar -C "$ROOT" -czf "$WORK/src.tgz" src
mkdir "$MNT/untgz" && tar -C "$MNT/untgz" -xzf "$WORK/src.tgz"
check "extracting a gzip tar" diff -r "$SRC" "$MNT/untgz/src"

# git init/add/commit/log, then a clone.
cd "$MNT/src"
git init -q .
git -c user.email=t@example.com -c user.name=t add -A
git -c user.email=t@example.com -c user.name=t commit -qm "first"
echo "// change" >>common/status.h
git -c user.email=t@example.com -c user.name=t commit -qam "second"
expect_eq "git log" "$(git log --format=%s | tr '\n' ' ')" "second first "
check "git fsck" git fsck --no-progress --no-dangling
git clone -q "$MNT/src" "$MNT/clone"
check "clone has the file" diff "$MNT/src/common/status.h" "$MNT/clone/common/status.h"
cd /

# Compile and run a C program.
mkdir "$MNT/c"
cat >"$MNT/c/hello.c" <<'C'
#include <stdio.h>
int main(void) { printf("hello from tessera %d\n", 6 * 7); return 0; }
C
check "cc builds" cc -O1 -o "$MNT/c/hello" "$MNT/c/hello.c"
expect_eq "program output" "$("$MNT/c/hello")" "hello from tessera 42"

umount_volume
mount_volume
check "tree intact after remount" diff -r "$SRC" "$MNT/untar/src"
expect_eq "git log after remount" "$(git -C "$MNT/clone" log --format=%s | head -1)" second
pass
