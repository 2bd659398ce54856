// The Redis engine: the key-value store in one database of a Redis server,
// shared by every client that opens the same URL:
//
//   redis://[[user]:password@]host[:port][/db][?timeout=30&connect_timeout=5&retry=10&pool=16]
//
// with the defaults shown: timeouts per command and per connect, how long
// to keep reconnecting (seconds), and the most connections kept. A password
// alone is sent as AUTH password; with a user, as AUTH user password.
//
// Layout. The value of key K is the Redis string "v:"K; the sorted set
// "tessera:index" holds every K with score 0, so ZRANGEBYLEX (which compares
// with memcmp) yields the bytewise-ordered ranges Scan needs; the integer
// "tessera:version" counts write commits. User keys all live under "v:", so
// they never collide with the other two. The engine owns its database:
// Reset() is FLUSHDB.
//
// Transactions are optimistic and serializable. A Txn holds no connection and
// no server state. Its writes wait in the Txn (its reads see them, Scan
// included) until Commit sends them in one Lua script. Every read is a Lua
// script too, so each runs atomically, and each returns the version it saw:
//   - A read passes the version of the Txn's earlier reads and, if the
//     server's version has moved since, first checks that everything read so
//     far still reads the same (point reads: the same value, or still absent;
//     scans: the same query returns the same keys and values), or fails with
//     kConflict. All reads of a Txn thus agree with one state of the database:
//     the function that RunTxn runs never sees a torn state, and a Txn that
//     wrote nothing (read-only ones included) commits without a round trip.
//   - Commit runs the same check, and only when it passes applies the writes:
//     each DeleteRange (every key in the range as of commit, read or not),
//     then the sets and deletes, and increments the version. Otherwise it
//     applies nothing and returns kConflict, which RunTxn retries.
// A read sends the read set along (so that a moved version costs no extra
// round trip) while it is at most kInlineReadSetBytes; a bigger one is sent
// only when the server answers "stale". Scans go in pages of kScanPage keys.
//
// Connections: a bounded pool; a call takes one for one round trip. Before
// reuse an idle connection is polled: one the server closed (a restart) is
// dropped and a new one made. Reads and Reset reconnect and retry with
// backoff for up to ?retry= seconds, then fail with kUnavailable. A commit is
// retried only when it surely did not run (no connection, not fully sent, or
// an error reply such as LOADING); once sent, a lost reply or a timeout makes
// its outcome unknown: kUnavailable, never re-sent. Scripts are loaded once
// (SCRIPT LOAD) and run with EVALSHA; after a restart NOSCRIPT falls back to
// EVAL, which caches them again.
//
// Limits: every key is stored twice (index member and key name); one commit
// is one script, so a DeleteRange of millions of keys blocks the server while
// it runs; no TLS (hiredis 0.14), Cluster or Sentinel. Durability is the
// server's (appendfsync): Sync() does nothing.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>

#include "common/logging.h"
#include "kv/engine.h"

namespace tessera::kv {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kScanPage = 1000;
constexpr size_t kInlineReadSetBytes = 64 << 10;
constexpr auto kFirstBackoff = std::chrono::milliseconds(20);
constexpr auto kMaxBackoff = std::chrono::milliseconds(1000);

// Shared by the scripts. ARGV is read in order through nxt(). A read set is
// P, then P x (key, "1"|"0" present, value), then R, then R x (begin, end,
// "1"|"0" has end, limit, N, N x (key, value)).
constexpr std::string_view kLuaPrelude = R"lua(
local IDX, VER = 'tessera:index', 'tessera:version'
local i = 1
local function nxt() i = i + 1; return ARGV[i - 1] end
local function get(k) return redis.call('GET', 'v:' .. k) end
local function upper(e, has) if has == '1' then return '(' .. e end return '+' end
local function range(b, e, has, limit)
  if limit == '0' then return redis.call('ZRANGEBYLEX', IDX, '[' .. b, upper(e, has)) end
  return redis.call('ZRANGEBYLEX', IDX, '[' .. b, upper(e, has), 'LIMIT', 0, limit)
end
local function valid()
  for _ = 1, tonumber(nxt()) do
    local k = nxt() local present = nxt() local v = nxt()
    local now = get(k)
    if (present == '1' and now ~= v) or (present == '0' and now) then return false end
  end
  for _ = 1, tonumber(nxt()) do
    local b = nxt() local e = nxt() local has = nxt() local limit = nxt()
    local keys = range(b, e, has, limit)
    local n = tonumber(nxt())
    if #keys ~= n then return false end
    for j = 1, n do
      local k = nxt() local v = nxt()
      if keys[j] ~= k or get(k) ~= v then return false end
    end
  end
  return true
end
-- ARGV: the version the earlier reads saw ('' if none), the read set's length
-- (-1: not sent), the read set, then the script's own arguments.
local g = redis.call('GET', VER) or '0'
local g0 = nxt()
local len = tonumber(nxt())
local moved = g0 ~= '' and g ~= g0
)lua";

