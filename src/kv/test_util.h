// Helpers shared by the kv tests: a temporary directory and one-line
// transactions. Test-only; not part of tessera_kv.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>

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

}  // namespace tessera::kv::testing
