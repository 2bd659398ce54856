// Locks held in the engine (two Meta clients stand for two mounts) and the
// cleanup of a dead client's session.
#include <fcntl.h>

#include <algorithm>

#include "meta/keys.h"
#include "meta/meta_test_util.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

class LockTest : public MetaTest {
 protected:
  void SetUp() override {
    MetaTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_OK(meta_->NewSession(Info("a")));
    other_ = NewClient();
    ASSERT_OK(other_->NewSession(Info("b")));
    file_ = MkFile(kRootIno, "f");
  }

  static SessionInfo Info(std::string host) {
    SessionInfo s;
    s.host = std::move(host);
    return s;
  }
  static LockRange Range(int type, uint64_t start, uint64_t end, uint32_t pid = 0) {
    return LockRange{.type = type, .start = start, .end = end, .pid = pid};
  }

  std::unique_ptr<Meta> other_;
  Ino file_ = 0;
};

TEST_P(LockTest, FlockExcludesOtherClients) {
  ASSERT_OK(meta_->Flock(file_, 1, F_WRLCK));
  EXPECT_CODE(other_->Flock(file_, 1, F_WRLCK), Code::kWouldBlock);  // same owner id, other mount
  EXPECT_CODE(other_->Flock(file_, 2, F_RDLCK), Code::kWouldBlock);
  EXPECT_CODE(meta_->Flock(file_, 2, F_RDLCK), Code::kWouldBlock);  // other owner, this mount
  ASSERT_OK(meta_->Flock(file_, 1, F_WRLCK));                       // re-taking is fine
  ASSERT_OK(meta_->Flock(file_, 1, F_RDLCK));                       // downgrade
  ASSERT_OK(other_->Flock(file_, 2, F_RDLCK));                      // shared with a reader
  EXPECT_CODE(meta_->Flock(file_, 1, F_WRLCK), Code::kWouldBlock);  // no upgrade past a reader
  ASSERT_OK(other_->Flock(file_, 2, F_UNLCK));
  ASSERT_OK(meta_->Flock(file_, 1, F_WRLCK));
  ASSERT_OK(meta_->Flock(file_, 1, F_UNLCK));
  ASSERT_OK(other_->Flock(file_, 2, F_WRLCK));
  ASSERT_OK(other_->Flock(file_, 2, F_UNLCK));
  EXPECT_FALSE(RawGet(keys::Flocks(file_)).has_value());
  EXPECT_TRUE(RawScan("SL").empty());
}

TEST_P(LockTest, RangesConflictOnlyWhereTheyOverlap) {
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_WRLCK, 0, 99, 4242)));
  EXPECT_CODE(other_->SetLk(file_, 7, Range(F_RDLCK, 50, 60)), Code::kWouldBlock);
  ASSERT_OK(other_->SetLk(file_, 7, Range(F_WRLCK, 100, 199)));
  auto got = other_->GetLk(file_, 7, Range(F_RDLCK, 0, 10));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->type, F_WRLCK);
  EXPECT_EQ(got->start, 0u);
  EXPECT_EQ(got->end, 99u);
  EXPECT_EQ(got->pid, 4242u);
  // The holder's own ranges never conflict with it.
  EXPECT_EQ(meta_->GetLk(file_, 1, Range(F_WRLCK, 0, 99))->type, F_UNLCK);
  // Unlocking the middle splits the range: [0,39] and [60,99] stay locked.
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_UNLCK, 40, 59)));
  ASSERT_OK(other_->SetLk(file_, 7, Range(F_WRLCK, 45, 55)));
  EXPECT_CODE(other_->SetLk(file_, 7, Range(F_RDLCK, 39, 39)), Code::kWouldBlock);
  EXPECT_CODE(other_->SetLk(file_, 7, Range(F_RDLCK, 60, 60)), Code::kWouldBlock);
  // Readers share.
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_UNLCK, 0, kLockEOF)));
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_RDLCK, 0, 9)));
  ASSERT_OK(other_->SetLk(file_, 8, Range(F_RDLCK, 5, 20)));
  ASSERT_OK(other_->SetLk(file_, 8, Range(F_UNLCK, 0, kLockEOF)));
  ASSERT_OK(other_->SetLk(file_, 7, Range(F_UNLCK, 0, kLockEOF)));
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_UNLCK, 0, kLockEOF)));
  EXPECT_FALSE(RawGet(keys::Plocks(file_)).has_value());
  EXPECT_TRUE(RawScan("SL").empty());
}

