#!/usr/bin/env bash
# tessera side by side with s3fs, rclone, the raw S3 server and the local
# disk, on one machine and one local S3 server (s3rver).
#
# Starts s3rver, measures its raw PUT/GET rates (`tessera objbench`, 1 and 4
# workers), mounts tessera, s3fs and `rclone mount --vfs-cache-mode full` on
# buckets of it, and runs the same workload on each mount and on a directory
# of the local disk, in turn, REPEAT times; then prints a Markdown table of
# the medians and of tessera's ratios to each of the others.
#
# The workload (sizes in the knobs below):
#   big file    `tessera bench`, one worker writing (and fsyncing) BIG_MIB, then
#               four workers writing BIG_MIB/4 each; read back
#   small files `tessera bench`, SMALL_FILES x 128 KiB written and read by one worker
#   fio         sequential 1 MiB write and read of FIO_MIB; random 4 KiB write
#               and read (libaio, iodepth 16, O_DIRECT) in that file for FIO_SECONDS
#   namespace   create, stat, rename and unlink of META_FILES empty files
#               (tests/tools/metaops)
# Before every read the client is remounted with its own caches emptied (rclone's
# VFS cache directory removed) and the page cache is dropped: reads come from
# the server. A write counts as done only once its data is in the bucket:
# rclone uploads after close, so its write time runs until `rclone size` shows
# the bucket holding every byte; for tessera with write-back set
# TESSERA_WAIT_CMD to a command that returns when the mount's uploads are done.
#
# Usage: bench/compare.sh [WORKDIR]   (default /tmp/tessera-compare; removed first)
# Knobs (environment), defaults are issue 5's sizes:
#   BIG_MIB=1024  SMALL_FILES=1000  FIO_MIB=1024  FIO_SECONDS=30  META_FILES=2000
#   REPEAT=3      TARGETS="tessera s3fs rclone local"   PORT=24569 (s3rver)
#   TESSERA_MOUNT_OPTS=""  (flags for `tessera mount`)   TESSERA_WAIT_CMD=""
# Needs root (FUSE, drop_caches), s3fs, rclone, fio, jq, bc, and a built
# tessera and tests/tools/metaops (cmake --build build --target tessera metaops).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/tessera-compare}
export WORK
source "$ROOT/bench/lib.sh"
METAOPS=${METAOPS:-$ROOT/build/tests/metaops}
BIG_MIB=${BIG_MIB:-1024}
SMALL_FILES=${SMALL_FILES:-1000}
FIO_MIB=${FIO_MIB:-1024}
FIO_SECONDS=${FIO_SECONDS:-30}
META_FILES=${META_FILES:-2000}
REPEAT=${REPEAT:-3}
TARGETS=${TARGETS:-tessera s3fs rclone local}
PORT=${PORT:-24569}
TESSERA_WAIT_CMD=${TESSERA_WAIT_CMD:-}
export TESSERA TESSERA_MOUNT_OPTS

require_tools jq bc fio s3fs rclone findmnt getfattr
[ "$(id -u)" = 0 ] || bench_die "needs root (FUSE mounts, drop_caches)"
[ -x "$TESSERA" ] || bench_die "no $TESSERA: build it first"
[ -x "$METAOPS" ] || bench_die "no $METAOPS: cmake --build build --target metaops"
rm -rf "$WORK" && mkdir -p "$WORK/results"
trap bench_cleanup EXIT
start_s3 "$PORT"

# record TARGET METRIC VALUE: one repetition's figure.
record() { echo "$3" >>"$WORK/results/$1.$2"; }
result() { [ -f "$WORK/results/$1.$2" ] && median <"$WORK/results/$1.$2" || echo -; }

# --- the raw server
objbench() {  # objbench THREADS: records raw.{put,get}_{big,small}_p<THREADS>
  local out
  out=$("$TESSERA" objbench --storage s3 --bucket "$S3_ENDPOINT/objbench" -p "$1" \
    --big-object-size "$BIG_MIB" --small-objects "$SMALL_FILES")
  # operation count ops/s MiB/s latency: big objects by MiB/s, small ones by ops/s
  record raw "write_big_p$1" "$(echo "$out" | awk '/^put big/ {print $5}')"
  record raw "read_big_p$1" "$(echo "$out" | awk '/^get big/ {print $5}')"
  record raw "write_small_p$1" "$(echo "$out" | awk '/^put small/ {print $4}')"
  record raw "read_small_p$1" "$(echo "$out" | awk '/^get small/ {print $4}')"
}

