// Tests of block naming, SliceWriter, BlockCache and DeleteSliceBlocks.
#include "chunk/chunk.h"

#include <gtest/gtest.h>

namespace tessera::chunk {
namespace {

const Layout kLayout{.volume = "vol", .block_size = 4096};

std::vector<std::string> Keys(object::ObjectStore& store) {
  auto all = object::ListAll(store, "");
  EXPECT_TRUE(all.has_value());
  std::vector<std::string> keys;
  for (const auto& info : *all) keys.push_back(info.key);
  return keys;
}

std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7) % 251);
  return s;
}

TEST(LayoutTest, BlockKey) {
  EXPECT_EQ(BlockKey(kLayout, 1234567890, 3, 4096), "vol/chunks/1234/1234567/1234567890_3_4096");
  EXPECT_EQ(BlockKey(kLayout, 7, 0, 12), "vol/chunks/0/0/7_0_12");
  EXPECT_EQ(BlockKey({.volume = "v2"}, 1000, 1, 5), "v2/chunks/0/1/1000_1_5");
}

TEST(LayoutTest, BlockCountAndLength) {
  EXPECT_EQ(BlockCount(kLayout, 0), 0u);
  EXPECT_EQ(BlockCount(kLayout, 1), 1u);
  EXPECT_EQ(BlockCount(kLayout, 4096), 1u);
  EXPECT_EQ(BlockCount(kLayout, 4097), 2u);
  EXPECT_EQ(BlockLength(kLayout, 4097, 0), 4096u);
  EXPECT_EQ(BlockLength(kLayout, 4097, 1), 1u);
  EXPECT_EQ(BlockLength(kLayout, 4097, 2), 0u);
  EXPECT_EQ(BlockLength(kLayout, 8192, 1), 4096u);
  Layout big{.volume = "v", .block_size = 4u << 20};
  EXPECT_EQ(BlockCount(big, static_cast<uint32_t>(kChunkSize)), 16u);
  EXPECT_EQ(BlockLength(big, static_cast<uint32_t>(kChunkSize), 15), 4u << 20);
}

TEST(SliceWriterTest, UploadsFullBlocksAsItGoes) {
  auto store = object::NewMemStore();
  SliceWriter w(*store, kLayout, 7, 100);
  std::string data = Pattern(10000, 1);
  for (size_t done = 0; done < data.size(); done += 1000) {
    std::string_view piece = std::string_view(data).substr(done, 1000);
    ASSERT_TRUE(w.CanWrite(100 + done, piece.size()));
    ASSERT_TRUE(w.Write(100 + done, piece).ok());
    size_t length = done + piece.size();
    EXPECT_EQ(w.length(), length);
    EXPECT_EQ(Keys(*store).size(), length / 4096) << "after " << length << " bytes";
    EXPECT_EQ(w.buffered(), length % 4096);
  }
  EXPECT_EQ(Keys(*store),
            (std::vector<std::string>{"vol/chunks/0/0/7_0_4096", "vol/chunks/0/0/7_1_4096"}));
  EXPECT_EQ(*store->Get("vol/chunks/0/0/7_1_4096"), data.substr(4096, 4096));

  auto rec = w.Finish();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(*rec, (Slice{.pos = 100, .id = 7, .size = 10000, .off = 0, .len = 10000}));
  EXPECT_EQ(Keys(*store).size(), 3u);
  EXPECT_EQ(*store->Get("vol/chunks/0/0/7_2_1808"), data.substr(8192));
  EXPECT_EQ(w.buffered(), 0u);
}

TEST(SliceWriterTest, RewritesTheTailBeforeUpload) {
  auto store = object::NewMemStore();
  SliceWriter w(*store, kLayout, 9, 0);
  ASSERT_TRUE(w.Write(0, std::string(3000, 'a')).ok());
  ASSERT_TRUE(w.Write(1000, std::string(500, 'b')).ok());  // inside
  ASSERT_TRUE(w.Write(2800, std::string(400, 'c')).ok());  // straddles the end
  EXPECT_EQ(w.length(), 3200u);
  auto rec = w.Finish();
  ASSERT_TRUE(rec.has_value());
  std::string want = std::string(1000, 'a') + std::string(500, 'b') + std::string(1300, 'a') +
                     std::string(400, 'c');
  EXPECT_EQ(*store->Get(BlockKey(kLayout, 9, 0, 3200)), want);
}

