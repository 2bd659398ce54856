#!/usr/bin/env bash
# Two mounts of one volume whose metadata is in etcd (see shared.sh).
source "$(dirname "$0")/lib.sh"
use_server_meta TESSERA_TEST_ETCD_URL "/e2e_shared"
source "$(dirname "$0")/shared.sh"
pass
