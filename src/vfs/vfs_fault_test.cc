// The vfs over a failing object store: transient faults are absorbed by the
// retry layer and never change the data; a store that stays down turns into
// EIO within a bounded time, and the mount works again once it is back.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

#include "kv/engine.h"
#include "object/wrappers.h"
#include "vfs/vfs.h"

namespace tessera::vfs {
namespace {

class VfsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto faulty = object::NewFaultyStore(object::NewMemStore(), object::FaultPlan{});
    faulty_ = faulty.get();
    object::RetryOptions retry;
    retry.max_attempts = 8;
    retry.initial_backoff = std::chrono::milliseconds(1);
    retry.max_backoff = std::chrono::milliseconds(5);
    retry.deadline = std::chrono::milliseconds(2000);
    auto store =
        object::NewChecksumStore(object::NewRetryStore(std::move(faulty), retry));
    auto m = meta::NewMeta(kv::NewMemEngine());
    meta::Settings s;
    s.name = "vol";
    s.block_size = 1 << 20;
    ASSERT_TRUE(m->Format(s, false).ok());
    vfs_ = std::make_unique<Vfs>(std::move(m), std::move(store), s, Options{});
    ASSERT_TRUE(vfs_->Start(meta::SessionInfo{}).ok());
  }
  void TearDown() override {
    faulty_->SetDown(false);
    faulty_->SetPlan(object::FaultPlan{});
    EXPECT_TRUE(vfs_->Shutdown().ok());
  }

  meta::Context ctx_;
  object::FaultyStore* faulty_ = nullptr;
  std::unique_ptr<Vfs> vfs_;
};

TEST_F(VfsFaultTest, TwentyPercentFaultsLeaveDataIntact) {
  object::FaultPlan plan;
  plan.fail_ratio = 0.2;
  plan.delay_ratio = 0.05;
  plan.delay = std::chrono::milliseconds(2);
  plan.seed = 42;
  faulty_->SetPlan(plan);
  auto created = vfs_->Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  uint64_t fh = created->second;
  std::mt19937_64 rng(9);
  std::string chunk(1 << 20, '\0');
  std::string all;
  for (int i = 0; i < 200; ++i) {  // 200 MiB
    for (size_t j = 0; j + 8 <= chunk.size(); j += 8) {
      uint64_t v = rng();
      std::memcpy(&chunk[j], &v, 8);
    }
    auto w = vfs_->Write(fh, all.size(), chunk);
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    all += chunk;
  }
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto rd = vfs_->Open(ctx_, created->first.ino, O_RDONLY);
  ASSERT_TRUE(rd.has_value());
  std::string back(all.size(), '\0');
  size_t done = 0;
  while (done < back.size()) {
    auto r = vfs_->Read(*rd, done, 1 << 20, back.data() + done);
    ASSERT_TRUE(r.has_value()) << r.error().ToString();
    ASSERT_GT(*r, 0u);
    done += *r;
  }
  EXPECT_TRUE(back == all);
  EXPECT_GT(faulty_->injected(), 40u);
  EXPECT_TRUE(vfs_->Release(*rd).ok());
}

TEST_F(VfsFaultTest, StoreDownGivesEioInBoundedTimeThenRecovers) {
  auto created = vfs_->Create(ctx_, meta::kRootIno, "g", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  uint64_t fh = created->second;
  ASSERT_TRUE(vfs_->Write(fh, 0, std::string(3 << 20, 'a')).has_value());
  ASSERT_TRUE(vfs_->Flush(fh).ok());

  faulty_->SetDown(true);
  auto start = std::chrono::steady_clock::now();
  auto w = vfs_->Write(fh, 3 << 20, std::string(2 << 20, 'b'));  // fills a block: uploads
  Status flushed = w.has_value() ? vfs_->Flush(fh) : w.error();
  EXPECT_FALSE(flushed.ok());
  EXPECT_EQ(flushed.ToErrno(), EIO);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));

  faulty_->SetDown(false);
  auto again = vfs_->Write(fh, 3 << 20, std::string(2 << 20, 'c'));
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  ASSERT_TRUE(vfs_->Flush(fh).ok());
  std::string back(5 << 20, '\0');
  auto r = vfs_->Read(fh, 0, back.size(), back.data());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(back, std::string(3 << 20, 'a') + std::string(2 << 20, 'c'));
  EXPECT_TRUE(vfs_->Release(fh).ok());
}

}  // namespace
}  // namespace tessera::vfs
