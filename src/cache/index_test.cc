// Tests of the cache index, and a measurement of its two eviction policies
// (hit rate and cost per access) on synthetic block-access traces. The
// figures are printed for docs/cache.md, never asserted beyond sanity.
#include "cache/index.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace tessera::cache {
namespace {

TEST(Index, AddTouchRemove) {
  for (Eviction p : {Eviction::k2Random, Eviction::kLru}) {
    Index idx(p);
    idx.Add("a", 10);
    idx.Add("b", 20);
    idx.Add("c", 30);
    EXPECT_EQ(idx.bytes(), 60u);
    EXPECT_EQ(idx.count(), 3u);
    EXPECT_TRUE(idx.Touch("a"));
    EXPECT_FALSE(idx.Touch("zz"));
    EXPECT_EQ(idx.Remove("b"), 20u);
    EXPECT_FALSE(idx.Remove("b").has_value());
    EXPECT_EQ(idx.bytes(), 40u);
    idx.Add("a", 15);  // replaces
    EXPECT_EQ(idx.bytes(), 45u);
    EXPECT_EQ(idx.count(), 2u);
    ASSERT_TRUE(idx.Victim().has_value());
    idx.Remove("a");
    idx.Remove("c");
    EXPECT_FALSE(idx.Victim().has_value());
  }
}

TEST(Index, LruEvictsTheOldestAndFoundEntriesFirst) {
  Index idx(Eviction::kLru);
  idx.Add("new", 1);
  idx.Add("found-on-disk-late", 1, 2000);  // file times: older than any use
  idx.Add("found-on-disk-early", 1, 1000);
  EXPECT_EQ(*idx.Victim(), "found-on-disk-early");
  idx.Remove("found-on-disk-early");
  EXPECT_EQ(*idx.Victim(), "found-on-disk-late");
  idx.Touch("found-on-disk-late");
  EXPECT_EQ(*idx.Victim(), "new");
}

TEST(Index, TwoRandomNeverPicksTheNewerOfItsSample) {
  Index idx(Eviction::k2Random, 7);
  for (int i = 0; i < 100; ++i) idx.Add(std::to_string(i), 1);
  idx.Touch("5");
  // "5" is the newest, and the two samples are distinct: it never goes.
  int picked = 0;
  for (int i = 0; i < 10000; ++i) picked += *idx.Victim() == "5";
  EXPECT_EQ(picked, 0);
  // The oldest goes whenever it is sampled: about 2 / 100 of the time.
  idx.Touch("0");
  int oldest = 0;
  for (int i = 0; i < 10000; ++i) oldest += *idx.Victim() == "1";
  EXPECT_GT(oldest, 100);
  EXPECT_LT(oldest, 350);
}

// A cache of `capacity` one-unit blocks over `trace`; the hit ratio and ns per access.
std::pair<double, double> Simulate(Eviction p, size_t capacity,
                                   const std::vector<uint32_t>& trace) {
  Index idx(p, 42);
  size_t hits = 0;
  auto start = std::chrono::steady_clock::now();
  for (uint32_t b : trace) {
    std::string key = "vol/chunks/0/0/" + std::to_string(b) + "_0_4194304";
    if (idx.Touch(key)) {
      ++hits;
      continue;
    }
    while (idx.count() >= capacity) idx.Remove(*idx.Victim());
    idx.Add(key, 1);
  }
  double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      static_cast<double>(trace.size());
  return {static_cast<double>(hits) / static_cast<double>(trace.size()), ns};
}

// Zipf(s) over n blocks, by inverting the CDF.
std::vector<uint32_t> ZipfTrace(size_t n, double s, size_t len, uint64_t seed) {
  std::vector<double> cdf(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) cdf[i] = sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, sum);
  // Spread ranks over ids so popularity is not ordered by id.
  std::vector<uint32_t> perm(n);
  for (size_t i = 0; i < n; ++i) perm[i] = static_cast<uint32_t>(i);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::vector<uint32_t> t(len);
  for (auto& x : t) {
    x = perm[static_cast<size_t>(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin())];
  }
  return t;
}

TEST(Index, EvictionPoliciesMeasured) {
  struct Workload {
    const char* name;
    std::vector<uint32_t> trace;
    size_t capacity;
  };
  std::vector<Workload> work;
  work.push_back({"zipf 0.8, 100k blocks, cache 10%", ZipfTrace(100000, 0.8, 1000000, 1), 10000});
  work.push_back({"zipf 1.0, 100k blocks, cache 5%", ZipfTrace(100000, 1.0, 1000000, 2), 5000});
  {
    // A hot set read over and over, with a long sequential scan every so often
    // (a training job reading its dataset beside a backup).
    std::vector<uint32_t> t;
    std::mt19937_64 rng(3);
    uint32_t scan = 1000000;
    for (int round = 0; round < 20; ++round) {
      for (int i = 0; i < 40000; ++i) t.push_back(static_cast<uint32_t>(rng() % 4000));
      for (int i = 0; i < 6000; ++i) t.push_back(scan++);
    }
    work.push_back({"hot 4k blocks + scans of 6k, cache 5k", std::move(t), 5000});
  }
  {
    // Epochs over a dataset slightly larger than the cache.
    std::vector<uint32_t> t;
    for (int epoch = 0; epoch < 10; ++epoch) {
      for (uint32_t i = 0; i < 11000; ++i) t.push_back(i);
    }
    work.push_back({"loop over 11k blocks, cache 10k", std::move(t), 10000});
  }
  for (auto& w : work) {
    Simulate(Eviction::kLru, w.capacity, w.trace);  // warm the allocator
    auto [lru_hit, lru_ns] = Simulate(Eviction::kLru, w.capacity, w.trace);
    auto [r2_hit, r2_ns] = Simulate(Eviction::k2Random, w.capacity, w.trace);
    std::printf("%-40s  LRU %5.1f%% hits %4.0f ns/access   2-random %5.1f%% hits %4.0f ns/access\n",
                w.name, 100 * lru_hit, lru_ns, 100 * r2_hit, r2_ns);
    EXPECT_GT(r2_hit, 0.0);
  }
}

}  // namespace
}  // namespace tessera::cache
