// The namespace operations over every kv engine: lookup, create, link,
// unlink, rmdir, rename, attributes, permissions, readdir and xattrs.
#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <limits>
#include <set>
#include <thread>

#include "meta/meta_test_util.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

SetAttrRequest Req(uint32_t mask, uint32_t mode = 0, uint32_t uid = 0, uint32_t gid = 0) {
  SetAttrRequest r;
  r.mask = mask;
  r.mode = mode;
  r.uid = uid;
  r.gid = gid;
  return r;
}

SetAttrRequest TimesReq(uint32_t mask, Timespec atime = {}, Timespec mtime = {}) {
  SetAttrRequest r;
  r.mask = mask;
  r.atime = atime;
  r.mtime = mtime;
  return r;
}

class NamespaceTest : public MetaTest {};
TESSERA_META_INSTANTIATE(NamespaceTest);

// --- Lookup ---

TEST_P(NamespaceTest, RootAfterFormat) {
  Attr root = AttrOf(kRootIno);
  EXPECT_TRUE(root.IsDir());
  EXPECT_EQ(root.mode & 07777, 0777u);
  EXPECT_EQ(root.nlink, 2u);
  EXPECT_EQ(root.parent, kRootIno);
}

TEST_P(NamespaceTest, LookupDotAndDotDot) {
  Ino d = MkDir(kRootIno, "d");
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, ".")->ino, kRootIno);
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "..")->ino, kRootIno);
  EXPECT_EQ(meta_->Lookup(root_, d, ".")->ino, d);
  EXPECT_EQ(meta_->Lookup(root_, d, "..")->ino, kRootIno);
  auto e = meta_->Lookup(root_, kRootIno, "d");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->ino, d);
  EXPECT_TRUE(e->attr.IsDir());
}

TEST_P(NamespaceTest, LookupErrors) {
  Ino f = MkFile(kRootIno, "f");
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, "missing"), Code::kNotFound);
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, std::string(256, 'x')), Code::kNameTooLong);
  EXPECT_CODE(meta_->Lookup(root_, f, "x"), Code::kNotDir);
  EXPECT_CODE(meta_->Lookup(root_, 999999, "x"), Code::kNotFound);
}

// --- Create ---

TEST_P(NamespaceTest, MkdirUpdatesParent) {
  Attr before = AttrOf(kRootIno);
  clock_.Advance(5'000'000'000);
  Context user = User(1000, 100);
  ASSERT_OK(meta_->Mkdir(root_, kRootIno, "d", 0755));
  Attr after = AttrOf(kRootIno);
  EXPECT_EQ(after.nlink, before.nlink + 1);
  EXPECT_EQ(after.mtime, clock_.Now());
  EXPECT_EQ(after.ctime, clock_.Now());
  auto e = meta_->Mkdir(user, kRootIno, "u", 0750);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->attr.uid, 1000u);
  EXPECT_EQ(e->attr.gid, 100u);
  EXPECT_EQ(e->attr.nlink, 2u);
  EXPECT_EQ(e->attr.parent, kRootIno);
  EXPECT_EQ(e->attr.mode, static_cast<uint32_t>(S_IFDIR | 0750));
  EXPECT_EQ(AttrOf(kRootIno).nlink, before.nlink + 2);
}

TEST_P(NamespaceTest, MknodFileAttrs) {
  auto e = meta_->Mknod(User(7, 8), kRootIno, "f", S_IFREG | 0640, 0);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->attr.IsFile());
  EXPECT_EQ(e->attr.nlink, 1u);
  EXPECT_EQ(e->attr.length, 0u);
  EXPECT_EQ(e->attr.parent, kRootIno);
  EXPECT_EQ(e->attr, AttrOf(e->ino));
  auto fifo = meta_->Mknod(root_, kRootIno, "p", S_IFIFO | 0600, 0);
  ASSERT_TRUE(fifo.has_value());
  EXPECT_TRUE(S_ISFIFO(fifo->attr.mode));
  EXPECT_CODE(meta_->Mknod(root_, kRootIno, "d", S_IFDIR | 0755, 0), Code::kInvalid);
}

