// The trash: where the last link of a removed file goes while trash_days > 0.
//
// /.trash (inode kTrashIno) is not an entry of the root: lookup finds it for
// uid 0 only and readdir never lists it. It holds one directory per UTC hour,
// "YYYY-MM-DD-HH", whose inode numbers come from the counter nextTrash above
// kTrashIno; a removed file's entry moves there as "<parent>-<ino>-<name>",
// with its nlink left at 1, in the transaction of the unlink or rename. Both
// directories are made on demand and count in the usage like any directory
// (without the quota check: a removal never fails for want of space).
#include <ctime>

#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

Attr TrashDirAttr(const OpEnv& env, Ino parent, uint32_t perm) {
  Attr a;
  a.mode = S_IFDIR | perm;
  a.atime = a.mtime = a.ctime = env.now;
  a.nlink = 2;
  a.parent = parent;
  return a;
}

// Counts a new trash directory in the usage, past any quota.
Status CountDir(kv::Txn& txn) {
  int64_t space = static_cast<int64_t>(UsageOf(Attr{}));
  RETURN_IF_ERROR(txn.Increment(keys::Counter(keys::kUsedSpace), space));
  RETURN_IF_ERROR(txn.Increment(keys::Counter(keys::kTotalInodes), 1));
  return Status::Ok();
}

// The hour directory of env.now, made (with /.trash) if missing.
Result<Ino> HourDir(kv::Txn& txn, const OpEnv& env) {
  ASSIGN_OR_RETURN(auto trash, txn.Get(keys::Attr(kTrashIno)));
  Attr tattr;
  if (trash) {
    ASSIGN_OR_RETURN(tattr, DecodeAttr(*trash));
  } else {
    tattr = TrashDirAttr(env, kRootIno, 0700);
    RETURN_IF_ERROR(CountDir(txn));
  }
  std::string hour = TrashHourName(env.now.sec);
  ASSIGN_OR_RETURN(auto d, txn.Get(keys::Dentry(kTrashIno, hour)));
  if (d) {
    if (!trash) RETURN_IF_ERROR(StoreAttr(txn, kTrashIno, tattr));
    ASSIGN_OR_RETURN(DentryValue dv, DecodeDentry(*d));
    return dv.ino;
  }
  ASSIGN_OR_RETURN(int64_t n, txn.Increment(keys::Counter(keys::kNextTrash), 1));
  Ino ino = kTrashIno + static_cast<Ino>(n);
  Attr hattr = TrashDirAttr(env, kTrashIno, 0555);
  RETURN_IF_ERROR(CountDir(txn));
  ++tattr.nlink;
  tattr.mtime = tattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, kTrashIno, tattr));
  RETURN_IF_ERROR(StoreAttr(txn, ino, hattr));
  RETURN_IF_ERROR(txn.Set(keys::Dentry(kTrashIno, hour), EncodeDentry(hattr.mode, ino)));
  return ino;
}

}  // namespace

std::string TrashHourName(int64_t sec) {
  time_t t = static_cast<time_t>(sec);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour);
  return buf;
}

std::optional<int64_t> ParseTrashHour(std::string_view name) {
  struct tm tm = {};
  int y = 0, mo = 0, d = 0, h = 0;
  char extra = 0;
  std::string s(name);
  if (name.size() != 13 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2d-%2d%c", &y, &mo, &d, &h, &extra) != 4) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  return static_cast<int64_t>(timegm(&tm));
}

std::string TrashEntryName(Ino parent, Ino ino, std::string_view name) {
  std::string out = std::to_string(parent) + "-" + std::to_string(ino) + "-";
  out.append(name);
  if (out.size() > kMaxName) out.resize(kMaxName);
  return out;
}

std::optional<TrashEntry> ParseTrashEntry(std::string_view entry) {
  TrashEntry out;
  for (Ino* field : {&out.parent, &out.ino}) {
    size_t dash = entry.find('-');
    if (dash == 0 || dash == std::string_view::npos || dash > 20) return std::nullopt;
    Ino v = 0;
    for (char c : entry.substr(0, dash)) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<Ino>(c - '0');
    }
    *field = v;
    entry.remove_prefix(dash + 1);
  }
  if (entry.empty()) return std::nullopt;
  out.name = std::string(entry);
  return out;
}

bool IsTrashDir(Ino dir, const Attr& attr) {
  return dir == kTrashIno || (attr.IsDir() && attr.parent == kTrashIno);
}

bool ShouldTrash(const OpEnv& env, Ino parent, const Attr& pattr, const Attr& attr) {
  return env.trash_days > 0 && !attr.IsDir() && attr.nlink == 1 && !IsTrashDir(parent, pattr);
}

Status MoveToTrash(kv::Txn& txn, const OpEnv& env, Ino parent, std::string_view name, Ino ino,
                   Attr& attr) {
  ASSIGN_OR_RETURN(Ino hour, HourDir(txn, env));
  attr.parent = hour;
  attr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
  return txn.Set(keys::Dentry(hour, TrashEntryName(parent, ino, name)),
                 EncodeDentry(attr.mode, ino));
}

