// Tests that only make sense for the PostgreSQL engine: URL options, the
// one-line errors for a wrong password, a missing database and an unreachable
// server, schemas, conflicts that only SERIALIZABLE catches, and recovery
// when the server drops the engine's connections. The contract suite
// (engine_test.cc) covers the rest. Needs TESSERA_TEST_POSTGRES_URL
// (scripts/postgres.sh prints it) except for the URL tests. A real server
// restart under a mount is tests/e2e/test_restart_postgres.sh.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/url.h"
#include "kv/engine.h"
#include "kv/test_util.h"

namespace tessera::kv {
namespace {

using namespace std::string_literals;
using testing::Put;
using testing::Read;
using testing::StatusOf;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// The error of opening `url`, which must fail.
Status OpenError(const std::string& url) {
  auto engine = OpenEngine(url);
  EXPECT_FALSE(engine.has_value()) << url;
  return engine.has_value() ? Status::Ok() : engine.error();
}

TEST(PostgresUrlTest, UnknownOptionNamesTheSupportedOnes) {
  Status st = OpenError("postgres://u:s3cret@127.0.0.1:1/db?search_path=a&pool=3");
  EXPECT_EQ(st.code(), Code::kInvalid);
  EXPECT_TRUE(Contains(st.message(), "'pool=3'")) << st.message();
  for (const char* opt : {"search_path=SCHEMA", "sslmode=MODE", "connect_timeout=SECONDS"}) {
    EXPECT_TRUE(Contains(st.message(), opt)) << st.message();
  }
  EXPECT_FALSE(Contains(st.message(), "s3cret")) << st.message();
}

TEST(PostgresUrlTest, BadUrls) {
  for (const char* url :
       {"postgres://u:p@127.0.0.1:1/db?search_path=a,b",
        "postgres://u:p@127.0.0.1:1/db?search_path=",
        "postgres://u:p@127.0.0.1:1/db?connect_timeout=soon", "postgres://u:p@h1:5432,h2:5432/db",
        "postgresql://u:p@127.0.0.1:1", "postgres://u:p@127.0.0.1:1/a/b"}) {
    Status st = OpenError(url);
    EXPECT_EQ(st.code(), Code::kInvalid) << url << ": " << st.ToString();
  }
  Status st = OpenError("postgres://u:p@127.0.0.1:1/");
  EXPECT_TRUE(Contains(st.message(), "names no database")) << st.message();
}

TEST(PostgresUrlTest, UnreachableServerFailsAtOnceInOneLine) {
  // Nothing listens on port 1; the open does not retry.
  auto start = std::chrono::steady_clock::now();
  Status st = OpenError("postgresql://tessera:s3cret@127.0.0.1:1/tessera");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(st.message(), "postgres 127.0.0.1:1/tessera.public: ")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "Connection refused")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "tessera:****@")) << st.message();
  EXPECT_FALSE(Contains(st.message(), "s3cret")) << st.message();
  EXPECT_FALSE(Contains(st.message(), "\n")) << st.message();
}

// A superuser-free side channel to the test server, for what the engine
// does not offer: dropping a schema, ending the engine's sessions.
class Admin {
 public:
  static void Quiet(void*, const char*) {}

  explicit Admin(const Url& url) {
    std::string port = std::to_string(url.port == 0 ? 5432 : url.port);
    std::string db = url.path.substr(1);
    const char* keys[] = {"host", "port", "dbname", "user", "password", "application_name",
                          nullptr};
    const char* values[] = {url.host.c_str(), port.c_str(),         db.c_str(),
                            url.user.c_str(), url.password.c_str(), "tessera-test-admin",
                            nullptr};
    pg_ = PQconnectdbParams(keys, values, 0);
    PQsetNoticeProcessor(pg_, Quiet, nullptr);
  }
  ~Admin() { PQfinish(pg_); }

  bool ok() const { return PQstatus(pg_) == CONNECTION_OK; }