TEST_P(NamespaceTest, CreateErrors) {
  Ino f = MkFile(kRootIno, "f");
  EXPECT_CODE(meta_->Mknod(root_, kRootIno, "f", S_IFREG | 0644, 0), Code::kExists);
  EXPECT_CODE(meta_->Mkdir(root_, kRootIno, "f", 0755), Code::kExists);
  EXPECT_CODE(meta_->Mkdir(root_, kRootIno, "..", 0755), Code::kExists);
  EXPECT_CODE(meta_->Mkdir(root_, kRootIno, std::string(256, 'n'), 0755), Code::kNameTooLong);
  ASSERT_OK(meta_->Mkdir(root_, kRootIno, std::string(255, 'n'), 0755));
  EXPECT_CODE(meta_->Mkdir(root_, f, "x", 0755), Code::kNotDir);
  EXPECT_CODE(meta_->Mkdir(root_, kRootIno, "a/b", 0755), Code::kInvalid);
  EXPECT_CODE(meta_->Mkdir(root_, kRootIno, "", 0755), Code::kInvalid);
  Ino gone = MkDir(kRootIno, "gone");
  ASSERT_OK(meta_->Rmdir(root_, kRootIno, "gone"));
  EXPECT_CODE(meta_->Mknod(root_, gone, "x", S_IFREG | 0644, 0), Code::kNotFound);
}

TEST_P(NamespaceTest, SetgidDirectoryIsInherited) {
  Ino d = MkDir(kRootIno, "shared", 02777);
  SetAttrRequest req = Req(kSetGid, 0, 0, 500);
  ASSERT_OK(meta_->SetAttr(root_, d, req));
  Context user = User(1000, 100);
  auto f = meta_->Mknod(user, d, "f", S_IFREG | 0644, 0);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->attr.gid, 500u);
  EXPECT_EQ(f->attr.mode & S_ISGID, 0u);
  auto sub = meta_->Mkdir(user, d, "sub", 0755);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(sub->attr.gid, 500u);
  EXPECT_NE(sub->attr.mode & S_ISGID, 0u);
  auto plain = meta_->Mknod(user, kRootIno, "plain", S_IFREG | 0644, 0);
  EXPECT_EQ(plain->attr.gid, 100u);
}

TEST_P(NamespaceTest, Symlink) {
  auto e = meta_->Symlink(root_, kRootIno, "l", "some/target");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->attr.mode, static_cast<uint32_t>(S_IFLNK | 0777));
  EXPECT_EQ(e->attr.length, 11u);
  EXPECT_EQ(*meta_->ReadLink(e->ino), "some/target");
  EXPECT_CODE(meta_->Symlink(root_, kRootIno, "long", std::string(4097, 't')),
              Code::kNameTooLong);
  ASSERT_OK(meta_->Symlink(root_, kRootIno, "max", std::string(4096, 't')));
  EXPECT_CODE(meta_->ReadLink(kRootIno), Code::kInvalid);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "l"));
  EXPECT_FALSE(RawGet(keys::Symlink(e->ino)).has_value());
}

// --- Permissions ---

TEST_P(NamespaceTest, AccessDeniedInPrivateDirectory) {
  Context owner = User(1000, 1000);
  Context other = User(2000, 2000);
  Ino priv = MkDir(kRootIno, "priv", 0700, &owner);
  MkFile(priv, "f", 0644, &owner);
  EXPECT_CODE(meta_->Lookup(other, priv, "f"), Code::kAccess);
  EXPECT_CODE(meta_->Mknod(other, priv, "g", S_IFREG | 0644, 0), Code::kAccess);
  EXPECT_CODE(meta_->Mkdir(other, priv, "g", 0755), Code::kAccess);
  EXPECT_CODE(meta_->ReadDir(other, priv, false), Code::kAccess);
  EXPECT_CODE(meta_->Unlink(other, priv, "f"), Code::kAccess);
  EXPECT_CODE(meta_->Access(other, priv, R_OK), Code::kAccess);
  ASSERT_OK(meta_->Lookup(owner, priv, "f"));
  ASSERT_OK(meta_->Lookup(root_, priv, "f"));  // root bypasses
  ASSERT_OK(meta_->ReadDir(root_, priv, false));
}

TEST_P(NamespaceTest, GroupAndOtherBits) {
  Context owner = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 0640, &owner);
  EXPECT_TRUE(meta_->Access(User(2000, 1000), f, R_OK).ok());
  EXPECT_TRUE(meta_->Access(User(2000, 5, {1000}), f, R_OK).ok());
  EXPECT_CODE(meta_->Access(User(2000, 1000), f, W_OK), Code::kAccess);
  EXPECT_CODE(meta_->Access(User(2000, 2000), f, R_OK), Code::kAccess);
  EXPECT_TRUE(meta_->Access(User(2000, 2000), f, F_OK).ok());
}

TEST_P(NamespaceTest, RootNeedsAnExecuteBitOnFiles) {
  Ino f = MkFile(kRootIno, "f", 0644);
  EXPECT_CODE(meta_->Access(root_, f, X_OK), Code::kAccess);
  ASSERT_OK(meta_->Access(root_, f, R_OK | W_OK));
  Ino x = MkFile(kRootIno, "x", 0700 | 0001);
  ASSERT_OK(meta_->Access(root_, x, X_OK));
  Ino d = MkDir(kRootIno, "d", 0);
  ASSERT_OK(meta_->Access(root_, d, R_OK | W_OK | X_OK));
}

