// The KV contract suite: every test here runs on every engine (mem, SQLite
// in a fresh temporary directory, and Redis, PostgreSQL and etcd on the
// servers named by TESSERA_TEST_*_URL), plus the engine-independent RunTxn
// and PrefixEnd behaviour.
#include "kv/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "common/encoding.h"
#include "kv/test_util.h"

namespace tessera::kv {
namespace {

using namespace std::string_literals;
using testing::Put;
using testing::Read;
using testing::StatusOf;
using testing::TempDir;

int64_t Balance(const std::string& v) {
  return v.size() == 8 ? static_cast<int64_t>(GetLE64(v.data())) : -1;
}

struct MemFactory {
  static constexpr const char* kName = "Mem";
  static std::unique_ptr<Engine> Make(const std::string&) { return NewMemEngine(); }
};

struct SqliteFactory {
  static constexpr const char* kName = "Sqlite";
  static std::unique_ptr<Engine> Make(const std::string& dir) {
    auto engine = NewSqliteEngine(dir + "/meta.db");
    EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
    return engine.has_value() ? std::move(*engine) : nullptr;
  }
};

// An engine on the server that scripts/test.sh starts, emptied first; no
// engine (the test skips, or fails under TESSERA_TEST_REQUIRE_SERVERS=1)
// when the server's URL variable is unset.
template <testing::Server kServer>
struct ServerFactory {
  static std::unique_ptr<Engine> Make(const std::string&) {
    auto url = testing::ServerTestUrl(kServer, "kv_test", 1);
    if (!url) return nullptr;
    auto engine = OpenEngine(*url);
    EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
    if (!engine.has_value()) return nullptr;
    Status st = (*engine)->Reset();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(*engine);
  }
};
struct RedisFactory : ServerFactory<testing::Server::kRedis> {
  static constexpr const char* kName = "Redis";
};
struct PostgresFactory : ServerFactory<testing::Server::kPostgres> {
  static constexpr const char* kName = "Postgres";
};
struct EtcdFactory : ServerFactory<testing::Server::kEtcd> {
  static constexpr const char* kName = "Etcd";
};

template <typename Factory>
class KvEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = Factory::Make(dir_.path());
    if (engine_ == nullptr && !::testing::Test::HasFailure() && !testing::ServersRequired()) {
      GTEST_SKIP() << Factory::kName << " server not configured";
    }
    ASSERT_NE(engine_, nullptr) << Factory::kName << " engine not available";
  }

