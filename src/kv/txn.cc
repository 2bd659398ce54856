// Engine-independent parts of the KV layer: the default Txn helpers that are
// written on Get/Scan/Set/Delete, PrefixEnd, and RunTxn, the one place that
// commits and retries transactions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "common/encoding.h"
#include "common/metrics.h"
#include "kv/engine.h"

namespace tessera::kv {
namespace {

std::atomic<uint64_t> g_conflict_retries{0};

constexpr auto kFirstBackoff = std::chrono::microseconds(1000);
constexpr auto kMaxBackoff = std::chrono::microseconds(100'000);

// Sleeps a random time in [d/2, d] where d doubles from kFirstBackoff up to
// kMaxBackoff with each attempt, so that conflicting clients drift apart.
void SleepBeforeRetry(int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto d = kFirstBackoff;
  for (int i = 0; i < attempt && d < kMaxBackoff; ++i) d *= 2;
  d = std::min(d, kMaxBackoff);
  std::uniform_int_distribution<int64_t> jitter(d.count() / 2, d.count());
  std::this_thread::sleep_for(std::chrono::microseconds(jitter(rng)));
}

}  // namespace

Result<std::vector<std::optional<std::string>>> Txn::BatchGet(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& key : keys) {
    ASSIGN_OR_RETURN(auto value, Get(key));
    out.push_back(std::move(value));
  }
  return out;
}

Status Txn::DeleteRange(std::string_view begin, std::string_view end) {
  ASSIGN_OR_RETURN(auto pairs, Scan(begin, end));
  for (const auto& [key, value] : pairs) RETURN_IF_ERROR(Delete(key));
  return Status::Ok();
}

Result<int64_t> Txn::Increment(std::string_view key, int64_t delta) {
  ASSIGN_OR_RETURN(auto old, Get(key));
  uint64_t value = 0;
  if (old.has_value()) {
    if (old->size() != 8) {
      return Err(Code::kCorrupt, "counter '" + std::string(key) + "' holds " +
                                     std::to_string(old->size()) + " bytes, expected 8");
    }
    value = GetLE64(old->data());
  }
  // Unsigned arithmetic: wraps like a two's-complement counter instead of overflowing.
  value += static_cast<uint64_t>(delta);
  std::string encoded;
  PutLE64(&encoded, value);
  RETURN_IF_ERROR(Set(key, encoded));
  return static_cast<int64_t>(value);
}

// Increments the last byte that is not 0xff and drops everything after it:
// "ab" -> "ac", "a\xff" -> "b". A prefix of only 0xff bytes (or an empty one)
// has no finite successor; the result is then "", which Scan and DeleteRange
// read as "no upper bound".
std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

uint64_t ConflictRetries() { return g_conflict_retries.load(std::memory_order_relaxed); }

Status RunTxn(Engine& engine, const std::function<Status(Txn&)>& fn, TxnOptions opts) {
  static auto& latency =
      metrics::GetLatency("tessera_meta_txn_seconds", "metadata transactions, retries included");
  static auto& conflicts = metrics::GetCounter("tessera_meta_txn_conflicts_total",
                                               "metadata transactions retried after a conflict");
  metrics::Timer timer(latency);
  for (int attempt = 0;; ++attempt) {
    Status st;
    auto txn = engine.Begin(opts.read_only);
    if (!txn.has_value()) {
      st = txn.error();
    } else {
      st = fn(**txn);
      if (st.ok()) {
        st = engine.Commit(std::move(*txn));
      } else {
        engine.Abort(std::move(*txn));
      }
    }
    if (st.ok() || st.code() != Code::kConflict) return st;
    if (attempt >= opts.max_retries) {
      return Status::Conflict("transaction kept conflicting after " + std::to_string(attempt) +
                              " retries on " + engine.Name() + "; last: " + st.message());
    }
    g_conflict_retries.fetch_add(1, std::memory_order_relaxed);
    conflicts.Add();
    SleepBeforeRetry(attempt);
  }
}

}  // namespace tessera::kv
