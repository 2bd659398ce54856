#!/usr/bin/env bash
# Two mounts of one volume whose metadata is in Redis (see shared.sh).
source "$(dirname "$0")/lib.sh"
use_server_meta TESSERA_TEST_REDIS_URL /5
source "$(dirname "$0")/shared.sh"
pass
