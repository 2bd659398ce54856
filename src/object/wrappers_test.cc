// Tests of the store wrappers (checksum, compress, encrypt, retry, faulty),
// alone and stacked as a volume stacks them, over the in-memory store; plus a
// throughput report of the codecs (printed, never asserted).
#include "object/wrappers.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "object/wrap_codec.h"

namespace tessera::object {
namespace {

constexpr size_t kMiB = 1 << 20;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < n; ++j) s[i + j] = static_cast<char>(v >> (8 * j));
  }
  return s;
}

// Text-like data with stretches of noise: lz4 and zstd shrink it to roughly half.
std::string SemiCompressible(size_t n, uint64_t seed) {
  static const char* const kWords[] = {
      "block ",  "chunk ", "slice ", "inode ", "write ",  "read ",    "the ", "of ", "meta ",
      "object ", "store ", "cache ", "fuse ",  "volume ", "tessera ", "\n",   "0x",  "42 "};
  std::mt19937_64 rng(seed);
  std::string s;
  s.reserve(n + 256);
  while (s.size() < n) {
    if (rng() % 10 < 3) {
      s += RandomBytes(64, rng());
    } else {
      for (int i = 0; i < 16; ++i) s += kWords[rng() % std::size(kWords)];
    }
  }
  s.resize(n);
  return s;
}

std::string Key(int i) { return "vol/chunks/0/0/" + std::to_string(i) + "_0_4096"; }

// A non-owning handle, so a test can stack wrappers over a store it keeps
// using directly; counts the calls that pass through.
class Borrowed final : public ObjectStore {
 public:
  explicit Borrowed(ObjectStore* s) : s_(s) {}
  std::string Describe() const override { return s_->Describe(); }
  Status Create() override {
    ++calls;
    return s_->Create();
  }
  Status Put(std::string_view k, std::string_view d) override {
    ++calls;
    return s_->Put(k, d);
  }
  Result<std::string> Get(std::string_view k, uint64_t o, int64_t l) override {
    ++calls;
    return s_->Get(k, o, l);
  }
  Result<ObjectInfo> Head(std::string_view k) override {
    ++calls;
    return s_->Head(k);
  }
  Status Delete(std::string_view k) override {
    ++calls;
    return s_->Delete(k);
  }
  Result<ListPage> List(std::string_view p, std::string_view a, size_t l) override {
    ++calls;
    return s_->List(p, a, l);
  }
  std::atomic<int> calls{0};

 private:
  ObjectStore* s_;
};

std::string TestKey(char fill = 'k') { return std::string(codec::kDataKeySize, fill); }

RetryOptions FastRetry(int attempts = 40) {
  RetryOptions o;
  o.max_attempts = attempts;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(1);
  o.deadline = std::chrono::milliseconds(20000);
  return o;
}

// Puts objects of interesting sizes and reads them back whole and in ranges.
void ExpectRoundTrips(ObjectStore& store, const std::string& label) {
  SCOPED_TRACE(label);
  std::vector<std::string> objects = {"", "x", std::string(4 * kMiB, 'z'), RandomBytes(4 * kMiB, 7),
                                      SemiCompressible(4 * kMiB, 8)};
  std::mt19937_64 rng(9);
  for (int i = 0; i < 8; ++i) objects.push_back(RandomBytes(rng() % 70000, rng()));
  for (size_t i = 0; i < objects.size(); ++i) {
    const std::string& data = objects[i];
    const std::string key = Key(static_cast<int>(i));
    ASSERT_TRUE(store.Put(key, data).ok()) << i;
    auto whole = store.Get(key);
    ASSERT_TRUE(whole.has_value()) << i << ": " << whole.error().ToString();
    ASSERT_EQ(whole->size(), data.size()) << i;
    ASSERT_TRUE(*whole == data) << i;
    const uint64_t n = data.size();
    EXPECT_EQ(*store.Get(key, 0, 1), data.substr(0, 1));
    EXPECT_EQ(*store.Get(key, n / 2, 100), data.substr(n / 2, 100));
    EXPECT_EQ(*store.Get(key, n > 10 ? n - 10 : 0, -1), data.substr(n > 10 ? n - 10 : 0));
    EXPECT_EQ(*store.Get(key, n + 5, 10), "");
    EXPECT_EQ(*store.Get(key, 0, 0), "");
  }
  auto missing = store.Get("vol/missing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
}

// ---- checksum -------------------------------------------------------------

TEST(ChecksumStoreTest, RoundTrips) {
  auto store = NewChecksumStore(NewMemStore());
  ExpectRoundTrips(*store, "checksum");
}

TEST(ChecksumStoreTest, HeadAndListReportPayloadSizes) {
  auto mem = NewMemStore();
  auto store = NewChecksumStore(std::make_unique<Borrowed>(mem.get()));
  ASSERT_TRUE(store->Put("a", std::string(1000, 'a')).ok());
  ASSERT_TRUE(mem->Put("short", "tiny").ok());
  EXPECT_EQ(mem->Head("a")->size, 1000 + codec::kChecksumHeaderSize);
  EXPECT_EQ(store->Head("a")->size, 1000u);
  auto page = store->List("", "", 10);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].size, 1000u);
  EXPECT_EQ(page->objects[1].size, 0u);
}

