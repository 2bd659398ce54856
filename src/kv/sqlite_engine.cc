// The SQLite engine: one table `kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`
// in a database file in WAL mode. BLOBs compare with memcmp, so SQLite's key
// order is the bytewise order the interface promises.
//
// Concurrency: the engine keeps a small pool of connections, each used by one
// transaction at a time. Write transactions start with BEGIN IMMEDIATE, which
// takes the database's single write lock, so writers run one after another
// across threads and processes (serializable by construction). Read-only
// transactions start with a deferred BEGIN and read a snapshot beside the
// writer. A lock that stays busy past the busy timeout (SQLITE_BUSY or
// SQLITE_LOCKED at any step) becomes Code::kConflict, which RunTxn retries.
#include "kv/sqlite_engine.h"

#include <sqlite3.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include "common/logging.h"

namespace tessera::kv {
namespace {

constexpr std::string_view kGetSql = "SELECT v FROM kv WHERE k = ?1";
constexpr std::string_view kScanSql =
    "SELECT k, v FROM kv WHERE k >= ?1 AND k < ?2 ORDER BY k LIMIT ?3";
constexpr std::string_view kScanToEndSql = "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?3";
constexpr std::string_view kSetSql = "INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)";
constexpr std::string_view kDeleteSql = "DELETE FROM kv WHERE k = ?1";
constexpr std::string_view kDeleteRangeSql = "DELETE FROM kv WHERE k >= ?1 AND k < ?2";
constexpr std::string_view kDeleteToEndSql = "DELETE FROM kv WHERE k >= ?1";

// Turns an SQLite result code into a Status naming the database and the operation.
Status SqliteError(sqlite3* db, int rc, const std::string& path, std::string_view op) {
  std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string where = "sqlite3 " + path + ": " + std::string(op) + ": " + msg;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Conflict(where);
    case SQLITE_NOTADB:
      return Status::Corrupt(path + " is not an SQLite database: " + msg);
    case SQLITE_CORRUPT:
      return Status::Corrupt(where);
    case SQLITE_FULL:
      return Status(Code::kNoSpace, where);
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return Status(Code::kAccess, where);
    default:
      return Status::IO(where);
  }
}

int BindBytes(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  // A null pointer would bind SQL NULL; an empty key or value is a zero-length BLOB.
  return sqlite3_bind_blob64(stmt, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                             SQLITE_STATIC);
}

std::string ColumnBytes(sqlite3_stmt* stmt, int index) {
  const void* p = sqlite3_column_blob(stmt, index);
  int n = sqlite3_column_bytes(stmt, index);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

// Resets a cached statement and drops its bindings when the scope ends.
class ScopedStmt {
 public:
  explicit ScopedStmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ScopedStmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  ScopedStmt(const ScopedStmt&) = delete;
  ScopedStmt& operator=(const ScopedStmt&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// One open connection and its prepared statements. Used by one thread at a time.
class Conn {
 public:
  static Result<std::unique_ptr<Conn>> Open(const std::string& path, const SqliteOptions& opts) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    auto conn = std::unique_ptr<Conn>(new Conn(db, path));
    if (rc != SQLITE_OK) return Err(conn->Error(rc, "open"));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, opts.busy_timeout_ms);
    std::string mode;
    rc = sqlite3_exec(
        db, "PRAGMA journal_mode=WAL",
        [](void* out, int, char** values, char**) {
          *static_cast<std::string*>(out) = values[0] != nullptr ? values[0] : "";
          return 0;
        },
        &mode, nullptr);
    if (rc != SQLITE_OK) return Err(conn->Error(rc, "PRAGMA journal_mode=WAL"));
    if (mode != "wal") {
      TLOG(kWarn) << "sqlite3 " << path << ": journal mode is '" << mode
                  << "', not 'wal'; readers will wait for writers";
    }
    RETURN_IF_ERROR(
        conn->Exec(opts.sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
    RETURN_IF_ERROR(conn->Exec(
        "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID"));
    return conn;
  }

  ~Conn() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Status Error(int rc, std::string_view op) const { return SqliteError(db_, rc, path_, op); }

  Status Exec(const char* sql) {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::Ok() : Error(rc, sql);
  }

  // A prepared statement for `sql` (one of the constants above), cached for
  // the life of the connection.
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = stmts_.find(sql.data());
    if (it != stmts_.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Err(Error(rc, "prepare " + std::string(sql)));
    stmts_.emplace(sql.data(), stmt);
    return stmt;
  }

  // True when no transaction is open on the connection.
  bool Idle() const { return sqlite3_get_autocommit(db_) != 0; }

 private:
  Conn(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  const std::string path_;
  std::map<const char*, sqlite3_stmt*> stmts_;  // keyed by the address of the SQL constant
};

// Open connections waiting for a transaction; at most `max` exist at once.
class ConnPool {
 public:
  ConnPool(std::string path, SqliteOptions opts) : path_(std::move(path)), opts_(opts) {}

  // An idle connection, a new one while fewer than max exist, or else waits.
  Result<std::unique_ptr<Conn>> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < opts_.max_connections; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
    lock.unlock();
    auto conn = Conn::Open(path_, opts_);
    if (!conn.has_value()) Release(nullptr);
    return conn;
  }

  // Returns a connection for reuse; nullptr gives up a slot (a broken connection).
  void Release(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    if (conn != nullptr) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  const SqliteOptions opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_
};

class SqliteTxn final : public Txn {
 public:
  SqliteTxn(ConnPool* pool, std::unique_ptr<Conn> conn, bool read_only)
      : pool_(pool), conn_(std::move(conn)), read_only_(read_only) {}

  ~SqliteTxn() override {
    if (conn_->Idle() || conn_->Exec("ROLLBACK").ok()) {
      pool_->Release(std::move(conn_));
    } else {
      conn_.reset();
      pool_->Release(nullptr);
    }
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn_->Prepare(kGetSql));
    ScopedStmt scope(stmt);
    RETURN_IF_ERROR(Check(BindBytes(stmt, 1, key), "bind"));
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) return ColumnBytes(stmt, 0);
    if (rc == SQLITE_DONE) return std::nullopt;
    return Err(conn_->Error(rc, "get"));
  }

  Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                     size_t limit) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn_->Prepare(end.empty() ? kScanToEndSql : kScanSql));
    ScopedStmt scope(stmt);
    RETURN_IF_ERROR(Check(BindBytes(stmt, 1, begin), "bind"));
    if (!end.empty()) RETURN_IF_ERROR(Check(BindBytes(stmt, 2, end), "bind"));
    int64_t sql_limit = limit == 0 ? -1 : static_cast<int64_t>(limit);
    RETURN_IF_ERROR(Check(sqlite3_bind_int64(stmt, 3, sql_limit), "bind"));
    std::vector<KeyValue> out;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      out.emplace_back(ColumnBytes(stmt, 0), ColumnBytes(stmt, 1));
    }
    if (rc != SQLITE_DONE) return Err(conn_->Error(rc, "scan"));
    return out;
  }

  Status Set(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn_->Prepare(kSetSql));
    ScopedStmt scope(stmt);
    RETURN_IF_ERROR(Check(BindBytes(stmt, 1, key), "bind"));
    RETURN_IF_ERROR(Check(BindBytes(stmt, 2, value), "bind"));
    return Step(stmt, "set");
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt, conn_->Prepare(kDeleteSql));
    ScopedStmt scope(stmt);
    RETURN_IF_ERROR(Check(BindBytes(stmt, 1, key), "bind"));
    return Step(stmt, "delete");
  }

  Status DeleteRange(std::string_view begin, std::string_view end) override {
    RETURN_IF_ERROR(CheckWritable());
    ASSIGN_OR_RETURN(sqlite3_stmt * stmt,
                     conn_->Prepare(end.empty() ? kDeleteToEndSql : kDeleteRangeSql));
    ScopedStmt scope(stmt);
    RETURN_IF_ERROR(Check(BindBytes(stmt, 1, begin), "bind"));
    if (!end.empty()) RETURN_IF_ERROR(Check(BindBytes(stmt, 2, end), "bind"));
    return Step(stmt, "delete range");
  }

  Status Start() { return conn_->Exec(read_only_ ? "BEGIN" : "BEGIN IMMEDIATE"); }

  // COMMIT; on failure the destructor rolls back and nothing is applied.
  Status Finish() { return conn_->Exec("COMMIT"); }

 private:
  Status Check(int rc, std::string_view op) const {
    return rc == SQLITE_OK ? Status::Ok() : conn_->Error(rc, op);
  }

  Status Step(sqlite3_stmt* stmt, std::string_view op) const {
    int rc = sqlite3_step(stmt);
    return rc == SQLITE_DONE ? Status::Ok() : conn_->Error(rc, op);
  }

  Status CheckWritable() const {
    if (read_only_) return Status::Invalid("write in a read-only transaction on " + pool_->path());
    return Status::Ok();
  }

  ConnPool* pool_;
  std::unique_ptr<Conn> conn_;
  const bool read_only_;
};

