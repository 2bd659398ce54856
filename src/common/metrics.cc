// The metrics registry: one map from name to metric, guarded by a mutex that
// only registration and export take.
#include "common/metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <variant>

#include "common/status.h"

namespace tessera::metrics {
namespace {

struct Entry {
  std::string help;
  std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Latency>> metric;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry, std::less<>> entries;  // guarded by mu
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;  // never destroyed: metrics outlive static users
  return *registry;
}

template <typename T>
T& Get(std::string_view name, std::string_view help) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.entries.find(name);
  if (it == r.entries.end()) {
    Entry e{std::string(help), std::make_unique<T>()};
    it = r.entries.emplace(std::string(name), std::move(e)).first;
  }
  auto* held = std::get_if<std::unique_ptr<T>>(&it->second.metric);
  CHECK(held != nullptr);  // registered under this name as another kind
  return **held;
}

std::string Number(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v)) && v < 9e15 && v > -9e15) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

}  // namespace

Counter& GetCounter(std::string_view name, std::string_view help) {
  return Get<Counter>(name, help);
}
Gauge& GetGauge(std::string_view name, std::string_view help) { return Get<Gauge>(name, help); }
Latency& GetLatency(std::string_view name, std::string_view help) {
  return Get<Latency>(name, help);
}

// The process's own figures, read when they are exported.
void UpdateProcessMetrics() {
  static auto& rss = GetGauge("tessera_process_rss_bytes", "resident memory of this process");
  static auto& cpu = GetGauge("tessera_process_cpu_seconds_total",
                              "CPU time (user + system) this process used, whole seconds");
  static auto& cpu_ms = GetGauge("tessera_process_cpu_milliseconds_total",
                                 "CPU time (user + system) this process used, milliseconds");
  static auto& threads = GetGauge("tessera_process_threads", "threads of this process");
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long long size = 0, resident = 0;
    if (std::fscanf(f, "%lld %lld", &size, &resident) == 2) {
      rss.Set(resident * sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    int64_t ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
                 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
    cpu_ms.Set(ms);
    cpu.Set(ms / 1000);
  }
  if (FILE* f = std::fopen("/proc/self/stat", "r")) {
    // Field 20 is num_threads; field 2 (comm) may hold spaces, so skip past its ')'.
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    if (const char* p = std::strrchr(buf, ')')) {
      long long v = 0;
      int field = 2;
      for (const char* q = p + 1; *q && field < 20; ++q) {
        if (*q == ' ') ++field;
        if (field == 20) v = std::atoll(q + 1);
      }
      threads.Set(v);
    }
    std::fclose(f);
  }
}

std::string PrometheusText() {
  UpdateProcessMetrics();
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  std::string out;
  for (const auto& [name, e] : r.entries) {
    if (const auto* c = std::get_if<std::unique_ptr<Counter>>(&e.metric)) {
      out += "# HELP " + name + " " + e.help + "\n# TYPE " + name + " counter\n";
      out += name + " " + Number(static_cast<double>((*c)->value())) + "\n";
    } else if (const auto* g = std::get_if<std::unique_ptr<Gauge>>(&e.metric)) {
      out += "# HELP " + name + " " + e.help + "\n# TYPE " + name + " gauge\n";
      out += name + " " + Number(static_cast<double>((*g)->value())) + "\n";
    } else if (const auto* l = std::get_if<std::unique_ptr<Latency>>(&e.metric)) {
      out += "# HELP " + name + " " + e.help + "\n# TYPE " + name + " summary\n";
      out += name + "_count " + Number(static_cast<double>((*l)->count())) + "\n";
      out += name + "_sum " + Number((*l)->seconds()) + "\n";
    }
  }
  return out;
}

std::map<std::string, double> Snapshot() { return ParsePrometheusText(PrometheusText()); }

std::map<std::string, double> ParsePrometheusText(std::string_view text) {
  std::map<std::string, double> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos || sp == 0) continue;
    std::string value(line.substr(sp + 1));
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    out[std::string(line.substr(0, sp))] = v;
  }
  return out;
}

}  // namespace tessera::metrics
