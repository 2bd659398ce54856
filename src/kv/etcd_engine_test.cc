// Tests of what is particular to the etcd engine (the contract suite in
// engine_test.cc covers the rest): its URL, unreachable and failed-over
// endpoints, prefixes, how conflicts are detected, etcd's limits, paging,
// and connection loss, simulated by a TCP proxy in front of the server named
// by TESSERA_TEST_ETCD_URL (scripts/etcd.sh). Tests that need the server
// skip without it, or fail under TESSERA_TEST_REQUIRE_SERVERS=1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "kv/engine.h"
#include "kv/etcd_client.h"
#include "kv/test_util.h"

namespace tessera::kv {
namespace {

using testing::Put;
using testing::Read;

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

Status OpenStatus(const std::string& url) { return testing::StatusOf(OpenEngine(url)); }

TEST(EtcdBase64Test, RoundTripsAndRejectsGarbage) {
  // RFC 4648's examples, and every byte value.
  const std::vector<std::pair<std::string, std::string>> cases = {{"", ""},
                                                                  {"f", "Zg=="},
                                                                  {"fo", "Zm8="},
                                                                  {"foo", "Zm9v"},
                                                                  {"foob", "Zm9vYg=="},
                                                                  {"fooba", "Zm9vYmE="},
                                                                  {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : cases) {
    EXPECT_EQ(etcd::Base64Encode(plain), coded);
    EXPECT_EQ(etcd::Base64Decode(coded).value(), plain);
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(etcd::Base64Decode(etcd::Base64Encode(all)).value(), all);
  for (const char* bad : {"Zg=", "Z===", "Zm9v!A==", "=Zm9"}) {
    EXPECT_EQ(etcd::Base64Decode(bad).error().code(), Code::kCorrupt) << bad;
  }
}

TEST(EtcdUrlTest, SaysWhatIsWrong) {
  struct Case {
    std::string url;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"etcd://127.0.0.1:2379", "names no key prefix"},
           {"etcd://127.0.0.1:2379/", "names no key prefix"},
           {"etcd://127.0.0.1:2379/a/b", "may hold only letters"},
           {"etcd://127.0.0.1:2379/a b", "may hold only letters"},
           {"etcd://127.0.0.1:2379,h2:x/p", "bad etcd endpoint 'h2:x'"},
           {"etcd://127.0.0.1:2379,/p", "bad etcd endpoint ''"},
           {"etcd://127.0.0.1:2379/p?bogus=1", "unknown etcd option 'bogus'"},
           {"etcd://127.0.0.1:2379/p?retry_for=soon", "retry_for='soon'"},
           {"etcd://127.0.0.1:2379/p?connections=0", "connections='0'"},
           {"etcd://:secret@127.0.0.1:2379/p", "has a password but no user"},
       }) {
    Status st = OpenStatus(c.url);
    EXPECT_EQ(st.code(), Code::kInvalid) << c.url << ": " << st.ToString();
    EXPECT_TRUE(Contains(st.message(), c.want)) << c.url << ": " << st.message();
    EXPECT_FALSE(Contains(st.message(), "secret")) << st.message();
  }
  Status st = OpenStatus("etcd://127.0.0.1:2379/p?bogus=1");
  EXPECT_TRUE(Contains(st.message(), "connect_timeout=SECONDS")) << st.message();
}

TEST(EtcdUrlTest, UnreachableEndpointsSaySo) {
  // Nothing listens on port 1; an engine that cannot reach any endpoint says
  // so at once, without printing the password.
  Status st = OpenStatus("etcd://u:secret@127.0.0.1:1/p");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "etcd 127.0.0.1:1: connection refused — is etcd running?"))
      << st.message();
  EXPECT_FALSE(Contains(st.message(), "secret")) << st.message();
  st = OpenStatus("etcd://127.0.0.1:1,127.0.0.1:2/p");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "connection refused")) << st.message();
}

