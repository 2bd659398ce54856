#include "cli/bench_report.h"

#include <cstdio>
#include <functional>

namespace tessera::cli {
namespace {

using Opt = std::optional<double>;

// The value of metric `name` summed over its labelled series (name{op="read"}
// and the like); empty when the sample has none.
Opt Total(const MetricSample& sample, const std::string& name) {
  Opt total;
  for (auto it = sample.lower_bound(name); it != sample.end(); ++it) {
    const std::string& key = it->first;
    if (key.compare(0, name.size(), name) != 0) break;
    if (key.size() != name.size() && key[name.size()] != '{') continue;
    total = total.value_or(0) + it->second;
  }
  return total;
}

// after - before of one metric; empty when the later sample lacks it or the
// counter went backwards (the mount restarted in between). A metric is
// registered on first use, so one missing only from the earlier sample
// counts from zero.
Opt Delta(const MetricSample& before, const MetricSample& after, const std::string& name) {
  Opt a = Total(after, name);
  double b = Total(before, name).value_or(0);
  if (!a || *a < b) return std::nullopt;
  return *a - b;
}

Opt Mean(Opt count, Opt sum, double scale) {
  if (!count || !sum || *count <= 0) return std::nullopt;
  return *sum / *count * scale;
}

Opt Ratio(Opt hits, Opt misses) {
  if (!hits || !misses || *hits + *misses <= 0) return std::nullopt;
  return *hits / (*hits + *misses);
}

std::string Format(const Opt& v, const char* format) {
  if (!v.has_value()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v.value());
  return buf;
}

Opt Mib(Opt bytes) { return bytes ? Opt(*bytes / (1 << 20)) : std::nullopt; }

nlohmann::json JsonOf(Opt v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

double Seconds(const Phase& p) { return p.seconds > 0 ? p.seconds : 1e-9; }

}  // namespace

MountCost CostBetween(const MetricSample& before, const MetricSample& after) {
  auto delta = [&](const std::string& name) { return Delta(before, after, name); };
  // A summary `name` is a count and a sum of seconds: count and mean ms.
  auto summary = [&](const std::string& name, Opt& ops, Opt& ms) {
    ops = delta(name + "_count");
    ms = Mean(ops, delta(name + "_sum"), 1000);
  };
  MountCost c;
  summary("tessera_fuse_ops_seconds", c.fuse_ops, c.fuse_ms);
  summary("tessera_meta_txn_seconds", c.meta_txns, c.meta_ms);
  summary("tessera_object_get_seconds", c.get_ops, c.get_ms);
  summary("tessera_object_put_seconds", c.put_ops, c.put_ms);
  summary("tessera_object_delete_seconds", c.delete_ops, c.delete_ms);
  c.get_bytes = delta("tessera_object_get_bytes_total");
  c.put_bytes = delta("tessera_object_put_bytes_total");
  c.mem_hit_ratio =
      Ratio(delta("tessera_blockcache_hits_total"), delta("tessera_blockcache_misses_total"));
  c.disk_hit_ratio =
      Ratio(delta("tessera_diskcache_hits_total"), delta("tessera_diskcache_misses_total"));
  // The seconds gauge counts whole seconds; the milliseconds one is finer.
  if (Opt ms = delta("tessera_process_cpu_milliseconds_total")) {
    c.cpu_seconds = *ms / 1000;
  } else {
    c.cpu_seconds = delta("tessera_process_cpu_seconds_total");
  }
  c.rss_bytes = Total(after, "tessera_process_rss_bytes");
  return c;
}

std::string FormatPhaseTable(const std::vector<PhaseReport>& phases) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %9s %-12s %10s %10s %10s %9s\n", "phase", "ops", "op",
                "MiB/s", "files/s", "ms/op", "seconds");
  out += line;
  for (const auto& r : phases) {
    const Phase& p = r.phase;
    Opt mibs, files, ms;
    if (p.bytes) mibs = static_cast<double>(p.bytes) / (1 << 20) / Seconds(p);
    if (r.per_file) files = static_cast<double>(p.count) / Seconds(p);
    if (p.count) ms = p.latency_sum / static_cast<double>(p.count);
    std::snprintf(line, sizeof line, "%-12s %9lu %-12s %10s %10s %10s %9.2f", p.name.c_str(),
                  static_cast<unsigned long>(p.count), r.op.c_str(), Format(mibs, "%.1f").c_str(),
                  Format(files, "%.1f").c_str(), Format(ms, "%.2f").c_str(), p.seconds);
    out += line;
    if (p.errors) {
      out += "   " + std::to_string(p.errors) + " error(s), first: " + p.first_error;
    }
    out += "\n";
  }
  return out;
}

