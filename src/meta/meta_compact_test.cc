// CompactChunk over every kv engine: the swap of a chunk's leading records,
// its refusal when the chunk changed, and the references it drops.
#include <fcntl.h>

#include <set>

#include "meta/meta_test_util.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

class CompactTest : public MetaTest {
 protected:
  std::vector<Slice> Chunk(Ino ino, uint32_t index = 0) {
    auto r = meta_->ReadChunk(ino, index);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r.value_or(std::vector<Slice>{});
  }
  // A compacted record for chunk bytes [pos, pos + len), as a compactor makes.
  Slice NewRecord(uint32_t pos, uint32_t len) {
    auto id = meta_->NewSliceId();
    EXPECT_TRUE(id.has_value());
    return Slice{.pos = pos, .id = *id, .size = len, .off = 0, .len = len};
  }
  std::set<uint64_t> FreedIds() {
    std::set<uint64_t> ids;
    for (auto& [id, size] : Freed()) ids.insert(id);
    return ids;
  }
};
TESSERA_META_INSTANTIATE(CompactTest);

TEST_P(CompactTest, WriteSliceCountsTheRecords) {
  Ino f = MkFile(kRootIno, "f");
  for (uint32_t i = 1; i <= 3; ++i) {
    uint32_t records = 0;
    Slice s{.pos = i, .id = 100 + i, .size = 1, .off = 0, .len = 1};
    ASSERT_OK(meta_->WriteSlice(f, 0, s, clock_.Now(), &records));
    EXPECT_EQ(records, i);
  }
}

TEST_P(CompactTest, SwapKeepsLaterRecordsAndFreesTheOld) {
  Ino f = MkFile(kRootIno, "f");
  std::set<uint64_t> old_ids;
  for (uint32_t i = 0; i < 5; ++i) old_ids.insert(Write(f, 0, i * 10, 15));
  std::vector<Slice> old = Chunk(f);
  uint64_t later = Write(f, 0, 3, 4);  // appended while the compactor worked
  uint64_t length = AttrOf(f).length;
  Slice merged = NewRecord(0, 55);
  ASSERT_OK(meta_->CompactChunk(f, 0, old, merged));
  std::vector<Slice> now = Chunk(f);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0], merged);
  EXPECT_EQ(now[1].id, later);
  EXPECT_EQ(FreedIds(), old_ids);
  EXPECT_EQ(AttrOf(f).length, length);
  EXPECT_TRUE(RawScan(keys::kReleasePrefix).empty());
}

TEST_P(CompactTest, RefusedWhenTheChunkChanged) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 10);
  Write(f, 0, 5, 10);
  std::vector<Slice> old = Chunk(f);
  // Truncated to nothing and written again: the front is not what was read.
  ASSERT_OK(meta_->Truncate(root_, f, 0));
  size_t freed_by_truncate = Freed().size();
  Write(f, 0, 0, 20);
  std::vector<Slice> before = Chunk(f);
  EXPECT_CODE(meta_->CompactChunk(f, 0, old, NewRecord(0, 15)), Code::kBusy);
  EXPECT_EQ(Chunk(f), before);
  EXPECT_EQ(Freed().size(), freed_by_truncate);
  // Records that never were the chunk's front are refused the same way.
  std::vector<Slice> wrong = before;
  wrong[0].len = 1;
  EXPECT_CODE(meta_->CompactChunk(f, 0, wrong, NewRecord(0, 20)), Code::kBusy);
  // A chunk that is gone, and an inode that is gone.
  EXPECT_CODE(meta_->CompactChunk(f, 1, before, NewRecord(0, 20)), Code::kBusy);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_CODE(meta_->CompactChunk(f, 0, before, NewRecord(0, 20)), Code::kNotFound);
}