// Then: "get", keys... -> {"ok", version, value|nil...}
//    or "scan", begin, end, has end, limit -> {"ok", version, key, value, ...}
constexpr std::string_view kLuaRead = R"lua(
if moved then
  if len < 0 then return {'stale'} end
  if not valid() then return {'conflict'} end
end
i = 3 + math.max(len, 0)
local out = {'ok', g}
if nxt() == 'get' then
  while i <= #ARGV do out[#out + 1] = get(nxt()) end
else
  local b = nxt() local e = nxt() local has = nxt() local limit = nxt()
  for _, k in ipairs(range(b, e, has, limit)) do
    out[#out + 1] = k
    out[#out + 1] = get(k)
  end
end
return out
)lua";

// Then: D, D x (begin, end, has end), W, W x (key, "s"|"d", value) -> {"ok"}
constexpr std::string_view kLuaCommit = R"lua(
if moved and not valid() then return {'conflict'} end
i = 3 + len
for _ = 1, tonumber(nxt()) do
  local b = nxt() local e = nxt() local has = nxt()
  local keys = range(b, e, has, '0')
  for _, k in ipairs(keys) do redis.call('DEL', 'v:' .. k) end
  if #keys > 0 then redis.call('ZREMRANGEBYLEX', IDX, '[' .. b, upper(e, has)) end
end
for _ = 1, tonumber(nxt()) do
  local k = nxt() local op = nxt() local v = nxt()
  if op == 's' then
    redis.call('SET', 'v:' .. k, v)
    redis.call('ZADD', IDX, 0, k)
  else
    redis.call('DEL', 'v:' .. k)
    redis.call('ZREM', IDX, k)
  end
end
redis.call('INCR', VER)
return {'ok'}
)lua";

// Empties the database but keeps the version counter moving forward, so that
// no transaction begun before the reset can mistake the new state for the old.
constexpr std::string_view kLuaReset = R"lua(
redis.call('FLUSHDB')
redis.call('SET', VER, g)
redis.call('INCR', VER)
return {'ok'}
)lua";

struct RedisOptions {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string user;
  std::string password;
  double connect_timeout_s = 5;
  double timeout_s = 30;  // per command
  double retry_s = 10;    // how long reads keep reconnecting
  int pool_size = 16;
  std::string name;  // "redis host:port[/db]": the start of every message
};

// --- URL ---

// A whole decimal number in [lo, hi].
bool ParseInt(std::string_view text, int lo, int hi, int* out) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    return false;
  }
  *out = v;
  return true;
}

Result<double> ParseSeconds(std::string_view text, const Url& url) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0 || v > 86400) {
    return Err(Code::kInvalid,
               "bad number of seconds '" + std::string(text) + "' in '" + url.Redacted() + "'");
  }
  return v;
}

Status ParseQuery(const Url& url, RedisOptions* o) {
  std::string_view query = url.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    if (name == "timeout") {
      ASSIGN_OR_RETURN(o->timeout_s, ParseSeconds(value, url));
    } else if (name == "connect_timeout") {
      ASSIGN_OR_RETURN(o->connect_timeout_s, ParseSeconds(value, url));
    } else if (name == "retry") {
      ASSIGN_OR_RETURN(o->retry_s, ParseSeconds(value, url));
    } else if (name == "pool") {
      if (!ParseInt(value, 1, 1024, &o->pool_size)) {
        return Err(Code::kInvalid, "bad pool size '" + std::string(value) + "' in '" +
                                       url.Redacted() + "' (1-1024)");
      }
    } else {
      return Err(Code::kInvalid, "unknown option '" + std::string(param) + "' in '" +
                                     url.Redacted() +
                                     "'; supported: timeout=SECONDS, connect_timeout=SECONDS, "
                                     "retry=SECONDS, pool=N");
    }
  }
  if (o->timeout_s == 0 || o->connect_timeout_s == 0) {
    return Err(Code::kInvalid, "timeouts must be above 0 in '" + url.Redacted() + "'");
  }
  return Status::Ok();
}

