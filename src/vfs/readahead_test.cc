#include "vfs/readahead.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

namespace tessera::vfs {
namespace {

constexpr uint64_t kBlock = 4 << 20;
constexpr uint64_t kMax = 8 * kBlock;
constexpr uint64_t kKiB = 1 << 10;
constexpr uint64_t kMiB = 1 << 20;

// Plain window doubling (ratio 0: no cap).

TEST(Readahead, SequentialReadsGrowTheWindowToTheMaximum) {
  Readahead ra(kBlock, kMax, 0);
  EXPECT_EQ(ra.OnRead(0, 1 << 20), kBlock);
  EXPECT_EQ(ra.OnRead(1 << 20, 1 << 20), 2 * kBlock);
  EXPECT_EQ(ra.OnRead(2 << 20, 1 << 20), 4 * kBlock);
  EXPECT_EQ(ra.OnRead(3 << 20, 1 << 20), 8 * kBlock);
  EXPECT_EQ(ra.OnRead(4 << 20, 1 << 20), kMax);
}

TEST(Readahead, RandomReadsFetchNothingAhead) {
  for (double ratio : {0.0, 4.0}) {
    Readahead ra(kBlock, kMax, ratio);
    uint64_t offsets[] = {900ull << 20, 17ull << 20, 5000ull << 20, 300ull << 20, 64ull << 30};
    for (uint64_t off : offsets) EXPECT_EQ(ra.OnRead(off, 4096), 0u) << off;
  }
}

TEST(Readahead, OutOfOrderRequestsWithinABlockStaySequential) {
  Readahead ra(kBlock, kMax, 0);
  ra.OnRead(0, 128 << 10);
  EXPECT_GT(ra.OnRead(256 << 10, 128 << 10), 0u);  // skipped one request
  EXPECT_GT(ra.OnRead(128 << 10, 128 << 10), 0u);  // the late one
}

TEST(Readahead, TwoInterleavedStreamsAreBothFollowed) {
  Readahead ra(kBlock, kMax, 0);
  const uint64_t b = 10ull << 30;  // a second stream far away
  ra.OnRead(0, 1 << 20);
  EXPECT_EQ(ra.OnRead(b, 1 << 20), 0u);  // starts a stream: random so far
  uint64_t wa = 0, wb = 0;
  for (uint64_t i = 1; i < 6; ++i) {
    wa = ra.OnRead(i << 20, 1 << 20);
    wb = ra.OnRead(b + (i << 20), 1 << 20);
  }
  EXPECT_EQ(wa, kMax);
  EXPECT_EQ(wb, kMax);
}

// A stream reports the blocks it has left more than a block behind, once
// each; random reads report nothing.
TEST(Readahead, AStreamReportsTheBlocksItHasPassed) {
  Readahead ra(kBlock, kMax, 4);
  std::vector<std::pair<uint64_t, uint64_t>> passed;
  for (uint64_t off = 0; off < 4 * kBlock; off += kMiB) {
    ra.OnRead(off, kMiB);
    if (!ra.passed().empty()) passed.emplace_back(ra.passed().begin, ra.passed().end);
  }
  // Reads in block 2 pass block 0; reads in block 3 pass block 1.
  EXPECT_EQ(passed, (std::vector<std::pair<uint64_t, uint64_t>>{{0, kBlock}, {kBlock, 2 * kBlock}}));
  // A late request of the same stream, within a block, passes nothing more.
  ra.OnRead(3 * kBlock - kMiB, kMiB);
  EXPECT_TRUE(ra.passed().empty());
  // A random read elsewhere passes nothing, and neither does the start of
  // the stream it begins.
  ra.OnRead(100 * kBlock + 5, 4096);
  EXPECT_TRUE(ra.passed().empty());
  ra.OnRead(100 * kBlock + 5 + 4096, kMiB);
  EXPECT_TRUE(ra.passed().empty());
  // That stream, started mid-file, reports from its own first block on.
  ra.OnRead(101 * kBlock, kMiB);
  ra.OnRead(102 * kBlock, kMiB);
  EXPECT_EQ(ra.passed().begin, 100 * kBlock);
  EXPECT_EQ(ra.passed().end, 101 * kBlock);
}

TEST(Readahead, ZeroMaximumTurnsItOff) {
  for (double ratio : {0.0, 4.0}) {
    Readahead ra(kBlock, 0, ratio);
    for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(ra.OnRead(i << 20, 1 << 20), 0u);
  }
}

// The ratio's cap.

// Reads [offset, offset + n * piece) in pieces; returns the last window.
uint64_t ReadRun(Readahead& ra, uint64_t offset, uint64_t n, uint64_t piece) {
  uint64_t window = 0;
  for (uint64_t i = 0; i < n; ++i) window = ra.OnRead(offset + i * piece, piece);
  return window;
}

TEST(Readahead, RatioZeroLetsAShortRunFetchABlockAhead) {
  // What the cap is for: two 128 KiB reads at a random place look sequential.
  Readahead ra(kBlock, kMax, 0);
  EXPECT_EQ(ReadRun(ra, 777 * kMiB + 64 * kKiB, 2, 128 * kKiB), kBlock);
}

TEST(Readahead, ShortRunsFetchNothingAhead) {
  // With ratio 4 a stream fetches its first block ahead once it has read a
  // quarter of a block (1 MiB): runs of 128 KiB to 768 KiB never do.
  std::mt19937_64 rng(5);
  Readahead ra(kBlock, kMax, 4);
  for (int run = 0; run < 200; ++run) {
    const uint64_t offset = rng() % (1ull << 40) / 4096 * 4096;
    const uint64_t reads = 1 + rng() % 6;
    for (uint64_t i = 0; i < reads; ++i) {
      ASSERT_EQ(ra.OnRead(offset + i * 128 * kKiB, 128 * kKiB), 0u)
          << "run " << run << " read " << i << " of " << reads;
    }
  }
}

TEST(Readahead, FetchedAheadStaysWithinTheRatioInWholeBlocks) {
  for (double ratio : {0.5, 1.0, 2.0, 4.0, 16.0}) {
    Readahead ra(kBlock, kMax, ratio);
    uint64_t read = 0;
    for (uint64_t i = 0; i < 200; ++i) {
      const uint64_t window = ra.OnRead(5 * kBlock + i * 128 * kKiB, 128 * kKiB);
      read += 128 * kKiB;
      EXPECT_EQ(window % kBlock, 0u) << "ratio " << ratio << " read " << i;
      EXPECT_LE(static_cast<double>(window), ratio * static_cast<double>(read))
          << "ratio " << ratio << " read " << i;
      // The largest whole number of blocks the ratio allows, up to the maximum.
      const uint64_t allowed = static_cast<uint64_t>(ratio * static_cast<double>(read)) / kBlock;
      // The first read starts the stream; the second sets its window to one block.
      const uint64_t doubled = i == 0 ? 0 : std::min(kMax, kBlock << std::min<uint64_t>(i - 1, 8));
      EXPECT_EQ(window, std::min(allowed * kBlock, doubled)) << "ratio " << ratio << " read " << i;
    }
  }
}

TEST(Readahead, ALongSequentialReadReachesTheFullWindowAfterAWarmUp) {
  // Ratio 4: the full 32 MiB window once 8 MiB are read; then as if uncapped.
  Readahead capped(kBlock, kMax, 4);
  Readahead plain(kBlock, kMax, 0);
  const uint64_t piece = 128 * kKiB;
  for (uint64_t off = 0; off < 8 * kMiB - piece; off += piece) {
    EXPECT_LT(capped.OnRead(off, piece), kMax) << off;
    plain.OnRead(off, piece);
  }
  for (uint64_t off = 8 * kMiB - piece; off < 1024 * kMiB; off += piece) {
    ASSERT_EQ(capped.OnRead(off, piece), kMax) << off;
    ASSERT_EQ(plain.OnRead(off, piece), kMax) << off;
  }
}

TEST(Readahead, TheWindowGrowsWithTheBytesRead) {
  Readahead ra(kBlock, kMax, 4);
  EXPECT_EQ(ReadRun(ra, 0, 1, kMiB), kBlock);  // from offset 0: a stream already
  EXPECT_EQ(ra.OnRead(kMiB, kMiB), 2 * kBlock);
  EXPECT_EQ(ra.OnRead(2 * kMiB, kMiB), 3 * kBlock);  // doubling would give 4
  EXPECT_EQ(ra.OnRead(3 * kMiB, kMiB), 4 * kBlock);
  EXPECT_EQ(ra.OnRead(4 * kMiB, 512 * kKiB), 4 * kBlock);
  EXPECT_EQ(ra.OnRead(4 * kMiB + 512 * kKiB, 512 * kKiB), 5 * kBlock);
}

TEST(Readahead, EachStreamIsCappedByItsOwnReads) {
  // Three interleaved streams: two short ones stay capped while a long one,
  // and then each that goes on long enough, reach the full window.
  Readahead ra(kBlock, kMax, 4);
  const uint64_t a = 3 * kBlock, b = 1000 * kBlock, c = 9000 * kBlock;
  const uint64_t piece = 256 * kKiB;
  uint64_t wa = 0, wb = 0, wc = 0;
  for (uint64_t i = 0; i < 3; ++i) {
    wa = ra.OnRead(a + i * piece, piece);
    wb = ra.OnRead(b + i * piece, piece);
    wc = ra.OnRead(c + i * piece, piece);
  }
  EXPECT_EQ(wa, 0u);  // 768 KiB read each: less than 1 MiB
  EXPECT_EQ(wb, 0u);
  EXPECT_EQ(wc, 0u);
  for (uint64_t i = 3; i < 32; ++i) wc = ra.OnRead(c + i * piece, piece);
  EXPECT_EQ(wc, kMax);  // 8 MiB read
  // The others are still followed, and their windows count only their own reads.
  EXPECT_EQ(ra.OnRead(a + 3 * piece, piece), kBlock);      // 1 MiB read
  EXPECT_EQ(ra.OnRead(b + 3 * piece, piece), kBlock);      // 1 MiB read
  EXPECT_EQ(ra.OnRead(b + 4 * piece, piece), kBlock);      // 1.25 MiB
  EXPECT_EQ(ra.OnRead(b + 5 * piece, piece), kBlock);      // 1.5 MiB
  EXPECT_EQ(ra.OnRead(b + 6 * piece, piece), kBlock);      // 1.75 MiB
  EXPECT_EQ(ra.OnRead(b + 7 * piece, piece), 2 * kBlock);  // 2 MiB
  EXPECT_EQ(ra.OnRead(c + 32 * piece, piece), kMax);
}

TEST(Readahead, ARandomReadStartsAStreamThatMustProveItselfAgain) {
  Readahead ra(kBlock, kMax, 4);
  EXPECT_EQ(ReadRun(ra, 0, 64, 128 * kKiB), kMax);
  // Four random reads push the stream out of all four slots...
  for (uint64_t i = 1; i <= 4; ++i) EXPECT_EQ(ra.OnRead(i * 100 * kBlock, 4096), 0u);
  // ...so coming back where it was starts over.
  EXPECT_EQ(ra.OnRead(8 * kMiB, 128 * kKiB), 0u);
  EXPECT_EQ(ra.OnRead(8 * kMiB + 128 * kKiB, 128 * kKiB), 0u);
}

}  // namespace
}  // namespace tessera::vfs