// --- Link / unlink / rmdir ---

TEST_P(NamespaceTest, HardLinksCountLinks) {
  Ino f = MkFile(kRootIno, "a");
  Ino d = MkDir(kRootIno, "d");
  auto e = meta_->Link(root_, f, d, "b");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->attr.nlink, 2u);
  EXPECT_EQ(AttrOf(f).nlink, 2u);
  EXPECT_EQ(meta_->Lookup(root_, d, "b")->ino, f);
  ASSERT_OK(meta_->Link(root_, f, kRootIno, "c"));
  EXPECT_EQ(AttrOf(f).nlink, 3u);
  EXPECT_CODE(meta_->Link(root_, f, kRootIno, "c"), Code::kExists);
  EXPECT_CODE(meta_->Link(root_, d, kRootIno, "dlink"), Code::kPermission);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "a"));
  ASSERT_OK(meta_->Unlink(root_, d, "b"));
  EXPECT_EQ(AttrOf(f).nlink, 1u);
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "c")->ino, f);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "c"));
  EXPECT_CODE(meta_->GetAttr(f), Code::kNotFound);
}

TEST_P(NamespaceTest, LinkCountOverflow) {
  Ino f = MkFile(kRootIno, "f");
  Attr attr = AttrOf(f);
  attr.nlink = std::numeric_limits<uint32_t>::max();
  RawSet(keys::Attr(f), EncodeAttr(attr));
  EXPECT_CODE(meta_->Link(root_, f, kRootIno, "g"), Code::kTooManyLinks);
}

TEST_P(NamespaceTest, UnlinkErrors) {
  MkDir(kRootIno, "d");
  EXPECT_CODE(meta_->Unlink(root_, kRootIno, "d"), Code::kIsDir);
  EXPECT_CODE(meta_->Unlink(root_, kRootIno, "missing"), Code::kNotFound);
  EXPECT_CODE(meta_->Unlink(root_, kRootIno, std::string(300, 'x')), Code::kNameTooLong);
}

TEST_P(NamespaceTest, UnlinkUpdatesParentTimes) {
  MkFile(kRootIno, "f");
  clock_.Advance(1'000'000'000);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  EXPECT_EQ(AttrOf(kRootIno).mtime, clock_.Now());
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, "f"), Code::kNotFound);
}

TEST_P(NamespaceTest, StickyDirectory) {
  Ino tmp = MkDir(kRootIno, "tmp", 01777);
  Context alice = User(1001, 1001);
  Context bob = User(1002, 1002);
  MkFile(tmp, "a1", 0666, &alice);
  MkFile(tmp, "a2", 0666, &alice);
  MkFile(tmp, "a3", 0666, &alice);
  MkDir(tmp, "adir", 0777, &alice);
  EXPECT_CODE(meta_->Unlink(bob, tmp, "a1"), Code::kPermission);
  EXPECT_CODE(meta_->Rmdir(bob, tmp, "adir"), Code::kPermission);
  EXPECT_CODE(meta_->Rename(bob, tmp, "a1", tmp, "b1", 0), Code::kPermission);
  MkFile(tmp, "b", 0666, &bob);
  EXPECT_CODE(meta_->Rename(alice, tmp, "a2", tmp, "b", 0), Code::kPermission);  // target is bob's
  ASSERT_OK(meta_->Unlink(alice, tmp, "a1"));
  ASSERT_OK(meta_->Unlink(root_, tmp, "a2"));
  ASSERT_OK(meta_->Rename(bob, tmp, "b", tmp, "b2", 0));
  Context dir_owner = User(1003, 1003);
  Ino own = MkDir(kRootIno, "own", 01777, &dir_owner);
  MkFile(own, "x", 0666, &alice);
  ASSERT_OK(meta_->Unlink(dir_owner, own, "x"));
}

TEST_P(NamespaceTest, Rmdir) {
  Ino d = MkDir(kRootIno, "d");
  MkFile(d, "f");
  uint32_t root_links = AttrOf(kRootIno).nlink;
  EXPECT_CODE(meta_->Rmdir(root_, kRootIno, "d"), Code::kNotEmpty);
  EXPECT_CODE(meta_->Rmdir(root_, d, "f"), Code::kNotDir);
  EXPECT_CODE(meta_->Rmdir(root_, d, "."), Code::kInvalid);
  EXPECT_CODE(meta_->Rmdir(root_, d, ".."), Code::kNotEmpty);
  EXPECT_CODE(meta_->Rmdir(root_, kRootIno, "missing"), Code::kNotFound);
  ASSERT_OK(meta_->Unlink(root_, d, "f"));
  ASSERT_OK(meta_->Rmdir(root_, kRootIno, "d"));
  EXPECT_EQ(AttrOf(kRootIno).nlink, root_links - 1);
  EXPECT_CODE(meta_->GetAttr(d), Code::kNotFound);
}

