#!/usr/bin/env bash
# Builds tessera. Usage: scripts/build.sh [normal|asan]   (default normal)
#   normal → build/        (RelWithDebInfo: the tessera binary is build/tessera)
#   asan   → build-asan/   (AddressSanitizer + UndefinedBehaviorSanitizer; unit tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-normal}
case "$kind" in
  normal) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DTESSERA_SANITIZE=ON) ;;
  *) echo "usage: $0 [normal|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
if [ "$kind" = asan ]; then
  # Only the unit tests run under the sanitizers: build just those.
  targets=$(cmake --build "$dir" --target help | awk '/_test$/ {print $2}')
  # shellcheck disable=SC2086
  cmake --build "$dir" -j"${JOBS:-2}" --target $targets
else
  cmake --build "$dir" -j"${JOBS:-2}"
fi
