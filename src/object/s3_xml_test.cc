// S3 XML answers and error mapping, from canned bodies (no server needed).
#include "object/s3_xml.h"

#include <gtest/gtest.h>

namespace tessera::object::s3 {
namespace {

constexpr char kWhat[] = "PUT v/chunks/0/0/1_0_4 in s3://bkt at http://127.0.0.1:7480";

std::string ErrorXml(const std::string& code, const std::string& message) {
  return R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>)" + code + "</Code><Message>" +
         message + "</Message><RequestId>tx1</RequestId></Error>";
}

TEST(S3XmlTest, SignatureMismatch) {
  Status st = ErrorStatus(kWhat, 403, "Forbidden",
                          ErrorXml("SignatureDoesNotMatch",
                                   "The request signature we calculated "
                                   "does not match"));
  EXPECT_EQ(st.code(), Code::kAccess);
  EXPECT_EQ(st.message(), std::string(kWhat) +
                              ": 403 SignatureDoesNotMatch: The request signature we "
                              "calculated does not match");
}

TEST(S3XmlTest, EmptyMessageFromRgw) {
  Status st = ErrorStatus(kWhat, 403, "Forbidden",
                          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                          "InvalidAccessKeyId</Code><Message></Message><BucketName>bkt"
                          "</BucketName><RequestId>tx2</RequestId><HostId>h</HostId></Error>");
  EXPECT_EQ(st.code(), Code::kAccess);
  EXPECT_EQ(st.message(), std::string(kWhat) + ": 403 InvalidAccessKeyId");
}

TEST(S3XmlTest, Codes) {
  struct Case {
    long status;
    std::string code;
    Code want;
  };
  for (const Case& c : std::vector<Case>{
           {403, "AccessDenied", Code::kAccess},
           {400, "RequestTimeTooSkewed", Code::kAccess},
           {404, "NoSuchKey", Code::kNotFound},
           {404, "NoSuchBucket", Code::kNotFound},
           {404, "NoSuchUpload", Code::kNotFound},
           {503, "SlowDown", Code::kUnavailable},
           {500, "InternalError", Code::kUnavailable},
           {400, "RequestTimeout", Code::kUnavailable},
           {502, "", Code::kUnavailable},
           {504, "", Code::kUnavailable},
           {429, "", Code::kUnavailable},
           {400, "InvalidArgument", Code::kIO},
           {409, "BucketNotEmpty", Code::kIO},
           {405, "MethodNotAllowed", Code::kIO},
       }) {
    EXPECT_EQ(CodeFor(c.status, c.code), c.want) << c.status << " " << c.code;
    Status st = ErrorStatus("GET k in s3://b at e", c.status, "", ErrorXml(c.code, "m"));
    EXPECT_EQ(st.code(), c.want) << c.status << " " << c.code;
  }
}

TEST(S3XmlTest, NoBody) {
  // HEAD answers carry no body: the reason phrase stands in.
  Status st = ErrorStatus("HEAD k in s3://b at e", 404, "Not Found", "");
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.message(), "HEAD k in s3://b at e: 404 Not Found");
  // Not XML: an excerpt of what came back.
  st = ErrorStatus("GET k in s3://b at e", 502, "Bad Gateway", "<html>proxy error</html>");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.message(), "GET k in s3://b at e: 502 Bad Gateway: <html>proxy error</html>");
  EXPECT_TRUE(ParseErrorBody("not xml").code.empty());
  EXPECT_TRUE(ParseErrorBody("<ListBucketResult/>").code.empty());
}

TEST(S3XmlTest, ListObjectsV2) {
  auto page = ParseListObjectsV2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bkt</Name><Prefix>a/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>a/b&amp;c</Key><LastModified>2013-05-24T00:00:00.000Z</LastModified>
    <ETag>&quot;x&quot;</ETag><Size>12345</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>a/d</Key><LastModified>2024-01-02T03:04:05Z</LastModified><Size>0</Size>
  </Contents>
</ListBucketResult>)");
  ASSERT_TRUE(page.has_value()) << page.error().message();
  EXPECT_TRUE(page->truncated);
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a/b&c");
  EXPECT_EQ(page->objects[0].size, 12345u);
  EXPECT_EQ(page->objects[0].mtime, 1369353600);
  EXPECT_EQ(page->objects[1].key, "a/d");
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].mtime, 1704164645);

  page =
      ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  ASSERT_TRUE(page.has_value());
  EXPECT_FALSE(page->truncated);
  EXPECT_TRUE(page->objects.empty());

  EXPECT_EQ(ParseListObjectsV2("<Error/>").error().code(), Code::kIO);
  EXPECT_EQ(ParseListObjectsV2("garbage").error().code(), Code::kIO);
  EXPECT_EQ(ParseListObjectsV2("<ListBucketResult><Contents><Key>k</Key><Size>x</Size>"
                               "</Contents></ListBucketResult>")
                .error()
                .code(),
            Code::kIO);
}

TEST(S3XmlTest, Multipart) {
  auto id = ParseUploadId(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
      "<UploadId>2~abc</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, "2~abc");
  EXPECT_EQ(ParseUploadId("<InitiateMultipartUploadResult/>").error().code(), Code::kIO);
  EXPECT_EQ(CompleteMultipartBody({"\"e1\"", "\"e<2>\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\""
            "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"e&lt;2&gt;\"</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3XmlTest, Iso8601) {
  EXPECT_EQ(ParseIso8601("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601("2013-05-24T00:00:00.000Z"), 1369353600);
  EXPECT_EQ(ParseIso8601("yesterday"), -1);
}

}  // namespace
}  // namespace tessera::object::s3
