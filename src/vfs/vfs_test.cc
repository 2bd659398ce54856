// Vfs over the in-memory engine and store: the POSIX behaviour that sits
// above meta/ and chunk/ (handles, buffered writes, freeing data).
#include "vfs/vfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "common/metrics.h"
#include "kv/engine.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {
namespace {

// A mem store that counts the Gets it serves.
class CountingStore final : public object::ObjectStore {
 public:
  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }
  Status Put(std::string_view key, std::string_view data) override {
    ++puts;
    return inner_->Put(key, data);
  }
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    ++gets;
    if (std::this_thread::get_id() == reader_thread) ++gets_by_reader;
    uint64_t now = ++in_flight;
    uint64_t peak = peak_in_flight.load();
    while (now > peak && !peak_in_flight.compare_exchange_weak(peak, now)) {
    }
    if (get_delay.count() > 0) std::this_thread::sleep_for(get_delay);
    auto got = inner_->Get(key, offset, length);
    --in_flight;
    return got;
  }
  Result<object::ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<object::ListPage> List(std::string_view prefix, std::string_view start_after,
                                size_t limit) override {
    return inner_->List(prefix, start_after, limit);
  }

  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> puts{0};
  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> peak_in_flight{0};
  std::chrono::milliseconds get_delay{0};  // set before concurrent use
  std::thread::id reader_thread;            // set before concurrent use
  std::atomic<uint64_t> gets_by_reader{0};  // Gets the reading thread had to make itself

 private:
  std::unique_ptr<object::ObjectStore> inner_ = object::NewMemStore();
};

class VfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = std::make_unique<CountingStore>();
    store_ = store.get();
    auto m = meta::NewMeta(kv::NewMemEngine());
    meta::Settings s;
    s.name = "vol";
    s.block_size = 64 << 10;
    ASSERT_TRUE(m->Format(s, false).ok());
    Options o;
    o.cleanup_interval_ms = 20;
    o.missing_block_wait_s = 1;
    vfs_ = std::make_unique<Vfs>(std::move(m), std::move(store), s, o);
    meta::SessionInfo info;
    info.host = "test";
    ASSERT_TRUE(vfs_->Start(info).ok());
  }
  void TearDown() override { EXPECT_TRUE(vfs_->Shutdown().ok()); }

  uint64_t CreateFile(const std::string& name, int flags = O_RDWR) {
    auto r = vfs_->Create(ctx_, meta::kRootIno, name, 0644, flags | O_CREAT);
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r->second;
  }
  std::string ReadAll(uint64_t fh, size_t n) {
    std::string out(n, '\0');
    auto r = vfs_->Read(fh, 0, n, out.data());
    EXPECT_TRUE(r.has_value());
    out.resize(r.value_or(0));
    return out;
  }
  size_t Objects() {
    auto all = object::ListAll(*store_, "vol/");
    return all.has_value() ? all->size() : 0;
  }

  meta::Context ctx_;
  CountingStore* store_ = nullptr;
  std::unique_ptr<Vfs> vfs_;
};

TEST_F(VfsTest, ReadSeesOwnUnflushedWrites) {
  uint64_t fh = CreateFile("f");
  ASSERT_TRUE(vfs_->Write(fh, 0, "hello world").has_value());
  EXPECT_EQ(ReadAll(fh, 100), "hello world");
  ASSERT_TRUE(vfs_->Write(fh, 6, "tessera").has_value());
  EXPECT_EQ(ReadAll(fh, 100), "hello tessera");
  auto attr = vfs_->GetAttr(vfs_->Lookup(ctx_, meta::kRootIno, "f")->ino);
  EXPECT_EQ(attr->length, 13u);
  EXPECT_TRUE(vfs_->Release(fh).ok());
}

TEST_F(VfsTest, AttributesCountPendingWrites) {
  // cp writes, then sets times: the reply must not report the old length.
  uint64_t fh = CreateFile("p");
  ASSERT_TRUE(vfs_->Write(fh, 0, std::string(6878, 'x')).has_value());
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "p")->ino;
  meta::SetAttrRequest req;
  req.mask = meta::kSetMtime;
  req.mtime = {1000, 5};
  auto attr = vfs_->SetAttr(ctx_, ino, req, std::nullopt);
  ASSERT_TRUE(attr.has_value());
  EXPECT_EQ(attr->length, 6878u);
  EXPECT_EQ(attr->mtime, (Timespec{1000, 5}));
  EXPECT_EQ(vfs_->Lookup(ctx_, meta::kRootIno, "p")->attr.length, 6878u);
  EXPECT_TRUE(vfs_->Release(fh).ok());
  EXPECT_EQ(vfs_->GetAttr(ino)->length, 6878u);
}

