// bench_report: what `tessera bench` prints. Each phase's throughput and mean
// latency, and — on a tessera mount — where the phase's time went, from two
// samples of the mount's counters (the Prometheus text of the virtual xattr
// `tessera.stats`) taken before and after it. A metric the mount does not
// export shows as "-" in the tables and null in JSON, so the same report
// serves any file system and any version of the mount.
//
// Pure functions of their arguments: no I/O, safe for concurrent use.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_util.h"

namespace tessera::cli {

// Series name → value, as metrics::ParsePrometheusText returns it.
using MetricSample = std::map<std::string, double>;

// A mount's work during one phase. A field is empty when the mount does not
// export the metric, or when it is a mean or ratio of nothing.
struct MountCost {
  std::optional<double> fuse_ops, fuse_ms;    // operations, mean ms each
  std::optional<double> meta_txns, meta_ms;   // metadata transactions, mean ms each
  std::optional<double> get_ops, get_bytes, get_ms;
  std::optional<double> put_ops, put_bytes, put_ms;
  std::optional<double> delete_ops, delete_ms;
  std::optional<double> mem_hit_ratio, disk_hit_ratio;  // 0..1, block lookups served
  std::optional<double> cpu_seconds;                    // the mount process's
  std::optional<double> rss_bytes;                      // at the end of the phase
};

// What changed between two samples of one mount's counters.
MountCost CostBetween(const MetricSample& before, const MetricSample& after);

struct PhaseReport {
  std::string id;       // for JSON: "write_big"
  std::string op;       // what one operation is: "1 MiB write", "file", "stat"
  Phase phase;          // phase.name is what the table shows: "write big"
  bool per_file = false;  // files/s is meaningful (one operation is one file)
  std::optional<MountCost> mount;
};

// One line per phase: operations, MiB/s, files/s, mean ms per operation.
std::string FormatPhaseTable(const std::vector<PhaseReport>& phases);
// One column per phase, one line per figure of the mount ("-" where unknown).
std::string FormatMountTable(const std::vector<PhaseReport>& phases);
// {"ops", "op", "bytes", "seconds", "mib_per_s", "files_per_s", "latency_ms",
//  "errors", ["first_error"], ["mount": {...}]}
nlohmann::json PhaseJson(const PhaseReport& report);

}  // namespace tessera::cli
