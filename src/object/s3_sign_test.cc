// SigV4 signer against the examples in AWS's S3 documentation
// ("Signature Calculations for the Authorization Header").
#include "object/s3_sign.h"

#include <gtest/gtest.h>

namespace tessera::object::s3 {
namespace {

constexpr char kAccess[] = "AKIAIOSFODNN7EXAMPLE";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SignInput Example(std::string method, std::string path, Params query) {
  SignInput in;
  in.method = std::move(method);
  in.path = std::move(path);
  in.query = std::move(query);
  in.amz_date = "20130524T000000Z";
  in.region = "us-east-1";
  in.payload_hash = kEmpty;
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-date", in.amz_date},
                {"x-amz-content-sha256", kEmpty}};
  return in;
}

TEST(S3SignTest, GetObjectExample) {
  SignInput in = Example("GET", "/test.txt", {});
  in.headers.emplace_back("Range", "bytes=0-9");
  Signature sig = SignV4(in, kAccess, kSecret);
  EXPECT_EQ(sig.canonical_request,
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "range:bytes=0-9\n"
            "x-amz-content-sha256:" +
                std::string(kEmpty) +
                "\n"
                "x-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" +
                kEmpty);
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
            "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(S3SignTest, PutObjectExample) {
  std::string body = "Welcome to Amazon S3.";
  SignInput in = Example("PUT", "/test%24file.text", {});
  in.payload_hash = Sha256Hex(body);
  EXPECT_EQ(in.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  in.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                {"x-amz-date", in.amz_date},
                {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                {"x-amz-content-sha256", in.payload_hash}};
  EXPECT_EQ(UriEncode("test$file.text", true), "test%24file.text");
  EXPECT_EQ(SignV4(in, kAccess, kSecret).signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(S3SignTest, GetBucketLifecycleExample) {
  SignInput in = Example("GET", "/", {{"lifecycle", ""}});
  Signature sig = SignV4(in, kAccess, kSecret);
  EXPECT_NE(sig.canonical_request.find("GET\n/\nlifecycle=\n"), std::string::npos);
  EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(S3SignTest, ListObjectsExample) {
  // Parameters are sorted whatever order they come in.
  SignInput in = Example("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}});
  Signature sig = SignV4(in, kAccess, kSecret);
  EXPECT_NE(sig.canonical_request.find("GET\n/\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3SignTest, UriEncoding) {
  EXPECT_EQ(UriEncode("a/b c+d~e_f.g-h", true), "a/b%20c%2Bd~e_f.g-h");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("é*=&?%", false), "%C3%A9%2A%3D%26%3F%25");
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(S3SignTest, CanonicalQueryEncodesValues) {
  EXPECT_EQ(CanonicalQueryString({{"start-after", "vol/chunks/0"},
                                  {"prefix", "a b"},
                                  {"list-type", "2"},
                                  {"uploads", ""}}),
            "list-type=2&prefix=a%20b&start-after=vol%2Fchunks%2F0&uploads=");
  EXPECT_EQ(CanonicalQueryString({}), "");
}

TEST(S3SignTest, HeaderValuesAreTrimmed) {
  SignInput a = Example("GET", "/x", {});
  SignInput b = a;
  b.headers.emplace_back("X-Amz-Meta-Note", "  two   words ");
  a.headers.emplace_back("x-amz-meta-note", "two words");
  EXPECT_EQ(SignV4(a, kAccess, kSecret).signature, SignV4(b, kAccess, kSecret).signature);
}

TEST(S3SignTest, Digests) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(AmzDate(1369353600), "20130524T000000Z");
  // RFC 4231 test case 2.
  std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_EQ(mac.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(mac[0]), 0x5b);
  EXPECT_EQ(static_cast<unsigned char>(mac[31]), 0x43);
}

}  // namespace
}  // namespace tessera::object::s3
