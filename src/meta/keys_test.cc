// Round trips and ordering of the key schema and of the record encodings.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "meta/keys.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

TEST(KeysTest, PrefixesAreDistinct) {
  EXPECT_EQ(keys::kSetting, "setting");
  EXPECT_EQ(keys::Counter(keys::kNextInode), "CnextInode");
  std::set<std::string> kinds = {keys::Attr(7),    keys::Symlink(7),       keys::DentryPrefix(7),
                                 keys::ChunkPrefix(7), keys::XattrPrefix(7)};
  EXPECT_EQ(kinds.size(), 5u);
  for (const std::string& k : kinds) {
    EXPECT_TRUE(k.starts_with(keys::InodePrefix(7)));
    EXPECT_EQ(k.size(), 10u);
  }
}

TEST(KeysTest, InodeIsLittleEndian) {
  std::string k = keys::Attr(0x0102030405060708ull);
  ASSERT_EQ(k.size(), 10u);
  EXPECT_EQ(k[0], 'A');
  EXPECT_EQ(static_cast<uint8_t>(k[1]), 0x08);
  EXPECT_EQ(static_cast<uint8_t>(k[8]), 0x01);
  EXPECT_EQ(k[9], 'I');
  // Consecutive inodes differ in their first byte: they spread out.
  EXPECT_NE(keys::Attr(256)[1], keys::Attr(257)[1]);
}

TEST(KeysTest, DentryRoundTrip) {
  std::string k = keys::Dentry(42, "hello.txt");
  EXPECT_TRUE(k.starts_with(keys::DentryPrefix(42)));
  EXPECT_EQ(keys::ParseDentryName(k), "hello.txt");
  EXPECT_FALSE(keys::ParseDentryName(keys::Attr(42)).has_value());
  EXPECT_EQ(keys::ParseXattrName(keys::Xattr(42, "user.a")), "user.a");
}

TEST(KeysTest, ChunkKeysSortByIndex) {
  std::vector<uint32_t> indexes = {0, 1, 2, 255, 256, 65535, 65536, 1u << 24, 0xffffffffu};
  std::vector<std::string> ks;
  for (uint32_t i : indexes) {
    ks.push_back(keys::Chunk(9, i));
    EXPECT_EQ(keys::ParseChunkIndex(ks.back()), i);
    EXPECT_TRUE(ks.back().starts_with(keys::ChunkPrefix(9)));
  }
  EXPECT_TRUE(std::is_sorted(ks.begin(), ks.end()));
}

TEST(KeysTest, QueueKeysRoundTripAndSort) {
  auto d = keys::ParseDelFile(keys::DelFile(77, 1ull << 40));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->ino, 77u);
  EXPECT_EQ(d->length, 1ull << 40);
  EXPECT_LT(keys::DelFile(1, 999), keys::DelFile(2, 0));
  auto r = keys::ParseSliceRef(keys::SliceRef(123456789, 4096));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 123456789u);
  EXPECT_EQ(r->size, 4096u);
  EXPECT_LT(keys::SliceRef(255, 9), keys::SliceRef(256, 1));
  EXPECT_EQ(keys::ParseRelease(keys::Release(1ull << 40)), 1ull << 40);
  EXPECT_LT(keys::Release(255), keys::Release(256));
  EXPECT_FALSE(keys::ParseRelease(keys::SliceRef(1, 1)));
  EXPECT_EQ(keys::ParseSession(keys::Session(5)), 5u);
  auto ss = keys::ParseSustained(keys::Sustained(5, 1000));
  ASSERT_TRUE(ss);
  EXPECT_EQ(ss->sid, 5u);
  EXPECT_EQ(ss->ino, 1000u);
  EXPECT_TRUE(keys::Sustained(5, 1000).starts_with(keys::SustainedPrefix(5)));
  EXPECT_FALSE(keys::Sustained(6, 1).starts_with(keys::SustainedPrefix(5)));
}

TEST(RecordsTest, AttrRoundTrip) {
  Attr a;
  a.flags = 3;
  a.mode = S_IFREG | 04755;
  a.uid = 1000;
  a.gid = 2000;
  a.atime = {1700000000, 1};
  a.mtime = {-5, 999999999};
  a.ctime = {1ll << 40, 7};
  a.nlink = 0xfffffffe;
  a.length = (1ull << 57) - 1;
  a.rdev = 0x0801;
  a.parent = 0xfedcba9876543210ull;
  a.allocated = (1ull << 56) + 12345;
  std::string rec = EncodeAttr(a);
  EXPECT_EQ(rec.size(), kAttrRecordSize);
  auto b = DecodeAttr(rec);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(*b, a);
  EXPECT_EQ(DecodeAttr(rec.substr(0, 40)).error().code(), Code::kCorrupt);
  EXPECT_EQ(*DecodeAttr(rec + "future"), a);  // longer records carry later fields
}

// A volume made before `allocated` holds 73-byte records: they still decode,
// a file's allocated bytes unknown (st_blocks then follows the length).
TEST(RecordsTest, AttrWithoutAllocated) {
  Attr a;
  a.mode = S_IFREG | 0644;
  a.nlink = 1;
  a.length = 1 << 20;
  a.parent = 7;
  a.allocated = 4096;
  std::string rec = EncodeAttr(a).substr(0, kAttrRecordSizeNoAllocated);
  auto b = DecodeAttr(rec);
  ASSERT_TRUE(b.has_value()) << b.error().ToString();
  EXPECT_EQ(b->length, a.length);
  EXPECT_EQ(b->parent, a.parent);
  EXPECT_EQ(b->allocated, kAllocatedUnknown);
  EXPECT_EQ(b->StoredBytes(), a.length);
  EXPECT_EQ(DecodeAttr(rec.substr(0, kAttrRecordSizeNoAllocated - 1)).error().code(),
            Code::kCorrupt);
  // Re-encoded, the record grows to the current size and keeps "unknown".
  std::string again = EncodeAttr(*b);
  EXPECT_EQ(again.size(), kAttrRecordSize);
  EXPECT_EQ(DecodeAttr(again)->allocated, kAllocatedUnknown);
  // Other types store nothing as data: 0, and st_blocks follows the length.
  Attr d;
  d.mode = S_IFLNK | 0777;
  d.length = 600;
  auto e = DecodeAttr(EncodeAttr(d).substr(0, kAttrRecordSizeNoAllocated));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->allocated, 0u);
  EXPECT_EQ(e->StoredBytes(), 600u);
  a.allocated = 4096;
  EXPECT_EQ(a.StoredBytes(), 4096u);
}

TEST(RecordsTest, DentryRoundTrip) {
  auto d = DecodeDentry(EncodeDentry(S_IFDIR | 0755, 12345));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ino, 12345u);
  EXPECT_EQ(d->TypeMode(), static_cast<uint32_t>(S_IFDIR));
  EXPECT_EQ(DecodeDentry("x").error().code(), Code::kCorrupt);
}

}  // namespace
}  // namespace tessera::meta
