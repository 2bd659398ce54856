// Tests that only make sense for the Redis engine: URL errors, passwords, an
// unreachable or restarting server, conflict detection, and how a Txn's own
// writes merge into paged scans. The contract suite (engine_test.cc) covers
// the rest. Tests on the shared test server use database 3 of
// TESSERA_TEST_REDIS_URL and skip when it is unset; tests that stop and
// restart a server start their own redis-server on a free port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "kv/engine.h"
#include "kv/test_util.h"

extern char** environ;

namespace tessera::kv {
namespace {

using namespace std::string_literals;
using testing::Put;
using testing::Read;
using testing::StatusOf;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A TCP port on 127.0.0.1 that nothing listens on (at least just now).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  CHECK(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Sends one command on a plain hiredis connection (for what the engine never
// does, such as CLIENT PAUSE); true when the server accepted it.
bool Command(int port, const std::vector<std::string>& argv) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, {.tv_sec = 1, .tv_usec = 0});
  bool ok = false;
  if (c != nullptr && c->err == 0) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (c != nullptr) redisFree(c);
  return ok;
}

// A redis-server of the test's own on a free port, its data (append-only
// file) in a temporary directory, for tests that stop and restart it.
class LocalRedis {
 public:
  explicit LocalRedis(std::vector<std::string> extra = {})
      : port_(FreePort()), extra_(std::move(extra)) {}
  ~LocalRedis() { Stop(); }

  // Starts the server and waits until it answers; an error if it cannot.
  Status Start() {
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--dir",
                                     dir_.path(),
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "yes",
                                     "--appendfsync",
                                     "everysec",
                                     "--daemonize",
                                     "no",
                                     "--logfile",
                                     dir_.path() + "/redis.log"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
      pid_ = 0;
      return Status::FromErrno(rc, "cannot run redis-server");
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Answers()) return Status::Ok();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return Status::Unavailable("redis-server exited; see " + dir_.path() + "/redis.log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop();
    return Status::Unavailable("redis-server did not answer in 10 s");
  }

  // SIGTERM: the server writes its append-only file out and exits.
  void Stop() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  int port() const { return port_; }
  std::string Url(std::string_view userinfo = "", std::string_view query = "") const {
    return "redis://" + std::string(userinfo) + "127.0.0.1:" + std::to_string(port_) + "/0" +
           std::string(query);
  }

 private:
  // True once the server answers PING (NOAUTH counts: it is up, with a password).
  bool Answers() const {
    redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, {.tv_sec = 0, .tv_usec = 200000});
    bool up = false;
    if (c != nullptr && c->err == 0) {
      auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
      up = reply != nullptr && (std::string_view(reply->str, reply->len) == "PONG" ||
                                std::string_view(reply->str, reply->len).starts_with("NOAUTH"));
      if (reply != nullptr) freeReplyObject(reply);
    }
    if (c != nullptr) redisFree(c);
    return up;
  }

  testing::TempDir dir_;
  int port_;
  std::vector<std::string> extra_;
  pid_t pid_ = 0;
};

// Skips (or fails, under TESSERA_TEST_REQUIRE_SERVERS=1) when `st` says the
// test's own server could not start.
#define START_OR_SKIP(server)                                                     \
  do {                                                                            \
    Status _st = (server).Start();                                                \
    if (!_st.ok() && !testing::ServersRequired()) GTEST_SKIP() << _st.ToString(); \
    ASSERT_TRUE(_st.ok()) << _st.ToString();                                      \
  } while (0)

std::unique_ptr<Engine> MustOpen(const std::string& url) {
  auto engine = OpenEngine(url);
  EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
  return engine.has_value() ? std::move(*engine) : nullptr;
}

// --- Without a server ---

TEST(RedisUrlTest, BadUrlsSayWhatIsWrong) {
  struct Case {
    std::string url;
    Code code;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"rediss://127.0.0.1:6379/0", Code::kNotSupported, "TLS"},
      {"redis://127.0.0.1:6379/one", Code::kInvalid, "must be a number"},
      {"redis://127.0.0.1:6379/0?bogus=1", Code::kInvalid, "supported: timeout=SECONDS"},
      {"redis://127.0.0.1:6379/0?timeout=soon", Code::kInvalid, "bad number of seconds"},
      {"redis://127.0.0.1:6379/0?pool=0", Code::kInvalid, "bad pool size"},
      {"redis://alice@127.0.0.1:6379/0", Code::kInvalid, "no password"},
      {"redis://a:1,b:2/0", Code::kInvalid, "several hosts"},
      {"redis://[::1/0", Code::kInvalid, "bad host"},
  };
  for (const auto& c : cases) {
    auto engine = OpenEngine(c.url);
    ASSERT_FALSE(engine.has_value()) << c.url;
    EXPECT_EQ(engine.error().code(), c.code) << c.url << ": " << engine.error().ToString();
    EXPECT_TRUE(Contains(engine.error().message(), c.says)) << engine.error().message();
  }
  auto engine = OpenEngine("rediss://:hunter2@127.0.0.1:6379/0?bogus=1");
  ASSERT_FALSE(engine.has_value());
  EXPECT_FALSE(Contains(engine.error().message(), "hunter2")) << engine.error().message();
}