TEST_P(CompactTest, SharedSliceKeepsItsBlocks) {
  Ino f = MkFile(kRootIno, "f");
  Ino g = MkFile(kRootIno, "g");
  uint64_t shared = Write(f, 0, 0, 100);
  uint64_t own = Write(f, 0, 50, 100);
  // g references the shared slice too (as a clone would), counted in K.
  ASSERT_OK(meta_->WriteSlice(g, 0, {.pos = 0, .id = shared, .size = 100, .off = 0, .len = 100},
                              clock_.Now()));
  std::string two;
  PutLE64(&two, 2);
  RawSet(keys::SliceRef(shared, 100), two);
  ASSERT_OK(meta_->CompactChunk(f, 0, Chunk(f), NewRecord(0, 150)));
  EXPECT_EQ(FreedIds(), (std::set<uint64_t>{own}));
  EXPECT_FALSE(RawGet(keys::SliceRef(shared, 100)).has_value());  // back to one reference
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "g"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_TRUE(FreedIds().contains(shared));
}

TEST_P(CompactTest, ThousandRecordsAreReleasedInBatches) {
  Ino f = MkFile(kRootIno, "f");
  std::set<uint64_t> old_ids;
  for (uint32_t i = 0; i < 1000; ++i) old_ids.insert(Write(f, 0, (i * 37) % 4000, 100));
  std::vector<Slice> old = Chunk(f);
  ASSERT_EQ(old.size(), 1000u);
  Slice merged = NewRecord(0, 4099);
  ASSERT_OK(meta_->CompactChunk(f, 0, old, merged));
  EXPECT_EQ(Chunk(f), std::vector<Slice>{merged});
  EXPECT_EQ(FreedIds(), old_ids);
  EXPECT_TRUE(RawScan(keys::kReleasePrefix).empty());
}

// A commit of scattered small writes packs them into one slice, a record
// (and a reference) for each piece; compacting them drops all those
// references in one batch and frees the slice once.
TEST_P(CompactTest, ThePiecesOfAPackedSliceAreReleasedTogether) {
  Ino f = MkFile(kRootIno, "f");
  auto id = meta_->NewSliceId();
  ASSERT_TRUE(id.has_value());
  std::vector<Slice> pieces;
  for (uint32_t i = 0; i < 500; ++i) {
    pieces.push_back(Slice{.pos = (i * 7919) % 60000, .id = *id, .size = 2000, .off = i * 4, .len = 4});
  }
  ASSERT_OK(meta_->WriteSlices(f, 0, pieces, clock_.Now()));
  std::vector<Slice> old = Chunk(f);
  ASSERT_EQ(old.size(), 500u);
  ASSERT_OK(meta_->CompactChunk(f, 0, old, NewRecord(0, 60004)));
  EXPECT_EQ(Freed(), (std::vector<std::pair<uint64_t, uint32_t>>{{*id, 2000}}));
  EXPECT_TRUE(RawScan(keys::kReleasePrefix).empty());
  EXPECT_TRUE(RawScan(keys::SliceRef(*id, 2000)).empty());
}

TEST_P(CompactTest, OnlyHolesLeaveNoRecord) {
  Ino f = MkFile(kRootIno, "f");
  uint64_t id = Write(f, 0, 0, 10);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocPunchHole | kFallocKeepSize, 0, 10));
  std::vector<Slice> old = Chunk(f);
  ASSERT_EQ(old.size(), 2u);
  ASSERT_OK(meta_->CompactChunk(f, 0, old, Slice{}));
  EXPECT_TRUE(Chunk(f).empty());
  EXPECT_FALSE(RawGet(keys::Chunk(f, 0)).has_value());
  EXPECT_EQ(FreedIds(), (std::set<uint64_t>{id}));
  EXPECT_EQ(AttrOf(f).length, 10u);
}

TEST_P(CompactTest, CleanupFinishesAnInterruptedRelease) {
  Ino f = MkFile(kRootIno, "f");
  uint64_t a = Write(f, 0, 0, 10);
  uint64_t b = Write(f, 0, 10, 10);
  // What a compactor that stopped right after its swap leaves behind.
  std::string queued;
  for (const Slice& s : Chunk(f)) AppendSliceRecord(&queued, s);
  RawSet(keys::Chunk(f, 0), "");
  RawSet(keys::Release(12345), queued);
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 0u);
  EXPECT_EQ(FreedIds(), (std::set<uint64_t>{a, b}));
  EXPECT_TRUE(RawScan(keys::kReleasePrefix).empty());
}

}  // namespace
}  // namespace tessera::meta
