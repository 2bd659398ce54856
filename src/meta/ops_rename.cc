// rename(2) with RENAME_NOREPLACE and RENAME_EXCHANGE.
//
// The up to four inodes involved (two parents, the source, the target) may
// alias each other (same parent twice), so their attributes are loaded once
// into a small table, changed there, and written back at the end.
#include <unistd.h>

#include <map>

#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

class AttrTable {
 public:
  explicit AttrTable(kv::Txn& txn) : txn_(txn) {}

  Result<Attr*> Get(Ino ino) {
    auto it = attrs_.find(ino);
    if (it == attrs_.end()) {
      ASSIGN_OR_RETURN(Attr a, LoadAttr(txn_, ino));
      it = attrs_.emplace(ino, a).first;
    }
    return &it->second;
  }
  // Drops an inode from the table so that Flush does not write it.
  void Forget(Ino ino) { attrs_.erase(ino); }
  void Dirty(Ino ino) { dirty_[ino] = true; }
  Status Flush() {
    for (auto& [ino, d] : dirty_) {
      auto it = attrs_.find(ino);
      if (d && it != attrs_.end()) RETURN_IF_ERROR(StoreAttr(txn_, ino, it->second));
    }
    return Status::Ok();
  }

 private:
  kv::Txn& txn_;
  std::map<Ino, Attr> attrs_;
  std::map<Ino, bool> dirty_;
};

Result<DentryValue> GetEntry(kv::Txn& txn, Ino parent, std::string_view name, bool* found) {
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Dentry(parent, name)));
  *found = v.has_value();
  if (!v) return DentryValue{};
  return DecodeDentry(*v);
}

// kInvalid when `dir` is `ancestor` or lies beneath it.
Status CheckNotBeneath(kv::Txn& txn, Ino dir, Ino ancestor) {
  Ino cur = dir;
  for (int depth = 0; depth < 100000; ++depth) {
    if (cur == ancestor) {
      return Status(Code::kInvalid, "cannot move directory " + std::to_string(ancestor) +
                                        " into its own subtree");
    }
    if (cur == kRootIno || cur == 0) return Status::Ok();
    ASSIGN_OR_RETURN(Attr a, LoadAttr(txn, cur));
    cur = a.parent;
  }
  return Status(Code::kLoop, "directory parent chain does not reach the root");
}

// Moves entry `child` from directory `from` to `to`: a directory fixes its
// parent and both nlinks; a file with one link records its new parent.
void MoveEntry(Attr* child, Attr* from, Attr* to, Ino to_ino) {
  if (child->IsDir()) {
    child->parent = to_ino;
    if (from->nlink > 2) --from->nlink;
    ++to->nlink;
  } else if (child->nlink == 1) {
    child->parent = to_ino;
  }
}

}  // namespace

