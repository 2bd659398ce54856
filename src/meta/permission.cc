// POSIX permission checks for a caller (Context) against an inode's attributes.
//
// Root (uid 0) passes read and write checks and execute checks on
// directories; on other files root needs at least one execute bit, as on Linux.
#include <unistd.h>

#include <algorithm>

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

Status CheckSticky(const Context& ctx, const Attr& dir, const Attr& child) {
  if ((dir.mode & S_ISVTX) == 0 || ctx.uid == 0 || ctx.uid == dir.uid ||
      ctx.uid == child.uid) {
    return Status::Ok();
  }
  return Status(Code::kPermission, "sticky directory: only the owner may remove or rename");
}

}  // namespace tessera::meta