TEST_F(VfsTest, AllocatedCountsPendingWritesThenWhatIsStored) {
  uint64_t fh = CreateFile("a");
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "a")->ino;
  meta::SetAttrRequest none;
  ASSERT_TRUE(vfs_->SetAttr(ctx_, ino, none, uint64_t{1} << 30).has_value());  // sparse
  // Three write sessions, two of them overlapping: [0, 9000) and [8192, 8292)
  // in chunk 0, [1 MiB, 1 MiB + 4096) apart.
  ASSERT_TRUE(vfs_->Write(fh, 0, std::string(4096, 'x')).has_value());
  ASSERT_TRUE(vfs_->Write(fh, 8192, std::string(100, 'y')).has_value());
  ASSERT_TRUE(vfs_->Write(fh, 1 << 20, std::string(4096, 'z')).has_value());
  ASSERT_TRUE(vfs_->Write(fh, 4000, std::string(5000, 'w')).has_value());
  auto pending = vfs_->GetAttr(ino);
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->length, uint64_t{1} << 30);
  EXPECT_EQ(pending->StoredBytes(), 9000u + 4096u);
  ASSERT_TRUE(vfs_->Fsync(fh).ok());
  EXPECT_EQ(vfs_->GetAttr(ino)->StoredBytes(), 9000u + 4096u);
  auto info = vfs_->GetXattr(ctx_, ino, kInfoXattr);
  ASSERT_TRUE(info.has_value());
  EXPECT_NE(info->find("\"allocated\":13096"), std::string::npos) << *info;
  EXPECT_TRUE(vfs_->Release(fh).ok());
}

TEST_F(VfsTest, RandomWritesMatchAModel) {
  uint64_t fh = CreateFile("r");
  std::string model;
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    size_t off = rng() % (300 << 10), len = 1 + rng() % (100 << 10);
    std::string data(len, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    ASSERT_TRUE(vfs_->Write(fh, off, data).has_value());
    if (model.size() < off + len) model.resize(off + len, '\0');
    model.replace(off, len, data);
    if (i % 7 == 0) {
      ASSERT_TRUE(vfs_->Flush(fh).ok());
    }
  }
  EXPECT_EQ(ReadAll(fh, model.size() + 10), model);
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto again = vfs_->Open(ctx_, vfs_->Lookup(ctx_, meta::kRootIno, "r")->ino, O_RDONLY);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ReadAll(*again, model.size()), model);
  EXPECT_TRUE(vfs_->Release(*again).ok());
}

// Random small writes are not committed one by one: they stay as separate
// write sessions of their chunk and are committed together, in order, so
// that a later write wins wherever it overlaps an earlier one.
TEST_F(VfsTest, RandomWritesAreCommittedTogetherInOrder) {
  uint64_t fh = CreateFile("rw");
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "rw")->ino;
  std::string model;
  std::mt19937 rng(11);
  const int kWrites = 200;  // fewer than kMaxChunkSessions per chunk on average
  for (int i = 0; i < kWrites; ++i) {
    // 4 KiB-aligned offsets over 4 chunks of 1 MiB of each, so that writes
    // overlap earlier ones, continue them, or land alone.
    uint64_t off = (rng() % 4) * kChunkSize + (rng() % 256) * 4096 + (rng() % 2) * 100;
    size_t len = 1 + rng() % 8192;
    std::string data(len, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    ASSERT_TRUE(vfs_->Write(fh, off, data).has_value());
    if (model.size() < off + len) model.resize(off + len, '\0');
    model.replace(off, len, data);
  }
  // No write committed (and so uploaded) its own slice: every block is a
  // partial one, stored when the sessions are.
  EXPECT_EQ(store_->puts.load(), 0u);
  ASSERT_TRUE(vfs_->Flush(fh).ok());
  // Packed into one slice per chunk: at most ~1.6 MB in 64 KiB blocks.
  EXPECT_GE(store_->puts.load(), 4u);
  EXPECT_LE(store_->puts.load(), 40u);
  EXPECT_EQ(ReadAll(fh, model.size() + 10), model);
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto again = vfs_->Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ReadAll(*again, model.size()), model);
  EXPECT_TRUE(vfs_->Release(*again).ok());
  // Every piece holds its slice: the blocks go only with the last record.
  ASSERT_TRUE(vfs_->Unlink(ctx_, meta::kRootIno, "rw").ok());
  for (int i = 0; i < 300 && Objects() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Objects(), 0u);
}