TEST(ChecksumStoreTest, FlippedByteIsCorrupt) {
  auto mem = NewMemStore();
  auto store = NewChecksumStore(std::make_unique<Borrowed>(mem.get()));
  const std::string data = RandomBytes(100000, 1);
  ASSERT_TRUE(store->Put("blk", data).ok());
  std::string raw = *mem->Get("blk");
  for (size_t pos : {size_t{2}, size_t{10}, size_t{20}, raw.size() / 2, raw.size() - 1}) {
    std::string bad = raw;
    bad[pos] ^= 0x01;
    ASSERT_TRUE(mem->Put("blk", bad).ok());
    auto got = store->Get("blk", 0, 10);
    ASSERT_FALSE(got.has_value()) << pos;
    EXPECT_EQ(got.error().code(), Code::kCorrupt) << pos;
    EXPECT_NE(got.error().message().find("blk"), std::string::npos) << got.error().message();
  }
  ASSERT_TRUE(mem->Put("blk", raw).ok());
  EXPECT_EQ(*store->Get("blk"), data);
}

TEST(ChecksumStoreTest, TruncatedIsCorrupt) {
  auto mem = NewMemStore();
  auto store = NewChecksumStore(std::make_unique<Borrowed>(mem.get()));
  ASSERT_TRUE(store->Put("blk", RandomBytes(5000, 2)).ok());
  const std::string raw = *mem->Get("blk");
  for (size_t len :
       {raw.size() - 1, raw.size() / 2, codec::kChecksumHeaderSize, size_t{5}, size_t{0}}) {
    ASSERT_TRUE(mem->Put("blk", raw.substr(0, len)).ok());
    auto got = store->Get("blk");
    ASSERT_FALSE(got.has_value()) << len;
    EXPECT_EQ(got.error().code(), Code::kCorrupt) << len;
    EXPECT_NE(got.error().message().find("blk"), std::string::npos);
  }
  // Extra bytes are as wrong as missing ones.
  ASSERT_TRUE(mem->Put("blk", raw + "x").ok());
  EXPECT_EQ(store->Get("blk").error().code(), Code::kCorrupt);
}

// ---- compress -------------------------------------------------------------

TEST(CompressStoreTest, RoundTripsAndShrinks) {
  for (const char* algorithm : {"lz4", "zstd"}) {
    auto mem = NewMemStore();
    auto store = NewCompressStore(std::make_unique<Borrowed>(mem.get()), algorithm);
    ASSERT_TRUE(store.has_value());
    ExpectRoundTrips(**store, algorithm);

    ASSERT_TRUE((*store)->Put("zeros", std::string(4 * kMiB, '\0')).ok());
    const uint64_t zeros = mem->Head("zeros")->size;
    EXPECT_LT(zeros, 64 * 1024u) << algorithm;
    EXPECT_EQ((*store)->Head("zeros")->size, 4 * kMiB);  // Head: the original size
    auto page = (*store)->List("zeros", "", 10);         // List: the stored size
    ASSERT_EQ(page->objects.size(), 1u);
    EXPECT_EQ(page->objects[0].size, zeros);

    const std::string noise = RandomBytes(4 * kMiB, 3);
    ASSERT_TRUE((*store)->Put("noise", noise).ok());
    EXPECT_EQ(mem->Head("noise")->size, 4 * kMiB + codec::kCompressHeaderSize) << algorithm;
    EXPECT_EQ(*(*store)->Get("noise"), noise);

    const std::string semi = SemiCompressible(4 * kMiB, 4);
    ASSERT_TRUE((*store)->Put("semi", semi).ok());
    std::printf("[ info     ] %s: 4 MiB zeros -> %llu bytes, semi-compressible -> %.2f MiB\n",
                algorithm, static_cast<unsigned long long>(zeros),
                static_cast<double>(mem->Head("semi")->size) / kMiB);
  }
}

