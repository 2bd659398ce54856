// The volume (format, load, statfs, settings), file data (slices, truncate,
// fallocate), open files, the deleted-file queue and sessions, over every kv
// engine.
#include <fcntl.h>
#include <unistd.h>

#include <set>

#include "meta/meta_test_util.h"
#include "meta/ops.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;
using FreedList = std::vector<std::pair<uint64_t, uint32_t>>;

class FileTest : public MetaTest {};
TESSERA_META_INSTANTIATE(FileTest);

constexpr uint32_t kMiB = 1 << 20;

SessionInfo Info(std::string host, uint32_t pid = 0, std::string mountpoint = "") {
  SessionInfo s;
  s.host = std::move(host);
  s.pid = pid;
  s.mountpoint = std::move(mountpoint);
  s.version = "0.1";
  return s;
}

// --- Volume ---

TEST(SettingsTest, JsonRoundTrip) {
  Settings s;
  s.name = "vol";
  s.uuid = "u-1";
  s.storage = "s3";
  s.bucket = "https://example.com/bucket";
  s.block_size = 1 << 20;
  s.compression = "zstd";
  s.trash_days = 3;
  s.capacity = 1ull << 40;
  s.inodes = 123456;
  auto back = Settings::FromJson(s.ToJson());
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->ToJson(), s.ToJson());
  EXPECT_EQ(back->name, "vol");
  EXPECT_EQ(back->capacity, 1ull << 40);
  EXPECT_EQ(back->format_version, kFormatVersion);
}

TEST(SettingsTest, FromJsonErrorsNameTheProblem) {
  EXPECT_EQ(Settings::FromJson("{not json").error().code(), Code::kInvalid);
  EXPECT_EQ(Settings::FromJson("[1,2]").error().code(), Code::kInvalid);
  auto bad = Settings::FromJson(R"({"name": "v", "block_size": "big"})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("block_size"), std::string::npos);
  EXPECT_FALSE(Settings::FromJson(R"({"capacity": -1})").has_value());
  auto minimal = Settings::FromJson(R"({"name": "v", "future_field": true})");
  ASSERT_TRUE(minimal.has_value());
  EXPECT_EQ(minimal->block_size, 4u << 20);
}

TEST_P(FileTest, FormatRefusesWithoutForce) {
  Settings other = DefaultSettings();
  other.name = "other";
  Status st = meta_->Format(other, false);
  EXPECT_EQ(st.code(), Code::kExists);
  EXPECT_NE(st.message().find("--force"), std::string::npos) << st.message();
  EXPECT_EQ(meta_->Load()->name, "test");
}

TEST_P(FileTest, FormatWithForceWipes) {
  MkFile(kRootIno, "f");
  Settings other = DefaultSettings();
  other.name = "other";
  ASSERT_OK(meta_->Format(other, true));
  EXPECT_EQ(meta_->Load()->name, "other");
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, "f"), Code::kNotFound);
  EXPECT_EQ(meta_->StatFs()->used_inodes, 0u);
  ASSERT_OK(meta_->Mknod(root_, kRootIno, "f", S_IFREG | 0644, 0));
}

TEST_P(FileTest, FormatValidatesBlockSize) {
  Settings s = DefaultSettings();
  s.block_size = 3 << 20;
  EXPECT_CODE(meta_->Format(s, true), Code::kInvalid);
}

TEST_P(FileTest, LoadOnEmptyEngine) {
  ASSERT_OK(engine_->Reset());
  auto fresh = NewClient();
  EXPECT_CODE(fresh->Load(), Code::kNotFound);
}

TEST_P(FileTest, LoadNewerFormatVersion) {
  Settings s = DefaultSettings();
  s.format_version = kFormatVersion + 1;
  ASSERT_OK(meta_->Format(s, true));
  EXPECT_CODE(NewClient()->Load(), Code::kNotSupported);
}

