// Attr::allocated (what st_blocks counts): the coverage of a chunk's records
// against a byte map, and the count kept exact through writes, truncate,
// fallocate, copy_file_range and compaction over every kv engine, checked
// against a recount of the chunks after each step.
#include <random>

#include "meta/meta_test_util.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

constexpr uint32_t kMiB = 1 << 20;

Slice Data(uint32_t pos, uint32_t len, uint64_t id = 9) {
  return Slice{.pos = pos, .id = id, .size = len, .off = 0, .len = len};
}
Slice Hole(uint32_t pos, uint32_t len) { return Slice{.pos = pos, .len = len}; }

// The bytes below `limit` that data records show, one byte at a time.
uint64_t ByteMapCoverage(const std::vector<Slice>& records, uint64_t limit) {
  std::vector<int> shown(limit, 0);
  for (const Slice& r : records) {
    for (uint64_t b = r.pos; b < uint64_t{r.pos} + r.len && b < limit; ++b) shown[b] = r.id != 0;
  }
  return static_cast<uint64_t>(std::count(shown.begin(), shown.end(), 1));
}

TEST(ChunkCoverageTest, LaterRecordsWin) {
  EXPECT_EQ(ChunkCoverage({}, kChunkSize), 0u);
  EXPECT_EQ(ChunkCoverage({Data(0, 100)}, kChunkSize), 100u);
  EXPECT_EQ(ChunkCoverage({Data(0, 100)}, 40), 40u);
  EXPECT_EQ(ChunkCoverage({Data(0, 100)}, 0), 0u);
  EXPECT_EQ(ChunkCoverage({Data(0, 100), Data(50, 100)}, kChunkSize), 150u);  // overlap once
  EXPECT_EQ(ChunkCoverage({Data(0, 100), Hole(50, 10)}, kChunkSize), 90u);    // punched
  EXPECT_EQ(ChunkCoverage({Hole(50, 10), Data(0, 100)}, kChunkSize), 100u);   // written over
  EXPECT_EQ(ChunkCoverage({Data(0, 10), Data(10, 10)}, kChunkSize), 20u);     // touching
  EXPECT_EQ(ChunkCoverage({Data(0, 100), Hole(0, 100), Data(30, 5)}, kChunkSize), 5u);
  EXPECT_EQ(ChunkCoverage({Data(0, 0)}, kChunkSize), 0u);
  // A record that claims to reach past the chunk counts up to its end.
  EXPECT_EQ(ChunkCoverage({Data(kChunkSize - 10, 100)}, kChunkSize), 10u);
  auto ranges = CoveredRanges({Data(100, 50), Data(0, 10), Hole(120, 10)});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].begin, 0u);
  EXPECT_EQ(ranges[0].end, 10u);
  EXPECT_EQ(ranges[1].begin, 100u);
  EXPECT_EQ(ranges[1].end, 120u);
  EXPECT_EQ(ranges[2].begin, 130u);
  EXPECT_EQ(ranges[2].end, 150u);
}

TEST(ChunkCoverageTest, MatchesAByteMap) {
  std::mt19937 rng(7);
  for (int round = 0; round < 500; ++round) {
    std::vector<Slice> records;
    int n = static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      uint32_t pos = rng() % 400;
      uint32_t len = rng() % 120;
      records.push_back(rng() % 3 == 0 ? Hole(pos, len) : Data(pos, len, 1 + rng() % 5));
    }
    uint64_t limit = rng() % 600;
    ASSERT_EQ(ChunkCoverage(records, limit), ByteMapCoverage(records, limit)) << "round " << round;
  }
}

