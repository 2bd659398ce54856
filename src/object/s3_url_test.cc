// ParseS3Url: the accepted forms and the messages for malformed URLs.
#include <gtest/gtest.h>

#include "object/s3.h"

namespace tessera::object {
namespace {

TEST(ParseS3UrlTest, PathStyle) {
  auto opts = ParseS3Url("http://127.0.0.1:7480/mybucket");
  ASSERT_TRUE(opts.has_value()) << opts.error().message();
  EXPECT_EQ(opts->endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(opts->bucket, "mybucket");
  EXPECT_EQ(opts->region, "us-east-1");
  EXPECT_FALSE(opts->virtual_hosted);

  opts = ParseS3Url("https://minio.example.com/data-1/");
  ASSERT_TRUE(opts.has_value()) << opts.error().message();
  EXPECT_EQ(opts->endpoint, "https://minio.example.com");
  EXPECT_EQ(opts->bucket, "data-1");

  // Path-style against AWS still takes the region from the host.
  opts = ParseS3Url("https://s3.eu-central-1.amazonaws.com/bkt");
  ASSERT_TRUE(opts.has_value()) << opts.error().message();
  EXPECT_EQ(opts->endpoint, "https://s3.eu-central-1.amazonaws.com");
  EXPECT_EQ(opts->bucket, "bkt");
  EXPECT_EQ(opts->region, "eu-central-1");
  EXPECT_FALSE(opts->virtual_hosted);
}

TEST(ParseS3UrlTest, VirtualHosted) {
  auto opts = ParseS3Url("https://mybucket.s3.eu-west-1.amazonaws.com");
  ASSERT_TRUE(opts.has_value()) << opts.error().message();
  EXPECT_EQ(opts->endpoint, "https://s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(opts->bucket, "mybucket");
  EXPECT_EQ(opts->region, "eu-west-1");
  EXPECT_TRUE(opts->virtual_hosted);

  opts = ParseS3Url("https://my.dotted.bucket.s3.amazonaws.com/");
  ASSERT_TRUE(opts.has_value()) << opts.error().message();
  EXPECT_EQ(opts->bucket, "my.dotted.bucket");
  EXPECT_EQ(opts->region, "us-east-1");
  EXPECT_EQ(opts->endpoint, "https://s3.amazonaws.com");
}

void ExpectInvalid(const std::string& url, const std::string& why) {
  auto opts = ParseS3Url(url);
  ASSERT_FALSE(opts.has_value()) << url;
  EXPECT_EQ(opts.error().code(), Code::kInvalid) << url;
  const std::string& msg = opts.error().message();
  EXPECT_NE(msg.find("'" + url + "'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(why), std::string::npos) << msg;
  EXPECT_NE(msg.find("http(s)://host[:port]/bucket"), std::string::npos) << msg;
}

TEST(ParseS3UrlTest, Malformed) {
  ExpectInvalid("127.0.0.1:7480/bucket", "no scheme");
  ExpectInvalid("s3://bucket", "scheme must be http or https");
  ExpectInvalid("http://127.0.0.1:7480", "no bucket");
  ExpectInvalid("http://127.0.0.1:7480/", "no bucket");
  ExpectInvalid("http://host:port/b", "bad port 'port'");
  ExpectInvalid("http://host:99999/b", "bad port '99999'");
  ExpectInvalid("http://host:/b", "bad port ''");
  ExpectInvalid("http://host/b/extra", "extra path");
  ExpectInvalid("http:///b", "no host");
  ExpectInvalid("http://key:secret@host/b", "credentials");
  ExpectInvalid("http://host/b?x=1", "query");
  ExpectInvalid("http://host/b%20c", "bad bucket name");
  ExpectInvalid("https://example.com", "no bucket");
}

}  // namespace
}  // namespace tessera::object
