// The PostgreSQL engine: one table `kv (k bytea PRIMARY KEY, v bytea NOT
// NULL)` in the schema the URL names (postgres://user:pass@host:port/db
// ?search_path=SCHEMA, default public), created with the schema if missing.
// bytea compares bytewise (memcmp, then length), which is the key order the
// interface promises. Keys and values travel as binary parameters and results.
//
// Transactions: every transaction is SERIALIZABLE (READ ONLY for read-only
// ones), so PostgreSQL's serializable snapshot isolation detects conflicts,
// including phantoms: a Scan that found a range empty, or a Get that found a
// key absent, conflicts with a transaction that inserts there. REPEATABLE
// READ with SELECT ... FOR UPDATE would not do: the engine cannot know which
// reads guard which writes, absent keys and empty ranges have no rows to
// lock, and locking every read would make readers of a hot key wait for each
// other. A serialization failure (SQLSTATE 40001) or a deadlock (40P01), at
// any statement or at COMMIT, becomes Code::kConflict and RunTxn retries the
// whole transaction. SSI has false positives (its predicate locks cover
// index pages, and too many escalate to the whole relation): they cost a
// retry, not correctness. Each session turns sequential and bitmap scans off,
// so every read takes narrow index-range locks even while the table is tiny,
// and servers with long scans want a larger max_pred_locks_per_transaction.
//
// Round trips: a transaction's writes stay in the client (WriteBuffer) until
// Commit, and its reads merge them in, so a transaction reads its own writes.
// Statements go out in libpq pipelines: BEGIN travels with the first read,
// and Commit sends [BEGIN,] the range deletions, one DELETE ... = ANY($1),
// one multi-row upsert and COMMIT together. A blind write is one round trip,
// a read-modify-write two. The upsert writes its rows in key order, so
// writers take row locks in one order and rarely deadlock.
//
// Connections: a pool of at most kPoolSize, each with its statements
// prepared. A connection that broke, or that received anything while idle
// (a server restart or pg_terminate_backend sends a FATAL message and
// closes it), is dropped and replaced. Opening a connection, and a
// transaction's first round trip (nothing of it has reached the server), are
// retried for kRetryFor while the server is unreachable, then fail with
// kUnavailable. A connection lost later in a transaction returns kConflict
// (the server rolled it back), so RunTxn starts over on a new connection. A
// connection lost while COMMIT was in flight returns kUnavailable "outcome
// unknown": the transaction may have been applied, and it is not re-sent.
//
// Limits: keys up to ~2.7 KB (a B-tree entry; longer ones fail with kTooBig),
// values up to 1 GB; one host (no multi-host URLs); statements are prepared,
// so a transaction-pooling proxy (pgbouncer in transaction mode) is not
// supported; connection errors are recognised by their English text
// (lc_messages=C on the server keeps them so). Reset() uses TRUNCATE, which
// waits for every open transaction on the table.
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include "common/encoding.h"
#include "common/logging.h"
#include "kv/engine.h"