// Moving the count by one chunk's change gives the recount, whatever changed.
TEST(ChunkCoverageTest, AccountChunkMatchesARecount) {
  std::mt19937 rng(3);
  auto records = [&](int n) {
    std::vector<Slice> out;
    for (int i = 0; i < n; ++i) {
      uint32_t pos = rng() % 400;
      uint32_t len = rng() % 120;
      out.push_back(rng() % 3 == 0 ? Hole(pos, len) : Data(pos, len, 1 + rng() % 5));
    }
    return out;
  };
  constexpr uint64_t kElsewhere = 1000;  // what other chunks hold
  for (int round = 0; round < 2000; ++round) {
    const uint32_t index = 1 + rng() % 2;
    const uint64_t start = index * kChunkSize;
    std::vector<Slice> before = records(static_cast<int>(rng() % 20));
    std::vector<Slice> after = before;
    if (rng() % 4 == 0) {
      after = records(static_cast<int>(rng() % 20));  // rewritten (a compaction)
    } else {
      for (const Slice& s : records(static_cast<int>(rng() % 4))) after.push_back(s);  // appended
    }
    const uint64_t old_length = start + rng() % 600;
    Attr attr;
    attr.mode = S_IFREG | 0644;
    attr.length = start + rng() % 600;
    attr.allocated = kElsewhere + ChunkCoverage(before, ChunkLimit(index, old_length));
    AccountChunk(&attr, index, before, old_length, after);
    ASSERT_EQ(attr.allocated, kElsewhere + ChunkCoverage(after, ChunkLimit(index, attr.length)))
        << "round " << round;
  }
}

TEST(ChunkCoverageTest, ChunkLimit) {
  EXPECT_EQ(ChunkLimit(0, 0), 0u);
  EXPECT_EQ(ChunkLimit(0, 5), 5u);
  EXPECT_EQ(ChunkLimit(0, 3 * kChunkSize), kChunkSize);
  EXPECT_EQ(ChunkLimit(1, kChunkSize), 0u);
  EXPECT_EQ(ChunkLimit(1, kChunkSize + 7), 7u);
  EXPECT_EQ(ChunkLimit(0x7fffffff, 1ull << 57), kChunkSize);
}

class AllocatedTest : public MetaTest {
 protected:
  // The count from scratch: every chunk's coverage under the length.
  uint64_t Recount(Ino ino) {
    Attr attr = AttrOf(ino);
    uint64_t n = 0;
    auto indexes = meta_->ChunkIndexes(ino, 0, 0);
    EXPECT_TRUE(indexes.has_value());
    for (uint32_t index : indexes.value_or(std::vector<uint32_t>{})) {
      n += ChunkCoverage(meta_->ReadChunk(ino, index).value_or(std::vector<Slice>{}),
                         ChunkLimit(index, attr.length));
    }
    return n;
  }
  // The count kept, checked against the recount.
  uint64_t Allocated(Ino ino) {
    uint64_t kept = AttrOf(ino).allocated;
    EXPECT_EQ(kept, Recount(ino));
    return kept;
  }
  // A sparse file of four chunks.
  Ino BigFile(std::string_view name) {
    Ino f = MkFile(kRootIno, name);
    EXPECT_TRUE(meta_->Truncate(root_, f, 4 * kChunkSize).has_value());
    return f;
  }
  Status Punch(Ino f, uint64_t off, uint64_t len) {
    return meta_->Fallocate(root_, f, kFallocPunchHole | kFallocKeepSize, off, len);
  }
  // Replaces the chunk's records by one slice over what they show, as a
  // compactor does (holes between data become stored zeros).
  void Compact(Ino f, uint32_t index) {
    auto old = meta_->ReadChunk(f, index);
    ASSERT_OK(old);
    if (old->empty()) return;
    auto ranges = CoveredRanges(*old);
    Slice merged;
    if (!ranges.empty()) {
      auto id = meta_->NewSliceId();
      ASSERT_OK(id);
      merged = Data(static_cast<uint32_t>(ranges.front().begin),
                    static_cast<uint32_t>(ranges.back().end - ranges.front().begin), *id);
    }
    ASSERT_OK(meta_->CompactChunk(f, index, *old, merged));
  }
};
TESSERA_META_INSTANTIATE(AllocatedTest);

TEST_P(AllocatedTest, NewFilesStoreNothing) {
  Ino f = MkFile(kRootIno, "f");
  EXPECT_EQ(Allocated(f), 0u);
  EXPECT_EQ(AttrOf(f).StoredBytes(), 0u);
  Ino d = MkDir(kRootIno, "d");
  EXPECT_EQ(AttrOf(d).allocated, 0u);
}