class SqliteEngine final : public Engine {
 public:
  SqliteEngine(std::string path, SqliteOptions opts)
      : pool_(std::move(path), opts), sync_full_(opts.sync_full) {}

  std::string Name() const override { return "sqlite3"; }

  Result<std::unique_ptr<Txn>> Begin(bool read_only) override {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    auto txn = std::make_unique<SqliteTxn>(&pool_, std::move(conn), read_only);
    RETURN_IF_ERROR(txn->Start());
    return txn;
  }

  Status Commit(std::unique_ptr<Txn> txn) override {
    auto* sqlite_txn = dynamic_cast<SqliteTxn*>(txn.get());
    CHECK(sqlite_txn != nullptr);
    return sqlite_txn->Finish();
  }

  void Abort(std::unique_ptr<Txn> txn) override { txn.reset(); }

  Status Reset() override {
    return RunTxn(*this, [](Txn& txn) { return txn.DeleteRange("", ""); });
  }

  // A checkpoint syncs the WAL before copying it into the database file, and
  // the database file after: either way every committed frame is on disk.
  Status Sync() override {
    if (sync_full_) return Status::Ok();
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    Status s = conn->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    pool_.Release(s.ok() ? std::move(conn) : nullptr);
    return s;
  }

  // Opens the first connection, which creates the file and the table.
  Status Check() {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    pool_.Release(std::move(conn));
    return Status::Ok();
  }

 private:
  ConnPool pool_;
  const bool sync_full_;
};

}  // namespace

Result<std::unique_ptr<Engine>> NewSqliteEngine(const std::string& path,
                                                const SqliteOptions& options) {
  if (path.empty() || path == ":memory:" || path.starts_with("file:")) {
    return Err(Code::kInvalid, "'" + path +
                                   "' is not an SQLite database file path (use mem:// for an "
                                   "in-memory engine)");
  }
  if (sqlite3_threadsafe() == 0) {
    return Err(Code::kNotSupported, "the SQLite library was built without thread support");
  }
  if (options.max_connections < 1) {
    return Err(Code::kInvalid, "SQLite engine needs at least one connection");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return Err(Code::kNotFound, "cannot open SQLite database " + path + ": directory " +
                                    parent.string() + " does not exist");
  }
  auto engine = std::make_unique<SqliteEngine>(path, options);
  RETURN_IF_ERROR(engine->Check());
  return engine;
}

Result<std::unique_ptr<Engine>> NewSqliteEngine(const std::string& path) {
  return NewSqliteEngine(path, SqliteOptions{});
}

}  // namespace tessera::kv
