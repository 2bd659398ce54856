#!/usr/bin/env bash
# 1,000 small overlapping writes to one chunk, each its own slice: `tessera
# compact` leaves one slice with the same bytes as a model file, and the old
# slices' blocks leave the bucket. Then a mount with background compaction
# keeps a file written the same way down to a few slices on its own.
source "$(dirname "$0")/lib.sh"
format_volume
mount_volume --compact-threshold 0

# Slice records of a file's chunks, as the mount counts them.
slices_of() { getfattr --absolute-names -n tessera.compact --only-values "$1" | grep -o '"slices":[0-9]*' | tr -dc '0-9'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# Milliseconds to read FILE from a fresh mount (no cached records or blocks).
cold_read_ms() {
  remount_volume "$@"
  local t0
  t0=$(now_ms)
  cat "$MNT/f" >/dev/null
  echo $(($(now_ms) - t0))
}

"$SCRIBBLE" "$MNT/f" "$WORK/model" 1000 $((1 << 20)) 7
expect_eq "slices before compaction" "$(slices_of "$MNT/f")" 1000
check "content before compaction equals the model" cmp "$MNT/f" "$WORK/model"
find "$BUCKET" -type f -path '*/chunks/*' | sort >"$WORK/old_objects"
expect_eq "one block per tiny slice" "$(wc -l <"$WORK/old_objects")" 1000
before_ms=$(cold_read_ms --compact-threshold 0)
expect_eq "still 1000 slices after a remount without background compaction" \
  "$(slices_of "$MNT/f")" 1000

out=$("$TESSERA" compact "$MNT")
echo "$out" | grep -q "^$MNT/f: 1000 -> 1 slices in 1 chunk" || fail "compact printed: $out"
echo "$out" | grep -q "compacted 1 of 1 file(s): 1 chunk(s), 1000 -> 1 slices" ||
  fail "compact summary: $out"
expect_eq "slices after compaction" "$(slices_of "$MNT/f")" 1
check "content after compaction equals the model" cmp "$MNT/f" "$WORK/model"

# The old blocks are gone; the new slice's are there and are all that is left.
old_left() { local n=0 k; while read -r k; do [ -e "$k" ] && n=$((n + 1)); done <"$WORK/old_objects"; echo $n; }
check "the old slices' blocks leave the bucket" wait_until 20 bash -c "[ \$(find '$BUCKET' -type f -path '*/chunks/*' | wc -l) -eq 1 ]"
expect_eq "old blocks still in the bucket" "$(old_left)" 0
key=$("$TESSERA" info "$MNT/f" | grep -o '"testvol/chunks/[^"]*"' | tr -d '"')
[ -f "$BUCKET/$key" ] || fail "the compacted slice's block $key is not in the bucket"

after_ms=$(cold_read_ms --compact-threshold 0)
check "content after a remount equals the model" cmp "$MNT/f" "$WORK/model"
echo "cold read of the 1 MiB chunk: ${before_ms} ms with 1000 slices, ${after_ms} ms after compaction"

# Again: nothing to do; a directory argument walks the tree.
mkdir "$MNT/d" && echo hi >"$MNT/d/small"
out=$("$TESSERA" compact -q "$MNT")
echo "$out" | grep -q "compacted 0 of 2 file(s)" || fail "second compact: $out"
expect_error "compact outside a mount" "not inside a tessera mount" "$TESSERA" compact "$WORK/model"

# Background compaction (the default threshold, 20 records per chunk).
remount_volume
"$SCRIBBLE" "$MNT/g" "$WORK/model_g" 300 $((1 << 20)) 8
check "background compaction keeps g short" wait_until 20 bash -c "[ \$(getfattr --absolute-names -n tessera.compact --only-values '$MNT/g' | grep -o '\"slices\":[0-9]*' | tr -dc 0-9) -le 21 ]"
check "g equals its model" cmp "$MNT/g" "$WORK/model_g"
remount_volume
check "g equals its model after a remount" cmp "$MNT/g" "$WORK/model_g"
pass