namespace tessera::kv {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPoolSize = 8;
constexpr auto kRetryFor = std::chrono::seconds(10);
constexpr auto kFirstRetryDelay = std::chrono::milliseconds(50);
constexpr auto kMaxRetryDelay = std::chrono::milliseconds(1000);
constexpr const char* kDefaultConnectTimeout = "10";  // seconds, per connection attempt
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kByteaArrayOid = 1001;

// The statements every connection prepares (see StatementTexts).
enum Sql : int {
  kBeginRead,
  kBeginWrite,
  kCommit,
  kGet,          // $1 bytea[]
  kScan,         // $1 begin, $2 end, $3 limit (NULL: none)
  kScanToEnd,    // $1 begin, $2 limit
  kUpsert,       // $1 keys bytea[], $2 values bytea[]
  kDelete,       // $1 bytea[]
  kDeleteRange,  // $1 begin, $2 end
  kDeleteToEnd,  // $1 begin
  kSqlCount,
};

struct SqlText {
  std::string name;  // of the prepared statement, also used in messages
  std::string text;
  std::vector<Oid> param_types;
};

std::vector<SqlText> StatementTexts(const std::string& table) {
  std::vector<SqlText> s(kSqlCount);
  s[kBeginRead] = {"tessera_begin", "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY", {}};
  s[kBeginWrite] = {"tessera_begin_write", "BEGIN ISOLATION LEVEL SERIALIZABLE", {}};
  s[kCommit] = {"tessera_commit", "COMMIT", {}};
  s[kGet] = {"tessera_get", "SELECT k, v FROM " + table + " WHERE k = ANY($1)", {kByteaArrayOid}};
  s[kScan] = {"tessera_scan",
              "SELECT k, v FROM " + table + " WHERE k >= $1 AND k < $2 ORDER BY k LIMIT $3",
              {kByteaOid, kByteaOid, kInt8Oid}};
  s[kScanToEnd] = {"tessera_scan_to_end",
                   "SELECT k, v FROM " + table + " WHERE k >= $1 ORDER BY k LIMIT $2",
                   {kByteaOid, kInt8Oid}};
  s[kUpsert] = {"tessera_set",
                "INSERT INTO " + table +
                    " (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[])"
                    " ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                {kByteaArrayOid, kByteaArrayOid}};
  s[kDelete] = {"tessera_delete", "DELETE FROM " + table + " WHERE k = ANY($1)", {kByteaArrayOid}};
  s[kDeleteRange] = {"tessera_delete_range",
                     "DELETE FROM " + table + " WHERE k >= $1 AND k < $2",
                     {kByteaOid, kByteaOid}};
  s[kDeleteToEnd] = {
      "tessera_delete_to_end", "DELETE FROM " + table + " WHERE k >= $1", {kByteaOid}};
  return s;
}

// --- Configuration from the URL ---

struct PgConfig {
  std::vector<std::pair<std::string, std::string>> params;  // libpq keywords and values
  std::string schema;
  std::string table;  // quoted: "schema".kv
  std::string where;  // "postgres host:port/db.schema", for messages
  std::string url;    // redacted, for messages about the URL itself
  std::vector<SqlText> statements;
};

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A short decimal number: a port or a number of seconds.
bool IsNumber(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// The host and port (default 5432). ParseUrl splits "host:port" but leaves
// "[v6addr]:port" whole.
Status SplitHost(const Url& url, std::string* host, int* port) {
  *host = url.host;
  *port = url.port;
  if (host->find(',') != std::string::npos) {
    return Status::Invalid("several hosts in '" + url.Redacted() +
                           "': the postgres engine connects to one host");
  }
  if (host->starts_with('[')) {
    size_t close = host->find(']');
    if (close == std::string::npos) return Status::Invalid("bad host in '" + url.Redacted() + "'");
    std::string rest = host->substr(close + 1);
    *host = host->substr(1, close - 1);
    if (rest.starts_with(':') && IsNumber(rest.substr(1))) {
      *port = std::stoi(rest.substr(1));
    } else if (!rest.empty()) {
      return Status::Invalid("bad port '" + rest + "' in '" + url.Redacted() + "'");
    }
  }
  if (*port == 0) *port = 5432;
  return Status::Ok();
}

Result<PgConfig> ParseConfig(const Url& url) {
  PgConfig cfg;
  cfg.url = url.Redacted();
  std::string host;
  int port;
  RETURN_IF_ERROR(SplitHost(url, &host, &port));
  std::string db = url.path.starts_with('/') ? url.path.substr(1) : url.path;
  if (db.empty() || db.find('/') != std::string::npos) {
    return Err(Code::kInvalid,
               "'" + cfg.url +
                   "' names no database; expected "
                   "postgres://USER:PASSWORD@HOST:PORT/DATABASE[?search_path=SCHEMA]");
  }
  cfg.schema = "public";
  std::string connect_timeout = kDefaultConnectTimeout;
  std::string sslmode;
  std::string_view query = url.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    std::string value(eq == std::string_view::npos ? "" : param.substr(eq + 1));
    if (name == "search_path" && !value.empty() && value.size() <= 63 &&
        value.find(',') == std::string::npos) {
      cfg.schema = value;
    } else if (name == "sslmode" && !value.empty()) {
      sslmode = value;
    } else if (name == "connect_timeout" && IsNumber(value)) {
      connect_timeout = value;
    } else {
      return Err(Code::kInvalid, "bad option '" + std::string(param) + "' in '" + cfg.url +
                                     "'; supported: search_path=SCHEMA (one schema, at most 63 "
                                     "bytes), sslmode=MODE, connect_timeout=SECONDS");
    }
  }
  cfg.table = QuoteIdent(cfg.schema) + ".kv";
  std::string shown_host = host.find(':') == std::string::npos ? host : "[" + host + "]";
  cfg.where = "postgres " + shown_host + ":" + std::to_string(port) + "/" + db + "." + cfg.schema;
  cfg.params = {{"host", host},
                {"port", std::to_string(port)},
                {"dbname", db},
                {"connect_timeout", connect_timeout},
                {"application_name", "tessera/" + cfg.schema},
                // Index scans only: narrow predicate locks (see the top of this file).
                {"options", "-c enable_seqscan=off -c enable_bitmapscan=off"},
                // Notice a dead server within ~25 s even while waiting for an answer.
                {"keepalives", "1"},
                {"keepalives_idle", "10"},
                {"keepalives_interval", "5"},
                {"keepalives_count", "3"}};
  if (!url.user.empty()) cfg.params.emplace_back("user", url.user);
  if (!url.password.empty()) cfg.params.emplace_back("password", url.password);
  if (!sslmode.empty()) cfg.params.emplace_back("sslmode", sslmode);
  cfg.statements = StatementTexts(cfg.table);
  return cfg;
}

// --- Errors ---

std::string FirstLine(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  return std::string(text);
}

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Why a connection attempt failed, in one line: what is wrong and what to do.
// kUnavailable for what may pass (the server is down or starting), which
// callers retry; other codes for mistakes in the URL or on the server.
Status ConnectError(PGconn* pg, const PgConfig& cfg) {
  std::string msg = FirstLine(pg != nullptr ? PQerrorMessage(pg) : "out of memory");
  // libpq: 'connection to server at "h" (addr), port p failed: FATAL:  <reason>'
  if (size_t failed = msg.find(" failed: "); failed != std::string::npos) {
    msg.erase(0, failed + 9);
  }
  if (msg.starts_with("FATAL:  ")) msg.erase(0, 8);
  std::string head = cfg.where + ": " + msg;
  std::string tail = " (" + cfg.url + ")";
  if (Has(msg, "password authentication failed")) {
    return Status(Code::kAccess, head + " — check the user and password in META_URL" + tail);
  }
  if (Has(msg, "no password supplied")) {
    std::string form = "postgres://USER:PASSWORD@HOST:PORT/DATABASE";
    return Status(Code::kAccess, head + " — put the password in META_URL: " + form + tail);
  }
  if (msg.starts_with("database \"") && Has(msg, "does not exist")) {
    return Status::NotFound(head + " — create it with createdb, or check the URL" + tail);
  }
  if (msg.starts_with("role \"") && Has(msg, "does not exist")) {
    return Status(Code::kAccess, head + " — create the role, or check the user in META_URL" + tail);
  }
  if (Has(msg, "no pg_hba.conf entry")) {
    return Status(Code::kAccess, head + " — allow this client in the server's pg_hba.conf" + tail);
  }
  if (Has(msg, "permission denied")) return Status(Code::kAccess, head + tail);
  if (Has(msg, "Connection refused")) {
    return Status::Unavailable(head + " — is the server running and listening there?" + tail);
  }
  if (Has(msg, "timeout expired")) {
    return Status::Unavailable(head + " — check the host and port, or a firewall" + tail);
  }
  if (Has(msg, "could not translate host name")) {
    return Status::Unavailable(head + " — check the host in META_URL" + tail);
  }
  return Status::Unavailable(head + tail);
}

// The status of a failed statement. A FATAL error means the server is
// closing the connection: kUnavailable, like a connection lost without one.
Status StatementError(const PGresult* res, PGconn* pg, const PgConfig& cfg, std::string_view op) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const char* severity =
      res != nullptr ? PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED) : nullptr;
  const char* primary = res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string msg = primary != nullptr ? primary : FirstLine(PQerrorMessage(pg));
  std::string sqlstate = state != nullptr ? state : "";
  std::string where = cfg.where + ": " + std::string(op) + ": " + msg;
  if (!sqlstate.empty()) where += " (SQLSTATE " + sqlstate + ")";
  bool fatal = severity != nullptr &&
               (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC");
  if (sqlstate.empty() || fatal || sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
      PQstatus(pg) != CONNECTION_OK) {
    return Status::Unavailable(where);
  }
  if (sqlstate == "40001" || sqlstate == "40P01") return Status::Conflict(where);
  if (sqlstate == "53100") return Status(Code::kNoSpace, where);
  if (sqlstate == "54000") return Status(Code::kTooBig, where);  // e.g. a key past the index limit
  if (sqlstate == "42501") return Status(Code::kAccess, where);
  return Status::IO(where);
}

// --- Parameters and results ---

struct PqClear {
  void operator()(PGresult* res) const { PQclear(res); }
};
using PgResult = std::unique_ptr<PGresult, PqClear>;

// A bytea[] in PostgreSQL's binary array format: dimensions, then each
// element as a 4-byte length and its bytes.
std::string ByteaArray(const std::vector<std::string_view>& items) {
  std::string out;
  PutBE32(&out, 1);  // dimensions
  PutBE32(&out, 0);  // no NULL elements
  PutBE32(&out, kByteaOid);
  PutBE32(&out, static_cast<uint32_t>(items.size()));
  PutBE32(&out, 1);  // lower bound
  for (std::string_view item : items) {
    PutBE32(&out, static_cast<uint32_t>(item.size()));
    out.append(item);
  }
  return out;
}

std::optional<std::string> Int8Param(size_t limit) {
  if (limit == 0) return std::nullopt;  // LIMIT NULL: no limit
  std::string out;
  PutBE64(&out, limit);
  return out;
}

std::string_view Cell(const PGresult* res, int row, int col) {
  return {PQgetvalue(res, row, col), static_cast<size_t>(PQgetlength(res, row, col))};
}

// One statement of a pipeline: a prepared statement and its binary
// parameters (nullopt: SQL NULL).
struct Stmt {
  Sql sql;
  std::vector<std::optional<std::string>> params;
};

// --- Connections ---

void LogNotice(void*, const char* message) { TLOG(kDebug) << "postgres: " << FirstLine(message); }

// One server connection with the statements prepared. Used by one thread at a time.
class Conn {
 public:
  // Connects without preparing (the table may not exist yet).
  static Result<std::unique_ptr<Conn>> Connect(const PgConfig& cfg) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [k, v] : cfg.params) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    auto conn = std::unique_ptr<Conn>(
        new Conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0), &cfg));
    if (PQstatus(conn->pg_) != CONNECTION_OK) return Err(ConnectError(conn->pg_, cfg));
    PQsetNoticeProcessor(conn->pg_, LogNotice, nullptr);
    return conn;
  }

  static Result<std::unique_ptr<Conn>> Open(const PgConfig& cfg) {
    ASSIGN_OR_RETURN(auto conn, Connect(cfg));
    RETURN_IF_ERROR(conn->PrepareAll());
    return conn;
  }

  ~Conn() { PQfinish(pg_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Status PrepareAll() {
    for (int i = 0; i < kSqlCount; ++i) {
      const SqlText& s = cfg_->statements[i];
      PgResult res(PQprepare(pg_, s.name.c_str(), s.text.c_str(),
                             static_cast<int>(s.param_types.size()), s.param_types.data()));
      if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        return StatementError(res.get(), pg_, *cfg_, "prepare " + s.name);
      }
    }
    return Status::Ok();
  }

  // Runs SQL text without parameters outside any pipeline (several
  // statements allowed); `op` names it in errors.
  Status Exec(const std::string& sql, std::string_view op) {
    PgResult res(PQexec(pg_, sql.c_str()));
    ExecStatusType st = PQresultStatus(res.get());
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    return StatementError(res.get(), pg_, *cfg_, op);
  }

  // Sends `stmts` in one pipeline (one round trip) and returns a result for
  // each, or the first error. kUnavailable means the connection broke before
  // a definitive answer: the server may have run any of the statements.
  Result<std::vector<PgResult>> Run(std::span<const Stmt> stmts) {
    if (!Usable()) return Err(Status::Unavailable(cfg_->where + ": connection lost"));
    if (PQenterPipelineMode(pg_) != 1) return Broken("enter pipeline mode");
    for (const Stmt& stmt : stmts) {
      if (!Send(stmt)) return Broken("send");
    }
    if (PQpipelineSync(pg_) != 1) return Broken("send");
    return Collect(stmts);
  }

  // Usable for another transaction: open, and nothing arrived while it sat
  // idle. The server sends nothing to an idle session unless it is closing
  // it (a restart, pg_terminate_backend), so anything readable means gone.
  bool IdleAndHealthy() {
    if (!Usable() || PQtransactionStatus(pg_) != PQTRANS_IDLE) return false;
    pollfd pfd{.fd = PQsocket(pg_), .events = POLLIN, .revents = 0};
    return poll(&pfd, 1, 0) == 0;
  }

  bool Usable() const { return !broken_ && PQstatus(pg_) == CONNECTION_OK; }

  // Ends an open transaction so the connection can be reused; false if it cannot.
  bool EndTransaction() {
    if (!Usable()) return false;
    if (PQtransactionStatus(pg_) == PQTRANS_IDLE) return true;
    return Exec("ROLLBACK", "rollback").ok() && PQtransactionStatus(pg_) == PQTRANS_IDLE;
  }

 private:
  Conn(PGconn* pg, const PgConfig* cfg) : pg_(pg), cfg_(cfg) {}

  bool Send(const Stmt& stmt) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats(stmt.params.size(), 1);
    for (const auto& p : stmt.params) {
      values.push_back(p.has_value() ? p->data() : nullptr);
      lengths.push_back(p.has_value() ? static_cast<int>(p->size()) : 0);
    }
    return PQsendQueryPrepared(pg_, cfg_->statements[stmt.sql].name.c_str(),
                               static_cast<int>(stmt.params.size()), values.data(), lengths.data(),
                               formats.data(), /*resultFormat=*/1) == 1;
  }

  // Reads the pipeline's results: per statement one result (an error, or
  // PIPELINE_ABORTED after an earlier error) then NULL; PIPELINE_SYNC last.
  Result<std::vector<PgResult>> Collect(std::span<const Stmt> stmts) {
    std::vector<PgResult> results(stmts.size());
    Status error;
    size_t i = 0;  // the statement whose results come next
    for (;;) {
      PgResult res(PQgetResult(pg_));
      if (PQstatus(pg_) != CONNECTION_OK) {
        broken_ = true;
        if (error.ok()) error = StatementError(res.get(), pg_, *cfg_, "connection lost");
        return Err(error);
      }
      if (res == nullptr) {
        if (++i > stmts.size()) return Broken("protocol out of step");
        continue;
      }
      ExecStatusType st = PQresultStatus(res.get());
      if (st == PGRES_PIPELINE_SYNC) break;
      if (i >= stmts.size()) return Broken("protocol out of step");
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        results[i] = std::move(res);
      } else if (st != PGRES_PIPELINE_ABORTED && error.ok()) {
        error = StatementError(res.get(), pg_, *cfg_, cfg_->statements[stmts[i].sql].name);
      }
    }
    if (PQexitPipelineMode(pg_) != 1) return Broken("exit pipeline mode");
    if (!error.ok()) return Err(error);
    for (const PgResult& res : results) {
      if (res == nullptr) return Broken("a statement returned no result");
    }
    return results;
  }

  // A pipeline left half-read: the connection cannot be reused.
  std::unexpected<Status> Broken(std::string_view op) {
    broken_ = true;
    return Err(Status::Unavailable(cfg_->where + ": " + std::string(op) + ": " +
                                   FirstLine(PQerrorMessage(pg_))));
  }

  PGconn* pg_;
  const PgConfig* cfg_;
  bool broken_ = false;
};

