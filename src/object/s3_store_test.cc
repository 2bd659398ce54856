// The S3 backend against real servers, named by the environment as for the
// contract suite in store_test.cc: TESSERA_TEST_RGW_{ENDPOINT,ACCESS_KEY,
// SECRET_KEY} (Ceph RGW, scripts/ceph-rgw.sh) and TESSERA_TEST_S3RVER_{...}
// (scripts/s3rver.sh). Suites for an absent server are not instantiated.
// Also what needs no server: an unreachable endpoint, Describe().
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include "object/s3.h"

namespace tessera::object {
namespace {

using Clock = std::chrono::steady_clock;

struct Server {
  std::string name;
  std::string env;  // variable prefix
};

void PrintTo(const Server& server, std::ostream* os) { *os << server.name; }

std::string Env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

std::vector<Server> Servers(bool rgw_only) {
  std::vector<Server> out;
  if (!Env("TESSERA_TEST_RGW_ENDPOINT").empty()) out.push_back({"s3_rgw", "TESSERA_TEST_RGW"});
  if (!rgw_only && !Env("TESSERA_TEST_S3RVER_ENDPOINT").empty()) {
    out.push_back({"s3rver", "TESSERA_TEST_S3RVER"});
  }
  return out;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, 8);
  }
  for (size_t i = n & ~size_t{7}; i < n; ++i) out[i] = static_cast<char>(rng());
  return out;
}

double MiBps(size_t bytes, Clock::duration d) {
  return bytes / 1048576.0 / std::chrono::duration<double>(d).count();
}

// A fresh bucket per test on the server named by the parameter.
class S3ServerTest : public ::testing::TestWithParam<Server> {
 protected:
  void SetUp() override {
    opts_ = Options();
    store_ = NewS3Store(opts_);
    Status st = store_->Create();
    ASSERT_TRUE(st.ok()) << st.message();
  }

  S3Options Options() const {
    static std::mt19937_64 rng(std::random_device{}());
    S3Options opts;
    opts.endpoint = Env(GetParam().env + "_ENDPOINT");
    opts.access_key = Env(GetParam().env + "_ACCESS_KEY");
    opts.secret_key = Env(GetParam().env + "_SECRET_KEY");
    if (!Env(GetParam().env + "_REGION").empty()) opts.region = Env(GetParam().env + "_REGION");
    opts.bucket = "tessera-s3test-" + std::to_string(rng());
    return opts;
  }

  S3Options opts_;
  std::unique_ptr<ObjectStore> store_;
};

void RoundTrip(ObjectStore& store, const std::string& key, const std::string& data,
               size_t boundary) {
  auto t0 = Clock::now();
  Status st = store.Put(key, data);
  ASSERT_TRUE(st.ok()) << st.message();
  auto t1 = Clock::now();
  auto info = store.Head(key);
  ASSERT_TRUE(info.has_value()) << info.error().message();
  EXPECT_EQ(info->size, data.size());
  auto t2 = Clock::now();
  auto got = store.Get(key);
  auto t3 = Clock::now();
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_TRUE(*got == data);
  // A range across the boundary between two parts.
  auto range = store.Get(key, boundary - 10, 20);
  ASSERT_TRUE(range.has_value()) << range.error().message();
  EXPECT_EQ(*range, data.substr(boundary - 10, 20));
  std::cout << "  " << data.size() / 1048576.0 << " MiB: put " << MiBps(data.size(), t1 - t0)
            << " MiB/s, get " << MiBps(data.size(), t3 - t2) << " MiB/s\n";
  EXPECT_TRUE(store.Delete(key).ok());
}

TEST_P(S3ServerTest, MultipartRoundTrip) {
  // 70 MiB with 16 MiB parts in parallel: 5 parts, the last one short.
  RoundTrip(*store_, "big/object", RandomBytes((70u << 20) + 12345, 1), 16u << 20);
}

