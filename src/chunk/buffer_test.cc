#include "chunk/buffer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "chunk/chunk.h"
#include "object/store.h"
#include "object/wrappers.h"

namespace tessera::chunk {
namespace {

using namespace std::chrono_literals;

TEST(Buffer, WriterWaitsForUploadsWhenFull) {
  Buffer b(100);
  b.AcquireWrite(60);
  b.StartUpload(60);
  std::atomic<bool> got{false};
  std::thread t([&] {
    b.AcquireWrite(60);  // 120 > 100 while 60 are uploading: waits
    got = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(got);
  b.EndUpload(60);
  t.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(b.written(), 60u);
}

TEST(Buffer, WriterProceedsWhenNothingUploads) {
  Buffer b(100);
  b.AcquireWrite(90);
  b.AcquireWrite(90);  // nothing to wait for: over-commits instead of deadlocking
  EXPECT_EQ(b.written(), 180u);
  b.ReleaseWrite(180);
  EXPECT_EQ(b.written(), 0u);
}

TEST(Buffer, ReadersGetWhatWritersLeaveButAQuarterAtLeast) {
  Buffer b(400);
  EXPECT_EQ(b.ReadCapacity(), 400u);
  size_t shrunk_to = 0;
  b.SetShrinkHook([&](size_t c) { shrunk_to = c; });
  b.AcquireWrite(100);
  EXPECT_EQ(b.ReadCapacity(), 300u);
  EXPECT_EQ(shrunk_to, 300u);
  b.AcquireWrite(250);
  EXPECT_EQ(b.ReadCapacity(), 100u);  // a quarter of 400
}

TEST(Buffer, BlockCacheShrinksWhenWritersTakeRoom) {
  Buffer b(4000);
  BlockCache cache(4000, &b);
  b.SetShrinkHook([&](size_t c) { cache.ShrinkTo(c); });
  for (int i = 0; i < 8; ++i) {
    cache.Put("k" + std::to_string(i), std::make_shared<const std::string>(500, 'x'));
  }
  EXPECT_EQ(cache.size_bytes(), 4000u);
  b.AcquireWrite(2000);
  EXPECT_LE(cache.size_bytes(), 2000u);
  cache.Put("more", std::make_shared<const std::string>(500, 'y'));
  EXPECT_LE(cache.size_bytes(), 2000u);
}

// A slow store: a writer of many blocks through a small buffer never holds
// more than the limit plus one block in memory.
TEST(Buffer, SliceWriterStaysWithinTheBuffer) {
  auto faulty = object::NewFaultyStore(object::NewMemStore(),
                                       object::FaultPlan{.delay_ratio = 1, .delay = 5ms});
  Layout layout{"v", 1024};
  Buffer b(4096);
  ThreadPool pool(8);
  size_t peak = 0;
  {
    SliceWriter w(*faulty, layout, 7, 0, &pool, 8, &b);
    std::string data(256, 'z');
    for (uint32_t off = 0; off < 64 * 1024; off += 256) {
      ASSERT_TRUE(w.Write(off, data).ok());
      peak = std::max(peak, b.written());
    }
    auto slice = w.Finish();
    ASSERT_TRUE(slice.has_value());
    EXPECT_EQ(slice->size, 64u * 1024);
  }
  EXPECT_LE(peak, 4096u + 1024u);
  EXPECT_EQ(b.written(), 0u);
}

}  // namespace
}  // namespace tessera::chunk