// Open connections waiting for a transaction; at most kPoolSize exist at once.
class ConnPool {
 public:
  explicit ConnPool(const PgConfig* cfg) : cfg_(cfg) {}

  // A healthy idle connection, a new one while fewer than kPoolSize exist, or else waits.
  Result<std::unique_ptr<Conn>> Acquire() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < kPoolSize; });
      if (idle_.empty()) break;
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->IdleAndHealthy()) return conn;
      --open_;  // closed by the server while idle: replace it
    }
    ++open_;
    lock.unlock();
    auto conn = Conn::Open(*cfg_);
    if (!conn.has_value()) Release(nullptr);
    return conn;
  }

  // Takes a connection opened outside the pool (the engine's first).
  void Add(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    ++open_;
    idle_.push_back(std::move(conn));
    cv_.notify_one();
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

 private:
  const PgConfig* cfg_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_
};

// --- Transactions ---

// The writes of one transaction, kept in the client until Commit: the last
// value or deletion of each key, and the ranges deleted. A point write made
// after a range deletion is newer than it, so Commit deletes ranges first.
class WriteBuffer {
 public:
  // What this transaction wrote at a key: nullopt when it did not write
  // there; a value, or nullopt inside for a deletion.
  using Lookup = std::optional<std::optional<std::string>>;