// Packed pieces are at most a quarter block each, but many of them can add up
// to more than a chunk: the packed slice stops at the chunk's size and the
// rest commit as slices of their own.
TEST(VfsPackTest, PiecesBeyondAChunkStayTheirOwnSlices) {
  auto m = meta::NewMeta(kv::NewMemEngine());
  meta::Settings settings;
  settings.name = "vol";
  settings.block_size = 4 << 20;
  ASSERT_TRUE(m->Format(settings, false).ok());
  Vfs vfs(std::move(m), object::NewMemStore(), settings, Options{});
  ASSERT_TRUE(vfs.Start(meta::SessionInfo{}).ok());
  meta::Context ctx;
  auto created = vfs.Create(ctx, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(created.has_value());
  const uint64_t fh = created->second;
  const uint64_t kMiB = 1 << 20;
  std::string model(64 * kMiB, '\0');
  auto write = [&](uint64_t off, size_t len, char c) {
    std::string data(len, c);
    ASSERT_TRUE(vfs.Write(fh, off, data).has_value());
    model.replace(off, len, data);
  };
  // 64 sessions of 512 KiB, then 64 of almost 1 MiB that each start before
  // one of them and so cannot join it: 96 MiB of pieces for a 64 MiB chunk.
  for (uint64_t k = 0; k < 64; ++k) write(k * kMiB + kMiB / 2, kMiB / 2, static_cast<char>('a' + k % 26));
  for (uint64_t k = 0; k < 64; ++k) write(k * kMiB, kMiB - 1, static_cast<char>('A' + k % 26));
  ASSERT_TRUE(vfs.Flush(fh).ok());
  std::string got(model.size(), '\1');
  auto n = vfs.Read(fh, 0, got.size(), got.data());
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, model.size());
  EXPECT_TRUE(got == model);
  EXPECT_TRUE(vfs.Release(fh).ok());
  EXPECT_TRUE(vfs.Shutdown().ok());
}

// Past the per-chunk limit of open sessions, the chunk's sessions are
// committed and writing goes on.
TEST_F(VfsTest, ManyRandomWritesToOneChunkStayCorrect) {
  uint64_t fh = CreateFile("many");
  std::string model;
  std::mt19937 rng(12);
  for (size_t i = 0; i < 3 * kMaxChunkSessions + 5; ++i) {
    uint64_t off = (rng() % 512) * 4096;
    std::string data(4096, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(vfs_->Write(fh, off, data).has_value());
    if (model.size() < off + data.size()) model.resize(off + data.size(), '\0');
    model.replace(off, data.size(), data);
  }
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto again = vfs_->Open(ctx_, vfs_->Lookup(ctx_, meta::kRootIno, "many")->ino, O_RDONLY);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(ReadAll(*again, model.size()), model);
  EXPECT_TRUE(vfs_->Release(*again).ok());
}

TEST_F(VfsTest, ReadaheadCrossesChunkBoundaries) {
  // 64 KiB blocks: a chunk is 1,024 blocks; the file spills 4 blocks into chunk 1.
  const size_t kBlock = 64 << 10;
  uint64_t fh = CreateFile("big");
  std::string block(kBlock, 'b');
  for (size_t off = 0; off < kChunkSize + 4 * kBlock; off += kBlock) {
    ASSERT_TRUE(vfs_->Write(fh, off, block).has_value());
  }
  ASSERT_TRUE(vfs_->Release(fh).ok());
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "big")->ino;
  auto rfh = vfs_->Open(ctx_, ino, O_RDONLY);
  ASSERT_TRUE(rfh.has_value());
  // Read chunk 0 sequentially up to its last block, which stays unread.
  const uint64_t before = store_->gets.load();
  std::string buf(kBlock, '\0');
  for (uint64_t off = 0; off + kBlock < kChunkSize; off += kBlock) {
    auto n = vfs_->Read(*rfh, off, kBlock, buf.data());
    ASSERT_TRUE(n.has_value());
    ASSERT_EQ(*n, kBlock);
  }
  // The window reaches past the chunk's end: chunk 1's blocks are fetched
  // before anyone reads them (1,023 blocks read + 1 left in chunk 0).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store_->gets.load() - before <= 1024 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GT(store_->gets.load() - before, 1024u);
  ASSERT_TRUE(vfs_->Release(*rfh).ok());
}

