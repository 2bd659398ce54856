#include "meta/acl.h"

#include <gtest/gtest.h>

namespace tessera::meta {
namespace {

Acl Make(std::vector<Acl::Entry> entries) { return Acl{std::move(entries)}; }

Context User(uint32_t uid, uint32_t gid, std::vector<uint32_t> gids = {}) {
  Context c;
  c.uid = uid;
  c.gid = gid;
  c.gids = std::move(gids);
  return c;
}

TEST(AclTest, RoundTripsTheKernelFormat) {
  Acl acl = Make({{Acl::kUserObj, 6},
                  {Acl::kUser, 4, 1001},
                  {Acl::kGroupObj, 0},
                  {Acl::kMask, 5},
                  {Acl::kOther, 0}});
  std::string v = acl.Encode();
  ASSERT_EQ(v.size(), 4u + 5 * 8);
  EXPECT_EQ(v.substr(0, 4), std::string("\x02\x00\x00\x00", 4));
  auto back = Acl::Decode(v);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->entries, acl.entries);
  EXPECT_EQ(acl.Mode(), 0650u);
  EXPECT_FALSE(acl.IsMinimal());
}

TEST(AclTest, RefusesInvalidAcls) {
  EXPECT_FALSE(Acl::Decode("\x02\x00\x00").has_value());
  EXPECT_FALSE(Acl::Decode(std::string("\x01\x00\x00\x00", 4)).has_value());
  // A named entry without a mask.
  EXPECT_FALSE(
      Acl::Decode(
          Make({{Acl::kUserObj, 7}, {Acl::kUser, 7, 5}, {Acl::kGroupObj, 7}, {Acl::kOther, 7}})
              .Encode())
          .has_value());
  // Out of order, and a repeated named user.
  EXPECT_FALSE(
      Acl::Decode(Make({{Acl::kGroupObj, 7}, {Acl::kUserObj, 7}, {Acl::kOther, 7}}).Encode())
          .has_value());
  EXPECT_FALSE(Acl::Decode(Make({{Acl::kUserObj, 7},
                                 {Acl::kUser, 7, 5},
                                 {Acl::kUser, 7, 5},
                                 {Acl::kGroupObj, 7},
                                 {Acl::kMask, 7},
                                 {Acl::kOther, 7}})
                               .Encode())
                   .has_value());
  EXPECT_TRUE(Acl::Decode(std::string("\x02\x00\x00\x00", 4)).has_value());  // empty: remove
}

TEST(AclTest, ChmodAndCreateMask) {
  Acl acl = Make({{Acl::kUserObj, 7},
                  {Acl::kUser, 6, 1001},
                  {Acl::kGroupObj, 5},
                  {Acl::kMask, 7},
                  {Acl::kOther, 5}});
  Acl chmodded = acl;
  chmodded.Chmod(0740);
  EXPECT_EQ(chmodded.entries[3].perm, 4);  // the mask, not the owning group
  EXPECT_EQ(chmodded.entries[2].perm, 5);
  EXPECT_EQ(chmodded.entries[4].perm, 0);
  uint32_t mode = S_IFREG | 0664;
  acl.CreateMask(&mode);
  EXPECT_EQ(mode, static_cast<uint32_t>(S_IFREG | 0664));
  EXPECT_EQ(acl.entries[0].perm, 6);
  EXPECT_EQ(acl.entries[3].perm, 6);
  EXPECT_EQ(acl.entries[4].perm, 4);
}

TEST(AclTest, GrantsLikeLinux) {
  Acl acl = Make({{Acl::kUserObj, 6},
                  {Acl::kUser, 6, 1001},
                  {Acl::kGroupObj, 4},
                  {Acl::kGroup, 6, 3003},
                  {Acl::kMask, 4},
                  {Acl::kOther, 0}});
  EXPECT_TRUE(acl.Grants(User(1000, 1), 1000, 500, 6));  // the owner: no mask
  EXPECT_TRUE(acl.Grants(User(1001, 1), 1000, 500, 4));  // named user, masked to r
  EXPECT_FALSE(acl.Grants(User(1001, 1), 1000, 500, 2));
  EXPECT_TRUE(acl.Grants(User(7, 1, {3003}), 1000, 500, 4));  // named group
  EXPECT_FALSE(acl.Grants(User(7, 1, {3003}), 1000, 500, 2));
  EXPECT_FALSE(acl.Grants(User(7, 500), 1000, 500, 2));  // in a group entry: not "other"
  EXPECT_FALSE(acl.Grants(User(8, 8), 1000, 500, 4));    // other
}

}  // namespace
}  // namespace tessera::meta
