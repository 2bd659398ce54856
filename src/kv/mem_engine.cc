// The in-memory engine: a sorted map behind one reader-writer lock.
//
// A read-only transaction holds the lock shared for its whole life; a write
// transaction holds it exclusively, applies each write to the map at once and
// records the old value in an undo log, so Abort (or destroying the Txn
// without committing) puts the map back. Transactions therefore never
// conflict: they are serializable by construction, and Commit only drops the
// undo log and the lock.
//
// Because the lock is held for the life of a Txn, a thread must not begin a
// second transaction (or call Reset) while it holds one: it would deadlock.
#include <map>
#include <mutex>
#include <shared_mutex>
#include <variant>

#include "kv/engine.h"

namespace tessera::kv {
namespace {

using Map = std::map<std::string, std::string, std::less<>>;

struct MemState {
  std::shared_mutex mu;
  Map map;  // guarded by mu
};

class MemTxn final : public Txn {
 public:
  // Takes the lock; blocks while an incompatible transaction runs.
  MemTxn(MemState* state, bool read_only) : state_(state), read_only_(read_only) {
    if (read_only_) {
      lock_.emplace<std::shared_lock<std::shared_mutex>>(state_->mu);
    } else {
      lock_.emplace<std::unique_lock<std::shared_mutex>>(state_->mu);
    }
  }

  ~MemTxn() override { Rollback(); }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto it = state_->map.find(key);
    if (it == state_->map.end()) return std::nullopt;
    return it->second;
  }

  Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                     size_t limit) override {
    std::vector<KeyValue> out;
    for (auto it = state_->map.lower_bound(begin); it != state_->map.end(); ++it) {
      if (!end.empty() && std::string_view(it->first) >= end) break;
      if (limit != 0 && out.size() >= limit) break;
      out.emplace_back(it->first, it->second);
    }
    return out;
  }

  Status Set(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(CheckWritable());
    auto it = state_->map.find(key);
    if (it == state_->map.end()) {
      undo_.push_back({std::string(key), std::nullopt});
      state_->map.emplace(std::string(key), std::string(value));
    } else {
      undo_.push_back({it->first, std::move(it->second)});
      it->second.assign(value);
    }
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckWritable());
    auto it = state_->map.find(key);
    if (it == state_->map.end()) return Status::Ok();
    undo_.push_back({it->first, std::move(it->second)});
    state_->map.erase(it);
    return Status::Ok();
  }

  Status DeleteRange(std::string_view begin, std::string_view end) override {
    RETURN_IF_ERROR(CheckWritable());
    auto it = state_->map.lower_bound(begin);
    while (it != state_->map.end() && (end.empty() || std::string_view(it->first) < end)) {
      undo_.push_back({it->first, std::move(it->second)});
      it = state_->map.erase(it);
    }
    return Status::Ok();
  }

  // Keeps the writes: forgets how to undo them.
  void MarkCommitted() { undo_.clear(); }

 private:
  struct Undo {
    std::string key;
    std::optional<std::string> old_value;  // nullopt: the key was absent
  };

  Status CheckWritable() const {
    if (read_only_) return Status::Invalid("write in a read-only mem transaction");
    return Status::Ok();
  }

  // Restores the map to its state when the transaction began.
  void Rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      if (it->old_value.has_value()) {
        state_->map.insert_or_assign(std::move(it->key), std::move(*it->old_value));
      } else {
        state_->map.erase(it->key);
      }
    }
    undo_.clear();
  }

  MemState* state_;
  const bool read_only_;
  std::variant<std::monostate, std::shared_lock<std::shared_mutex>,
               std::unique_lock<std::shared_mutex>>
      lock_;
  std::vector<Undo> undo_;
};

class MemEngine final : public Engine {
 public:
  std::string Name() const override { return "mem"; }

  Result<std::unique_ptr<Txn>> Begin(bool read_only) override {
    return std::make_unique<MemTxn>(&state_, read_only);
  }

  Status Commit(std::unique_ptr<Txn> txn) override {
    auto* mem = dynamic_cast<MemTxn*>(txn.get());
    CHECK(mem != nullptr);
    mem->MarkCommitted();
    return Status::Ok();  // destroying txn releases the lock
  }

  void Abort(std::unique_ptr<Txn> txn) override { txn.reset(); }

  Status Reset() override {
    std::unique_lock lock(state_.mu);
    state_.map.clear();
    return Status::Ok();
  }

 private:
  MemState state_;
};

}  // namespace

std::unique_ptr<Engine> NewMemEngine() { return std::make_unique<MemEngine>(); }

}  // namespace tessera::kv
