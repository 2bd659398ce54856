// One contract suite, run over every ObjectStore implementation, plus tests
// of what only the file store and OpenStore do.
#include "object/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "object/s3.h"
#include "object/wrappers.h"

namespace tessera::object {
namespace {

namespace fs = std::filesystem;

// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tessera_object_XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct StoreParam {
  std::string name;
  bool file = false;
  std::function<std::unique_ptr<ObjectStore>()> make = nullptr;  // else mem or file
  // s3rver lists in the order it walks its directories ("a/b/c/d" before
  // "a-c"), not in the bytewise order S3 defines; for it the listing tests
  // check membership only. Every other store must sort.
  bool sorted_listing = true;
};

class StoreContractTest : public ::testing::TestWithParam<StoreParam> {
 protected:
  void SetUp() override {
    if (GetParam().make) {
      store_ = GetParam().make();
    } else if (GetParam().file) {
      root_ = dir_.path() + "/bucket";
      store_ = NewFileStore(root_);
    } else {
      store_ = NewMemStore();
    }
    ASSERT_TRUE(store_->Create().ok());
  }

  std::vector<std::string> Keys(std::string_view prefix) {
    auto all = ListAll(*store_, prefix);
    EXPECT_TRUE(all.has_value());
    std::vector<std::string> keys;
    if (all) {
      for (const auto& info : *all) keys.push_back(info.key);
    }
    return keys;
  }

  TempDir dir_;
  std::string root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_P(StoreContractTest, PutGet) {
  ASSERT_TRUE(store_->Put("k", "hello world").ok());
  EXPECT_EQ(*store_->Get("k"), "hello world");
  ASSERT_TRUE(store_->Put("empty", "").ok());
  EXPECT_EQ(*store_->Get("empty"), "");
  std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(store_->Put("bin", binary).ok());
  EXPECT_EQ(*store_->Get("bin"), binary);
}

TEST_P(StoreContractTest, RangedGet) {
  ASSERT_TRUE(store_->Put("r", "0123456789").ok());
  EXPECT_EQ(*store_->Get("r", 2, 3), "234");
  EXPECT_EQ(*store_->Get("r", 7, 100), "789");
  EXPECT_EQ(*store_->Get("r", 10, 5), "");
  EXPECT_EQ(*store_->Get("r", 50, -1), "");
  EXPECT_EQ(*store_->Get("r", 4, -1), "456789");
  EXPECT_EQ(*store_->Get("r", 0, 0), "");
}

TEST_P(StoreContractTest, MissingKey) {
  auto got = store_->Get("no/such/key");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), Code::kNotFound);
  EXPECT_NE(got.error().message().find("no/such/key"), std::string::npos);
  EXPECT_EQ(store_->Head("missing").error().code(), Code::kNotFound);
}

TEST_P(StoreContractTest, HeadSize) {
  ASSERT_TRUE(store_->Put("dir/obj", std::string(12345, 'x')).ok());
  auto info = store_->Head("dir/obj");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "dir/obj");
  EXPECT_EQ(info->size, 12345u);
  EXPECT_GT(info->mtime, 0);
  // A "directory" made by deeper keys is not an object.
  EXPECT_EQ(store_->Head("dir").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->Get("dir").error().code(), Code::kNotFound);
}

TEST_P(StoreContractTest, DeleteIsIdempotent) {
  ASSERT_TRUE(store_->Put("a/b", "x").ok());
  EXPECT_TRUE(store_->Delete("a/b").ok());
  EXPECT_EQ(store_->Get("a/b").error().code(), Code::kNotFound);
  EXPECT_TRUE(store_->Delete("a/b").ok());
  EXPECT_TRUE(store_->Delete("never/was").ok());
}

TEST_P(StoreContractTest, OverwriteWithIdenticalBytes) {
  ASSERT_TRUE(store_->Put("same", "bytes").ok());
  ASSERT_TRUE(store_->Put("same", "bytes").ok());
  EXPECT_EQ(*store_->Get("same"), "bytes");
  EXPECT_EQ(Keys(""), std::vector<std::string>{"same"});
}