// Writes `blocks` 64 KiB blocks to `name`, slows the store down, then reads
// the file from the start in pieces of `piece` bytes on this thread.
void SlowSequentialRead(Vfs& vfs, CountingStore& store, const std::string& name, size_t piece) {
  const size_t kBlock = 64 << 10, kBlocks = 64;
  meta::Context ctx;
  auto made = vfs.Create(ctx, meta::kRootIno, name, 0644, O_RDWR | O_CREAT);
  ASSERT_TRUE(made.has_value());
  std::string block(kBlock, 's');
  for (size_t i = 0; i < kBlocks; ++i) {
    ASSERT_TRUE(vfs.Write(made->second, i * kBlock, block).has_value());
  }
  ASSERT_TRUE(vfs.Release(made->second).ok());
  store.get_delay = std::chrono::milliseconds(20);
  store.reader_thread = std::this_thread::get_id();
  auto fh = vfs.Open(ctx, made->first.ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  std::string buf(piece, '\0');
  for (uint64_t off = 0; off < kBlocks * kBlock; off += piece) {
    auto n = vfs.Read(*fh, off, piece, buf.data());
    ASSERT_TRUE(n.has_value());
    ASSERT_EQ(*n, piece);
  }
  ASSERT_TRUE(vfs.Release(*fh).ok());
}

TEST_F(VfsTest, SequentialReaderKeepsTheWindowInFlight) {
  // A slow store: a sequential reader must keep several GETs going at once.
  SlowSequentialRead(*vfs_, *store_, "seq", 32 << 10);
  EXPECT_GE(store_->peak_in_flight.load(), 4u);
}

TEST_F(VfsTest, SmallSequentialReadsAreServedByReadahead) {
  // Every read asks for its whole window again; the blocks already on their
  // way must not be queued again, or the queue fills with repeats that hold
  // the download threads, and the reader ends up fetching blocks itself.
  SlowSequentialRead(*vfs_, *store_, "small-reads", 4 << 10);
  // Each block but the first was claimed by the readahead before the reader
  // reached it; the first read fetches block 0 itself, before the stream has
  // read enough for the ratio to let it fetch ahead.
  EXPECT_LE(store_->gets_by_reader.load(), 1u) << "of " << store_->gets.load() << " gets";
}

// A started Vfs with blocks of `block_size` over a CountingStore, and a
// file of `bytes` written through it.
struct ReadRig {
  CountingStore* store = nullptr;
  std::unique_ptr<Vfs> vfs;
  Ino ino = 0;
};
ReadRig MakeReadRig(uint32_t block_size, double readahead_ratio, uint64_t bytes,
                    size_t buffer_bytes = 300ull << 20) {
  ReadRig rig;
  auto store = std::make_unique<CountingStore>();
  rig.store = store.get();
  auto m = meta::NewMeta(kv::NewMemEngine());
  meta::Settings s;
  s.name = "vol";
  s.block_size = block_size;
  EXPECT_TRUE(m->Format(s, false).ok());
  Options o;
  o.readahead_ratio = readahead_ratio;
  o.buffer_bytes = buffer_bytes;
  rig.vfs = std::make_unique<Vfs>(std::move(m), std::move(store), s, o);
  meta::SessionInfo info;
  info.host = "test";
  EXPECT_TRUE(rig.vfs->Start(info).ok());
  auto made = rig.vfs->Create(meta::Context{}, meta::kRootIno, "f", 0644, O_RDWR | O_CREAT);
  EXPECT_TRUE(made.has_value());
  const std::string piece(1 << 20, 'r');
  for (uint64_t off = 0; off < bytes; off += piece.size()) {
    EXPECT_TRUE(made.has_value() && rig.vfs->Write(made->second, off, piece).has_value());
  }
  EXPECT_TRUE(made.has_value() && rig.vfs->Release(made->second).ok());
  rig.ino = made.has_value() ? made->first.ino : 0;
  return rig;
}

// GETs once the background fetches are done (none in flight or started for
// 100 ms; the store answers at once).
uint64_t SettledGets(const CountingStore& store) {
  uint64_t last = store.gets.load();
  for (int still = 0; still < 5;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const uint64_t now = store.gets.load();
    still = now == last && store.in_flight.load() == 0 ? still + 1 : 0;
    last = now;
  }
  return last;
}

// A sequential reader's blocks leave memory soon after it has read past
// them: streaming a file twice the buffer leaves the block cache holding
// about the window and an eighth of the buffer, not a full buffer of blocks
// nobody will read again (whose memory the next blocks would otherwise not
// reuse).
TEST(VfsReadahead, ASequentialReaderDoesNotFillTheCacheWithWhatItHasRead) {
  ReadRig rig = MakeReadRig(64 << 10, 4, 16 << 20, 8 << 20);
  auto fh = rig.vfs->Open(meta::Context{}, rig.ino, O_RDONLY);
  ASSERT_TRUE(fh.has_value());
  std::string buf(64 << 10, '\0');
  double peak = 0;
  for (uint64_t off = 0; off < (16 << 20); off += buf.size()) {
    auto n = rig.vfs->Read(*fh, off, buf.size(), buf.data());
    ASSERT_TRUE(n.has_value());
    ASSERT_EQ(*n, buf.size());
    ASSERT_EQ(buf, std::string(buf.size(), 'r'));
    if (off >= (8 << 20)) peak = std::max(peak, metrics::Snapshot()["tessera_blockcache_bytes"]);
  }
  // An eighth of 8 MiB passed, a 512 KiB window, and the blocks at hand.
  EXPECT_LE(peak, 2 << 20);  // bytes
  EXPECT_GT(peak, 0);
  ASSERT_TRUE(rig.vfs->Release(*fh).ok());
  ASSERT_TRUE(rig.vfs->Shutdown().ok());
}

TEST(VfsReadahead, ShortRunsFetchOnlyTheBlocksTheyTouchUnlessTheRatioIsOff) {
  // 64 KiB blocks, ratio 4: a run must read 16 KiB before its first block
  // ahead. Runs of two 4 KiB reads, each in a block of its own (every 4th,
  // from the 4th: a read near offset 0 would continue the stream there).
  for (double ratio : {4.0, 0.0}) {
    ReadRig rig = MakeReadRig(64 << 10, ratio, 16 << 20);
    auto fh = rig.vfs->Open(meta::Context{}, rig.ino, O_RDONLY);
    ASSERT_TRUE(fh.has_value());
    const uint64_t before = SettledGets(*rig.store);
    std::string buf(4096, '\0');
    for (uint64_t block = 4; block < 256; block += 4) {
      const uint64_t off = block * (64 << 10) + 12288;
      ASSERT_TRUE(rig.vfs->Read(*fh, off, 4096, buf.data()).has_value());
      ASSERT_TRUE(rig.vfs->Read(*fh, off + 4096, 4096, buf.data()).has_value());
    }
    const uint64_t gets = SettledGets(*rig.store) - before;
    if (ratio > 0) {
      EXPECT_EQ(gets, 63u) << "ratio " << ratio;
    } else {
      EXPECT_EQ(gets, 126u) << "ratio 0: each run fetches the block after its own";
    }
    ASSERT_TRUE(rig.vfs->Release(*fh).ok());
    ASSERT_TRUE(rig.vfs->Shutdown().ok());
  }
}

// Not a test: what the ratio costs a whole-file read on a store that takes
// 50 ms per GET (4 MiB blocks, 32 MiB window: with ratio 4 the window fills
// one GET later). Run with --gtest_also_run_disabled_tests.
TEST(VfsReadahead, DISABLED_BenchmarkWholeFileReadsOnASlowStore) {
  for (uint64_t mib : {32, 256}) {
    for (double ratio : {0.0, 4.0, 8.0}) {
      ReadRig rig = MakeReadRig(4 << 20, ratio, mib << 20);
      rig.store->get_delay = std::chrono::milliseconds(50);
      auto fh = rig.vfs->Open(meta::Context{}, rig.ino, O_RDONLY);
      ASSERT_TRUE(fh.has_value());
      std::string buf(128 << 10, '\0');
      const auto start = std::chrono::steady_clock::now();
      for (uint64_t off = 0; off < (mib << 20); off += buf.size()) {
        ASSERT_TRUE(rig.vfs->Read(*fh, off, buf.size(), buf.data()).has_value());
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      std::printf("[ bench    ] %3lu MiB, ratio %.0f: %.3f s, %lu GETs\n",
                  static_cast<unsigned long>(mib), ratio, took.count(),
                  static_cast<unsigned long>(rig.store->gets.load()));
      EXPECT_EQ(rig.store->gets.load(), mib / 4);
      ASSERT_TRUE(rig.vfs->Release(*fh).ok());
      ASSERT_TRUE(rig.vfs->Shutdown().ok());
    }
  }
}

TEST_F(VfsTest, AppendAndTruncateOnOpen) {
  uint64_t fh = CreateFile("a", O_WRONLY | O_APPEND);
  ASSERT_TRUE(vfs_->Write(fh, 0, "one").has_value());
  ASSERT_TRUE(vfs_->Write(fh, 0, "two").has_value());  // O_APPEND ignores the offset
  ASSERT_TRUE(vfs_->Release(fh).ok());
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "a")->ino;
  auto rd = vfs_->Open(ctx_, ino, O_RDONLY);
  EXPECT_EQ(ReadAll(*rd, 10), "onetwo");
  EXPECT_TRUE(vfs_->Release(*rd).ok());
  auto tr = vfs_->Open(ctx_, ino, O_RDWR | O_TRUNC);
  ASSERT_TRUE(tr.has_value());
  EXPECT_EQ(ReadAll(*tr, 10), "");
  EXPECT_EQ(vfs_->GetAttr(ino)->length, 0u);
  EXPECT_TRUE(vfs_->Release(*tr).ok());
}

TEST_F(VfsTest, ExclusiveCreateOfExistingNameFails) {
  uint64_t fh = CreateFile("x");
  EXPECT_TRUE(vfs_->Release(fh).ok());
  auto r = vfs_->Create(ctx_, meta::kRootIno, "x", 0644, O_CREAT | O_EXCL | O_RDWR);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kExists);
}