TEST_P(FileTest, StatFsCountsUpAndDown) {
  auto empty = meta_->StatFs();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->used_inodes, 0u);
  EXPECT_EQ(empty->used_space, 0u);
  EXPECT_EQ(empty->total_space, 1ull << 50);
  EXPECT_EQ(empty->avail_space, empty->total_space);
  Ino d = MkDir(kRootIno, "d");
  Ino f = MkFile(d, "f");
  ASSERT_OK(meta_->Symlink(root_, d, "l", "f"));
  auto st = meta_->StatFs();
  EXPECT_EQ(st->used_inodes, 3u);
  EXPECT_EQ(st->used_space, 3u * 4096);
  Write(f, 0, 0, 10000);  // 10000 bytes: 3 units of 4 KiB
  EXPECT_EQ(meta_->StatFs()->used_space, 5u * 4096);
  Write(f, 1, 0, 1);  // second chunk: length 64 MiB + 1
  EXPECT_EQ(meta_->StatFs()->used_space, 2u * 4096 + (64u * kMiB + 4096));
  ASSERT_OK(meta_->Unlink(root_, d, "f"));
  ASSERT_OK(meta_->Unlink(root_, d, "l"));
  ASSERT_OK(meta_->Rmdir(root_, kRootIno, "d"));
  auto end = meta_->StatFs();
  EXPECT_EQ(end->used_inodes, 0u);
  EXPECT_EQ(end->used_space, 0u);
}

TEST_P(FileTest, QuotasGiveNoSpace) {
  Settings s = DefaultSettings();
  s.inodes = 2;
  s.capacity = 3 * 4096;
  ASSERT_OK(meta_->Format(s, true));
  Ino f = MkFile(kRootIno, "a");
  MkFile(kRootIno, "b");
  EXPECT_CODE(meta_->Mknod(root_, kRootIno, "c", S_IFREG | 0644, 0), Code::kNoSpace);
  EXPECT_CODE(meta_->WriteSlice(f, 0, {.pos = 0, .id = 9, .size = 8193, .off = 0, .len = 8193},
                                clock_.Now()),
              Code::kNoSpace);
  ASSERT_OK(meta_->WriteSlice(f, 0, {.pos = 0, .id = 9, .size = 8192, .off = 0, .len = 4096},
                              clock_.Now()));
  auto st = meta_->StatFs();
  EXPECT_EQ(st->total_space, 3u * 4096);
  EXPECT_EQ(st->avail_space, 4096u);
  EXPECT_EQ(st->avail_inodes, 0u);
}

// --- Ids ---

TEST_P(FileTest, IdsAreUniqueAcrossClients) {
  auto other = NewClient();
  std::set<uint64_t> slices;
  for (int i = 0; i < 5000; ++i) {
    slices.insert(*meta_->NewSliceId());
    slices.insert(*other->NewSliceId());
  }
  EXPECT_EQ(slices.size(), 10000u);
  EXPECT_EQ(slices.count(0), 0u);
  Ino a = MkFile(kRootIno, "a");
  auto b = other->Mknod(root_, kRootIno, "b", S_IFREG | 0644, 0);
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(a, b->ino);
  EXPECT_GT(a, kRootIno);
  EXPECT_GT(b->ino, kRootIno);
}

// --- Slices ---