TEST(CompressStoreTest, DamageIsCorrupt) {
  for (const char* algorithm : {"lz4", "zstd"}) {
    auto mem = NewMemStore();
    auto store = *NewCompressStore(std::make_unique<Borrowed>(mem.get()), algorithm);
    ASSERT_TRUE(store->Put("blk", SemiCompressible(300000, 5)).ok());
    const std::string raw = *mem->Get("blk");
    ASSERT_NE(raw[0], 0) << "expected a compressed frame";
    std::vector<std::string> damaged = {
        raw.substr(0, raw.size() / 2),           // truncated stream
        raw.substr(0, 5),                        // truncated header
        std::string(1, '\x07') + raw.substr(1),  // unknown flag
        raw.substr(0, 1) + std::string("\x7f\0\0\0\0\0\0\0", 8) + raw.substr(9),  // huge length
        raw.substr(0, 8) + "\x01" + raw.substr(9),                                // wrong length
    };
    for (size_t i = 0; i < damaged.size(); ++i) {
      ASSERT_TRUE(mem->Put("blk", damaged[i]).ok());
      auto got = store->Get("blk");
      ASSERT_FALSE(got.has_value()) << algorithm << " " << i;
      EXPECT_EQ(got.error().code(), Code::kCorrupt) << algorithm << " " << i;
    }
  }
}

TEST(CompressStoreTest, UnknownAlgorithmIsInvalid) {
  auto store = NewCompressStore(NewMemStore(), "gzip");
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code(), Code::kInvalid);
}

// ---- encrypt --------------------------------------------------------------

TEST(EncryptStoreTest, RoundTrips) {
  auto store = NewEncryptStore(NewMemStore(), TestKey());
  ASSERT_TRUE(store.has_value());
  ExpectRoundTrips(**store, "encrypt");
}

TEST(EncryptStoreTest, WrongKeyLengthIsInvalid) {
  for (size_t n : {size_t{0}, size_t{16}, size_t{31}, size_t{33}}) {
    auto store = NewEncryptStore(NewMemStore(), std::string(n, 'k'));
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code(), Code::kInvalid);
  }
}

TEST(EncryptStoreTest, StoredBytesHideThePlaintext) {
  auto mem = NewMemStore();
  auto store = *NewEncryptStore(std::make_unique<Borrowed>(mem.get()), TestKey());
  std::string data;
  for (int i = 0; i < 1000; ++i) data += "PLAINTEXT-MARKER-" + std::to_string(i) + ";";
  ASSERT_TRUE(store->Put("a", data).ok());
  ASSERT_TRUE(store->Put("b", data).ok());
  const std::string raw = *mem->Get("a");
  EXPECT_EQ(raw.find("PLAINTEXT-MARKER"), std::string::npos);
  EXPECT_EQ(raw.size(), data.size() + codec::kSealOverhead);
  EXPECT_NE(raw.substr(1), mem->Get("b")->substr(1)) << "nonces must differ";
  EXPECT_EQ(store->Head("a")->size, data.size());
  EXPECT_EQ(store->List("", "", 10)->objects[1].size, data.size());
  EXPECT_EQ(*store->Get("a"), data);
}

