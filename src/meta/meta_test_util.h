// The fixture shared by the meta tests: one Meta over each kv engine (mem,
// SQLite in a temporary file, and the server engines when their test servers
// are configured, see kv/test_util.h), a fake clock, a recording SliceFreer, and
// direct access to the engine's keys. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kv/engine.h"
#include "kv/test_util.h"
#include "meta/keys.h"
#include "meta/meta.h"

#define ASSERT_OK(expr)                                                    \
  do {                                                                     \
    ::tessera::Status _s = ::tessera::internal::ToStatus((expr));          \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString();                \
  } while (0)

#define EXPECT_CODE(expr, want)                                            \
  do {                                                                     \
    ::tessera::Status _s = ::tessera::internal::ToStatus((expr));          \
    EXPECT_EQ(_s.code(), (want)) << #expr << ": " << _s.ToString();        \
  } while (0)

namespace tessera::meta::testing {

enum class EngineKind { kMem, kSqlite, kRedis, kPostgres, kEtcd };

class MetaTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    if (GetParam() == EngineKind::kSqlite) {
      const char* base = getenv("TMPDIR");
      std::string tmpl = std::string(base && *base ? base : "/tmp") + "/tessera-meta-XXXXXX";
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      auto e = kv::NewSqliteEngine(dir_ + "/meta.db");
      ASSERT_TRUE(e.has_value()) << e.error().ToString();
      engine_ = std::shared_ptr<kv::Engine>(std::move(*e));
    } else if (GetParam() == EngineKind::kMem) {
      engine_ = kv::NewMemEngine();
    } else {
      kv::testing::Server server = GetParam() == EngineKind::kRedis ? kv::testing::Server::kRedis
                                   : GetParam() == EngineKind::kPostgres
                                       ? kv::testing::Server::kPostgres
                                       : kv::testing::Server::kEtcd;
      auto url = kv::testing::ServerTestUrl(server, "meta_test", 2);
      if (!url) {
        if (!kv::testing::ServersRequired()) GTEST_SKIP() << "server not configured";
        FAIL() << kv::testing::ServerEnvVar(server) << " is unset";
      }
      auto e = kv::OpenEngine(*url);
      ASSERT_TRUE(e.has_value()) << e.error().ToString();
      engine_ = std::shared_ptr<kv::Engine>(std::move(*e));
      ASSERT_OK(engine_->Reset());
    }
    meta_ = NewClient();
    ASSERT_OK(meta_->Format(DefaultSettings(), false));
  }

  void TearDown() override {
    meta_.reset();
    engine_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  static Settings DefaultSettings() {
    Settings s;
    s.name = "test";
    s.uuid = "00000000-0000-0000-0000-000000000001";
    return s;
  }

  // Another Meta (another client) over the same engine, recording freed slices.
  std::unique_ptr<Meta> NewClient() {
    auto m = NewMeta(kv::ShareEngine(engine_), clock_);
    m->SetSliceFreer([this](uint64_t id, uint32_t size) {
      std::lock_guard lock(freed_mu_);
      freed_.emplace_back(id, size);
    });
    return m;
  }

  std::vector<std::pair<uint64_t, uint32_t>> Freed() {
    std::lock_guard lock(freed_mu_);
    return freed_;
  }

  static Context User(uint32_t uid, uint32_t gid, std::vector<uint32_t> gids = {}) {
    Context c;
    c.uid = uid;
    c.gid = gid;
    c.gids = std::move(gids);
    return c;
  }

  Ino MkFile(Ino parent, std::string_view name, uint32_t mode = 0644,
             const Context* ctx = nullptr) {
    auto e = meta_->Mknod(ctx ? *ctx : root_, parent, name, S_IFREG | mode, 0);
    EXPECT_TRUE(e.has_value()) << name << ": " << e.error().ToString();
    return e ? e->ino : 0;
  }

  Ino MkDir(Ino parent, std::string_view name, uint32_t mode = 0755,
            const Context* ctx = nullptr) {
    auto e = meta_->Mkdir(ctx ? *ctx : root_, parent, name, mode);
    EXPECT_TRUE(e.has_value()) << name << ": " << e.error().ToString();
    return e ? e->ino : 0;
  }

  Attr AttrOf(Ino ino) {
    auto a = meta_->GetAttr(ino);
    EXPECT_TRUE(a.has_value()) << ino << ": " << a.error().ToString();
    return a ? *a : Attr{};
  }

  // Writes a slice of `len` bytes at `pos` of chunk `index`; returns its id.
  uint64_t Write(Ino ino, uint32_t index, uint32_t pos, uint32_t len) {
    auto id = meta_->NewSliceId();
    EXPECT_TRUE(id.has_value());
    Slice s{.pos = pos, .id = *id, .size = len, .off = 0, .len = len};
    Status st = meta_->WriteSlice(ino, index, s, clock_.Now());
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *id;
  }

  // --- Raw access to the engine's keys ---
  std::optional<std::string> RawGet(std::string_view key) {
    std::optional<std::string> out;
    Status st = kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(out, txn.Get(key));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
  void RawSet(std::string_view key, std::string_view value) {
    Status st = kv::RunTxn(*engine_, [&](kv::Txn& txn) { return txn.Set(key, value); });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  std::vector<kv::KeyValue> RawScan(std::string_view prefix) {
    std::vector<kv::KeyValue> out;
    Status st = kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(out, txn.Scan(prefix, kv::PrefixEnd(prefix)));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  FakeClock clock_;
  std::string dir_;
  std::shared_ptr<kv::Engine> engine_;
  std::unique_ptr<Meta> meta_;
  Context root_;
  std::mutex freed_mu_;
  std::vector<std::pair<uint64_t, uint32_t>> freed_;
};

inline std::string EngineName(const ::testing::TestParamInfo<EngineKind>& info) {
  switch (info.param) {
    case EngineKind::kMem: return "Mem";
    case EngineKind::kSqlite: return "Sqlite";
    case EngineKind::kRedis: return "Redis";
    case EngineKind::kPostgres: return "Postgres";
    case EngineKind::kEtcd: return "Etcd";
  }
  return "Unknown";
}

#define TESSERA_META_INSTANTIATE(suite)                                                       \
  INSTANTIATE_TEST_SUITE_P(Engines, suite,                                                    \
                           ::testing::Values(::tessera::meta::testing::EngineKind::kMem,      \
                                             ::tessera::meta::testing::EngineKind::kSqlite,   \
                                             ::tessera::meta::testing::EngineKind::kRedis,    \
                                             ::tessera::meta::testing::EngineKind::kPostgres, \
                                             ::tessera::meta::testing::EngineKind::kEtcd),    \
                           ::tessera::meta::testing::EngineName)

}  // namespace tessera::meta::testing
