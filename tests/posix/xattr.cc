// Extended attributes (user., trusted., security.) and POSIX ACLs
// (system.posix_acl_access / _default, in the kernel's binary xattr form).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "posix/suite.h"

namespace posixsuite {
namespace {

std::string Get(const std::string& path, const std::string& name) {
  char buf[70000];
  ssize_t n = getxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) Fail("getxattr " + name + " failed: " + ErrnoName(errno));
  return std::string(buf, static_cast<size_t>(n));
}

void Set(const std::string& path, const std::string& name, const std::string& value,
         int flags = 0) {
  if (setxattr(path.c_str(), name.c_str(), value.data(), value.size(), flags) != 0) {
    Fail("setxattr " + name + " failed: " + ErrnoName(errno));
  }
}

std::vector<std::string> List(const std::string& path) {
  char buf[65536];
  ssize_t n = listxattr(path.c_str(), buf, sizeof buf);
  if (n < 0) Fail("listxattr failed: " + ErrnoName(errno));
  std::vector<std::string> out;
  for (ssize_t i = 0; i < n;) {
    std::string name(buf + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- The ACL xattr format: a little-endian u32 version (2), then
// {u16 tag, u16 perm, u32 id} per entry, sorted by tag then id. ---
enum : uint16_t {
  kUserObj = 1,
  kUserE = 2,
  kGroupObj = 4,
  kGroupE = 8,
  kMask = 0x10,
  kOtherE = 0x20
};
struct AclEntry {
  uint16_t tag;
  uint16_t perm;
  uint32_t id = 0xffffffff;
};

std::string Acl(std::vector<AclEntry> entries) {
  std::string out;
  auto put16 = [&](uint16_t v) { out.push_back(char(v & 0xff)), out.push_back(char(v >> 8)); };
  auto put32 = [&](uint32_t v) { put16(uint16_t(v & 0xffff)), put16(uint16_t(v >> 16)); };
  put32(2);
  for (const auto& e : entries) put16(e.tag), put16(e.perm), put32(e.id);
  return out;
}

const char* kAccess = "system.posix_acl_access";
const char* kDefault = "system.posix_acl_default";

}  // namespace

POSIX_CASE(xattr_set_get_list_remove) {
  WriteFile(env.P("f"), "x");
  Set(env.P("f"), "user.a", "one");
  Set(env.P("f"), "user.b", std::string("\0two\xff", 5));
  CHECK_EQ(Get(env.P("f"), "user.a"), std::string("one"));
  CHECK_EQ(Get(env.P("f"), "user.b"), std::string("\0two\xff", 5));
  CHECK_TRUE((List(env.P("f")) == std::vector<std::string>{"user.a", "user.b"}));
  CHECK_OK(removexattr(env.P("f").c_str(), "user.a"));
  CHECK_TRUE((List(env.P("f")) == std::vector<std::string>{"user.b"}));
}

POSIX_CASE(xattr_on_directory) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Set(env.P("d"), "user.k", "v");
  CHECK_EQ(Get(env.P("d"), "user.k"), std::string("v"));
}

POSIX_CASE(xattr_empty_value) {
  WriteFile(env.P("f"), "x");
  Set(env.P("f"), "user.empty", "");
  CHECK_EQ(getxattr(env.P("f").c_str(), "user.empty", nullptr, 0), ssize_t{0});
}

POSIX_CASE(xattr_create_flag) {
  WriteFile(env.P("f"), "x");
  Set(env.P("f"), "user.a", "1", XATTR_CREATE);
  CHECK_ERR(setxattr(env.P("f").c_str(), "user.a", "2", 1, XATTR_CREATE), EEXIST);
  CHECK_EQ(Get(env.P("f"), "user.a"), std::string("1"));
}

POSIX_CASE(xattr_replace_flag) {
  WriteFile(env.P("f"), "x");
  CHECK_ERR(setxattr(env.P("f").c_str(), "user.a", "2", 1, XATTR_REPLACE), ENODATA);
  Set(env.P("f"), "user.a", "1");
  Set(env.P("f"), "user.a", "22", XATTR_REPLACE);
  CHECK_EQ(Get(env.P("f"), "user.a"), std::string("22"));
}

POSIX_CASE(xattr_missing) {
  WriteFile(env.P("f"), "x");
  char buf[16];
  CHECK_ERR(getxattr(env.P("f").c_str(), "user.none", buf, sizeof buf), ENODATA);
  CHECK_ERR(removexattr(env.P("f").c_str(), "user.none"), ENODATA);
}

POSIX_CASE(xattr_get_sizing) {
  WriteFile(env.P("f"), "x");
  Set(env.P("f"), "user.a", "0123456789");
  CHECK_EQ(getxattr(env.P("f").c_str(), "user.a", nullptr, 0), ssize_t{10});
  char buf[10];
  CHECK_ERR(getxattr(env.P("f").c_str(), "user.a", buf, 9), ERANGE);
  CHECK_EQ(getxattr(env.P("f").c_str(), "user.a", buf, 10), ssize_t{10});
}

POSIX_CASE(xattr_list_sizing) {
  WriteFile(env.P("f"), "x");
  CHECK_EQ(listxattr(env.P("f").c_str(), nullptr, 0), ssize_t{0});
  Set(env.P("f"), "user.abc", "1");
  Set(env.P("f"), "user.de", "2");
  const ssize_t want = sizeof("user.abc") + sizeof("user.de");
  CHECK_EQ(listxattr(env.P("f").c_str(), nullptr, 0), want);
  char buf[64];
  CHECK_ERR(listxattr(env.P("f").c_str(), buf, static_cast<size_t>(want - 1)), ERANGE);
  CHECK_EQ(listxattr(env.P("f").c_str(), buf, static_cast<size_t>(want)), want);
}

POSIX_CASE(xattr_name_limits) {
  WriteFile(env.P("f"), "x");
  std::string name = "user." + std::string(250, 'n');  // 255 bytes: the limit
  Set(env.P("f"), name, "v");
  CHECK_EQ(Get(env.P("f"), name), std::string("v"));
  CHECK_ERR(setxattr(env.P("f").c_str(), (name + "x").c_str(), "v", 1, 0), ERANGE);
  CHECK_ERR(setxattr(env.P("f").c_str(), "user.", "v", 1, 0), EINVAL);
}

POSIX_CASE(xattr_value_limits) {
  WriteFile(env.P("f"), "x");
  std::string v = Pattern(2000, 3);
  Set(env.P("f"), "user.big", v);
  CHECK_EQ(Get(env.P("f"), "user.big"), v);
  std::string huge(65537, 'h');
  CHECK_ERR(setxattr(env.P("f").c_str(), "user.huge", huge.data(), huge.size(), 0), E2BIG);
}

POSIX_CASE(xattr_unknown_namespace) {
  WriteFile(env.P("f"), "x");
  CHECK_ERR(setxattr(env.P("f").c_str(), "bogus.a", "v", 1, 0), EOPNOTSUPP);
  char buf[8];
  CHECK_ERR(getxattr(env.P("f").c_str(), "bogus.a", buf, sizeof buf), EOPNOTSUPP);
  CHECK_ERR(setxattr(env.P("f").c_str(), "system.bogus", "v", 1, 0), EOPNOTSUPP);
}

POSIX_CASE(xattr_trusted_root_only) {
  WriteFile(env.P("f"), "x", 0666);
  Set(env.P("f"), "trusted.t", "secret");
  Set(env.P("f"), "user.u", "plain");
  CHECK_EQ(Get(env.P("f"), "trusted.t"), std::string("secret"));
  AsUser([&] {
    char buf[16];
    CHECK_ERR(getxattr(env.P("f").c_str(), "trusted.t", buf, sizeof buf), ENODATA);
    CHECK_ERR(setxattr(env.P("f").c_str(), "trusted.x", "v", 1, 0), EPERM);
    CHECK_TRUE((List(env.P("f")) == std::vector<std::string>{"user.u"}));
  });
  CHECK_TRUE((List(env.P("f")) == std::vector<std::string>{"trusted.t", "user.u"}));
}

POSIX_CASE(xattr_security_namespace) {
  WriteFile(env.P("f"), "x", 0666);
  Set(env.P("f"), "security.tessera", "label");
  CHECK_EQ(Get(env.P("f"), "security.tessera"), std::string("label"));
  AsUser([&] {
    CHECK_EQ(Get(env.P("f"), "security.tessera"), std::string("label"));
    CHECK_ERR(setxattr(env.P("f").c_str(), "security.other", "v", 1, 0), EPERM);
  });
}

POSIX_CASE(xattr_user_permissions) {
  WriteFile(env.P("f"), "x", 0644);
  Set(env.P("f"), "user.a", "1");
  WriteFile(env.P("secret"), "x", 0600);
  Set(env.P("secret"), "user.a", "1");
  AsUser([&] {
    CHECK_EQ(Get(env.P("f"), "user.a"), std::string("1"));
    CHECK_ERR(setxattr(env.P("f").c_str(), "user.b", "v", 1, 0), EACCES);
    CHECK_ERR(removexattr(env.P("f").c_str(), "user.a"), EACCES);
    char buf[8];
    CHECK_ERR(getxattr(env.P("secret").c_str(), "user.a", buf, sizeof buf), EACCES);
  });
}

POSIX_CASE(xattr_user_not_on_symlink_or_fifo) {
  CHECK_OK(symlink("nowhere", env.P("l").c_str()));
  CHECK_ERR(lsetxattr(env.P("l").c_str(), "user.a", "v", 1, 0), EPERM);
  CHECK_OK(mkfifo(env.P("p").c_str(), 0644));
  CHECK_ERR(setxattr(env.P("p").c_str(), "user.a", "v", 1, 0), EPERM);
  CHECK_OK(lsetxattr(env.P("l").c_str(), "trusted.a", "v", 1, 0));
}

POSIX_CASE(xattr_changes_ctime) {
  WriteFile(env.P("f"), "x");
  SetOldTimes(env.P("f"));
  struct stat before = Stat(env.P("f"));
  Tick();
  Set(env.P("f"), "user.a", "1");
  struct stat after = Stat(env.P("f"));
  CHECK_TRUE(Later(after.st_ctim, before.st_ctim));
  CHECK_TRUE(IsOld(after.st_mtim));
}

POSIX_CASE(xattr_survive_rename_and_link) {
  WriteFile(env.P("f"), "x");
  Set(env.P("f"), "user.a", "1");
  CHECK_OK(rename(env.P("f").c_str(), env.P("g").c_str()));
  CHECK_OK(link(env.P("g").c_str(), env.P("h").c_str()));
  CHECK_EQ(Get(env.P("h"), "user.a"), std::string("1"));
}

// --- POSIX ACLs ---

POSIX_CASE(acl_access_sets_mode) {
  WriteFile(env.P("f"), "x", 0600);
  std::string acl =
      Acl({{kUserObj, 6}, {kUserE, 4, kUser}, {kGroupObj, 0}, {kMask, 5}, {kOtherE, 0}});
  Set(env.P("f"), kAccess, acl);
  CHECK_EQ(Get(env.P("f"), kAccess), acl);
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0650});  // group bits show the mask
  CHECK_TRUE((List(env.P("f")) == std::vector<std::string>{kAccess}));
}