TEST_P(FileTest, WriteSliceExtendsAndReadsBack) {
  Ino f = MkFile(kRootIno, "f", 06775);
  clock_.Advance(2'000'000'000);
  uint64_t a = Write(f, 0, 0, 4096);
  uint64_t b = Write(f, 0, 1000, 100);
  uint64_t c = Write(f, 2, 5, 10);
  Attr attr = AttrOf(f);
  EXPECT_EQ(attr.length, 2 * (64ull << 20) + 15);
  EXPECT_EQ(attr.mtime, clock_.Now());
  EXPECT_EQ(attr.mode & 07777, 06775u);  // root's write: suid/sgid stay, as on ext4
  auto chunk = meta_->ReadChunk(f, 0);
  ASSERT_TRUE(chunk.has_value());
  ASSERT_EQ(chunk->size(), 2u);
  EXPECT_EQ((*chunk)[0], (Slice{.pos = 0, .id = a, .size = 4096, .off = 0, .len = 4096}));
  EXPECT_EQ((*chunk)[1], (Slice{.pos = 1000, .id = b, .size = 100, .off = 0, .len = 100}));
  EXPECT_TRUE(meta_->ReadChunk(f, 1)->empty());
  EXPECT_EQ(meta_->ReadChunk(f, 2)->at(0).id, c);
  Write(f, 0, 0, 10);  // writes inside the length leave it alone
  EXPECT_EQ(AttrOf(f).length, attr.length);
}

// Small writes packed into one slice: each record names a piece of it and
// holds a reference, so the slice is freed only when no record is left.
TEST_P(FileTest, WriteSlicesCountsAReferencePerPiece) {
  Ino f = MkFile(kRootIno, "f");
  uint64_t id = *meta_->NewSliceId();
  std::vector<Slice> pieces = {{.pos = 5000, .id = id, .size = 300, .off = 0, .len = 100},
                               {.pos = 0, .id = id, .size = 300, .off = 100, .len = 100},
                               {.pos = 70000, .id = id, .size = 300, .off = 200, .len = 100}};
  uint32_t records = 0;
  ASSERT_OK(meta_->WriteSlices(f, 1, pieces, clock_.Now(), &records));
  EXPECT_EQ(records, 3u);
  EXPECT_EQ(*meta_->ReadChunk(f, 1), pieces);
  EXPECT_EQ(AttrOf(f).length, (64ull << 20) + 70100);
  // Cutting the last piece off leaves two references: nothing is freed.
  ASSERT_OK(meta_->Truncate(root_, f, (64ull << 20) + 6000));
  EXPECT_TRUE(Freed().empty());
  ASSERT_OK(meta_->Truncate(root_, f, 64ull << 20));
  EXPECT_EQ(Freed(), (FreedList{{id, 300}}));
}

TEST_P(FileTest, WriteSliceErrors) {
  Ino d = MkDir(kRootIno, "d");
  Slice s{.pos = 0, .id = 1, .size = 1, .off = 0, .len = 1};
  EXPECT_CODE(meta_->WriteSlice(d, 0, s, clock_.Now()), Code::kIsDir);
  EXPECT_CODE(meta_->WriteSlice(424242, 0, s, clock_.Now()), Code::kNotFound);
  Ino f = MkFile(kRootIno, "f");
  s.pos = 64 * kMiB - 1;
  s.len = 2;
  EXPECT_CODE(meta_->WriteSlice(f, 0, s, clock_.Now()), Code::kInvalid);
}

TEST_P(FileTest, ReadChunkCorrupt) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 10);
  std::string value = *RawGet(keys::Chunk(f, 0));
  RawSet(keys::Chunk(f, 0), value + "xyz");
  EXPECT_CODE(meta_->ReadChunk(f, 0), Code::kCorrupt);
}

// --- Truncate and fallocate ---

TEST_P(FileTest, TruncateShrinkThenGrowReadsHole) {
  Ino f = MkFile(kRootIno, "f");
  uint64_t id = Write(f, 0, 0, 10000);
  auto a = meta_->Truncate(root_, f, 3000);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->length, 3000u);
  ASSERT_OK(meta_->Truncate(root_, f, 20000));
  EXPECT_EQ(AttrOf(f).length, 20000u);
  auto chunk = meta_->ReadChunk(f, 0);
  ASSERT_EQ(chunk->size(), 2u);
  EXPECT_EQ((*chunk)[0].id, id);
  EXPECT_EQ((*chunk)[1], (Slice{.pos = 3000, .id = 0, .size = 0, .off = 0, .len = 7000}));
  EXPECT_TRUE(Freed().empty());  // the slice is still partly visible
}

