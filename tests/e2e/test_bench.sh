#!/usr/bin/env bash
# tessera bench on a mount and on a plain local directory: every phase reports
# positive figures in its JSON, and the bench directory is gone afterwards.
source "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || fail "jq is missing (apt-get install jq)"
format_volume
mount_volume

# check_bench DIR JSON_FILE: every phase moved data or files, at a positive rate.
check_bench() {
  local dir=$1 out=$2 phase
  for phase in write_big read_big write_small read_small stat; do
    jq -e ".phases.$phase.ops > 0 and .phases.$phase.seconds > 0 and
           .phases.$phase.latency_ms > 0 and .phases.$phase.errors == 0" "$out" >/dev/null ||
      fail "$dir: phase $phase: $(jq -c ".phases.$phase" "$out")"
  done
  for phase in write_big read_big write_small read_small; do
    jq -e ".phases.$phase.mib_per_s > 0" "$out" >/dev/null || fail "$dir: $phase: no MiB/s"
  done
  for phase in write_small read_small stat; do
    jq -e ".phases.$phase.files_per_s > 0" "$out" >/dev/null || fail "$dir: $phase: no files/s"
  done
  # 2 workers x 64 MiB in 1 MiB writes; 2 x 20 small files.
  expect_eq "$dir: big writes" "$(jq .phases.write_big.ops "$out")" 128
  expect_eq "$dir: big bytes read" "$(jq .phases.read_big.bytes "$out")" $((128 << 20))
  expect_eq "$dir: small files read" "$(jq .phases.read_small.ops "$out")" 40
  [ -z "$(ls -A "$dir")" ] || fail "$dir: left behind: $(ls -A "$dir")"
}

"$TESSERA" bench "$MNT" --big-file-size 64 --small-file-count 20 -p 2 --json >"$WORK/mount.json" ||
  fail "bench on the mount failed: $(cat "$WORK/mount.json")"
check_bench "$MNT" "$WORK/mount.json"
expect_eq "the mount is a tessera mount" "$(jq .tessera_mount "$WORK/mount.json")" true
# The mount's counters say where the time went: FUSE, metadata, PUTs, GETs.
expect_eq "the mount exports its counters" "$(jq .mount_stats "$WORK/mount.json")" true
jq -e '.phases.write_big.mount | .fuse_ops > 0 and .fuse_ms > 0 and .meta_txns > 0 and
       .put_ops >= 32 and .put_bytes >= 134217728 and .cpu_seconds >= 0 and .rss_bytes > 0' \
  "$WORK/mount.json" >/dev/null ||
  fail "write big, mount figures: $(jq -c .phases.write_big.mount "$WORK/mount.json")"
# Reads come from the object store or, for blocks this mount wrote, its disk cache.
jq -e '.phases.read_small.mount | .fuse_ops > 0 and
       ((.get_ops // 0) > 0 and .get_ms > 0 or .disk_cache_hit_ratio > 0)' \
  "$WORK/mount.json" >/dev/null ||
  fail "read small, mount figures: $(jq -c .phases.read_small.mount "$WORK/mount.json")"

mkdir -p "$WORK/local"
"$TESSERA" bench "$WORK/local" --big-file-size 64 --small-file-count 20 -p 2 --json \
  >"$WORK/local.json" || fail "bench on a local directory failed"
check_bench "$WORK/local" "$WORK/local.json"
expect_eq "a local directory is no tessera mount" "$(jq .tessera_mount "$WORK/local.json")" false
jq -e '.phases.stat | has("mount") | not' "$WORK/local.json" >/dev/null ||
  fail "a local directory has mount figures"

# The text report: one line per phase.
out=$("$TESSERA" bench "$WORK/local" --big-file-size 4 --small-file-count 5)
for phase in "write big" "read big" "write small" "read small" "stat"; do
  echo "$out" | grep -q "^$phase " || fail "no '$phase' line in: $out"
done
pass
