// The etcd engine: keys in an etcd v3 cluster, under a prefix.
//
//   etcd://[user:pass@]host:port[,host:port...]/prefix[?option=value&...]
//
// Options: connect_timeout (seconds, default 5), request_timeout (30),
// retry_for (10: how long a failed request is retried), connections (16
// requests under way at once). A user and password are sent to
// /v3/auth/authenticate; the token it returns goes with every request and is
// renewed when the server rejects it.
//
// Talking to etcd. The engine speaks JSON over HTTP to the gRPC gateway that
// every etcd server since 3.4 serves on its client port (etcd_client.h), not
// gRPC: there is no generated code or .proto file to keep in step with the
// server, libcurl is already a dependency of tessera, and the handful of calls
// the engine makes (range, txn, deleterange, authenticate) are small JSON
// documents. The price is base64 and JSON per request, small next to a round
// trip and etcd's fsync.
//
// Keys. Key K lives in etcd at "<prefix>/K". The prefix is one path segment
// of letters, digits, '.', '_' and '-', so "a/" can never be a prefix of
// "ab/..." nor of "a/b/...": no two volumes see each other's keys. Reset()
// deletes ["<prefix>/", "<prefix>0") with one request.
//
// Transactions are optimistic and serializable. The first read fixes the
// transaction's snapshot, the revision in its answer's header; every later
// read asks for that revision, so the transaction reads one consistent
// snapshot (a revision that etcd has compacted away meanwhile is
// Code::kConflict, and RunTxn starts over on a fresh one). Writes are buffered
// in the Txn; its reads see them, Scan included. Commit sends one /v3/kv/txn
// whose compares check that nothing the transaction read has changed since
// its snapshot, and whose success ops are the buffered writes; if a compare
// fails nothing is applied and Commit returns Code::kConflict. The compares:
//   - each key read from the server (by Get, BatchGet or Scan; a key the
//     transaction wrote before reading it is answered from its buffer):
//     mod_revision == the one read, 0 for a key that was absent (etcd
//     compares a missing key as mod_revision 0). This also catches a key
//     deleted, or deleted and created again, since the snapshot.
//   - each scanned range [begin, end) (cut at the last key returned when a
//     limit stopped the scan): mod_revision < snapshot + 1 over the range,
//     which fails if any key in it was created or changed since. A range
//     compare cannot see a key deleted from the range; the per-key compares
//     of the keys the scan returned do. So at commit time every range holds
//     exactly the keys and values the transaction saw, every key it read
//     holds what it saw, and the commit is as if the whole transaction ran
//     at that instant: serializable (strictly, for writers).
// A transaction that wrote nothing, read-only or not, needs no commit: its
// reads were one snapshot, so it is serializable at the snapshot's revision.
// DeleteRange(begin, end) is one delete-range op at commit, not one op per
// key; keys the transaction sets inside the range afterwards cut it in two,
// as etcd refuses a put and a delete of the same key in one txn.
//
// Limits. etcd refuses a txn of more than --max-txn-ops compares, or of more
// than --max-txn-ops writes (128 each by default), and a request over
// --max-request-bytes (1.5 MiB): the commit then fails as a whole with
// Code::kTooBig and a message naming the limit; nothing is ever half-applied.
// A large Scan is read in pages of kScanPage keys. A write transaction that
// read more than 128 keys from the server (by scanning a big directory, say)
// cannot commit on a server with the default limits.
//
// Connection loss and restarts. Reads retry on every endpoint for retry_for
// (10 s) and then fail with Code::kUnavailable; a commit is retried only
// while no server can have seen it (the connection could not be made, or the
// server said it has no leader). A commit whose request may have reached a
// server without an answer coming back is Code::kUnavailable "commit outcome
// unknown", never re-sent. Connections are re-made as needed, so the engine
// works again as soon as a server answers.
//
// The server should run with --auto-compaction-retention: without it etcd
// keeps every revision until its space quota fills.
#include <algorithm>
#include <charconv>
#include <map>

#include "kv/engine.h"
#include "kv/etcd_client.h"