TEST(EncryptStoreTest, DamageWrongKeyAndMovedBlocksFail) {
  auto mem = NewMemStore();
  auto store = *NewEncryptStore(std::make_unique<Borrowed>(mem.get()), TestKey('a'));
  auto other = *NewEncryptStore(std::make_unique<Borrowed>(mem.get()), TestKey('b'));
  const std::string data = SemiCompressible(200000, 6);
  ASSERT_TRUE(store->Put("blk", data).ok());
  const std::string raw = *mem->Get("blk");
  auto expect_auth_failure = [&](ObjectStore& s, const std::string& key) {
    auto got = s.Get(key, 0, 10);
    ASSERT_FALSE(got.has_value()) << key;
    EXPECT_EQ(got.error().code(), Code::kCorrupt);
    EXPECT_NE(got.error().message().find("failed authentication"), std::string::npos)
        << got.error().message();
    EXPECT_NE(got.error().message().find(key), std::string::npos);
  };

  expect_auth_failure(*other, "blk");  // the same object under another key
  ASSERT_TRUE(mem->Put("copied", raw).ok());
  expect_auth_failure(*store, "copied");  // moved to another name
  for (size_t pos : {size_t{1}, size_t{13}, raw.size() / 2, raw.size() - 1}) {
    std::string bad = raw;
    bad[pos] ^= 0x20;
    ASSERT_TRUE(mem->Put("blk", bad).ok());
    expect_auth_failure(*store, "blk");
  }
  ASSERT_TRUE(mem->Put("blk", raw.substr(0, 20)).ok());
  EXPECT_EQ(store->Get("blk").error().code(), Code::kCorrupt);
  ASSERT_TRUE(mem->Put("blk", raw).ok());
  EXPECT_EQ(*store->Get("blk"), data);
}

// ---- key wrapping ---------------------------------------------------------

std::string PemOf(EVP_PKEY* key, const std::string& passphrase) {
  BIO* bio = BIO_new(BIO_s_mem());
  const bool encrypted = !passphrase.empty();
  EXPECT_EQ(PEM_write_bio_PrivateKey(
                bio, key, encrypted ? EVP_aes_256_cbc() : nullptr,
                encrypted ? reinterpret_cast<const unsigned char*>(passphrase.data()) : nullptr,
                static_cast<int>(passphrase.size()), nullptr, nullptr),
            1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  return pem;
}

class KeyWrapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EVP_PKEY* a = EVP_RSA_gen(2048);
    EVP_PKEY* b = EVP_RSA_gen(2048);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    pem_ = new std::string(PemOf(a, "correct horse"));
    plain_pem_ = new std::string(PemOf(a, ""));
    other_pem_ = new std::string(PemOf(b, "correct horse"));
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
  }
  static void TearDownTestSuite() {
    delete pem_;
    delete plain_pem_;
    delete other_pem_;
  }
  static std::string* pem_;
  static std::string* plain_pem_;
  static std::string* other_pem_;
};
std::string* KeyWrapTest::pem_ = nullptr;
std::string* KeyWrapTest::plain_pem_ = nullptr;
std::string* KeyWrapTest::other_pem_ = nullptr;

TEST_F(KeyWrapTest, RoundTrip) {
  ASSERT_NE(pem_->find("ENCRYPTED"), std::string::npos);
  auto wrapped = NewWrappedDataKey(*pem_, "correct horse");
  ASSERT_TRUE(wrapped.has_value()) << wrapped.error().ToString();
  EXPECT_EQ(wrapped->private_pem, *pem_);
  EXPECT_EQ(wrapped->wrapped_base64.size(), 344u);  // 256 bytes of RSA-2048 output
  auto key = UnwrapDataKey(*pem_, "correct horse", wrapped->wrapped_base64);
  ASSERT_TRUE(key.has_value()) << key.error().ToString();
  EXPECT_EQ(key->size(), codec::kDataKeySize);
  // The unencrypted PEM of the same key unwraps it too.
  EXPECT_EQ(*UnwrapDataKey(*plain_pem_, "", wrapped->wrapped_base64), *key);

  auto again = NewWrappedDataKey(*pem_, "correct horse");
  EXPECT_NE(*UnwrapDataKey(*pem_, "correct horse", again->wrapped_base64), *key);

  // The unwrapped key works for the objects it encrypted.
  auto mem = NewMemStore();
  auto first = *NewEncryptStore(std::make_unique<Borrowed>(mem.get()), *key);
  ASSERT_TRUE(first->Put("blk", "secret").ok());
  auto later = *NewEncryptStore(std::make_unique<Borrowed>(mem.get()),
                                *UnwrapDataKey(*pem_, "correct horse", wrapped->wrapped_base64));
  EXPECT_EQ(*later->Get("blk"), "secret");
}