TEST_P(S3ServerTest, SequentialMultipart) {
  S3Options opts = opts_;
  opts.multipart_threshold = 5u << 20;
  opts.part_size = 5u << 20;
  opts.multipart_concurrency = 1;
  auto store = NewS3Store(opts);
  RoundTrip(*store, "seq/object", RandomBytes((12u << 20) + 1, 2), 10u << 20);
}

TEST_P(S3ServerTest, KeysNeedingEncoding) {
  std::vector<std::string> keys = {"dir/a b+c=d&e", "dir/%41~tilde*", "dir/ünï/cödé", "dir/x:y;z@"};
  for (const auto& k : keys) {
    Status st = store_->Put(k, k);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(*store_->Get(k), k);
  }
  auto page = store_->List("dir/", "dir/%41~tilde*", 10);
  ASSERT_TRUE(page.has_value()) << page.error().message();
  std::vector<std::string> got;
  for (const auto& o : page->objects) got.push_back(o.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(got, std::vector<std::string>(keys.begin() + 1, keys.end()));
}

TEST_P(S3ServerTest, CreateTwice) {
  Status st = store_->Create();
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_P(S3ServerTest, UnknownAccessKey) {
  S3Options opts = opts_;
  opts.access_key = "NOSUCHACCESSKEY00000";
  auto store = NewS3Store(opts);
  Status st = store->Put("k", "v");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kAccess) << st.message();
  EXPECT_NE(st.message().find("PUT k in s3://" + opts.bucket + " at " + opts.endpoint +
                              ": 403 InvalidAccessKeyId"),
            std::string::npos)
      << st.message();
  auto got = store->Get("k");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kAccess) << got.error().message();
}

TEST_P(S3ServerTest, MissingBucket) {
  S3Options opts = opts_;
  opts.bucket = "tessera-never-created-" + std::to_string(std::random_device{}());
  auto store = NewS3Store(opts);
  auto got = store->Get("k");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kNotFound);
  EXPECT_NE(got.error().message().find(opts.bucket), std::string::npos);
  EXPECT_NE(got.error().message().find("NoSuchBucket"), std::string::npos) << got.error().message();
  Status st = store->Put("k", "v");
  EXPECT_EQ(st.code(), Code::kNotFound) << st.message();
  EXPECT_NE(st.message().find(opts.bucket), std::string::npos);
  auto page = store->List("", "", 10);
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code(), Code::kNotFound) << page.error().message();
  EXPECT_EQ(store->Head("k").error().code(), Code::kNotFound);
}

TEST_P(S3ServerTest, ConcurrentPutsAndGets) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  S3Options opts = opts_;
  opts.max_connections = 8;  // fewer than the threads: callers wait for a connection
  auto store = NewS3Store(opts);
  auto t0 = Clock::now();
  std::atomic<size_t> bytes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "c/" + std::to_string(t) + "/" + std::to_string(i);
        std::string data = RandomBytes(1000 + (t * kPerThread + i) * 997 % 300000, t * 100 + i);
        Status st = store->Put(key, data);
        EXPECT_TRUE(st.ok()) << st.message();
        auto got = store->Get(key);
        ASSERT_TRUE(got.has_value()) << got.error().message();
        EXPECT_TRUE(*got == data) << key;
        bytes += 2 * data.size();
      }
    });
  }
  for (auto& th : threads) th.join();
  auto d = Clock::now() - t0;
  std::cout << "  " << kThreads * kPerThread * 2 << " requests, "
            << kThreads * kPerThread * 2 / std::chrono::duration<double>(d).count() << " req/s, "
            << MiBps(bytes, d) << " MiB/s\n";
  auto all = ListAll(*store, "c/");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), size_t{kThreads * kPerThread});
}

