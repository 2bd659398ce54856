// Options of the SQLite engine beyond its path, for OpenEngine ("?sync=normal")
// and tests. Most callers use kv::NewSqliteEngine(path) or kv::OpenEngine(url).
#pragma once

#include <memory>
#include <string>

#include "kv/engine.h"

namespace tessera::kv {

struct SqliteOptions {
  // PRAGMA synchronous. NORMAL (the default) in WAL mode: a committed
  // transaction survives a crash of any process, and Engine::Sync() (called
  // on fsync) makes everything committed so far survive power loss; commits
  // are ~5x faster than with FULL, which syncs the WAL on every commit.
  bool sync_full = false;
  // Connections the engine keeps open; transactions beyond this wait for one.
  int max_connections = 8;
  // How long SQLite waits for another connection's lock before the
  // operation fails with kConflict (and RunTxn retries).
  int busy_timeout_ms = 5000;
};

Result<std::unique_ptr<Engine>> NewSqliteEngine(const std::string& path,
                                                const SqliteOptions& options);

}  // namespace tessera::kv