TEST_F(KeyWrapTest, WrongPassphraseIsAccess) {
  auto wrapped = *NewWrappedDataKey(*pem_, "correct horse");
  for (const char* pass : {"wrong", ""}) {
    auto key = UnwrapDataKey(*pem_, pass, wrapped.wrapped_base64);
    ASSERT_FALSE(key.has_value()) << pass;
    EXPECT_EQ(key.error().code(), Code::kAccess) << pass;
    auto fresh = NewWrappedDataKey(*pem_, pass);
    ASSERT_FALSE(fresh.has_value());
    EXPECT_EQ(fresh.error().code(), Code::kAccess);
  }
  EXPECT_NE(UnwrapDataKey(*pem_, "wrong", wrapped.wrapped_base64)
                .error()
                .message()
                .find("wrong passphrase"),
            std::string::npos);
}

TEST_F(KeyWrapTest, WrongKeyIsAccess) {
  auto wrapped = *NewWrappedDataKey(*pem_, "correct horse");
  auto key = UnwrapDataKey(*other_pem_, "correct horse", wrapped.wrapped_base64);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), Code::kAccess);
}

TEST_F(KeyWrapTest, BadInputsAreInvalid) {
  EXPECT_EQ(NewWrappedDataKey("not a pem", "x").error().code(), Code::kInvalid);
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  const std::string ec_pem = PemOf(ec, "pw");
  EVP_PKEY_free(ec);
  auto not_rsa = NewWrappedDataKey(ec_pem, "pw");
  ASSERT_FALSE(not_rsa.has_value());
  EXPECT_EQ(not_rsa.error().code(), Code::kInvalid) << not_rsa.error().message();
  EVP_PKEY* small = EVP_RSA_gen(1024);
  ASSERT_NE(small, nullptr);
  const std::string small_pem = PemOf(small, "pw");
  EVP_PKEY_free(small);
  EXPECT_EQ(NewWrappedDataKey(small_pem, "pw").error().code(), Code::kInvalid);
  for (const char* b64 : {"", "abc", "!!!!", "QUJD"}) {
    auto key = UnwrapDataKey(*pem_, "correct horse", b64);
    ASSERT_FALSE(key.has_value()) << b64;
  }
  EXPECT_EQ(UnwrapDataKey(*pem_, "correct horse", "!!!!").error().code(), Code::kInvalid);
}

// ---- retry and faults ----------------------------------------------------

TEST(RetryStoreTest, HalfTheCallsFailingAllSucceed) {
  FaultPlan plan;
  plan.fail_ratio = 0.5;
  plan.seed = 42;
  auto faulty = NewFaultyStore(NewMemStore(), plan);
  FaultyStore* f = faulty.get();
  auto store = NewRetryStore(std::move(faulty), FastRetry());
  const uint64_t before = RetryCount();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(store->Put(Key(i), "data" + std::to_string(i)).ok()) << i;
  }
  for (int i = 0; i < 200; ++i) {
    auto got = store->Get(Key(i));
    ASSERT_TRUE(got.has_value()) << i << ": " << got.error().ToString();
    EXPECT_EQ(*got, "data" + std::to_string(i));
  }
  EXPECT_GT(RetryCount(), before + 100);
  EXPECT_EQ(RetryCount() - before, f->injected());  // every failure was retried once
}

TEST(RetryStoreTest, OtherErrorsAreNotRetried) {
  auto mem = NewMemStore();
  auto borrowed = std::make_unique<Borrowed>(mem.get());
  Borrowed* counter = borrowed.get();
  auto store = NewRetryStore(std::move(borrowed), FastRetry());
  const uint64_t before = RetryCount();
  auto got = store->Get("missing");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kNotFound);
  EXPECT_EQ(counter->calls.load(), 1);
  EXPECT_EQ(RetryCount(), before);

  FaultPlan plan;
  plan.fail_ratio = 1;
  plan.fail_code = Code::kIO;
  auto faulty = NewFaultyStore(NewMemStore(), plan);
  FaultyStore* f = faulty.get();
  auto io = NewRetryStore(std::move(faulty), FastRetry());
  Status st = io->Put("k", "v");
  EXPECT_EQ(st.code(), Code::kIO);
  EXPECT_EQ(st.message().find("after"), std::string::npos);
  EXPECT_EQ(f->injected(), 1u);
}

TEST(RetryStoreTest, DownFailsAfterMaxAttemptsThenRecovers) {
  auto faulty = NewFaultyStore(NewMemStore(), FaultPlan{});
  FaultyStore* f = faulty.get();
  auto store = NewRetryStore(std::move(faulty), FastRetry(4));
  f->SetDown(true);
  Status st = store->Put("k", "v");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("after 4 attempts"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("injected fault"), std::string::npos) << st.message();
  EXPECT_EQ(f->injected(), 4u);
  auto got = store->Get("k");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kUnavailable);

  f->SetDown(false);
  ASSERT_TRUE(store->Put("k", "v").ok());
  EXPECT_EQ(*store->Get("k"), "v");
}

