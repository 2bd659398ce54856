// Pooled libcurl client for the S3 backend (see s3_http.h). Thread-safe.
#include "object/s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tessera::object::s3 {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UploadCursor {
  std::string_view data;
  size_t pos = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* userdata) {
  auto* cur = static_cast<UploadCursor*>(userdata);
  size_t len = std::min(size * n, cur->data.size() - cur->pos);
  std::memcpy(buf, cur->data.data() + cur->pos, len);
  cur->pos += len;
  return len;
}

// Lets curl rewind the body to resend it (a reused connection that turned
// out to be closed, or a redirect).
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* cur = static_cast<UploadCursor*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > cur->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  cur->pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* ptr, size_t size, size_t n, void* userdata) {
  static_cast<std::string*>(userdata)->append(ptr, size * n);
  return size * n;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

size_t WriteHeader(char* ptr, size_t size, size_t n, void* userdata) {
  auto* resp = static_cast<HttpResponse*>(userdata);
  std::string_view line(ptr, size * n);
  if (line.starts_with("HTTP/")) {
    // A new status line (after 100 Continue or a redirect) starts over.
    resp->headers.clear();
    size_t sp1 = line.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    resp->reason = sp2 == std::string_view::npos ? "" : std::string(Trim(line.substr(sp2 + 1)));
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(Trim(line.substr(0, colon)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value(Trim(line.substr(colon + 1)));
    if (name == "content-length") {
      // Grow the body once instead of doubling through a multi-megabyte block.
      uint64_t len = std::strtoull(value.c_str(), nullptr, 10);
      if (len > 0 && len <= (1ull << 30)) resp->body.reserve(static_cast<size_t>(len));
    }
    resp->headers[name] = std::move(value);
  }
  return size * n;
}

Status TransportError(CURL* curl, CURLcode rc, const HttpRequest& req, const char* errbuf,
                      int request_timeout_ms) {
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      return Status::Unavailable(
          "cannot connect to " + req.origin + ": " +
          (os_errno != 0 ? std::string(std::strerror(static_cast<int>(os_errno))) : detail));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Status::Unavailable("cannot resolve " + req.origin + ": " + detail);
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Unavailable("no complete answer from " + req.origin + " within " +
                                 std::to_string(request_timeout_ms) + " ms: " + detail);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return Status::Unavailable("connection to " + req.origin + " failed: " + detail);
    default:
      return Status::IO("request to " + req.origin + " failed: " + detail);
  }
}

}  // namespace

HttpClient::HttpClient(int max_connections, int connect_timeout_ms, int request_timeout_ms)
    : max_connections_(std::max(1, max_connections)),
      connect_timeout_ms_(connect_timeout_ms),
      request_timeout_ms_(request_timeout_ms) {
  GlobalInit();
}

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::Acquire() {
  std::unique_lock lock(mu_);
  free_.wait(lock, [&] { return in_use_ < max_connections_; });
  ++in_use_;
  if (!idle_.empty()) {
    void* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  lock.unlock();
  return curl_easy_init();
}

void HttpClient::Release(void* handle) {
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (handle != nullptr) idle_.push_back(handle);
  }
  free_.notify_one();
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& req) {
  CURL* curl = static_cast<CURL*>(Acquire());
  if (curl == nullptr) {
    Release(nullptr);
    return Err(Code::kIO, "curl_easy_init failed");
  }
  // Reset keeps the handle's live connections, so the next request reuses them.
  curl_easy_reset(curl);

  HttpResponse resp;
  UploadCursor upload{req.body, 0};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& h : req.headers) headers = curl_slist_append(headers, h.c_str());
  // No "Expect: 100-continue" round trip; no default Content-Type on uploads.
  headers = curl_slist_append(headers, "Expect:");
  headers = curl_slist_append(headers, "Content-Type:");

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_ms_));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout_ms_));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  // Blocks are megabytes: take them from the socket in large reads, not
  // curl's default 16 KiB (fewer recv calls and callbacks per block).
  curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 256L << 10);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp);
  if (req.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    if (req.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(curl);
  Status failure;
  if (rc != CURLE_OK) {
    failure = TransportError(curl, rc, req, errbuf, request_timeout_ms_);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  Release(curl);
  if (!failure.ok()) return Err(std::move(failure));
  return resp;
}

}  // namespace tessera::object::s3