namespace tessera::kv {
namespace {

using etcd::Compare;
using etcd::Op;

constexpr int64_t kScanPage = 1000;
constexpr std::string_view kDefaultPort = "2379";

// A key range [begin, end); an empty end means no upper bound.
struct KeyRange {
  std::string begin;
  std::string end;
};

// The smallest key after `key`.
std::string NextKey(std::string_view key) { return std::string(key) + '\0'; }

// The lower of two range ends, where "" is no bound.
std::string MinEnd(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  return std::string(std::min(a, b));
}

bool InRange(std::string_view key, const KeyRange& r) {
  return key >= r.begin && (r.end.empty() || key < r.end);
}

// Sorted, with overlapping or touching ranges joined.
std::vector<KeyRange> Merge(std::vector<KeyRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const KeyRange& a, const KeyRange& b) { return a.begin < b.begin; });
  std::vector<KeyRange> out;
  for (auto& r : ranges) {
    if (!out.empty() && (out.back().end.empty() || r.begin <= out.back().end)) {
      if (!out.back().end.empty() && (r.end.empty() || r.end > out.back().end)) {
        out.back().end = std::move(r.end);
      }
    } else {
      out.push_back(std::move(r));
    }
  }
  return out;
}

// Where the engine's keys live in etcd: "<prefix>/<key>".
class Keyspace {
 public:
  explicit Keyspace(const std::string& prefix) : root_(prefix + "/"), end_(PrefixEnd(root_)) {}

  std::string Full(std::string_view key) const { return root_ + std::string(key); }
  // The etcd range end for a range end of ours ("" is no upper bound: the prefix's end).
  std::string FullEnd(std::string_view end) const { return end.empty() ? end_ : Full(end); }
  std::string_view Short(std::string_view full) const { return full.substr(root_.size()); }
  const std::string& root() const { return root_; }
  const std::string& end() const { return end_; }

 private:
  const std::string root_;
  const std::string end_;
};

class EtcdTxn final : public Txn {
 public:
  EtcdTxn(etcd::Client* client, const Keyspace* keys, bool read_only)
      : client_(client), keys_(keys), read_only_(read_only) {}

  Result<std::optional<std::string>> Get(std::string_view key) override {
    if (const auto* own = OwnWrite(key)) return *own;
    ASSIGN_OR_RETURN(auto r, client_->Range(keys_->Full(key), "", snapshot_, 0));
    StartSnapshot(r.revision);
    if (r.kvs.empty()) {
      NoteRead(key, 0);
      return std::nullopt;
    }
    NoteRead(key, r.kvs[0].mod_revision);
    return std::move(r.kvs[0].value);
  }

