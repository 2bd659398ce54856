// Attributes (chmod, chown, utimes), directory listing and extended attributes.
#include <sys/xattr.h>
#include <unistd.h>

#include "meta/acl.h"
#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

// The namespaces Linux file systems know: user., trusted., security. and
// the two POSIX ACL names of system.; anything else is EOPNOTSUPP, as on ext4.
Status CheckXattrName(std::string_view name) {
  if (name.empty()) return Status(Code::kRange, "empty xattr name");
  if (name.size() > kMaxXattrName) {
    return Status(Code::kRange, "xattr name of " + std::to_string(name.size()) + " bytes");
  }
  if (name == kAclAccessXattr || name == kAclDefaultXattr) return Status::Ok();
  for (std::string_view ns : {"user.", "trusted.", "security."}) {
    if (name.starts_with(ns)) {
      if (name.size() == ns.size()) return Status(Code::kInvalid, "xattr name without a suffix");
      return Status::Ok();
    }
  }
  return Status(Code::kNotSupported, "xattr namespace of \"" + std::string(name) + "\"");
}

// Set and remove: the owner, root, or a caller with write permission.
Status CheckXattrWrite(kv::Txn& txn, const Context& ctx, Ino ino, const Attr& attr) {
  if (IsOwnerOrRoot(ctx, attr)) return Status::Ok();
  return CheckAccess(txn, ctx, ino, attr, W_OK);
}

Status NoXattr(Ino ino, std::string_view name) {
  return Status(Code::kNoData,
                "no xattr \"" + std::string(name) + "\" on inode " + std::to_string(ino));
}

}  // namespace

bool NeedsAtimeUpdate(const Attr& attr, Timespec now) {
  if (attr.atime <= attr.mtime || attr.atime <= attr.ctime) return true;
  return now.sec - attr.atime.sec >= 24 * 3600;
}

Result<Attr> DoSetAttr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                       const SetAttrRequest& req) {
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  const uint32_t mask = req.mask;
  if (mask == 0) return attr;
  if (mask & kSetAtimeRead) {
    if (!NeedsAtimeUpdate(attr, env.now)) return attr;
    attr.atime = env.now;
    RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
    return attr;
  }
  const bool root = ctx.uid == 0;
  const bool owner = ctx.uid == attr.uid;
  Attr next = attr;

  if (mask & (kSetUid | kSetGid)) {
    bool uid_change = (mask & kSetUid) && req.uid != attr.uid;
    bool gid_change = (mask & kSetGid) && req.gid != attr.gid;
    if (!root) {
      if (uid_change) return Err(Code::kPermission, "only root may change the owner");
      if (gid_change && (!owner || !ctx.InGroup(req.gid))) {
        return Err(Code::kPermission,
                   "only the owner may change the group, to one of its own groups");
      }
      if ((mask & (kSetUid | kSetGid)) && !owner) {
        return Err(Code::kPermission, "only the owner may chown");
      }
    }
    if (mask & kSetUid) next.uid = req.uid;
    if (mask & kSetGid) next.gid = req.gid;
    if (!root && attr.IsFile()) {
      next.mode &= ~S_ISUID;
      if (next.mode & S_IXGRP) next.mode &= ~S_ISGID;
    }
  }
  if (mask & kSetMode) {
    // Anyone who may write the file may drop its suid/sgid bits: the kernel
    // does so (as a forced chmod) when a non-root caller writes or truncates.
    const uint32_t cur = attr.mode & 07777, want = req.mode & 07777;
    const bool drops_privs_only = (want & ~cur) == 0 && (cur & ~want) != 0 &&
                                  (cur & ~want & ~(S_ISUID | S_ISGID)) == 0;
    if (!root && !owner && !drops_privs_only) {
      return Err(Code::kPermission, "only the owner may chmod");
    }
    uint32_t mode = req.mode & 07777;
    if (!root && !ctx.InGroup(next.gid)) mode &= ~S_ISGID;
    next.mode = (attr.mode & S_IFMT) | mode;
    std::string acl_key = keys::Xattr(ino, kAclAccessXattr);
    ASSIGN_OR_RETURN(auto acl_value, txn.Get(acl_key));
    if (acl_value) {
      ASSIGN_OR_RETURN(Acl acl, Acl::Decode(*acl_value));
      acl.Chmod(mode);
      RETURN_IF_ERROR(txn.Set(acl_key, acl.Encode()));
    }
  }
  if (mask & (kSetAtime | kSetMtime | kSetCtime)) {
    if (!root && !owner) return Err(Code::kPermission, "only the owner may set explicit times");
  }
  if (mask & (kSetAtimeNow | kSetMtimeNow)) {
    if (!root && !owner) RETURN_IF_ERROR(CheckAccess(txn, ctx, ino, attr, W_OK));
  }
  if (mask & kSetAtime) next.atime = req.atime;
  if (mask & kSetMtime) next.mtime = req.mtime;
  if (mask & kSetAtimeNow) next.atime = env.now;
  if (mask & kSetMtimeNow) next.mtime = env.now;
  next.ctime = (mask & kSetCtime) ? req.ctime : env.now;
  RETURN_IF_ERROR(StoreAttr(txn, ino, next));
  return next;
}

