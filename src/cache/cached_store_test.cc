// Tests of the caching / writeback ObjectStore wrapper over the memory store.
#include "cache/cached_store.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include "cache/cache_file.h"
#include "cache/test_util.h"
#include "object/wrappers.h"

namespace tessera::cache {
namespace {

using namespace std::chrono_literals;

constexpr size_t kBlock = 64 << 10;

std::unique_ptr<DiskCache> OpenCache(const std::string& dir) {
  CacheOptions o;
  o.dirs = {dir};
  o.capacity_bytes = 100 << 20;
  o.free_space_ratio = 0.01;
  o.background_scan = false;
  auto c = NewDiskCache(o);
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(CachedStore, SecondGetComesFromTheCache) {
  TempDir t;
  auto mem = object::NewMemStore();
  ASSERT_TRUE(mem->Put(BlockKey(1), RandomBlock(kBlock, 1)).ok());
  auto counting = std::make_unique<CountingStore>(mem.get());
  CountingStore* inner = counting.get();
  auto cache = OpenCache(t.path());
  auto store = NewCachedStore(std::move(counting), *cache);
  EXPECT_EQ(*store->Get(BlockKey(1)), RandomBlock(kBlock, 1));
  EXPECT_EQ(inner->gets, 1);
  EXPECT_EQ(*store->Get(BlockKey(1)), RandomBlock(kBlock, 1));
  EXPECT_EQ(*store->Get(BlockKey(1), 100, 10), RandomBlock(kBlock, 1).substr(100, 10));
  EXPECT_EQ(inner->gets, 1);  // both from the cache
  // A missing object stays an error and is not cached.
  EXPECT_EQ(store->Get("nope").error().code(), Code::kNotFound);
  // A ranged miss passes through without caching.
  ASSERT_TRUE(mem->Put(BlockKey(2), "abcdef").ok());
  EXPECT_EQ(*store->Get(BlockKey(2), 2, 2), "cd");
  EXPECT_FALSE(cache->Contains(BlockKey(2)));
}

TEST(CachedStore, PutCachesAndDeleteDrops) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto cache = OpenCache(t.path());
  auto store = NewCachedStore(std::make_unique<CountingStore>(mem.get()), *cache);
  ASSERT_TRUE(store->Put(BlockKey(1), "data").ok());
  EXPECT_TRUE(mem->Head(BlockKey(1)).has_value());
  EXPECT_TRUE(cache->Contains(BlockKey(1)));
  ASSERT_TRUE(store->Delete(BlockKey(1)).ok());
  EXPECT_FALSE(cache->Contains(BlockKey(1)));
  EXPECT_FALSE(mem->Head(BlockKey(1)).has_value());
  EXPECT_EQ(store->List("vol/", "", 10)->objects.size(), 0u);
}

TEST(CachedStore, DamagedCacheFileIsRefetched) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto cache = OpenCache(t.path());
  auto store = NewCachedStore(std::make_unique<CountingStore>(mem.get()), *cache);
  std::string b = RandomBlock(kBlock, 5);
  ASSERT_TRUE(store->Put(BlockKey(5), b).ok());
  {
    std::fstream f(t.path() + "/raw/" + BlockKey(5), std::ios::in | std::ios::out);
    f.seekp(4000);
    f.put('!');
  }
  EXPECT_EQ(*store->Get(BlockKey(5)), b);  // from the object store
  EXPECT_EQ(*cache->Get(BlockKey(5)), b);  // and cached again, whole
}

TEST(CachedStore, BrokenCacheDiskNeverFailsReadsOrWrites) {
  TempDir t;
  std::string file = t.path() + "/file";
  std::ofstream(file) << "x";
  auto mem = object::NewMemStore();
  auto cache = OpenCache(file);
  CachedStoreOptions wb;
  wb.writeback = true;
  auto store = NewCachedStore(std::make_unique<CountingStore>(mem.get()), *cache, wb);
  ASSERT_TRUE(store->Put(BlockKey(1), "direct").ok());  // staging fails: uploaded at once
  EXPECT_EQ(*mem->Get(BlockKey(1)), "direct");
  EXPECT_EQ(*store->Get(BlockKey(1)), "direct");
  EXPECT_EQ(store->staged(), 0u);
}

TEST(Writeback, PutIsAcknowledgedBeforeTheUpload) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto counting = std::make_unique<CountingStore>(mem.get());
  CountingStore* inner = counting.get();
  inner->SetGate(false);  // uploads hang until opened
  auto cache = OpenCache(t.path());
  CachedStoreOptions wb;
  wb.writeback = true;
  wb.max_uploads = 2;
  auto store = NewCachedStore(std::move(counting), *cache, wb);
  uint64_t uploads = Metrics().uploads.value();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i))).ok());
  }
  EXPECT_EQ(store->staged(), 4u);
  EXPECT_FALSE(mem->Head(BlockKey(0)).has_value());
  // Staged blocks read back (and report their size) before they are uploaded.
  EXPECT_EQ(*store->Get(BlockKey(2)), RandomBlock(kBlock, 2));
  EXPECT_EQ(store->Head(BlockKey(2))->size, kBlock);
  EXPECT_EQ(Metrics().staging_blocks.value() >= 4, true);
  inner->SetGate(true);
  EXPECT_EQ(store->Flush(5s), 0u);
  EXPECT_EQ(Metrics().uploads.value() - uploads, 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(*mem->Get(BlockKey(i)), RandomBlock(kBlock, static_cast<uint64_t>(i)));
    EXPECT_TRUE(cache->Contains(BlockKey(i)));  // moved into the cache
  }
  EXPECT_TRUE(cache->ListStaged().empty());
}

