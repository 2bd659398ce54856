// The etcd gateway client (see etcd_client.h): base64, the JSON of each call,
// a pool of curl handles, and the one loop (Impl::Call) that picks an
// endpoint, sends, classifies the answer and decides whether to try again.
#include "kv/etcd_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/logging.h"

namespace tessera::kv::etcd {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr milliseconds kFirstBackoff{50};
constexpr milliseconds kMaxBackoff{1'000};

// gRPC status codes that the gateway puts in "code".
constexpr int kInvalidArgument = 3;
constexpr int kPermissionDenied = 7;
constexpr int kFailedPrecondition = 9;
constexpr int kOutOfRange = 11;
constexpr int kUnauthenticated = 16;

std::string Seconds(milliseconds d) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%g s", static_cast<double>(d.count()) / 1000);
  return buf;
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// --- JSON fields: absent means zero, false or empty ---

const json* Field(const json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

// The object `name` in `j`, or an empty object.
const json& Object(const json& j, const char* name) {
  static const json kEmpty = json::object();
  const json* f = Field(j, name);
  return f != nullptr && f->is_object() ? *f : kEmpty;
}

std::string StringField(const json& j, const char* name) {
  const json* f = Field(j, name);
  return f != nullptr && f->is_string() ? f->get<std::string>() : std::string();
}

// int64 fields are strings in the gateway's output.
int64_t IntField(const json& j, const char* name) {
  const json* f = Field(j, name);
  if (f == nullptr || !f->is_string()) return 0;
  const auto& s = f->get_ref<const std::string&>();
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

bool BoolField(const json& j, const char* name) {
  const json* f = Field(j, name);
  return f != nullptr && f->is_boolean() && f->get<bool>();
}

Result<RangeResult> ParseRange(const json& answer, std::string_view where) {
  RangeResult out;
  out.revision = IntField(Object(answer, "header"), "revision");
  out.more = BoolField(answer, "more");
  const json* kvs = Field(answer, "kvs");
  if (kvs == nullptr || !kvs->is_array()) return out;
  out.kvs.reserve(kvs->size());
  for (const json& kv : *kvs) {
    auto key = Base64Decode(StringField(kv, "key"));
    auto value = Base64Decode(StringField(kv, "value"));
    if (!key || !value) {
      return Err(Code::kCorrupt, std::string(where) + ": malformed base64 in a range");
    }
    out.kvs.push_back({std::move(*key), std::move(*value), IntField(kv, "mod_revision")});
  }
  return out;
}

json RangeRequest(std::string_view key, std::string_view range_end, int64_t revision,
                  int64_t limit) {
  json req = {{"key", Base64Encode(key)}};
  if (!range_end.empty()) req["range_end"] = Base64Encode(range_end);
  if (revision > 0) req["revision"] = std::to_string(revision);
  if (limit > 0) req["limit"] = std::to_string(limit);
  return req;
}

json CompareJson(const Compare& c) {
  json out = {{"key", Base64Encode(c.key)},
              {"target", "MOD"},
              {"result", c.result == Compare::Result::kEqual ? "EQUAL" : "LESS"},
              {"mod_revision", std::to_string(c.mod_revision)}};
  if (!c.range_end.empty()) out["range_end"] = Base64Encode(c.range_end);
  return out;
}

json OpJson(const Op& op) {
  if (op.kind == Op::Kind::kPut) {
    return {{"request_put", {{"key", Base64Encode(op.key)}, {"value", Base64Encode(op.value)}}}};
  }
  json del = {{"key", Base64Encode(op.key)}};
  if (!op.range_end.empty()) del["range_end"] = Base64Encode(op.range_end);
  return {{"request_delete_range", std::move(del)}};
}

// --- HTTP ---

// What became of one POST.
struct Reply {
  CURLcode curl = CURLE_OK;
  std::string curl_error;  // curl's error buffer
  long os_errno = 0;       // the last error of a socket call
  bool body_sent = false;  // some of the request body left this process
  long http_status = 0;
  std::string body;
};

// The request body, handed to curl by a read callback so that we know
// whether any of it was sent. With no seek callback curl cannot silently
// re-send it on a fresh connection (its retry after a dropped keep-alive):
// such a transfer fails, and the caller decides.
struct Upload {
  std::string_view body;
  size_t pos = 0;
  bool sent = false;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* arg) {
  auto* up = static_cast<Upload*>(arg);
  size_t len = std::min(size * n, up->body.size() - up->pos);
  std::copy_n(up->body.data() + up->pos, len, buf);
  up->pos += len;
  up->sent = up->sent || len > 0;
  return len;
}

size_t WriteBody(char* data, size_t size, size_t n, void* arg) {
  static_cast<std::string*>(arg)->append(data, size * n);
  return size * n;
}

// Easy handles kept with their live connections; at most `max` exist.
class HandlePool {
 public:
  explicit HandlePool(int max) : max_(max) {}
  ~HandlePool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }

  // An idle handle, a new one while fewer than max exist, or else waits;
  // nullptr when curl cannot make one.
  CURL* Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    CURL* h = nullptr;
    if (idle_.empty()) {
      h = curl_easy_init();
      open_ += h != nullptr ? 1 : 0;
    } else {
      h = idle_.back();
      idle_.pop_back();
    }
    return h;
  }

  void Release(CURL* h) {
    std::lock_guard lock(mu_);
    idle_.push_back(h);
    cv_.notify_one();
  }

 private:
  const int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CURL*> idle_;  // guarded by mu_
  int open_ = 0;             // guarded by mu_
};

// How the caller may go on after an answer (or no answer).
enum class Verdict {
  kOk,           // `answer` holds the JSON
  kFinal,        // `status` is the answer: do not retry
  kRetry,        // not applied (not sent, or rejected before applying): any request may retry
  kRetryIfRead,  // may have been applied: a read may retry, a commit's outcome is unknown
  kReauth,       // the auth token was rejected (nothing applied)
};

// What a request is, for whether it may be sent again.
enum class Kind {
  kRead,          // sent again after any transient failure
  kCommit,        // sent again only while no server can have applied it
  kAuthenticate,  // a read, sent without the auth token
};

struct Outcome {
  Verdict verdict;
  Status status;
  json answer = {};  // with kOk
};

// Errors told apart by their text, with what to say about them.
struct KnownError {
  std::string_view text;
  Verdict verdict;
  Code code;
  std::string_view hint;
};

constexpr KnownError kKnownErrors[] = {
    {"invalid auth token", Verdict::kReauth, Code::kAccess, ""},
    {"user name is empty", Verdict::kFinal, Code::kAccess,
     " — the server checks authentication: give user:password@ in the URL"},
    {"authentication failed", Verdict::kFinal, Code::kAccess, ""},
    {"permission denied", Verdict::kFinal, Code::kAccess,
     " — grant the user's role readwrite on the key prefix (etcdctl role grant-permission)"},
    {"too many operations in txn", Verdict::kFinal, Code::kTooBig,
     " — over the server's --max-txn-ops (default 128 compares and 128 writes)"},
    {"request is too large", Verdict::kFinal, Code::kTooBig,
     " — over the server's --max-request-bytes (default 1.5 MiB)"},
    {"larger than max", Verdict::kFinal, Code::kTooBig,
     " — over the server's --max-request-bytes (default 1.5 MiB)"},
    {"database space exceeded", Verdict::kFinal, Code::kNoSpace,
     " — compact and defragment etcd, then disarm its NOSPACE alarm"},
    // Refused before being proposed: safe to send again, even a commit.
    {"no leader", Verdict::kRetry, Code::kUnavailable, ""},
    {"too many requests", Verdict::kRetry, Code::kUnavailable, ""},
};

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64[(v >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  static const std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (size_t i = 0; i < kBase64.size(); ++i) {
      t[static_cast<uint8_t>(kBase64[i])] = static_cast<int8_t>(i);
    }
    return t;
  }();
  if (text.size() % 4 != 0) return Err(Code::kCorrupt, "base64 length not a multiple of 4");
  size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      bool padding = i + 4 == text.size() && j >= 4 - pad;
      int8_t d = padding ? 0 : kValue[static_cast<uint8_t>(text[i + j])];
      if (d < 0) return Err(Code::kCorrupt, "bad base64 character");
      v = v << 6 | static_cast<uint32_t>(d);
    }
    size_t take = i + 4 == text.size() ? 3 - pad : 3;
    for (size_t j = 0; j < take; ++j) out.push_back(static_cast<char>(v >> (16 - 8 * j)));
  }
  return out;
}

