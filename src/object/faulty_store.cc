// The fault-injecting wrapper for tests: each call draws from a seeded RNG
// whether it fails, is delayed, or (Put and Get only) has its bytes cut in
// half silently. Draws happen in call order under one mutex, so a
// single-threaded test sees the same faults on every run.
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "object/wrappers.h"

namespace tessera::object {
namespace {

class FaultyStoreImpl final : public FaultyStore {
 public:
  FaultyStoreImpl(std::unique_ptr<ObjectStore> inner, FaultPlan plan)
      : inner_(std::move(inner)), plan_(plan), rng_(plan.seed) {}

  std::string Describe() const override { return "faulty+" + inner_->Describe(); }

  void SetPlan(const FaultPlan& plan) override {
    std::lock_guard lock(mu_);
    plan_ = plan;
    rng_.seed(plan.seed);
  }
  void SetDown(bool down) override { down_.store(down); }
  uint64_t injected() const override { return injected_.load(); }

  Status Create() override {
    RETURN_IF_ERROR(Inject("create", "", false).status);
    return inner_->Create();
  }

  Status Put(std::string_view key, std::string_view data) override {
    Decision d = Inject("put", key, true);
    RETURN_IF_ERROR(d.status);
    if (d.cut) return inner_->Put(key, data.substr(0, data.size() / 2));
    return inner_->Put(key, data);
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    Decision d = Inject("get", key, true);
    RETURN_IF_ERROR(d.status);
    ASSIGN_OR_RETURN(std::string data, inner_->Get(key, offset, length));
    if (d.cut) data.resize(data.size() / 2);
    return data;
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    RETURN_IF_ERROR(Inject("head", key, false).status);
    return inner_->Head(key);
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(Inject("delete", key, false).status);
    return inner_->Delete(key);
  }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    RETURN_IF_ERROR(Inject("list", prefix, false).status);
    return inner_->List(prefix, start_after, limit);
  }

 private:
  struct Decision {
    Status status;
    bool cut = false;
  };

  // Decides this call's fate and serves any delay (outside the lock).
  Decision Inject(std::string_view op, std::string_view key, bool can_cut) {
    const std::string what = std::string(op) + " " + std::string(key);
    if (down_.load()) {
      injected_.fetch_add(1);
      return {Status(Code::kUnavailable, "injected fault: store is down (" + what + ")")};
    }
    bool fail = false, cut = false;
    std::chrono::milliseconds delay{0};
    Code code;
    {
      std::lock_guard lock(mu_);
      std::uniform_real_distribution<double> u(0.0, 1.0);
      // Always three draws, so one ratio's setting does not shift the others' sequence.
      fail = u(rng_) < plan_.fail_ratio;
      if (u(rng_) < plan_.delay_ratio) delay = plan_.delay;
      cut = can_cut && u(rng_) < plan_.cut_ratio;
      code = plan_.fail_code;
    }
    if (fail || delay.count() > 0 || cut) injected_.fetch_add(1);
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (fail) return {Status(code, "injected fault (" + what + ")")};
    return {Status::Ok(), cut};
  }

  std::unique_ptr<ObjectStore> inner_;
  std::mutex mu_;
  FaultPlan plan_;       // guarded by mu_
  std::mt19937_64 rng_;  // guarded by mu_
  std::atomic<bool> down_{false};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace

std::unique_ptr<FaultyStore> NewFaultyStore(std::unique_ptr<ObjectStore> inner, FaultPlan plan) {
  return std::make_unique<FaultyStoreImpl>(std::move(inner), plan);
}

}  // namespace tessera::object