TEST_P(StoreContractTest, ListPrefixAndOrder) {
  // Bytewise order across directory levels: '-' < '/' < '0'.
  std::vector<std::string> files = {"a-c", "a/b/c/d", "a/bb", "a0", "b/x/y/z", "vol/x"};
  for (const auto& k : files) ASSERT_TRUE(store_->Put(k, k).ok());
  if (!GetParam().sorted_listing) {
    auto sorted = [this](const std::string& prefix) {
      auto keys = Keys(prefix);
      std::sort(keys.begin(), keys.end());
      return keys;
    };
    EXPECT_EQ(sorted(""), files);
    EXPECT_EQ(sorted("a"), (std::vector<std::string>{"a-c", "a/b/c/d", "a/bb", "a0"}));
    EXPECT_EQ(sorted("a/"), (std::vector<std::string>{"a/b/c/d", "a/bb"}));
    EXPECT_EQ(sorted("b/x/y/"), (std::vector<std::string>{"b/x/y/z"}));
    EXPECT_TRUE(Keys("c").empty());
    return;
  }
  EXPECT_EQ(Keys(""), files);
  EXPECT_EQ(Keys("a"), (std::vector<std::string>{"a-c", "a/b/c/d", "a/bb", "a0"}));
  EXPECT_EQ(Keys("a/"), (std::vector<std::string>{"a/b/c/d", "a/bb"}));
  EXPECT_EQ(Keys("a/b"), (std::vector<std::string>{"a/b/c/d", "a/bb"}));
  EXPECT_EQ(Keys("a/b/"), (std::vector<std::string>{"a/b/c/d"}));
  EXPECT_EQ(Keys("b/x/y/"), (std::vector<std::string>{"b/x/y/z"}));
  EXPECT_TRUE(Keys("c").empty());
  EXPECT_TRUE(Keys("a/b/c/d/e").empty());

  auto page = store_->List("", "a/b/c/d", 2);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a/bb");
  EXPECT_EQ(page->objects[1].key, "a0");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->objects[0].size, 4u);

  page = store_->List("a", "a/", 10);
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->objects.size(), 3u);
  EXPECT_EQ(page->objects[0].key, "a/b/c/d");
  EXPECT_FALSE(page->truncated);

  page = store_->List("", "zzz", 10);
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->objects.empty());
  EXPECT_FALSE(page->truncated);
}

TEST_P(StoreContractTest, Pagination) {
  std::set<std::string> want;
  for (int i = 0; i < 2500; ++i)
    want.insert("p/" + std::to_string(i % 7) + "/" + std::to_string(i));
  // Eight writers, so that the file store's fsyncs overlap.
  std::vector<std::string> keys(want.begin(), want.end());
  std::vector<std::thread> writers;
  for (size_t t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < keys.size(); i += 8) EXPECT_TRUE(store_->Put(keys[i], "v").ok());
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_TRUE(store_->Put("q", "other").ok());
  std::vector<std::string> got;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = store_->List("p/", after, 1000);
    ASSERT_TRUE(page.has_value());
    ++pages;
    for (const auto& o : page->objects) got.push_back(o.key);
    if (!page->truncated) break;
    ASSERT_FALSE(page->objects.empty());
    after = page->objects.back().key;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(got, std::vector<std::string>(want.begin(), want.end()));
  EXPECT_EQ(Keys("p/").size(), 2500u);
}

TEST_P(StoreContractTest, ConcurrentPuts) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "c/" + std::to_string(i % 5) + "/" + std::to_string(t * 1000 + i);
        EXPECT_TRUE(store_->Put(key, key).ok());
        // Everyone also writes the same object with the same bytes.
        EXPECT_TRUE(store_->Put("c/shared", "same").ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  auto keys = Keys("c/");
  EXPECT_EQ(keys.size(), kThreads * kPerThread + 1u);
  for (const auto& k : keys) EXPECT_EQ(*store_->Get(k), k == "c/shared" ? "same" : k);
}

