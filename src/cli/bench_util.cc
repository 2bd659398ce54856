#include "cli/bench_util.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera::cli {

Phase RunPhase(const std::string& name, uint64_t n, int threads,
               const std::function<Result<uint64_t>(uint64_t)>& op) {
  using Clock = std::chrono::steady_clock;
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

}  // namespace tessera::cli
