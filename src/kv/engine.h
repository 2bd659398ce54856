// The transactional key-value interface that the namespace is written on.
//
// Keys and values are byte strings; keys sort bytewise. A Txn sees its own
// writes. Transactions are serializable: an engine either runs conflicting
// transactions one after another (mem, SQLite: a writer holds the engine's
// write lock) or detects the conflict at Commit and returns Code::kConflict
// (optimistic engines). Callers never commit by hand: RunTxn begins, runs the
// function, commits, and retries on conflict with a growing random backoff.
//
// Thread-safety: an Engine is safe for concurrent use; a Txn belongs to one
// thread for its whole life and must not outlive its Engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/url.h"

namespace tessera::kv {

using KeyValue = std::pair<std::string, std::string>;

class Txn {
 public:
  virtual ~Txn() = default;

  // The value of `key`, or nullopt when absent.
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // Values of several keys, in the order asked, nullopt for absent ones.
  virtual Result<std::vector<std::optional<std::string>>> BatchGet(
      const std::vector<std::string>& keys);
  // Pairs with begin <= key < end, ascending, at most `limit` (0: no limit).
  // An empty `end` means no upper bound (see PrefixEnd).
  virtual Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                             size_t limit = 0) = 0;
  virtual Status Set(std::string_view key, std::string_view value) = 0;
  // Deleting an absent key is not an error.
  virtual Status Delete(std::string_view key) = 0;
  // Deletes every key in [begin, end); an empty `end` means no upper bound.
  virtual Status DeleteRange(std::string_view begin, std::string_view end);
  // Adds `delta` to the little-endian int64 at `key` (absent: 0) and returns the new value.
  virtual Result<int64_t> Increment(std::string_view key, int64_t delta);
};

class Engine {
 public:
  virtual ~Engine() = default;

  // A short name such as "sqlite3" or "mem", for logs and status.
  virtual std::string Name() const = 0;

  // Starts a transaction. A read-only one may run beside writers and must not write.
  virtual Result<std::unique_ptr<Txn>> Begin(bool read_only) = 0;
  // Makes the transaction's writes durable and visible, or returns kConflict
  // (nothing applied) when the engine detected a conflicting transaction.
  virtual Status Commit(std::unique_ptr<Txn> txn) = 0;
  // Drops a transaction without applying its writes.
  virtual void Abort(std::unique_ptr<Txn> txn) = 0;

  // Deletes every key. Only for tests and `format --force`.
  virtual Status Reset() = 0;

  // Makes every transaction committed so far survive power loss, for
  // engines whose commits only survive a process crash on their own (SQLite
  // with synchronous=NORMAL). Called on fsync(2). Default: nothing to do.
  virtual Status Sync() { return Status::Ok(); }
};

struct TxnOptions {
  bool read_only = false;
  int max_retries = 50;
};

// Runs `fn` in a transaction and commits it. If `fn` or the commit returns
// kConflict the whole transaction is retried (fn must be safe to re-run: it
// may only touch its own locals and the Txn). Any other error aborts and is
// returned unchanged.
Status RunTxn(Engine& engine, const std::function<Status(Txn&)>& fn, TxnOptions opts = {});

// Conflict retries since start, for metrics.
uint64_t ConflictRetries();

// The key just past every key that starts with `prefix` (for Scan ranges);
// "" (no upper bound) when `prefix` is empty or all 0xff bytes.
std::string PrefixEnd(std::string_view prefix);

// Engines.
std::unique_ptr<Engine> NewMemEngine();
// An Engine that forwards to `inner`, which its other owners keep using (a
// test that hands an engine to a Meta and still reads it, several mounts of
// one in-process engine).
std::unique_ptr<Engine> ShareEngine(std::shared_ptr<Engine> inner);
// Opens (creating if needed) an SQLite database file in WAL mode.
Result<std::unique_ptr<Engine>> NewSqliteEngine(const std::string& path);

// Engines on servers, one per scheme; each says clearly what is wrong with a
// URL it cannot use or a server it cannot reach.
//   redis://[user:pass@]host:port/db          (and rediss://)
//   postgres://user:pass@host:port/dbname[?search_path=schema]
//   etcd://[user:pass@]host:port[,host:port...]/prefix[?options]
Result<std::unique_ptr<Engine>> NewRedisEngine(const Url& url);
Result<std::unique_ptr<Engine>> NewPostgresEngine(const Url& url);
Result<std::unique_ptr<Engine>> NewEtcdEngine(const Url& url);

// Opens the engine a metadata URL names: "sqlite3://PATH", "mem://NAME"
// (mem engines with one name are shared within the process, for tests), or
// one of the server engines above.
Result<std::unique_ptr<Engine>> OpenEngine(const std::string& url);
// The schemes OpenEngine accepts, for error messages.
std::vector<std::string> SupportedSchemes();

}  // namespace tessera::kv