  std::vector<KeyValue> ScanAll(std::string_view begin, std::string_view end, size_t limit = 0) {
    std::vector<KeyValue> out;
    Status st = RunTxn(*engine_, [&](Txn& txn) -> Status {
      ASSIGN_OR_RETURN(out, txn.Scan(begin, end, limit));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

using Engines =
    ::testing::Types<MemFactory, SqliteFactory, RedisFactory, PostgresFactory, EtcdFactory>;
struct EngineNames {
  template <typename Factory>
  static std::string GetName(int) {
    return Factory::kName;
  }
};
TYPED_TEST_SUITE(KvEngineTest, Engines, EngineNames);

TYPED_TEST(KvEngineTest, SetGetDelete) {
  Engine& e = *this->engine_;
  EXPECT_EQ(Read(e, "k"), std::nullopt);
  ASSERT_TRUE(Put(e, "k", "v1").ok());
  EXPECT_EQ(Read(e, "k"), "v1");
  ASSERT_TRUE(Put(e, "k", "v2").ok());
  EXPECT_EQ(Read(e, "k"), "v2");
  ASSERT_TRUE(Put(e, "empty", "").ok());
  EXPECT_EQ(Read(e, "empty"), "");
  ASSERT_TRUE(RunTxn(e, [](Txn& txn) { return txn.Delete("k"); }).ok());
  EXPECT_EQ(Read(e, "k"), std::nullopt);
  EXPECT_TRUE(RunTxn(e, [](Txn& txn) { return txn.Delete("never-there"); }).ok());
}

TYPED_TEST(KvEngineTest, ReadsOwnWrites) {
  Engine& e = *this->engine_;
  ASSERT_TRUE(Put(e, "a", "old").ok());
  Status st = RunTxn(e, [](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Set("a", "new"));
    RETURN_IF_ERROR(txn.Set("b", "1"));
    ASSIGN_OR_RETURN(auto a, txn.Get("a"));
    EXPECT_EQ(a, "new");
    ASSIGN_OR_RETURN(auto all, txn.Scan("", ""));
    EXPECT_EQ(all, (std::vector<KeyValue>{{"a", "new"}, {"b", "1"}}));
    RETURN_IF_ERROR(txn.Delete("a"));
    ASSIGN_OR_RETURN(auto gone, txn.Get("a"));
    EXPECT_EQ(gone, std::nullopt);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Read(e, "a"), std::nullopt);
  EXPECT_EQ(Read(e, "b"), "1");
}

TYPED_TEST(KvEngineTest, ErrorAndAbortDiscardWrites) {
  Engine& e = *this->engine_;
  ASSERT_TRUE(Put(e, "keep", "1").ok());
  ASSERT_TRUE(Put(e, "gone", "2").ok());
  Status st = RunTxn(e, [](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Set("keep", "changed"));
    RETURN_IF_ERROR(txn.Delete("gone"));
    RETURN_IF_ERROR(txn.Set("new", "3"));
    RETURN_IF_ERROR(txn.DeleteRange("", ""));
    return Status::Invalid("changed my mind");
  });
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_EQ(st.message(), "changed my mind");
  EXPECT_EQ(Read(e, "keep"), "1");
  EXPECT_EQ(Read(e, "gone"), "2");
  EXPECT_EQ(Read(e, "new"), std::nullopt);

  auto txn = e.Begin(false);
  ASSERT_TRUE(txn.has_value());
  ASSERT_TRUE((*txn)->Set("keep", "aborted").ok());
  e.Abort(std::move(*txn));
  txn = e.Begin(false);  // dropped without Commit: the same as Abort
  ASSERT_TRUE(txn.has_value());
  ASSERT_TRUE((*txn)->Set("keep", "dropped").ok());
  txn->reset();
  EXPECT_EQ(Read(e, "keep"), "1");
}

TYPED_TEST(KvEngineTest, ScanOrderBoundsLimitAndBinaryKeys) {
  Engine& e = *this->engine_;
  const std::vector<std::string> sorted = {""s,          "\0"s,  "\0\0"s,  "\0\xff"s,
                                           "a"s,         "a\0"s, "a\x01"s, "a\xff"s,
                                           "a\xff\xff"s, "b"s,   "\xff"s,  "\xff\xff"s};
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
    ASSERT_TRUE(Put(e, *it, "v" + *it).ok());
  }
  auto all = this->ScanAll("", "");
  ASSERT_EQ(all.size(), sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    EXPECT_EQ(all[i].first, sorted[i]) << i;
    EXPECT_EQ(all[i].second, "v" + sorted[i]) << i;
  }
  auto keys = [](const std::vector<KeyValue>& kvs) {
    std::vector<std::string> out;
    for (const auto& kv : kvs) out.push_back(kv.first);
    return out;
  };
  EXPECT_EQ(keys(this->ScanAll("a", PrefixEnd("a"))),
            (std::vector{"a"s, "a\0"s, "a\x01"s, "a\xff"s, "a\xff\xff"s}));
  EXPECT_EQ(keys(this->ScanAll("a\xff", PrefixEnd("a\xff"))),
            (std::vector{"a\xff"s, "a\xff\xff"s}));
  EXPECT_EQ(keys(this->ScanAll("\0"s, "a")), (std::vector{"\0"s, "\0\0"s, "\0\xff"s}));
  EXPECT_EQ(keys(this->ScanAll("\xff", PrefixEnd("\xff"))), (std::vector{"\xff"s, "\xff\xff"s}));
  EXPECT_EQ(keys(this->ScanAll("a", "z", 2)), (std::vector{"a"s, "a\0"s}));
  EXPECT_EQ(keys(this->ScanAll("b", "", 1)), (std::vector{"b"s}));
  EXPECT_TRUE(this->ScanAll("c", "d").empty());
  EXPECT_TRUE(this->ScanAll("b", "b").empty());
  EXPECT_EQ(Read(e, "\0\xff"s), "v\0\xff"s);
}

TYPED_TEST(KvEngineTest, DeleteRange) {
  Engine& e = *this->engine_;
  for (const char* k : {"a", "b", "b\0x", "c", "d", "e"}) ASSERT_TRUE(Put(e, k, "v").ok());
  ASSERT_TRUE(RunTxn(e, [](Txn& txn) { return txn.DeleteRange("b", "d"); }).ok());
  auto left = this->ScanAll("", "");
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].first, "a");
  EXPECT_EQ(left[1].first, "d");
  EXPECT_EQ(left[2].first, "e");
  ASSERT_TRUE(RunTxn(e, [](Txn& txn) { return txn.DeleteRange("d", ""); }).ok());
  left = this->ScanAll("", "");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].first, "a");
}

