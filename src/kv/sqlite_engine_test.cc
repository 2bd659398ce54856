// Tests that only make sense for the SQLite engine (durability, several
// engines on one file, bad files) and for OpenEngine's URL handling.
#include "kv/sqlite_engine.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "kv/engine.h"
#include "kv/test_util.h"

namespace tessera::kv {
namespace {

using namespace std::string_literals;
using testing::Put;
using testing::Read;
using testing::TempDir;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(SqliteEngineTest, DataSurvivesReopen) {
  TempDir dir;
  std::string path = dir.path() + "/meta.db";
  {
    auto engine = NewSqliteEngine(path);
    ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
    EXPECT_EQ((*engine)->Name(), "sqlite3");
    ASSERT_TRUE(Put(**engine, "persist", "yes").ok());
    ASSERT_TRUE(Put(**engine, "\0bin\xff"s, "\0\0"s).ok());
  }
  auto engine = NewSqliteEngine(path);
  ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
  EXPECT_EQ(Read(**engine, "persist"), "yes");
  EXPECT_EQ(Read(**engine, "\0bin\xff"s), "\0\0"s);
}

TEST(SqliteEngineTest, TwoEnginesOnOneFileSerializeWriters) {
  TempDir dir;
  std::string path = dir.path() + "/meta.db";
  auto a = NewSqliteEngine(path);
  auto b = NewSqliteEngine(path, SqliteOptions{.sync_full = false});
  ASSERT_TRUE(a.has_value() && b.has_value());
  constexpr int kThreadsPerEngine = 4;
  constexpr int kPerThread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (Engine* e : {a->get(), b->get()}) {
    for (int t = 0; t < kThreadsPerEngine; ++t) {
      threads.emplace_back([&, e] {
        for (int i = 0; i < kPerThread; ++i) {
          Status st = RunTxn(*e, [](Txn& txn) -> Status {
            ASSIGN_OR_RETURN(auto v, txn.Get("n"));
            return txn.Set("n", std::to_string((v ? std::stoi(*v) : 0) + 1));
          });
          if (!st.ok()) ++failures;
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Read(**a, "n"), std::to_string(2 * kThreadsPerEngine * kPerThread));
  EXPECT_EQ(Read(**b, "n"), std::to_string(2 * kThreadsPerEngine * kPerThread));
}

TEST(SqliteEngineTest, ReaderRunsBesideWriter) {
  TempDir dir;
  auto engine = NewSqliteEngine(dir.path() + "/meta.db");
  ASSERT_TRUE(engine.has_value());
  Engine& e = **engine;
  ASSERT_TRUE(Put(e, "k", "old").ok());
  auto writer = e.Begin(false);
  ASSERT_TRUE(writer.has_value());
  ASSERT_TRUE((*writer)->Set("k", "new").ok());
  EXPECT_EQ(Read(e, "k"), "old");  // would block forever if readers waited for writers
  ASSERT_TRUE(e.Commit(std::move(*writer)).ok());
  EXPECT_EQ(Read(e, "k"), "new");
}

TEST(SqliteEngineTest, NotADatabase) {
  TempDir dir;
  std::string path = dir.path() + "/junk.db";
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "this is a text file, not a database\n";
  }
  auto engine = NewSqliteEngine(path);
  ASSERT_FALSE(engine.has_value());
  EXPECT_TRUE(Contains(engine.error().message(),
                       path + " is not an SQLite database: file is not a database"))
      << engine.error().message();
}

TEST(SqliteEngineTest, MissingDirectory) {
  TempDir dir;
  std::string path = dir.path() + "/no/such/dir/meta.db";
  auto engine = NewSqliteEngine(path);
  ASSERT_FALSE(engine.has_value());
  EXPECT_EQ(engine.error().code(), Code::kNotFound);
  EXPECT_TRUE(Contains(engine.error().message(), path)) << engine.error().message();
}

TEST(SqliteEngineTest, BusyLockBecomesConflict) {
  TempDir dir;
  std::string path = dir.path() + "/meta.db";
  auto a = NewSqliteEngine(path);
  auto b = NewSqliteEngine(path, SqliteOptions{.busy_timeout_ms = 10});
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto holder = (*a)->Begin(false);
  ASSERT_TRUE(holder.has_value());
  auto blocked = (*b)->Begin(false);
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code(), Code::kConflict);
  EXPECT_TRUE(Contains(blocked.error().message(), path)) << blocked.error().message();
  Status st = RunTxn(**b, [](Txn& txn) { return txn.Set("k", "v"); }, {.max_retries = 2});
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_TRUE(Contains(st.message(), "kept conflicting")) << st.message();
  (*a)->Abort(std::move(*holder));
  EXPECT_TRUE(Put(**b, "k", "v").ok());
}

TEST(OpenEngineTest, UnknownSchemeListsSupported) {
  for (const char* url : {"tikv://localhost/1", "meta.db"}) {
    auto engine = OpenEngine(url);
    ASSERT_FALSE(engine.has_value()) << url;
    EXPECT_EQ(engine.error().code(), Code::kInvalid);
    for (const char* scheme : {"sqlite3://", "mem://", "redis://", "postgres://", "etcd://"}) {
      EXPECT_TRUE(Contains(engine.error().message(), scheme)) << engine.error().message();
    }
  }
}

TEST(OpenEngineTest, MemEnginesAreSharedByName) {
  auto a1 = OpenEngine("mem://open-test-a");
  auto a2 = OpenEngine("mem://open-test-a");
  auto b = OpenEngine("mem://open-test-b");
  ASSERT_TRUE(a1.has_value() && a2.has_value() && b.has_value());
  EXPECT_EQ((*a1)->Name(), "mem");
  ASSERT_TRUE(Put(**a1, "k", "shared").ok());
  EXPECT_EQ(Read(**a2, "k"), "shared");
  EXPECT_EQ(Read(**b, "k"), std::nullopt);
  a1->reset();
  auto a3 = OpenEngine("mem://open-test-a");
  ASSERT_TRUE(a3.has_value());
  EXPECT_EQ(Read(**a3, "k"), "shared");
}

TEST(OpenEngineTest, SqliteUrls) {
  TempDir dir;
  auto engine = OpenEngine("sqlite3://" + dir.path() + "/meta.db?sync=normal");
  ASSERT_TRUE(engine.has_value()) << engine.error().ToString();
  EXPECT_EQ((*engine)->Name(), "sqlite3");
  ASSERT_TRUE(Put(**engine, "k", "v").ok());
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/meta.db"));

  auto bad = OpenEngine("sqlite3://" + dir.path() + "/meta.db?sync=sometimes");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), Code::kInvalid);
  EXPECT_TRUE(Contains(bad.error().message(), "sync=sometimes")) << bad.error().message();
}

// With synchronous=NORMAL, Sync() checkpoints: the committed rows reach the
// main database file, so a copy of that file alone (no WAL) holds them.
TEST(SqliteEngineTest, SyncCheckpointsCommittedRowsIntoTheDatabaseFile) {
  TempDir dir;
  std::string path = dir.path() + "/meta.db";
  auto engine = NewSqliteEngine(path, SqliteOptions{});
  ASSERT_TRUE(engine.has_value());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put(**engine, "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE((*engine)->Sync().ok());
  std::filesystem::copy_file(path, dir.path() + "/copy.db");
  auto copy = NewSqliteEngine(dir.path() + "/copy.db", SqliteOptions{});
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(Read(**copy, "k49"), "v");
}

}  // namespace
}  // namespace tessera::kv