std::string FormatMountTable(const std::vector<PhaseReport>& phases) {
  struct Row {
    const char* label;
    std::function<Opt(const PhaseReport&, const MountCost&)> value;
    const char* format;
  };
  auto pct = [](Opt v) { return v ? Opt(*v * 100) : std::nullopt; };
  const Row rows[] = {
      {"FUSE ops", [](auto&, auto& c) { return c.fuse_ops; }, "%.0f"},
      {"FUSE ms/op", [](auto&, auto& c) { return c.fuse_ms; }, "%.3f"},
      {"meta txns", [](auto&, auto& c) { return c.meta_txns; }, "%.0f"},
      {"meta ms/txn", [](auto&, auto& c) { return c.meta_ms; }, "%.3f"},
      {"GET objects", [](auto&, auto& c) { return c.get_ops; }, "%.0f"},
      {"GET MiB", [](auto&, auto& c) { return Mib(c.get_bytes); }, "%.1f"},
      {"GET ms/op", [](auto&, auto& c) { return c.get_ms; }, "%.2f"},
      {"PUT objects", [](auto&, auto& c) { return c.put_ops; }, "%.0f"},
      {"PUT MiB", [](auto&, auto& c) { return Mib(c.put_bytes); }, "%.1f"},
      {"PUT ms/op", [](auto&, auto& c) { return c.put_ms; }, "%.2f"},
      {"DELETE objects", [](auto&, auto& c) { return c.delete_ops; }, "%.0f"},
      {"DELETE ms/op", [](auto&, auto& c) { return c.delete_ms; }, "%.2f"},
      {"memory cache hit %", [=](auto&, auto& c) { return pct(c.mem_hit_ratio); }, "%.1f"},
      {"disk cache hit %", [=](auto&, auto& c) { return pct(c.disk_hit_ratio); }, "%.1f"},
      {"mount CPU %",
       [](const PhaseReport& r, const MountCost& c) {
         return c.cpu_seconds ? Opt(*c.cpu_seconds / Seconds(r.phase) * 100) : std::nullopt;
       },
       "%.0f"},
      {"mount RSS MiB", [](auto&, auto& c) { return Mib(c.rss_bytes); }, "%.0f"},
  };
  std::string out;
  char cell[128];
  std::snprintf(cell, sizeof cell, "%-20s", "where the time went");
  out += cell;
  for (const auto& r : phases) {
    std::snprintf(cell, sizeof cell, " %12s", r.phase.name.c_str());
    out += cell;
  }
  out += "\n";
  for (const Row& row : rows) {
    std::snprintf(cell, sizeof cell, "%-20s", row.label);
    out += cell;
    for (const auto& r : phases) {
      Opt v = r.mount ? row.value(r, *r.mount) : std::nullopt;
      std::snprintf(cell, sizeof cell, " %12s", Format(v, row.format).c_str());
      out += cell;
    }
    out += "\n";
  }
  return out;
}

nlohmann::json PhaseJson(const PhaseReport& r) {
  const Phase& p = r.phase;
  nlohmann::json j;
  j["ops"] = p.count;
  j["op"] = r.op;
  j["bytes"] = p.bytes;
  j["seconds"] = p.seconds;
  j["mib_per_s"] = static_cast<double>(p.bytes) / (1 << 20) / Seconds(p);
  j["files_per_s"] =
      JsonOf(r.per_file ? Opt(static_cast<double>(p.count) / Seconds(p)) : std::nullopt);
  j["latency_ms"] = JsonOf(p.count ? Opt(p.latency_sum / static_cast<double>(p.count))
                                   : std::nullopt);
  j["errors"] = p.errors;
  if (p.errors) j["first_error"] = p.first_error;
  if (r.mount) {
    const MountCost& c = *r.mount;
    j["mount"] = {{"fuse_ops", JsonOf(c.fuse_ops)},
                  {"fuse_ms", JsonOf(c.fuse_ms)},
                  {"meta_txns", JsonOf(c.meta_txns)},
                  {"meta_ms", JsonOf(c.meta_ms)},
                  {"get_ops", JsonOf(c.get_ops)},
                  {"get_bytes", JsonOf(c.get_bytes)},
                  {"get_ms", JsonOf(c.get_ms)},
                  {"put_ops", JsonOf(c.put_ops)},
                  {"put_bytes", JsonOf(c.put_bytes)},
                  {"put_ms", JsonOf(c.put_ms)},
                  {"delete_ops", JsonOf(c.delete_ops)},
                  {"delete_ms", JsonOf(c.delete_ms)},
                  {"memory_cache_hit_ratio", JsonOf(c.mem_hit_ratio)},
                  {"disk_cache_hit_ratio", JsonOf(c.disk_hit_ratio)},
                  {"cpu_seconds", JsonOf(c.cpu_seconds)},
                  {"rss_bytes", JsonOf(c.rss_bytes)}};
  }
  return j;
}

}  // namespace tessera::cli