TEST_P(StoreContractTest, ConcurrentPutAndDeleteInOneDirectory) {
  // Delete prunes empty directories while other Puts create files in them.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string key = "d/x/y/" + std::to_string(t) + "_" + std::to_string(i);
        EXPECT_TRUE(store_->Put(key, "v").ok());
        EXPECT_TRUE(store_->Delete(key).ok());
      }
      EXPECT_TRUE(store_->Put("d/x/y/keep" + std::to_string(t), "v").ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(Keys("d/").size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(AllStores, StoreContractTest,
                         ::testing::Values(StoreParam{"mem", false}, StoreParam{"file", true}),
                         [](const auto& info) { return info.param.name; });

// S3 servers named by the environment (scripts/ceph-rgw.sh and scripts/s3rver.sh
// print the values): TESSERA_TEST_RGW_{ENDPOINT,ACCESS_KEY,SECRET_KEY} and
// TESSERA_TEST_S3RVER_{...}. Each test gets a fresh bucket of its own.
std::vector<StoreParam> S3Params() {
  std::vector<StoreParam> params;
  for (auto [name, env] : {std::pair{"s3_rgw", "TESSERA_TEST_RGW"},
                           std::pair{"s3rver", "TESSERA_TEST_S3RVER"}}) {
    auto var = [env](const char* suffix) {
      const char* v = std::getenv((std::string(env) + suffix).c_str());
      return std::string(v ? v : "");
    };
    if (var("_ENDPOINT").empty()) continue;
    S3Options opts;
    opts.endpoint = var("_ENDPOINT");
    opts.access_key = var("_ACCESS_KEY");
    opts.secret_key = var("_SECRET_KEY");
    if (!var("_REGION").empty()) opts.region = var("_REGION");
    bool s3rver = std::string(name) == "s3rver";
    params.push_back({name, false,
                      [opts, s3rver]() mutable -> std::unique_ptr<ObjectStore> {
                        static std::mt19937_64 rng(std::random_device{}());
                        opts.bucket = "tessera-test-" + std::to_string(rng());
                        if (!s3rver) return NewS3Store(opts);
                        // s3rver answers 500 when a delete removes a directory a
                        // concurrent put writes into; volumes always retry those.
                        RetryOptions retry;
                        retry.initial_backoff = std::chrono::milliseconds(5);
                        retry.max_backoff = std::chrono::milliseconds(100);
                        return NewRetryStore(NewS3Store(opts), retry);
                      },
                      /*sorted_listing=*/!s3rver});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(S3, StoreContractTest, ::testing::ValuesIn(S3Params()),
                         [](const auto& info) { return info.param.name; });

// --- file store only ---

TEST(FileStoreTest, TempFilesAreNeverListed) {
  TempDir dir;
  auto store = NewFileStore(dir.path());
  ASSERT_TRUE(store->Create().ok());
  ASSERT_TRUE(store->Put("v/a", "1").ok());
  // A leftover of an interrupted Put.
  std::FILE* f = std::fopen((dir.path() + "/v/.tmp.123.0").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto keys = ListAll(*store, "");
  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].key, "v/a");
  // Keys that would look like temporary files are refused.
  EXPECT_EQ(store->Put("v/.tmp.x", "no").code(), Code::kInvalid);
  EXPECT_EQ(store->Put("../escape", "no").code(), Code::kInvalid);
  EXPECT_EQ(store->Put("a//b", "no").code(), Code::kInvalid);
}

TEST(FileStoreTest, PutFailureNamesTheKeyAndLeavesNoTempFile) {
  TempDir dir;
  auto store = NewFileStore(dir.path());
  ASSERT_TRUE(store->Create().ok());
  ASSERT_TRUE(store->Put("v/a", "file").ok());
  Status st = store->Put("v/a/b", "under a file");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotDir);
  EXPECT_NE(st.message().find("v/a/b"), std::string::npos) << st.message();
  st = store->Put("v", "over a directory");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("object v "), std::string::npos) << st.message();
  size_t entries = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 2u);  // v and v/a
}