TEST_P(AllocatedTest, WritesCountOnceWhereTheyOverlap) {
  for (Ino f : {MkFile(kRootIno, "small"), BigFile("big")}) {
    Write(f, 0, 0, 4096);
    EXPECT_EQ(Allocated(f), 4096u);
    Write(f, 0, 0, 4096);  // the same bytes again
    EXPECT_EQ(Allocated(f), 4096u);
    Write(f, 0, 2048, 4096);  // half over them
    EXPECT_EQ(Allocated(f), 6144u);
    Write(f, 0, kMiB, 10);  // apart
    EXPECT_EQ(Allocated(f), 6154u);
    EXPECT_EQ(AttrOf(f).StoredBytes(), 6154u);
  }
}

// Several sessions committed in one transaction, pieces of one packed slice
// among them: later records win where they overlap, as always.
TEST_P(AllocatedTest, SlicesCommittedTogetherCountOnce) {
  for (Ino f : {MkFile(kRootIno, "small"), BigFile("big")}) {
    Write(f, 0, 0, 1000);
    auto id = meta_->NewSliceId();
    ASSERT_OK(id);
    const std::vector<Slice> slices = {
        {.pos = 500, .id = *id, .size = 300, .off = 0, .len = 100},     // over the old data
        {.pos = 2000, .id = *id, .size = 300, .off = 100, .len = 100},  // apart
        {.pos = 2050, .id = *id, .size = 300, .off = 200, .len = 100},  // half over that
        Hole(0, 10),
    };
    uint32_t records = 0;
    ASSERT_OK(meta_->WriteSlices(f, 0, slices, clock_.Now(), &records));
    EXPECT_EQ(records, 5u);
    EXPECT_EQ(Allocated(f), 990u + 150u);
  }
}

TEST_P(AllocatedTest, SparseWritesInSeveralChunks) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  Write(f, 3, kMiB, 4096);
  Write(f, 1000, 0, 100);
  EXPECT_EQ(AttrOf(f).length, 1000 * kChunkSize + 100);
  EXPECT_EQ(Allocated(f), 8292u);
  Write(f, 3, kMiB + 4000, 200);  // 96 bytes over the last write
  EXPECT_EQ(Allocated(f), 8396u);
  // 1 TiB long, a page stored: st_blocks says so.
  ASSERT_OK(meta_->Truncate(root_, f, 1ull << 40));
  Write(f, 0, 0, 4096);
  EXPECT_EQ(Allocated(f), 8396u);
  EXPECT_EQ(AttrOf(f).StoredBytes(), 8396u);
}

TEST_P(AllocatedTest, TruncateDownClipsAndUpAddsNothing) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, kMiB);
  Write(f, 1, 0, kMiB);
  Write(f, 2, kMiB, kMiB);
  EXPECT_EQ(Allocated(f), 3u * kMiB);
  ASSERT_OK(meta_->Truncate(root_, f, 5 * kChunkSize));  // up: holes
  EXPECT_EQ(Allocated(f), 3u * kMiB);
  ASSERT_OK(meta_->Truncate(root_, f, kChunkSize + kMiB / 4));  // into chunk 1; chunk 2 goes
  EXPECT_EQ(Allocated(f), kMiB + kMiB / 4);
  ASSERT_OK(meta_->Truncate(root_, f, 2 * kChunkSize));  // up again: the cut stays a hole
  EXPECT_EQ(Allocated(f), kMiB + kMiB / 4);
  ASSERT_OK(meta_->Truncate(root_, f, kChunkSize));  // at a chunk boundary
  EXPECT_EQ(Allocated(f), kMiB);
  ASSERT_OK(meta_->Truncate(root_, f, 100));
  EXPECT_EQ(Allocated(f), 100u);
  ASSERT_OK(meta_->Truncate(root_, f, 0));
  EXPECT_EQ(Allocated(f), 0u);
  Write(f, 1, 10, 10);
  EXPECT_EQ(Allocated(f), 10u);
}

