# Shared set-up for end-to-end tests: a fresh SQLite + local-directory volume
# in a temporary directory, mounted through FUSE with the real binary.
# Source it from a test script; it unmounts and cleans up on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TESSERA=${TESSERA:-$ROOT/build/tessera}
FSX=${FSX:-$ROOT/build/tests/fsx}
METAOPS=${METAOPS:-$ROOT/build/tests/metaops}
LOCKRANGE=${LOCKRANGE:-$ROOT/build/tests/lockrange}
SCRIBBLE=${SCRIBBLE:-$ROOT/build/tests/scribble}
WORK=$(mktemp -d /tmp/tessera-e2e.XXXXXX)
chmod 755 "$WORK"  # other users reach the mount in allow_other tests
META="sqlite3://$WORK/meta.db"
BUCKET="$WORK/blocks"
MNT="$WORK/mnt"
VOLUME=testvol
mkdir -p "$MNT"

cleanup() {
  local rc=$?
  # Background jobs of the test first: they may hold files open in a mount.
  local j
  for j in $(jobs -p); do kill -9 "$j" 2>/dev/null || true; done
  # Every mount under $WORK (tests may mount more than one).
  local m
  for m in $(awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/mounts); do
    "$TESSERA" umount "$m" >/dev/null 2>&1 || umount -l "$m" 2>/dev/null || true
  done
  if [ $rc -ne 0 ] && [ -f "$WORK/mount.log" ]; then
    echo "--- last lines of the mount log:" >&2
    tail -n 30 "$WORK/mount.log" >&2
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# check DESCRIPTION COMMAND...: runs the command, fails the test naming DESCRIPTION.
check() {
  local what=$1
  shift
  "$@" || fail "$what"
}

# expect_error DESCRIPTION PATTERN COMMAND...: the command must fail with one
# line on stderr matching PATTERN.
expect_error() {
  local what=$1 pattern=$2
  shift 2
  local out rc=0
  out=$("$@" 2>&1 >/dev/null) || rc=$?
  [ $rc -ne 0 ] || fail "$what: exit status 0"
  [ "$(echo "$out" | wc -l)" -eq 1 ] || fail "$what: expected one line, got: $out"
  echo "$out" | grep -qiE "$pattern" || fail "$what: '$out' does not match '$pattern'"
}

# expect_eq DESCRIPTION GOT WANT
expect_eq() {
  [ "$2" == "$3" ] || fail "$1: got '$2', want '$3'"
}

format_volume() { "$TESSERA" format "$META" "$VOLUME" --storage file --bucket "$BUCKET" "$@" >/dev/null; }
# The block cache goes under $WORK unless the test names its own --cache-dir.
mount_volume() {
  local cache=(--cache-dir "$WORK/cache")
  case " $* " in *" --cache-dir "*) cache=() ;; esac
  "$TESSERA" mount "$META" "$MNT" --background --log "$WORK/mount.log" "${cache[@]}" "$@" >/dev/null
}
umount_volume() { "$TESSERA" umount "$MNT"; }
remount_volume() {
  umount_volume
  mount_volume "$@"
}
# Number of block objects in the bucket.
count_objects() { find "$BUCKET" -type f -path "*/chunks/*" | wc -l; }
# A field of the usage section of `tessera status`.
usage_of() { "$TESSERA" status "$META" | grep "\"$1\"" | head -1 | tr -dc '0-9'; }

# The PID of the tessera process serving MOUNTPOINT (matched literally: URLs hold '?').
mount_pid() { ps -eo pid=,args= | grep -F -- " $1 " | grep -F "tessera mount" | awk '{print $1}' | head -1; }

# Polls COMMAND until it succeeds or SECONDS pass.
wait_until() {
  local seconds=$1
  shift
  for _ in $(seq $((seconds * 10))); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  return 1
}

pass() { echo "PASS: $(basename "$0")"; }

# use_server_meta VAR SUFFIX: the volume's metadata goes to the server engine
# named by environment variable VAR (set by scripts/test.sh) plus SUFFIX (a
# database or prefix of this test's own), emptied first. Without the server
# the test is skipped (exit 77), or fails under TESSERA_TEST_REQUIRE_SERVERS=1.
use_server_meta() {
  local base=${!1:-}
  if [ -z "$base" ]; then
    [ "${TESSERA_TEST_REQUIRE_SERVERS:-}" = 1 ] && fail "$1 is not set"
    echo "SKIP: $1 is not set"
    exit 77
  fi
  META="$base$2"
  format_volume() {
    "$TESSERA" format "$META" "$VOLUME" --storage file --bucket "$BUCKET" --force "$@" >/dev/null
  }
}
