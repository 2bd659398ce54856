// The S3 backend: any S3-compatible store (AWS S3, Ceph RGW, MinIO,
// SeaweedFS, R2, s3rver) over HTTP(S) with AWS Signature V4.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "object/store.h"

namespace tessera::object {

struct S3Options {
  std::string endpoint;  // scheme://host[:port], e.g. "http://127.0.0.1:7480"
  std::string bucket;
  std::string region = "us-east-1";
  std::string access_key;
  std::string secret_key;
  bool virtual_hosted = false;  // bucket.host addressing (AWS); path-style otherwise
  int max_connections = 64;     // concurrent requests; more wait
  uint64_t multipart_threshold = 32ull << 20;  // objects above use multipart upload
  uint64_t part_size = 16ull << 20;
  int multipart_concurrency = 4;  // parts of one object uploaded at once; 1 = one after another
  int connect_timeout_ms = 5000;
  int request_timeout_ms = 60000;
};

// Splits a bucket URL into options:
//   http://127.0.0.1:7480/mybucket         path-style (any endpoint)
//   https://mybucket.s3.eu-west-1.amazonaws.com   virtual-hosted AWS, region from the host
// Malformed URLs (no scheme, no bucket, bad port) are kInvalid with a message
// that shows the expected forms. Credentials are not taken from the URL.
Result<S3Options> ParseS3Url(const std::string& url);

// The store. Errors: kAccess for refused credentials (403: InvalidAccessKeyId,
// SignatureDoesNotMatch, AccessDenied, with the server's code and message),
// kNotFound for a missing key or bucket (NoSuchBucket says so),
// kUnavailable for what is worth retrying (timeouts, refused or reset
// connections, 500/502/503/504, 429, SlowDown), kIO for anything else.
std::unique_ptr<ObjectStore> NewS3Store(const S3Options& options);

}  // namespace tessera::object
