#!/usr/bin/env bash
# redis restarts under a live mount (see restart.sh).
source "$(dirname "$0")/lib.sh"
ENGINE=redis
source "$(dirname "$0")/restart.sh"
pass
