#include "vfs/readahead.h"

#include <gtest/gtest.h>

namespace tessera::vfs {
namespace {

constexpr uint64_t kBlock = 4 << 20;
constexpr uint64_t kMax = 8 * kBlock;

TEST(Readahead, SequentialReadsGrowTheWindowToTheMaximum) {
  Readahead ra(kBlock, kMax);
  EXPECT_EQ(ra.OnRead(0, 1 << 20), kBlock);
  EXPECT_EQ(ra.OnRead(1 << 20, 1 << 20), 2 * kBlock);
  EXPECT_EQ(ra.OnRead(2 << 20, 1 << 20), 4 * kBlock);
  EXPECT_EQ(ra.OnRead(3 << 20, 1 << 20), 8 * kBlock);
  EXPECT_EQ(ra.OnRead(4 << 20, 1 << 20), kMax);
}

TEST(Readahead, RandomReadsFetchNothingAhead) {
  Readahead ra(kBlock, kMax);
  uint64_t offsets[] = {900ull << 20, 17ull << 20, 5000ull << 20, 300ull << 20, 64ull << 30};
  for (uint64_t off : offsets) EXPECT_EQ(ra.OnRead(off, 4096), 0u) << off;
}

TEST(Readahead, OutOfOrderRequestsWithinABlockStaySequential) {
  Readahead ra(kBlock, kMax);
  ra.OnRead(0, 128 << 10);
  EXPECT_GT(ra.OnRead(256 << 10, 128 << 10), 0u);  // skipped one request
  EXPECT_GT(ra.OnRead(128 << 10, 128 << 10), 0u);  // the late one
}

TEST(Readahead, TwoInterleavedStreamsAreBothFollowed) {
  Readahead ra(kBlock, kMax);
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

TEST(Readahead, ZeroMaximumTurnsItOff) {
  Readahead ra(kBlock, 0);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(ra.OnRead(i << 20, 1 << 20), 0u);
}

}  // namespace
}  // namespace tessera::vfs
