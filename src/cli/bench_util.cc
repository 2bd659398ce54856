#include "cli/bench_util.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Counts operations and moved bytes of a running phase; with a terminal on
// stderr, redraws one line there five times a second until Finish().
class ProgressBar {
 public:
  ProgressBar(const std::string& name, uint64_t total, bool show)
      : name_(name), total_(total), start_(Clock::now()) {
    if (show && isatty(STDERR_FILENO)) drawer_ = std::thread([this] { Draw(); });
  }
  ~ProgressBar() { Finish(); }

  void Add(uint64_t bytes) {
    done_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }

  void Finish() {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    if (drawer_.joinable()) {
      drawer_.join();
      std::fprintf(stderr, "\r\033[K");
      std::fflush(stderr);
    }
  }

 private:
  void Draw() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return finished_; })) {
      uint64_t done = done_.load(std::memory_order_relaxed);
      double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
      double mibs = static_cast<double>(bytes_.load(std::memory_order_relaxed)) / (1 << 20) /
                    std::max(seconds, 1e-9);
      constexpr int kWidth = 30;
      int filled = total_ ? static_cast<int>(done * kWidth / total_) : kWidth;
      std::string bar(static_cast<size_t>(filled), '#');
      bar.resize(kWidth, '.');
      std::fprintf(stderr, "\r\033[K%-12s [%s] %3d%%  %lu/%lu  %.1f MiB/s", name_.c_str(),
                   bar.c_str(), total_ ? static_cast<int>(done * 100 / total_) : 100,
                   static_cast<unsigned long>(done), static_cast<unsigned long>(total_), mibs);
      std::fflush(stderr);
    }
  }

  const std::string name_;
  const uint64_t total_;
  const Clock::time_point start_;
  std::atomic<uint64_t> done_{0}, bytes_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;  // guarded by mu_
  std::thread drawer_;
};

}  // namespace

Phase RunPhase(const std::string& name, uint64_t n, int threads,
               const std::function<Result<uint64_t>(uint64_t)>& op) {
  Phase p;
  p.name = name;
  std::atomic<uint64_t> next{0}, bytes{0}, errors{0};
  std::atomic<int64_t> latency_ns{0};
  std::mutex mu;
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (uint64_t i; (i = next++) < n;) {
        auto t0 = Clock::now();
        auto r = op(i);
        latency_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
                          .count();
        if (r.has_value()) {
          bytes += *r;
        } else if (errors++ == 0) {
          std::lock_guard lock(mu);
          p.first_error = r.error().ToString();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  p.count = n;
  p.bytes = bytes;
  p.errors = errors;
  p.latency_sum = static_cast<double>(latency_ns.load()) / 1e6;
  return p;
}

Phase RunPerWorker(const std::string& name, uint64_t per_worker, int threads, bool progress,
                   const std::function<Result<uint64_t>(int, uint64_t)>& op) {
  Phase p;
  p.name = name;
  std::atomic<uint64_t> count{0}, bytes{0}, errors{0};
  std::atomic<int64_t> latency_ns{0};
  std::mutex mu;
  ProgressBar bar(name, per_worker * static_cast<uint64_t>(threads), progress);
  auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t i = 0; i < per_worker; ++i) {
        auto t0 = Clock::now();
        auto r = op(t, i);
        latency_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0)
                          .count();
        ++count;
        if (!r.has_value()) {
          if (errors++ == 0) {
            std::lock_guard lock(mu);
            p.first_error = r.error().ToString();
          }
          break;
        }
        bytes += *r;
        bar.Add(*r);
      }
    });
  }
  for (auto& w : workers) w.join();
  p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  bar.Finish();
  p.count = count;
  p.bytes = bytes;
  p.errors = errors;
  p.latency_sum = static_cast<double>(latency_ns.load()) / 1e6;
  return p;
}

}  // namespace tessera::cli
