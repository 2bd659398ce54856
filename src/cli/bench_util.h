// Timing of one benchmark phase run by N workers, shared by objbench, bench-meta
// and bench.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace tessera::cli {

struct Phase {
  std::string name;
  uint64_t count = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double latency_sum = 0;  // milliseconds, over all operations
  uint64_t errors = 0;
  std::string first_error;
};

// Runs op(i) for i in [0, n) on `threads` workers; op returns the bytes it moved.
Phase RunPhase(const std::string& name, uint64_t n, int threads,
               const std::function<Result<uint64_t>(uint64_t)>& op);

// Runs op(t, i) for i in [0, per_worker) in order on each worker t of
// `threads`, so that worker t can own its files and read or write them
// sequentially. A worker stops at its first error. With `progress`, a bar on
// stderr shows how far the phase is (only when stderr is a terminal).
Phase RunPerWorker(const std::string& name, uint64_t per_worker, int threads, bool progress,
                   const std::function<Result<uint64_t>(int, uint64_t)>& op);

}  // namespace tessera::cli
