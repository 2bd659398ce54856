// The S3 backend (see s3.h): ObjectStore operations as signed S3 REST calls.
//
// Each operation builds one request (or, for a large Put, a multipart
// upload), signs it with SigV4 (s3_sign.h), sends it through the pooled
// HttpClient (s3_http.h) and maps the answer (s3_xml.h). Error messages name
// the operation, the key or bucket, the endpoint, the HTTP status and the
// server's error code and message.
//
// Thread-safety: S3Store is safe for concurrent use; it holds no mutable
// state besides the connection pool, which has its own lock.
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <mutex>
#include <thread>

#include "common/logging.h"
#include "object/s3.h"
#include "object/s3_http.h"
#include "object/s3_sign.h"
#include "object/s3_xml.h"

namespace tessera::object {
namespace {

using s3::HttpResponse;
using s3::Params;

constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct Call {
  std::string method = {};
  std::string key = {};  // empty: the bucket itself
  Params query = {};
  std::string_view body = {};
  std::string range = {};  // "bytes=a-b" or empty
};

class S3Store final : public ObjectStore {
 public:
  explicit S3Store(S3Options options)
      : opts_(std::move(options)),
        http_(opts_.max_connections, opts_.connect_timeout_ms, opts_.request_timeout_ms) {
    while (opts_.endpoint.ends_with('/')) opts_.endpoint.pop_back();
    size_t sep = opts_.endpoint.find("://");
    scheme_ = sep == std::string::npos ? "http" : opts_.endpoint.substr(0, sep);
    host_ = sep == std::string::npos ? opts_.endpoint : opts_.endpoint.substr(sep + 3);
    if (opts_.virtual_hosted) host_ = opts_.bucket + "." + host_;
    origin_ = scheme_ + "://" + host_;
    opts_.part_size = std::max<uint64_t>(opts_.part_size, 5ull << 20);
    opts_.multipart_threshold = std::max(opts_.multipart_threshold, opts_.part_size);
  }

  std::string Describe() const override { return "s3://" + opts_.bucket + "@" + opts_.endpoint; }

  Status Create() override;
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status Delete(std::string_view key) override;
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override;

 private:
  // Sends a signed request. Transport failures are returned as errors whose
  // message starts with `what`; HTTP answers of any status are returned.
  Result<HttpResponse> Send(const Call& call, std::string_view what);
  // "GET key in s3://bucket" (+ " at endpoint" for server answers).
  std::string What(std::string_view op, std::string_view key) const {
    return std::string(op) + " " + std::string(key) + " in s3://" + opts_.bucket;
  }
  Status Failed(std::string_view what, const HttpResponse& resp) const {
    return s3::ErrorStatus(std::string(what) + " at " + opts_.endpoint, resp.status, resp.reason,
                           resp.body);
  }
  Status PutMultipart(std::string_view key, std::string_view data);
  void AbortMultipart(std::string_view key, const std::string& upload_id);

