// Tests of DiskCache over temporary directories, and of the memory cache.
#include "cache/disk_cache.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <xxhash.h>

#include "cache/cache_file.h"
#include "cache/test_util.h"
#include "common/access_hint.h"

namespace tessera::cache {
namespace {

constexpr size_t kBlock = 64 << 10;

CacheOptions Opts(const std::string& dir, uint64_t capacity = 100ull << 20) {
  CacheOptions o;
  o.dirs = {dir};
  o.capacity_bytes = capacity;
  o.free_space_ratio = 0.01;
  o.background_scan = false;
  return o;
}

std::unique_ptr<DiskCache> Open(const CacheOptions& o) {
  auto c = NewDiskCache(o);
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return std::move(*c);
}

// Bytes of the files below `dir` (files that vanish meanwhile, such as the
// temporary files of a write behind, count as nothing).
uint64_t DuBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    uintmax_t size = e.is_regular_file(ec) ? e.file_size(ec) : 0;
    if (!ec) n += size;
  }
  return n;
}

TEST(DiskCache, MissThenHit) {
  TempDir t;
  auto c = Open(Opts(t.path()));
  uint64_t hits = Metrics().hits.value(), misses = Metrics().misses.value();
  EXPECT_FALSE(c->Get(BlockKey(1)).has_value());
  std::string b = RandomBlock(kBlock, 1);
  c->Put(BlockKey(1), b);
  EXPECT_TRUE(c->Contains(BlockKey(1)));
  auto got = c->Get(BlockKey(1));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, b);
  EXPECT_EQ(Metrics().hits.value() - hits, 1u);
  EXPECT_EQ(Metrics().misses.value() - misses, 1u);
  c->WaitForWrites();
  EXPECT_EQ(c->used_bytes(), kBlock);
  EXPECT_EQ(c->blocks(), 1u);
  // The file has the cache's mode and lives under raw/ by its key.
  struct stat st;
  ASSERT_EQ(::stat((t.path() + "/raw/" + BlockKey(1)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<size_t>(st.st_size), kBlock + HeaderSize(kBlock));
  ASSERT_TRUE(c->Evict(BlockKey(1)).ok());
  EXPECT_FALSE(c->Contains(BlockKey(1)));
  EXPECT_EQ(c->used_bytes(), 0u);
}

// Pages of the file at `path` in the page cache (mincore).
size_t ResidentPages(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return 0;
  struct stat st;
  ::fstat(fd, &st);
  const size_t len = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> in((len + page - 1) / page);
  size_t n = 0;
  if (::mincore(map, len, in.data()) == 0) {
    for (unsigned char v : in) n += v & 1;
  }
  ::munmap(map, len);
  return n;
}

// A whole block fetched for a sequential stream is written around the page
// cache; one fetched for a random read stays in it, where the next random
// read of the block finds its pieces without a disk read.
TEST(DiskCache, RandomReadsKeepTheirBlocksInThePageCache) {
  TempDir t;
  auto c = Open(Opts(t.path()));
  const std::string b = RandomBlock(4 << 20, 3);
  c->Put(BlockKey(1), b);
  {
    RandomAccessScope random(true);
    EXPECT_TRUE(RandomAccess());
    c->Put(BlockKey(2), b);
  }
  EXPECT_FALSE(RandomAccess());
  for (int k : {1, 2}) {
    auto got = c->Get(BlockKey(k));
    ASSERT_TRUE(got.has_value()) << k;
    EXPECT_EQ(*got, b) << k;
  }
  const size_t pages = (b.size() + HeaderSize(b.size())) / 4096;
  // Only on a disk that takes direct I/O is the first file kept out (a
  // tmpfs file is all page cache); the second is resident either way.
  const std::string first = t.path() + "/raw/" + BlockKey(1);
  const int probe = ::open(first.c_str(), O_RDONLY | O_DIRECT);
  struct statfs fs {};
  if (probe >= 0 && ::statfs(first.c_str(), &fs) == 0 && fs.f_type != TMPFS_MAGIC) {
    EXPECT_LT(ResidentPages(first), pages / 8);
  }
  if (probe >= 0) ::close(probe);
  EXPECT_GT(ResidentPages(t.path() + "/raw/" + BlockKey(2)), pages * 7 / 8);
}

TEST(DiskCache, DamagedFileIsDeletedAndMissed) {
  TempDir t;
  auto c = Open(Opts(t.path()));
  c->Put(BlockKey(2), RandomBlock(kBlock, 2));
  c->WaitForWrites();
  std::string path = t.path() + "/raw/" + BlockKey(2);
  {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "X", 1, 1000), 1);
    ::close(fd);
  }
  uint64_t corrupt = Metrics().corrupt.value();
  EXPECT_FALSE(c->Get(BlockKey(2)).has_value());
  EXPECT_EQ(Metrics().corrupt.value() - corrupt, 1u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(c->Contains(BlockKey(2)));
  // A truncated file likewise.
  c->Put(BlockKey(3), RandomBlock(kBlock, 3));
  c->WaitForWrites();
  std::filesystem::resize_file(t.path() + "/raw/" + BlockKey(3), 100);
  EXPECT_FALSE(c->Get(BlockKey(3)).has_value());
  EXPECT_EQ(Metrics().corrupt.value() - corrupt, 2u);
}