// A TCP proxy on 127.0.0.1 in front of the etcd server: Stop() drops every
// connection and refuses new ones, as a restarting server does; Start()
// listens again on the same port. In swallow mode it reads each request and
// closes the connection without an answer, as a server that dies mid-request.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) { Start(); }
  ~TcpProxy() { Stop(); }

  int port() const { return port_; }
  // Drops the connections, then serves new ones normally or by swallowing.
  void SetSwallow(bool swallow) {
    Stop();
    swallow_ = swallow;
    Start();
  }

  void Start() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(listen_fd_ >= 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr = Loopback(port_);
    CHECK(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    CHECK(listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    stop_ = false;
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  void Stop() {
    if (!acceptor_.joinable()) return;
    stop_ = true;
    acceptor_.join();
    close(listen_fd_);
    std::vector<std::thread> pumps;
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) shutdown(fd, SHUT_RDWR);
      pumps.swap(pumps_);
    }
    for (auto& t : pumps) t.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) close(fd);
    fds_.clear();
  }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
  }

  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int server = -1;
      if (!swallow_) {
        server = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr = Loopback(target_port_);
        if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
          close(server);
          close(client);
          continue;
        }
      }
      std::lock_guard lock(mu_);
      fds_.push_back(client);
      if (server >= 0) fds_.push_back(server);
      pumps_.emplace_back([this, client, server] { Pump(client, server); });
    }
  }

  // Copies bytes both ways until either side closes; with server < 0 reads
  // one request and hangs up.
  void Pump(int client, int server) {
    char buf[16384];
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    for (;;) {
      if (poll(p, server >= 0 ? 2 : 1, 1000) < 0) return;
      for (int i = 0; i < 2; ++i) {
        if (p[i].fd < 0 || p[i].revents == 0) continue;
        ssize_t n = read(p[i].fd, buf, sizeof(buf));
        if (n <= 0 || server < 0) {
          if (server < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          shutdown(client, SHUT_RDWR);
          if (server >= 0) shutdown(server, SHUT_RDWR);
          return;
        }
        if (write(p[1 - i].fd, buf, n) != n) return;
      }
    }
  }

  const int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> swallow_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;            // guarded by mu_
  std::vector<std::thread> pumps_;  // guarded by mu_
};

class EtcdEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::ServerTestUrl(testing::Server::kEtcd, "", 0)) {
      if (!testing::ServersRequired()) GTEST_SKIP() << "etcd server not configured";
      FAIL() << testing::ServerEnvVar(testing::Server::kEtcd) << " is unset";
    }
    engine_ = Open("etcd_test");
    ASSERT_NE(engine_, nullptr);
  }

  // What follows "etcd://" in the test server's URL: "[user:password@]host:port".
  static std::string Authority() {
    std::string url = getenv(testing::ServerEnvVar(testing::Server::kEtcd));
    return url.substr(url.find("://") + 3);
  }
  static std::string UserInfo() { return Authority().substr(0, Authority().rfind('@') + 1); }
  static std::string Endpoint() { return Authority().substr(UserInfo().size()); }
  static int ServerPort() { return std::stoi(Endpoint().substr(Endpoint().rfind(':') + 1)); }

  // An emptied engine on the test server under `prefix`, reached through `endpoints`.
  static std::unique_ptr<Engine> Open(const std::string& prefix, std::string endpoints = "",
                                      const std::string& options = "") {
    if (endpoints.empty()) endpoints = Endpoint();
    auto engine = OpenEngine("etcd://" + UserInfo() + endpoints + "/" + prefix + options);
    EXPECT_TRUE(engine.has_value()) << engine.error().ToString();
    if (!engine.has_value()) return nullptr;
    Status st = (*engine)->Reset();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return std::move(*engine);
  }

  std::unique_ptr<Txn> Begin(bool read_only = false) {
    auto txn = engine_->Begin(read_only);
    EXPECT_TRUE(txn.has_value());
    return std::move(*txn);
  }

  size_t Count(std::string_view prefix) {
    std::vector<KeyValue> kvs;
    Status st = RunTxn(*engine_,
                       [&](Txn& txn) -> Status {
                         ASSIGN_OR_RETURN(kvs, txn.Scan(prefix, PrefixEnd(prefix)));
                         return Status::Ok();
                       },
                       {.read_only = true});
    EXPECT_TRUE(st.ok()) << st.ToString();
    return kvs.size();
  }

  std::unique_ptr<Engine> engine_;
};