  bool empty() const { return keys_.empty() && ranges_.empty(); }

  void Set(std::string_view key, std::string_view value) {
    keys_.insert_or_assign(std::string(key), std::string(value));
  }
  void Delete(std::string_view key) { keys_.insert_or_assign(std::string(key), std::nullopt); }
  void DeleteRange(std::string_view begin, std::string_view end) {
    if (!end.empty() && begin >= end) return;
    keys_.erase(keys_.lower_bound(begin), end.empty() ? keys_.end() : keys_.lower_bound(end));
    ranges_.emplace_back(begin, end);
  }

  Lookup Find(std::string_view key) const {
    if (auto it = keys_.find(key); it != keys_.end()) return it->second;
    if (InDeletedRange(key)) return std::optional<std::string>();
    return std::nullopt;
  }

  // Appends to `out`, in key order and up to `limit` (0: none), the server
  // `rows` this transaction did not overwrite merged with its own values in
  // [from, end); `last` bounds the window when the server has rows past it.
  void Merge(std::vector<KeyValue> rows, std::string_view from, std::string_view end,
             const std::optional<std::string>& last, size_t limit,
             std::vector<KeyValue>* out) const {
    auto in_window = [&](const std::string& k) {
      return (end.empty() || k < end) && (!last.has_value() || k <= *last);
    };
    auto it = keys_.lower_bound(from);
    size_t r = 0;
    while (limit == 0 || out->size() < limit) {
      while (it != keys_.end() && in_window(it->first) && !it->second.has_value()) ++it;
      bool mine = it != keys_.end() && in_window(it->first);
      if (r < rows.size() && Find(rows[r].first).has_value()) {
        ++r;  // overwritten or deleted by this transaction
      } else if (mine && (r == rows.size() || it->first < rows[r].first)) {
        out->emplace_back(it->first, *it->second);
        ++it;
      } else if (r < rows.size()) {
        out->push_back(std::move(rows[r++]));
      } else {
        break;
      }
    }
  }

