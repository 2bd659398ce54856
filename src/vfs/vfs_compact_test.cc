// Compaction through the vfs: in the background after many small commits, on
// demand through the kCompactXattr, and the read retry of a mount whose
// cached records name slices that another mount's compaction freed.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/metrics.h"
#include "kv/engine.h"
#include "vfs/vfs.h"

namespace tessera::vfs {
namespace {

class SharedStore final : public object::ObjectStore {
 public:
  explicit SharedStore(std::shared_ptr<object::ObjectStore> inner) : inner_(std::move(inner)) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }
  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    return inner_->Get(key, offset, length);
  }
  Result<object::ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<object::ListPage> List(std::string_view prefix, std::string_view start_after,
                                size_t limit) override {
    return inner_->List(prefix, start_after, limit);
  }

 private:
  std::shared_ptr<object::ObjectStore> inner_;
};

class VfsCompactTest : public ::testing::Test {
 protected:
  void SetUp() override {
    settings_.name = "vol";
    settings_.block_size = 64 << 10;
    auto m = meta::NewMeta(kv::ShareEngine(engine_));
    ASSERT_TRUE(m->Format(settings_, false).ok());
  }
  void TearDown() override {
    for (auto& v : mounts_) EXPECT_TRUE(v->Shutdown().ok());
  }

  Vfs& Mount(Options o) {
    o.cleanup_interval_ms = 20;
    auto v = std::make_unique<Vfs>(meta::NewMeta(kv::ShareEngine(engine_)),
                                   std::make_unique<SharedStore>(store_), settings_, o);
    EXPECT_TRUE(v->Start(meta::SessionInfo{}).ok());
    mounts_.push_back(std::move(v));
    return *mounts_.back();
  }

  // Writes `data` at `off` of `name` through its own open and close: one
  // slice each; and the same to the model.
  void WriteOnce(Vfs& v, Ino ino, uint64_t off, const std::string& data) {
    auto fh = v.Open(ctx_, ino, O_RDWR);
    ASSERT_TRUE(fh.has_value()) << fh.error().ToString();
    ASSERT_TRUE(v.Write(*fh, off, data).has_value());
    ASSERT_TRUE(v.Release(*fh).ok());
    if (model_.size() < off + data.size()) model_.resize(off + data.size(), '\0');
    model_.replace(off, data.size(), data);
  }
  std::string ReadAll(Vfs& v, uint64_t fh) {
    std::string out(model_.size() + 100, '\0');
    auto n = v.Read(fh, 0, out.size(), out.data());
    EXPECT_TRUE(n.has_value()) << n.error().ToString();
    out.resize(n.value_or(0));
    return out;
  }
  uint64_t Slices(Vfs& v, Ino ino) {
    auto j = v.GetXattr(ctx_, ino, kCompactXattr);
    EXPECT_TRUE(j.has_value());
    return nlohmann::json::parse(j.value_or("{}")).value("slices", uint64_t{0});
  }
  size_t Objects() {
    auto all = object::ListAll(*store_, "vol/");
    return all.has_value() ? all->size() : 0;
  }
  // Small overlapping writes, each its own slice.
  void Scribble(Vfs& v, Ino ino, int writes, int seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < writes; ++i) {
      std::string data(1 + rng() % 3000, static_cast<char>('a' + rng() % 26));
      WriteOnce(v, ino, rng() % 200000, data);
    }
  }
  template <typename F>
  bool WaitFor(F&& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  meta::Context ctx_;
  meta::Settings settings_;
  std::shared_ptr<kv::Engine> engine_ = kv::NewMemEngine();
  std::shared_ptr<object::ObjectStore> store_ = object::NewMemStore();
  std::vector<std::unique_ptr<Vfs>> mounts_;
  std::string model_;
};

// The commits of a burst of writes only push the chunk's compaction back;
// once they pause, one rewrite merges them all.
TEST_F(VfsCompactTest, ManySmallWritesAreCompactedInTheBackgroundOnceTheyPause) {
  auto before = metrics::Snapshot();
  Options o;  // threshold 20
  o.compact_delay_ms = 2000;
  Vfs& v = Mount(o);
  auto created = v.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  ASSERT_TRUE(v.Release(created->second).ok());
  Scribble(v, ino, 200, 1);
  EXPECT_GT(Slices(v, ino), 21u) << "compacted while the writes went on";
  EXPECT_EQ(metrics::Snapshot()["tessera_compact_pending"], 1);
  EXPECT_TRUE(WaitFor([&] { return Slices(v, ino) <= 1; })) << Slices(v, ino) << " records";
  auto fh = v.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  EXPECT_EQ(ReadAll(v, *fh), model_);
  ASSERT_TRUE(v.Release(*fh).ok());
  auto after = metrics::Snapshot();
  EXPECT_EQ(after["tessera_compact_total"] - before["tessera_compact_total"], 1);
  EXPECT_GE(after["tessera_compact_slices_total"] - before["tessera_compact_slices_total"], 199);
  EXPECT_GT(after["tessera_compact_bytes_total"], before["tessera_compact_bytes_total"]);
  // Each block of a replaced slice is gone once its references are dropped:
  // what is left is the compacted slice.
  EXPECT_TRUE(WaitFor([&] { return Objects() <= 4; })) << Objects() << " objects";
  EXPECT_TRUE(WaitFor([&] { return metrics::Snapshot()["tessera_compact_pending"] == 0; }));
}

