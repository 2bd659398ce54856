// Helpers shared by the kv tests: a temporary directory and one-line
// transactions. Test-only; not part of tessera_kv.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "kv/engine.h"

namespace tessera::kv::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/tessera-kv-XXXXXX";
    char* made = mkdtemp(tmpl.data());
    CHECK(made != nullptr);
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The error of `r`, or Ok: for returning a Result's status from a Status function.
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.has_value() ? Status::Ok() : r.error();
}

inline Status Put(Engine& engine, std::string_view key, std::string_view value) {
  return RunTxn(engine, [&](Txn& txn) { return txn.Set(key, value); });
}

// The value of `key` read in a read-only transaction; "<error>" if the read failed.
inline std::optional<std::string> Read(Engine& engine, std::string_view key) {
  std::optional<std::string> out;
  Status st = RunTxn(engine,
                     [&](Txn& txn) -> Status {
                       ASSIGN_OR_RETURN(out, txn.Get(key));
                       return Status::Ok();
                     },
                     {.read_only = true});
  if (!st.ok()) return "<error>";
  return out;
}

// The engines that run on a server the test scripts start (scripts/test.sh).
enum class Server { kRedis, kPostgres, kEtcd };

inline const char* ServerEnvVar(Server server) {
  switch (server) {
    case Server::kRedis: return "TESSERA_TEST_REDIS_URL";        // redis://host:port
    case Server::kPostgres: return "TESSERA_TEST_POSTGRES_URL";  // postgres://u:p@host:port/db
    case Server::kEtcd: return "TESSERA_TEST_ETCD_URL";          // etcd://host:port
  }
  return "";
}

// A URL of the test server for `server` whose keys no other test binary
// touches: Redis database `redis_db`, PostgreSQL schema `ns`, etcd prefix
// `ns`. nullopt when the server's variable is unset.
inline std::optional<std::string> ServerTestUrl(Server server, std::string_view ns,
                                                int redis_db) {
  const char* base = getenv(ServerEnvVar(server));
  if (base == nullptr || *base == '\0') return std::nullopt;
  std::string url = base;
  switch (server) {
    case Server::kRedis: return url + "/" + std::to_string(redis_db);
    case Server::kPostgres: return url + "?search_path=" + std::string(ns);
    case Server::kEtcd: return url + "/" + std::string(ns);
  }
  return std::nullopt;
}

// True when a test without its server must fail rather than skip
// (scripts/test.sh sets TESSERA_TEST_REQUIRE_SERVERS=1).
inline bool ServersRequired() {
  const char* v = getenv("TESSERA_TEST_REQUIRE_SERVERS");
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace tessera::kv::testing