  // The statements that apply the writes, deletions first.
  std::vector<Stmt> Statements() const {
    std::vector<Stmt> out;
    for (const auto& [begin, end] : ranges_) {
      if (end.empty()) {
        out.push_back({kDeleteToEnd, {begin}});
      } else {
        out.push_back({kDeleteRange, {begin, end}});
      }
    }
    std::vector<std::string_view> deleted, set_keys, set_values;
    for (const auto& [key, value] : keys_) {
      if (value.has_value()) {
        set_keys.push_back(key);
        set_values.push_back(*value);
      } else {
        deleted.push_back(key);
      }
    }
    if (!deleted.empty()) out.push_back({kDelete, {ByteaArray(deleted)}});
    if (!set_keys.empty()) out.push_back({kUpsert, {ByteaArray(set_keys), ByteaArray(set_values)}});
    return out;
  }

 private:
  bool InDeletedRange(std::string_view key) const {
    return std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& range) {
      return key >= range.first && (range.second.empty() || key < range.second);
    });
  }

  std::map<std::string, std::optional<std::string>, std::less<>> keys_;
  std::vector<std::pair<std::string, std::string>> ranges_;  // [begin, end); "" end: unbounded
};

class PostgresEngine;

class PgTxn final : public Txn {
 public:
  PgTxn(PostgresEngine* engine, const PgConfig* cfg, std::unique_ptr<Conn> conn, bool read_only)
      : engine_(engine), cfg_(cfg), conn_(std::move(conn)), read_only_(read_only) {}
  ~PgTxn() override;