TEST(RedisUrlTest, UnreachableServerFailsAtOnceWithAHint) {
  int port = FreePort();
  auto engine = OpenEngine("redis://:hunter2@127.0.0.1:" + std::to_string(port) + "/0");
  ASSERT_FALSE(engine.has_value());
  const Status& st = engine.error();
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(st.message(), "redis 127.0.0.1:" + std::to_string(port) +
                              ": connection refused — is redis-server running?");
}

// --- On the shared test server ---

class RedisServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = testing::ServerTestUrl(testing::Server::kRedis, "redis_engine_test", 3);
    if (!url) {
      if (!testing::ServersRequired()) GTEST_SKIP() << "TESSERA_TEST_REDIS_URL is unset";
      FAIL() << "TESSERA_TEST_REDIS_URL is unset";
    }
    url_ = *url;
    engine_ = MustOpen(url_);
    ASSERT_NE(engine_, nullptr);
    Status st = engine_->Reset();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::string url_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RedisServerTest, NameAndLargeBinaryValues) {
  EXPECT_EQ(engine_->Name(), "redis");
  std::string big;
  for (int i = 0; i < (1 << 20); ++i) big.push_back(static_cast<char>(i * 7));
  ASSERT_TRUE(Put(*engine_, "\0big\xff"s, big).ok());
  EXPECT_EQ(Read(*engine_, "\0big\xff"s), big);
}

TEST_F(RedisServerTest, PasswordOnAServerWithoutOne) {
  auto engine = OpenEngine("redis://:hunter2@" + url_.substr(std::string("redis://").size()));
  ASSERT_FALSE(engine.has_value());
  EXPECT_EQ(engine.error().code(), Code::kAccess) << engine.error().ToString();
  EXPECT_TRUE(Contains(engine.error().message(), "server has none set"))
      << engine.error().message();
  EXPECT_FALSE(Contains(engine.error().message(), "hunter2"));
}

TEST_F(RedisServerTest, ConflictingReadModifyWrite) {
  ASSERT_TRUE(Put(*engine_, "k", "0").ok());
  auto a = engine_->Begin(false);
  auto b = engine_->Begin(false);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ((*a)->Get("k").value(), "0");
  EXPECT_EQ((*b)->Get("k").value(), "0");
  ASSERT_TRUE((*a)->Set("k", "a").ok());
  ASSERT_TRUE((*b)->Set("k", "b").ok());
  EXPECT_TRUE(engine_->Commit(std::move(*a)).ok());
  EXPECT_EQ(engine_->Commit(std::move(*b)).code(), Code::kConflict);
  EXPECT_EQ(Read(*engine_, "k"), "a");
}

TEST_F(RedisServerTest, InsertIntoAScannedRangeConflicts) {
  ASSERT_TRUE(Put(*engine_, "d/1", "x").ok());
  auto txn = engine_->Begin(false);
  ASSERT_TRUE(txn.has_value());
  auto rows = (*txn)->Scan("d/", PrefixEnd("d/"));
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->size(), 1u);
  ASSERT_TRUE(Put(*engine_, "d/2", "y").ok());  // a phantom
  ASSERT_TRUE((*txn)->Set("count", "1").ok());
  EXPECT_EQ(engine_->Commit(std::move(*txn)).code(), Code::kConflict);
  EXPECT_EQ(Read(*engine_, "count"), std::nullopt);
}

