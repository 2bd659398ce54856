#!/usr/bin/env bash
# Bad metadata URLs on the server engines: a wrong password, an unreachable
# host, a database that holds no volume, a malformed URL — each one line
# that says what is wrong, a non-zero exit, and nothing written.
source "$(dirname "$0")/lib.sh"
for var in TESSERA_TEST_REDIS_URL TESSERA_TEST_POSTGRES_URL TESSERA_TEST_ETCD_URL; do
  [ -n "${!var:-}" ] && continue
  [ "${TESSERA_TEST_REQUIRE_SERVERS:-}" = 1 ] && fail "$var is not set"
  echo "SKIP: $var is not set"
  exit 77
done
R=$TESSERA_TEST_REDIS_URL P=$TESSERA_TEST_POSTGRES_URL E=$TESSERA_TEST_ETCD_URL
redis_wrong=${R/redis:\/\//redis://:wrong@}
pg_wrong=$(echo "$P" | sed 's|//\([^:]*\):[^@]*@|//\1:wrong-password@|')
redis-cli -u "$R/7" flushdb >/dev/null

# A wrong password; the password is never printed.
out=$("$TESSERA" status "$pg_wrong?search_path=errors" 2>&1 >/dev/null) && fail "status with a wrong password succeeded"
expect_eq "one line for a wrong PostgreSQL password" "$(echo "$out" | wc -l)" 1
echo "$out" | grep -qi "password" || fail "wrong PostgreSQL password: $out"
echo "$out" | grep -q "wrong-password" && fail "the password is printed: $out"
expect_error "a password the Redis server does not use" "password" \
  "$TESSERA" format "$redis_wrong/7" vol --storage file --bucket "$BUCKET"

# Nothing answers.
for url in "redis://127.0.0.1:1/7" "postgres://u:p@127.0.0.1:1/db" "etcd://127.0.0.1:1/errors"; do
  expect_error "unreachable $url" "refused|unreachable|connect" \
    timeout 60 "$TESSERA" status "$url"
done

# Empty engines hold no volume: mount says so and writes nothing.
for url in "$R/7" "$P?search_path=errors_empty" "$E/errors_empty"; do
  expect_error "mount of an empty $url" "not formatted" \
    "$TESSERA" mount "$url" "$MNT" --background --log "$WORK/mount.log"
done
expect_eq "nothing written to Redis" "$(redis-cli -u "$R/7" dbsize)" 0

# Malformed URLs.
expect_error "rediss (no TLS in this build)" "TLS|rediss" "$TESSERA" status "rediss://127.0.0.1:6379/1"
expect_error "redis db that is not a number" "db|database" "$TESSERA" status "redis://127.0.0.1:6379/x"
expect_error "unknown postgres option" "option" "$TESSERA" status "$P?colour=blue"
expect_error "etcd prefix with a slash" "prefix" "$TESSERA" status "$E/a/b"
pass