TEST(DiskCache, NeverExceedsItsSize) {
  TempDir t;
  const uint64_t capacity = 10 * kBlock;
  auto c = Open(Opts(t.path(), capacity));
  uint64_t evictions = Metrics().evictions.value();
  for (int i = 0; i < 100; ++i) {
    c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
    ASSERT_LE(c->used_bytes(), capacity);
    ASSERT_LE(DuBytes(t.path()), capacity + 10 * HeaderSize(kBlock));
  }
  c->WaitForWrites();
  EXPECT_EQ(c->blocks(), 10u);
  EXPECT_EQ(Metrics().evictions.value() - evictions, 90u);
  // A block bigger than the whole cache is not cached.
  c->Put("big", std::string(capacity + 1, 'b'));
  EXPECT_FALSE(c->Contains("big"));
}

TEST(DiskCache, RecentlyUsedBlocksSurviveEviction) {
  TempDir t;
  auto c = Open(Opts(t.path(), 20 * kBlock));
  std::string hot = RandomBlock(kBlock, 99);
  c->Put("hot", hot);
  int kept = 0;
  for (int i = 0; i < 200; ++i) {
    c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
    if (c->Get("hot").has_value()) ++kept;  // a use after every insert
  }
  // The most recently used block is never one of 2-random's victims.
  EXPECT_EQ(kept, 200);
}

TEST(DiskCache, IndexIsRebuiltOnReopen) {
  TempDir t;
  {
    auto c = Open(Opts(t.path()));
    for (int i = 0; i < 5; ++i) c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
  }
  // A temporary file left by a crash mid-write is cleaned up by the scan.
  std::string tmp = t.path() + "/raw/vol/chunks/0/0/.tmp.1.2";
  std::ofstream(tmp) << "partial";
  auto o = Opts(t.path());
  o.background_scan = true;
  auto c = Open(o);
  // During the scan a Get looks at the file itself; after it, the index knows.
  auto got = c->Get(BlockKey(3));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, RandomBlock(kBlock, 3));
  c->WaitForScan();
  EXPECT_EQ(c->blocks(), 5u);
  EXPECT_EQ(c->used_bytes(), 5 * kBlock);
  EXPECT_FALSE(std::filesystem::exists(tmp));
  // Reopened with a smaller size, the scan evicts down to it.
  c.reset();
  c = Open(Opts(t.path(), 2 * kBlock));
  EXPECT_EQ(c->blocks(), 2u);
}