// --- Rename ---

TEST_P(NamespaceTest, RenameWithinAndAcrossDirectories) {
  Ino f = MkFile(kRootIno, "f");
  Ino a = MkDir(kRootIno, "a");
  Ino b = MkDir(kRootIno, "b");
  Ino sub = MkDir(a, "sub");
  ASSERT_OK(meta_->Rename(root_, kRootIno, "f", kRootIno, "g", 0));
  EXPECT_CODE(meta_->Lookup(root_, kRootIno, "f"), Code::kNotFound);
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "g")->ino, f);
  ASSERT_OK(meta_->Rename(root_, kRootIno, "g", a, "g", 0));
  EXPECT_EQ(AttrOf(f).parent, a);
  clock_.Advance(1'000'000'000);
  ASSERT_OK(meta_->Rename(root_, a, "sub", b, "moved", 0));
  EXPECT_EQ(AttrOf(a).nlink, 2u);
  EXPECT_EQ(AttrOf(b).nlink, 3u);
  EXPECT_EQ(AttrOf(sub).parent, b);
  EXPECT_EQ(AttrOf(sub).ctime, clock_.Now());
  EXPECT_EQ(AttrOf(a).mtime, clock_.Now());
  EXPECT_EQ(AttrOf(b).mtime, clock_.Now());
  EXPECT_EQ(meta_->Lookup(root_, sub, "..")->ino, b);
  EXPECT_CODE(meta_->Rename(root_, a, "missing", b, "x", 0), Code::kNotFound);
}

TEST_P(NamespaceTest, RenameOverExistingFile) {
  Ino src = MkFile(kRootIno, "src");
  Ino dst = MkFile(kRootIno, "dst");
  uint64_t id = Write(dst, 0, 0, 1000);
  auto before = meta_->StatFs();
  ASSERT_OK(meta_->Rename(root_, kRootIno, "src", kRootIno, "dst", 0));
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "dst")->ino, src);
  EXPECT_CODE(meta_->GetAttr(dst), Code::kNotFound);
  auto after = meta_->StatFs();
  EXPECT_EQ(after->used_inodes, before->used_inodes - 1);
  EXPECT_EQ(after->used_space, before->used_space - 4096);
  EXPECT_EQ(*meta_->CleanupDeletedFiles(), 1u);
  EXPECT_EQ(Freed(), (std::vector<std::pair<uint64_t, uint32_t>>{{id, 1000}}));
}

TEST_P(NamespaceTest, RenameReplacingTypeMismatches) {
  MkDir(kRootIno, "d");
  Ino full = MkDir(kRootIno, "full");
  MkFile(full, "x");
  Ino empty = MkDir(kRootIno, "empty");
  MkFile(kRootIno, "f");
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "d", kRootIno, "f", 0), Code::kNotDir);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "f", kRootIno, "d", 0), Code::kIsDir);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "d", kRootIno, "full", 0), Code::kNotEmpty);
  uint32_t links = AttrOf(kRootIno).nlink;
  ASSERT_OK(meta_->Rename(root_, kRootIno, "d", kRootIno, "empty", 0));
  EXPECT_EQ(AttrOf(kRootIno).nlink, links - 1);
  EXPECT_CODE(meta_->GetAttr(empty), Code::kNotFound);
}

TEST_P(NamespaceTest, RenameDirectoryIntoItself) {
  Ino a = MkDir(kRootIno, "a");
  Ino b = MkDir(a, "b");
  Ino c = MkDir(b, "c");
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", a, "self", 0), Code::kInvalid);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", c, "deep", 0), Code::kInvalid);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", b, "x", kRenameExchange), Code::kNotFound);
  MkFile(c, "f");
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", c, "f", kRenameExchange), Code::kInvalid);
  ASSERT_OK(meta_->Rename(root_, b, "c", kRootIno, "c", 0));  // moving up is fine
}