TEST_F(EtcdEngineTest, NameAndFailoverToAnotherEndpoint) {
  EXPECT_EQ(engine_->Name(), "etcd");
  ASSERT_TRUE(Put(*engine_, "k", "v").ok());
  for (const std::string& eps : {"127.0.0.1:1," + Endpoint(), Endpoint() + ",127.0.0.1:1"}) {
    auto other = OpenEngine("etcd://" + UserInfo() + eps + "/etcd_test");
    ASSERT_TRUE(other.has_value()) << eps << ": " << other.error().ToString();
    EXPECT_EQ(Read(**other, "k"), "v") << eps;
    ASSERT_TRUE(Put(**other, "k2", eps).ok()) << eps;
    EXPECT_EQ(Read(*engine_, "k2"), eps);
  }
}

TEST_F(EtcdEngineTest, PrefixesDoNotSeeEachOther) {
  auto ab = Open("etcd_test_ab");
  ASSERT_NE(ab, nullptr);
  ASSERT_TRUE(Put(*engine_, "k", "a").ok());
  ASSERT_TRUE(Put(*ab, "k", "ab").ok());
  ASSERT_TRUE(Put(*ab, "\xff", "ab").ok());
  EXPECT_EQ(Count(""), 1u);
  ASSERT_TRUE(engine_->Reset().ok());
  EXPECT_EQ(Read(*ab, "k"), "ab");
  EXPECT_EQ(Read(*ab, "\xff"), "ab");
  EXPECT_TRUE(ab->Reset().ok());
}

TEST_F(EtcdEngineTest, ChangedReadConflicts) {
  ASSERT_TRUE(Put(*engine_, "k", "1").ok());
  auto txn = Begin();
  ASSERT_EQ(txn->Get("k").value(), "1");
  ASSERT_EQ(txn->Get("absent").value(), std::nullopt);
  ASSERT_TRUE(txn->Set("out", "x").ok());
  ASSERT_TRUE(Put(*engine_, "k", "2").ok());
  Status st = engine_->Commit(std::move(txn));
  EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
  EXPECT_EQ(Read(*engine_, "out"), std::nullopt);

  // A key absent when read and created since.
  txn = Begin();
  ASSERT_EQ(txn->Get("absent").value(), std::nullopt);
  ASSERT_TRUE(txn->Set("out", "x").ok());
  ASSERT_TRUE(Put(*engine_, "absent", "now").ok());
  EXPECT_EQ(engine_->Commit(std::move(txn)).code(), Code::kConflict);
}

TEST_F(EtcdEngineTest, ScanConflictsWithInsertChangeAndDelete) {
  using Change = std::function<Status(Txn&)>;
  for (const Change& change : std::vector<Change>{
           [](Txn& t) { return t.Set("d/3", "new"); },  // a phantom
           [](Txn& t) { return t.Set("d/1", "changed"); },
           [](Txn& t) { return t.Delete("d/2"); },  // invisible to a range compare
       }) {
    ASSERT_TRUE(engine_->Reset().ok());
    ASSERT_TRUE(Put(*engine_, "d/1", "1").ok());
    ASSERT_TRUE(Put(*engine_, "d/2", "2").ok());
    auto txn = Begin();
    ASSERT_EQ(txn->Scan("d/", PrefixEnd("d/")).value().size(), 2u);
    ASSERT_TRUE(txn->Set("sum", "3").ok());
    ASSERT_TRUE(RunTxn(*engine_, change).ok());
    Status st = engine_->Commit(std::move(txn));
    EXPECT_EQ(st.code(), Code::kConflict) << st.ToString();
    EXPECT_EQ(Read(*engine_, "sum"), std::nullopt);
  }
}