TEST(DiskCache, UnusableDirectoryDegradesToMisses) {
  TempDir t;
  // A "directory" that is a regular file: nothing can be created under it
  // (chmod would not stop root).
  std::string file = t.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  uint64_t errors = Metrics().errors.value();
  auto c = Open(Opts(file));
  c->Put(BlockKey(1), RandomBlock(kBlock, 1));
  EXPECT_FALSE(c->Get(BlockKey(1)).has_value());
  EXPECT_FALSE(c->Contains(BlockKey(1)));
  EXPECT_GE(Metrics().errors.value() - errors, 1u);
  EXPECT_FALSE(c->Stage(BlockKey(1), "x").ok());
}

TEST(DiskCache, FailingDirectoryIsDisabledForAWhile) {
  TempDir t;
  auto o = Opts(t.path());
  o.disable_for = std::chrono::milliseconds(300);
  auto c = Open(o);
  // Writes start failing: the key's parent directory becomes a file.
  std::filesystem::remove_all(t.path() + "/raw");
  std::ofstream(t.path() + "/raw") << "x";
  uint64_t errors = Metrics().errors.value();
  for (int i = 0; i < 10; ++i) c->Put(BlockKey(i), RandomBlock(1000, static_cast<uint64_t>(i)));
  c->WaitForWrites();
  EXPECT_EQ(Metrics().errors.value() - errors, 3u);  // then the directory is skipped
  EXPECT_EQ(c->blocks(), 0u);
  std::filesystem::remove(t.path() + "/raw");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  c->Put(BlockKey(20), "back");
  EXPECT_EQ(*c->Get(BlockKey(20)), "back");
}

TEST(DiskCache, SeveralDirectoriesShareTheBlocksAndTheSize) {
  TempDir a, b;
  CacheOptions o = Opts(a.path(), 40 * kBlock);
  o.dirs.push_back(b.path());
  auto c = Open(o);
  for (int i = 0; i < 30; ++i) c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
  c->WaitForWrites();
  uint64_t in_a = DuBytes(a.path()), in_b = DuBytes(b.path());
  EXPECT_GT(in_a, 5 * kBlock);
  EXPECT_GT(in_b, 5 * kBlock);
  EXPECT_LE(in_a, 20 * (kBlock + HeaderSize(kBlock)));
  EXPECT_LE(in_b, 20 * (kBlock + HeaderSize(kBlock)));
  for (int i = 0; i < 30; ++i) {
    auto got = c->Get(BlockKey(i));
    if (got) {
      EXPECT_EQ(*got, RandomBlock(kBlock, static_cast<uint64_t>(i)));
    }
  }
}

TEST(DiskCache, StagingIsDurableAndListed) {
  TempDir t;
  auto c = Open(Opts(t.path()));
  ASSERT_TRUE(c->Stage(BlockKey(1), "one").ok());
  ASSERT_TRUE(c->Stage(BlockKey(2), "two").ok());
  EXPECT_EQ(*c->ReadStaged(BlockKey(1)), "one");
  EXPECT_EQ(c->ReadStaged(BlockKey(3)).error().code(), Code::kNotFound);
  auto staged = c->ListStaged();
  ASSERT_EQ(staged.size(), 2u);
  EXPECT_EQ(staged[0].key, BlockKey(1));
  EXPECT_EQ(staged[0].size, 3u);
  EXPECT_FALSE(c->Contains(BlockKey(1)));  // staged is not cached
  c->Unstage(BlockKey(1), true);           // uploaded: becomes a cached block
  EXPECT_EQ(*c->Get(BlockKey(1)), "one");
  c->Unstage(BlockKey(2), false);  // deleted before upload
  EXPECT_TRUE(c->ListStaged().empty());
  EXPECT_FALSE(std::filesystem::exists(t.path() + "/rawstaging/" + BlockKey(2)));
}