TEST(RetryStoreTest, DeadlineStopsRetrying) {
  auto faulty = NewFaultyStore(NewMemStore(), FaultPlan{});
  faulty->SetDown(true);
  RetryOptions options;
  options.max_attempts = 1000000;
  options.initial_backoff = std::chrono::milliseconds(1);
  options.max_backoff = std::chrono::milliseconds(5);
  options.deadline = std::chrono::milliseconds(100);
  auto store = NewRetryStore(std::move(faulty), options);
  const auto start = std::chrono::steady_clock::now();
  auto got = store->Head("k");
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kUnavailable);
  EXPECT_GE(took, std::chrono::milliseconds(100));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(FaultyStoreTest, SameSeedSameFaults) {
  auto run = [](uint64_t seed) {
    FaultPlan plan;
    plan.fail_ratio = 0.3;
    plan.cut_ratio = 0.2;
    plan.seed = seed;
    auto store = NewFaultyStore(NewMemStore(), plan);
    std::string outcomes;
    for (int i = 0; i < 100; ++i) outcomes += store->Put(Key(i), "abcd").ok() ? '.' : 'x';
    return outcomes;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST(FaultyStoreTest, DelaysAndPlanSwitches) {
  FaultPlan plan;
  plan.delay_ratio = 1;
  plan.delay = std::chrono::milliseconds(20);
  auto store = NewFaultyStore(NewMemStore(), plan);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->Put("k", "v").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_EQ(store->injected(), 1u);
  store->SetPlan(FaultPlan{});
  EXPECT_EQ(*store->Get("k"), "v");
  EXPECT_EQ(store->injected(), 1u);
}

TEST(FaultyStoreTest, CutObjectsFailTheChecksum) {
  FaultPlan cut;
  cut.cut_ratio = 1;
  auto faulty = NewFaultyStore(NewMemStore(), cut);
  FaultyStore* f = faulty.get();
  auto store = NewChecksumStore(std::move(faulty));
  ASSERT_TRUE(store->Put("blk", RandomBytes(10000, 1)).ok());  // cut, yet "OK"
  f->SetPlan(FaultPlan{});
  auto got = store->Get("blk");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kCorrupt);

  // A cut Get of a good object.
  ASSERT_TRUE(store->Put("good", RandomBytes(10000, 2)).ok());
  EXPECT_TRUE(store->Get("good").has_value());
  f->SetPlan(cut);
  got = store->Get("good");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kCorrupt);
}

// ---- the whole stack ------------------------------------------------------

// compress → encrypt → checksum → retry → faulty → mem, as a volume stacks them.
struct Stack {
  std::unique_ptr<ObjectStore> mem = NewMemStore();
  FaultyStore* faulty = nullptr;
  std::unique_ptr<ObjectStore> top;

  Stack(const std::string& compression, const FaultPlan& plan) {
    auto f = NewFaultyStore(std::make_unique<Borrowed>(mem.get()), plan);
    faulty = f.get();
    auto retry = NewRetryStore(std::move(f), FastRetry());
    auto sum = NewChecksumStore(std::move(retry));
    auto enc = NewEncryptStore(std::move(sum), TestKey());
    top = std::move(*NewCompressStore(std::move(*enc), compression));
  }
};

TEST(WrapperStackTest, RoundTripsThroughFlakyStore) {
  FaultPlan plan;
  plan.fail_ratio = 0.2;
  plan.delay_ratio = 0.05;
  plan.delay = std::chrono::milliseconds(1);
  plan.seed = 11;
  for (const char* compression : {"lz4", "zstd"}) {
    Stack stack(compression, plan);
    ExpectRoundTrips(*stack.top, compression);
    EXPECT_GT(stack.faulty->injected(), 0u);

    const std::string semi = SemiCompressible(4 * kMiB, 12);
    ASSERT_TRUE(stack.top->Put("semi", semi).ok());
    EXPECT_EQ(stack.top->Head("semi")->size, semi.size());
    const uint64_t stored = stack.mem->Head("semi")->size;
    EXPECT_LT(stored, semi.size() * 3 / 4) << compression;
    EXPECT_EQ(stored, stack.top->List("semi", "", 1)->objects[0].size + codec::kSealOverhead +
                          codec::kChecksumHeaderSize);
    ASSERT_TRUE(stack.top->Delete("semi").ok());
    EXPECT_EQ(stack.top->Get("semi").error().code(), Code::kNotFound);
  }
}