TEST_F(EtcdEngineTest, ScanWithLimitDependsOnlyOnWhatItReturned) {
  ASSERT_TRUE(Put(*engine_, "d/1", "1").ok());
  auto txn = Begin();
  ASSERT_EQ(txn->Scan("d/", PrefixEnd("d/"), 1).value(), (std::vector<KeyValue>{{"d/1", "1"}}));
  ASSERT_TRUE(txn->Set("first", "d/1").ok());
  ASSERT_TRUE(Put(*engine_, "d/9", "9").ok());  // past the one key returned
  EXPECT_TRUE(engine_->Commit(std::move(txn)).ok());
}

TEST_F(EtcdEngineTest, ReadOnlyTxnReadsOneSnapshot) {
  ASSERT_TRUE(Put(*engine_, "a", "1").ok());
  ASSERT_TRUE(Put(*engine_, "b", "1").ok());
  auto reader = Begin(true);
  ASSERT_EQ(reader->Get("a").value(), "1");
  ASSERT_TRUE(RunTxn(*engine_, [](Txn& t) -> Status {
                RETURN_IF_ERROR(t.Set("a", "2"));
                return t.Set("b", "2");
              }).ok());
  EXPECT_EQ(reader->Get("b").value(), "1");
  EXPECT_EQ(reader->BatchGet({"a", "b"}).value(),
            (std::vector<std::optional<std::string>>{"1", "1"}));
  EXPECT_EQ(reader->Scan("", "").value().size(), 2u);
  EXPECT_TRUE(engine_->Commit(std::move(reader)).ok());
}

TEST_F(EtcdEngineTest, OverTheServerLimitsNothingIsApplied) {
  auto txn = Begin();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(txn->Set("many/" + std::to_string(i), "v").ok());
  Status st = engine_->Commit(std::move(txn));
  EXPECT_EQ(st.code(), Code::kTooBig) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "--max-txn-ops")) << st.message();
  EXPECT_TRUE(Contains(st.message(), "200 writes")) << st.message();
  EXPECT_EQ(Count("many/"), 0u);

  txn = Begin();
  ASSERT_TRUE(txn->Set("small", "v").ok());
  ASSERT_TRUE(txn->Set("big", std::string(2 << 20, 'x')).ok());
  st = engine_->Commit(std::move(txn));
  EXPECT_EQ(st.code(), Code::kTooBig) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "--max-request-bytes")) << st.message();
  EXPECT_EQ(Read(*engine_, "small"), std::nullopt);
}