Status DoRestoreEntry(kv::Txn& txn, const OpEnv& env, Ino hour, std::string_view entry) {
  auto parsed = ParseTrashEntry(entry);
  if (!parsed) return Status(Code::kInvalid, "not a trash entry name <parent>-<inode>-<name>");
  ASSIGN_OR_RETURN(auto d, txn.Get(keys::Dentry(hour, entry)));
  if (!d) return Status(Code::kNotFound, "no longer in the trash");
  ASSIGN_OR_RETURN(DentryValue dv, DecodeDentry(*d));
  auto pv = txn.Get(keys::Attr(parsed->parent));
  if (!pv) return pv.error();
  if (!*pv)
    return Status(Code::kNotFound, "its directory " + std::to_string(parsed->parent) + " is gone");
  ASSIGN_OR_RETURN(Attr pattr, DecodeAttr(**pv));
  if (!pattr.IsDir() || pattr.nlink == 0 || IsTrashDir(parsed->parent, pattr)) {
    return Status(Code::kNotFound, "its directory " + std::to_string(parsed->parent) + " is gone");
  }
  if (parsed->parent == kRootIno && parsed->name == kTrashName) {
    return Status(Code::kPermission, "\".trash\" is reserved in the root");
  }
  ASSIGN_OR_RETURN(auto taken, txn.Get(keys::Dentry(parsed->parent, parsed->name)));
  if (taken) {
    return Status(Code::kExists,
                  "\"" + parsed->name + "\" exists in directory " + std::to_string(parsed->parent));
  }
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, dv.ino));
  RETURN_IF_ERROR(txn.Delete(keys::Dentry(hour, entry)));
  RETURN_IF_ERROR(
      txn.Set(keys::Dentry(parsed->parent, parsed->name), EncodeDentry(attr.mode, dv.ino)));
  if (attr.IsDir()) {
    ASSIGN_OR_RETURN(Attr hattr, LoadAttr(txn, hour));
    if (hattr.nlink > 2) --hattr.nlink;
    RETURN_IF_ERROR(StoreAttr(txn, hour, hattr));
    ++pattr.nlink;
  }
  if (attr.IsDir() || attr.nlink == 1) attr.parent = parsed->parent;
  attr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, dv.ino, attr));
  pattr.mtime = pattr.ctime = env.now;
  return StoreAttr(txn, parsed->parent, pattr);
}

Status DoPurgeEntry(kv::Txn& txn, const OpEnv& env, Ino hour, std::string_view entry,
                    bool* sustained, Ino* ino) {
  *sustained = false;
  *ino = 0;
  ASSIGN_OR_RETURN(auto d, txn.Get(keys::Dentry(hour, entry)));
  if (!d) return Status::Ok();
  ASSIGN_OR_RETURN(DentryValue dv, DecodeDentry(*d));
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, dv.ino));
  if (attr.IsDir()) {
    // Only files are put in the trash; a directory moved here by hand goes
    // when it is empty.
    std::string prefix = keys::DentryPrefix(dv.ino);
    ASSIGN_OR_RETURN(auto children, txn.Scan(prefix, kv::PrefixEnd(prefix), 1));
    if (!children.empty()) return Status::Ok();
    RETURN_IF_ERROR(txn.Delete(keys::Dentry(hour, entry)));
    ASSIGN_OR_RETURN(Attr hattr, LoadAttr(txn, hour));
    if (hattr.nlink > 2) --hattr.nlink;
    RETURN_IF_ERROR(StoreAttr(txn, hour, hattr));
    return DestroyInode(txn, env, dv.ino, attr);
  }
  RETURN_IF_ERROR(txn.Delete(keys::Dentry(hour, entry)));
  *ino = dv.ino;
  return DropLink(txn, env, dv.ino, attr, sustained);
}

Status DoRemoveHourDir(kv::Txn& txn, const OpEnv& env, std::string_view hour_name, Ino hour) {
  std::string prefix = keys::DentryPrefix(hour);
  ASSIGN_OR_RETURN(auto children, txn.Scan(prefix, kv::PrefixEnd(prefix), 1));
  if (!children.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto d, txn.Get(keys::Dentry(kTrashIno, hour_name)));
  if (!d) return Status::Ok();
  ASSIGN_OR_RETURN(Attr hattr, LoadAttr(txn, hour));
  ASSIGN_OR_RETURN(Attr tattr, LoadAttr(txn, kTrashIno));
  RETURN_IF_ERROR(txn.Delete(keys::Dentry(kTrashIno, hour_name)));
  if (tattr.nlink > 2) --tattr.nlink;
  tattr.mtime = tattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, kTrashIno, tattr));
  return DestroyInode(txn, env, hour, hattr);
}

}  // namespace tessera::meta
