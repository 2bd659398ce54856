#!/usr/bin/env bash
# postgres restarts under a live mount (see restart.sh).
source "$(dirname "$0")/lib.sh"
ENGINE=postgres
source "$(dirname "$0")/restart.sh"
pass
