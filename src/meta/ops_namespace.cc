// Lookup, create (mknod, mkdir, symlink), link, unlink and rmdir.
#include <unistd.h>

#include <limits>

#include "meta/acl.h"
#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

// The parent of a new or removed entry: it must exist, be a directory, and not
// be in the middle of being deleted.
Result<Attr> LoadParentDir(kv::Txn& txn, Ino parent) {
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, parent));
  if (!attr.IsDir()) {
    return Err(Code::kNotDir, "inode " + std::to_string(parent) + " is not a directory");
  }
  if (attr.nlink == 0) {
    return Err(Code::kNotFound, "directory " + std::to_string(parent) + " was removed");
  }
  return attr;
}

Result<std::optional<DentryValue>> LoadDentry(kv::Txn& txn, Ino parent, std::string_view name) {
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Dentry(parent, name)));
  if (!v) return std::optional<DentryValue>();
  ASSIGN_OR_RETURN(DentryValue d, DecodeDentry(*v));
  return std::optional<DentryValue>(d);
}

Status NoEntry(Ino parent, std::string_view name) {
  return Status(Code::kNotFound,
                "no entry \"" + std::string(name) + "\" in directory " + std::to_string(parent));
}

// Checks shared by every operation that adds an entry; returns the parent.
Result<Attr> PrepareNewEntry(kv::Txn& txn, const Context& ctx, Ino parent,
                             std::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  ASSIGN_OR_RETURN(Attr pattr, LoadParentDir(txn, parent));
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, X_OK));
  if (name == "." || name == "..") return Err(Code::kExists, "\"" + std::string(name) + "\"");
  if (parent == kRootIno && name == kTrashName) {
    return Err(Code::kPermission, "\".trash\" is reserved in the root");
  }
  ASSIGN_OR_RETURN(auto existing, txn.Get(keys::Dentry(parent, name)));
  if (existing) {
    return Err(Code::kExists,
               "\"" + std::string(name) + "\" exists in directory " + std::to_string(parent));
  }
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, W_OK));
  return pattr;
}

}  // namespace

Result<Entry> DoLookup(kv::Txn& txn, const Context& ctx, Ino parent, std::string_view name) {
  if (name.size() > kMaxName) return Err(Code::kNameTooLong, "name too long");
  ASSIGN_OR_RETURN(Attr pattr, LoadAttr(txn, parent));
  if (!pattr.IsDir()) {
    return Err(Code::kNotDir, "inode " + std::to_string(parent) + " is not a directory");
  }
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, X_OK));
  Ino ino = 0;
  if (name == ".") {
    return Entry{parent, pattr};
  } else if (name == "..") {
    ino = parent == kRootIno || pattr.parent == 0 ? kRootIno : pattr.parent;
  } else {
    ASSIGN_OR_RETURN(auto d, LoadDentry(txn, parent, name));
    if (d) {
      ino = d->ino;
    } else if (parent == kRootIno && name == kTrashName && ctx.uid == 0) {
      ino = kTrashIno;  // not an entry: only root finds it
    } else {
      return Err(NoEntry(parent, name));
    }
  }
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  return Entry{ino, attr};
}

Result<Entry> DoCreate(kv::Txn& txn, const Context& ctx, const OpEnv& env,
                       const CreateRequest& req, Ino ino) {
  bool dir = S_ISDIR(req.mode);
  if (S_ISLNK(req.mode) && req.target.size() > kMaxSymlink) {
    return Err(Code::kNameTooLong, "symlink target longer than " + std::to_string(kMaxSymlink));
  }
  if (S_ISLNK(req.mode) && req.target.empty()) return Err(Code::kNotFound, "empty target");
  ASSIGN_OR_RETURN(Attr pattr, PrepareNewEntry(txn, ctx, req.parent, req.name));

  Attr attr;
  attr.mode = req.mode;
  if ((attr.mode & S_IFMT) == 0) attr.mode |= S_IFREG;
  attr.uid = ctx.uid;
  attr.gid = ctx.gid;
  if (pattr.mode & S_ISGID) {
    attr.gid = pattr.gid;
    if (dir) attr.mode |= S_ISGID;
  }
  // The parent's default ACL, or else the umask, shapes the permission bits.
  std::string access_acl, default_acl;
  if (!S_ISLNK(req.mode)) {
    ASSIGN_OR_RETURN(auto def, txn.Get(keys::Xattr(req.parent, kAclDefaultXattr)));
    if (def) {
      ASSIGN_OR_RETURN(Acl acl, Acl::Decode(*def));
      acl.CreateMask(&attr.mode);
      if (!acl.IsMinimal()) access_acl = acl.Encode();
      if (dir) default_acl = std::move(*def);
    } else {
      attr.mode &= ~(ctx.umask & 0777);
    }
  }
  attr.atime = attr.mtime = attr.ctime = env.now;
  attr.nlink = dir ? 2 : 1;
  attr.rdev = req.rdev;
  attr.parent = req.parent;
  if (S_ISLNK(req.mode)) {
    attr.mode = S_IFLNK | 0777;
    attr.length = req.target.size();
  }
  RETURN_IF_ERROR(AddUsage(txn, env, static_cast<int64_t>(UsageOf(attr)), 1));

  if (dir) {
    if (pattr.nlink == std::numeric_limits<uint32_t>::max()) {
      return Err(Code::kTooManyLinks, "too many subdirectories");
    }
    ++pattr.nlink;
  }
  pattr.mtime = pattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, req.parent, pattr));
  RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
  RETURN_IF_ERROR(txn.Set(keys::Dentry(req.parent, req.name), EncodeDentry(attr.mode, ino)));
  if (S_ISLNK(req.mode)) RETURN_IF_ERROR(txn.Set(keys::Symlink(ino), req.target));
  if (!access_acl.empty()) RETURN_IF_ERROR(txn.Set(keys::Xattr(ino, kAclAccessXattr), access_acl));
  if (!default_acl.empty()) {
    RETURN_IF_ERROR(txn.Set(keys::Xattr(ino, kAclDefaultXattr), default_acl));
  }
  return Entry{ino, attr};
}