TYPED_TEST(KvEngineTest, BatchGetKeepsOrder) {
  Engine& e = *this->engine_;
  ASSERT_TRUE(Put(e, "a", "1").ok());
  ASSERT_TRUE(Put(e, "c", "3").ok());
  std::vector<std::optional<std::string>> got;
  ASSERT_TRUE(RunTxn(e, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(got, txn.BatchGet({"c", "missing", "a", "c"}));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(got, (std::vector<std::optional<std::string>>{"3", std::nullopt, "1", "3"}));
}

TYPED_TEST(KvEngineTest, Increment) {
  Engine& e = *this->engine_;
  std::vector<int64_t> seen;
  ASSERT_TRUE(RunTxn(e, [&](Txn& txn) -> Status {
                for (int64_t d : {5, 10, -20}) {
                  ASSIGN_OR_RETURN(int64_t v, txn.Increment("n", d));
                  seen.push_back(v);
                }
                return Status::Ok();
              }).ok());
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 15, -5}));
  EXPECT_EQ(Read(e, "n"), "\xfb\xff\xff\xff\xff\xff\xff\xff"s);  // -5, little-endian
  ASSERT_TRUE(Put(e, "bad", "123").ok());
  Status st = RunTxn(e, [](Txn& txn) { return StatusOf(txn.Increment("bad", 1)); });
  EXPECT_EQ(st.code(), Code::kCorrupt);
}

TYPED_TEST(KvEngineTest, ReadOnlyTxn) {
  Engine& e = *this->engine_;
  ASSERT_TRUE(Put(e, "k", "v").ok());
  EXPECT_EQ(Read(e, "k"), "v");
  Status st = RunTxn(e, [](Txn& txn) { return txn.Set("k", "w"); }, {.read_only = true});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Read(e, "k"), "v");
  // Several readers at once.
  auto r1 = e.Begin(true);
  auto r2 = e.Begin(true);
  ASSERT_TRUE(r1.has_value() && r2.has_value());
  EXPECT_EQ((*r1)->Get("k").value(), "v");
  EXPECT_EQ((*r2)->Get("k").value(), "v");
  EXPECT_TRUE(e.Commit(std::move(*r1)).ok());
  EXPECT_TRUE(e.Commit(std::move(*r2)).ok());
}

TYPED_TEST(KvEngineTest, Reset) {
  Engine& e = *this->engine_;
  ASSERT_TRUE(Put(e, "a", "1").ok());
  ASSERT_TRUE(Put(e, "\xff", "2").ok());
  ASSERT_TRUE(e.Reset().ok());
  EXPECT_TRUE(this->ScanAll("", "").empty());
}