TEST_P(FileTest, TruncateDropsWholeChunks) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 100);
  uint64_t b = Write(f, 1, 0, 100);
  uint64_t c = Write(f, 3, 50, 100);
  ASSERT_OK(meta_->Truncate(root_, f, 64ull << 20));
  EXPECT_TRUE(RawGet(keys::Chunk(f, 0)).has_value());
  EXPECT_FALSE(RawGet(keys::Chunk(f, 1)).has_value());
  EXPECT_FALSE(RawGet(keys::Chunk(f, 3)).has_value());
  EXPECT_EQ(meta_->ReadChunk(f, 0)->size(), 1u);  // boundary at a chunk edge: no hole
  FreedList freed = Freed();
  std::sort(freed.begin(), freed.end());
  EXPECT_EQ(freed, (FreedList{{b, 100}, {c, 100}}));
  EXPECT_EQ(AttrOf(f).length, 64ull << 20);
  EXPECT_EQ(meta_->StatFs()->used_space, 64ull << 20);
}

TEST_P(FileTest, TruncateErrors) {
  Ino d = MkDir(kRootIno, "d");
  EXPECT_CODE(meta_->Truncate(root_, d, 0), Code::kIsDir);
  Ino f = MkFile(kRootIno, "f", 0644);
  EXPECT_CODE(meta_->Truncate(User(1000, 1000), f, 0), Code::kAccess);
  EXPECT_CODE(meta_->Truncate(root_, 999999, 0), Code::kNotFound);
}

TEST_P(FileTest, Fallocate) {
  Ino f = MkFile(kRootIno, "f");
  EXPECT_CODE(meta_->Fallocate(root_, f, 0, 0, 0), Code::kInvalid);
  EXPECT_CODE(meta_->Fallocate(root_, f, kFallocPunchHole, 0, 10), Code::kInvalid);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocKeepSize, 0, 1 << 20));
  EXPECT_EQ(AttrOf(f).length, 0u);
  ASSERT_OK(meta_->Fallocate(root_, f, 0, 0, 1 << 20));
  EXPECT_EQ(AttrOf(f).length, 1u << 20);
  EXPECT_TRUE(meta_->ReadChunk(f, 0)->empty());  // no data, no records
  uint64_t id = Write(f, 0, 0, 1 << 20);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocPunchHole | kFallocKeepSize, 100, 200));
  EXPECT_EQ(AttrOf(f).length, 1u << 20);
  auto chunk = meta_->ReadChunk(f, 0);
  ASSERT_EQ(chunk->size(), 2u);
  EXPECT_EQ((*chunk)[0].id, id);
  EXPECT_EQ((*chunk)[1], (Slice{.pos = 100, .id = 0, .size = 0, .off = 0, .len = 200}));
  // ZERO_RANGE across the end extends the length; holes only cover old data.
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocZeroRange, (1 << 20) - 10, 100));
  EXPECT_EQ(AttrOf(f).length, (1u << 20) + 90);
  EXPECT_EQ(meta_->ReadChunk(f, 0)->back(),
            (Slice{.pos = (1 << 20) - 10, .id = 0, .size = 0, .off = 0, .len = 10}));
  Ino d = MkDir(kRootIno, "d");
  EXPECT_CODE(meta_->Fallocate(root_, d, 0, 0, 10), Code::kIsDir);
}

TEST_P(FileTest, PunchAcrossChunks) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 64 * kMiB);
  Write(f, 1, 0, 64 * kMiB);
  ASSERT_OK(meta_->Fallocate(root_, f, kFallocPunchHole | kFallocKeepSize, 64ull * kMiB - 5, 10));
  EXPECT_EQ(meta_->ReadChunk(f, 0)->back(),
            (Slice{.pos = 64 * kMiB - 5, .id = 0, .size = 0, .off = 0, .len = 5}));
  EXPECT_EQ(meta_->ReadChunk(f, 1)->back(),
            (Slice{.pos = 0, .id = 0, .size = 0, .off = 0, .len = 5}));
}