TEST_P(NamespaceTest, RenameFlags) {
  MkFile(kRootIno, "a");
  MkFile(kRootIno, "b");
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", kRootIno, "b", kRenameNoReplace),
              Code::kExists);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", kRootIno, "b",
                            kRenameNoReplace | kRenameExchange),
              Code::kInvalid);
  EXPECT_CODE(meta_->Rename(root_, kRootIno, "a", kRootIno, "c", kRenameExchange),
              Code::kNotFound);
  ASSERT_OK(meta_->Rename(root_, kRootIno, "a", kRootIno, "c", kRenameNoReplace));
}

TEST_P(NamespaceTest, RenameExchangeFiles) {
  Ino d = MkDir(kRootIno, "d");
  Ino a = MkFile(kRootIno, "a");
  Ino b = MkFile(d, "b");
  ASSERT_OK(meta_->Rename(root_, kRootIno, "a", d, "b", kRenameExchange));
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "a")->ino, b);
  EXPECT_EQ(meta_->Lookup(root_, d, "b")->ino, a);
  EXPECT_EQ(AttrOf(a).parent, d);
  EXPECT_EQ(AttrOf(b).parent, kRootIno);
  EXPECT_EQ(AttrOf(a).nlink, 1u);
  EXPECT_EQ(AttrOf(b).nlink, 1u);
}

TEST_P(NamespaceTest, RenameExchangeDirectories) {
  Ino p = MkDir(kRootIno, "p");
  Ino q = MkDir(kRootIno, "q");
  Ino x = MkDir(p, "x");
  Ino f = MkFile(q, "f");
  // A directory and a file swap parents: the directory's link moves with it.
  ASSERT_OK(meta_->Rename(root_, p, "x", q, "f", kRenameExchange));
  EXPECT_EQ(meta_->Lookup(root_, q, "f")->ino, x);
  EXPECT_EQ(meta_->Lookup(root_, p, "x")->ino, f);
  EXPECT_EQ(AttrOf(x).parent, q);
  EXPECT_EQ(meta_->Lookup(root_, x, "..")->ino, q);
  EXPECT_EQ(AttrOf(p).nlink, 2u);
  EXPECT_EQ(AttrOf(q).nlink, 3u);
  // Two directories swap: nlinks stay, parents swap.
  Ino y = MkDir(p, "y");
  ASSERT_OK(meta_->Rename(root_, p, "y", q, "f", kRenameExchange));
  EXPECT_EQ(AttrOf(y).parent, q);
  EXPECT_EQ(AttrOf(x).parent, p);
  EXPECT_EQ(AttrOf(p).nlink, 3u);
  EXPECT_EQ(AttrOf(q).nlink, 3u);
}

TEST_P(NamespaceTest, RenameOntoOwnHardLinkIsNoop) {
  Ino f = MkFile(kRootIno, "a");
  ASSERT_OK(meta_->Link(root_, f, kRootIno, "b"));
  ASSERT_OK(meta_->Rename(root_, kRootIno, "a", kRootIno, "b", 0));
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "a")->ino, f);
  EXPECT_EQ(meta_->Lookup(root_, kRootIno, "b")->ino, f);
  EXPECT_EQ(AttrOf(f).nlink, 2u);
  ASSERT_OK(meta_->Rename(root_, kRootIno, "a", kRootIno, "a", 0));
}

TEST_P(NamespaceTest, RenameNeedsWriteOnBothParents) {
  Context user = User(1000, 1000);
  Ino mine = MkDir(kRootIno, "mine", 0755, &user);
  Ino theirs = MkDir(kRootIno, "theirs", 0755);
  MkFile(mine, "f", 0644, &user);
  EXPECT_CODE(meta_->Rename(user, mine, "f", theirs, "f", 0), Code::kAccess);
  ASSERT_OK(meta_->Rename(user, mine, "f", mine, "g", 0));
}

// --- SetAttr ---

TEST_P(NamespaceTest, Chmod) {
  Context owner = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 0644, &owner);
  EXPECT_CODE(meta_->SetAttr(User(2000, 2000), f, Req(kSetMode, 0777)),
              Code::kPermission);
  clock_.Advance(1'000'000'000);
  auto a = meta_->SetAttr(owner, f, Req(kSetMode, 04755));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mode, static_cast<uint32_t>(S_IFREG | 04755));
  EXPECT_EQ(a->ctime, clock_.Now());
  // The file's group is not one of the caller's: S_ISGID is dropped.
  ASSERT_OK(meta_->SetAttr(root_, f, Req(kSetGid, 0, 0, 3000)));
  a = meta_->SetAttr(owner, f, Req(kSetMode, 02755));
  EXPECT_EQ(a->mode, static_cast<uint32_t>(S_IFREG | 0755));
  a = meta_->SetAttr(root_, f, Req(kSetMode, 02755));
  EXPECT_EQ(a->mode, static_cast<uint32_t>(S_IFREG | 02755));
}

