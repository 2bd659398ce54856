#!/usr/bin/env bash
# Installs what the tests need, builds tessera twice (normal, and with
# ASan+UBSan), runs every unit test under both builds and every end-to-end
# test (real FUSE mounts, needs root and /dev/fuse) with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh normal
scripts/build.sh asan
echo "== unit tests (ASan+UBSan)"
(cd build-asan && ctest -L unit --output-on-failure -j2)
echo "== unit and end-to-end tests"
(cd build && ctest --output-on-failure)
