// The trash: removed files go to /.trash/<hour>/<parent>-<ino>-<name>, come
// back with RestoreTrash and are purged after trash_days, over every kv engine.
#include <fcntl.h>

#include "meta/meta_test_util.h"
#include "meta/ops.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

class TrashTest : public MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Settings s = DefaultSettings();
    s.trash_days = 1;
    ASSERT_OK(meta_->Format(s, /*force=*/true));
  }

  // The single hour directory of the trash.
  DirEntry OnlyHour() {
    auto hours = meta_->ListTrash();
    EXPECT_TRUE(hours.has_value());
    EXPECT_EQ(hours->size(), 1u);
    return hours && !hours->empty() ? hours->front() : DirEntry{};
  }

  std::vector<std::string> Names(Ino dir) {
    auto list = meta_->ReadDir(root_, dir, false);
    EXPECT_TRUE(list.has_value()) << list.error().ToString();
    std::vector<std::string> names;
    if (list) {
      for (auto& e : *list) names.push_back(e.name);
    }
    return names;
  }
};
TESSERA_META_INSTANTIATE(TrashTest);

TEST(TrashNamesTest, RoundTrip) {
  EXPECT_EQ(TrashHourName(1796133600), "2026-12-01-14");  // 2026-12-01T14:00:00Z
  EXPECT_EQ(ParseTrashHour("2026-12-01-14"), int64_t{1796133600});
  EXPECT_FALSE(ParseTrashHour("2026-12-01"));
  EXPECT_FALSE(ParseTrashHour("2026-13-01-14"));
  EXPECT_EQ(TrashEntryName(12, 345, "a-b c"), "12-345-a-b c");
  auto e = ParseTrashEntry("12-345-a-b c");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->parent, 12u);
  EXPECT_EQ(e->ino, 345u);
  EXPECT_EQ(e->name, "a-b c");
  EXPECT_FALSE(ParseTrashEntry("12-345-"));
  EXPECT_FALSE(ParseTrashEntry("x-345-a"));
  EXPECT_EQ(TrashEntryName(1, 2, std::string(300, 'n')).size(), kMaxName);
}

TEST_P(TrashTest, UnlinkMovesTheLastLinkToTheTrash) {
  Ino d = MkDir(kRootIno, "d");
  Ino f = MkFile(d, "f");
  Write(f, 0, 0, 8192);
  auto before = meta_->StatFs();
  ASSERT_OK(meta_->Unlink(root_, d, "f"));
  EXPECT_EQ(meta_->Lookup(root_, d, "f").error().code(), Code::kNotFound);
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_TRUE(Freed().empty());

  auto trash = meta_->Lookup(root_, kRootIno, ".trash");
  ASSERT_TRUE(trash.has_value()) << trash.error().ToString();
  EXPECT_EQ(trash->ino, kTrashIno);
  EXPECT_EQ(meta_->Lookup(User(1000, 1000), kRootIno, ".trash").error().code(), Code::kNotFound);
  DirEntry hour = OnlyHour();
  EXPECT_EQ(hour.name, TrashHourName(clock_.Now().sec));
  std::string name = std::to_string(d) + "-" + std::to_string(f) + "-f";
  EXPECT_EQ(Names(hour.ino), std::vector<std::string>{name});
  auto e = meta_->Lookup(root_, hour.ino, name);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->ino, f);
  EXPECT_EQ(e->attr.nlink, 1u);
  EXPECT_EQ(e->attr.length, 8192u);
  EXPECT_EQ(meta_->ReadChunk(f, 0)->size(), 1u);
  // The trashed file still counts (and so do the two trash directories).
  auto after = meta_->StatFs();
  EXPECT_EQ(after->used_space, before->used_space + 2 * 4096);
  EXPECT_EQ(after->used_inodes, before->used_inodes + 2);
}

TEST_P(TrashTest, RootReadDirHidesTheTrashAndItsNameIsReserved) {
  MkFile(kRootIno, "a");
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "a"));
  EXPECT_TRUE(Names(kRootIno).empty());
  EXPECT_EQ(meta_->Mkdir(root_, kRootIno, ".trash", 0755).error().code(), Code::kPermission);
  MkFile(kRootIno, "b");
  EXPECT_EQ(meta_->Rename(root_, kRootIno, "b", kRootIno, ".trash", 0).code(), Code::kPermission);
  Ino d = MkDir(kRootIno, "d");
  MkFile(d, ".trash");  // reserved only in the root
}