// Host, port and database; IPv6 hosts in brackets ("[::1]:6379") too.
Status ParseAddress(const Url& url, RedisOptions* o) {
  o->host = url.host;
  o->port = url.port != 0 ? url.port : 6379;
  if (o->host.find(',') != std::string::npos) {
    return Err(Code::kInvalid, "'" + url.Redacted() +
                                   "' names several hosts; the redis engine takes one "
                                   "(no Sentinel or Cluster)");
  }
  if (o->host.starts_with('[')) {  // ParseUrl leaves "[v6]:port" whole
    size_t close = o->host.find(']');
    std::string_view rest =
        close == std::string::npos ? "?" : std::string_view(o->host).substr(close + 1);
    if (!rest.empty() && !(rest.starts_with(':') && ParseInt(rest.substr(1), 1, 65535, &o->port))) {
      return Err(Code::kInvalid, "bad host or port in '" + url.Redacted() + "'");
    }
    o->host = o->host.substr(1, close - 1);
  }
  std::string_view db = url.path;
  if (db.starts_with('/')) db.remove_prefix(1);
  if (!db.empty() && !ParseInt(db, 0, 1 << 20, &o->db)) {
    return Err(Code::kInvalid, "the database in '" + url.Redacted() +
                                   "' must be a number, as in redis://host:6379/1");
  }
  if (o->port < 1 || o->port > 65535) {
    return Err(Code::kInvalid, "bad port in '" + url.Redacted() + "'");
  }
  return Status::Ok();
}

Result<RedisOptions> ParseRedisUrl(const Url& url) {
  if (url.scheme == "rediss") {
    return Err(Code::kNotSupported,
               "'" + url.Redacted() +
                   "': rediss:// (TLS) is not supported: this build's hiredis 0.14 has no TLS; "
                   "use redis:// on a trusted network or through a TLS tunnel such as stunnel");
  }
  if (url.scheme != "redis") {
    return Err(Code::kInvalid, "'" + url.Redacted() + "' is not a redis:// URL");
  }
  RedisOptions o;
  RETURN_IF_ERROR(ParseAddress(url, &o));
  RETURN_IF_ERROR(ParseQuery(url, &o));
  o.user = url.user;
  o.password = url.password;
  if (!o.user.empty() && o.password.empty()) {
    return Err(Code::kInvalid, "'" + url.Redacted() + "' has a user but no password; use " +
                                   "redis://user:password@host:port/db");
  }
  bool v6 = o.host.find(':') != std::string::npos;
  o.name = "redis " + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port) +
           (o.db != 0 ? "/" + std::to_string(o.db) : "");
  return o;
}

// --- Replies and errors ---

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string_view Text(const redisReply* r) { return {r->str, r->len}; }

bool IsString(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

std::string Seconds(double s) {
  std::string text = std::to_string(s);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.ends_with('.')) text.pop_back();
  return text + " s";
}

// An error reply of the server, as a Status. kUnavailable means "try again".
Status ServerError(const RedisOptions& o, std::string_view op, std::string_view msg) {
  auto is = [&](std::string_view prefix) { return msg.starts_with(prefix); };
  std::string where = o.name + ": " + std::string(op) + ": ";
  if (is("LOADING") || is("BUSY") || is("TRYAGAIN") || is("MASTERDOWN")) {
    return Status::Unavailable(where + std::string(msg));
  }
  if (is("NOAUTH")) {
    return Status(Code::kAccess, o.name + ": the server requires a password — put it in the URL: " +
                                     "redis://[user:]PASSWORD@host:port/db");
  }
  if (is("WRONGPASS") || is("ERR invalid password") || is("ERR invalid username")) {
    return Status(Code::kAccess, o.name + ": wrong user or password — check the URL");
  }
  if (is("ERR AUTH") || is("ERR Client sent AUTH")) {
    return Status(Code::kAccess, o.name + ": the URL has a password but the server has none " +
                                     "set — remove it from the URL or set one on the server");
  }
  if (is("NOPERM")) {
    return Status(Code::kAccess, where + std::string(msg) +
                                     " (the engine needs every command on every key of its db)");
  }
  if (is("OOM")) return Status(Code::kNoSpace, where + "the server is out of memory (maxmemory)");
  if (is("READONLY")) {
    return Status(Code::kAccess, o.name + ": the server is a read-only replica — use the primary");
  }
  if (is("ERR DB index is out of range")) {
    return Status::Invalid(o.name + ": no database " + std::to_string(o.db) +
                           " on the server (see 'databases' in its redis.conf)");
  }
  return Status::IO(where + std::string(msg));
}