// --- Open files and deletion ---

TEST_P(FileTest, OpenChecksPermissions) {
  Context user = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 0444);
  Ino d = MkDir(kRootIno, "d");
  ASSERT_OK(meta_->Open(user, f, O_RDONLY));
  EXPECT_CODE(meta_->Open(user, f, O_WRONLY), Code::kAccess);
  EXPECT_CODE(meta_->Open(user, f, O_RDWR), Code::kAccess);
  EXPECT_CODE(meta_->Open(user, f, O_RDONLY | O_TRUNC), Code::kAccess);
  EXPECT_CODE(meta_->Open(root_, d, O_RDWR), Code::kIsDir);
  ASSERT_OK(meta_->Open(root_, d, O_RDONLY));
  EXPECT_CODE(meta_->Open(user, 999999, O_RDONLY), Code::kNotFound);
  ASSERT_OK(meta_->Close(f));
  ASSERT_OK(meta_->Close(d));
  EXPECT_CODE(meta_->Close(f), Code::kBadHandle);
}

TEST_P(FileTest, UnlinkWhileOpen) {
  ASSERT_OK(meta_->NewSession(Info("h", 1)));
  Ino f = MkFile(kRootIno, "f");
  uint64_t a = Write(f, 0, 0, 5000);
  uint64_t b = Write(f, 1, 0, 7000);
  ASSERT_OK(meta_->Open(root_, f, O_RDWR));
  ASSERT_OK(meta_->Open(root_, f, O_RDONLY));
  uint64_t used = meta_->StatFs()->used_inodes;
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, "f"), Code::kNotFound);
  Attr attr = AttrOf(f);
  EXPECT_EQ(attr.nlink, 0u);
  EXPECT_EQ(meta_->ReadChunk(f, 1)->size(), 1u);
  EXPECT_EQ(RawScan("SS").size(), 1u);
  EXPECT_EQ(meta_->StatFs()->used_inodes, used);
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 0u);  // nothing queued yet
  ASSERT_OK(meta_->Close(f));
  ASSERT_OK(meta_->GetAttr(f));  // one handle left
  ASSERT_OK(meta_->Close(f));
  EXPECT_CODE(meta_->GetAttr(f), Code::kNotFound);
  EXPECT_TRUE(RawScan("SS").empty());
  EXPECT_EQ(meta_->StatFs()->used_inodes, used - 1);
  EXPECT_EQ(RawScan("D").size(), 1u);
  EXPECT_TRUE(Freed().empty());
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  FreedList freed = Freed();
  std::sort(freed.begin(), freed.end());
  EXPECT_EQ(freed, (FreedList{{a, 5000}, {b, 7000}}));
  EXPECT_TRUE(RawScan("D").empty());
  EXPECT_TRUE(RawScan(keys::ChunkPrefix(f)).empty());
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 0u);
}

TEST_P(FileTest, FreeingAFileOfManyChunksIsBatched) {
  // 300 chunks (19 GiB of address space) with 400 slices: more keys than one
  // transaction of some engines may touch (etcd: 128), so freeing runs in batches.
  Ino f = MkFile(kRootIno, "huge");
  FreedList want;
  for (uint32_t index = 0; index < 300; ++index) {
    want.emplace_back(Write(f, index, 0, 100), 100);
    if (index % 3 == 0) want.emplace_back(Write(f, index, 50, 10), 10);
  }
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "huge"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  FreedList freed = Freed();
  std::sort(freed.begin(), freed.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(freed, want);
  EXPECT_TRUE(RawScan(keys::ChunkPrefix(f)).empty());
  EXPECT_TRUE(RawScan("D").empty());
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 0u);
}