Result<Entry> DoLink(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino, Ino new_parent,
                     std::string_view new_name) {
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  if (attr.IsDir()) return Err(Code::kPermission, "hard link to a directory");
  if (attr.nlink == 0) return Err(Code::kNotFound, "inode " + std::to_string(ino) + " removed");
  if (attr.nlink == std::numeric_limits<uint32_t>::max()) {
    return Err(Code::kTooManyLinks, "inode " + std::to_string(ino) + " has too many links");
  }
  ASSIGN_OR_RETURN(Attr pattr, PrepareNewEntry(txn, ctx, new_parent, new_name));
  ++attr.nlink;
  attr.parent = 0;
  attr.ctime = env.now;
  pattr.mtime = pattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, new_parent, pattr));
  RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
  RETURN_IF_ERROR(txn.Set(keys::Dentry(new_parent, new_name), EncodeDentry(attr.mode, ino)));
  return Entry{ino, attr};
}

Status DoUnlink(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
                std::string_view name, bool* sustained, Ino* ino) {
  *sustained = false;
  *ino = 0;
  RETURN_IF_ERROR(CheckName(name));
  ASSIGN_OR_RETURN(Attr pattr, LoadParentDir(txn, parent));
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, X_OK));
  if (name == "." || name == "..") {
    return Status(Code::kIsDir, "unlink of \"" + std::string(name) + "\"");
  }
  ASSIGN_OR_RETURN(auto d, LoadDentry(txn, parent, name));
  if (!d) return NoEntry(parent, name);
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, W_OK));
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, d->ino));
  if (attr.IsDir()) return Status(Code::kIsDir, "\"" + std::string(name) + "\" is a directory");
  RETURN_IF_ERROR(CheckSticky(ctx, pattr, attr));
  RETURN_IF_ERROR(txn.Delete(keys::Dentry(parent, name)));
  pattr.mtime = pattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, parent, pattr));
  *ino = d->ino;
  if (ShouldTrash(env, parent, pattr, attr)) {
    return MoveToTrash(txn, env, parent, name, d->ino, attr);
  }
  return DropLink(txn, env, d->ino, attr, sustained);
}

Status DoRmdir(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
               std::string_view name) {
  RETURN_IF_ERROR(CheckName(name));
  if (name == ".") return Status(Code::kInvalid, "rmdir of \".\"");
  if (name == "..") return Status(Code::kNotEmpty, "rmdir of \"..\"");
  ASSIGN_OR_RETURN(Attr pattr, LoadParentDir(txn, parent));
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, X_OK));
  ASSIGN_OR_RETURN(auto d, LoadDentry(txn, parent, name));
  if (!d) return NoEntry(parent, name);
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, pattr, W_OK));
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, d->ino));
  if (!attr.IsDir()) {
    return Status(Code::kNotDir, "\"" + std::string(name) + "\" is not a directory");
  }
  RETURN_IF_ERROR(CheckSticky(ctx, pattr, attr));
  std::string prefix = keys::DentryPrefix(d->ino);
  ASSIGN_OR_RETURN(auto children, txn.Scan(prefix, kv::PrefixEnd(prefix), 1));
  if (!children.empty()) {
    return Status(Code::kNotEmpty, "directory \"" + std::string(name) + "\" is not empty");
  }
  RETURN_IF_ERROR(txn.Delete(keys::Dentry(parent, name)));
  if (pattr.nlink > 2) --pattr.nlink;
  pattr.mtime = pattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, parent, pattr));
  return DestroyInode(txn, env, d->ino, attr);
}

}  // namespace tessera::meta