TEST(SliceWriterTest, CanWriteRules) {
  auto store = object::NewMemStore();
  SliceWriter w(*store, kLayout, 1, 100);
  EXPECT_TRUE(w.CanWrite(100, 10));
  EXPECT_FALSE(w.CanWrite(99, 1));                   // before the slice
  EXPECT_FALSE(w.CanWrite(101, 1));                  // leaves a gap after the (empty) slice
  ASSERT_TRUE(w.Write(100, Pattern(5000, 2)).ok());  // block 0 is uploaded
  EXPECT_FALSE(w.CanWrite(100, 1));
  EXPECT_FALSE(w.CanWrite(100 + 4095, 1));   // in the uploaded block
  EXPECT_TRUE(w.CanWrite(100 + 4096, 10));   // first unuploaded byte
  EXPECT_TRUE(w.CanWrite(100 + 5000, 100));  // appending
  EXPECT_FALSE(w.CanWrite(100 + 5001, 1));
  Status st = w.Write(50, "x");
  EXPECT_EQ(st.code(), Code::kInvalid);

  uint32_t near_end = static_cast<uint32_t>(kChunkSize - 10);
  SliceWriter tail(*store, kLayout, 2, near_end);
  EXPECT_TRUE(tail.CanWrite(near_end, 10));
  EXPECT_FALSE(tail.CanWrite(near_end, 11));  // past the chunk
}

TEST(SliceWriterTest, ReadBuffered) {
  auto store = object::NewMemStore();
  SliceWriter w(*store, kLayout, 3, 100);
  std::string data = Pattern(5000, 3);
  ASSERT_TRUE(w.Write(100, data).ok());
  std::string out(3000, '\0');
  EXPECT_EQ(w.ReadBuffered(100, 10, out.data()), 0u);  // uploaded
  EXPECT_EQ(w.ReadBuffered(100 + 4096, 3000, out.data()), 904u);
  EXPECT_EQ(out.substr(0, 904), data.substr(4096));
  EXPECT_EQ(w.ReadBuffered(100 + 4500, 10, out.data()), 10u);
  EXPECT_EQ(out.substr(0, 10), data.substr(4500, 10));
  EXPECT_EQ(w.ReadBuffered(100 + 5000, 10, out.data()), 0u);  // past the end
  EXPECT_EQ(w.ReadBuffered(50, 10, out.data()), 0u);          // before the slice
}

TEST(SliceWriterTest, EmptyAndBlockAlignedFinish) {
  auto store = object::NewMemStore();
  SliceWriter empty(*store, kLayout, 4, 0);
  auto rec = empty.Finish();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->len, 0u);
  EXPECT_EQ(rec->size, 0u);
  EXPECT_TRUE(Keys(*store).empty());

  SliceWriter aligned(*store, kLayout, 5, 0);
  ASSERT_TRUE(aligned.Write(0, Pattern(8192, 5)).ok());
  EXPECT_EQ(aligned.buffered(), 0u);
  rec = aligned.Finish();
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->size, 8192u);
  EXPECT_EQ(Keys(*store),
            (std::vector<std::string>{"vol/chunks/0/0/5_0_4096", "vol/chunks/0/0/5_1_4096"}));
}

// Readahead puts blocks before they are read; a reader keeps touching the
// block it reads. The blocks fetched ahead must outlive the ones already read.
TEST(BlockCacheTest, BlocksNotReadYetOutliveReadOnes) {
  BlockCache cache(12);
  auto block = [](char c) { return std::make_shared<const std::string>(4, c); };
  cache.Put("ahead", block('x'));
  cache.Put("reading", block('r'));
  for (int i = 0; i < 3; ++i) ASSERT_NE(cache.Get("reading"), nullptr);
  cache.Put("ahead2", block('y'));
  cache.Put("ahead3", block('z'));  // 16 > 12: evicts the read block, not "ahead"
  EXPECT_NE(cache.Get("ahead"), nullptr);
  EXPECT_EQ(cache.Get("reading"), nullptr);
  // When everything is unread, the least recently put goes.
  BlockCache all(8);
  all.Put("1", block('1'));
  all.Put("2", block('2'));
  all.Put("3", block('3'));
  EXPECT_EQ(all.Get("1"), nullptr);
  EXPECT_NE(all.Get("3"), nullptr);
}

// Blocks a sequential reader has passed go first, and are kept only up to
// an eighth of the capacity, oldest demoted first; a Get keeps a block.
TEST(BlockCacheTest, PassedBlocksGoFirstAndStayFew) {
  BlockCache cache(80);
  auto block = [](char c) { return std::make_shared<const std::string>(4, c); };
  for (char c : std::string("abcdef")) cache.Put(std::string(1, c), block(c));
  for (char c : std::string("abcdef")) ASSERT_NE(cache.Get(std::string(1, c)), nullptr);
  cache.Demote("a");
  cache.Demote("b");
  EXPECT_EQ(cache.size_bytes(), 24u);  // 8 bytes passed: within 80 / 8
  cache.Demote("c");                   // 12 > 10: "a", demoted first, goes
  EXPECT_FALSE(cache.Contains("a"));
  EXPECT_TRUE(cache.Contains("b"));
  EXPECT_EQ(cache.size_bytes(), 20u);
  ASSERT_NE(cache.Get("b"), nullptr);  // read again: kept like any block
  cache.Demote("d");
  cache.Demote("e");  // passed: c, d, e (12 > 10): c goes
  EXPECT_FALSE(cache.Contains("c"));
  EXPECT_TRUE(cache.Contains("b"));
  EXPECT_TRUE(cache.Contains("d"));
  cache.Demote("zz");  // not held: nothing happens
  // Under pressure passed blocks go before a block read longer ago ("f").
  for (int i = 0; i < 18; ++i) cache.Put("n" + std::to_string(i), block('n'));
  EXPECT_FALSE(cache.Contains("d"));
  EXPECT_FALSE(cache.Contains("e"));
  EXPECT_TRUE(cache.Contains("f"));
  EXPECT_TRUE(cache.Contains("b"));
  EXPECT_EQ(cache.size_bytes(), 80u);
}

