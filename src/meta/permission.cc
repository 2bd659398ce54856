// POSIX permission checks for a caller (Context) against an inode's attributes.
//
// Root (uid 0) passes read and write checks and execute checks on
// directories; on other files root needs at least one execute bit, as on Linux.
#include <unistd.h>

#include <algorithm>

#include "meta/acl.h"
#include "meta/keys.h"
#include "meta/ops.h"

namespace tessera::meta {

bool Context::InGroup(uint32_t g) const {
  return g == gid || std::find(gids.begin(), gids.end(), g) != gids.end();
}

bool IsOwnerOrRoot(const Context& ctx, const Attr& attr) {
  return ctx.uid == 0 || ctx.uid == attr.uid;
}

Status CheckAccess(const Context& ctx, const Attr& attr, int mask) {
  mask &= R_OK | W_OK | X_OK;
  if (mask == 0) return Status::Ok();
  if (ctx.uid == 0) {
    if ((mask & X_OK) && !attr.IsDir() && (attr.mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0) {
      return Status(Code::kAccess, "no execute bit set for root");
    }
    return Status::Ok();
  }
  uint32_t bits;
  if (ctx.uid == attr.uid) {
    bits = (attr.mode >> 6) & 7;
  } else if (ctx.InGroup(attr.gid)) {
    bits = (attr.mode >> 3) & 7;
  } else {
    bits = attr.mode & 7;
  }
  if ((static_cast<uint32_t>(mask) & bits) != static_cast<uint32_t>(mask)) {
    return Status(Code::kAccess, "permission denied for uid " + std::to_string(ctx.uid));
  }
  return Status::Ok();
}

Status CheckAccess(kv::Txn& txn, const Context& ctx, Ino ino, const Attr& attr, int mask) {
  Status s = CheckAccess(ctx, attr, mask);
  // The mode bits refused: an ACL may still grant (as Linux consults it, for
  // a caller other than the owner, when the group class has any bit).
  if (s.code() != Code::kAccess || ctx.uid == 0 || ctx.uid == attr.uid ||
      (attr.mode & S_IRWXG) == 0) {
    return s;
  }
  ASSIGN_OR_RETURN(auto value, txn.Get(keys::Xattr(ino, kAclAccessXattr)));
  if (!value) return s;
  ASSIGN_OR_RETURN(Acl acl, Acl::Decode(*value));
  if (acl.Grants(ctx, attr.uid, attr.gid, static_cast<uint32_t>(mask & 7))) return Status::Ok();
  return s;
}

Status CheckSticky(const Context& ctx, const Attr& dir, const Attr& child) {
  if ((dir.mode & S_ISVTX) == 0 || ctx.uid == 0 || ctx.uid == dir.uid ||
      ctx.uid == child.uid) {
    return Status::Ok();
  }
  return Status(Code::kPermission, "sticky directory: only the owner may remove or rename");
}

}  // namespace tessera::meta