Result<std::vector<DirEntry>> DoReadDir(kv::Txn& txn, const Context& ctx, Ino dir,
                                        bool with_attr, std::string_view start_after,
                                        size_t limit) {
  ASSIGN_OR_RETURN(Attr dattr, LoadAttr(txn, dir));
  if (!dattr.IsDir()) {
    return Err(Code::kNotDir, "inode " + std::to_string(dir) + " is not a directory");
  }
  RETURN_IF_ERROR(CheckAccess(txn, ctx, dir, dattr, R_OK));
  std::string prefix = keys::DentryPrefix(dir);
  std::string begin = prefix;
  if (!start_after.empty()) {
    begin = keys::Dentry(dir, start_after);
    begin.push_back('\0');  // the first key after start_after
  }
  ASSIGN_OR_RETURN(auto kvs, txn.Scan(begin, kv::PrefixEnd(prefix), limit));
  std::vector<DirEntry> out;
  out.reserve(kvs.size());
  for (auto& [key, value] : kvs) {
    auto name = keys::ParseDentryName(key);
    if (!name) return Err(Code::kCorrupt, "malformed directory entry key");
    ASSIGN_OR_RETURN(DentryValue d, DecodeDentry(value));
    DirEntry e;
    e.name = std::string(*name);
    e.ino = d.ino;
    e.attr.mode = d.TypeMode();
    out.push_back(std::move(e));
  }
  if (with_attr && !out.empty()) {
    std::vector<std::string> attr_keys;
    attr_keys.reserve(out.size());
    for (const DirEntry& e : out) attr_keys.push_back(keys::Attr(e.ino));
    ASSIGN_OR_RETURN(auto values, txn.BatchGet(attr_keys));
    for (size_t i = 0; i < out.size(); ++i) {
      if (!values[i]) continue;  // raced with a removal: keep the type only
      ASSIGN_OR_RETURN(out[i].attr, DecodeAttr(*values[i]));
    }
  }
  return out;
}

Result<std::string> DoGetXattr(kv::Txn& txn, const Context& ctx, Ino ino,
                               std::string_view name) {
  RETURN_IF_ERROR(CheckXattrName(name));
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  // ACLs are readable by anyone: the kernel reads them, as the caller, to
  // decide the caller's permissions.
  if (name != kAclAccessXattr && name != kAclDefaultXattr) {
    RETURN_IF_ERROR(CheckAccess(txn, ctx, ino, attr, R_OK));
  }
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Xattr(ino, name)));
  if (!v) return Err(NoXattr(ino, name));
  return std::move(*v);
}

Status DoSetXattr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                  std::string_view name, std::string_view value, int flags) {
  RETURN_IF_ERROR(CheckXattrName(name));
  if (value.size() > kMaxXattrValue) {
    return Status(Code::kTooBig, "xattr value of " + std::to_string(value.size()) + " bytes");
  }
  if ((flags & XATTR_CREATE) && (flags & XATTR_REPLACE)) {
    return Status(Code::kInvalid, "XATTR_CREATE and XATTR_REPLACE together");
  }
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  const bool acl = name == kAclAccessXattr || name == kAclDefaultXattr;
  if (acl) {
    if (!IsOwnerOrRoot(ctx, attr)) return Status(Code::kPermission, "only the owner may set ACLs");
    if (name == kAclDefaultXattr && !attr.IsDir()) {
      return Status(Code::kAccess, "a default ACL on a non-directory");
    }
  } else {
    RETURN_IF_ERROR(CheckXattrWrite(txn, ctx, ino, attr));
  }
  std::string key = keys::Xattr(ino, name);
  ASSIGN_OR_RETURN(auto old, txn.Get(key));
  if (old && (flags & XATTR_CREATE)) {
    return Status(Code::kExists, "xattr \"" + std::string(name) + "\" exists");
  }
  if (!old && (flags & XATTR_REPLACE)) return NoXattr(ino, name);
  attr.ctime = env.now;
  if (!acl) {
    RETURN_IF_ERROR(txn.Set(key, value));
    return StoreAttr(txn, ino, attr);
  }
  ASSIGN_OR_RETURN(Acl parsed, Acl::Decode(value));
  bool store = !parsed.entries.empty();
  if (name == kAclAccessXattr && store) {
    // The mode follows the ACL; an ACL that says no more than the mode is
    // not kept. A caller outside the file's group loses its sgid bit.
    attr.mode = (attr.mode & ~0777u) | parsed.Mode();
    if (ctx.uid != 0 && !ctx.InGroup(attr.gid)) attr.mode &= ~S_ISGID;
    store = !parsed.IsMinimal();
  }
  RETURN_IF_ERROR(store ? txn.Set(key, parsed.Encode()) : txn.Delete(key));
  return StoreAttr(txn, ino, attr);
}

Result<std::vector<std::string>> DoListXattr(kv::Txn& txn, const Context& ctx, Ino ino) {
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  RETURN_IF_ERROR(CheckAccess(txn, ctx, ino, attr, R_OK));
  std::string prefix = keys::XattrPrefix(ino);
  ASSIGN_OR_RETURN(auto kvs, txn.Scan(prefix, kv::PrefixEnd(prefix)));
  std::vector<std::string> names;
  names.reserve(kvs.size());
  for (auto& kv : kvs) {
    auto name = keys::ParseXattrName(kv.first);
    if (!name) return Err(Code::kCorrupt, "malformed xattr key");
    // trusted.* is for root's eyes only (CAP_SYS_ADMIN on Linux).
    if (ctx.uid != 0 && name->starts_with("trusted.")) continue;
    names.emplace_back(*name);
  }
  return names;
}

Status DoRemoveXattr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                     std::string_view name) {
  RETURN_IF_ERROR(CheckXattrName(name));
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  RETURN_IF_ERROR(CheckXattrWrite(txn, ctx, ino, attr));
  std::string key = keys::Xattr(ino, name);
  ASSIGN_OR_RETURN(auto old, txn.Get(key));
  if (!old) return NoXattr(ino, name);
  RETURN_IF_ERROR(txn.Delete(key));
  attr.ctime = env.now;
  return StoreAttr(txn, ino, attr);
}

}  // namespace tessera::meta