POSIX_CASE(acl_named_user_grants) {
  WriteFile(env.P("f"), "secret", 0600);
  Set(env.P("f"), kAccess,
      Acl({{kUserObj, 6}, {kUserE, 4, kUser}, {kGroupObj, 0}, {kMask, 4}, {kOtherE, 0}}));
  AsUser([&] {
    CHECK_EQ(ReadFile(env.P("f")), std::string("secret"));
    CHECK_ERR(open(env.P("f").c_str(), O_WRONLY), EACCES);
  });
  AsUser2([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
}

POSIX_CASE(acl_named_group_grants) {
  WriteFile(env.P("f"), "secret", 0600);
  Set(env.P("f"), kAccess,
      Acl({{kUserObj, 6}, {kGroupObj, 0}, {kGroupE, 6, kExtra}, {kMask, 6}, {kOtherE, 0}}));
  AsUser([&] { close(CHECK_OK(open(env.P("f").c_str(), O_RDWR))); });
  AsUser2([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
}

POSIX_CASE(acl_mask_limits) {
  WriteFile(env.P("f"), "x", 0600);
  Set(env.P("f"), kAccess,
      Acl({{kUserObj, 6}, {kUserE, 6, kUser}, {kGroupObj, 0}, {kMask, 4}, {kOtherE, 0}}));
  AsUser([&] {
    CHECK_ERR(open(env.P("f").c_str(), O_WRONLY), EACCES);
    close(CHECK_OK(open(env.P("f").c_str(), O_RDONLY)));
  });
}

POSIX_CASE(acl_chmod_updates_mask) {
  WriteFile(env.P("f"), "x", 0600);
  Set(env.P("f"), kAccess,
      Acl({{kUserObj, 6}, {kUserE, 6, kUser}, {kGroupObj, 4}, {kMask, 6}, {kOtherE, 0}}));
  CHECK_OK(chmod(env.P("f").c_str(), 0740));
  CHECK_EQ(Get(env.P("f"), kAccess),
           Acl({{kUserObj, 7}, {kUserE, 6, kUser}, {kGroupObj, 4}, {kMask, 4}, {kOtherE, 0}}));
  AsUser([&] {
    CHECK_ERR(open(env.P("f").c_str(), O_RDWR), EACCES);
    close(CHECK_OK(open(env.P("f").c_str(), O_RDONLY)));
  });
}

POSIX_CASE(acl_minimal_is_mode) {
  WriteFile(env.P("f"), "x", 0600);
  Set(env.P("f"), kAccess, Acl({{kUserObj, 7}, {kGroupObj, 5}, {kOtherE, 1}}));
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0751});
  char buf[64];
  CHECK_ERR(getxattr(env.P("f").c_str(), kAccess, buf, sizeof buf), ENODATA);
}

POSIX_CASE(acl_default_inherited_by_file) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  std::string def =
      Acl({{kUserObj, 7}, {kUserE, 6, kUser}, {kGroupObj, 5}, {kMask, 7}, {kOtherE, 0}});
  Set(env.P("d"), kDefault, def);
  CHECK_EQ(Get(env.P("d"), kDefault), def);
  umask(077);  // ignored where a default ACL applies
  close(Open(env.P("d/f"), O_CREAT | O_WRONLY, 0664));
  CHECK_EQ(ModeOf(env.P("d/f")), mode_t{0660});
  CHECK_EQ(Get(env.P("d/f"), kAccess),
           Acl({{kUserObj, 6}, {kUserE, 6, kUser}, {kGroupObj, 5}, {kMask, 6}, {kOtherE, 0}}));
  char buf[64];
  CHECK_ERR(getxattr(env.P("d/f").c_str(), kDefault, buf, sizeof buf), ENODATA);
  AsUser([&] { close(CHECK_OK(open(env.P("d/f").c_str(), O_RDWR))); });
}

POSIX_CASE(acl_default_inherited_by_dir) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  std::string def =
      Acl({{kUserObj, 7}, {kGroupObj, 5}, {kGroupE, 7, kExtra}, {kMask, 7}, {kOtherE, 5}});
  Set(env.P("d"), kDefault, def);
  CHECK_OK(mkdir(env.P("d/sub").c_str(), 0750));
  CHECK_EQ(Get(env.P("d/sub"), kDefault), def);
  CHECK_EQ(Get(env.P("d/sub"), kAccess),
           Acl({{kUserObj, 7}, {kGroupObj, 5}, {kGroupE, 7, kExtra}, {kMask, 5}, {kOtherE, 0}}));
  CHECK_EQ(ModeOf(env.P("d/sub")), mode_t{0750});
}