// The demotion queue also holds keys of blocks read again since; however
// many pile up, the oldest block still passed is the first to go.
TEST(BlockCacheTest, ReadAgainBlocksDoNotHideAnOlderPassedOne) {
  BlockCache cache(8000);  // passed blocks may take 1000 bytes
  auto block = [] { return std::make_shared<const std::string>(100, 'b'); };
  cache.Put("x", block());
  cache.Demote("x");
  cache.Put("y", block());
  for (int i = 0; i < 200; ++i) {
    cache.Demote("y");
    ASSERT_NE(cache.Get("y"), nullptr);  // read again: its queued key is stale
  }
  for (int i = 0; i < 10; ++i) {
    cache.Put("b" + std::to_string(i), block());
    cache.Demote("b" + std::to_string(i));
  }
  // 1100 bytes passed: the oldest, "x", goes.
  EXPECT_FALSE(cache.Contains("x"));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(cache.Contains("b" + std::to_string(i))) << i;
  EXPECT_TRUE(cache.Contains("y"));
}

TEST(BlockCacheTest, EvictsLeastRecentlyUsedByBytes) {
  BlockCache cache(10);
  auto block = [](size_t n, char c) { return std::make_shared<const std::string>(n, c); };
  cache.Put("a", block(4, 'a'));
  cache.Put("b", block(4, 'b'));
  EXPECT_EQ(cache.size_bytes(), 8u);
  ASSERT_NE(cache.Get("b"), nullptr);
  ASSERT_NE(cache.Get("a"), nullptr);  // a is now more recent than b
  cache.Put("c", block(4, 'c'));       // 12 > 10: evicts b
  EXPECT_EQ(cache.Get("b"), nullptr);
  ASSERT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(*cache.Get("c"), "cccc");
  EXPECT_EQ(cache.size_bytes(), 8u);

  cache.Put("d", block(6, 'd'));  // evicts a (older than c), then still 10: fits
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_NE(cache.Get("c"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 10u);

  cache.Put("c", block(1, 'C'));  // replacing adjusts the size
  EXPECT_EQ(cache.size_bytes(), 7u);
  EXPECT_EQ(*cache.Get("c"), "C");

  cache.Put("huge", block(11, 'h'));  // never fits
  EXPECT_EQ(cache.Get("huge"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 7u);

  // A block handed out stays valid after eviction.
  auto held = cache.Get("d");
  cache.Put("e", block(10, 'e'));
  EXPECT_EQ(cache.Get("d"), nullptr);
  EXPECT_EQ(*held, "dddddd");
  EXPECT_EQ(cache.size_bytes(), 10u);
}

TEST(DeleteSliceBlocksTest, RemovesExactlyThatSlice) {
  auto store = object::NewMemStore();
  auto write = [&](uint64_t id, size_t n) {
    SliceWriter w(*store, kLayout, id, 0);
    ASSERT_TRUE(w.Write(0, Pattern(n, static_cast<int>(id))).ok());
    ASSERT_TRUE(w.Finish().has_value());
  };
  write(5, 10000);
  write(50, 9000);  // a key that starts like slice 5's
  write(6, 4096);
  ASSERT_EQ(Keys(*store).size(), 3u + 3u + 1u);
  ASSERT_TRUE(DeleteSliceBlocks(*store, kLayout, 5, 10000).ok());
  EXPECT_EQ(Keys(*store),
            (std::vector<std::string>{"vol/chunks/0/0/50_0_4096", "vol/chunks/0/0/50_1_4096",
                                      "vol/chunks/0/0/50_2_808", "vol/chunks/0/0/6_0_4096"}));
  // Again: nothing left to delete is fine.
  EXPECT_TRUE(DeleteSliceBlocks(*store, kLayout, 5, 10000).ok());
  EXPECT_TRUE(DeleteSliceBlocks(*store, kLayout, 99, 0).ok());
}

}  // namespace
}  // namespace tessera::chunk