TEST_F(VfsTest, WriteOnReadOnlyHandleFails) {
  uint64_t fh = CreateFile("ro");
  EXPECT_TRUE(vfs_->Release(fh).ok());
  auto rd = vfs_->Open(ctx_, vfs_->Lookup(ctx_, meta::kRootIno, "ro")->ino, O_RDONLY);
  auto w = vfs_->Write(*rd, 0, "x");
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().ToErrno(), EBADF);
  EXPECT_TRUE(vfs_->Release(*rd).ok());
}

TEST_F(VfsTest, UnlinkedOpenFileKeepsDataUntilRelease) {
  uint64_t fh = CreateFile("gone");
  std::string data(300 << 10, 'z');
  ASSERT_TRUE(vfs_->Write(fh, 0, data).has_value());
  ASSERT_TRUE(vfs_->Flush(fh).ok());
  size_t blocks = Objects();
  EXPECT_EQ(blocks, 5u);  // 300 KiB in 64 KiB blocks
  ASSERT_TRUE(vfs_->Unlink(ctx_, meta::kRootIno, "gone").ok());
  EXPECT_EQ(ReadAll(fh, data.size()), data);
  EXPECT_EQ(Objects(), blocks);
  ASSERT_TRUE(vfs_->Release(fh).ok());
  for (int i = 0; i < 200 && Objects() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Objects(), 0u);
}

