#!/usr/bin/env bash
# Two mounts of one SQLite volume (see shared.sh).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/shared.sh"
pass