// A chunk left fragmented by a mount that does not compact is compacted by
// the first mount that reads it (every read of it would pay otherwise).
TEST_F(VfsCompactTest, ReadingAFragmentedChunkQueuesItsCompaction) {
  Options off;
  off.compact_threshold = 0;
  Vfs& writer = Mount(off);
  auto created = writer.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  ASSERT_TRUE(writer.Release(created->second).ok());
  Scribble(writer, ino, 100, 4);
  ASSERT_EQ(Slices(writer, ino), 100u);
  Vfs& reader = Mount(Options{});  // threshold 20
  auto fh = reader.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  EXPECT_EQ(ReadAll(reader, *fh), model_);
  EXPECT_TRUE(WaitFor([&] { return Slices(reader, ino) <= 2; })) << Slices(reader, ino);
  // The pending gauge tells when background compaction has caught up.
  EXPECT_TRUE(WaitFor([&] { return metrics::Snapshot()["tessera_compact_pending"] == 0; }));
  EXPECT_EQ(ReadAll(reader, *fh), model_);
  ASSERT_TRUE(reader.Release(*fh).ok());
}

TEST_F(VfsCompactTest, CompactXattrLeavesOneSliceAndTheSameBytes) {
  Options o;
  o.compact_threshold = 0;  // only on demand
  Vfs& v = Mount(o);
  auto created = v.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  ASSERT_TRUE(v.Release(created->second).ok());
  Scribble(v, ino, 300, 2);
  // And a second chunk, starting with a hole.
  WriteOnce(v, ino, kChunkSize + 5000, std::string(70000, 'z'));
  WriteOnce(v, ino, kChunkSize + 6000, std::string(10, 'y'));
  EXPECT_EQ(Slices(v, ino), 302u);
  size_t objects_before = Objects();
  auto stats = v.CompactFile(ctx_, ino);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(stats->chunks, 2u);
  EXPECT_EQ(stats->slices_before, 302u);
  EXPECT_EQ(stats->slices_after, 2u);
  EXPECT_EQ(Slices(v, ino), 2u);
  auto fh = v.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  EXPECT_EQ(ReadAll(v, *fh), model_);
  ASSERT_TRUE(v.Release(*fh).ok());
  // 200 KB and 71 KB of 64 KiB blocks.
  EXPECT_EQ(Objects(), 4u + 2u) << "was " << objects_before;
  // Nothing more to do; the setxattr form does the same.
  ASSERT_TRUE(v.SetXattr(ctx_, ino, kCompactXattr, "", 0).ok());
  EXPECT_EQ(Slices(v, ino), 2u);
  // Not for directories, nor without write permission.
  EXPECT_EQ(v.SetXattr(ctx_, meta::kRootIno, kCompactXattr, "", 0).code(), Code::kIsDir);
  meta::Context user;
  user.uid = 1000;
  user.gid = 1000;
  EXPECT_EQ(v.CompactFile(user, ino).error().code(), Code::kAccess);
}

// The kernel releases a closed handle asynchronously: the release may come
// while the next open of the file is between the two WRITEs of one write
// (cut at a page that is not up to date). It must not commit that write's
// first half as a slice of its own.
TEST_F(VfsCompactTest, ReleaseOfAnotherHandleDoesNotSplitAWrite) {
  Options o;
  o.compact_threshold = 0;
  Vfs& v = Mount(o);
  auto created = v.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  const uint64_t old_fh = created->second;
  ASSERT_TRUE(v.Write(old_fh, 0, std::string(5000, 'a')).has_value());
  ASSERT_TRUE(v.Flush(old_fh).ok());  // close(2)
  ASSERT_EQ(Slices(v, ino), 1u);
  auto fh = v.Open(ctx_, ino, O_RDWR);  // the next open, before the release
  ASSERT_TRUE(fh.has_value());
  ASSERT_TRUE(v.Write(*fh, 4000, std::string(96, 'b')).has_value());  // to the page's end
  ASSERT_TRUE(v.Release(old_fh).ok());
  ASSERT_TRUE(v.Write(*fh, 4096, std::string(100, 'c')).has_value());  // the rest
  ASSERT_TRUE(v.Release(*fh).ok());  // the last handle commits
  EXPECT_EQ(Slices(v, ino), 2u);
  auto check = v.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(check.has_value());
  model_ = std::string(4000, 'a') + std::string(96, 'b') + std::string(100, 'c') +
           std::string(804, 'a');
  EXPECT_EQ(ReadAll(v, *check), model_);
  ASSERT_TRUE(v.Release(*check).ok());
}