TEST(MemCache, SameInterfaceAndBound) {
  CacheOptions o;
  o.dirs = {"memory"};
  o.capacity_bytes = 4 * kBlock;
  auto c = Open(o);
  EXPECT_FALSE(c->Get(BlockKey(1)).has_value());
  for (int i = 0; i < 10; ++i) c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
  EXPECT_EQ(c->blocks(), 4u);
  EXPECT_LE(c->used_bytes(), 4 * kBlock);
  EXPECT_EQ(*c->Get(BlockKey(9)), RandomBlock(kBlock, 9));
  EXPECT_EQ(*c->GetRange(BlockKey(9), 10, 20), RandomBlock(kBlock, 9).substr(10, 20));
  EXPECT_FALSE(c->GetRange(BlockKey(1), 10, 20).has_value());
  ASSERT_TRUE(c->Evict(BlockKey(9)).ok());
  EXPECT_FALSE(c->Contains(BlockKey(9)));
  EXPECT_EQ(c->Stage(BlockKey(1), "x").code(), Code::kNotSupported);
}

TEST(CacheFile, FormatRoundTripsEveryLength) {
  for (uint64_t n : std::vector<uint64_t>{0, 1, 100, 4095, 4096, 4097, 8192, 65536 + 7, 4u << 20}) {
    std::string block = RandomBlock(n, n);
    std::string file = Encode(block);
    EXPECT_EQ(file.size(), HeaderSize(n) + n);
    EXPECT_EQ(BlockLengthOf(file.size()), n) << n;
    auto back = Decode(std::string(file));
    ASSERT_TRUE(back.has_value()) << n << ": " << back.error().ToString();
    EXPECT_EQ(*back, block);
    if (n == 0) continue;
    // Any flipped byte, in the header or the block, is caught.
    for (uint64_t at : {uint64_t{0}, uint64_t{9}, HeaderSize(n) - 1, HeaderSize(n) + n / 2,
                        file.size() - 1}) {
      std::string bad = file;
      bad[at] ^= 0x20;
      EXPECT_FALSE(Decode(std::move(bad)).has_value()) << n << " at " << at;
    }
  }
}

// Cache files of 1 MiB or more are written with direct I/O in aligned 1 MiB
// stretches, the last padded and cut back; smaller ones, and any on a file
// system that refuses direct I/O, through the page cache. Either way the
// file is exactly header + block, and a damaged byte is caught.
TEST(CacheFile, WrittenFilesAreExactAtEveryStretchBoundary) {
  TempDir disk;
  std::vector<std::string> dirs = {disk.path()};
  if (std::filesystem::is_directory("/dev/shm")) dirs.push_back("/dev/shm");
  const uint64_t mib = 1 << 20;
  for (const std::string& dir : dirs) {
    for (uint64_t n : std::vector<uint64_t>{0, 1, 4095, 4096, mib - HeaderSize(mib - 16) - 1, mib,
                                            mib + 4097, (4 * mib) - 1, 4 * mib}) {
      std::string block = RandomBlock(n, n + 1);
      std::string path = dir + "/tessera-direct-" + std::to_string(::getpid()) + "-" +
                         std::to_string(n);
      ASSERT_EQ(WriteFileAtomic(path, block, 0600, n % 2 == 1, EncodeHeader(block)), 0) << path;
      std::ifstream in(path, std::ios::binary);
      std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(file, Encode(block)) << path;
      auto back = ReadBlockFile(path);
      ASSERT_TRUE(back.has_value()) << path << ": " << back.error().ToString();
      EXPECT_EQ(*back, block) << path;
      // A flipped byte in the header, the first or the last stretch is caught.
      for (uint64_t at : {uint64_t{9}, HeaderSize(n) + n / 2, file.size() - 1}) {
        if (n == 0 || at >= file.size()) continue;
        std::string bad = file;
        bad[at] ^= 0x01;
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
        auto damaged = ReadBlockFile(path);
        ASSERT_FALSE(damaged.has_value()) << path << " flipped at " << at;
        EXPECT_EQ(damaged.error().code(), Code::kCorrupt) << path << " at " << at;
      }
      std::filesystem::remove(path);
    }
  }
}

// Writes `data` to the file `name` under `dir`; its path.
std::string FileWith(const std::string& dir, const std::string& name, const std::string& data) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  return path;
}