# --- the mounts; the bucket of target T is bench-T
dir_of() { if [ "$1" = local ]; then echo "$WORK/local"; else echo "$WORK/mnt-$1"; fi; }
setup() {
  local t=$1 d
  d=$(dir_of "$t")
  mkdir -p "$d"
  case $t in
    tessera) mount_tessera "bench-$t" "$d" ;;
    s3fs) make_bucket "bench-$t" && mount_s3fs "bench-$t" "$d" ;;
    rclone) make_bucket "bench-$t" && mount_rclone "bench-$t" "$d" ;;
    local) ;;
    *) bench_die "unknown target $t (tessera, s3fs, rclone, local)" ;;
  esac
}
# The shell commands `tessera bench` runs around its phases, and compare.sh
# runs around fio's: remount cold before reads; wait for the bucket after writes.
lib_cmd() { echo "bash -c 'source $ROOT/bench/lib.sh && $*'"; }
before_read_cmd() { lib_cmd remount "$1" "bench-$1" "$(dir_of "$1")"; }
after_write_cmd() {  # DIR is the directory whose files must be in the bucket
  case $1 in
    rclone) lib_cmd rclone_wait_uploaded "bench-$1" "$2" ;;
    tessera) echo "${TESSERA_WAIT_CMD:-true}" ;;
    *) echo true ;;
  esac
}
hook() { bash -c "$1"; }

# --- one repetition of the workload on target T
bench_run() {  # bench_run T LABEL -p N --big-file-size M --small-file-count K
  local t=$1 label=$2 d out
  shift 2
  d=$(dir_of "$t")
  out=$("$TESSERA" bench "$d" --json "$@" --before-read "$(before_read_cmd "$t")" \
    --after-write "$(after_write_cmd "$t" "\$TESSERA_BENCH_DIR")")
  echo "$out" >>"$WORK/$t.bench.json"
  jq -e '[.phases[] | .errors] | add == 0' <<<"$out" >/dev/null ||
    bench_die "$t: tessera bench reported errors: $(jq -c '.phases' <<<"$out")"
  local phase
  for phase in $(jq -r '.phases | keys[]' <<<"$out"); do
    case $phase in
      *_big) record "$t" "${phase}_$label" "$(jq ".phases.$phase.mib_per_s" <<<"$out")" ;;
      *_small) record "$t" "${phase}_$label" "$(jq ".phases.$phase.files_per_s" <<<"$out")" ;;
    esac
  done
}