class Client::Impl {
 public:
  explicit Impl(ClientOptions opts) : opts_(std::move(opts)), pool_(opts_.max_connections) {}

  // Sends `request` to `path` until an answer, a final error, or retry_for
  // runs out; every endpoint is tried at least once.
  Result<json> Call(std::string_view path, const json& request, Kind kind, milliseconds retry_for) {
    const bool commit = kind == Kind::kCommit;
    // Replaces bytes that are not UTF-8 (in a user name, say) instead of throwing.
    const std::string body = request.dump(-1, ' ', false, json::error_handler_t::replace);
    const auto deadline = Clock::now() + retry_for;
    const size_t n = opts_.endpoints.size();
    bool reauthenticated = false;
    milliseconds backoff = kFirstBackoff;
    for (size_t failures = 1;; ++failures) {
      size_t ep = current_.load();
      std::string token = kind == Kind::kAuthenticate ? "" : Token();
      Outcome out = Classify(ep, path, Post(ep, path, body, token));
      switch (out.verdict) {
        case Verdict::kOk:
          return std::move(out.answer);
        case Verdict::kFinal:
          return Err(std::move(out.status));
        case Verdict::kReauth:
          if (kind == Kind::kAuthenticate || opts_.user.empty() || reauthenticated) {
            return Err(std::move(out.status));
          }
          reauthenticated = true;
          RETURN_IF_ERROR(Reauthenticate(token));
          continue;
        case Verdict::kRetryIfRead:
          if (commit) return Err(OutcomeUnknown(out.status));
          break;
        case Verdict::kRetry:
          break;
      }
      current_.compare_exchange_strong(ep, (ep + 1) % n);
      auto now = Clock::now();
      if (failures >= n && now >= deadline) {
        std::string tried =
            retry_for.count() > 0 ? " (tried every endpoint for " + Seconds(retry_for) + ")" : "";
        return Err(Code::kUnavailable,
                   out.status.message() + tried + (commit ? "; nothing was applied" : ""));
      }
      if (failures % n == 0) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
        std::this_thread::sleep_for(std::clamp(backoff, milliseconds(0), left));
        backoff = std::min(backoff * 2, kMaxBackoff);
      }
    }
  }

  // Gets a token for the user; a server without auth enabled needs none.
  Status Authenticate(milliseconds retry_for) {
    json request = {{"name", opts_.user}, {"password", opts_.password}};
    auto answer = Call("/v3/auth/authenticate", request, Kind::kAuthenticate, retry_for);
    if (!answer) {
      if (Contains(answer.error().message(), "authentication is not enabled")) {
        TLOG(kWarn) << Where() << ": a user is given but the server does not check auth";
        return Status::Ok();
      }
      return answer.error();
    }
    std::lock_guard lock(auth_mu_);
    token_ = StringField(*answer, "token");
    return Status::Ok();
  }

  // "etcd host:port" of the endpoint in use, for messages.
  std::string Where() const { return "etcd " + opts_.endpoints[current_.load()]; }
  const ClientOptions& options() const { return opts_; }

 private:
  std::string Token() {
    std::lock_guard lock(auth_mu_);
    return token_;
  }

  // A new token unless another thread already replaced the rejected one.
  Status Reauthenticate(const std::string& rejected) {
    std::lock_guard lock(reauth_mu_);
    if (Token() != rejected) return Status::Ok();
    return Authenticate(opts_.retry_for);
  }

  Reply Post(size_t ep, std::string_view path, const std::string& body, const std::string& token) {
    Reply reply;
    CURL* h = pool_.Acquire();
    if (h == nullptr) {
      reply.curl = CURLE_FAILED_INIT;
      reply.curl_error = "curl_easy_init failed";
      return reply;
    }
    curl_easy_reset(h);  // keeps the handle's live connections
    std::string url = "http://" + opts_.endpoints[ep] + std::string(path);
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!token.empty()) headers = curl_slist_append(headers, ("Authorization: " + token).c_str());
    Upload upload{.body = body};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROXY, "");  // never through an http_proxy from the environment
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(opts_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(opts_.request_timeout.count()));
    reply.curl = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.http_status);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &reply.os_errno);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(headers);
    pool_.Release(h);
    reply.body_sent = upload.sent;
    reply.curl_error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(reply.curl);
    return reply;
  }

  Outcome Classify(size_t ep, std::string_view path, Reply reply) const {
    const std::string where = "etcd " + opts_.endpoints[ep] + ": ";
    if (reply.curl != CURLE_OK) return TransportFailure(where, reply);
    json answer = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (reply.http_status == 200) {
      if (answer.is_discarded() || !answer.is_object()) {
        return {Verdict::kRetryIfRead,
                Status::IO(where + "malformed JSON answer to " + std::string(path))};
      }
      return {Verdict::kOk, Status::Ok(), std::move(answer)};
    }
    if (answer.is_discarded() || !answer.is_object()) {
      if (reply.http_status == 404) {
        return {Verdict::kFinal,
                Status::NotSupported(where + "no JSON gateway at " + std::string(path) +
                                     " — is this an etcd client port, of etcd 3.4 or newer?")};
      }
      return {reply.http_status >= 500 ? Verdict::kRetryIfRead : Verdict::kFinal,
              Status::IO(where + "HTTP " + std::to_string(reply.http_status) + ": " +
                         reply.body.substr(0, 200))};
    }
    return ServerError(where, IntField(answer, "code"), StringField(answer, "error"));
  }

  Outcome TransportFailure(const std::string& where, const Reply& reply) const {
    if (reply.body_sent) {  // the server may have the request
      std::string what = reply.curl == CURLE_OPERATION_TIMEDOUT
                             ? "no answer within " + Seconds(opts_.request_timeout)
                             : "connection lost after sending (" + reply.curl_error + ")";
      return {Verdict::kRetryIfRead, Status::Unavailable(where + what)};
    }
    std::string what;
    switch (reply.curl) {
      case CURLE_COULDNT_CONNECT:
        what = reply.os_errno == ECONNREFUSED
                   ? "connection refused — is etcd running?"
                   : "cannot connect (" + reply.curl_error + ") — is etcd running and reachable?";
        break;
      case CURLE_COULDNT_RESOLVE_HOST:
        what = "cannot resolve the host name — is the URL right?";
        break;
      case CURLE_OPERATION_TIMEDOUT:
        what = "no connection within " + Seconds(opts_.connect_timeout) +
               " — is etcd running and reachable?";
        break;
      default:
        what = "connection failed (" + reply.curl_error + ")";
    }
    return {Verdict::kRetry, Status::Unavailable(where + what)};
  }

  // An error answer: {"error": "etcdserver: ...", "code": <gRPC code>}.
  static Outcome ServerError(const std::string& where, int64_t code, const std::string& error) {
    for (const KnownError& known : kKnownErrors) {
      if (Contains(error, known.text)) {
        return {known.verdict, Status(known.code, where + error + std::string(known.hint))};
      }
    }
    std::string msg = where + error;
    switch (code) {
      case kUnauthenticated:
        return {Verdict::kReauth, Status(Code::kAccess, msg)};
      case kOutOfRange:  // the snapshot's revision was compacted (or is ahead of this member)
        return {Verdict::kFinal, Status::Conflict(msg)};
      case kPermissionDenied:
        return {Verdict::kFinal, Status(Code::kAccess, msg)};
      case kInvalidArgument:
        return {Verdict::kFinal, Status::Invalid(msg)};
      case kFailedPrecondition:
        return {Verdict::kFinal, Status::IO(msg)};
      // Unavailable, DeadlineExceeded, and the gateway losing its own gRPC
      // connection while a server stops ("transport is closing", Canceled):
      // the request may have been applied.
      default:
        return {Verdict::kRetryIfRead, Status::Unavailable(msg)};
    }
  }

  static Status OutcomeUnknown(const Status& cause) {
    return Status::Unavailable(cause.message() +
                               "; commit outcome unknown: the transaction may or may not have "
                               "been applied");
  }

  const ClientOptions opts_;
  HandlePool pool_;
  std::atomic<size_t> current_{0};  // the endpoint that answered last
  std::mutex reauth_mu_;            // one re-authentication at a time
  std::mutex auth_mu_;
  std::string token_;  // guarded by auth_mu_
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options, std::string_view probe_key) {
  CHECK(!options.endpoints.empty() && options.max_connections > 0);
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto client = std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(options))));
  if (!client->impl_->options().user.empty()) {
    RETURN_IF_ERROR(client->impl_->Authenticate(milliseconds(0)));
  }
  json probe = RangeRequest(probe_key, "", 0, 1);
  probe["keys_only"] = true;
  RETURN_IF_ERROR(client->impl_->Call("/v3/kv/range", probe, Kind::kRead, milliseconds(0)));
  return client;
}