  S3Options opts_;
  std::string scheme_;
  std::string host_;    // Host header: host[:port], with "bucket." when virtual-hosted
  std::string origin_;  // scheme://host_
  s3::HttpClient http_;
};

Result<HttpResponse> S3Store::Send(const Call& call, std::string_view what) {
  std::string path = "/";
  if (!opts_.virtual_hosted) {
    path += opts_.bucket;
    if (!call.key.empty()) path += "/";
  }
  path += s3::UriEncode(call.key, /*keep_slash=*/true);

  s3::SignInput in;
  in.method = call.method;
  in.path = path;
  in.query = call.query;
  in.amz_date = s3::AmzDate(std::time(nullptr));
  in.payload_hash = call.body.empty() ? kEmptySha256 : s3::Sha256Hex(call.body);
  in.region = opts_.region;
  in.headers = {
      {"host", host_}, {"x-amz-date", in.amz_date}, {"x-amz-content-sha256", in.payload_hash}};
  if (!call.range.empty()) in.headers.emplace_back("range", call.range);
  s3::Signature sig = s3::SignV4(in, opts_.access_key, opts_.secret_key);

  s3::HttpRequest req;
  req.method = call.method;
  req.origin = origin_;
  req.url = origin_ + path;
  if (!call.query.empty()) req.url += "?" + s3::CanonicalQueryString(call.query);
  req.body = call.body;
  req.headers = {"Host: " + host_, "x-amz-date: " + in.amz_date,
                 "x-amz-content-sha256: " + in.payload_hash, "Authorization: " + sig.authorization};
  if (!call.range.empty()) req.headers.push_back("Range: " + call.range);

  auto resp = http_.Do(req);
  if (!resp) {
    return Err(resp.error().code(), std::string(what) + ": " + resp.error().message());
  }
  return resp;
}

Status S3Store::Create() {
  Call call{.method = "PUT"};
  std::string body;
  if (opts_.region != "us-east-1" && !opts_.region.empty()) {
    body = "<CreateBucketConfiguration><LocationConstraint>" + opts_.region +
           "</LocationConstraint></CreateBucketConfiguration>";
    call.body = body;
  }
  std::string what = "CreateBucket s3://" + opts_.bucket;
  ASSIGN_OR_RETURN(HttpResponse resp, Send(call, what));
  if (resp.status == 200) return Status::Ok();
  std::string code = s3::ParseErrorBody(resp.body).code;
  if (code == "BucketAlreadyOwnedByYou") return Status::Ok();
  if (code == "BucketAlreadyExists") {
    // Taken: fine if it is ours (we can reach it), an error otherwise.
    ASSIGN_OR_RETURN(HttpResponse head, Send(Call{.method = "HEAD"}, what));
    if (head.status == 200) return Status::Ok();
    Status st = Failed(what, resp);
    return Status(Code::kExists, st.message() + " (and it is not accessible with these keys)");
  }
  return Failed(what, resp);
}

Status S3Store::Put(std::string_view key, std::string_view data) {
  if (data.size() > opts_.multipart_threshold) return PutMultipart(key, data);
  std::string what = What("PUT", key);
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Send(Call{.method = "PUT", .key = std::string(key), .body = data}, what));
  if (resp.status == 200) return Status::Ok();
  return Failed(what, resp);
}

Status S3Store::PutMultipart(std::string_view key, std::string_view data) {
  std::string what = What("PUT", key);
  ASSIGN_OR_RETURN(HttpResponse created,
                   Send(Call{.method = "POST", .key = std::string(key), .query = {{"uploads", ""}}},
                        what + " (CreateMultipartUpload)"));
  if (created.status != 200) return Failed(what + " (CreateMultipartUpload)", created);
  auto parsed = s3::ParseUploadId(created.body);
  if (!parsed) return Status(parsed.error().code(), what + ": " + parsed.error().message());
  const std::string upload_id = *parsed;

  const size_t parts = (data.size() + opts_.part_size - 1) / opts_.part_size;
  std::vector<std::string> etags(parts);
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status failure;  // the first part that failed; guarded by mu
  auto upload_parts = [&] {
    for (size_t i = next++; i < parts; i = next++) {
      {
        std::lock_guard lock(mu);
        if (!failure.ok()) return;
      }
      std::string part_what =
          what + " (UploadPart " + std::to_string(i + 1) + "/" + std::to_string(parts) + ")";
      Call call{.method = "PUT",
                .key = std::string(key),
                .query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload_id}},
                .body = data.substr(i * opts_.part_size, opts_.part_size)};
      auto resp = Send(call, part_what);
      Status st;
      if (!resp) {
        st = resp.error();
      } else if (resp->status != 200) {
        st = Failed(part_what, *resp);
      } else if (resp->headers["etag"].empty()) {
        st = Status::IO(part_what + ": the answer carries no ETag");
      } else {
        etags[i] = resp->headers["etag"];
      }
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (failure.ok()) failure = std::move(st);
        return;
      }
    }
  };
  size_t workers = std::min<size_t>(parts, std::max(1, opts_.multipart_concurrency));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(upload_parts);
  upload_parts();
  for (auto& t : threads) t.join();
  if (!failure.ok()) {
    AbortMultipart(key, upload_id);
    return failure;
  }

  // The answer's ETag is not used: Ceph RGW 16 sends it empty.
  std::string body = s3::CompleteMultipartBody(etags);
  std::string complete_what = what + " (CompleteMultipartUpload)";
  auto done = Send(Call{.method = "POST",
                        .key = std::string(key),
                        .query = {{"uploadId", upload_id}},
                        .body = body},
                   complete_what);
  Status st;
  if (!done) {
    st = done.error();
  } else if (done->status != 200 || !s3::ParseErrorBody(done->body).code.empty()) {
    // S3 may answer 200 and still report an error in the body.
    st = Failed(complete_what, *done);
  }
  if (!st.ok()) AbortMultipart(key, upload_id);
  return st;
}