TEST(CacheFile, RangeReadsVerifyOnlyThePiecesTheyRead) {
  TempDir t;
  const uint64_t n = 5 * kPieceSize + 123;
  const std::string block = RandomBlock(n, 5);
  std::string file = Encode(block);
  {
    const std::string path = FileWith(t.path(), "whole", file);
    for (auto [off, len] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 1}, {0, n}, {4095, 2}, {4096, 4096}, {100, 3 * kPieceSize}, {n - 1, 10},
             {5 * kPieceSize, 123}, {n, 5}, {n + 100, 5}, {7, 0}}) {
      auto got = ReadRange(path, off, len);
      ASSERT_TRUE(got.has_value()) << off << "+" << len << ": " << got.error().ToString();
      EXPECT_EQ(*got, off >= n ? std::string() : block.substr(off, len)) << off << "+" << len;
    }
  }
  // Damage piece 3: reads of other pieces are still served, reads of it are kCorrupt.
  file[HeaderSize(n) + 3 * kPieceSize + 10] ^= 1;
  const std::string damaged = FileWith(t.path(), "damaged", file);
  EXPECT_EQ(*ReadRange(damaged, 0, 3 * kPieceSize), block.substr(0, 3 * kPieceSize));
  EXPECT_EQ(*ReadRange(damaged, 4 * kPieceSize, 50), block.substr(4 * kPieceSize, 50));
  EXPECT_EQ(ReadRange(damaged, 3 * kPieceSize + 4000, 200).error().code(), Code::kCorrupt);
  EXPECT_EQ(ReadRange(damaged, 0, n).error().code(), Code::kCorrupt);
  // A file cut short mid-block is kCorrupt too, not a short answer.
  const std::string cut =
      FileWith(t.path(), "cut", Encode(block).substr(0, HeaderSize(n) + 2 * kPieceSize));
  EXPECT_EQ(ReadRange(cut, kPieceSize, 2 * kPieceSize).error().code(), Code::kCorrupt);
}

TEST(DiskCache, RangesComeFromTheCacheFileAndDamageIsCaught) {
  TempDir t;
  auto c = Open(Opts(t.path()));
  const std::string b = RandomBlock(kBlock, 7);
  EXPECT_FALSE(c->GetRange(BlockKey(7), 0, 10).has_value());
  c->Put(BlockKey(7), b);
  uint64_t hits = Metrics().hits.value(), bytes = Metrics().hit_bytes.value();
  EXPECT_EQ(*c->GetRange(BlockKey(7), 5000, 4096), b.substr(5000, 4096));
  EXPECT_EQ(*c->GetRange(BlockKey(7), kBlock - 3, 4096), b.substr(kBlock - 3));
  EXPECT_EQ(Metrics().hits.value() - hits, 2u);
  EXPECT_EQ(Metrics().hit_bytes.value() - bytes, 4099u);
  // A damaged piece: the range that reads it is a miss, the file is gone.
  c->WaitForWrites();
  std::string path = t.path() + "/raw/" + BlockKey(7);
  {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, "X", 1, static_cast<off_t>(HeaderSize(kBlock) + 9000)), 1);
    ::close(fd);
  }
  uint64_t corrupt = Metrics().corrupt.value();
  EXPECT_FALSE(c->GetRange(BlockKey(7), 8192, 4096).has_value());
  EXPECT_EQ(Metrics().corrupt.value() - corrupt, 1u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(c->Contains(BlockKey(7)));
}