TEST_P(AllocatedTest, PunchHoleAndZeroRangeStoreNothing) {
  Ino f = BigFile("f");
  Write(f, 0, 0, 64 * 1024);
  Write(f, 1, 0, 64 * 1024);
  ASSERT_OK(Punch(f, 4096, 8192));
  EXPECT_EQ(Allocated(f), 128u * 1024 - 8192);
  ASSERT_OK(Punch(f, 4096, 8192));  // again: nothing more goes
  EXPECT_EQ(Allocated(f), 128u * 1024 - 8192);
  // Across the chunk boundary: the tail of chunk 0's data and the head of chunk 1's.
  ASSERT_OK(Punch(f, kChunkSize - kMiB, kMiB + 1024));
  EXPECT_EQ(Allocated(f), 128u * 1024 - 8192 - 1024);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocZeroRange | kFallocKeepSize, 60 * 1024, 8192));
  EXPECT_EQ(Allocated(f), 128u * 1024 - 8192 - 1024 - 4096);
  // Past the end with the length moving: what lay inside goes, nothing is added.
  uint64_t length = AttrOf(f).length;
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocZeroRange, length - 10, 100));
  EXPECT_EQ(AttrOf(f).length, length + 90);
  EXPECT_EQ(Allocated(f), 128u * 1024 - 8192 - 1024 - 4096);
  Write(f, 0, 4096, 8192);  // written again
  EXPECT_EQ(Allocated(f), 128u * 1024 - 1024 - 4096);
}

TEST_P(AllocatedTest, FallocateReservesNothing) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 3);
  ASSERT_OK(meta_->Fallocate(root_, f, 0, 0, kMiB));
  EXPECT_EQ(AttrOf(f).length, kMiB);
  EXPECT_EQ(Allocated(f), 3u);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocKeepSize, 0, 8 * kMiB));
  EXPECT_EQ(AttrOf(f).length, kMiB);
  EXPECT_EQ(Allocated(f), 3u);
}

TEST_P(AllocatedTest, CopyRangeAddsWhatTheSourceShows) {
  Ino src = MkFile(kRootIno, "src");
  Write(src, 0, 0, 4096);
  Write(src, 0, 3 * 4096, 4096);
  ASSERT_OK(meta_->Truncate(root_, src, kMiB));
  // Into a long file, over data: the copy's hole replaces it.
  Ino dst = BigFile("dst");
  Write(dst, 2, 0, kMiB);
  uint64_t off = 2 * kChunkSize + 4096;
  EXPECT_EQ(meta_->CopyRange(src, 0, dst, off, kMiB).value_or(0), kMiB);
  EXPECT_EQ(Allocated(dst), 4096u + 8192u);  // the first page of the old data, and the copy's
  // Past the end of the destination: it grows by the copy, stores its data only.
  EXPECT_EQ(meta_->CopyRange(src, 0, dst, 6 * kChunkSize, kMiB).value_or(0), kMiB);
  EXPECT_EQ(AttrOf(dst).length, 6 * kChunkSize + kMiB);
  EXPECT_EQ(Allocated(dst), 4096u + 8192u + 8192u);
  // Within one small file.
  EXPECT_EQ(meta_->CopyRange(src, 0, src, 2 * kMiB, 4 * 4096).value_or(0), 4u * 4096);
  EXPECT_EQ(Allocated(src), 4u * 4096);
}

TEST_P(AllocatedTest, CompactionStoresTheHolesBetween) {
  for (Ino f : {MkFile(kRootIno, "small"), BigFile("big")}) {
    Write(f, 0, 0, 10);
    Write(f, 0, 100, 10);
    Write(f, 0, 1000, 10);
    ASSERT_OK(Punch(f, 500, 10));  // a hole record in the middle
    EXPECT_EQ(Allocated(f), 30u);
    Compact(f, 0);
    EXPECT_EQ(Allocated(f), 1010u);  // one slice from byte 0 to 1010
    EXPECT_EQ(meta_->ReadChunk(f, 0)->size(), 1u);
  }
  // Only holes: the records go, nothing is stored before or after.
  Ino g = BigFile("holes");
  Write(g, 1, 0, 10);
  ASSERT_OK(Punch(g, kChunkSize, 10));
  EXPECT_EQ(Allocated(g), 0u);
  Compact(g, 1);
  EXPECT_EQ(Allocated(g), 0u);
  EXPECT_TRUE(meta_->ReadChunk(g, 1)->empty());
}