TEST_P(FileTest, OpenElsewhereDoesNotSustain) {
  Ino f = MkFile(kRootIno, "f");
  auto other = NewClient();
  ASSERT_OK(other->Open(root_, f, O_RDONLY));
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));  // this client has it not open
  EXPECT_CODE(meta_->GetAttr(f), Code::kNotFound);
  ASSERT_OK(other->Close(f));
}

TEST_P(FileTest, RenameOverOpenFileSustainsIt) {
  Ino victim = MkFile(kRootIno, "victim");
  uint64_t id = Write(victim, 0, 0, 10);
  MkFile(kRootIno, "new");
  ASSERT_OK(meta_->Open(root_, victim, O_RDONLY));
  ASSERT_OK(meta_->Rename(root_, kRootIno, "new", kRootIno, "victim", 0));
  EXPECT_EQ(AttrOf(victim).nlink, 0u);
  ASSERT_OK(meta_->Close(victim));
  EXPECT_CODE(meta_->GetAttr(victim), Code::kNotFound);
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed(), (FreedList{{id, 10}}));
}

TEST_P(FileTest, SharedSliceIsFreedOnlyAtLastReference) {
  Ino f = MkFile(kRootIno, "f");
  Ino g = MkFile(kRootIno, "g");
  uint64_t id = Write(f, 0, 0, 100);
  // g references the same slice (as a clone would), with the count kept in K.
  ASSERT_OK(meta_->WriteSlice(g, 0, {.pos = 0, .id = id, .size = 100, .off = 0, .len = 100},
                              clock_.Now()));
  std::string two;
  PutLE64(&two, 2);
  RawSet(keys::SliceRef(id, 100), two);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_TRUE(Freed().empty());
  EXPECT_FALSE(RawGet(keys::SliceRef(id, 100)).has_value());  // back to one reference
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "g"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed(), (FreedList{{id, 100}}));
}

TEST_P(FileTest, CopyRangeSharesSlices) {
  constexpr uint64_t kChunk = 64ull << 20;
  Ino f = MkFile(kRootIno, "f");
  Ino g = MkFile(kRootIno, "g");
  uint64_t a = Write(f, 0, 0, 1000);
  uint64_t b = Write(f, 0, 500, 1000);  // overlaps a: later wins
  Write(g, 0, 0, 4000);                 // g's old data under the copy
  clock_.Advance(1'000'000'000);
  // Bytes [100, 1500) of f to g at the end of g's chunk 0: cut at that boundary.
  auto n = meta_->CopyRange(f, 100, g, kChunk - 300, 1400);
  ASSERT_TRUE(n.has_value()) << n.error().ToString();
  EXPECT_EQ(*n, 300u);
  auto rest = meta_->CopyRange(f, 400, g, kChunk, 1100);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, 1100u);
  Attr ga = AttrOf(g);
  EXPECT_EQ(ga.length, kChunk + 1100);
  EXPECT_EQ(ga.mtime, clock_.Now());
  // Chunk 0 of g: its own slice, then a hole over the piece, then a's part.
  auto c0 = *meta_->ReadChunk(g, 0);
  ASSERT_EQ(c0.size(), 3u);
  EXPECT_EQ(c0[1], (Slice{.pos = kChunk - 300, .id = 0, .size = 0, .off = 0, .len = 300}));
  EXPECT_EQ(c0[2], (Slice{.pos = kChunk - 300, .id = a, .size = 1000, .off = 100, .len = 300}));
  auto c1 = *meta_->ReadChunk(g, 1);
  ASSERT_EQ(c1.size(), 3u);  // hole, a [400, 1000), b [500, 1500) over it
  EXPECT_EQ(c1[1], (Slice{.pos = 0, .id = a, .size = 1000, .off = 400, .len = 600}));
  EXPECT_EQ(c1[2], (Slice{.pos = 100, .id = b, .size = 1000, .off = 0, .len = 1000}));
  // a is named by three records now, b by two.
  EXPECT_EQ(GetLE64(RawGet(keys::SliceRef(a, 1000))->data()), 3u);
  EXPECT_EQ(GetLE64(RawGet(keys::SliceRef(b, 1000))->data()), 2u);
  // Past the end of the source: nothing.
  EXPECT_EQ(*meta_->CopyRange(f, 1500, g, 0, 10), 0u);
  // The slices are freed only when both files are gone.
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_TRUE(Freed().empty());
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "g"));
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed().size(), 3u);
  EXPECT_FALSE(RawGet(keys::SliceRef(a, 1000)).has_value());
}