// Blocks under 1 MiB are written by a background thread: meanwhile they
// are served from memory, and the destructor writes whatever still waits.
// Bigger ones are on disk when Put returns.
TEST(DiskCache, SmallBlocksAreWrittenBehind) {
  TempDir t;
  {
    auto c = Open(Opts(t.path()));
    for (int i = 0; i < 40; ++i) {
      c->Put(BlockKey(i), RandomBlock(kBlock, static_cast<uint64_t>(i)));
      EXPECT_TRUE(c->Contains(BlockKey(i))) << i;
      EXPECT_EQ(*c->GetRange(BlockKey(i), 100, 200),
                RandomBlock(kBlock, static_cast<uint64_t>(i)).substr(100, 200));
    }
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(*c->Get(BlockKey(i)), RandomBlock(kBlock, static_cast<uint64_t>(i))) << i;
    }
    c->Put(BlockKey(99), RandomBlock(2 << 20, 99));
    EXPECT_TRUE(std::filesystem::exists(t.path() + "/raw/" + BlockKey(99)));
    ASSERT_TRUE(c->Evict(BlockKey(7)).ok());  // perhaps before it is written
    EXPECT_FALSE(c->Contains(BlockKey(7)));
  }  // no WaitForWrites: the destructor writes them
  auto o = Opts(t.path());
  o.write_behind_bytes = 0;
  auto c = Open(o);
  c->WaitForScan();
  EXPECT_EQ(c->blocks(), 40u);  // 39 small and the big one
  EXPECT_FALSE(std::filesystem::exists(t.path() + "/raw/" + BlockKey(7)));
  for (int i = 0; i < 40; ++i) {
    if (i == 7) continue;
    EXPECT_EQ(*c->Get(BlockKey(i)), RandomBlock(kBlock, static_cast<uint64_t>(i))) << i;
  }
}

// Puts, reads and evictions of the same keys from several threads, with
// blocks waiting to be written: every hit is right, and afterwards every
// file on disk is in the index and the whole capacity is usable again (no
// space left reserved).
TEST(DiskCache, WriteBehindUnderConcurrentPutsAndEvictions) {
  TempDir t;
  const uint64_t capacity = 64 * kBlock;
  auto c = Open(Opts(t.path(), capacity));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int n = 0; n < 1500; ++n) {
        const int k = static_cast<int>(rng() % 24);
        const std::string want = RandomBlock(kBlock / 4, static_cast<uint64_t>(k));
        switch (rng() % 4) {
          case 0:
            c->Put(BlockKey(k), want);
            break;
          case 1:
            if (!c->Evict(BlockKey(k)).ok()) ++wrong;
            break;
          case 2:
            if (auto got = c->Get(BlockKey(k)); got && *got != want) ++wrong;
            break;
          default:
            if (auto got = c->GetRange(BlockKey(k), 1000, 10); got && *got != want.substr(1000, 10)) {
              ++wrong;
            }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  c->WaitForWrites();
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(t.path() + "/raw")) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, c->blocks());
  EXPECT_EQ(c->used_bytes(), c->blocks() * (kBlock / 4));
  // A block of the whole capacity fits only when nothing is left reserved.
  c->Put(BlockKey(100), RandomBlock(capacity, 100));
  EXPECT_TRUE(c->Contains(BlockKey(100)));
  EXPECT_EQ(c->used_bytes(), capacity);
}

TEST(DiskCache, FirstFormatFilesAreStillRead) {
  TempDir t;
  const std::string b = RandomBlock(kBlock, 8);
  std::string file = "TSC1";
  file.append(4, '\0');
  uint64_t h = XXH3_64bits(b.data(), b.size());
  for (int i = 0; i < 8; ++i) file.push_back(static_cast<char>(h >> (8 * i)));
  file += b;
  std::filesystem::create_directories(t.path() + "/raw/vol/chunks/0/0");
  std::ofstream(t.path() + "/raw/" + BlockKey(8), std::ios::binary) << file;
  auto c = Open(Opts(t.path()));
  EXPECT_EQ(c->blocks(), 1u);
  EXPECT_EQ(*c->GetRange(BlockKey(8), 100, 5000), b.substr(100, 5000));
  EXPECT_EQ(*c->Get(BlockKey(8)), b);
}

TEST(DiskCache, BadOptions) {
  CacheOptions o;
  EXPECT_FALSE(NewDiskCache(o).has_value());  // no directory
  o.dirs = {"relative/dir"};
  EXPECT_FALSE(NewDiskCache(o).has_value());
  o.dirs = {"/tmp"};
  o.capacity_bytes = 0;
  EXPECT_FALSE(NewDiskCache(o).has_value());
  EXPECT_EQ(SplitDirs("/a::/b:"), (std::vector<std::string>{"/a", "/b"}));
}

}  // namespace
}  // namespace tessera::cache
