#include <gtest/gtest.h>

#include "common/encoding.h"
#include "common/status.h"
#include "common/url.h"

namespace tessera {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Err(Code::kInvalid, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).error().code(), Code::kInvalid);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).ToErrno(), EINVAL);
}

TEST(StatusTest, ErrnoRoundTrip) {
  for (int e : {ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, EINVAL, ENAMETOOLONG, EACCES, EPERM,
                ENOSPC, EXDEV, EBUSY}) {
    EXPECT_EQ(Status::FromErrno(e, "x").ToErrno(), e);
  }
  EXPECT_EQ(Status::Corrupt("bad block").ToErrno(), EIO);
}

TEST(EncodingTest, BigEndianSortsLikeNumbers) {
  std::string a, b;
  PutBE64(&a, 255);
  PutBE64(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(GetBE64(a.data()), 255u);
  std::string c;
  PutLE64(&c, 0x0102030405060708ULL);
  PutBE32(&c, 0xdeadbeef);
  PutU8(&c, 7);
  Decoder d(c);
  EXPECT_EQ(d.LE64(), 0x0102030405060708ULL);
  EXPECT_EQ(d.BE32(), 0xdeadbeefu);
  EXPECT_EQ(d.U8(), 7);
  EXPECT_TRUE(d.ok());
  d.U8();
  EXPECT_FALSE(d.ok());
}

TEST(UrlTest, ParsesNetworkUrl) {
  auto u = ParseUrl("redis://alice:s%40cret@127.0.0.1:6379/2", {"redis", "sqlite3"});
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->scheme, "redis");
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "s@cret");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6379);
  EXPECT_EQ(u->path, "/2");
  EXPECT_EQ(u->Redacted().find("s%40cret"), std::string::npos);
}

TEST(UrlTest, RedactionHidesAPasswordWithARawAt) {
  auto u = ParseUrl("postgres://bob:p@ss@db.example:5432/vol", {"postgres"});
  ASSERT_TRUE(u.has_value()) << u.error().ToString();
  EXPECT_EQ(u->password, "p@ss");
  EXPECT_EQ(u->host, "db.example");
  EXPECT_EQ(u->Redacted(), "postgres://bob:****@db.example:5432/vol");
}

TEST(UrlTest, SqlitePathIsVerbatim) {
  auto u = ParseUrl("sqlite3:///tmp/a b/meta.db", {"sqlite3"});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->path, "/tmp/a b/meta.db");
}

TEST(UrlTest, UnknownSchemeListsSupported) {
  auto u = ParseUrl("mysql://x", {"sqlite3", "mem"});
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message().find("sqlite3://"), std::string::npos);
  EXPECT_FALSE(ParseUrl("/just/a/path", {"sqlite3"}).has_value());
  EXPECT_FALSE(ParseUrl("redis://host:99999999/0", {"redis"}).has_value());
}

}  // namespace
}  // namespace tessera
