// The retry wrapper: kUnavailable means "try again later", so it is retried
// with exponential backoff and full jitter (a uniform sleep in [0, cap], the
// cap doubling from initial_backoff up to max_backoff) until max_attempts or
// the deadline. Puts are safe to repeat: objects are immutable, so a Put that
// landed but whose reply was lost stores the same bytes again.
#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "common/logging.h"
#include "object/wrappers.h"

namespace tessera::object {
namespace {

std::atomic<uint64_t> g_retries{0};

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A uniform duration in [0, cap].
Clock::duration Jitter(Clock::duration cap) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  if (cap <= Clock::duration::zero()) return Clock::duration::zero();
  std::uniform_int_distribution<Clock::rep> dist(0, cap.count());
  return Clock::duration(dist(rng));
}

class RetryStore final : public ObjectStore {
 public:
  RetryStore(std::unique_ptr<ObjectStore> inner, RetryOptions options)
      : inner_(std::move(inner)), options_(options) {
    options_.max_attempts = std::max(options_.max_attempts, 1);
  }

  std::string Describe() const override { return inner_->Describe(); }

  Status Create() override {
    return Run("create", "", [&] { return inner_->Create(); });
  }
  Status Put(std::string_view key, std::string_view data) override {
    return Run("put", key, [&] { return inner_->Put(key, data); });
  }
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    return Run("get", key, [&] { return inner_->Get(key, offset, length); });
  }
  Result<ObjectInfo> Head(std::string_view key) override {
    return Run("head", key, [&] { return inner_->Head(key); });
  }
  Status Delete(std::string_view key) override {
    return Run("delete", key, [&] { return inner_->Delete(key); });
  }
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    return Run("list", prefix, [&] { return inner_->List(prefix, start_after, limit); });
  }

 private:
  // Calls `op` until it returns anything but kUnavailable or we give up.
  template <typename Op>
  auto Run(std::string_view what, std::string_view key, Op&& op) -> decltype(op()) {
    const auto start = Clock::now();
    const auto deadline = start + options_.deadline;
    Clock::duration cap = options_.initial_backoff;
    for (int attempt = 1;; ++attempt) {
      auto result = op();
      Status st = ::tessera::internal::ToStatus(result);
      if (st.code() != Code::kUnavailable) return result;
      const auto now = Clock::now();
      if (attempt >= options_.max_attempts || now >= deadline) {
        return Err(st.code(), st.message() + " (after " + std::to_string(attempt) +
                                  (attempt == 1 ? " attempt)" : " attempts)"));
      }
      const auto sleep = std::min(Jitter(cap), deadline - now);
      TLOG(kWarn) << what << " " << key << " on " << inner_->Describe() << " failed (attempt "
                  << attempt << " of " << options_.max_attempts << "): " << st.message()
                  << "; retrying in " << std::chrono::duration_cast<milliseconds>(sleep).count()
                  << " ms";
      g_retries.fetch_add(1, std::memory_order_relaxed);
      std::this_thread::sleep_for(sleep);
      cap = std::min<Clock::duration>(cap * 2, options_.max_backoff);
    }
  }

  std::unique_ptr<ObjectStore> inner_;
  RetryOptions options_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewRetryStore(std::unique_ptr<ObjectStore> inner,
                                           RetryOptions options) {
  return std::make_unique<RetryStore>(std::move(inner), options);
}

uint64_t RetryCount() { return g_retries.load(std::memory_order_relaxed); }

}  // namespace tessera::object