TEST_F(RedisServerTest, ReadsNeverSeeATornState) {
  ASSERT_TRUE(Put(*engine_, "a", "1").ok());
  ASSERT_TRUE(Put(*engine_, "b", "1").ok());
  auto reader = engine_->Begin(true);
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ((*reader)->Get("a").value(), "1");
  ASSERT_TRUE(RunTxn(*engine_, [](Txn& txn) -> Status {
                RETURN_IF_ERROR(txn.Set("a", "2"));
                return txn.Set("b", "2");
              }).ok());
  // "b" now reads 2, but with a == 1 that state never existed.
  EXPECT_EQ(StatusOf((*reader)->Get("b")).code(), Code::kConflict);
  // A read that does not depend on a changed value goes on.
  auto other = engine_->Begin(true);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ((*other)->Get("b").value(), "2");
  ASSERT_TRUE(Put(*engine_, "unrelated", "x").ok());
  EXPECT_EQ((*other)->Get("a").value(), "2");
  EXPECT_TRUE(engine_->Commit(std::move(*other)).ok());
}

TEST_F(RedisServerTest, DeleteRangeDeletesWhatIsThereAtCommit) {
  ASSERT_TRUE(Put(*engine_, "r/1", "x").ok());
  auto txn = engine_->Begin(false);
  ASSERT_TRUE(txn.has_value());
  ASSERT_TRUE((*txn)->DeleteRange("r/", PrefixEnd("r/")).ok());
  ASSERT_TRUE((*txn)->Set("r/5", "mine").ok());
  ASSERT_TRUE(Put(*engine_, "r/2", "written meanwhile").ok());
  ASSERT_TRUE(engine_->Commit(std::move(*txn)).ok());
  std::vector<KeyValue> rows;
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& t) -> Status {
                ASSIGN_OR_RETURN(rows, t.Scan("", ""));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(rows, (std::vector<KeyValue>{{"r/5", "mine"}}));
}

// Random writes, deletes and range deletes in a Txn, with scans of random
// bounds and limits over more keys than one page, checked against the mem engine.
TEST_F(RedisServerTest, ScansMergeOwnWritesLikeTheMemEngine) {
  auto mem = NewMemEngine();
  auto key = [](int i) {
    std::string k = "k" + std::to_string(10000 + i);
    if (i % 7 == 0) k += '\0';
    return k;
  };
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                for (int i = 0; i < 2500; i += 1) RETURN_IF_ERROR(txn.Set(key(i), "s" + key(i)));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(RunTxn(*mem, [&](Txn& txn) -> Status {
                for (int i = 0; i < 2500; i += 1) RETURN_IF_ERROR(txn.Set(key(i), "s" + key(i)));
                return Status::Ok();
              }).ok());
  std::mt19937 rng(42);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int round = 0; round < 20; ++round) {
    auto r = engine_->Begin(false);
    auto m = mem->Begin(false);
    ASSERT_TRUE(r.has_value() && m.has_value());
    for (int op = 0; op < 30; ++op) {
      int i = pick(3000);
      int kind = pick(10);
      Status a, b;
      if (kind < 5) {
        std::string v = "r" + std::to_string(round) + "-" + std::to_string(op);
        a = (*r)->Set(key(i), v);
        b = (*m)->Set(key(i), v);
      } else if (kind < 8) {
        a = (*r)->Delete(key(i));
        b = (*m)->Delete(key(i));
      } else {
        std::string end = kind == 9 && pick(4) == 0 ? "" : key(i + pick(400));
        a = (*r)->DeleteRange(key(i), end);
        b = (*m)->DeleteRange(key(i), end);
      }
      ASSERT_TRUE(a.ok() && b.ok()) << a.ToString() << b.ToString();
      std::string begin = pick(5) == 0 ? "" : key(pick(3000));
      std::string end = pick(5) == 0 ? "" : key(pick(3000));
      size_t limit = pick(3) == 0 ? 0 : pick(1500);
      auto got = (*r)->Scan(begin, end, limit);
      auto want = (*m)->Scan(begin, end, limit);
      ASSERT_TRUE(got.has_value()) << got.error().ToString();
      ASSERT_EQ(*got, *want) << "round " << round << " op " << op << " limit " << limit;
      int probe = pick(3000);
      EXPECT_EQ((*r)->Get(key(probe)).value(), (*m)->Get(key(probe)).value());
    }
    ASSERT_TRUE(engine_->Commit(std::move(*r)).ok());
    ASSERT_TRUE(mem->Commit(std::move(*m)).ok());
  }
  std::vector<KeyValue> got, want;
  ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(got, txn.Scan("", ""));
                return Status::Ok();
              }).ok());
  ASSERT_TRUE(RunTxn(*mem, [&](Txn& txn) -> Status {
                ASSIGN_OR_RETURN(want, txn.Scan("", ""));
                return Status::Ok();
              }).ok());
  EXPECT_EQ(got, want);
}