void S3Store::AbortMultipart(std::string_view key, const std::string& upload_id) {
  std::string what = What("PUT", key) + " (AbortMultipartUpload " + upload_id + ")";
  auto resp = Send(
      Call{.method = "DELETE", .key = std::string(key), .query = {{"uploadId", upload_id}}}, what);
  if (!resp) {
    TLOG(kWarn) << resp.error().message();
  } else if (resp->status != 204 && resp->status != 200 && resp->status != 404) {
    TLOG(kWarn) << Failed(what, *resp).message();
  }
}

Result<std::string> S3Store::Get(std::string_view key, uint64_t offset, int64_t length) {
  if (length == 0) {
    // Nothing to read, but a missing object is still kNotFound.
    ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
    (void)info;
    return std::string();
  }
  Call call{.method = "GET", .key = std::string(key)};
  if (offset > 0 || length > 0) {
    call.range = "bytes=" + std::to_string(offset) + "-";
    if (length > 0) call.range += std::to_string(offset + static_cast<uint64_t>(length) - 1);
  }
  std::string what = What("GET", key);
  ASSIGN_OR_RETURN(HttpResponse resp, Send(call, what));
  if (resp.status == 206) return std::move(resp.body);
  if (resp.status == 200) {
    // A server that ignores Range sends the whole object.
    if (call.range.empty()) return std::move(resp.body);
    if (offset >= resp.body.size()) return std::string();
    return resp.body.substr(offset, length < 0 ? std::string::npos : static_cast<size_t>(length));
  }
  // The range starts at or past the end of an existing object.
  if (resp.status == 416) return std::string();
  return Err(Failed(what, resp));
}

Result<ObjectInfo> S3Store::Head(std::string_view key) {
  std::string what = What("HEAD", key);
  ASSIGN_OR_RETURN(HttpResponse resp, Send(Call{.method = "HEAD", .key = std::string(key)}, what));
  if (resp.status != 200) return Err(Failed(what, resp));
  ObjectInfo info;
  info.key = std::string(key);
  const std::string& length = resp.headers["content-length"];
  char* end = nullptr;
  info.size = std::strtoull(length.c_str(), &end, 10);
  if (length.empty() || *end != '\0') {
    return Err(Code::kIO, what + ": the answer has no valid Content-Length");
  }
  const std::string& modified = resp.headers["last-modified"];
  info.mtime = modified.empty() ? 0 : static_cast<int64_t>(curl_getdate(modified.c_str(), nullptr));
  return info;
}

Status S3Store::Delete(std::string_view key) {
  std::string what = What("DELETE", key);
  ASSIGN_OR_RETURN(HttpResponse resp,
                   Send(Call{.method = "DELETE", .key = std::string(key)}, what));
  if (resp.status == 204 || resp.status == 200) return Status::Ok();
  if (resp.status == 404 && s3::ParseErrorBody(resp.body).code != "NoSuchBucket") {
    return Status::Ok();
  }
  return Failed(what, resp);
}

Result<ListPage> S3Store::List(std::string_view prefix, std::string_view start_after,
                               size_t limit) {
  Call call{.method = "GET", .query = {{"list-type", "2"}}};
  if (!prefix.empty()) call.query.emplace_back("prefix", std::string(prefix));
  if (!start_after.empty()) call.query.emplace_back("start-after", std::string(start_after));
  call.query.emplace_back("max-keys", std::to_string(std::clamp<size_t>(limit, 1, 1000)));
  std::string what = "LIST prefix '" + std::string(prefix) + "' after '" +
                     std::string(start_after) + "' in s3://" + opts_.bucket;
  ASSIGN_OR_RETURN(HttpResponse resp, Send(call, what));
  if (resp.status != 200) return Err(Failed(what, resp));
  auto page = s3::ParseListObjectsV2(resp.body);
  if (!page) return Err(page.error().code(), what + ": " + page.error().message());
  if (limit == 0) {
    // Asked for nothing: say only whether something is there.
    page->truncated = page->truncated || !page->objects.empty();
    page->objects.clear();
  }
  return page;
}

}  // namespace

std::unique_ptr<ObjectStore> NewS3Store(const S3Options& options) {
  return std::make_unique<S3Store>(options);
}

}  // namespace tessera::object