TEST_P(AllocatedTest, CompactionKeepsTimes) {
  Ino f = BigFile("f");
  Write(f, 0, 0, 10);
  Write(f, 0, 100, 10);
  Attr before = AttrOf(f);
  clock_.Advance(5'000'000'000);
  Compact(f, 0);
  Attr after = AttrOf(f);
  EXPECT_EQ(after.allocated, 110u);
  EXPECT_EQ(after.mtime, before.mtime);
  EXPECT_EQ(after.ctime, before.ctime);
  EXPECT_EQ(after.length, before.length);
}

TEST_P(AllocatedTest, RandomOperationsKeepTheCountExact) {
  Ino f = MkFile(kRootIno, "f");
  Ino src = MkFile(kRootIno, "src");
  Write(src, 0, 0, 3 * kMiB);
  Write(src, 0, kMiB, 5);
  ASSERT_OK(Punch(src, kMiB / 2, kMiB));
  std::mt19937_64 rng(11);
  // Offsets near the chunk boundaries of a three-chunk file.
  auto offset = [&] {
    return (rng() % 3) * kChunkSize +
           (rng() % 2 ? rng() % (4 * kMiB) : kChunkSize - rng() % (4 * kMiB));
  };
  const int steps = GetParam() == testing::EngineKind::kMem ? 400 : 80;
  for (int step = 0; step < steps; ++step) {
    uint64_t at = offset();
    uint32_t len = 1 + static_cast<uint32_t>(rng() % (2 * kMiB));
    switch (rng() % 6) {
      case 0:
      case 1: {
        uint32_t pos = static_cast<uint32_t>(at % kChunkSize);
        Write(f, static_cast<uint32_t>(at / kChunkSize), pos,
              static_cast<uint32_t>(std::min<uint64_t>(len, kChunkSize - pos)));
        break;
      }
      case 2:
        ASSERT_OK(meta_->Truncate(root_, f, at));
        break;
      case 3:
        ASSERT_OK(Punch(f, at, len));
        break;
      case 4:
        ASSERT_OK(meta_->Fallocate(root_, f, rng() % 2 ? kFallocZeroRange : 0, at, len));
        break;
      case 5:
        ASSERT_OK(meta_->CopyRange(src, rng() % (3 * kMiB), f, at, len));
        break;
    }
    if (rng() % 8 == 0) Compact(f, static_cast<uint32_t>(rng() % 3));
    ASSERT_EQ(AttrOf(f).allocated, Recount(f)) << "step " << step;
  }
}

// A volume from before the count: the file's record is 73 bytes.
TEST_P(AllocatedTest, RecordsWithoutTheCount) {
  Ino small = MkFile(kRootIno, "small");
  Write(small, 0, 0, 4096);
  Ino big = MkFile(kRootIno, "big");
  Write(big, 0, 0, 4096);
  Write(big, 2, 0, 4096);
  for (Ino f : {small, big}) {
    std::string rec = *RawGet(keys::Attr(f));
    RawSet(keys::Attr(f), rec.substr(0, kAttrRecordSizeNoAllocated));
    EXPECT_EQ(AttrOf(f).allocated, kAllocatedUnknown);
    EXPECT_EQ(AttrOf(f).StoredBytes(), AttrOf(f).length);  // as before the count
  }
  // Changes to a long file cannot count from one chunk: still unknown.
  Write(big, 2, 0, 4096);
  ASSERT_OK(Punch(big, 0, 100));
  ASSERT_OK(meta_->Truncate(root_, big, 2 * kChunkSize + 10));
  EXPECT_EQ(AttrOf(big).allocated, kAllocatedUnknown);
  EXPECT_EQ(AttrOf(big).StoredBytes(), 2 * kChunkSize + 10);
  // Within one chunk the chunk is the file: the next change counts it.
  ASSERT_OK(meta_->Truncate(root_, big, kMiB));
  EXPECT_EQ(Allocated(big), 4096u - 100u);
  Write(small, 0, 8192, 10);
  EXPECT_EQ(Allocated(small), 4106u);
}

TEST_P(AllocatedTest, TruncateToZeroCountsAnOldRecord) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 5, 0, 4096);
  std::string rec = *RawGet(keys::Attr(f));
  RawSet(keys::Attr(f), rec.substr(0, kAttrRecordSizeNoAllocated));
  ASSERT_OK(meta_->Truncate(root_, f, 0));
  EXPECT_EQ(Allocated(f), 0u);
}

}  // namespace
}  // namespace tessera::meta