// Why a connection attempt failed, with what to check.
Status ConnectError(const RedisOptions& o, const redisContext* c) {
  std::string_view err = c->errstr;
  if (err.find("refused") != std::string_view::npos) {
    return Status::Unavailable(o.name + ": connection refused — is redis-server running?");
  }
  if (err.find("timed out") != std::string_view::npos) {
    return Status::Unavailable(o.name + ": no answer within " + Seconds(o.connect_timeout_s) +
                               " — is the host up and the port right?");
  }
  if (err.find("not known") != std::string_view::npos ||
      err.find("name resolution") != std::string_view::npos) {
    return Status::Unavailable(o.name + ": cannot resolve host '" + o.host +
                               "': " + std::string(err));
  }
  return Status::Unavailable(o.name + ": cannot connect: " + std::string(err));
}

timeval ToTimeval(double seconds) {
  auto us = static_cast<int64_t>(seconds * 1e6);
  return timeval{.tv_sec = static_cast<time_t>(us / 1'000'000),
                 .tv_usec = static_cast<suseconds_t>(us % 1'000'000)};
}

// --- Connections ---

// One connection, used by one thread at a time. After a transport failure it
// is broken and must be dropped.
class Conn {
 public:
  static Result<std::unique_ptr<Conn>> Open(const RedisOptions& o) {
    redisContext* c =
        redisConnectWithTimeout(o.host.c_str(), o.port, ToTimeval(o.connect_timeout_s));
    if (c == nullptr) return Err(Code::kNoSpace, o.name + ": out of memory for a connection");
    auto conn = std::unique_ptr<Conn>(new Conn(c, o));
    if (c->err != 0) return Err(ConnectError(o, c));
    if (redisSetTimeout(c, ToTimeval(o.timeout_s)) != REDIS_OK ||
        redisEnableKeepAlive(c) != REDIS_OK) {
      return Err(ConnectError(o, c));
    }
    if (!o.password.empty()) {
      std::vector<std::string_view> auth = {"AUTH"};
      if (!o.user.empty()) auth.push_back(o.user);
      auth.push_back(o.password);
      RETURN_IF_ERROR(conn->CallChecked(auth, "AUTH"));
    }
    if (o.db != 0) {
      std::string db = std::to_string(o.db);
      RETURN_IF_ERROR(conn->CallChecked(std::vector<std::string_view>{"SELECT", db}, "SELECT"));
    }
    return conn;
  }

  ~Conn() { redisFree(ctx_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Sends one command and reads its reply, error replies included. A
  // transport failure breaks the connection; sent() then says whether the
  // whole command had gone out (so the server may have run it).
  Result<Reply> Call(std::span<const std::string_view> argv) {
    std::vector<const char*> ptrs(argv.size());
    std::vector<size_t> lens(argv.size());
    for (size_t i = 0; i < argv.size(); ++i) {
      ptrs[i] = argv[i].data() != nullptr ? argv[i].data() : "";
      lens[i] = argv[i].size();
    }
    sent_ = false;
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()) !=
        REDIS_OK) {
      return Err(TransportError());
    }
    for (int done = 0; done == 0;) {
      if (redisBufferWrite(ctx_, &done) != REDIS_OK) return Err(TransportError());
    }
    sent_ = true;
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) return Err(TransportError());
    return Reply(static_cast<redisReply*>(raw));
  }

  // Call, with an error reply turned into a Status.
  Result<Reply> CallChecked(std::span<const std::string_view> argv, std::string_view op) {
    ASSIGN_OR_RETURN(Reply reply, Call(argv));
    if (reply->type == REDIS_REPLY_ERROR) return Err(ServerError(opts_, op, Text(reply.get())));
    return reply;
  }

  bool broken() const { return broken_; }
  bool sent() const { return sent_; }

  // False when the connection broke, or the server closed it while it sat
  // idle (an idle connection has nothing to read).
  bool Usable() const {
    if (broken_) return false;
    pollfd p{.fd = ctx_->fd, .events = POLLIN, .revents = 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  Conn(redisContext* ctx, const RedisOptions& opts) : ctx_(ctx), opts_(opts) {}

  Status TransportError() {
    broken_ = true;
    std::string_view err = ctx_->errstr;
    if (ctx_->err == REDIS_ERR_EOF) {
      return Status::Unavailable(opts_.name + ": the server closed the connection");
    }
    if (err.find("temporarily unavailable") != std::string_view::npos) {
      return Status::Unavailable(opts_.name + ": no reply within " + Seconds(opts_.timeout_s) +
                                 " (raise ?timeout= if the server is just slow)");
    }
    return Status::Unavailable(opts_.name + ": connection lost: " + std::string(err));
  }

  redisContext* ctx_;
  const RedisOptions& opts_;
  bool broken_ = false;
  bool sent_ = false;
};

// Open connections waiting for a call; at most opts.pool_size exist at once.
class ConnPool {
 public:
  explicit ConnPool(const RedisOptions& opts) : opts_(opts) {}

  // An idle usable connection, a new one while fewer than the maximum exist, or else waits.
  Result<std::unique_ptr<Conn>> Acquire() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return !idle_.empty() || open_ < opts_.pool_size; });
      if (idle_.empty()) break;
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->Usable()) return conn;
      --open_;  // closed by the server: drop it and look again
    }
    ++open_;
    lock.unlock();
    auto conn = Conn::Open(opts_);
    if (!conn.has_value()) Release(nullptr);
    return conn;
  }

  // Returns a connection for reuse; nullptr gives up its slot (a broken connection).
  void Release(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mu_);
    if (conn != nullptr && !conn->broken()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
    cv_.notify_one();
  }

 private:
  const RedisOptions& opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int open_ = 0;                             // guarded by mu_
};