TEST(WrapperStackTest, ConcurrentUse) {
  FaultPlan plan;
  plan.fail_ratio = 0.1;
  Stack stack("lz4", plan);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string key = Key(t * 1000 + i);
        const std::string data = SemiCompressible(20000 + i, t * 1000 + i);
        if (!stack.top->Put(key, data).ok()) ++failures;
        auto got = stack.top->Get(key, 100, 1000);
        if (!got || *got != data.substr(100, 1000)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(WrapperStackTest, DamageBelowTheStackIsCorrupt) {
  Stack stack("zstd", FaultPlan{});
  ASSERT_TRUE(stack.top->Put("blk", SemiCompressible(100000, 3)).ok());
  std::string raw = *stack.mem->Get("blk");
  raw[raw.size() / 3] ^= 0x04;
  ASSERT_TRUE(stack.mem->Put("blk", raw).ok());
  auto got = stack.top->Get("blk");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kCorrupt);
}

// ---- throughput (a report, not a test: nothing is asserted on timing) -----

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// MiB of `input_bytes` processed per CPU-second of this thread.
template <typename Fn>
double MiBPerCpuSecond(size_t input_bytes, Fn&& fn) {
  fn();  // warm up
  int rounds = 0;
  const double start = ThreadCpuSeconds();
  double elapsed = 0;
  while (rounds < 3 || elapsed < 0.3) {
    fn();
    ++rounds;
    elapsed = ThreadCpuSeconds() - start;
  }
  return static_cast<double>(input_bytes) * rounds / kMiB / elapsed;
}

TEST(WrapperBenchmark, ThroughputMiBPerCore) {
  const std::string block = SemiCompressible(4 * kMiB, 99);
  const std::string key = TestKey();
  const std::string lz4 = codec::Compress(codec::Compression::kLz4, block);
  const std::string zstd = codec::Compress(codec::Compression::kZstd, block);
  const std::string sealed = *codec::Seal(key, "blk", block);
  const std::string summed = codec::AddChecksum(block);
  size_t sink = 0;
  struct Row {
    const char* name;
    double mib_s;
  };
  std::vector<Row> rows = {
      {"lz4 compress",
       MiBPerCpuSecond(block.size(),
                       [&] { sink += codec::Compress(codec::Compression::kLz4, block).size(); })},
      {"lz4 decompress",
       MiBPerCpuSecond(block.size(), [&] { sink += codec::Decompress("blk", lz4)->size(); })},
      {"zstd-1 compress",
       MiBPerCpuSecond(block.size(),
                       [&] { sink += codec::Compress(codec::Compression::kZstd, block).size(); })},
      {"zstd-1 decompress",
       MiBPerCpuSecond(block.size(), [&] { sink += codec::Decompress("blk", zstd)->size(); })},
      {"AES-256-GCM encrypt",
       MiBPerCpuSecond(block.size(), [&] { sink += codec::Seal(key, "blk", block)->size(); })},
      {"AES-256-GCM decrypt",
       MiBPerCpuSecond(block.size(), [&] { sink += codec::Open(key, "blk", sealed)->size(); })},
      {"xxh3 checksum add (copies)",
       MiBPerCpuSecond(block.size(), [&] { sink += codec::AddChecksum(block).size(); })},
      {"xxh3 checksum verify",
       MiBPerCpuSecond(block.size(),
                       [&] { sink += codec::VerifyChecksum("blk", summed)->size(); })},
  };
  std::printf(
      "[ bench    ] 4 MiB semi-compressible blocks (lz4 -> %.1f%%, zstd-1 -> %.1f%%), "
      "MiB/s per core:\n",
      100.0 * lz4.size() / block.size(), 100.0 * zstd.size() / block.size());
  for (const Row& row : rows) std::printf("[ bench    ]   %-28s %9.0f\n", row.name, row.mib_s);
  EXPECT_GT(sink, 0u);
}

}  // namespace
}  // namespace tessera::object