TYPED_TEST(KvEngineTest, ConcurrentReadModifyWrite) {
  Engine& e = *this->engine_;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        Status st = RunTxn(e, [](Txn& txn) -> Status {
          ASSIGN_OR_RETURN(auto v, txn.Get("counter"));
          int n = v.has_value() ? std::stoi(*v) : 0;
          return txn.Set("counter", std::to_string(n + 1));
        });
        if (!st.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Read(e, "counter"), std::to_string(kThreads * kPerThread));
}

TYPED_TEST(KvEngineTest, BankTransfersKeepTheSum) {
  Engine& e = *this->engine_;
  constexpr int kAccounts = 10;
  constexpr int64_t kInitial = 1000;
  auto account = [](int i) { return "acct/" + std::to_string(i); };
  ASSERT_TRUE(RunTxn(e, [&](Txn& txn) -> Status {
                for (int i = 0; i < kAccounts; ++i) {
                  RETURN_IF_ERROR(txn.Increment(account(i), kInitial));
                }
                return Status::Ok();
              }).ok());
  auto sum_all = [&](Txn& txn) -> Result<int64_t> {
    ASSIGN_OR_RETURN(auto rows, txn.Scan("acct/", PrefixEnd("acct/")));
    if (rows.size() != kAccounts) return Err(Code::kCorrupt, "wrong number of accounts");
    int64_t sum = 0;
    for (const auto& [k, v] : rows) sum += Balance(v);
    return sum;
  };
  std::atomic<bool> stop{false};
  std::atomic<int> bad_sums{0};
  std::atomic<int> failures{0};
  std::thread auditor([&] {
    while (!stop.load()) {
      Status st = RunTxn(e,
                         [&](Txn& txn) -> Status {
                           ASSIGN_OR_RETURN(int64_t sum, sum_all(txn));
                           if (sum != kAccounts * kInitial) ++bad_sums;
                           return Status::Ok();
                         },
                         {.read_only = true});
      if (!st.ok()) ++failures;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < 6; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 100; ++i) {
        int from = static_cast<int>(rng() % kAccounts);
        int to = static_cast<int>(rng() % kAccounts);
        int64_t amount = static_cast<int64_t>(rng() % 300);
        Status st = RunTxn(e, [&](Txn& txn) -> Status {
          ASSIGN_OR_RETURN(auto have, txn.Get(account(from)));
          if (Balance(have.value_or("")) < amount) return Status::Ok();
          RETURN_IF_ERROR(txn.Increment(account(from), -amount));
          return StatusOf(txn.Increment(account(to), amount));
        });
        if (!st.ok()) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  auditor.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(bad_sums.load(), 0);
  int64_t final_sum = 0;
  ASSERT_TRUE(RunTxn(e, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(final_sum, sum_all(txn));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(final_sum, kAccounts * kInitial);
}

TEST(PrefixEndTest, EdgeCases) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("a\0"s), "a\x01"s);
  EXPECT_EQ(PrefixEnd("\x01\xff\xff"), "\x02");
  EXPECT_EQ(PrefixEnd("a\xfe"), "a\xff");
  EXPECT_EQ(PrefixEnd("\xff\xff"), "");  // no finite end: "" means unbounded
  EXPECT_EQ(PrefixEnd(""), "");
}

TEST(RunTxnTest, RetriesConflictsThenGivesUp) {
  auto e = NewMemEngine();
  uint64_t before = ConflictRetries();
  int calls = 0;
  Status st = RunTxn(*e, [&](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Set("k", std::to_string(calls)));
    if (++calls < 3) return Status::Conflict("try again");
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(ConflictRetries() - before, 2u);
  EXPECT_EQ(Read(*e, "k"), "2");

  calls = 0;
  st = RunTxn(*e, [&](Txn&) { return ++calls, Status::Conflict("always"); }, {.max_retries = 3});
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_NE(st.message().find("kept conflicting"), std::string::npos) << st.message();
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace tessera::kv