TEST_F(VfsCompactTest, ReadRetriesWhenAnotherMountFreedItsCachedSlices) {
  Options o;
  o.compact_threshold = 0;
  o.buffer_bytes = 0;  // no block cache: every read goes to the store
  o.max_readahead_blocks = 0;
  Vfs& a = Mount(o);
  Vfs& b = Mount(o);
  auto created = a.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  ASSERT_TRUE(a.Release(created->second).ok());
  Scribble(a, ino, 50, 3);
  auto fh = a.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  EXPECT_EQ(ReadAll(a, *fh), model_);  // mount a now caches the 50 records
  auto stats = b.CompactFile(ctx_, ino);
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_EQ(stats->slices_after, 1u);
  ASSERT_TRUE(WaitFor([&] { return Objects() <= 4; })) << "the old blocks are freed";
  EXPECT_EQ(ReadAll(a, *fh), model_);  // the stale list failed, the fresh one served
  ASSERT_TRUE(a.Release(*fh).ok());
}

TEST_F(VfsCompactTest, WritesDuringCompactionSurvive) {
  Options o;
  o.compact_threshold = 5;
  o.compact_threads = 2;
  Vfs& v = Mount(o);
  auto created = v.Create(ctx_, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  uint64_t fh = created->second;
  // One handle writing and flushing slice after slice while compactions run.
  std::mt19937 rng(4);
  for (int i = 0; i < 300; ++i) {
    std::string data(1 + rng() % 2000, static_cast<char>('A' + rng() % 26));
    uint64_t off = rng() % 100000;
    ASSERT_TRUE(v.Write(fh, off, data).has_value());
    if (model_.size() < off + data.size()) model_.resize(off + data.size(), '\0');
    model_.replace(off, data.size(), data);
    ASSERT_TRUE(v.Flush(fh).ok());
    if (i % 50 == 0) {
      EXPECT_EQ(ReadAll(v, fh), model_) << "after write " << i;
    }
  }
  EXPECT_EQ(ReadAll(v, fh), model_);
  ASSERT_TRUE(v.Release(fh).ok());
  ASSERT_TRUE(v.CompactFile(ctx_, ino).has_value());
  EXPECT_EQ(Slices(v, ino), 1u);
  auto again = v.Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ReadAll(v, *again), model_);
  ASSERT_TRUE(v.Release(*again).ok());
}

// Tiny writes scattered over a big slice are not worth rewriting the whole
// span for every few of them; once they pile up (ten times the threshold)
// they are.
TEST_F(VfsCompactTest, BackgroundWaitsUntilTheRewriteIsWorthIt) {
  Options o;
  o.compact_threshold = 5;
  Vfs& v = Mount(o);
  auto created = v.Create(ctx_, meta::kRootIno, "big", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  Ino ino = created->first.ino;
  uint64_t fh = created->second;
  model_.assign(4 << 20, 'b');
  ASSERT_TRUE(v.Write(fh, 0, model_).has_value());
  ASSERT_TRUE(v.Flush(fh).ok());
  std::mt19937 rng(9);
  auto scribble = [&](int n) {
    for (int i = 0; i < n; ++i) {
      uint64_t off = rng() % (model_.size() - 16);
      std::string data(16, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(v.Write(fh, off, data).has_value());
      model_.replace(off, data.size(), data);
      ASSERT_TRUE(v.Flush(fh).ok());
    }
  };
  scribble(10);  // 11 records > 5, but 160 bytes do not pay for a 4 MiB rewrite
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Slices(v, ino), 11u);
  scribble(50);  // now past ten times the threshold
  ASSERT_TRUE(WaitFor([&] { return Slices(v, ino) < 61u; })) << "never compacted";
  EXPECT_EQ(ReadAll(v, fh), model_);
  ASSERT_TRUE(v.Release(fh).ok());
}

}  // namespace
}  // namespace tessera::vfs