POSIX_CASE(acl_default_minimal_applies_no_umask) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Set(env.P("d"), kDefault, Acl({{kUserObj, 7}, {kGroupObj, 7}, {kOtherE, 7}}));
  umask(077);
  close(Open(env.P("d/f"), O_CREAT | O_WRONLY, 0666));
  CHECK_EQ(ModeOf(env.P("d/f")), mode_t{0666});
  char buf[64];
  CHECK_ERR(getxattr(env.P("d/f").c_str(), kAccess, buf, sizeof buf), ENODATA);
}

POSIX_CASE(acl_remove_default) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Set(env.P("d"), kDefault, Acl({{kUserObj, 7}, {kGroupObj, 7}, {kOtherE, 7}}));
  CHECK_OK(removexattr(env.P("d").c_str(), kDefault));
  umask(022);
  close(Open(env.P("d/f"), O_CREAT | O_WRONLY, 0666));
  CHECK_EQ(ModeOf(env.P("d/f")), mode_t{0644});
}

POSIX_CASE(acl_default_on_file_denied) {
  WriteFile(env.P("f"), "x");
  std::string def = Acl({{kUserObj, 7}, {kGroupObj, 7}, {kOtherE, 7}});
  CHECK_ERR(setxattr(env.P("f").c_str(), kDefault, def.data(), def.size(), 0), EACCES);
}

POSIX_CASE(acl_invalid) {
  WriteFile(env.P("f"), "x");
  std::string bad = Acl({{kUserObj, 7}, {kUserE, 7, kUser}, {kGroupObj, 7}, {kOtherE, 7}});
  CHECK_ERR(setxattr(env.P("f").c_str(), kAccess, bad.data(), bad.size(), 0), EINVAL);  // no mask
  std::string junk = "\x02\x00\x00\x00\x01";
  CHECK_ERR(setxattr(env.P("f").c_str(), kAccess, junk.data(), junk.size(), 0), EINVAL);
}

POSIX_CASE(acl_set_needs_owner) {
  WriteFile(env.P("f"), "x", 0666);
  AsUser([&] {
    std::string acl = Acl({{kUserObj, 7}, {kGroupObj, 7}, {kOtherE, 7}});
    CHECK_ERR(setxattr(env.P("f").c_str(), kAccess, acl.data(), acl.size(), 0), EPERM);
  });
}

}  // namespace posixsuite