TEST_F(VfsTest, RemovedOpenDirectoryStillAnswersGetAttr) {
  auto d = vfs_->Mkdir(ctx_, meta::kRootIno, "d", S_IFDIR | 0755);
  ASSERT_TRUE(d.has_value());
  auto fh = vfs_->OpenDir(ctx_, d->ino);
  ASSERT_TRUE(fh.has_value());
  ASSERT_TRUE(vfs_->Rmdir(ctx_, meta::kRootIno, "d").ok());
  auto attr = vfs_->GetAttr(d->ino);
  ASSERT_TRUE(attr.has_value());
  EXPECT_EQ(attr->nlink, 0u);
  EXPECT_TRUE(attr->IsDir());
  ASSERT_TRUE(vfs_->ReleaseDir(*fh).ok());
  EXPECT_EQ(vfs_->GetAttr(d->ino).error().code(), Code::kNotFound);
}

TEST_F(VfsTest, FirstReadMovesAtimeUnlessNoatime) {
  uint64_t fh = CreateFile("f");
  ASSERT_TRUE(vfs_->Write(fh, 0, "data").has_value());
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto e = vfs_->Lookup(ctx_, meta::kRootIno, "f");
  ASSERT_TRUE(e.has_value());
  meta::SetAttrRequest old;
  old.mask = meta::kSetAtime;
  old.atime = {1000, 0};
  ASSERT_TRUE(vfs_->SetAttr(ctx_, e->ino, old, std::nullopt).has_value());
  auto noatime = vfs_->Open(ctx_, e->ino, O_RDONLY | O_NOATIME);
  ASSERT_TRUE(noatime.has_value());
  EXPECT_EQ(ReadAll(*noatime, 4), "data");
  ASSERT_TRUE(vfs_->Release(*noatime).ok());
  EXPECT_EQ(vfs_->GetAttr(e->ino)->atime.sec, 1000);
  auto plain = vfs_->Open(ctx_, e->ino, O_RDONLY);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(ReadAll(*plain, 4), "data");
  ASSERT_TRUE(vfs_->Release(*plain).ok());
  auto after = vfs_->GetAttr(e->ino);
  EXPECT_GT(after->atime.sec, 1000);
  EXPECT_LT(after->ctime, after->atime);  // an atime update leaves ctime alone
}