  // Runs `sql`; "" on success, else the error.
  std::string Exec(const std::string& sql) {
    PGresult* res = PQexec(pg_, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    std::string err = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? "" : PQerrorMessage(pg_);
    PQclear(res);
    return err;
  }

  // Ends every session the engine on `schema` has open, like a server restart would.
  void KillSessions(std::string_view schema) {
    // The timeout makes it wait until they have exited.
    std::string sql = "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity ";
    sql += "WHERE application_name = 'tessera/" + std::string(schema) + "'";
    ASSERT_EQ(Exec(sql), "");
  }

 private:
  PGconn* pg_;
};

constexpr std::string_view kSchema = "postgres_engine_test";

class PostgresEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv(testing::ServerEnvVar(testing::Server::kPostgres));
    if (base == nullptr || *base == '\0') {
      if (!testing::ServersRequired()) GTEST_SKIP() << "PostgreSQL server not configured";
      FAIL() << testing::ServerEnvVar(testing::Server::kPostgres) << " is unset";
    }
    auto url = ParseUrl(base, {"postgres", "postgresql"});
    ASSERT_TRUE(url.has_value()) << url.error().ToString();
    base_ = *url;
    admin_ = std::make_unique<Admin>(base_);
    ASSERT_TRUE(admin_->ok());
    engine_ = MustOpen(kSchema);
    ASSERT_NE(engine_, nullptr);
    ASSERT_TRUE(engine_->Reset().ok());
  }

  // The test server's URL with another password, database or schema.
  std::string UrlWith(std::string_view password, std::string_view db,
                      std::string_view schema) const {
    return "postgres://" + base_.user + ":" + std::string(password) + "@" + base_.host + ":" +
           std::to_string(base_.port) + "/" + std::string(db) +
           "?search_path=" + std::string(schema);
  }
  std::string SchemaUrl(std::string_view schema) const {
    return UrlWith(base_.password, base_.path.substr(1), schema);
  }

  std::unique_ptr<Engine> MustOpen(std::string_view schema) {
    auto engine = OpenEngine(SchemaUrl(schema));
    EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
    return engine.has_value() ? std::move(*engine) : nullptr;
  }

  Url base_;
  std::unique_ptr<Admin> admin_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(PostgresEngineTest, Name) { EXPECT_EQ(engine_->Name(), "postgres"); }

TEST_F(PostgresEngineTest, WrongPasswordInOneLine) {
  Status st = OpenError(UrlWith("not-the-password", base_.path.substr(1), kSchema));
  EXPECT_EQ(st.code(), Code::kAccess);
  EXPECT_TRUE(Contains(st.message(), "password authentication failed for user \"" + base_.user))
      << st.message();
  EXPECT_TRUE(Contains(st.message(), "check the user and password in META_URL")) << st.message();
  EXPECT_FALSE(Contains(st.message(), "not-the-password")) << st.message();
  EXPECT_FALSE(Contains(st.message(), "\n")) << st.message();
}

TEST_F(PostgresEngineTest, MissingDatabaseInOneLine) {
  Status st = OpenError(UrlWith(base_.password, "tessera_no_such_db", kSchema));
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_TRUE(Contains(st.message(),
                       "database \"tessera_no_such_db\" does not exist — create it "
                       "with createdb, or check the URL"))
      << st.message();
  EXPECT_FALSE(Contains(st.message(), ":" + base_.password + "@")) << st.message();
}

TEST_F(PostgresEngineTest, SchemasSeparateEngines) {
  auto other = MustOpen("postgres_engine_test_other");
  ASSERT_NE(other, nullptr);
  ASSERT_TRUE(other->Reset().ok());
  ASSERT_TRUE(Put(*engine_, "k", "mine").ok());
  EXPECT_EQ(Read(*other, "k"), std::nullopt);
  ASSERT_TRUE(Put(*other, "k", "other's").ok());
  EXPECT_EQ(Read(*engine_, "k"), "mine");
  // A schema name that needs quoting.
  auto odd = MustOpen("Odd \"name\"");
  ASSERT_NE(odd, nullptr);
  ASSERT_TRUE(Put(*odd, "k", "odd").ok());
  EXPECT_EQ(Read(*odd, "k"), "odd");
  EXPECT_EQ(admin_->Exec("DROP SCHEMA \"Odd \"\"name\"\"\" CASCADE"), "");
}

TEST_F(PostgresEngineTest, ConcurrentFirstOpensCreateTheTableOnce) {
  constexpr std::string_view kFresh = "postgres_engine_test_fresh";
  ASSERT_EQ(admin_->Exec("DROP SCHEMA IF EXISTS " + std::string(kFresh) + " CASCADE"), "");
  std::vector<std::unique_ptr<Engine>> engines(6);
  std::vector<std::thread> threads;
  for (auto& e : engines) threads.emplace_back([&] { e = MustOpen(kFresh); });
  for (auto& t : threads) t.join();
  for (auto& e : engines) ASSERT_NE(e, nullptr);
  ASSERT_TRUE(Put(*engines[0], "k", "v").ok());
  EXPECT_EQ(Read(*engines[5], "k"), "v");
  engines.clear();
  EXPECT_EQ(admin_->Exec("DROP SCHEMA " + std::string(kFresh) + " CASCADE"), "");
}

// Large and binary values, and many keys in one transaction (one upsert).
TEST_F(PostgresEngineTest, LargeBatches) {
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131);
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                for (int i = 0; i < 5000; ++i) {
                  RETURN_IF_ERROR(txn.Set("n/" + std::to_string(i), "x"));
                }
                return txn.Set("big", big);
              }).ok());
  EXPECT_EQ(Read(*engine_, "big"), big);
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("n/" + std::to_string(i));
  std::vector<std::optional<std::string>> got;
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(got, txn.BatchGet(keys));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(got, std::vector<std::optional<std::string>>(5000, "x"));
}