// The arguments of one script call: views of strings that outlive the call,
// plus strings the Args owns (numbers). Not copyable: the views point into it.
class Args {
 public:
  Args() = default;
  Args(const Args&) = delete;
  Args& operator=(const Args&) = delete;

  void Add(std::string_view s) { views_.push_back(s); }
  void Own(std::string s) { views_.push_back(owned_.emplace_back(std::move(s))); }
  void Own(size_t n) { Own(std::to_string(n)); }
  std::span<const std::string_view> views() const { return views_; }

 private:
  std::deque<std::string> owned_;  // a deque keeps its elements in place
  std::vector<std::string_view> views_;
};

struct Script {
  std::string_view name;  // for messages
  std::string body;
  std::string sha;  // from SCRIPT LOAD
};

enum class Resend { kAllowed, kOnlyIfNotSent };

// The pool, the scripts and the retry policy, shared by the engine and its
// transactions. Safe for concurrent use.
class Client {
 public:
  explicit Client(RedisOptions opts)
      : opts_(std::move(opts)),
        pool_(opts_),
        read_{"read", std::string(kLuaPrelude) + std::string(kLuaRead), ""},
        commit_{"commit", std::string(kLuaPrelude) + std::string(kLuaCommit), ""},
        reset_{"reset", std::string(kLuaPrelude) + std::string(kLuaReset), ""} {}

  // Connects once (no retries: a wrong URL should fail at once) and loads the scripts.
  Status Start() {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    Status st;
    for (Script* s : {&read_, &commit_, &reset_}) {
      auto reply = conn->CallChecked(std::vector<std::string_view>{"SCRIPT", "LOAD", s->body},
                                     "SCRIPT LOAD");
      if (!reply.has_value()) {
        st = reply.error();
        break;
      }
      if (!IsString(reply->get())) {
        st = Status::Corrupt(opts_.name + ": unexpected reply to SCRIPT LOAD");
        break;
      }
      s->sha.assign(Text(reply->get()));
    }
    pool_.Release(std::move(conn));
    return st;
  }

  const RedisOptions& opts() const { return opts_; }
  const Script& read() const { return read_; }
  const Script& commit() const { return commit_; }
  const Script& reset() const { return reset_; }

  // Runs `script` with `args`, reconnecting and retrying for up to
  // opts.retry_s while the server is unreachable or busy. With
  // kOnlyIfNotSent, a call whose reply was lost is not sent again.
  Result<Reply> Eval(const Script& script, const Args& args, Resend resend) {
    auto deadline = Clock::now() + std::chrono::duration<double>(opts_.retry_s);
    std::chrono::duration<double> backoff = kFirstBackoff;
    for (;;) {
      bool unknown = false;
      auto reply = TryEval(script, args, &unknown);
      if (reply.has_value()) {
        NoteUp();
        return reply;
      }
      const Status& st = reply.error();
      if (unknown && resend == Resend::kOnlyIfNotSent) {
        return Err(Status::Unavailable(st.message() + "; the " + std::string(script.name) +
                                       "'s outcome is unknown (it may have been applied)"));
      }
      if (st.code() != Code::kUnavailable) return reply;
      NoteDown(st);
      if (Clock::now() + backoff > deadline) {
        return Err(Status::Unavailable(st.message() + " (gave up after retrying for " +
                                       Seconds(opts_.retry_s) + ")"));
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::duration<double>>(backoff * 2, kMaxBackoff);
    }
  }

 private:
  // One attempt on a pooled connection. *unknown: the call was sent but its
  // reply was lost, so the server may have run it.
  Result<Reply> TryEval(const Script& script, const Args& args, bool* unknown) {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    auto reply = EvalOn(*conn, script, args);
    *unknown = conn->broken() && conn->sent();
    pool_.Release(std::move(conn));
    return reply;
  }

  // EVALSHA, or EVAL when the server does not have the script (it restarted).
  Result<Reply> EvalOn(Conn& conn, const Script& script, const Args& args) {
    std::vector<std::string_view> argv = {"EVALSHA", script.sha, "0"};
    argv.insert(argv.end(), args.views().begin(), args.views().end());
    ASSIGN_OR_RETURN(Reply reply, conn.Call(argv));
    if (reply->type == REDIS_REPLY_ERROR && Text(reply.get()).starts_with("NOSCRIPT")) {
      argv[0] = "EVAL";
      argv[1] = script.body;
      ASSIGN_OR_RETURN(reply, conn.Call(argv));
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      return Err(ServerError(opts_, script.name, Text(reply.get())));
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0 || !IsString(reply->element[0])) {
      return Err(Status::Corrupt(opts_.name + ": unexpected reply to the " +
                                 std::string(script.name) + " script"));
    }
    return reply;
  }

  void NoteDown(const Status& st) {
    if (!down_.exchange(true)) {
      TLOG(kWarn) << st.message() << " (retrying for up to " << Seconds(opts_.retry_s) << ")";
    }
  }
  void NoteUp() {
    if (down_.load(std::memory_order_relaxed) && down_.exchange(false)) {
      TLOG(kInfo) << opts_.name << ": reachable again";
    }
  }

  const RedisOptions opts_;
  ConnPool pool_;
  Script read_, commit_, reset_;
  std::atomic<bool> down_{false};
};

// --- Transactions ---

// Half-open key ranges [begin, end) ("" end: no upper bound), kept sorted and disjoint.
class RangeSet {
 public:
  struct Range {
    std::string begin, end;
  };

