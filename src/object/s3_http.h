// A small HTTP client on libcurl for the S3 backend (internal).
//
// Easy handles are pooled so connections stay alive between requests; at
// most `max_connections` requests run at once and further callers wait for a
// free handle. Transport failures (refused, reset, timed out, DNS) come back
// as kUnavailable and TLS or other local failures as kIO, with a message that
// names the origin; an HTTP answer of any status is a Response.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::object::s3 {

struct HttpRequest {
  std::string method;                // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // fully encoded
  std::string origin;                // scheme://host[:port], for messages
  std::vector<std::string> headers;  // "Name: value"
  std::string_view body;             // sent for PUT and POST
};

struct HttpResponse {
  long status = 0;
  std::string reason;                          // "Not Found"
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
  std::string body;
};

class HttpClient {
 public:
  HttpClient(int max_connections, int connect_timeout_ms, int request_timeout_ms);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Do(const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  const int max_connections_;
  const int connect_timeout_ms_;
  const int request_timeout_ms_;

  std::mutex mu_;
  std::condition_variable free_;
  std::vector<void*> idle_;  // CURL* handles, guarded by mu_
  int in_use_ = 0;           // guarded by mu_
};

}  // namespace tessera::object::s3
