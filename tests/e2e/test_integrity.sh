#!/usr/bin/env bash
# Data integrity through a mount: edge sizes, a random operation sequence
# checked against a local reference file, then all of it again after a remount.
source "$(dirname "$0")/lib.sh"
format_volume --block-size 1024
mount_volume

REF="$WORK/ref"
mkdir -p "$REF"
MiB=$((1 << 20))
sizes=(0 1 4095 4096 $((MiB - 1)) $MiB $((MiB + 1)) $((64 * MiB - 1)) $((64 * MiB)) $((64 * MiB + 1)) $((200 * MiB)))
head -c $((200 * MiB + 1)) /dev/urandom >"$WORK/random"
for s in "${sizes[@]}"; do
  head -c "$s" "$WORK/random" >"$REF/f$s"
  cp "$REF/f$s" "$MNT/f$s"
  check "file of $s bytes reads back" cmp "$REF/f$s" "$MNT/f$s"
  expect_eq "size of f$s" "$(stat -c %s "$MNT/f$s")" "$s"
done

# Overwrite the middle of a multi-block file in place, and append to another.
dd if=/dev/zero of="$MNT/f$((MiB + 1))" bs=1000 seek=1000 count=3 conv=notrunc status=none
dd if=/dev/zero of="$REF/f$((MiB + 1))" bs=1000 seek=1000 count=3 conv=notrunc status=none
head -c 12345 "$WORK/random" >>"$MNT/f4096"
head -c 12345 "$WORK/random" >>"$REF/f4096"

check "random ops (seed 7)" "$FSX" "$MNT/fsx7" "$REF/fsx7" --seed 7 --ops 2500 --max-size $((6 * MiB))
check "random ops across chunks (seed 11)" "$FSX" "$MNT/fsx11" "$REF/fsx11" --seed 11 --ops 600 --max-size $((140 * MiB))

remount_volume
for f in "$REF"/*; do
  check "$(basename "$f") intact after remount" cmp "$f" "$MNT/$(basename "$f")"
done
check "sparse hole reads as zeros" bash -c "truncate -s 10M '$MNT/sparse' && cmp -n 10485760 '$MNT/sparse' /dev/zero"
pass