TEST_P(FileTest, CopyRangeOfAFragmentedChunkIsCut) {
  Ino f = MkFile(kRootIno, "f");
  Ino g = MkFile(kRootIno, "g");
  for (uint32_t i = 0; i < 200; ++i) Write(f, 0, i * 8192, 8192);  // 200 slices
  auto n = meta_->CopyRange(f, 0, g, 0, 200 * 8192);
  ASSERT_TRUE(n.has_value());
  EXPECT_LT(*n, 200u * 8192);
  EXPECT_GT(*n, 0u);
  EXPECT_LE((meta_->ReadChunk(g, 0)->size() - 1), kCopySharedSlices);
}

TEST_P(FileTest, ChunkIndexesListsChunksWithRecords) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 10);
  Write(f, 7, 0, 10);
  Write(f, 300, 0, 10);
  EXPECT_EQ(*meta_->ChunkIndexes(f, 0, 0), (std::vector<uint32_t>{0, 7, 300}));
  EXPECT_EQ(*meta_->ChunkIndexes(f, 1, 0), (std::vector<uint32_t>{7, 300}));
  EXPECT_EQ(*meta_->ChunkIndexes(f, 1, 1), (std::vector<uint32_t>{7}));
}

// --- Sessions ---

TEST_P(FileTest, Sessions) {
  auto sid = meta_->NewSession(Info("host-a", 42, "/mnt/a"));
  ASSERT_TRUE(sid.has_value());
  auto other = NewClient();
  auto sid2 = other->NewSession(Info("host-b", 43));
  ASSERT_TRUE(sid2.has_value());
  EXPECT_NE(*sid, *sid2);
  clock_.Advance(30'000'000'000);
  ASSERT_OK(meta_->Heartbeat());
  auto list = meta_->ListSessions();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  const SessionInfo& a = (*list)[0].id == *sid ? (*list)[0] : (*list)[1];
  EXPECT_EQ(a.host, "host-a");
  EXPECT_EQ(a.pid, 42u);
  EXPECT_EQ(a.mountpoint, "/mnt/a");
  EXPECT_EQ(a.heartbeat, a.start_time + 30);
  ASSERT_OK(other->CloseSession());
  EXPECT_EQ(meta_->ListSessions()->size(), 1u);
  EXPECT_CODE(other->Heartbeat(), Code::kInvalid);
}

TEST_P(FileTest, CloseSessionFreesSustainedFiles) {
  ASSERT_OK(meta_->NewSession(Info("h")));
  Ino f = MkFile(kRootIno, "f");
  uint64_t id = Write(f, 0, 0, 10);
  ASSERT_OK(meta_->Open(root_, f, O_RDONLY));
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  ASSERT_OK(meta_->GetAttr(f));
  ASSERT_OK(meta_->CloseSession());
  EXPECT_CODE(meta_->GetAttr(f), Code::kNotFound);
  EXPECT_TRUE(RawScan("SS").empty());
  EXPECT_TRUE(meta_->ListSessions()->empty());
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed(), (FreedList{{id, 10}}));
}

}  // namespace
}  // namespace tessera::meta
