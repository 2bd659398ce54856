// SealSecret/UnsealSecret: the S3 secret key never sits in the settings in plain text.
#include <gtest/gtest.h>

#include "object/wrappers.h"

namespace tessera::object {
namespace {

TEST(SealSecretTest, RoundTripsAndHidesTheSecret) {
  const std::string secret = "tesseraTestSecretKey0123456789abcdefABCD";
  auto sealed = SealSecret("uuid-1", secret);
  ASSERT_TRUE(sealed.has_value());
  EXPECT_EQ(sealed->find(secret), std::string::npos);
  EXPECT_NE(*SealSecret("uuid-1", secret), *sealed);  // a fresh nonce each time
  auto back = UnsealSecret("uuid-1", *sealed);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, secret);
  auto other = UnsealSecret("uuid-2", *sealed);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), Code::kCorrupt);
  EXPECT_FALSE(UnsealSecret("uuid-1", "not base64 !!").has_value());
}

}  // namespace
}  // namespace tessera::object
