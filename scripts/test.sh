#!/usr/bin/env bash
# Installs what the tests need, builds tessera twice (normal, and with
# ASan+UBSan), starts the S3 servers the tests use on 127.0.0.1 (Ceph's
# RADOS Gateway from Debian's packages, and s3rver from npm), runs every unit
# test under both builds and every end-to-end test (real FUSE mounts: needs
# root and /dev/fuse) with the normal build, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh normal
scripts/build.sh asan

SERVERS=$(mktemp -d /tmp/tessera-servers.XXXXXX)
chmod 711 "$SERVERS"  # postgres.sh runs the server as user postgres, which must reach DIR
RGW_PORT=${TESSERA_RGW_PORT:-17480}
S3RVER_PORT=${TESSERA_S3RVER_PORT:-14568}
REDIS_PORT=${TESSERA_REDIS_PORT:-16379}
PG_PORT=${TESSERA_POSTGRES_PORT:-15432}
ETCD_PORT=${TESSERA_ETCD_PORT:-12379}  # and the next port, for its peers
stop_servers() {
  scripts/etcd.sh stop "$SERVERS/etcd" >/dev/null 2>&1 || true
  scripts/postgres.sh stop "$SERVERS/postgres" >/dev/null 2>&1 || true
  scripts/redis.sh stop "$SERVERS/redis" >/dev/null 2>&1 || true
  scripts/ceph-rgw.sh stop "$SERVERS/rgw" >/dev/null 2>&1 || true
  scripts/s3rver.sh stop "$SERVERS/s3rver" >/dev/null 2>&1 || true
  rm -rf "$SERVERS"
}
trap stop_servers EXIT
echo "== starting Ceph RGW on 127.0.0.1:$RGW_PORT and s3rver on 127.0.0.1:$S3RVER_PORT"
CEPH_RGW_NO_MGR=1 scripts/ceph-rgw.sh start "$SERVERS/rgw" "$RGW_PORT" >/dev/null
scripts/s3rver.sh start "$SERVERS/s3rver" "$S3RVER_PORT" >/dev/null
echo "== starting redis-server on 127.0.0.1:$REDIS_PORT"
scripts/redis.sh start "$SERVERS/redis" "$REDIS_PORT" >/dev/null
eval "$(scripts/redis.sh env "$SERVERS/redis")"
export TESSERA_TEST_REDIS_URL=$REDIS_URL
echo "== starting PostgreSQL on 127.0.0.1:$PG_PORT"
scripts/postgres.sh start "$SERVERS/postgres" "$PG_PORT" >/dev/null
eval "$(scripts/postgres.sh env "$SERVERS/postgres")"
export TESSERA_TEST_POSTGRES_URL=$POSTGRES_URL
echo "== starting etcd on 127.0.0.1:$ETCD_PORT"
scripts/etcd.sh start "$SERVERS/etcd" "$ETCD_PORT" >/dev/null
eval "$(scripts/etcd.sh env "$SERVERS/etcd")"
export TESSERA_TEST_ETCD_URL=$ETCD_URL
# Every engine's server is up: a test that finds one missing fails, never skips.
export TESSERA_TEST_REQUIRE_SERVERS=1
eval "$(scripts/ceph-rgw.sh env "$SERVERS/rgw")"
export TESSERA_TEST_RGW_ENDPOINT=$S3_ENDPOINT TESSERA_TEST_RGW_ACCESS_KEY=$S3_ACCESS_KEY \
  TESSERA_TEST_RGW_SECRET_KEY=$S3_SECRET_KEY
eval "$(scripts/s3rver.sh env "$SERVERS/s3rver")"
export TESSERA_TEST_S3RVER_ENDPOINT=$S3_ENDPOINT TESSERA_TEST_S3RVER_ACCESS_KEY=$S3_ACCESS_KEY \
  TESSERA_TEST_S3RVER_SECRET_KEY=$S3_SECRET_KEY
export TESSERA_TEST_S3RVER_DIR=$SERVERS/s3rver TESSERA_TEST_S3RVER_PORT=$S3RVER_PORT

# Each test binary and each end-to-end script keeps to its own keys on the
# servers (a Redis database, a PostgreSQL schema, an etcd prefix), its own
# buckets, mounts and ports, so they run side by side; much of their time is
# spent waiting on servers and disks rather than on the two cores. (Not the
# sanitizer build's: those are bound by the CPU, and three at a time took
# longer than two.)
echo "== unit tests (ASan+UBSan)"
(cd build-asan && ctest -L unit --output-on-failure -j2)
echo "== unit tests"
(cd build && ctest -L unit --output-on-failure -j3)
echo "== end-to-end tests"
(cd build && ctest -L e2e --output-on-failure -j2)