// Not a test: prints the rate of one-key write transactions from one thread.
TEST_F(RedisServerTest, DISABLED_SingleKeySetThroughput) {
  constexpr int kTxns = 10000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kTxns; ++i) {
    ASSERT_TRUE(Put(*engine_, "bench/" + std::to_string(i), "value").ok());
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << kTxns << " Set transactions in " << s << " s: " << kTxns / s << " txn/s\n";
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < kTxns; ++i) {
    ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                  ASSIGN_OR_RETURN(auto v, txn.Get("bench/" + std::to_string(i)));
                  return txn.Set("bench/" + std::to_string(i), v.value_or("") + "x");
                }).ok());
  }
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << kTxns << " Get+Set transactions in " << s << " s: " << kTxns / s << " txn/s\n";
}

// --- On a server of the test's own ---

TEST(RedisOwnServerTest, Passwords) {
  LocalRedis server({"--requirepass", "s3cret"});
  START_OR_SKIP(server);
  auto none = OpenEngine(server.Url());
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), Code::kAccess);
  EXPECT_TRUE(Contains(none.error().message(), "requires a password")) << none.error().message();
  auto wrong = OpenEngine(server.Url(":wrong@"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), Code::kAccess);
  EXPECT_TRUE(Contains(wrong.error().message(), "wrong user or password"))
      << wrong.error().message();
  EXPECT_FALSE(Contains(wrong.error().message(), ":wrong@"));
  auto user = OpenEngine(server.Url("default:s3cret@"));
  ASSERT_TRUE(user.has_value()) << user.error().ToString();
  auto engine = MustOpen(server.Url(":s3cret@"));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  EXPECT_EQ(Read(**user, "k"), "v");
}

TEST(RedisOwnServerTest, RecoversAfterARestart) {
  LocalRedis server;
  START_OR_SKIP(server);
  auto engine = MustOpen(server.Url("", "?retry=20"));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "kept", "yes").ok());
  server.Stop();
  // A read while the server is down waits for it to come back.
  std::optional<std::string> seen;
  std::thread reader([&] { seen = Read(*engine, "kept"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Status st = server.Start();
  reader.join();
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, "yes");
  ASSERT_TRUE(Put(*engine, "after", "restart").ok());
  // Restarted again while idle: the pooled connections are dead, scripts gone.
  server.Stop();
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Read(*engine, "after"), "restart");
  ASSERT_TRUE(Put(*engine, "again", "1").ok());
}

TEST(RedisOwnServerTest, ServerStaysDown) {
  LocalRedis server;
  START_OR_SKIP(server);
  auto engine = MustOpen(server.Url("", "?retry=0.3"));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  server.Stop();
  Status st = RunTxn(*engine, [](Txn& txn) { return StatusOf(txn.Get("k")); });
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "connection refused — is redis-server running?"))
      << st.message();
  EXPECT_TRUE(Contains(st.message(), "gave up after retrying for 0.3 s")) << st.message();
  st = Put(*engine, "k", "w");  // a commit that surely did not reach the server
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_FALSE(Contains(st.message(), "outcome")) << st.message();
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(Read(*engine, "k"), "v");
}

TEST(RedisOwnServerTest, CommitWithoutAReplyIsNotResent) {
  LocalRedis server;
  START_OR_SKIP(server);
  auto engine = MustOpen(server.Url("", "?timeout=0.3&retry=10"));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  // Scripts wait while writes are paused: the commit times out after being sent.
  ASSERT_TRUE(Command(server.port(), {"CLIENT", "PAUSE", "1500", "WRITE"}));
  Status st = Put(*engine, "k", "w");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "outcome is unknown")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "no reply within 0.3 s")) << st.message();
  // A read retries through the pause.
  auto value = Read(*engine, "k");
  EXPECT_TRUE(value == "v" || value == "w") << value.value_or("<absent>");
  ASSERT_TRUE(Put(*engine, "k", "x").ok());
  EXPECT_EQ(Read(*engine, "k"), "x");
}

}  // namespace
}  // namespace tessera::kv