Status DoRename(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
                std::string_view name, Ino new_parent, std::string_view new_name, uint32_t flags,
                RenameResult* result) {
  *result = RenameResult{};
  if (flags & ~(kRenameNoReplace | kRenameExchange)) {
    return Status(Code::kInvalid, "unknown rename flags " + std::to_string(flags));
  }
  if ((flags & kRenameNoReplace) && (flags & kRenameExchange)) {
    return Status(Code::kInvalid, "RENAME_NOREPLACE and RENAME_EXCHANGE together");
  }
  RETURN_IF_ERROR(CheckName(name));
  RETURN_IF_ERROR(CheckName(new_name));
  for (std::string_view n : {name, new_name}) {
    if (n == "." || n == "..") return Status(Code::kInvalid, "rename of \".\" or \"..\"");
  }
  if (new_parent == kRootIno && new_name == kTrashName) {
    return Status(Code::kPermission, "\".trash\" is reserved in the root");
  }
  bool same_dir = parent == new_parent;

  AttrTable table(txn);
  ASSIGN_OR_RETURN(Attr* pattr, table.Get(parent));
  ASSIGN_OR_RETURN(Attr* npattr, table.Get(new_parent));
  for (auto [p, p_ino] : {std::pair{pattr, parent}, std::pair{npattr, new_parent}}) {
    if (!p->IsDir()) return Status(Code::kNotDir, "rename: parent is not a directory");
    if (p->nlink == 0) return Status(Code::kNotFound, "rename: parent directory was removed");
    RETURN_IF_ERROR(CheckAccess(txn, ctx, p_ino, *p, X_OK));
  }
  bool found = false;
  ASSIGN_OR_RETURN(DentryValue src, GetEntry(txn, parent, name, &found));
  if (!found) {
    return Status(Code::kNotFound, "no entry \"" + std::string(name) + "\" in directory " +
                                       std::to_string(parent));
  }
  bool dst_found = false;
  ASSIGN_OR_RETURN(DentryValue dst, GetEntry(txn, new_parent, new_name, &dst_found));
  if (dst_found && dst.ino == src.ino) return Status::Ok();  // same inode: nothing to do
  if (dst_found && (flags & kRenameNoReplace)) {
    return Status(Code::kExists, "\"" + std::string(new_name) + "\" exists");
  }
  if (!dst_found && (flags & kRenameExchange)) {
    return Status(Code::kNotFound, "rename exchange: no entry \"" + std::string(new_name) + "\"");
  }
  RETURN_IF_ERROR(CheckAccess(txn, ctx, parent, *pattr, W_OK));
  RETURN_IF_ERROR(CheckAccess(txn, ctx, new_parent, *npattr, W_OK));

  ASSIGN_OR_RETURN(Attr* sattr, table.Get(src.ino));
  RETURN_IF_ERROR(CheckSticky(ctx, *pattr, *sattr));
  if (sattr->IsDir() && !same_dir) {
    RETURN_IF_ERROR(CheckNotBeneath(txn, new_parent, src.ino));
    RETURN_IF_ERROR(CheckAccess(txn, ctx, src.ino, *sattr, W_OK));  // its ".." changes
  }
  Attr* dattr = nullptr;
  if (dst_found) {
    ASSIGN_OR_RETURN(dattr, table.Get(dst.ino));
    RETURN_IF_ERROR(CheckSticky(ctx, *npattr, *dattr));
  }

  if (flags & kRenameExchange) {
    if (dattr->IsDir() && !same_dir) {
      RETURN_IF_ERROR(CheckNotBeneath(txn, parent, dst.ino));
      RETURN_IF_ERROR(CheckAccess(txn, ctx, dst.ino, *dattr, W_OK));
    }
    RETURN_IF_ERROR(txn.Set(keys::Dentry(parent, name), EncodeDentry(dattr->mode, dst.ino)));
    RETURN_IF_ERROR(
        txn.Set(keys::Dentry(new_parent, new_name), EncodeDentry(sattr->mode, src.ino)));
    if (!same_dir) {
      MoveEntry(sattr, pattr, npattr, new_parent);
      MoveEntry(dattr, npattr, pattr, parent);
    }
    sattr->ctime = dattr->ctime = env.now;
    table.Dirty(dst.ino);
  } else {
    if (dst_found) {
      if (sattr->IsDir() && !dattr->IsDir()) {
        return Status(Code::kNotDir, "cannot replace non-directory with a directory");
      }
      if (!sattr->IsDir() && dattr->IsDir()) {
        return Status(Code::kIsDir, "cannot replace a directory with a non-directory");
      }
      if (dattr->IsDir()) {
        std::string prefix = keys::DentryPrefix(dst.ino);
        ASSIGN_OR_RETURN(auto children, txn.Scan(prefix, kv::PrefixEnd(prefix), 1));
        if (!children.empty()) {
          return Status(Code::kNotEmpty, "target directory \"" + std::string(new_name) +
                                             "\" is not empty");
        }
        if (npattr->nlink > 2) --npattr->nlink;
        RETURN_IF_ERROR(DestroyInode(txn, env, dst.ino, *dattr));
      } else {
        Attr victim = *dattr;
        if (ShouldTrash(env, new_parent, *npattr, victim)) {
          RETURN_IF_ERROR(MoveToTrash(txn, env, new_parent, new_name, dst.ino, victim));
        } else {
          RETURN_IF_ERROR(DropLink(txn, env, dst.ino, victim, &result->sustained));
        }
      }
      result->replaced = dst.ino;
      table.Forget(dst.ino);
    }
    RETURN_IF_ERROR(txn.Delete(keys::Dentry(parent, name)));
    RETURN_IF_ERROR(
        txn.Set(keys::Dentry(new_parent, new_name), EncodeDentry(sattr->mode, src.ino)));
    if (!same_dir) MoveEntry(sattr, pattr, npattr, new_parent);
    sattr->ctime = env.now;
  }
  pattr->mtime = pattr->ctime = env.now;
  npattr->mtime = npattr->ctime = env.now;
  table.Dirty(parent);
  table.Dirty(new_parent);
  table.Dirty(src.ino);
  return table.Flush();
}

}  // namespace tessera::meta