TEST_P(LockTest, AdjacentRangesMergeAndToEofCoversAll) {
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_RDLCK, 0, 9)));
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_RDLCK, 10, 19)));
  auto got = other_->GetLk(file_, 2, Range(F_WRLCK, 0, kLockEOF));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->start, 0u);
  EXPECT_EQ(got->end, 19u);
  // A lock to EOF conflicts with any later byte.
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_WRLCK, 1000, kLockEOF)));
  EXPECT_CODE(other_->SetLk(file_, 2, Range(F_RDLCK, uint64_t{1} << 50, uint64_t{1} << 50)),
              Code::kWouldBlock);
  // Changing the type of part of a range converts just that part.
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_WRLCK, 5, 14)));
  EXPECT_EQ(other_->GetLk(file_, 2, Range(F_RDLCK, 0, 4))->type, F_UNLCK);
  EXPECT_EQ(other_->GetLk(file_, 2, Range(F_RDLCK, 5, 5))->type, F_WRLCK);
  EXPECT_EQ(other_->GetLk(file_, 2, Range(F_RDLCK, 15, 19))->type, F_UNLCK);
  EXPECT_CODE(meta_->SetLk(file_, 1, Range(F_RDLCK, 10, 5)), Code::kInvalid);
}

TEST_P(LockTest, StaleSessionReleasesLocksAndFiles) {
  // The other client locks, keeps an unlinked file open, then dies.
  ASSERT_OK(other_->Flock(file_, 3, F_WRLCK));
  ASSERT_OK(other_->SetLk(file_, 3, Range(F_WRLCK, 0, kLockEOF)));
  Ino doomed = MkFile(kRootIno, "doomed");
  uint64_t id = Write(doomed, 0, 0, 4096);
  ASSERT_OK(other_->Open(root_, doomed, O_RDONLY));
  ASSERT_OK(other_->Unlink(root_, kRootIno, "doomed"));
  ASSERT_OK(meta_->GetAttr(doomed));
  EXPECT_CODE(meta_->Flock(file_, 1, F_RDLCK), Code::kWouldBlock);

  clock_.Advance(10'000'000'000);
  ASSERT_OK(meta_->Heartbeat());
  int64_t now = clock_.Now().sec;
  EXPECT_EQ(*meta_->CleanStaleSessions(now - 60), 0u);  // not stale yet
  EXPECT_EQ(meta_->ListSessions()->size(), 2u);
  EXPECT_EQ(*meta_->CleanStaleSessions(now - 5), 1u);
  ASSERT_EQ(meta_->ListSessions()->size(), 1u);

  ASSERT_OK(meta_->Flock(file_, 1, F_WRLCK));
  ASSERT_OK(meta_->SetLk(file_, 1, Range(F_WRLCK, 0, kLockEOF)));
  EXPECT_CODE(meta_->GetAttr(doomed), Code::kNotFound);
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed(), (std::vector<std::pair<uint64_t, uint32_t>>{{id, 4096}}));
  // Only this client's own index entry is left.
  auto locked = RawScan("SL");
  ASSERT_EQ(locked.size(), 1u);
  EXPECT_EQ(keys::ParseLocked(locked[0].first)->ino, file_);
}

TEST_P(LockTest, StaleSessionsFileOpenHereIsKept) {
  Ino f = MkFile(kRootIno, "shared");
  ASSERT_OK(other_->Open(root_, f, O_RDONLY));
  ASSERT_OK(meta_->Open(root_, f, O_RDONLY));
  ASSERT_OK(other_->Unlink(root_, kRootIno, "shared"));
  clock_.Advance(10'000'000'000);
  ASSERT_OK(meta_->Heartbeat());
  EXPECT_EQ(*meta_->CleanStaleSessions(clock_.Now().sec - 5), 1u);
  ASSERT_OK(meta_->GetAttr(f));  // still open here
  ASSERT_OK(meta_->Close(f));
  EXPECT_CODE(meta_->GetAttr(f), Code::kNotFound);
}

TESSERA_META_INSTANTIATE(LockTest);

}  // namespace
}  // namespace tessera::meta
