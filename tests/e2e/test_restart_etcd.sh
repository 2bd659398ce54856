#!/usr/bin/env bash
# etcd restarts under a live mount (see restart.sh).
source "$(dirname "$0")/lib.sh"
ENGINE=etcd
source "$(dirname "$0")/restart.sh"
pass
