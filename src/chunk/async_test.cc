// Background uploads of a SliceWriter and readahead of a ChunkReader.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "chunk/chunk.h"

namespace tessera::chunk {
namespace {

// Counts Gets and Puts of an inner store; Puts can be slowed down.
class CountingStore : public object::ObjectStore {
 public:
  std::string Describe() const override { return "counting"; }
  Status Create() override { return inner_->Create(); }
  Status Put(std::string_view key, std::string_view data) override {
    if (put_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(put_delay_ms));
    puts++;
    return inner_->Put(key, data);
  }
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    gets++;
    if (get_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(get_delay_ms));
    return inner_->Get(key, offset, length);
  }
  Result<object::ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<object::ListPage> List(std::string_view p, std::string_view a, size_t l) override {
    return inner_->List(p, a, l);
  }

  std::atomic<int> puts{0}, gets{0};
  int put_delay_ms = 0, get_delay_ms = 0;

 private:
  std::unique_ptr<object::ObjectStore> inner_ = object::NewMemStore();
};

TEST(SliceWriterAsyncTest, FinishWaitsForEveryBackgroundUpload) {
  CountingStore store;
  store.put_delay_ms = 20;
  ThreadPool pool(4);
  Layout layout{"v", 4096};
  SliceWriter w(store, layout, 7, 0, &pool, 3);
  std::string data(10 * 4096 + 100, 'x');
  ASSERT_TRUE(w.Write(0, data).ok());
  auto slice = w.Finish();
  ASSERT_TRUE(slice.has_value());
  EXPECT_EQ(slice->len, data.size());
  EXPECT_EQ(store.puts.load(), 11);  // every block stored before Finish returned
  ChunkReader reader(store, layout, nullptr);
  std::string back(data.size(), '\0');
  ASSERT_TRUE(reader.Read({*slice}, 0, back.size(), back.data()).ok());
  EXPECT_EQ(back, data);
}

TEST(SliceWriterAsyncTest, UploadFailureSurfacesAtFinish) {
  ThreadPool pool(2);
  Layout layout{"v", 4096};
  class Failing : public CountingStore {
   public:
    Status Put(std::string_view, std::string_view) override {
      return Status(Code::kIO, "disk on fire");
    }
  } store;
  SliceWriter w(store, layout, 8, 0, &pool, 2);
  (void)w.Write(0, std::string(3 * 4096, 'y'));
  auto slice = w.Finish();
  ASSERT_FALSE(slice.has_value());
  EXPECT_NE(slice.error().message().find("disk on fire"), std::string::npos);
}

TEST(ChunkReaderPrefetchTest, PrefetchFillsTheCacheAndMergesFetches) {
  CountingStore store;
  Layout layout{"v", 4096};
  SliceWriter w(store, layout, 9, 0);
  std::string data(8 * 4096, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(w.Write(0, data).ok());
  auto slice = w.Finish();
  ASSERT_TRUE(slice.has_value());
  BlockCache cache(1 << 20);
  ChunkReader reader(store, layout, &cache);
  store.get_delay_ms = 30;
  {
    ThreadPool pool(4);
    reader.Prefetch({*slice}, 0, data.size(), pool);
    // A read racing the readahead waits for it instead of fetching again.
    std::string back(data.size(), '\0');
    ASSERT_TRUE(reader.Read({*slice}, 0, back.size(), back.data()).ok());
    EXPECT_EQ(back, data);
  }
  EXPECT_EQ(store.gets.load(), 8);  // each block fetched exactly once
  std::string again(4096, '\0');
  ASSERT_TRUE(reader.Read({*slice}, 4096 * 5, again.size(), again.data()).ok());
  EXPECT_EQ(store.gets.load(), 8);  // served from the cache
}

}  // namespace
}  // namespace tessera::chunk