TEST_F(VfsTest, ReadOnlyOpenWithTruncTruncates) {
  uint64_t fh = CreateFile("f");
  ASSERT_TRUE(vfs_->Write(fh, 0, "data").has_value());
  ASSERT_TRUE(vfs_->Release(fh).ok());
  auto e = vfs_->Lookup(ctx_, meta::kRootIno, "f");
  auto ro = vfs_->Open(ctx_, e->ino, O_RDONLY | O_TRUNC);
  ASSERT_TRUE(ro.has_value());
  EXPECT_EQ(vfs_->GetAttr(e->ino)->length, 0u);
  ASSERT_TRUE(vfs_->Release(*ro).ok());
}

TEST_F(VfsTest, SeekDataAndHole) {
  uint64_t fh = CreateFile("sparse");
  constexpr uint64_t kChunk = 64ull << 20;
  ASSERT_TRUE(vfs_->Write(fh, 4096, std::string(4096, 'a')).has_value());
  ASSERT_TRUE(vfs_->Write(fh, 2 * kChunk + 10, "tail").has_value());  // uncommitted yet
  EXPECT_EQ(*vfs_->Lseek(fh, 0, SEEK_DATA), 4096u);
  EXPECT_EQ(*vfs_->Lseek(fh, 0, SEEK_HOLE), 0u);
  EXPECT_EQ(*vfs_->Lseek(fh, 5000, SEEK_HOLE), 8192u);
  EXPECT_EQ(*vfs_->Lseek(fh, 8192, SEEK_DATA), 2 * kChunk + 10);
  EXPECT_EQ(*vfs_->Lseek(fh, 2 * kChunk + 11, SEEK_HOLE), 2 * kChunk + 14);
  EXPECT_EQ(vfs_->Lseek(fh, 2 * kChunk + 14, SEEK_DATA).error().code(), Code::kNoAddress);
  // A punched hole inside data.
  ASSERT_TRUE(vfs_->Fallocate(ctx_, fh, meta::kFallocPunchHole | meta::kFallocKeepSize, 5000,
                              1000).ok());
  EXPECT_EQ(*vfs_->Lseek(fh, 4096, SEEK_HOLE), 5000u);
  EXPECT_EQ(*vfs_->Lseek(fh, 5000, SEEK_DATA), 6000u);
  ASSERT_TRUE(vfs_->Release(fh).ok());
}

TEST_F(VfsTest, CopyFileRangeSharesDataWithoutCopying) {
  uint64_t src = CreateFile("src");
  std::string data(300 << 10, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(vfs_->Write(src, 0, data).has_value());
  uint64_t dst = CreateFile("dst");
  ASSERT_TRUE(vfs_->Write(dst, 0, std::string(1000, 'x')).has_value());
  ASSERT_TRUE(vfs_->Flush(src).ok());
  ASSERT_TRUE(vfs_->Flush(dst).ok());
  size_t objects = Objects();
  auto n = vfs_->CopyFileRange(src, 1000, dst, 10, data.size());
  ASSERT_TRUE(n.has_value()) << n.error().ToString();
  EXPECT_EQ(*n, data.size() - 1000);
  EXPECT_EQ(Objects(), objects);  // no block was written
  std::string want = std::string(10, 'x') + data.substr(1000);
  EXPECT_EQ(ReadAll(dst, want.size() + 10), want);
  EXPECT_EQ(vfs_->CopyFileRange(src, 0, src, 100, 1000).error().code(), Code::kInvalid);
  ASSERT_TRUE(vfs_->Release(src).ok());
  ASSERT_TRUE(vfs_->Release(dst).ok());
}

TEST_F(VfsTest, InfoXattrNamesTheObjects) {
  uint64_t fh = CreateFile("i");
  ASSERT_TRUE(vfs_->Write(fh, 0, std::string(100 << 10, 'q')).has_value());
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "i")->ino;
  auto info = vfs_->GetXattr(ctx_, ino, kInfoXattr);
  ASSERT_TRUE(info.has_value());
  EXPECT_NE(info->find("\"objects\":2"), std::string::npos) << *info;
  EXPECT_NE(info->find("vol/chunks/0/0/"), std::string::npos) << *info;
  EXPECT_TRUE(vfs_->Release(fh).ok());
}

TEST_F(VfsTest, MissingCapabilityIsCachedUntilThisMountSetsOne) {
  uint64_t fh = CreateFile("cap");
  Ino ino = vfs_->Lookup(ctx_, meta::kRootIno, "cap")->ino;
  auto before = metrics::Snapshot()["tessera_meta_txn_seconds_count"];
  for (int i = 0; i < 50; ++i) {
    auto got = vfs_->GetXattr(ctx_, ino, "security.capability");
    ASSERT_FALSE(got.has_value());
    EXPECT_EQ(got.error().code(), Code::kNoData);
  }
  EXPECT_LE(metrics::Snapshot()["tessera_meta_txn_seconds_count"] - before, 2);
  ASSERT_TRUE(vfs_->SetXattr(ctx_, ino, "security.capability", "caps", 0).ok());
  auto got = vfs_->GetXattr(ctx_, ino, "security.capability");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "caps");
  EXPECT_TRUE(vfs_->Release(fh).ok());
}