INSTANTIATE_TEST_SUITE_P(Servers, S3ServerTest, ::testing::ValuesIn(Servers(false)),
                         [](const auto& info) { return info.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(S3ServerTest);

// Signature checks: s3rver accepts any SigV4 signature.
using S3RgwTest = S3ServerTest;

TEST_P(S3RgwTest, WrongSecret) {
  ASSERT_TRUE(store_->Put("k", "v").ok());
  S3Options opts = opts_;
  opts.secret_key = "wrong" + opts.secret_key;
  auto store = NewS3Store(opts);
  Status st = store->Put("testvol/chunks/0/0/1_0_4", "data");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kAccess);
  EXPECT_NE(st.message().find("PUT testvol/chunks/0/0/1_0_4 in s3://" + opts.bucket + " at " +
                              opts.endpoint + ": 403 SignatureDoesNotMatch"),
            std::string::npos)
      << st.message();
  auto got = store->Get("k", 0, 1);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kAccess);
  EXPECT_NE(got.error().message().find("SignatureDoesNotMatch"), std::string::npos);
  auto page = store->List("a/b c", "x/y", 5);  // signed query values need encoding
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code(), Code::kAccess);
}

TEST_P(S3RgwTest, SignedQueryValues) {
  // RGW checks the signature over query values that need percent-encoding.
  ASSERT_TRUE(store_->Put("a b/c+d/e", "1").ok());
  auto page = store_->List("a b/c+d/", "a b/c+d/", 5);
  ASSERT_TRUE(page.has_value()) << page.error().message();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "a b/c+d/e");
}

TEST_P(S3RgwTest, VirtualHosted) {
  // scripts/ceph-rgw.sh sets rgw_dns_name = localhost; curl resolves
  // BUCKET.localhost to the loopback address by itself.
  S3Options opts = opts_;
  size_t host = opts.endpoint.find("127.0.0.1");
  ASSERT_NE(host, std::string::npos) << opts.endpoint;
  opts.endpoint.replace(host, 9, "localhost");
  opts.virtual_hosted = true;
  auto store = NewS3Store(opts);
  Status st = store->Put("v/h o/st", "virtual");
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(*store_->Get("v/h o/st"), "virtual");  // the same bucket, path-style
  EXPECT_EQ(*store->Get("v/h o/st", 2, 3), "rtu");
  auto page = store->List("v/", "", 10);
  ASSERT_TRUE(page.has_value()) << page.error().message();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "v/h o/st");
  EXPECT_TRUE(store->Delete("v/h o/st").ok());
  EXPECT_EQ(store_->Head("v/h o/st").error().code(), Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Servers, S3RgwTest, ::testing::ValuesIn(Servers(true)),
                         [](const auto& info) { return info.param.name; });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(S3RgwTest);

// --- no server needed ---

TEST(S3StoreTest, UnreachableEndpoint) {
  S3Options opts;
  opts.endpoint = "http://127.0.0.1:1";
  opts.bucket = "bkt";
  opts.access_key = "a";
  opts.secret_key = "s";
  auto store = NewS3Store(opts);
  EXPECT_EQ(store->Describe(), "s3://bkt@http://127.0.0.1:1");
  auto t0 = Clock::now();
  Status st = store->Put("v/k", "data");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(2));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.message(),
            "PUT v/k in s3://bkt: cannot connect to http://127.0.0.1:1: Connection refused");
  EXPECT_EQ(store->Get("v/k").error().code(), Code::kUnavailable);
  EXPECT_EQ(store->Create().code(), Code::kUnavailable);
  EXPECT_EQ(store->List("", "", 1).error().code(), Code::kUnavailable);
}

TEST(S3StoreTest, RequestTimeout) {
  // A listener that never answers: the request timeout bounds the wait.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  S3Options opts;
  opts.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  opts.bucket = "bkt";
  opts.request_timeout_ms = 300;
  auto store = NewS3Store(opts);
  auto t0 = Clock::now();
  auto got = store->Head("k");
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  ::close(fd);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kUnavailable) << got.error().message();
  EXPECT_NE(got.error().message().find("HEAD k in s3://bkt: no complete answer from " +
                                       opts.endpoint + " within 300 ms"),
            std::string::npos)
      << got.error().message();
}

}  // namespace
}  // namespace tessera::object
