// AWS Signature Version 4 for S3 requests, on OpenSSL (internal to the S3 backend).
//
// The caller builds the request's canonical pieces (method, URI-encoded path,
// query parameters, headers to sign, payload hash) and gets back the
// Authorization header value. The same encoded query string must be sent on
// the wire: CanonicalQueryString() gives it. Pure functions; thread-safe.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tessera::object::s3 {

// Percent-encodes everything except A-Z a-z 0-9 - _ . ~ (and '/' when
// keep_slash), with uppercase hex, as SigV4 requires.
std::string UriEncode(std::string_view s, bool keep_slash);

// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Raw (32-byte) HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);

// "20130524T000000Z" for `t` (UTC).
std::string AmzDate(std::time_t t);

using Params = std::vector<std::pair<std::string, std::string>>;

// Name/value pairs (raw, not encoded) → "a=1&b=x%2Fy", sorted by encoded name
// then value; an empty value is kept as "name=".
std::string CanonicalQueryString(const Params& query);

struct SignInput {
  std::string method;        // "GET"
  std::string path;          // URI-encoded canonical path, "/bucket/key"
  Params query;              // raw query parameters
  Params headers;            // headers to sign (any case); must include host and x-amz-date
  std::string payload_hash;  // hex SHA-256 of the body (also sent as x-amz-content-sha256)
  std::string amz_date;      // "20130524T000000Z"
  std::string region;        // "us-east-1"
  std::string service = "s3";
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // hex
  std::string authorization;  // the Authorization header value
};

Signature SignV4(const SignInput& in, std::string_view access_key, std::string_view secret_key);

}  // namespace tessera::object::s3
