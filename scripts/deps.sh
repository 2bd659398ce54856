#!/usr/bin/env bash
# Installs the Debian packages tessera needs to build, run and test.
# Skips apt entirely when everything is already there. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libfuse3-dev fuse3
  libsqlite3-dev libhiredis-dev libpq-dev
  libcurl4-openssl-dev libssl-dev liblz4-dev libzstd-dev libxxhash-dev libtinyxml2-dev
  libgtest-dev libcli11-dev nlohmann-json3-dev
  attr tar diffutils procps bc openssl curl sqlite3 jq
  redis-server postgresql etcd-server etcd-client
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (for the s3rver test server) may come from elsewhere than Debian.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