fio_run() {  # fio_run T NAME RW BS [extra fio flags]: prints MiB/s (sequential) or IOPS
  local t=$1 name=$2 rw=$3 bs=$4 d out t0 t1 wait_s=0
  shift 4
  d=$(dir_of "$t")/fio
  mkdir -p "$d"
  out=$(fio --name="$name" --directory="$d" --filename=data --rw="$rw" --bs="$bs" \
    --size="${FIO_MIB}M" --output-format=json "$@")
  echo "$out" >>"$WORK/$t.fio.json"
  if [[ $rw == *write ]]; then
    t0=$(now)
    hook "$(after_write_cmd "$t" "$d")"
    t1=$(now)
    wait_s=$(echo "$t1 - $t0" | bc -l)
  fi
  # Over fio's own run time plus the wait for the bucket after a write.
  local kind=${rw#rand} bytes ios ms
  bytes=$(jq ".jobs[0].$kind.io_bytes" <<<"$out")
  ios=$(jq ".jobs[0].$kind.total_ios" <<<"$out")
  ms=$(jq ".jobs[0].$kind.runtime" <<<"$out")
  if [[ $rw == rand* ]]; then
    echo "$ios / ($ms / 1000 + $wait_s)" | bc -l
  else
    echo "$bytes / 1048576 / ($ms / 1000 + $wait_s)" | bc -l
  fi
}

compaction_idle() {  # compaction_idle MOUNTPOINT: waits (up to 10 min) for no chunk left to compact
  local pending
  for _ in $(seq 600); do
    pending=$(getfattr -n tessera.stats --only-values "$1" 2>/dev/null |
      awk '$1 == "tessera_compact_pending" {print $2}')
    [ "${pending:-0}" = 0 ] && return 0
    sleep 1
  done
  bench_log "tessera: compaction still busy after 10 min; reading anyway"
}

workload() {  # workload T
  local t=$1 d
  d=$(dir_of "$t")
  bench_log "$t: tessera bench, 1 worker, $BIG_MIB MiB and $SMALL_FILES x 128 KiB"
  bench_run "$t" p1 -p 1 --big-file-size "$BIG_MIB" --small-file-count "$SMALL_FILES"
  bench_log "$t: tessera bench, 4 workers, $((BIG_MIB / 4)) MiB each"
  bench_run "$t" p4 -p 4 --big-file-size $((BIG_MIB / 4)) --small-file-count 0

  bench_log "$t: fio, $FIO_MIB MiB sequential, then 4 KiB random for ${FIO_SECONDS}s"
  local seq=(--ioengine=psync --end_fsync=1)
  local rnd=(--ioengine=libaio --iodepth=16 --direct=1 --runtime="$FIO_SECONDS" --time_based
    --end_fsync=1)
  record "$t" fio_seq_write "$(fio_run "$t" seqw write 1M "${seq[@]}")"
  hook "$(before_read_cmd "$t")" && drop_caches
  record "$t" fio_seq_read "$(fio_run "$t" seqr read 1M "${seq[@]}")"
  record "$t" fio_rand_write "$(fio_run "$t" randw randwrite 4k "${rnd[@]}")"
  # Random writes leave chunks of thousands of slices that tessera compacts
  # in the background: read once it has caught up (not timed), as a reader
  # would some time after the writes, not whatever state a remount caught.
  [ "$t" != tessera ] || compaction_idle "$(dir_of "$t")"
  hook "$(before_read_cmd "$t")" && drop_caches
  record "$t" fio_rand_read "$(fio_run "$t" randr randread 4k "${rnd[@]}")"
  rm -rf "$d/fio"

  bench_log "$t: create/stat/rename/unlink of $META_FILES files"
  mkdir -p "$d/meta"
  local out op
  out=$("$METAOPS" "$d/meta" "$META_FILES" --rename)
  for op in create stat rename unlink; do
    record "$t" "meta_$op" "$(echo "$out" | awk -v op="$op" '$1 == op {print $(NF-1)}')"
  done
  rmdir "$d/meta"
}

for t in $TARGETS; do setup "$t"; done
for r in $(seq "$REPEAT"); do
  bench_log "== repetition $r of $REPEAT"
  for p in 1 4; do objbench "$p"; done
  # A client that fails a run (rclone has failed an upload under load:
  # "corrupted on transfer") loses that repetition's figures, not the others'.
  for t in $TARGETS; do
    # (in the background and waited for, so that set -e still holds inside)
    (workload "$t") &
    wait $! || bench_log "$t: repetition $r failed; its figures are left out"
  done
done

# --- the table: medians, and tessera's ratio to each other column
rows=(
  "write_big_p1|write ${BIG_MIB} MiB, 1 worker (MiB/s)|write_big_p1"
  "read_big_p1|read ${BIG_MIB} MiB, 1 worker (MiB/s)|read_big_p1"
  "write_big_p4|write ${BIG_MIB} MiB, 4 workers (MiB/s)|write_big_p4"
  "read_big_p4|read ${BIG_MIB} MiB, 4 workers (MiB/s)|read_big_p4"
  "write_small_p1|write ${SMALL_FILES} x 128 KiB (files/s)|write_small_p1"
  "read_small_p1|read ${SMALL_FILES} x 128 KiB (files/s)|read_small_p1"
  "fio_seq_write|fio seq write 1 MiB (MiB/s)|"
  "fio_seq_read|fio seq read 1 MiB (MiB/s)|"
  "fio_rand_write|fio rand write 4 KiB, qd16 (IOPS)|"
  "fio_rand_read|fio rand read 4 KiB, qd16 (IOPS)|"
  "meta_create|create (files/s)|"
  "meta_stat|stat (files/s)|"
  "meta_rename|rename (files/s)|"
  "meta_unlink|unlink (files/s)|"
)
others=()
for t in $TARGETS; do [ "$t" = tessera ] || others+=("$t"); done
others+=(raw)
fmt() { if [ "$1" = - ]; then echo -; else printf '%.1f' "$1"; fi; }
ratio() {
  if [ "$1" = - ] || [ "$2" = - ] || [ "$(echo "$2 == 0" | bc)" = 1 ]; then echo -;
  else printf '%.2f' "$(echo "$1 / $2" | bc -l)"; fi
}
echo
echo "Medians of $REPEAT run(s); s3rver at $S3_ENDPOINT; tessera mount options: '${TESSERA_MOUNT_OPTS}'"
echo "(raw = tessera objbench: 4 MiB objects for big files, 128 KiB objects for small ones)"
echo
header="| |"
sep="|---|"
for t in $TARGETS raw; do header+=" $t |"; sep+="---|"; done
for o in "${others[@]}"; do header+=" tessera / $o |"; sep+="---|"; done
echo "$header"
echo "$sep"
for row in "${rows[@]}"; do
  IFS='|' read -r metric label raw_metric <<<"$row"
  line="| $label |"
  for t in $TARGETS; do line+=" $(fmt "$(result "$t" "$metric")") |"; done
  rawv=-
  [ -n "$raw_metric" ] && rawv=$(result raw "$raw_metric")
  line+=" $(fmt "$rawv") |"
  tv=$(result tessera "$metric")
  for o in "${others[@]}"; do
    if [ "$o" = raw ]; then ov=$rawv; else ov=$(result "$o" "$metric"); fi
    line+=" $(ratio "$tv" "$ov") |"
  done
  echo "$line"
done