TEST_F(VfsTest, StatsXattrOfTheRootHoldsTheMetrics) {
  auto got = vfs_->GetXattr(ctx_, meta::kRootIno, kStatsXattr);
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("tessera_meta_txn_seconds_count"), std::string::npos);
  EXPECT_FALSE(vfs_->SetXattr(ctx_, meta::kRootIno, kStatsXattr, "x", 0).ok());
}

// A block the records name but the store lacks (a writeback mount elsewhere
// has not uploaded it yet) is waited for, for a bounded time.
TEST_F(VfsTest, ReadWaitsForAMissingBlockThenFails) {
  uint64_t fh = CreateFile("late");
  const std::string data(200 << 10, 'L');
  ASSERT_TRUE(vfs_->Write(fh, 0, data).has_value());
  ASSERT_TRUE(vfs_->Flush(fh).ok());
  auto all = object::ListAll(*store_, "vol/");
  ASSERT_TRUE(all.has_value());
  ASSERT_FALSE(all->empty());
  const std::string key = all->back().key;
  auto bytes = store_->Get(key, 0, -1);
  ASSERT_TRUE(bytes.has_value());
  ASSERT_TRUE(store_->Delete(key).ok());
  EXPECT_TRUE(vfs_->Release(fh).ok());

  auto rd = vfs_->Open(ctx_, vfs_->Lookup(ctx_, meta::kRootIno, "late")->ino, O_RDONLY);
  ASSERT_TRUE(rd.has_value());
  std::thread uploader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(store_->Put(key, *bytes).ok());
  });
  EXPECT_EQ(ReadAll(*rd, data.size()), data);  // waited for the upload
  uploader.join();
  EXPECT_TRUE(vfs_->Release(*rd).ok());

  // One that never comes is EIO once the wait is over.
  uint64_t gone = CreateFile("gone");
  ASSERT_TRUE(vfs_->Write(gone, 0, data).has_value());
  ASSERT_TRUE(vfs_->Flush(gone).ok());
  auto keys = object::ListAll(*store_, "vol/");
  ASSERT_TRUE(keys.has_value());
  for (const auto& o : *keys) {
    if (o.key != key) {
      ASSERT_TRUE(store_->Delete(o.key).ok());
    }
  }
  EXPECT_TRUE(vfs_->Release(gone).ok());
  auto again = vfs_->Open(ctx_, vfs_->Lookup(ctx_, meta::kRootIno, "gone")->ino, O_RDONLY);
  ASSERT_TRUE(again.has_value());
  std::string out(data.size(), '\0');
  auto start = std::chrono::steady_clock::now();
  auto r = vfs_->Read(*again, 0, out.size(), out.data());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), Code::kIO);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_TRUE(vfs_->Release(*again).ok());
}

TEST_F(VfsTest, ReadDirSnapshotIsStable) {
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(vfs_->Release(CreateFile("e" + std::to_string(i))).ok());
  auto dh = vfs_->OpenDir(ctx_, meta::kRootIno);
  ASSERT_TRUE(dh.has_value());
  auto first = vfs_->ReadDir(ctx_, *dh, 0, 20);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 20u);
  EXPECT_EQ((*first)[0].name, ".");
  EXPECT_EQ((*first)[1].name, "..");
  // Changes after the snapshot do not shift offsets.
  ASSERT_TRUE(vfs_->Unlink(ctx_, meta::kRootIno, "e0").ok());
  EXPECT_TRUE(vfs_->Release(CreateFile("a-new")).ok());
  std::set<std::string> names;
  for (auto& d : *first) names.insert(d.name);
  uint64_t off = first->back().next_offset;
  while (true) {
    auto more = vfs_->ReadDir(ctx_, *dh, off, 20);
    ASSERT_TRUE(more.has_value());
    if (more->empty()) break;
    for (auto& d : *more) EXPECT_TRUE(names.insert(d.name).second) << d.name;
    off = more->back().next_offset;
  }
  EXPECT_EQ(names.size(), 52u);
  EXPECT_TRUE(vfs_->ReleaseDir(*dh).ok());
}

}  // namespace
}  // namespace tessera::vfs