  Result<std::vector<std::optional<std::string>>> BatchGet(
      const std::vector<std::string>& keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<std::string> remote;
    std::vector<size_t> slots;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (const auto* own = OwnWrite(keys[i])) {
        out[i] = *own;
      } else {
        remote.push_back(keys_->Full(keys[i]));
        slots.push_back(i);
      }
    }
    if (remote.empty()) return out;
    ASSIGN_OR_RETURN(auto results, client_->RangeMany(remote, snapshot_));
    for (size_t j = 0; j < results.size(); ++j) {
      StartSnapshot(results[j].revision);
      auto& kvs = results[j].kvs;
      NoteRead(keys[slots[j]], kvs.empty() ? 0 : kvs[0].mod_revision);
      if (!kvs.empty()) out[slots[j]] = std::move(kvs[0].value);
    }
    return out;
  }

  Result<std::vector<KeyValue>> Scan(std::string_view begin, std::string_view end,
                                     size_t limit) override {
    std::vector<KeyValue> out;
    if (!end.empty() && begin >= end) return out;
    std::vector<KeyRange> spans;                        // the parts read from the server
    std::vector<std::pair<std::string, int64_t>> seen;  // keys the result took from the server
    std::string cursor(begin);
    for (bool done = false; !done;) {
      KeyRange span;
      std::vector<etcd::Kv> kvs;
      if (const KeyRange* gap = DeletedRangeAt(cursor)) {
        span = {cursor, MinEnd(gap->end, end)};  // deleted by this transaction: nothing to read
        done = span.end == end;
      } else {
        int64_t page = kScanPage;
        if (limit > 0) page = std::clamp<int64_t>(limit - out.size(), 1, kScanPage);
        ASSIGN_OR_RETURN(auto r,
                         client_->Range(keys_->Full(cursor), keys_->FullEnd(end), snapshot_, page));
        StartSnapshot(r.revision);
        done = !r.more || r.kvs.empty();
        span = {cursor, done ? std::string(end) : NextKey(keys_->Short(r.kvs.back().key))};
        spans.push_back(span);
        kvs = std::move(r.kvs);
      }
      AppendMerged(std::move(kvs), span, &out, &seen);
      if (limit > 0 && out.size() >= limit) {
        out.resize(limit);
        CutAt(NextKey(out.back().first), &spans, &seen);
        break;
      }
      cursor = std::move(span.end);
    }
    for (const auto& [key, mod] : seen) NoteRead(key, mod);
    for (auto& span : spans) NoteRange(std::move(span));
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

  Status DeleteRange(std::string_view begin, std::string_view end) override {
    RETURN_IF_ERROR(CheckWritable());
    if (!end.empty() && begin >= end) return Status::Ok();
    auto first = writes_.lower_bound(begin);
    auto last = end.empty() ? writes_.end() : writes_.lower_bound(end);
    writes_.erase(first, last);
    deleted_.push_back({std::string(begin), std::string(end)});
    return Status::Ok();
  }

  bool HasWrites() const { return !writes_.empty() || !deleted_.empty(); }

  // The commit's conditions: nothing this transaction read has changed.
  std::vector<Compare> Compares() const {
    std::vector<Compare> out;
    for (const auto& [key, mod] : read_keys_) {
      out.push_back({keys_->Full(key), "", Compare::Result::kEqual, mod});
    }
    for (const KeyRange& r : Merge(read_ranges_)) {
      out.push_back(
          {keys_->Full(r.begin), keys_->FullEnd(r.end), Compare::Result::kLess, snapshot_ + 1});
    }
    return out;
  }

  // The buffered writes as etcd ops: range deletes first (each cut around
  // the keys set inside it after it), then puts and the deletes of keys that
  // no range delete covers.
  std::vector<Op> Ops() const {
    std::vector<Op> out;
    for (const KeyRange& r : Merge(deleted_)) {
      std::string from = r.begin;
      for (auto it = writes_.lower_bound(r.begin); it != writes_.end() && InRange(it->first, r);
           ++it) {
        if (!it->second) continue;  // a delete inside the range: covered by it
        if (from < it->first) out.push_back(DeleteOp(from, it->first));
        from = NextKey(it->first);
      }
      if (r.end.empty() || from < r.end) out.push_back(DeleteOp(from, r.end));
    }
    for (const auto& [key, value] : writes_) {
      if (value) {
        out.push_back({Op::Kind::kPut, keys_->Full(key), *value, ""});
      } else if (!DeletedByRange(key)) {
        out.push_back({Op::Kind::kDeleteRange, keys_->Full(key), "", ""});
      }
    }
    return out;
  }

 private:
  // This transaction's own write to `key` (a value, or nullopt for a
  // delete), or nullptr when it wrote none and the server must be asked.
  const std::optional<std::string>* OwnWrite(std::string_view key) const {
    static const std::optional<std::string> kDeleted;
    auto it = writes_.find(key);
    if (it != writes_.end()) return &it->second;
    return DeletedByRange(key) ? &kDeleted : nullptr;
  }

  bool DeletedByRange(std::string_view key) const { return DeletedRangeAt(key) != nullptr; }

  // The range this transaction deleted that holds `key`, if any.
  const KeyRange* DeletedRangeAt(std::string_view key) const {
    for (const KeyRange& r : deleted_) {
      if (InRange(key, r)) return &r;
    }
    return nullptr;
  }

  // Appends the keys in `span` as this transaction sees them: the server's
  // `kvs` (all inside `span`) less those it wrote, plus those it set. Notes
  // in `seen` the server's keys that the result depends on.
  void AppendMerged(std::vector<etcd::Kv> kvs, const KeyRange& span, std::vector<KeyValue>* out,
                    std::vector<std::pair<std::string, int64_t>>* seen) const {
    std::map<std::string, std::string, std::less<>> merged;
    for (auto& kv : kvs) {
      std::string key(keys_->Short(kv.key));
      if (OwnWrite(key) != nullptr) continue;
      seen->emplace_back(key, kv.mod_revision);
      merged.emplace(std::move(key), std::move(kv.value));
    }
    for (auto it = writes_.lower_bound(span.begin); it != writes_.end() && InRange(it->first, span);
         ++it) {
      if (it->second) merged.insert_or_assign(it->first, *it->second);
    }
    while (!merged.empty()) {
      auto node = merged.extract(merged.begin());
      out->emplace_back(std::move(node.key()), std::move(node.mapped()));
    }
  }

  void StartSnapshot(int64_t revision) {
    if (snapshot_ == 0) snapshot_ = revision;
  }

  void NoteRead(std::string_view key, int64_t mod_revision) {
    if (!read_only_) read_keys_.emplace(std::string(key), mod_revision);
  }

  void NoteRange(KeyRange range) {
    if (!read_only_) read_ranges_.push_back(std::move(range));
  }

  // Drops what a scan read at or past `cut`: a limit stopped it before.
  static void CutAt(const std::string& cut, std::vector<KeyRange>* spans,
                    std::vector<std::pair<std::string, int64_t>>* seen) {
    std::erase_if(*spans, [&](const KeyRange& r) { return r.begin >= cut; });
    for (KeyRange& r : *spans) r.end = MinEnd(r.end, cut);
    std::erase_if(*seen, [&](const auto& kv) { return kv.first >= cut; });
  }

  Op DeleteOp(std::string_view begin, std::string_view end) const {
    return {Op::Kind::kDeleteRange, keys_->Full(begin), "", keys_->FullEnd(end)};
  }

  Status CheckWritable() const {
    if (read_only_) return Status::Invalid("write in a read-only etcd transaction");
    return Status::Ok();
  }

  etcd::Client* const client_;
  const Keyspace* const keys_;
  const bool read_only_;
  int64_t snapshot_ = 0;  // the revision all reads see; 0 until the first read
  std::map<std::string, std::optional<std::string>, std::less<>> writes_;  // nullopt: deleted
  std::vector<KeyRange> deleted_;                          // DeleteRange calls, in order
  std::map<std::string, int64_t, std::less<>> read_keys_;  // key -> mod_revision read (0: absent)
  std::vector<KeyRange> read_ranges_;                      // scanned ranges
};