TEST(FileStoreTest, DeleteRemovesEmptyDirectories) {
  TempDir dir;
  auto store = NewFileStore(dir.path() + "/");
  ASSERT_TRUE(store->Create().ok());
  ASSERT_TRUE(store->Put("v/chunks/0/0/1_0_4", "data").ok());
  ASSERT_TRUE(store->Put("v/chunks/0/1/1001_0_4", "data").ok());
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/v/chunks/0/0/1_0_4"));
  ASSERT_TRUE(store->Delete("v/chunks/0/0/1_0_4").ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/v/chunks/0/0"));
  EXPECT_TRUE(fs::exists(dir.path() + "/v/chunks/0/1"));
  ASSERT_TRUE(store->Delete("v/chunks/0/1/1001_0_4").ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/v"));
  EXPECT_TRUE(fs::is_directory(dir.path()));  // the root stays
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(FileStoreTest, CreateMakesRootAndDescribes) {
  TempDir dir;
  std::string root = dir.path() + "/x/y/z";
  auto store = NewFileStore(root);
  EXPECT_EQ(store->Describe(), "file://" + root);
  ASSERT_TRUE(store->Create().ok());
  EXPECT_TRUE(fs::is_directory(root));
  EXPECT_TRUE(fs::is_empty(root));  // the probe is gone
  EXPECT_TRUE(store->Create().ok());
}

TEST(FileStoreTest, CreateFailsClearlyOnBadRoot) {
  TempDir dir;
  std::string file = dir.path() + "/plain";
  std::FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  auto store = NewFileStore(file + "/bucket");
  Status st = store->Create();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kNotDir);
  EXPECT_NE(st.message().find(file + "/bucket"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("Not a directory"), std::string::npos) << st.message();

  // The root exists but is a file.
  st = NewFileStore(file)->Create();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bucket directory " + file), std::string::npos) << st.message();
}

// --- OpenStore and ListAll ---

TEST(OpenStoreTest, Storages) {
  auto mem1 = OpenStore("mem", "shared-test");
  auto mem2 = OpenStore("mem", "shared-test");
  auto other = OpenStore("mem", "other-test");
  ASSERT_TRUE(mem1 && mem2 && other);
  ASSERT_TRUE((*mem1)->Put("k", "v").ok());
  EXPECT_EQ(*(*mem2)->Get("k"), "v");
  EXPECT_EQ((*other)->Get("k").error().code(), Code::kNotFound);
  EXPECT_EQ((*mem1)->Describe(), "mem://shared-test");

  auto file = OpenStore("file", "/tmp/tessera-open-test");
  ASSERT_TRUE(file.has_value());
  EXPECT_EQ((*file)->Describe(), "file:///tmp/tessera-open-test");

  auto relative = OpenStore("file", "relative/dir");
  ASSERT_FALSE(relative.has_value());
  EXPECT_EQ(relative.error().code(), Code::kInvalid);
  EXPECT_NE(relative.error().message().find("relative/dir"), std::string::npos);

  auto unknown = OpenStore("s4", "b");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code(), Code::kInvalid);
  EXPECT_EQ(unknown.error().message(), "unknown storage 's4'; supported: file, mem");
}

TEST(OpenStoreTest, ExpandsHome) {
  const char* old = std::getenv("HOME");
  std::string saved = old ? old : "";
  ::setenv("HOME", "/home/someone", 1);
  auto store = OpenStore("file", "~/tessera/data");
  if (old) {
    ::setenv("HOME", saved.c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
  ASSERT_TRUE(store.has_value());
  EXPECT_EQ((*store)->Describe(), "file:///home/someone/tessera/data");
}

}  // namespace
}  // namespace tessera::object
