// S3 response bodies and error mapping (internal to the S3 backend).
//
// Parses the XML that S3 servers answer with (errors, ListObjectsV2,
// CreateMultipartUpload) and turns an HTTP status plus an <Error> body into a
// tessera Status with the codes s3.h promises. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "object/store.h"

namespace tessera::object::s3 {

struct ErrorBody {
  std::string code;     // "NoSuchKey"; empty when the body is not an S3 <Error>
  std::string message;  // may be empty (Ceph RGW sends <Message/>)
};

// Reads <Error><Code>…</Code><Message>…</Message></Error>; anything else gives
// an empty ErrorBody.
ErrorBody ParseErrorBody(std::string_view body);

// The tessera code for an S3 error: kAccess, kNotFound, kUnavailable or kIO.
Code CodeFor(long http_status, std::string_view s3_code);

// "<what>: <status> <S3 code>: <message>", e.g.
// "GET v/k in s3://b at http://h:7480: 404 NoSuchKey: The specified key does not exist."
// `reason` (the HTTP reason phrase) stands in when the body carries no code (HEAD).
Status ErrorStatus(std::string_view what, long http_status, std::string_view reason,
                   std::string_view body);

// A ListObjectsV2 answer: objects (key, size, mtime) and IsTruncated.
Result<ListPage> ParseListObjectsV2(std::string_view body);

// The <UploadId> of a CreateMultipartUpload answer.
Result<std::string> ParseUploadId(std::string_view body);

// The CompleteMultipartUpload request body for parts 1..n with these ETags.
std::string CompleteMultipartBody(const std::vector<std::string>& etags);

// "2013-05-24T00:00:00.000Z" → seconds since the epoch; -1 when malformed.
int64_t ParseIso8601(std::string_view s);

}  // namespace tessera::object::s3
