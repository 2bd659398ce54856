#!/usr/bin/env bash
# Core figures of a SQLite + file-store volume against the local disk it sits on:
#   1 GiB sequential write (dd, fsync at the end) and read (page cache dropped),
#   create+stat+unlink of 10,000 empty files.
# Usage: bench/core.sh [WORKDIR] [SIZE_MIB] [FILES]   (needs root to drop caches)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TESSERA=${TESSERA:-$ROOT/build/tessera}
METAOPS=${METAOPS:-$ROOT/build/tests/metaops}
WORK=${1:-/tmp/tessera-bench}
SIZE=${2:-1024}
FILES=${3:-10000}
rm -rf "$WORK" && mkdir -p "$WORK/local" "$WORK/mnt"
trap '"$TESSERA" umount "$WORK/mnt" 2>/dev/null || true' EXIT
"$TESSERA" format "sqlite3://$WORK/meta.db" bench --storage file --bucket "$WORK/blocks" >/dev/null
"$TESSERA" mount "sqlite3://$WORK/meta.db" "$WORK/mnt" --background --log "$WORK/mount.log" >/dev/null

drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
# mbps DIR: writes then reads SIZE MiB, prints the two rates in MiB/s.
mbps() {
  local dir=$1 t0 t1 t2
  drop
  t0=$(date +%s.%N)
  dd if=/dev/zero of="$dir/big" bs=1M count="$SIZE" conv=fsync status=none
  t1=$(date +%s.%N)
  drop
  dd if="$dir/big" of=/dev/null bs=1M status=none
  t2=$(date +%s.%N)
  rm -f "$dir/big"
  echo "$(echo "$SIZE / ($t1 - $t0)" | bc -l) $(echo "$SIZE / ($t2 - $t1)" | bc -l)"
}
read -r lw lr < <(mbps "$WORK/local")
read -r tw tr < <(mbps "$WORK/mnt")
printf '%-28s %10s %10s %8s\n' "" local tessera ratio
printf '%-28s %10.0f %10.0f %8.2f\n' "write ${SIZE} MiB (MiB/s)" "$lw" "$tw" "$(echo "$tw / $lw" | bc -l)"
printf '%-28s %10.0f %10.0f %8.2f\n' "read ${SIZE} MiB (MiB/s)" "$lr" "$tr" "$(echo "$tr / $lr" | bc -l)"
lm=$("$METAOPS" "$WORK/local" "$FILES" | awk '/^total/ {print $(NF-2)}')
tm=$("$METAOPS" "$WORK/mnt" "$FILES" | awk '/^total/ {print $(NF-2)}')
printf '%-28s %10.0f %10.0f %8.3f\n' "create+stat+unlink (files/s)" "$lm" "$tm" "$(echo "$tm / $lm" | bc -l)"