TEST_P(NamespaceTest, NonOwnerMayOnlyDropPrivileges) {
  Context owner = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 06777, &owner);
  ASSERT_OK(meta_->SetAttr(root_, f, Req(kSetMode, 06777)));
  Context writer = User(2000, 2000);
  EXPECT_CODE(meta_->SetAttr(writer, f, Req(kSetMode, 06775)), Code::kPermission);
  EXPECT_CODE(meta_->SetAttr(writer, f, Req(kSetMode, 07777)), Code::kPermission);
  EXPECT_CODE(meta_->SetAttr(writer, f, Req(kSetMode, 06777)), Code::kPermission);  // no-op
  auto a = meta_->SetAttr(writer, f, Req(kSetMode, 0777));  // the kernel's kill-suid
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->mode, static_cast<uint32_t>(S_IFREG | 0777));
}

TEST_P(NamespaceTest, ReadMovesAtimeOnlyWhenStale) {
  Ino f = MkFile(kRootIno, "f", 0644);
  Attr before = AttrOf(f);
  clock_.Advance(1'000'000'000);
  // atime == mtime: the first read moves it, ctime stays; anyone may cause it.
  auto a = meta_->SetAttr(User(2000, 2000), f, Req(kSetAtimeRead, 0));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->atime, clock_.Now());
  EXPECT_EQ(a->ctime, before.ctime);
  EXPECT_EQ(a->mtime, before.mtime);
  clock_.Advance(1'000'000'000);
  a = meta_->SetAttr(root_, f, Req(kSetAtimeRead, 0));  // atime is newer: stays
  EXPECT_EQ(a->atime.sec + 1, clock_.Now().sec);
  clock_.Advance(24ll * 3600 * 1'000'000'000);
  a = meta_->SetAttr(root_, f, Req(kSetAtimeRead, 0));  // a day old: moves
  EXPECT_EQ(a->atime, clock_.Now());
}

TEST_P(NamespaceTest, Chown) {
  Context owner = User(1000, 1000, {1001});
  Ino f = MkFile(kRootIno, "f", 0644, &owner);
  EXPECT_CODE(meta_->SetAttr(owner, f, Req(kSetUid, 0, 2000)), Code::kPermission);
  EXPECT_CODE(meta_->SetAttr(owner, f, Req(kSetGid, 0, 0, 5000)), Code::kPermission);
  EXPECT_CODE(meta_->SetAttr(User(2000, 1001), f, Req(kSetGid, 0, 0, 1001)),
              Code::kPermission);
  ASSERT_OK(meta_->SetAttr(owner, f, Req(kSetMode, 06755)));
  auto a = meta_->SetAttr(owner, f, Req(kSetGid, 0, 0, 1001));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->gid, 1001u);
  EXPECT_EQ(a->mode & (S_ISUID | S_ISGID), 0u);  // non-root chown clears suid/sgid
  a = meta_->SetAttr(root_, f, Req(kSetUid | kSetGid, 0, 42, 43));
  EXPECT_EQ(a->uid, 42u);
  EXPECT_EQ(a->gid, 43u);
}

TEST_P(NamespaceTest, SetTimes) {
  Context owner = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 0666, &owner);
  Ino ro = MkFile(kRootIno, "ro", 0644, &owner);
  Context writer = User(2000, 2000);
  clock_.Advance(3'000'000'000);
  auto a = meta_->SetAttr(writer, f, TimesReq(kSetAtimeNow | kSetMtimeNow));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->atime, clock_.Now());
  EXPECT_EQ(a->mtime, clock_.Now());
  EXPECT_EQ(a->ctime, clock_.Now());
  EXPECT_CODE(meta_->SetAttr(writer, ro, TimesReq(kSetMtimeNow)), Code::kAccess);
  Timespec t{12345, 678};
  EXPECT_CODE(meta_->SetAttr(writer, f, TimesReq(kSetMtime, {}, t)), Code::kPermission);
  a = meta_->SetAttr(owner, f, TimesReq(kSetAtime | kSetMtime, t, t));
  EXPECT_EQ(a->atime, t);
  EXPECT_EQ(a->mtime, t);
  EXPECT_EQ(AttrOf(f), *a);
}

// --- ReadDir ---