TEST(Writeback, FailedUploadsAreRetriedNotDropped) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto counting = std::make_unique<CountingStore>(mem.get());
  CountingStore* inner = counting.get();
  inner->SetFailPuts(true);
  auto cache = OpenCache(t.path());
  CachedStoreOptions wb;
  wb.writeback = true;
  wb.retry_backoff = 5ms;
  wb.max_retry_backoff = 20ms;
  auto store = NewCachedStore(std::move(counting), *cache, wb);
  ASSERT_TRUE(store->Put(BlockKey(1), "payload").ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(store->staged(), 1u);
  inner->SetFailPuts(false);
  EXPECT_EQ(store->Flush(5s), 0u);
  EXPECT_EQ(*mem->Get(BlockKey(1)), "payload");
}

TEST(Writeback, RestartUploadsWhatWasStaged) {
  TempDir t;
  auto mem = object::NewMemStore();
  CachedStoreOptions wb;
  wb.writeback = true;
  {
    auto counting = std::make_unique<CountingStore>(mem.get());
    counting->SetFailPuts(true);  // the "crash": nothing gets out
    auto cache = OpenCache(t.path());
    auto store = NewCachedStore(std::move(counting), *cache, wb);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->Put(BlockKey(i), "b" + std::to_string(i)).ok());
    EXPECT_EQ(store->Flush(50ms), 3u);  // left staged
  }
  EXPECT_EQ(mem->List("", "", 10)->objects.size(), 0u);
  // Even a store that does not write back uploads what an earlier one staged.
  auto cache = OpenCache(t.path());
  auto store = NewCachedStore(std::make_unique<CountingStore>(mem.get()), *cache);
  EXPECT_EQ(*store->Get(BlockKey(1)), "b1");  // served from staging or after its upload
  ASSERT_TRUE(WaitFor([&] { return store->staged() == 0; }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*mem->Get(BlockKey(i)), "b" + std::to_string(i));
}

TEST(Writeback, DeleteBeforeTheDelayUploadsNothing) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto counting = std::make_unique<CountingStore>(mem.get());
  CountingStore* inner = counting.get();
  auto cache = OpenCache(t.path());
  CachedStoreOptions wb;
  wb.writeback = true;
  wb.upload_delay = 300ms;
  auto store = NewCachedStore(std::move(counting), *cache, wb);
  uint64_t skipped = Metrics().skipped.value();
  ASSERT_TRUE(store->Put(BlockKey(1), "temporary").ok());
  ASSERT_TRUE(store->Put(BlockKey(2), "kept").ok());
  ASSERT_TRUE(store->Delete(BlockKey(1)).ok());
  EXPECT_EQ(store->Get(BlockKey(1)).error().code(), Code::kNotFound);
  EXPECT_EQ(Metrics().skipped.value() - skipped, 1u);
  ASSERT_TRUE(WaitFor([&] { return store->staged() == 0; }));
  EXPECT_EQ(inner->puts, 1);  // only the kept block
  EXPECT_FALSE(mem->Head(BlockKey(1)).has_value());
  EXPECT_EQ(*mem->Get(BlockKey(2)), "kept");
}

TEST(Writeback, DeleteDuringTheUploadDeletesAfterIt) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto counting = std::make_unique<CountingStore>(mem.get());
  CountingStore* inner = counting.get();
  inner->SetGate(false);
  auto cache = OpenCache(t.path());
  CachedStoreOptions wb;
  wb.writeback = true;
  auto store = NewCachedStore(std::move(counting), *cache, wb);
  ASSERT_TRUE(store->Put(BlockKey(1), "x").ok());
  std::this_thread::sleep_for(50ms);  // the upload is now waiting at the gate
  ASSERT_TRUE(store->Delete(BlockKey(1)).ok());
  inner->SetGate(true);
  EXPECT_EQ(store->Flush(5s), 0u);
  EXPECT_FALSE(mem->Head(BlockKey(1)).has_value());
  EXPECT_FALSE(cache->Contains(BlockKey(1)));
  EXPECT_TRUE(cache->ListStaged().empty());
}

TEST(Writeback, ConcurrentPutsAndGets) {
  TempDir t;
  auto mem = object::NewMemStore();
  auto faulty = object::NewFaultyStore(object::NewMemStore(), {});
  object::FaultPlan plan;
  plan.delay_ratio = 1;
  plan.delay = 2ms;
  faulty->SetPlan(plan);
  object::FaultyStore* f = faulty.get();
  auto cache = OpenCache(t.path());
  CachedStoreOptions wb;
  wb.writeback = true;
  wb.max_uploads = 4;
  auto store = NewCachedStore(std::move(faulty), *cache, wb);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 25; ++i) {
        int k = w * 100 + i;
        std::string b = RandomBlock(4096, static_cast<uint64_t>(k));
        ASSERT_TRUE(store->Put(BlockKey(k), b).ok());
        ASSERT_EQ(*store->Get(BlockKey(k)), b);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(store->Flush(10s), 0u);
  f->SetPlan({});
  EXPECT_EQ(object::ListAll(*f, "vol/")->size(), 100u);
}

}  // namespace
}  // namespace tessera::cache
