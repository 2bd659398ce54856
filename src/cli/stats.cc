// tessera stats MOUNTPOINT: a live, per-second view of a mount (like dstat):
// FUSE requests and throughput, metadata transactions, object store traffic,
// cache hits, buffer use, CPU and memory. Each second it reads the mount's
// counters from the virtual xattr tessera.stats of its root and prints the
// differences.
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "common/metrics.h"
#include "vfs/vfs.h"

namespace tessera::cli {

Result<std::map<std::string, double>> ReadMountMetrics(const std::string& mountpoint) {
  std::string buf(1 << 16, '\0');
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t n = getxattr(mountpoint.c_str(), vfs::kStatsXattr, buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return metrics::ParsePrometheusText(buf);
    }
    if (errno != ERANGE) {
      int err = errno;
      if (err == ENODATA || err == ENOTSUP) {
        return Err(Code::kInvalid, mountpoint + " is not the root of a tessera mount");
      }
      return Err(Code::kIO, "cannot read the counters of " + mountpoint + ": " +
                                std::strerror(err));
    }
    buf.resize(buf.size() * 4);
  }
  return Err(Code::kIO, "the counters of " + mountpoint + " are too large");
}

namespace {

struct StatsFlags {
  std::string mountpoint;
  double interval = 1.0;
  int count = 0;  // 0: until interrupted
};

double Get(const std::map<std::string, double>& m, const std::string& name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}

// Rate and mean latency (ms) of a summary between two samples.
struct Delta {
  const std::map<std::string, double>& a;
  const std::map<std::string, double>& b;
  double secs;
  double Diff(const std::string& name) const { return Get(b, name) - Get(a, name); }
  double Rate(const std::string& name) const { return Diff(name) / secs; }
  double MiBps(const std::string& name) const { return Diff(name) / secs / (1 << 20); }
  double LatencyMs(const std::string& summary) const {
    double n = Diff(summary + "_count");
    return n > 0 ? Diff(summary + "_sum") / n * 1000 : 0;
  }
};

void PrintHeader() {
  std::printf(
      "---------fuse--------- ----meta---- -----------object----------- ---cache--- "
      "-buffer- --process--\n"
      "  ops  lat  read write  txn/s   lat  get  MiB/s  put  MiB/s  lat mem%% disk%%    MiB"
      "  cpu%%   MiB\n");
}

std::string Num(double v, int width, int decimals = 0) {
  char buf[32];
  if (v >= 100000) {
    std::snprintf(buf, sizeof buf, "%*.0fK", width - 1, v / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%*.*f", width, decimals, v);
  }
  return buf;
}

std::string HitRatio(const Delta& d, const std::string& prefix) {
  double hits = d.Diff(prefix + "_hits_total");
  double misses = d.Diff(prefix + "_misses_total");
  if (hits + misses == 0) return "    -";
  return Num(100 * hits / (hits + misses), 5);
}

void RunStats(const StatsFlags& f) {
  auto before = ReadMountMetrics(f.mountpoint);
  if (!before.has_value()) Die(before.error().message());
  auto t0 = std::chrono::steady_clock::now();
  for (int line = 0; f.count == 0 || line < f.count; ++line) {
    if (line % 20 == 0) PrintHeader();
    std::this_thread::sleep_for(std::chrono::duration<double>(f.interval));
    auto after = ReadMountMetrics(f.mountpoint);
    if (!after.has_value()) Die(after.error().message());
    auto t1 = std::chrono::steady_clock::now();
    Delta d{*before, *after, std::chrono::duration<double>(t1 - t0).count()};
    std::printf("%s %s %s %s %s %s %s %s %s %s %s %s %s %s %s %s\n",
                Num(d.Rate("tessera_fuse_ops_seconds_count"), 5).c_str(),
                Num(d.LatencyMs("tessera_fuse_ops_seconds"), 4, 1).c_str(),
                Num(d.MiBps("tessera_fuse_read_bytes_total"), 5).c_str(),
                Num(d.MiBps("tessera_fuse_write_bytes_total"), 5).c_str(),
                Num(d.Rate("tessera_meta_txn_seconds_count"), 6).c_str(),
                Num(d.LatencyMs("tessera_meta_txn_seconds"), 5, 1).c_str(),
                Num(d.Rate("tessera_object_get_seconds_count"), 4).c_str(),
                Num(d.MiBps("tessera_object_get_bytes_total"), 6).c_str(),
                Num(d.Rate("tessera_object_put_seconds_count"), 4).c_str(),
                Num(d.MiBps("tessera_object_put_bytes_total"), 6).c_str(),
                Num(d.LatencyMs("tessera_object_get_seconds") + d.LatencyMs("tessera_object_put_seconds"), 4)
                    .c_str(),
                HitRatio(d, "tessera_blockcache").c_str(), HitRatio(d, "tessera_diskcache").c_str(),
                Num((Get(*after, "tessera_buffer_written_bytes") + Get(*after, "tessera_blockcache_bytes")) / (1 << 20), 6).c_str(),
                Num(d.Diff("tessera_process_cpu_milliseconds_total") / 10 / d.secs, 5).c_str(),
                Num(Get(*after, "tessera_process_rss_bytes") / (1 << 20), 5).c_str());
    std::fflush(stdout);
    before = std::move(after);
    t0 = t1;
  }
}

}  // namespace

void AddStatsCommand(CLI::App& app) {
  auto f = std::make_shared<StatsFlags>();
  CLI::App* cmd = app.add_subcommand(
      "stats", "live per-second view of a mount: FUSE, metadata, object store, cache, memory");
  cmd->add_option("MOUNTPOINT", f->mountpoint, "the root of a tessera mount")->required();
  cmd->add_option("--interval", f->interval, "seconds between lines")->capture_default_str();
  cmd->add_option("--count", f->count, "lines to print (0: until interrupted)")
      ->capture_default_str();
  cmd->footer(
      "Columns: FUSE requests/s, mean latency (ms), read and write MiB/s; metadata "
      "transactions/s and mean latency (ms); object GETs/s and MiB/s, PUTs/s and MiB/s, mean "
      "GET+PUT latency (ms); memory block cache and disk cache hit %; buffer MiB in use; the "
      "mount's CPU % and resident MiB. The same counters are served in Prometheus format by "
      "mount --metrics.");
  cmd->callback([f] { RunStats(*f); });
}

}  // namespace tessera::cli