  void Add(std::string_view begin, std::string_view end) {
    if (!end.empty() && begin >= end) return;
    Range merged{std::string(begin), std::string(end)};
    std::vector<Range> out;
    for (auto& r : ranges_) {
      bool touches =
          (merged.end.empty() || r.begin <= merged.end) && (r.end.empty() || merged.begin <= r.end);
      if (!touches) {
        out.push_back(std::move(r));
        continue;
      }
      merged.begin = std::min(merged.begin, r.begin);
      merged.end = merged.end.empty() || r.end.empty() ? "" : std::max(merged.end, r.end);
    }
    auto pos = std::find_if(out.begin(), out.end(),
                            [&](const Range& r) { return r.begin > merged.begin; });
    out.insert(pos, std::move(merged));
    ranges_ = std::move(out);
  }

  bool Contains(std::string_view key) const {
    for (const auto& r : ranges_) {
      if (r.begin <= key && (r.end.empty() || key < r.end)) return true;
    }
    return false;
  }

  // The parts of [begin, end) that no range covers, in order.
  std::vector<Range> Gaps(std::string_view begin, std::string_view end) const {
    std::vector<Range> gaps;
    std::string cur(begin);
    for (const auto& r : ranges_) {
      if (!end.empty() && r.begin >= end) break;
      if (!r.end.empty() && r.end <= cur) continue;
      if (r.begin > cur) gaps.push_back({cur, r.begin});
      if (r.end.empty()) return gaps;
      cur = std::max(cur, r.end);
    }
    if (end.empty() || cur < end) gaps.push_back({cur, std::string(end)});
    return gaps;
  }

  const std::vector<Range>& ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }

 private:
  std::vector<Range> ranges_;
};

// A scan the server answered: the query and the rows it returned.
struct RangeRead {
  std::string begin, end;  // end "": no upper bound
  size_t limit;
  std::vector<KeyValue> rows;
};

