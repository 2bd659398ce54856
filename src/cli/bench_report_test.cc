#include "cli/bench_report.h"

#include <gtest/gtest.h>

#include "common/metrics.h"

namespace tessera::cli {
namespace {

// Two samples of a mount's tessera.stats, as the mount would return them.
const char* kBefore = R"(# HELP tessera_fuse_ops_seconds FUSE operations
# TYPE tessera_fuse_ops_seconds summary
tessera_fuse_ops_seconds_count 100
tessera_fuse_ops_seconds_sum 0.5
tessera_meta_txn_seconds_count 10
tessera_meta_txn_seconds_sum 0.01
tessera_object_put_seconds_count 4
tessera_object_put_seconds_sum 0.4
tessera_object_put_bytes_total 16777216
tessera_blockcache_hits_total 30
tessera_blockcache_misses_total 10
tessera_process_cpu_seconds_total 1.5
tessera_process_rss_bytes 104857600
)";
const char* kAfter = R"(tessera_fuse_ops_seconds_count 300
tessera_fuse_ops_seconds_sum 1.5
tessera_meta_txn_seconds_count 20
tessera_meta_txn_seconds_sum 0.03
tessera_object_put_seconds_count 12
tessera_object_put_seconds_sum 1.2
tessera_object_put_bytes_total 50331648
tessera_blockcache_hits_total 60
tessera_blockcache_misses_total 20
tessera_process_cpu_seconds_total 2.5
tessera_process_rss_bytes 209715200
)";

TEST(BenchReportTest, CostIsTheDifferenceOfTwoSamples) {
  MountCost c = CostBetween(metrics::ParsePrometheusText(kBefore),
                            metrics::ParsePrometheusText(kAfter));
  ASSERT_TRUE(c.fuse_ops && c.fuse_ms);
  EXPECT_DOUBLE_EQ(*c.fuse_ops, 200);
  EXPECT_DOUBLE_EQ(*c.fuse_ms, 5);  // 1 s over 200 operations
  EXPECT_DOUBLE_EQ(*c.meta_txns, 10);
  EXPECT_NEAR(*c.meta_ms, 2, 1e-9);
  EXPECT_DOUBLE_EQ(*c.put_ops, 8);
  EXPECT_NEAR(*c.put_ms, 100, 1e-9);
  EXPECT_DOUBLE_EQ(*c.put_bytes, 32 << 20);
  EXPECT_NEAR(*c.mem_hit_ratio, 0.75, 1e-9);
  EXPECT_DOUBLE_EQ(*c.cpu_seconds, 1);
  EXPECT_DOUBLE_EQ(*c.rss_bytes, 200 << 20);
}

TEST(BenchReportTest, CpuPrefersMilliseconds) {
  auto before = metrics::ParsePrometheusText(
      "tessera_process_cpu_seconds_total 1\ntessera_process_cpu_milliseconds_total 1900\n");
  auto after = metrics::ParsePrometheusText(
      "tessera_process_cpu_seconds_total 2\ntessera_process_cpu_milliseconds_total 2150\n");
  MountCost c = CostBetween(before, after);
  ASSERT_TRUE(c.cpu_seconds);
  EXPECT_NEAR(*c.cpu_seconds, 0.25, 1e-9);
}

TEST(BenchReportTest, AMetricFirstUsedDuringThePhaseCountsFromZero) {
  auto before = metrics::ParsePrometheusText("tessera_fuse_ops_seconds_count 1\n");
  auto after = metrics::ParsePrometheusText(
      "tessera_fuse_ops_seconds_count 2\n"
      "tessera_object_get_seconds_count 3\ntessera_object_get_seconds_sum 0.03\n");
  MountCost c = CostBetween(before, after);
  ASSERT_TRUE(c.get_ops && c.get_ms);
  EXPECT_DOUBLE_EQ(*c.get_ops, 3);
  EXPECT_NEAR(*c.get_ms, 10, 1e-9);
}

TEST(BenchReportTest, AbsentMetricsStayEmpty) {
  MountCost c = CostBetween(metrics::ParsePrometheusText(kBefore),
                            metrics::ParsePrometheusText(kAfter));
  EXPECT_FALSE(c.get_ops);
  EXPECT_FALSE(c.get_ms);
  EXPECT_FALSE(c.get_bytes);
  EXPECT_FALSE(c.delete_ops);
  EXPECT_FALSE(c.disk_hit_ratio);
}

