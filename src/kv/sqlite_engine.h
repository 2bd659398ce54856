// Options of the SQLite engine beyond its path, for OpenEngine ("?sync=normal")
// and tests. Most callers use kv::NewSqliteEngine(path) or kv::OpenEngine(url).
#pragma once

#include <memory>
#include <string>

#include "kv/engine.h"

namespace tessera::kv {

struct SqliteOptions {
  // PRAGMA synchronous: FULL (the default) makes a committed transaction
  // survive power loss; NORMAL may lose the last commits on power loss (never
  // on a process crash) but commits faster.
  bool sync_full = true;
  // Connections the engine keeps open; transactions beyond this wait for one.
  int max_connections = 8;
  // How long SQLite waits for another connection's lock before the
  // operation fails with kConflict (and RunTxn retries).
  int busy_timeout_ms = 5000;
};

Result<std::unique_ptr<Engine>> NewSqliteEngine(const std::string& path,
                                                const SqliteOptions& options);

}  // namespace tessera::kv
