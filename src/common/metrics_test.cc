#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace tessera::metrics {
namespace {

TEST(Metrics, SameNameIsSameCounter) {
  Counter& a = GetCounter("test_same_total", "a counter");
  Counter& b = GetCounter("test_same_total", "a counter");
  EXPECT_EQ(&a, &b);
  uint64_t before = a.value();
  b.Add(3);
  EXPECT_EQ(a.value(), before + 3);
}

TEST(Metrics, ConcurrentAddsAreAllCounted) {
  Counter& c = GetCounter("test_concurrent_total", "concurrent adds");
  uint64_t before = c.value();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.Add();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), before + 40000);
}

TEST(Metrics, PrometheusTextRoundTrips) {
  GetCounter("test_text_total", "counted things").Add(7);
  GetGauge("test_text_bytes", "a level").Set(-5);
  Latency& l = GetLatency("test_text_seconds", "timed things");
  l.Observe(std::chrono::milliseconds(1500));
  std::string text = PrometheusText();
  EXPECT_NE(text.find("# TYPE test_text_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP test_text_bytes a level\n"), std::string::npos);
  auto parsed = ParsePrometheusText(text);
  EXPECT_GE(parsed.at("test_text_total"), 7);
  EXPECT_EQ(parsed.at("test_text_bytes"), -5);
  EXPECT_GE(parsed.at("test_text_seconds_count"), 1);
  EXPECT_GE(parsed.at("test_text_seconds_sum"), 1.5);
  EXPECT_EQ(Snapshot().at("test_text_bytes"), -5);
}

TEST(Metrics, TimerObservesOnce) {
  Latency& l = GetLatency("test_timer_seconds", "timer");
  uint64_t before = l.count();
  { Timer t(l); }
  EXPECT_EQ(l.count(), before + 1);
}

TEST(Metrics, ParseSkipsGarbage) {
  auto parsed = ParsePrometheusText("# comment\nnovalue\nx 1.5\n\ny abc\nz 2");
  EXPECT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed.at("x"), 1.5);
  EXPECT_EQ(parsed.at("z"), 2);
}

}  // namespace
}  // namespace tessera::metrics