class EtcdEngine final : public Engine {
 public:
  EtcdEngine(std::unique_ptr<etcd::Client> client, const std::string& prefix)
      : client_(std::move(client)), keys_(prefix), prefix_(prefix) {}

  std::string Name() const override { return "etcd"; }

  Result<std::unique_ptr<Txn>> Begin(bool read_only) override {
    return std::make_unique<EtcdTxn>(client_.get(), &keys_, read_only);
  }

  Status Commit(std::unique_ptr<Txn> txn) override {
    auto* etcd_txn = dynamic_cast<EtcdTxn*>(txn.get());
    CHECK(etcd_txn != nullptr);
    if (!etcd_txn->HasWrites()) return Status::Ok();
    ASSIGN_OR_RETURN(bool applied, client_->Txn(etcd_txn->Compares(), etcd_txn->Ops()));
    if (!applied) {
      return Status::Conflict("etcd prefix '" + prefix_ +
                              "': another commit changed what the transaction read");
    }
    return Status::Ok();
  }

  void Abort(std::unique_ptr<Txn> txn) override { txn.reset(); }

  Status Reset() override { return client_->DeleteRange(keys_.root(), keys_.end()); }

 private:
  std::unique_ptr<etcd::Client> client_;
  const Keyspace keys_;
  const std::string prefix_;
};

// --- The URL ---

struct EtcdConfig {
  etcd::ClientOptions client;
  std::string prefix;
};

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "host:port", "host" (port 2379), "[v6]:port" or "[v6]".
Result<std::string> ParseEndpoint(std::string_view ep, const Url& url) {
  auto bad = [&] {
    return Err(Code::kInvalid, "bad etcd endpoint '" + std::string(ep) + "' in '" + url.Redacted() +
                                   "'; expected host:port");
  };
  size_t colon = ep.rfind(':');
  if (ep.starts_with('[')) {
    size_t close = ep.find(']');
    if (close == std::string_view::npos) return bad();
    colon = close + 1 < ep.size() ? close + 1 : std::string_view::npos;
    if (colon != std::string_view::npos && ep[colon] != ':') return bad();
  }
  std::string_view host = ep.substr(0, colon);
  std::string_view port = colon == std::string_view::npos ? kDefaultPort : ep.substr(colon + 1);
  int n = 0;
  if (host.empty() || !IsDigits(port) || port.size() > 5) return bad();
  std::from_chars(port.data(), port.data() + port.size(), n);
  if (n < 1 || n > 65535) return bad();
  return std::string(host) + ":" + std::string(port);
}

