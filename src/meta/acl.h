// POSIX ACLs: the xattr value format and the rules that tie an ACL to the
// mode bits. Internal to meta/.
//
// An ACL is kept as the xattr system.posix_acl_access (or _default, on
// directories) in the kernel's binary form: a little-endian u32 version (2),
// then per entry a u16 tag, a u16 permission (rwx bits) and a u32 id, sorted
// by tag then id. The kernel enforces ACLs in its permission checks (FUSE
// with default_permissions and POSIX ACLs on); meta keeps them consistent
// with the mode as ext4 does:
//  - setting an access ACL sets the mode's user/group/other bits from it (the
//    group bits from the mask entry when there is one); an ACL that says no
//    more than the mode is not stored at all;
//  - chmod rewrites the access ACL's user, mask (or group) and other entries;
//  - a new inode under a directory with a default ACL gets the default ACL
//    masked by the requested mode as its access ACL (directories also inherit
//    the default ACL itself), and the umask is not applied; without a default
//    ACL the umask is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "meta/meta.h"

namespace tessera::meta {

struct Acl {
  enum Tag : uint16_t {
    kUserObj = 0x01,
    kUser = 0x02,
    kGroupObj = 0x04,
    kGroup = 0x08,
    kMask = 0x10,
    kOther = 0x20,
  };
  struct Entry {
    uint16_t tag = 0;
    uint16_t perm = 0;
    uint32_t id = 0xffffffff;
    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> entries;

  // kInvalid when `value` is not a well-formed, valid ACL (as posix_acl_valid).
  static Result<Acl> Decode(std::string_view value);
  std::string Encode() const;

  // True when the ACL says no more than the mode bits (owner, group, other only).
  bool IsMinimal() const;
  // The permission bits (0777) the ACL implies.
  uint32_t Mode() const;
  // chmod: the owner, mask (or group) and other entries take `mode`'s bits.
  void Chmod(uint32_t mode);
  // posix_acl_permission: whether the ACL grants `want` (rwx bits) to a
  // caller who is not the owner `owner_uid`, in the file's group `gid` or not.
  bool Grants(const Context& ctx, uint32_t owner_uid, uint32_t gid, uint32_t want) const;
  // Inheritance at create: masks the entries by `*mode` and sets the
  // permission bits of `*mode` from the result (posix_acl_create_masq).
  void CreateMask(uint32_t* mode);
};

}  // namespace tessera::meta
