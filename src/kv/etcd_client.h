// A client of the part of etcd's v3 API that the etcd engine needs: ranges,
// conditional transactions and range deletes, spoken as JSON over HTTP to
// the gRPC gateway that every etcd server since 3.4 serves on its client port
// (POST /v3/kv/range, /v3/kv/txn, /v3/kv/deleterange, /v3/auth/authenticate).
// Keys and values travel base64-encoded; int64 fields are JSON strings; an
// absent field means zero, false or empty.
//
// Connections: a bounded pool of libcurl easy handles, each keeping its
// connections alive between requests; a caller beyond the bound waits for a
// handle. Requests go to the endpoint that answered last; a connection
// failure moves on to the next endpoint.
//
// Retries: a request that certainly did not reach a server (no connection
// could be made, or none of the body was sent) or that a server refused
// before applying it (no leader, too many requests, an expired auth token)
// is sent again, to each endpoint in turn, for `retry_for`. Reads are also
// sent again after a lost connection, a timeout or an error a server may have
// hit while applying (Unavailable, the gateway losing its gRPC connection). A
// transaction in that case is never re-sent: its outcome is unknown, and Txn
// returns Code::kUnavailable saying so. The request body goes to curl through
// a read callback and without a seek callback, so curl cannot re-send it on
// its own either.
//
// Thread-safety: a Client is safe for concurrent use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::kv::etcd {

struct ClientOptions {
  std::vector<std::string> endpoints;  // "host:port", tried in this order
  std::string user;                    // empty: no authentication
  std::string password;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};
  // How long a request that failed on every endpoint keeps being retried.
  std::chrono::milliseconds retry_for{10'000};
  int max_connections = 16;  // easy handles, and so requests under way at once
};

struct Kv {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;  // the revision of the key's last change
};

struct RangeResult {
  int64_t revision = 0;  // the store revision that was read
  std::vector<Kv> kvs;   // ascending by key
  bool more = false;     // a limit cut the result short
};

// A condition on the mod_revision of a key, or of every key in [key, range_end).
// etcd compares an absent key as mod_revision 0, and an empty range as one
// absent key.
struct Compare {
  enum class Result { kEqual, kLess };
  std::string key;
  std::string range_end;  // empty: `key` alone
  Result result = Result::kEqual;
  int64_t mod_revision = 0;
};

struct Op {
  enum class Kind { kPut, kDeleteRange };
  Kind kind = Kind::kPut;
  std::string key;
  std::string value;      // kPut
  std::string range_end;  // kDeleteRange; empty: `key` alone
};

class Client {
 public:
  // Authenticates when a user is given and reads `probe_key`, trying each
  // endpoint once: a client that cannot reach any says so at once.
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options, std::string_view probe_key);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Keys in [key, range_end) (range_end empty: `key` alone) as of `revision`
  // (0: the latest), at most `limit` of them (0: no limit). A revision that
  // was compacted away is Code::kConflict: the caller's snapshot is gone.
  Result<RangeResult> Range(std::string_view key, std::string_view range_end, int64_t revision,
                            int64_t limit);
  // Single keys as of one revision (`revision`, or 0: the latest), read with
  // one read-only transaction per kReadsPerTxn keys; one result per key.
  Result<std::vector<RangeResult>> RangeMany(const std::vector<std::string>& keys,
                                             int64_t revision);
  // Applies `ops` in one transaction if every compare holds; true when
  // applied, false when a compare failed (nothing applied).
  Result<bool> Txn(const std::vector<Compare>& compares, const std::vector<Op>& ops);
  // Deletes [key, range_end) outside any transaction; retried like a read,
  // as deleting twice is harmless.
  Status DeleteRange(std::string_view key, std::string_view range_end);

  // Half of etcd's default --max-txn-ops (128), so that a server with a
  // lowered limit still takes them.
  static constexpr size_t kReadsPerTxn = 64;

 private:
  class Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Standard base64 with padding, as etcd's JSON carries bytes.
std::string Base64Encode(std::string_view bytes);
// Code::kCorrupt when `text` is not such base64.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace tessera::kv::etcd
