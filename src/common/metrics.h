// metrics: the process's counters, for `tessera stats`, `tessera bench` and
// the Prometheus endpoint of a mount (`mount --metrics`).
//
// Every layer registers what it counts once, by name, and keeps the returned
// reference (registration takes a lock; updating is a relaxed atomic add):
//
//   static auto& gets = metrics::GetCounter("tessera_object_get_total", "object GETs");
//   gets.Add();
//
// A Latency is a count and a sum of seconds (Prometheus's _count and _sum):
// enough for rates and mean latency per interval, which is what the stats
// view and the bench table show. Names follow Prometheus conventions
// (`_total` for counters, `_bytes`, `_seconds`).
//
// The registry is global because a process serves at most one mount; tests
// that share a process compare deltas, never absolute values.
//
// Thread-safety: everything here is safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace tessera::metrics {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Operations and the time they took.
class Latency {
 public:
  void Observe(std::chrono::nanoseconds d) {
    count_.fetch_add(1, std::memory_order_relaxed);
    nanos_.fetch_add(static_cast<uint64_t>(d.count()), std::memory_order_relaxed);
  }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double seconds() const { return static_cast<double>(nanos_.load(std::memory_order_relaxed)) / 1e9; }

 private:
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> nanos_{0};
};

// Observes the time from construction to destruction into a Latency.
class Timer {
 public:
  explicit Timer(Latency& latency) : latency_(latency), start_(std::chrono::steady_clock::now()) {}
  ~Timer() { latency_.Observe(std::chrono::steady_clock::now() - start_); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

 private:
  Latency& latency_;
  std::chrono::steady_clock::time_point start_;
};

// The metric registered under `name`, created on first use. The reference
// stays valid for the life of the process. A name registered as one kind and
// asked for as another is a programming error (CHECK).
Counter& GetCounter(std::string_view name, std::string_view help);
Gauge& GetGauge(std::string_view name, std::string_view help);
Latency& GetLatency(std::string_view name, std::string_view help);

// Every metric in Prometheus's text exposition format (version 0.0.4), sorted
// by name; a Latency appears as <name>_count and <name>_sum. Refreshes the
// process's own gauges first (tessera_process_rss_bytes, _cpu_*, _threads).
std::string PrometheusText();

// Name → current value of every series (counters, gauges, and each latency's
// _count and _sum), for tools that diff two samples.
std::map<std::string, double> Snapshot();
// Parses PrometheusText() output (comments and unknown lines skipped).
std::map<std::string, double> ParsePrometheusText(std::string_view text);

}  // namespace tessera::metrics