  Result<std::optional<std::string>> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(auto values, BatchGet({std::string(key)}));
    return std::move(values[0]);
  }

  Result<std::vector<std::optional<std::string>>> BatchGet(
      const std::vector<std::string>& keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<size_t> ask;  // indexes of the keys this transaction did not write
    for (size_t i = 0; i < keys.size(); ++i) {
      auto mine = writes_.Find(keys[i]);
      if (mine.has_value()) {
        out[i] = std::move(*mine);
      } else {
        ask.push_back(i);
      }
    }
    if (ask.empty()) return out;
    std::vector<std::string_view> ask_keys;
    for (size_t i : ask) ask_keys.push_back(keys[i]);
    ASSIGN_OR_RETURN(PgResult res, Query({kGet, {ByteaArray(ask_keys)}}));
    std::unordered_map<std::string_view, std::string_view> found;
    for (int row = 0; row < PQntuples(res.get()); ++row) {
      found.emplace(Cell(res.get(), row, 0), Cell(res.get(), row, 1));
    }
    for (size_t i : ask) {
      if (auto it = found.find(keys[i]); it != found.end()) out[i] = std::string(it->second);
    }
    return out;
  }

  // Reads the server in batches of what is still wanted, merging in this
  // transaction's writes; another batch only when its deletions hid rows.
  Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                     size_t limit) override {
    std::vector<KeyValue> out;
    if (!end.empty() && begin >= end) return out;
    std::string from(begin);
    for (;;) {
      size_t want = limit == 0 ? 0 : limit - out.size();
      ASSIGN_OR_RETURN(auto rows, ScanServer(from, end, want));
      std::optional<std::string> last;  // set when the server may hold more rows
      if (want != 0 && rows.size() == want) last = rows.back().first;
      writes_.Merge(std::move(rows), from, end, last, limit, &out);
      if (!last.has_value() || out.size() >= limit) return out;
      from = *last + '\0';
    }
  }

  Status Set(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(CheckWritable());
    writes_.Set(key, value);
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckWritable());
    writes_.Delete(key);
    return Status::Ok();
  }

  Status DeleteRange(std::string_view begin, std::string_view end) override {
    RETURN_IF_ERROR(CheckWritable());
    writes_.DeleteRange(begin, end);
    return Status::Ok();
  }

  // Sends the writes and COMMIT in one round trip; on failure the server
  // has rolled back, except after kUnavailable ("outcome unknown").
  Status Commit() {
    RETURN_IF_ERROR(failed_);
    if (writes_.empty() && !begun_) return Status::Ok();  // nothing reached the server
    std::vector<Stmt> stmts;
    if (!begun_) stmts.push_back({BeginSql(), {}});
    for (Stmt& s : writes_.Statements()) stmts.push_back(std::move(s));
    stmts.push_back({kCommit, {}});
    auto results = conn_->Run(stmts);
    if (!results.has_value()) {
      if (results.error().code() != Code::kUnavailable || writes_.empty()) {
        return Conflicted(results.error());
      }
      return Status::Unavailable(results.error().message() +
                                 "; the connection broke during COMMIT, so whether the "
                                 "transaction was applied is unknown");
    }
    std::string_view tag = PQcmdStatus(results->back().get());
    if (tag != "COMMIT") return Status::IO(cfg_->where + ": COMMIT answered " + std::string(tag));
    return Status::Ok();
  }

 private:
  Sql BeginSql() const { return read_only_ ? kBeginRead : kBeginWrite; }

  Status CheckWritable() const {
    if (read_only_) {
      return Status::Invalid("write in a read-only transaction on " + cfg_->where);
    }
    return Status::Ok();
  }

  Result<std::vector<KeyValue>> ScanServer(std::string_view from, std::string_view end,
                                           size_t limit) {
    Stmt stmt = end.empty() ? Stmt{kScanToEnd, {std::string(from), Int8Param(limit)}}
                            : Stmt{kScan, {std::string(from), std::string(end), Int8Param(limit)}};
    ASSIGN_OR_RETURN(PgResult res, Query(std::move(stmt)));
    std::vector<KeyValue> rows;
    rows.reserve(PQntuples(res.get()));
    for (int row = 0; row < PQntuples(res.get()); ++row) {
      rows.emplace_back(Cell(res.get(), row, 0), Cell(res.get(), row, 1));
    }
    return rows;
  }

  // Runs a read. The first one carries BEGIN; until it has been answered
  // nothing of this transaction is on the server, so a lost connection is
  // replaced and the pair sent again. Later, a lost connection has taken
  // the transaction with it: kConflict, for RunTxn to start over.
  Result<PgResult> Query(Stmt stmt);

  // A conflict for RunTxn to retry when the connection broke; `st` otherwise.
  Status Conflicted(const Status& st) const {
    if (st.code() != Code::kUnavailable) return st;
    return Status::Conflict(st.message() +
                            "; the connection broke mid-transaction and nothing was committed");
  }

  PostgresEngine* engine_;
  const PgConfig* cfg_;
  std::unique_ptr<Conn> conn_;  // null after a failed reconnect (failed_ is set then)
  const bool read_only_;
  bool begun_ = false;  // BEGIN has been answered
  Status failed_;       // the first failed round trip: the server rolled back
  WriteBuffer writes_;
};