class RedisTxn final : public Txn {
 public:
  RedisTxn(Client* client, bool read_only) : client_(client), read_only_(read_only) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(auto values, BatchGet({std::string(key)}));
    return std::move(values[0]);
  }

  Result<std::vector<std::optional<std::string>>> BatchGet(
      const std::vector<std::string>& keys) override {
    std::set<std::string_view> missing;
    for (const auto& key : keys) {
      if (Known(key) == nullptr) missing.insert(key);
    }
    if (!missing.empty()) RETURN_IF_ERROR(FetchPoints(missing));
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (const auto& key : keys) out.push_back(*Known(key));
    return out;
  }

  Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                     size_t limit) override {
    std::vector<KeyValue> out;
    if (!end.empty() && begin >= end) return out;
    auto full = [&] { return limit != 0 && out.size() >= limit; };
    // The Txn's own writes in [begin, end) go in between the server's rows.
    auto next = writes_.lower_bound(begin);
    auto last = end.empty() ? writes_.end() : writes_.lower_bound(end);
    auto writes_before = [&](const std::string* bound) {  // nullptr: all
      for (; next != last && !full() && (bound == nullptr || next->first < *bound); ++next) {
        if (next->second.has_value()) out.emplace_back(next->first, *next->second);
      }
    };
    for (const auto& gap : deleted_.Gaps(begin, end)) {
      writes_before(&gap.begin);
      std::string cursor = gap.begin;
      for (;;) {
        if (full()) return out;
        size_t want = kScanPage;
        if (limit != 0) want = std::min(want, limit - out.size() + writes_.size());
        ASSIGN_OR_RETURN(size_t index, FetchRange(cursor, gap.end, want));
        const auto& rows = range_reads_[index].rows;
        for (const auto& [key, value] : rows) {
          writes_before(&key);
          if (full()) return out;
          if (next != last && next->first == key) {
            if (next->second.has_value()) out.emplace_back(key, *next->second);
            ++next;
          } else {
            out.emplace_back(key, value);
          }
        }
        if (rows.size() < want) break;
        cursor = rows.back().first + '\0';  // the first key after the last row
      }
    }
    writes_before(nullptr);
    return out;
  }

  Status Set(std::string_view key, std::string_view value) override {
    RETURN_IF_ERROR(CheckWritable());
    writes_.insert_or_assign(std::string(key), std::string(value));
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckWritable());
    writes_.insert_or_assign(std::string(key), std::nullopt);
    return Status::Ok();
  }

  // Buffered as a range: the commit deletes every key in it as of then.
  Status DeleteRange(std::string_view begin, std::string_view end) override {
    RETURN_IF_ERROR(CheckWritable());
    auto first = writes_.lower_bound(begin);
    writes_.erase(first, end.empty() ? writes_.end() : writes_.lower_bound(end));
    deleted_.Add(begin, end);
    return Status::Ok();
  }

  // Applies the writes if nothing the Txn read has changed. A Txn that wrote
  // nothing is done: its reads already agree with one state of the database.
  Status Finish() {
    if (writes_.empty() && deleted_.empty()) return Status::Ok();
    Args args;
    AddReadSet(&args, true);
    args.Own(deleted_.ranges().size());
    for (const auto& r : deleted_.ranges()) AddRange(&args, r.begin, r.end);
    args.Own(writes_.size());
    for (const auto& [key, value] : writes_) {
      args.Add(key);
      args.Add(value.has_value() ? "s" : "d");
      args.Add(value.has_value() ? std::string_view(*value) : "");
    }
    ASSIGN_OR_RETURN(Reply reply, client_->Eval(client_->commit(), args, Resend::kOnlyIfNotSent));
    std::string_view status = Text(reply->element[0]);
    if (status == "conflict") return Conflict();
    if (status != "ok") return BadReply();
    return Status::Ok();
  }

 private:
  // The value the Txn already knows for `key` (its own write, or an earlier
  // read), or nullptr when the server must be asked.
  const std::optional<std::string>* Known(std::string_view key) const {
    if (auto it = writes_.find(key); it != writes_.end()) return &it->second;
    if (deleted_.Contains(key)) return &absent_;
    if (auto it = point_reads_.find(key); it != point_reads_.end()) return &it->second;
    return nullptr;
  }

  Status FetchPoints(const std::set<std::string_view>& keys) {
    ASSIGN_OR_RETURN(Reply reply, Read([&](Args* args) {
                       args->Add("get");
                       for (auto key : keys) args->Add(key);
                     }));
    if (reply->elements != 2 + keys.size()) return BadReply();
    size_t i = 2;
    for (auto key : keys) {
      const redisReply* r = reply->element[i++];
      std::optional<std::string> value;
      if (r->type != REDIS_REPLY_NIL) {
        if (!IsString(r)) return BadReply();
        value.emplace(Text(r));
      }
      read_set_bytes_ += key.size() + (value ? value->size() : 0);
      point_reads_.emplace(std::string(key), std::move(value));
    }
    return Status::Ok();
  }

  // Asks for at most `limit` rows of [begin, end); returns the index of the
  // new entry of range_reads_ that holds them.
  Result<size_t> FetchRange(std::string_view begin, std::string_view end, size_t limit) {
    ASSIGN_OR_RETURN(Reply reply, Read([&](Args* args) {
                       args->Add("scan");
                       AddRange(args, begin, end);
                       args->Own(limit);
                     }));
    RangeRead range{std::string(begin), std::string(end), limit, {}};
    if (reply->elements % 2 != 0 || (reply->elements - 2) / 2 > limit) return BadReply();
    for (size_t i = 2; i < reply->elements; i += 2) {
      const redisReply* k = reply->element[i];
      const redisReply* v = reply->element[i + 1];
      if (!IsString(k) || !IsString(v)) {
        return Err(Status::Corrupt(client_->opts().name + ": key in the index without a value"));
      }
      range.rows.emplace_back(Text(k), Text(v));
      read_set_bytes_ += k->len + v->len;
    }
    range_reads_.push_back(std::move(range));
    return range_reads_.size() - 1;
  }

  // Runs the read script with the arguments `add_op` adds, after the read
  // set (inline while small). Returns {"ok", version, data...}.
  Result<Reply> Read(const std::function<void(Args*)>& add_op) {
    bool send_reads = read_set_bytes_ <= kInlineReadSetBytes;
    for (int attempt = 0; attempt < 2; ++attempt, send_reads = true) {
      Args args;
      AddReadSet(&args, send_reads);
      add_op(&args);
      ASSIGN_OR_RETURN(Reply reply, client_->Eval(client_->read(), args, Resend::kAllowed));
      std::string_view status = Text(reply->element[0]);
      if (status == "conflict") return Err(Conflict());
      if (status == "stale") continue;
      if (status != "ok" || reply->elements < 2 || !IsString(reply->element[1])) break;
      version_.assign(Text(reply->element[1]));
      return reply;
    }
    return BadReply();
  }

  // The version the reads saw, the read set's length in arguments, and the
  // read set (when `send`; else length -1).
  void AddReadSet(Args* args, bool send) const {
    args->Add(version_);
    if (!send) {
      args->Add("-1");
      return;
    }
    size_t len = 2 + 3 * point_reads_.size();
    for (const auto& r : range_reads_) len += 5 + 2 * r.rows.size();
    args->Own(len);
    args->Own(point_reads_.size());
    for (const auto& [key, value] : point_reads_) {
      args->Add(key);
      args->Add(value.has_value() ? "1" : "0");
      args->Add(value.has_value() ? std::string_view(*value) : "");
    }
    args->Own(range_reads_.size());
    for (const auto& r : range_reads_) {
      AddRange(args, r.begin, r.end);
      args->Own(r.limit);
      args->Own(r.rows.size());
      for (const auto& [key, value] : r.rows) {
        args->Add(key);
        args->Add(value);
      }
    }
  }

  static void AddRange(Args* args, std::string_view begin, std::string_view end) {
    args->Add(begin);
    args->Add(end);
    args->Add(end.empty() ? "0" : "1");
  }

  Status CheckWritable() const {
    if (read_only_) {
      return Status::Invalid("write in a read-only transaction on " + client_->opts().name);
    }
    return Status::Ok();
  }

  Status Conflict() const {
    return Status::Conflict(client_->opts().name +
                            ": a concurrent transaction changed what this one read");
  }

  std::unexpected<Status> BadReply() const {
    return Err(Status::Corrupt(client_->opts().name + ": malformed reply from the server"));
  }

  Client* client_;
  const bool read_only_;
  std::string version_;  // "" until the first read
  std::map<std::string, std::optional<std::string>, std::less<>> point_reads_;
  std::vector<RangeRead> range_reads_;
  size_t read_set_bytes_ = 0;
  std::map<std::string, std::optional<std::string>, std::less<>> writes_;  // nullopt: delete
  RangeSet deleted_;
  const std::optional<std::string> absent_;  // what Known says for a deleted key
};