Result<std::vector<std::string>> ParseEndpoints(const Url& url) {
  if (url.port != 0) return std::vector<std::string>{url.host + ":" + std::to_string(url.port)};
  std::vector<std::string> out;
  std::string_view rest = url.host;
  for (;;) {
    size_t comma = rest.find(',');
    ASSIGN_OR_RETURN(std::string ep, ParseEndpoint(rest.substr(0, comma), url));
    out.push_back(std::move(ep));
    if (comma == std::string_view::npos) return out;
    rest = rest.substr(comma + 1);
  }
}

Result<std::string> ParsePrefix(const Url& url) {
  std::string_view prefix = url.path;
  if (prefix.starts_with('/')) prefix.remove_prefix(1);
  if (prefix.empty()) {
    return Err(Code::kInvalid, "etcd URL '" + url.Redacted() +
                                   "' names no key prefix; add one, e.g. "
                                   "etcd://127.0.0.1:2379/tessera");
  }
  bool ok = std::all_of(prefix.begin(), prefix.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
  if (!ok) {
    return Err(Code::kInvalid, "etcd key prefix '" + std::string(prefix) + "' in '" +
                                   url.Redacted() +
                                   "' may hold only letters, digits, '.', '_' and '-' (one "
                                   "segment, so that no prefix holds another's keys)");
  }
  return std::string(prefix);
}

// A duration in seconds such as "5" or "0.5".
Result<std::chrono::milliseconds> ParseSeconds(std::string_view name, std::string_view text,
                                               const Url& url) {
  double seconds = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(seconds >= 0) || seconds > 86400) {
    return Err(Code::kInvalid, "etcd option " + std::string(name) + "='" + std::string(text) +
                                   "' in '" + url.Redacted() +
                                   "' is not a number of seconds from 0 to 86400");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

constexpr std::string_view kOptionHelp =
    "connect_timeout=SECONDS (default 5), request_timeout=SECONDS (default 30), "
    "retry_for=SECONDS (how long to retry on lost connections, default 10), "
    "connections=N (requests under way at once, default 16)";

Status ParseOption(std::string_view name, std::string_view value, const Url& url,
                   etcd::ClientOptions* opts) {
  if (name == "connect_timeout" || name == "request_timeout" || name == "retry_for") {
    ASSIGN_OR_RETURN(auto d, ParseSeconds(name, value, url));
    if (name == "retry_for") {
      opts->retry_for = d;
    } else if (d.count() < 1) {
      return Err(Code::kInvalid, "etcd option " + std::string(name) + " in '" + url.Redacted() +
                                     "' must be at least 0.001 s");
    } else {
      (name == "connect_timeout" ? opts->connect_timeout : opts->request_timeout) = d;
    }
    return Status::Ok();
  }
  if (name == "connections") {
    int n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > 1024) {
      return Err(Code::kInvalid, "etcd option connections='" + std::string(value) + "' in '" +
                                     url.Redacted() + "' is not a number from 1 to 1024");
    }
    opts->max_connections = n;
    return Status::Ok();
  }
  return Err(Code::kInvalid, "unknown etcd option '" + std::string(name) + "' in '" +
                                 url.Redacted() + "'; supported: " + std::string(kOptionHelp));
}

Result<EtcdConfig> ParseEtcdUrl(const Url& url) {
  EtcdConfig config;
  ASSIGN_OR_RETURN(config.client.endpoints, ParseEndpoints(url));
  ASSIGN_OR_RETURN(config.prefix, ParsePrefix(url));
  if (!url.password.empty() && url.user.empty()) {
    return Err(Code::kInvalid, "etcd URL '" + url.Redacted() + "' has a password but no user");
  }
  config.client.user = url.user;
  config.client.password = url.password;
  std::string_view query = url.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    RETURN_IF_ERROR(ParseOption(param.substr(0, eq), value, url, &config.client));
  }
  return config;
}

}  // namespace

Result<std::unique_ptr<Engine>> NewEtcdEngine(const Url& url) {
  ASSIGN_OR_RETURN(EtcdConfig config, ParseEtcdUrl(url));
  Keyspace keys(config.prefix);
  ASSIGN_OR_RETURN(auto client, etcd::Client::Connect(std::move(config.client), keys.root()));
  return std::make_unique<EtcdEngine>(std::move(client), config.prefix);
}

}  // namespace tessera::kv