// --- The engine ---

class PostgresEngine final : public Engine {
 public:
  explicit PostgresEngine(PgConfig cfg) : cfg_(std::move(cfg)), pool_(&cfg_) {}

  std::string Name() const override { return "postgres"; }

  Result<std::unique_ptr<Txn>> Begin(bool read_only) override {
    ASSIGN_OR_RETURN(auto conn, Acquire(Clock::now() + kRetryFor));
    return std::make_unique<PgTxn>(this, &cfg_, std::move(conn), read_only);
  }

  Status Commit(std::unique_ptr<Txn> txn) override {
    auto* pg_txn = dynamic_cast<PgTxn*>(txn.get());
    CHECK(pg_txn != nullptr);
    return pg_txn->Commit();
  }

  void Abort(std::unique_ptr<Txn> txn) override { txn.reset(); }

  Status Reset() override {
    ASSIGN_OR_RETURN(auto conn, Acquire(Clock::now() + kRetryFor));
    Status st = conn->Exec("TRUNCATE " + cfg_.table, "reset");
    Release(std::move(conn));
    return st;
  }

  // Creates the schema and the table if missing, then fills the pool's first slot.
  Status Open() {
    ASSIGN_OR_RETURN(auto conn, Conn::Connect(cfg_));
    RETURN_IF_ERROR(CreateTable(*conn));
    RETURN_IF_ERROR(conn->PrepareAll());
    pool_.Add(std::move(conn));
    return Status::Ok();
  }