// Scans merge the transaction's buffered writes, and fetch more rows from
// the server when its own deletions hid some of a limited batch.
TEST_F(PostgresEngineTest, ScanMergesOwnWritesUnderALimit) {
  for (const char* k : {"a", "b", "c", "d", "e", "f", "g", "h", "i"}) {
    ASSERT_TRUE(Put(*engine_, k, "server").ok());
  }
  auto keys = [](const std::vector<KeyValue>& kvs) {
    std::string out;
    for (const auto& [k, v] : kvs) out += k + "=" + v + " ";
    return out;
  };
  Status st = RunTxn(*engine_, [&](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Delete("b"));
    RETURN_IF_ERROR(txn.Delete("c"));
    RETURN_IF_ERROR(txn.Set("cc", "mine"));
    RETURN_IF_ERROR(txn.Delete("d"));
    RETURN_IF_ERROR(txn.DeleteRange("e", "h"));
    RETURN_IF_ERROR(txn.Set("f", "again"));
    for (size_t limit : {1, 2, 3, 4, 5}) {
      ASSIGN_OR_RETURN(auto rows, txn.Scan("", "", limit));
      const char* want[] = {"a=server ", "a=server cc=mine ", "a=server cc=mine f=again ",
                            "a=server cc=mine f=again h=server ",
                            "a=server cc=mine f=again h=server i=server "};
      EXPECT_EQ(keys(rows), want[limit - 1]) << limit;
    }
    ASSIGN_OR_RETURN(auto all, txn.Scan("b", "h"));
    EXPECT_EQ(keys(all), "cc=mine f=again ");
    ASSIGN_OR_RETURN(auto got, txn.BatchGet({"a", "b", "e", "f", "h"}));
    EXPECT_EQ(got, (std::vector<std::optional<std::string>>{"server", std::nullopt, std::nullopt,
                                                            "again", "server"}));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::vector<KeyValue> after;
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(after, txn.Scan("", ""));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(keys(after), "a=server cc=mine f=again h=server i=server ");
}

// Write skew on an empty range: each transaction checks that a prefix is
// empty and then writes into it. Snapshot isolation would commit both;
// SERIALIZABLE must refuse the second.
TEST_F(PostgresEngineTest, WriteSkewOnAnEmptyRangeConflicts) {
  auto t1 = engine_->Begin(false);
  auto t2 = engine_->Begin(false);
  ASSERT_TRUE(t1.has_value() && t2.has_value());
  for (auto* t : {&t1, &t2}) {
    auto rows = (**t)->Scan("lock/", PrefixEnd("lock/"));
    ASSERT_TRUE(rows.has_value() && rows->empty());
  }
  ASSERT_TRUE((*t1)->Set("lock/1", "held").ok());
  ASSERT_TRUE((*t2)->Set("lock/2", "held").ok());
  ASSERT_TRUE(engine_->Commit(std::move(*t1)).ok());
  Status st = engine_->Commit(std::move(*t2));
  EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "40001")) << st.message();
  EXPECT_EQ(Read(*engine_, "lock/2"), std::nullopt);
}

TEST_F(PostgresEngineTest, RecoversWhenTheServerDropsIdleConnections) {
  ASSERT_TRUE(Put(*engine_, "k", "v").ok());
  admin_->KillSessions(kSchema);
  EXPECT_EQ(Read(*engine_, "k"), "v");
  ASSERT_TRUE(Put(*engine_, "k", "w").ok());
  EXPECT_EQ(Read(*engine_, "k"), "w");
}

TEST_F(PostgresEngineTest, ConnectionLostMidTransactionIsAConflict) {
  ASSERT_TRUE(Put(*engine_, "k", "v").ok());
  auto txn = engine_->Begin(false);
  ASSERT_TRUE(txn.has_value());
  ASSERT_EQ((*txn)->Get("k").value(), "v");
  admin_->KillSessions(kSchema);
  auto lost = (*txn)->Get("other");
  ASSERT_FALSE(lost.has_value());
  EXPECT_EQ(lost.error().code(), Code::kConflict) << lost.error().ToString();
  engine_->Abort(std::move(*txn));
  // RunTxn retries such a transaction on a new connection.
  int calls = 0;
  Status st = RunTxn(*engine_, [&](Txn& t) -> Status {
    ASSIGN_OR_RETURN(auto v, t.Get("k"));
    if (++calls == 1) admin_->KillSessions(kSchema);
    ASSIGN_OR_RETURN(auto again, t.Get("k"));
    return t.Set("k", *v + *again);
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Read(*engine_, "k"), "vv");
}

// A COMMIT whose answer is lost may or may not have been applied: it is
// reported, never re-sent. (Here the session died before COMMIT arrived,
// so nothing was applied.)
TEST_F(PostgresEngineTest, LostCommitIsUnavailableNotRetried) {
  ASSERT_TRUE(Put(*engine_, "k", "v").ok());
  auto txn = engine_->Begin(false);
  ASSERT_TRUE(txn.has_value());
  ASSERT_TRUE((*txn)->Get("k").has_value());
  ASSERT_TRUE((*txn)->Set("k", "w").ok());
  admin_->KillSessions(kSchema);
  Status st = engine_->Commit(std::move(*txn));
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "unknown")) << st.message();
  EXPECT_EQ(Read(*engine_, "k"), "v");
}

}  // namespace
}  // namespace tessera::kv