Result<RangeResult> Client::Range(std::string_view key, std::string_view range_end,
                                  int64_t revision, int64_t limit) {
  ASSIGN_OR_RETURN(json answer,
                   impl_->Call("/v3/kv/range", RangeRequest(key, range_end, revision, limit),
                               Kind::kRead, impl_->options().retry_for));
  return ParseRange(answer, impl_->Where());
}

Result<std::vector<RangeResult>> Client::RangeMany(const std::vector<std::string>& keys,
                                                   int64_t revision) {
  std::vector<RangeResult> out;
  out.reserve(keys.size());
  for (size_t first = 0; first < keys.size(); first += kReadsPerTxn) {
    size_t last = std::min(keys.size(), first + kReadsPerTxn);
    json success = json::array();
    for (size_t i = first; i < last; ++i) {
      success.push_back({{"request_range", RangeRequest(keys[i], "", revision, 0)}});
    }
    ASSIGN_OR_RETURN(json answer, impl_->Call("/v3/kv/txn", {{"success", std::move(success)}},
                                              Kind::kRead, impl_->options().retry_for));
    if (revision == 0) revision = IntField(Object(answer, "header"), "revision");
    const json* responses = Field(answer, "responses");
    if (responses == nullptr || !responses->is_array() || responses->size() != last - first) {
      return Err(Code::kCorrupt, impl_->Where() + ": " + std::to_string(last - first) +
                                     " reads in a transaction but a different number of answers");
    }
    for (const json& r : *responses) {
      ASSIGN_OR_RETURN(RangeResult range, ParseRange(Object(r, "response_range"), impl_->Where()));
      range.revision = revision;
      out.push_back(std::move(range));
    }
  }
  return out;
}

Result<bool> Client::Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops) {
  json compare = json::array();
  for (const Compare& c : compares) compare.push_back(CompareJson(c));
  json success = json::array();
  for (const Op& op : ops) success.push_back(OpJson(op));
  json request = {{"compare", std::move(compare)}, {"success", std::move(success)}};
  auto answer = impl_->Call("/v3/kv/txn", request, Kind::kCommit, impl_->options().retry_for);
  if (!answer) {
    if (answer.error().code() != Code::kTooBig) return Err(answer.error());
    return Err(Code::kTooBig, "transaction of " + std::to_string(ops.size()) + " writes and " +
                                  std::to_string(compares.size()) + " compares rejected, " +
                                  "nothing applied: " + answer.error().message());
  }
  return BoolField(*answer, "succeeded");
}

Status Client::DeleteRange(std::string_view key, std::string_view range_end) {
  json request = {{"key", Base64Encode(key)}};
  if (!range_end.empty()) request["range_end"] = Base64Encode(range_end);
  return internal::ToStatus(
      impl_->Call("/v3/kv/deleterange", request, Kind::kRead, impl_->options().retry_for));
}

}  // namespace tessera::kv::etcd