TEST(BenchReportTest, NoOperationsMeansNoMean) {
  auto s = metrics::ParsePrometheusText(kBefore);
  MountCost c = CostBetween(s, s);
  EXPECT_EQ(c.fuse_ops, 0);
  EXPECT_FALSE(c.fuse_ms);
  EXPECT_FALSE(c.mem_hit_ratio);
}

TEST(BenchReportTest, ACounterThatWentBackwardsIsUnknown) {
  // The mount restarted between the samples: its counters began again.
  MountCost c = CostBetween(metrics::ParsePrometheusText(kAfter),
                            metrics::ParsePrometheusText(kBefore));
  EXPECT_FALSE(c.fuse_ops);
  EXPECT_FALSE(c.fuse_ms);
}

TEST(BenchReportTest, LabelledSeriesAreSummed) {
  auto before = metrics::ParsePrometheusText(
      "tessera_fuse_ops_seconds_count{op=\"read\"} 1\n"
      "tessera_fuse_ops_seconds_count{op=\"write\"} 1\n"
      "tessera_fuse_ops_seconds_sum{op=\"read\"} 0\n"
      "tessera_fuse_ops_seconds_sum{op=\"write\"} 0\n"
      "tessera_fuse_ops_seconds_count_other 100\n");
  auto after = metrics::ParsePrometheusText(
      "tessera_fuse_ops_seconds_count{op=\"read\"} 3\n"
      "tessera_fuse_ops_seconds_count{op=\"write\"} 3\n"
      "tessera_fuse_ops_seconds_sum{op=\"read\"} 0.004\n"
      "tessera_fuse_ops_seconds_sum{op=\"write\"} 0.004\n"
      "tessera_fuse_ops_seconds_count_other 500\n");
  MountCost c = CostBetween(before, after);
  ASSERT_TRUE(c.fuse_ops && c.fuse_ms);
  EXPECT_DOUBLE_EQ(*c.fuse_ops, 4);
  EXPECT_NEAR(*c.fuse_ms, 2, 1e-9);
}

PhaseReport Report() {
  PhaseReport r;
  r.id = "write_small";
  r.op = "file";
  r.per_file = true;
  r.phase.name = "write small";
  r.phase.count = 100;
  r.phase.bytes = 100 << 17;
  r.phase.seconds = 2;
  r.phase.latency_sum = 500;
  return r;
}

TEST(BenchReportTest, JsonHasRatesAndNullsForUnknowns) {
  PhaseReport r = Report();
  nlohmann::json j = PhaseJson(r);
  EXPECT_DOUBLE_EQ(j["files_per_s"].get<double>(), 50);
  EXPECT_DOUBLE_EQ(j["mib_per_s"].get<double>(), 6.25);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 5);
  EXPECT_FALSE(j.contains("mount"));
  r.mount = CostBetween(metrics::ParsePrometheusText(kBefore),
                        metrics::ParsePrometheusText(kAfter));
  j = PhaseJson(r);
  EXPECT_DOUBLE_EQ(j["mount"]["fuse_ops"].get<double>(), 200);
  EXPECT_TRUE(j["mount"]["get_ops"].is_null());
}

TEST(BenchReportTest, TablesShowDashesForUnknowns) {
  PhaseReport r = Report();
  r.mount = CostBetween(metrics::ParsePrometheusText(kBefore),
                        metrics::ParsePrometheusText(kAfter));
  std::string phases = FormatPhaseTable({r});
  EXPECT_NE(phases.find("write small"), std::string::npos);
  EXPECT_NE(phases.find("50.0"), std::string::npos);
  std::string mount = FormatMountTable({r});
  EXPECT_NE(mount.find("FUSE ops"), std::string::npos);
  EXPECT_NE(mount.find("200"), std::string::npos);
  // GET figures are absent from the samples.
  size_t get = mount.find("GET objects");
  ASSERT_NE(get, std::string::npos);
  std::string line = mount.substr(get, mount.find('\n', get) - get);
  EXPECT_NE(line.find(" -"), std::string::npos);
  // CPU: 1 s of the mount's CPU in a 2 s phase.
  size_t cpu = mount.find("mount CPU %");
  EXPECT_NE(mount.substr(cpu, mount.find('\n', cpu) - cpu).find("50"), std::string::npos);
}

}  // namespace
}  // namespace tessera::cli