TEST_P(NamespaceTest, ReadDirPaginates) {
  Ino d = MkDir(kRootIno, "big");
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    std::string name = "entry-" + std::to_string(i * 7919 % 1000);
    names.insert(name);
    MkFile(d, name);
  }
  std::vector<std::string> seen;
  std::string after;
  for (;;) {
    auto page = meta_->ReadDir(root_, d, false, after, 64);
    ASSERT_TRUE(page.has_value());
    if (page->empty()) break;
    EXPECT_LE(page->size(), 64u);
    for (const DirEntry& e : *page) {
      EXPECT_TRUE(S_ISREG(e.attr.mode));
      seen.push_back(e.name);
    }
    after = page->back().name;
  }
  EXPECT_EQ(seen, std::vector<std::string>(names.begin(), names.end()));
  auto all = meta_->ReadDir(root_, d, false);
  EXPECT_EQ(all->size(), 1000u);
}

TEST_P(NamespaceTest, ReadDirWithAttrs) {
  Ino d = MkDir(kRootIno, "d");
  Ino f = MkFile(d, "f", 0600);
  Ino s = MkDir(d, "s");
  auto entries = meta_->ReadDir(root_, d, true);
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "f");
  EXPECT_EQ((*entries)[0].ino, f);
  EXPECT_EQ((*entries)[0].attr, AttrOf(f));
  EXPECT_EQ((*entries)[1].name, "s");
  EXPECT_EQ((*entries)[1].attr, AttrOf(s));
  EXPECT_CODE(meta_->ReadDir(root_, f, false), Code::kNotDir);
}

// --- Xattrs ---

TEST_P(NamespaceTest, XattrFlags) {
  Ino f = MkFile(kRootIno, "f");
  EXPECT_CODE(meta_->GetXattr(root_, f, "user.a"), Code::kNoData);
  EXPECT_CODE(meta_->SetXattr(root_, f, "user.a", "1", XATTR_REPLACE), Code::kNoData);
  ASSERT_OK(meta_->SetXattr(root_, f, "user.a", "1", XATTR_CREATE));
  EXPECT_CODE(meta_->SetXattr(root_, f, "user.a", "2", XATTR_CREATE), Code::kExists);
  ASSERT_OK(meta_->SetXattr(root_, f, "user.a", "2", XATTR_REPLACE));
  ASSERT_OK(meta_->SetXattr(root_, f, "user.b", "", 0));
  EXPECT_EQ(*meta_->GetXattr(root_, f, "user.a"), "2");
  EXPECT_EQ(*meta_->GetXattr(root_, f, "user.b"), "");
  EXPECT_EQ(*meta_->ListXattr(root_, f), (std::vector<std::string>{"user.a", "user.b"}));
  ASSERT_OK(meta_->RemoveXattr(root_, f, "user.a"));
  EXPECT_CODE(meta_->RemoveXattr(root_, f, "user.a"), Code::kNoData);
  EXPECT_EQ(*meta_->ListXattr(root_, f), (std::vector<std::string>{"user.b"}));
}

TEST_P(NamespaceTest, XattrLimitsAndPermissions) {
  Context owner = User(1000, 1000);
  Ino f = MkFile(kRootIno, "f", 0600, &owner);
  EXPECT_CODE(meta_->SetXattr(owner, f, "", "v", 0), Code::kRange);
  EXPECT_CODE(meta_->SetXattr(owner, f, std::string(256, 'n'), "v", 0), Code::kRange);
  EXPECT_CODE(meta_->SetXattr(owner, f, "user.big", std::string(65537, 'v'), 0), Code::kTooBig);
  ASSERT_OK(meta_->SetXattr(owner, f, "user.max", std::string(65536, 'v'), 0));
  Context other = User(2000, 2000);
  EXPECT_CODE(meta_->SetXattr(other, f, "user.x", "v", 0), Code::kAccess);
  EXPECT_CODE(meta_->GetXattr(other, f, "user.max"), Code::kAccess);
  EXPECT_CODE(meta_->ListXattr(other, f), Code::kAccess);
  EXPECT_CODE(meta_->RemoveXattr(other, f, "user.max"), Code::kAccess);
  ASSERT_OK(meta_->Unlink(owner, kRootIno, "f"));
  EXPECT_TRUE(RawScan(keys::XattrPrefix(f)).empty());
}

TEST_P(NamespaceTest, XattrNamespaces) {
  Ino f = MkFile(kRootIno, "f", 0644);
  EXPECT_CODE(meta_->SetXattr(root_, f, "bogus.a", "v", 0), Code::kNotSupported);
  EXPECT_CODE(meta_->SetXattr(root_, f, "system.other", "v", 0), Code::kNotSupported);
  EXPECT_CODE(meta_->GetXattr(root_, f, "bogus.a"), Code::kNotSupported);
  EXPECT_CODE(meta_->SetXattr(root_, f, "user.", "v", 0), Code::kInvalid);
  ASSERT_OK(meta_->SetXattr(root_, f, "trusted.t", "v", 0));
  ASSERT_OK(meta_->SetXattr(root_, f, "security.s", "v", 0));
  ASSERT_OK(meta_->SetXattr(root_, f, "user.u", "v", 0));
  EXPECT_EQ(*meta_->ListXattr(root_, f),
            (std::vector<std::string>{"security.s", "trusted.t", "user.u"}));
  // trusted.* is listed for root only.
  EXPECT_EQ(*meta_->ListXattr(User(1000, 1000), f),
            (std::vector<std::string>{"security.s", "user.u"}));
}

