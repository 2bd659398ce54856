#!/usr/bin/env bash
# Sets up tessera and mounts the default volume:
#   installs the Debian packages it needs, builds, formats a volume with SQLite
#   metadata and blocks in a local directory under ~/.tessera/default (unless it
#   exists), and mounts it at ~/tessera (or the path given) in the background.
# Usage: scripts/run.sh [MOUNTPOINT]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh normal
BIN=$PWD/build/tessera
HOME_DIR=${TESSERA_HOME:-$HOME/.tessera/default}
META="sqlite3://$HOME_DIR/meta.db"
MNT=${1:-$HOME/tessera}
mkdir -p "$HOME_DIR" "$MNT"
if ! "$BIN" status "$META" >/dev/null 2>&1; then
  "$BIN" format "$META" default --storage file --bucket "$HOME_DIR/blocks"
fi
"$BIN" mount "$META" "$MNT" --background --log "$HOME_DIR/mount.log"
echo "volume 'default' is mounted at $MNT"
echo "  status:  $BIN status $META"
echo "  unmount: $BIN umount $MNT"
