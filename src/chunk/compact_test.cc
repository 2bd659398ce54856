// WriteCompacted against a byte-array model: random overlapping writes (and
// holes) to one chunk, then one slice must read exactly what they read.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "chunk/chunk.h"

namespace tessera::chunk {
namespace {

const Layout kLayout{.volume = "vol", .block_size = 4096};

class CompactTest : public ::testing::Test {
 protected:
  // Stores `data` as a new slice at chunk offset `pos`, as a writer would,
  // and applies it to the model.
  void Write(uint32_t pos, const std::string& data) {
    SliceWriter w(*store_, kLayout, next_id_++, pos);
    ASSERT_TRUE(w.Write(pos, data).ok());
    auto rec = w.Finish();
    ASSERT_TRUE(rec.has_value());
    records_.push_back(*rec);
    if (model_.size() < pos + data.size()) model_.resize(pos + data.size(), '\0');
    std::memcpy(model_.data() + pos, data.data(), data.size());
  }
  // A hole record (truncate, punch hole) over [pos, pos + len).
  void Hole(uint32_t pos, uint32_t len) {
    records_.push_back(Slice{.pos = pos, .len = len});
    if (model_.size() < pos + len) model_.resize(pos + len, '\0');
    std::memset(model_.data() + pos, 0, len);
  }
  std::string ReadAll(const std::vector<Slice>& records) {
    std::string out(model_.size(), '\1');
    Status s = reader_.Read(records, 0, out.size(), out.data());
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  size_t ObjectsOf(uint64_t id) {
    auto all = object::ListAll(*store_, "");
    size_t n = 0;
    std::string tag = "/" + std::to_string(id) + "_";
    for (const auto& info : all.value()) n += info.key.find(tag) != std::string::npos;
    return n;
  }

  std::unique_ptr<object::ObjectStore> store_ = object::NewMemStore();
  BlockCache cache_{64 << 20};
  ChunkReader reader_{*store_, kLayout, &cache_};
  uint64_t next_id_ = 1;
  std::vector<Slice> records_;
  std::string model_;
};

TEST_F(CompactTest, RandomOverlappingWritesMatchTheModel) {
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    records_.clear();
    model_.clear();
    const uint32_t extent = 40000;
    for (int i = 0; i < 300; ++i) {
      uint32_t pos = 1000 + rng() % extent;  // a leading hole of at least 1000 bytes
      uint32_t len = 1 + rng() % (rng() % 8 == 0 ? 9000 : 300);
      if (rng() % 20 == 0) {
        Hole(pos, len);
        continue;
      }
      std::string data(len, '\0');
      for (char& c : data) c = static_cast<char>('a' + rng() % 26);
      Write(pos, data);
    }
    ASSERT_TRUE(WorthCompacting(records_));
    ASSERT_EQ(ReadAll(records_), model_);
    const uint64_t id = next_id_++;
    auto merged = WriteCompacted(reader_, *store_, kLayout, records_, id);
    ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
    EXPECT_EQ(merged->id, id);
    EXPECT_EQ(merged->off, 0u);
    EXPECT_EQ(merged->len, merged->size);
    size_t first = model_.find_first_not_of('\0');
    size_t last = model_.find_last_not_of('\0') + 1;
    EXPECT_LE(merged->pos, first) << "the slice starts at the first byte written";
    EXPECT_GE(merged->pos + merged->len, last);
    EXPECT_GE(merged->pos, 1000u) << "a leading hole stays a hole";
    EXPECT_EQ(ObjectsOf(id), BlockCount(kLayout, merged->size));
    // One record now, reading the same bytes, also with a fresh cache.
    EXPECT_EQ(ReadAll({*merged}), model_);
    BlockCache cold(64 << 20);
    ChunkReader fresh(*store_, kLayout, &cold);
    std::string again(model_.size(), '\1');
    ASSERT_TRUE(fresh.Read({*merged}, 0, again.size(), again.data()).ok());
    EXPECT_EQ(again, model_);
    EXPECT_FALSE(WorthCompacting({*merged}));
  }
}

TEST_F(CompactTest, InnerHolesBecomeZerosAndPoolsHelp) {
  Write(100, std::string(5000, 'x'));
  Hole(1000, 2000);
  Write(20000, std::string(3000, 'y'));
  ThreadPool uploads(4), downloads(4);
  auto merged = WriteCompacted(reader_, *store_, kLayout, records_, 99, &uploads, &downloads);
  ASSERT_TRUE(merged.has_value()) << merged.error().ToString();
  EXPECT_EQ(*merged, (Slice{.pos = 100, .id = 99, .size = 22900, .off = 0, .len = 22900}));
  EXPECT_EQ(ReadAll({*merged}), model_);
}

TEST_F(CompactTest, OnlyHolesNeedNoSlice) {
  Write(0, std::string(100, 'x'));
  Hole(0, 100);
  Hole(50, 500);
  auto merged = WriteCompacted(reader_, *store_, kLayout, records_, 77);
  ASSERT_TRUE(merged.has_value());
  EXPECT_EQ(merged->len, 0u);
  EXPECT_EQ(merged->id, 0u);
  EXPECT_EQ(ObjectsOf(77), 0u);
}

TEST_F(CompactTest, AFailedReadLeavesNoBlockBehind) {
  Write(0, std::string(10000, 'a'));
  Write(9000, std::string(5000, 'b'));
  // The second slice's blocks vanish (freed by another client, say).
  ASSERT_TRUE(DeleteSliceBlocks(*store_, kLayout, records_[1].id, records_[1].size).ok());
  BlockCache cold(1 << 20);
  ChunkReader fresh(*store_, kLayout, &cold);
  auto merged = WriteCompacted(fresh, *store_, kLayout, records_, 55);
  ASSERT_FALSE(merged.has_value());
  EXPECT_EQ(merged.error().code(), Code::kNotFound);  // a missing block, named
  EXPECT_EQ(ObjectsOf(55), 0u);
}

}  // namespace
}  // namespace tessera::chunk