class RedisEngine final : public Engine {
 public:
  explicit RedisEngine(RedisOptions opts) : client_(std::move(opts)) {}

  std::string Name() const override { return "redis"; }

  // No round trip: a Txn has no server state until it reads.
  Result<std::unique_ptr<Txn>> Begin(bool read_only) override {
    return std::make_unique<RedisTxn>(&client_, read_only);
  }

  Status Commit(std::unique_ptr<Txn> txn) override {
    auto* redis_txn = dynamic_cast<RedisTxn*>(txn.get());
    CHECK(redis_txn != nullptr);
    return redis_txn->Finish();
  }

  void Abort(std::unique_ptr<Txn> txn) override { txn.reset(); }

  // FLUSHDB: the engine owns its database.
  Status Reset() override {
    Args args;
    args.Add("");
    args.Add("-1");
    return internal::ToStatus(client_.Eval(client_.reset(), args, Resend::kAllowed));
  }

  Status Start() { return client_.Start(); }

 private:
  Client client_;
};

}  // namespace

Result<std::unique_ptr<Engine>> NewRedisEngine(const Url& url) {
  ASSIGN_OR_RETURN(RedisOptions opts, ParseRedisUrl(url));
  auto engine = std::make_unique<RedisEngine>(std::move(opts));
  RETURN_IF_ERROR(engine->Start());
  return engine;
}

}  // namespace tessera::kv