TEST_P(TrashTest, RenameOverMovesTheReplacedFileToTheTrash) {
  Ino a = MkFile(kRootIno, "a");
  Ino b = MkFile(kRootIno, "b");
  ASSERT_OK(meta_->Rename(root_, kRootIno, "a", kRootIno, "b", 0));
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "b")->ino, a);
  DirEntry hour = OnlyHour();
  EXPECT_EQ(Names(hour.ino), std::vector<std::string>{"1-" + std::to_string(b) + "-b"});
  EXPECT_EQ(AttrOf(b).nlink, 1u);
}

TEST_P(TrashTest, OnlyTheLastLinkGoesAndTrashedFilesFreeForReal) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  ASSERT_TRUE(meta_->Link(root_, f, kRootIno, "g").has_value());
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_TRUE(meta_->ListTrash()->empty());
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "g"));
  DirEntry hour = OnlyHour();
  // Removing inside the trash frees at once.
  ASSERT_OK(meta_->Unlink(root_, hour.ino, "1-" + std::to_string(f) + "-g"));
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_EQ(Freed().size(), 1u);
  EXPECT_EQ(meta_->GetAttr(f).error().code(), Code::kNotFound);
}

TEST_P(TrashTest, OffFreesAtOnce) {
  ASSERT_OK(meta_->Format(DefaultSettings(), /*force=*/true));
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_EQ(Freed().size(), 1u);
  EXPECT_TRUE(meta_->ListTrash()->empty());
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, ".trash").error().code(), Code::kNotFound);
}

TEST_P(TrashTest, PurgeFreesHoursOlderThanTrashDays) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  auto base = meta_->StatFs();
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_EQ(meta_->PurgeTrash().value(), 0u);
  clock_.Advance(23 * 3600 * 1000000000LL);
  EXPECT_EQ(meta_->PurgeTrash().value(), 0u);
  EXPECT_EQ(meta_->ListTrash()->size(), 1u);
  clock_.Advance(2 * 3600 * 1000000000LL);
  EXPECT_EQ(meta_->PurgeTrash().value(), 1u);
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_EQ(Freed().size(), 1u);
  EXPECT_TRUE(meta_->ListTrash()->empty());
  EXPECT_EQ(meta_->GetAttr(f).error().code(), Code::kNotFound);
  // Only /.trash itself is left.
  EXPECT_EQ(meta_->StatFs()->used_inodes, base->used_inodes - 1 + 1);
}

TEST_P(TrashTest, PurgeKeepsAFileOpenHereUntilItsClose) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  ASSERT_TRUE(meta_->Open(root_, f, O_RDONLY).has_value());
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  clock_.Advance(26 * 3600 * 1000000000LL);
  EXPECT_EQ(meta_->PurgeTrash().value(), 1u);
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_TRUE(Freed().empty());
  EXPECT_EQ(AttrOf(f).nlink, 0u);
  ASSERT_OK(meta_->Close(f));
  ASSERT_OK(meta_->CleanupDeletedFiles());
  EXPECT_EQ(Freed().size(), 1u);
}

TEST_P(TrashTest, RestorePutsEntriesBackAndRefusesTakenNames) {
  Ino d = MkDir(kRootIno, "d");
  Ino a = MkFile(d, "a");
  Ino b = MkFile(d, "b");
  Ino gone = MkDir(kRootIno, "gone");
  Ino c = MkFile(gone, "c");
  ASSERT_OK(meta_->Unlink(root_, d, "a"));
  ASSERT_OK(meta_->Unlink(root_, d, "b"));
  ASSERT_OK(meta_->Unlink(root_, gone, "c"));
  ASSERT_OK(meta_->Rmdir(root_, kRootIno, "gone"));
  MkFile(d, "b");  // takes b's name
  DirEntry hour = OnlyHour();
  EXPECT_EQ(meta_->RestoreTrash("1999-01-01-00").error().code(), Code::kNotFound);
  auto out = meta_->RestoreTrash(hour.name);
  ASSERT_TRUE(out.has_value()) << out.error().ToString();
  ASSERT_EQ(out->size(), 3u);
  int restored = 0, exists = 0, missing = 0;
  for (const RestoreOutcome& o : *out) {
    if (o.status.ok()) ++restored;
    if (o.status.code() == Code::kExists) ++exists;
    if (o.status.code() == Code::kNotFound) ++missing;
  }
  EXPECT_EQ(restored, 1);
  EXPECT_EQ(exists, 1);
  EXPECT_EQ(missing, 1);
  auto back = meta_->Lookup(root_, d, "a");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->ino, a);
  EXPECT_EQ(back->attr.parent, d);
  EXPECT_EQ(Names(hour.ino),
            (std::vector<std::string>{std::to_string(d) + "-" + std::to_string(b) + "-b",
                                      std::to_string(gone) + "-" + std::to_string(c) + "-c"}));
}

}  // namespace
}  // namespace tessera::meta