  // A connection, retrying while the server is unreachable until `deadline`.
  Result<std::unique_ptr<Conn>> Acquire(Clock::time_point deadline) {
    std::chrono::milliseconds delay = kFirstRetryDelay;
    for (;;) {
      auto conn = pool_.Acquire();
      if (conn.has_value() || conn.error().code() != Code::kUnavailable) return conn;
      if (Clock::now() + delay > deadline) {
        return Err(Code::kUnavailable, conn.error().message() + "; gave up after retrying for " +
                                           std::to_string(kRetryFor.count()) + " s");
      }
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, kMaxRetryDelay);
    }
  }

  // Takes back a connection, ending its transaction; drops it if that fails.
  void Release(std::unique_ptr<Conn> conn) {
    if (conn == nullptr) return;  // given back already
    if (!conn->EndTransaction()) conn.reset();
    pool_.Release(std::move(conn));  // nullptr frees the slot of a broken connection
  }

 private:
  // Concurrent first opens (several clients, several processes) take turns
  // on an advisory lock, so IF NOT EXISTS never races on the catalog.
  Status CreateTable(Conn& conn) {
    std::string sql = "BEGIN; SELECT pg_advisory_xact_lock(hashtext('tessera: create kv table')); ";
    sql += "CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(cfg_.schema) + "; ";
    sql += "CREATE TABLE IF NOT EXISTS " + cfg_.table;
    sql += " (k bytea PRIMARY KEY, v bytea NOT NULL); COMMIT";
    return conn.Exec(sql, "create table " + cfg_.table);
  }

  const PgConfig cfg_;
  ConnPool pool_;
};

PgTxn::~PgTxn() { engine_->Release(std::move(conn_)); }

Result<PgResult> PgTxn::Query(Stmt stmt) {
  RETURN_IF_ERROR(failed_);
  if (begun_) {
    auto results = conn_->Run({&stmt, 1});
    if (!results.has_value()) {
      failed_ = Conflicted(results.error());
      return Err(failed_);
    }
    return std::move((*results)[0]);
  }
  auto deadline = Clock::now() + kRetryFor;
  for (;;) {
    Stmt pair[] = {{BeginSql(), {}}, stmt};
    auto results = conn_->Run(pair);
    if (results.has_value()) {
      begun_ = true;
      return std::move((*results)[1]);
    }
    if (results.error().code() != Code::kUnavailable || Clock::now() >= deadline) {
      failed_ = results.error();
      return Err(failed_);
    }
    engine_->Release(std::move(conn_));  // broken: frees its slot
    auto conn = engine_->Acquire(deadline);
    if (!conn.has_value()) {
      failed_ = conn.error();
      return Err(failed_);
    }
    conn_ = std::move(*conn);
  }
}

}  // namespace

Result<std::unique_ptr<Engine>> NewPostgresEngine(const Url& url) {
  if (url.scheme != "postgres" && url.scheme != "postgresql") {
    return Err(Code::kInvalid, "'" + url.Redacted() + "' is not a postgres:// URL");
  }
  ASSIGN_OR_RETURN(PgConfig cfg, ParseConfig(url));
  auto engine = std::make_unique<PostgresEngine>(std::move(cfg));
  RETURN_IF_ERROR(engine->Open());
  return engine;
}

}  // namespace tessera::kv