TEST_P(NamespaceTest, AclsFollowTheMode) {
  // {version 2} user::rw- user:1001:r-- group::--- mask::r-x other::---
  const std::string acl("\x02\0\0\0"
                        "\x01\0\x06\0\xff\xff\xff\xff" "\x02\0\x04\0\xe9\x03\0\0"
                        "\x04\0\0\0\xff\xff\xff\xff" "\x10\0\x05\0\xff\xff\xff\xff"
                        "\x20\0\0\0\xff\xff\xff\xff", 44);
  Ino f = MkFile(kRootIno, "f", 0600);
  EXPECT_CODE(meta_->SetXattr(User(1001, 1), f, kAclAccessXattr, acl, 0), Code::kPermission);
  ASSERT_OK(meta_->SetXattr(root_, f, kAclAccessXattr, acl, 0));
  EXPECT_EQ(AttrOf(f).mode, static_cast<uint32_t>(S_IFREG | 0650));
  // The named user may read through the ACL although the mode says "other: none".
  ASSERT_OK(meta_->Open(User(1001, 1), f, O_RDONLY));
  ASSERT_OK(meta_->Close(f));
  EXPECT_CODE(meta_->Open(User(1001, 1), f, O_WRONLY), Code::kAccess);
  EXPECT_CODE(meta_->Open(User(1002, 1), f, O_RDONLY), Code::kAccess);
  // chmod rewrites the mask.
  ASSERT_OK(meta_->SetAttr(root_, f, Req(kSetMode, 0600)));
  EXPECT_EQ(meta_->GetXattr(root_, f, kAclAccessXattr)->at(30), '\0');
  // A default ACL is inherited, masked by the mode; the umask is not applied.
  Ino d = MkDir(kRootIno, "d");
  EXPECT_CODE(meta_->SetXattr(root_, f, kAclDefaultXattr, acl, 0), Code::kAccess);
  ASSERT_OK(meta_->SetXattr(root_, d, kAclDefaultXattr, acl, 0));
  Context masked = root_;
  masked.umask = 077;
  auto child = meta_->Mknod(masked, d, "c", S_IFREG | 0644, 0);
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->attr.mode, static_cast<uint32_t>(S_IFREG | 0640));
  EXPECT_TRUE(meta_->GetXattr(root_, child->ino, kAclAccessXattr).has_value());
  auto sub = meta_->Mkdir(masked, d, "s", 0755);
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(*meta_->GetXattr(root_, sub->ino, kAclDefaultXattr), acl);
  // Without one, the umask is.
  auto plain = meta_->Mknod(masked, kRootIno, "p", S_IFREG | 0666, 0);
  EXPECT_EQ(plain->attr.mode, static_cast<uint32_t>(S_IFREG | 0600));
  // An ACL that says no more than a mode is not kept.
  const std::string minimal("\x02\0\0\0" "\x01\0\x07\0\xff\xff\xff\xff"
                            "\x04\0\x05\0\xff\xff\xff\xff" "\x20\0\x01\0\xff\xff\xff\xff", 28);
  ASSERT_OK(meta_->SetXattr(root_, f, kAclAccessXattr, minimal, 0));
  EXPECT_EQ(AttrOf(f).mode, static_cast<uint32_t>(S_IFREG | 0751));
  EXPECT_CODE(meta_->GetXattr(root_, f, kAclAccessXattr), Code::kNoData);
}

// --- Concurrency ---

TEST_P(NamespaceTest, ConcurrentCreates) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  Ino d = MkDir(kRootIno, "d");
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto e = i % 5 == 0 ? meta_->Mkdir(root_, d, name, 0755)
                            : meta_->Mknod(root_, d, name, S_IFREG | 0644, 0);
        if (!e) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto entries = meta_->ReadDir(root_, d, true);
  ASSERT_TRUE(entries.has_value());
  EXPECT_EQ(entries->size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<Ino> inos;
  for (const DirEntry& e : *entries) inos.insert(e.ino);
  EXPECT_EQ(inos.size(), entries->size());
  EXPECT_EQ(AttrOf(d).nlink, 2u + kThreads * kPerThread / 5);
}

}  // namespace
}  // namespace tessera::meta