TEST_F(EtcdEngineTest, LargeScansAndRangeDeletes) {
  constexpr int kKeys = 2500;  // more than two pages
  auto key = [](int i) {
    char buf[16];
    snprintf(buf, sizeof(buf), "p/%05d", i);
    return std::string(buf);
  };
  for (int first = 0; first < kKeys; first += 100) {
    ASSERT_TRUE(RunTxn(*engine_, [&](Txn& txn) -> Status {
                  for (int i = first; i < first + 100; ++i) RETURN_IF_ERROR(txn.Set(key(i), "v"));
                  return Status::Ok();
                }).ok());
  }
  auto reader = Begin(true);
  auto all = reader->Scan("p/", PrefixEnd("p/")).value();
  ASSERT_EQ(all.size(), size_t{kKeys});
  for (int i = 0; i < kKeys; ++i) ASSERT_EQ(all[i].first, key(i));
  EXPECT_EQ(reader->Scan("p/", "", 1500).value().size(), 1500u);
  engine_->Abort(std::move(reader));

  // One delete-range op, cut around keys set inside it afterwards; reads in
  // the transaction see the result.
  Status st = RunTxn(*engine_, [&](Txn& txn) -> Status {
    RETURN_IF_ERROR(txn.Delete(key(7)));
    RETURN_IF_ERROR(txn.DeleteRange("p/", PrefixEnd("p/")));
    RETURN_IF_ERROR(txn.Set(key(5), "kept"));
    RETURN_IF_ERROR(txn.Set(key(2000), "kept"));
    RETURN_IF_ERROR(txn.Delete(key(9)));
    ASSIGN_OR_RETURN(auto left, txn.Scan("p/", PrefixEnd("p/")));
    EXPECT_EQ(left, (std::vector<KeyValue>{{key(5), "kept"}, {key(2000), "kept"}}));
    ASSIGN_OR_RETURN(auto gone, txn.Get(key(6)));
    EXPECT_EQ(gone, std::nullopt);
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Count("p/"), 2u);
  EXPECT_EQ(Read(*engine_, key(2000)), "kept");
}

TEST_F(EtcdEngineTest, ReadsRetryUntilTheServerIsBack) {
  TcpProxy proxy(ServerPort());
  auto engine = Open("etcd_test", "127.0.0.1:" + std::to_string(proxy.port()));
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  proxy.Stop();
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    proxy.Start();
  });
  EXPECT_EQ(Read(*engine, "k"), "v");  // retried while the server was away
  restart.join();
  // A commit that could not connect reached no server: it is retried too.
  proxy.Stop();
  restart = std::thread([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    proxy.Start();
  });
  EXPECT_TRUE(Put(*engine, "k", "w").ok());
  restart.join();
  EXPECT_EQ(Read(*engine, "k"), "w");
}

TEST_F(EtcdEngineTest, GivesUpClearlyAndRecovers) {
  TcpProxy proxy(ServerPort());
  std::string endpoint = "127.0.0.1:" + std::to_string(proxy.port());
  auto engine = Open("etcd_test", endpoint, "?retry_for=0.5");
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  proxy.Stop();
  Status st = RunTxn(*engine, [](Txn& txn) { return testing::StatusOf(txn.Get("k")); });
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "etcd " + endpoint + ": connection refused")) << st.message();
  st = Put(*engine, "k", "w");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "nothing was applied")) << st.message();
  proxy.Start();
  EXPECT_EQ(Read(*engine, "k"), "v");
  EXPECT_TRUE(Put(*engine, "k", "w").ok());
}

TEST_F(EtcdEngineTest, CommitWithoutAnAnswerIsNotResent) {
  TcpProxy proxy(ServerPort());
  auto engine = Open("etcd_test", "127.0.0.1:" + std::to_string(proxy.port()), "?retry_for=0.5");
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(Put(*engine, "k", "v").ok());
  proxy.SetSwallow(true);
  Status st = Put(*engine, "k", "w");
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_TRUE(Contains(st.message(), "outcome unknown")) << st.message();
  st = RunTxn(*engine, [](Txn& txn) { return testing::StatusOf(txn.Get("k")); });
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_FALSE(Contains(st.message(), "outcome unknown")) << st.message();
  proxy.SetSwallow(false);
  EXPECT_EQ(Read(*engine, "k"), "v");
}

// A rough figure, not a check: run with --gtest_also_run_disabled_tests.
TEST_F(EtcdEngineTest, DISABLED_SingleKeySetsPerSecond) {
  constexpr int kSets = 10'000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kSets; ++i)
    ASSERT_TRUE(Put(*engine_, "bench/" + std::to_string(i), "v").ok());
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  printf("%d single-key Set transactions in %.1f s: %.0f/s\n", kSets, took.count(),
         kSets / took.count());
}

}  // namespace
}  // namespace tessera::kv
