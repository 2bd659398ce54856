// The fuse_lowlevel_ops table: one short handler per operation.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <vector>

#include "common/logging.h"
#include "common/metrics.h"
#include "fuse/fuse_ops.h"
#include "vfs/vfs.h"

namespace tessera::fuse {
namespace {

using meta::Attr;

vfs::Vfs& V(fuse_req_t req) { return *static_cast<vfs::Vfs*>(fuse_req_userdata(req)); }

meta::Context Ctx(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  meta::Context ctx;
  ctx.uid = c->uid;
  ctx.gid = c->gid;
  ctx.pid = c->pid;
  ctx.umask = c->umask;  // set on create, mknod and mkdir: meta applies it (see Init)
  if (c->uid != 0) {
    gid_t groups[64];
    int n = fuse_req_getgroups(req, 64, groups);
    for (int i = 0; i < n && i < 64; ++i) ctx.gids.push_back(groups[i]);
  }
  return ctx;
}

struct stat ToStat(meta::Ino ino, const Attr& a) {
  struct stat st;
  std::memset(&st, 0, sizeof st);
  st.st_ino = ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_rdev = a.rdev;
  st.st_size = static_cast<off_t>(a.length);
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((a.StoredBytes() + 511) / 512);  // what is stored
  st.st_atim = {a.atime.sec, a.atime.nsec};
  st.st_mtim = {a.mtime.sec, a.mtime.nsec};
  st.st_ctim = {a.ctime.sec, a.ctime.nsec};
  return st;
}

void ReplyErr(fuse_req_t req, const Status& s) { fuse_reply_err(req, s.ToErrno()); }

void ReplyEntry(fuse_req_t req, const Result<meta::Entry>& r) {
  if (!r.has_value()) return ReplyErr(req, r.error());
  fuse_entry_param e;
  std::memset(&e, 0, sizeof e);
  e.ino = r->ino;
  e.attr = ToStat(r->ino, r->attr);
  e.attr_timeout = V(req).options().attr_timeout;
  e.entry_timeout = r->attr.IsDir() ? V(req).options().dir_entry_timeout
                                    : V(req).options().entry_timeout;
  fuse_reply_entry(req, &e);
}

void ReplyAttr(fuse_req_t req, meta::Ino ino, const Result<Attr>& r) {
  if (!r.has_value()) return ReplyErr(req, r.error());
  struct stat st = ToStat(ino, *r);
  fuse_reply_attr(req, &st, V(req).options().attr_timeout);
}

void ReplyStatus(fuse_req_t req, const Status& s) { fuse_reply_err(req, s.ok() ? 0 : s.ToErrno()); }

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto r = V(req).Lookup(Ctx(req), parent, name);
  if (!r.has_value() && r.error().code() == Code::kNotFound) {
    fuse_entry_param e;  // a negative entry, not cached (entry_timeout 0)
    std::memset(&e, 0, sizeof e);
    return (void)fuse_reply_entry(req, &e);
  }
  ReplyEntry(req, r);
}

void GetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*) {
  ReplyAttr(req, ino, V(req).GetAttr(ino));
}

void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* st, int to_set, fuse_file_info*) {
  meta::SetAttrRequest r;
  if (to_set & FUSE_SET_ATTR_MODE) r.mask |= meta::kSetMode, r.mode = st->st_mode & 07777;
  if (to_set & FUSE_SET_ATTR_UID) r.mask |= meta::kSetUid, r.uid = st->st_uid;
  if (to_set & FUSE_SET_ATTR_GID) r.mask |= meta::kSetGid, r.gid = st->st_gid;
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    r.mask |= meta::kSetAtimeNow;
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    r.mask |= meta::kSetAtime;
    r.atime = {st->st_atim.tv_sec, static_cast<uint32_t>(st->st_atim.tv_nsec)};
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    r.mask |= meta::kSetMtimeNow;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    r.mask |= meta::kSetMtime;
    r.mtime = {st->st_mtim.tv_sec, static_cast<uint32_t>(st->st_mtim.tv_nsec)};
  }
  std::optional<uint64_t> size;
  if (to_set & FUSE_SET_ATTR_SIZE) size = static_cast<uint64_t>(st->st_size);
  ReplyAttr(req, ino, V(req).SetAttr(Ctx(req), ino, r, size));
}

void Access(fuse_req_t req, fuse_ino_t ino, int mask) {
  ReplyStatus(req, V(req).Access(Ctx(req), ino, mask));
}

void ReadLink(fuse_req_t req, fuse_ino_t ino) {
  auto r = V(req).ReadLink(ino);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fuse_reply_readlink(req, r->c_str());
}

void Mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  ReplyEntry(req, V(req).Mknod(Ctx(req), parent, name, mode, static_cast<uint32_t>(rdev)));
}

void Mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  ReplyEntry(req, V(req).Mkdir(Ctx(req), parent, name, (mode & 07777) | S_IFDIR));
}

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, V(req).Unlink(Ctx(req), parent, name));
}

void Rmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyStatus(req, V(req).Rmdir(Ctx(req), parent, name));
}

void Symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name) {
  ReplyEntry(req, V(req).Symlink(Ctx(req), parent, name, target));
}

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t new_parent,
            const char* new_name, unsigned int flags) {
  ReplyStatus(req, V(req).Rename(Ctx(req), parent, name, new_parent, new_name, flags));
}

void Link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t new_parent, const char* new_name) {
  ReplyEntry(req, V(req).Link(Ctx(req), ino, new_parent, new_name));
}

void Open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = V(req).Open(Ctx(req), ino, fi->flags);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fi->fh = *r;
  fi->keep_cache = 0;  // close-to-open: the page cache is dropped on open
  if (fuse_reply_open(req, fi) == -ENOENT) (void)V(req).Release(*r);
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
            fuse_file_info* fi) {
  auto r = V(req).Create(Ctx(req), parent, name, mode, fi->flags);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fi->fh = r->second;
  fuse_entry_param e;
  std::memset(&e, 0, sizeof e);
  e.ino = r->first.ino;
  e.attr = ToStat(e.ino, r->first.attr);
  e.attr_timeout = V(req).options().attr_timeout;
  e.entry_timeout = V(req).options().entry_timeout;
  if (fuse_reply_create(req, &e, fi) == -ENOENT) (void)V(req).Release(r->second);
}

void Read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  // One buffer per FUSE thread, reused: no allocation or page faults per read.
  thread_local std::vector<char> buf;
  if (buf.size() < size) buf.resize(size);
  auto r = V(req).Read(fi->fh, static_cast<uint64_t>(off), size, buf.data());
  if (!r.has_value()) return ReplyErr(req, r.error());
  static auto& bytes = metrics::GetCounter("tessera_fuse_read_bytes_total", "bytes read through FUSE");
  bytes.Add(*r);
  fuse_reply_buf(req, buf.data(), *r);
}

void Write(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t off,
           fuse_file_info* fi) {
  auto r = V(req).Write(fi->fh, static_cast<uint64_t>(off), std::string_view(data, size));
  if (!r.has_value()) return ReplyErr(req, r.error());
  static auto& bytes =
      metrics::GetCounter("tessera_fuse_write_bytes_total", "bytes written through FUSE");
  bytes.Add(*r);
  fuse_reply_write(req, *r);
}

void Flush(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // close(2): the closing process's POSIX locks on the file go with it.
  Status locks = V(req).ReleaseLocks(fi->fh, fi->lock_owner, /*posix=*/true, /*flock=*/false);
  Status s = V(req).Flush(fi->fh);
  ReplyStatus(req, s.ok() ? locks : s);
}

void Release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  // The last close of an open file drops its flock.
  Status locks = fi->flock_release
                     ? V(req).ReleaseLocks(fi->fh, fi->lock_owner, /*posix=*/false, /*flock=*/true)
                     : Status::Ok();
  if (!locks.ok()) TLOG(kWarn) << "releasing a flock failed: " << locks.ToString();
  ReplyStatus(req, V(req).Release(fi->fh));
}

void Fsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info* fi) {
  ReplyStatus(req, V(req).Fsync(fi->fh));
}

void OpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto r = V(req).OpenDir(Ctx(req), ino);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fi->fh = *r;
  if (fuse_reply_open(req, fi) == -ENOENT) (void)V(req).ReleaseDir(*r);
}

void ReadDir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  auto r = V(req).ReadDir(Ctx(req), fi->fh, static_cast<uint64_t>(off), size / 24 + 1);
  if (!r.has_value()) return ReplyErr(req, r.error());
  std::vector<char> buf(size);
  size_t used = 0;
  for (const auto& item : *r) {
    struct stat st;
    std::memset(&st, 0, sizeof st);
    st.st_ino = item.ino;
    st.st_mode = item.mode;
    size_t need = fuse_add_direntry(req, buf.data() + used, size - used, item.name.c_str(), &st,
                                    static_cast<off_t>(item.next_offset));
    if (need > size - used) break;
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void ReleaseDir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi) {
  ReplyStatus(req, V(req).ReleaseDir(fi->fh));
}

void StatFs(fuse_req_t req, fuse_ino_t) {
  auto r = V(req).StatFs();
  if (!r.has_value()) return ReplyErr(req, r.error());
  struct statvfs st;
  std::memset(&st, 0, sizeof st);
  st.f_bsize = 4096;
  st.f_frsize = 4096;
  st.f_blocks = r->total_space / 4096;
  st.f_bfree = r->avail_space / 4096;
  st.f_bavail = st.f_bfree;
  st.f_files = r->used_inodes + r->avail_inodes;
  st.f_ffree = r->avail_inodes;
  st.f_favail = r->avail_inodes;
  st.f_namemax = meta::kMaxName;
  fuse_reply_statfs(req, &st);
}

void SetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags) {
  ReplyStatus(req, V(req).SetXattr(Ctx(req), ino, name, std::string_view(value, size), flags));
}

// getxattr/listxattr: size 0 asks for the needed size; too small a buffer is ERANGE.
void ReplySized(fuse_req_t req, const std::string& data, size_t size) {
  if (size == 0) return (void)fuse_reply_xattr(req, data.size());
  if (data.size() > size) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, data.data(), data.size());
}

void GetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto r = V(req).GetXattr(Ctx(req), ino, name);
  if (!r.has_value()) return ReplyErr(req, r.error());
  ReplySized(req, *r, size);
}

void ListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto r = V(req).ListXattr(Ctx(req), ino);
  if (!r.has_value()) return ReplyErr(req, r.error());
  std::string packed;
  for (const auto& n : *r) packed.append(n).push_back('\0');
  ReplySized(req, packed, size);
}

void RemoveXattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  ReplyStatus(req, V(req).RemoveXattr(Ctx(req), ino, name));
}

void Fallocate(fuse_req_t req, fuse_ino_t, int mode, off_t off, off_t len, fuse_file_info* fi) {
  ReplyStatus(req, V(req).Fallocate(Ctx(req), fi->fh, mode, static_cast<uint64_t>(off),
                                    static_cast<uint64_t>(len)));
}

void Lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi) {
  auto r = V(req).Lseek(fi->fh, static_cast<uint64_t>(off), whence);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fuse_reply_lseek(req, static_cast<off_t>(*r));
}

void CopyFileRange(fuse_req_t req, fuse_ino_t, off_t off_in, fuse_file_info* fi_in, fuse_ino_t,
                   off_t off_out, fuse_file_info* fi_out, size_t len, int flags) {
  if (flags != 0) return (void)fuse_reply_err(req, EINVAL);
  auto r = V(req).CopyFileRange(fi_in->fh, static_cast<uint64_t>(off_in), fi_out->fh,
                                static_cast<uint64_t>(off_out), len);
  if (!r.has_value()) return ReplyErr(req, r.error());
  fuse_reply_write(req, static_cast<size_t>(*r));
}

// --- Locks: kept in meta, so that they hold across mounts ---

meta::LockRange ToRange(const struct flock* lk) {
  meta::LockRange r;
  r.type = lk->l_type;
  r.start = static_cast<uint64_t>(lk->l_start);
  r.end = lk->l_len == 0 ? meta::kLockEOF : static_cast<uint64_t>(lk->l_start + lk->l_len - 1);
  r.pid = static_cast<uint32_t>(lk->l_pid);
  return r;
}

void GetLk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lk) {
  auto r = V(req).GetLk(fi->fh, fi->lock_owner, ToRange(lk));
  if (!r.has_value()) return ReplyErr(req, r.error());
  struct flock out = *lk;
  out.l_type = static_cast<short>(r->type);
  if (r->type != F_UNLCK) {
    out.l_start = static_cast<off_t>(r->start);
    out.l_len = r->end == meta::kLockEOF ? 0 : static_cast<off_t>(r->end - r->start + 1);
    out.l_pid = static_cast<pid_t>(r->pid);
  }
  fuse_reply_lock(req, &out);
}

void SetLk(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, struct flock* lk, int sleep) {
  ReplyStatus(req, V(req).SetLk(fi->fh, fi->lock_owner, ToRange(lk), sleep != 0,
                                [req] { return fuse_req_interrupted(req) != 0; }));
}

void Flock(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, int op) {
  ReplyStatus(req, V(req).Flock(fi->fh, fi->lock_owner, op,
                                [req] { return fuse_req_interrupted(req) != 0; }));
}

void Init(void*, fuse_conn_info* conn) {
  // flock and fcntl locks go to meta (Flock, GetLk, SetLk above).
  conn->want |= FUSE_CAP_FLOCK_LOCKS | FUSE_CAP_POSIX_LOCKS;
  // POSIX ACLs: the kernel enforces them (with default_permissions) and asks
  // for system.posix_acl_* through getxattr; meta keeps them in step with the
  // mode and inherits default ACLs, so the kernel must leave the umask to it.
  if (conn->capable & FUSE_CAP_POSIX_ACL) {
    conn->want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
  }
  conn->max_background = 64;
  // 1 MiB writes (and reads where the kernel allows) instead of 128 KiB.
  conn->max_write = 1u << 20;
  conn->max_readahead = 1u << 20;
}

// Every handler, timed into one latency (all requests) and the read/write
// ones into their own too.
metrics::Latency& OpLatency(const char* name) {
  if (std::strcmp(name, "read") == 0) {
    return metrics::GetLatency("tessera_fuse_read_seconds", "FUSE read requests");
  }
  if (std::strcmp(name, "write") == 0) {
    return metrics::GetLatency("tessera_fuse_write_seconds", "FUSE write requests");
  }
  return metrics::GetLatency("tessera_fuse_ops_seconds", "FUSE requests of every kind");
}

std::function<void()> g_after_init;
std::once_flag g_after_init_once;

template <auto Fn, const char* Name>
struct Timed;
template <typename... Args, void (*Fn)(fuse_req_t, Args...), const char* Name>
struct Timed<Fn, Name> {
  static void Call(fuse_req_t req, Args... args) {
    static metrics::Latency& all = OpLatency("");
    static metrics::Latency& own = OpLatency(Name);
    std::call_once(g_after_init_once, [] {
      if (g_after_init) g_after_init();
    });
    auto start = std::chrono::steady_clock::now();
    Fn(req, args...);
    auto took = std::chrono::steady_clock::now() - start;
    all.Observe(took);
    if (&own != &all) own.Observe(took);
  }
};

constexpr char kRead[] = "read";
constexpr char kWrite[] = "write";
constexpr char kOther[] = "";

}  // namespace

void SetAfterInit(std::function<void()> fn) { g_after_init = std::move(fn); }

const fuse_lowlevel_ops& Ops() {
  static const fuse_lowlevel_ops ops = [] {
    // Registered before the first request, so that a scrape always lists them.
    OpLatency(kRead), OpLatency(kWrite), OpLatency(kOther);
    fuse_lowlevel_ops o;
    std::memset(&o, 0, sizeof o);
    o.init = Init;
    o.lookup = Timed<Lookup, kOther>::Call;
    o.getattr = Timed<GetAttr, kOther>::Call;
    o.setattr = Timed<SetAttr, kOther>::Call;
    o.access = Timed<Access, kOther>::Call;
    o.readlink = Timed<ReadLink, kOther>::Call;
    o.mknod = Timed<Mknod, kOther>::Call;
    o.mkdir = Timed<Mkdir, kOther>::Call;
    o.unlink = Timed<Unlink, kOther>::Call;
    o.rmdir = Timed<Rmdir, kOther>::Call;
    o.symlink = Timed<Symlink, kOther>::Call;
    o.rename = Timed<Rename, kOther>::Call;
    o.link = Timed<Link, kOther>::Call;
    o.open = Timed<Open, kOther>::Call;
    o.create = Timed<Create, kOther>::Call;
    o.read = Timed<Read, kRead>::Call;
    o.write = Timed<Write, kWrite>::Call;
    o.flush = Timed<Flush, kOther>::Call;
    o.release = Timed<Release, kOther>::Call;
    o.fsync = Timed<Fsync, kOther>::Call;
    o.opendir = Timed<OpenDir, kOther>::Call;
    o.readdir = Timed<ReadDir, kOther>::Call;
    o.releasedir = Timed<ReleaseDir, kOther>::Call;
    o.statfs = Timed<StatFs, kOther>::Call;
    o.setxattr = Timed<SetXattr, kOther>::Call;
    o.getxattr = Timed<GetXattr, kOther>::Call;
    o.listxattr = Timed<ListXattr, kOther>::Call;
    o.removexattr = Timed<RemoveXattr, kOther>::Call;
    o.fallocate = Timed<Fallocate, kOther>::Call;
    o.lseek = Timed<Lseek, kOther>::Call;
    o.copy_file_range = Timed<CopyFileRange, kOther>::Call;
    o.getlk = Timed<GetLk, kOther>::Call;
    o.setlk = Timed<SetLk, kOther>::Call;
    o.flock = Timed<Flock, kOther>::Call;
    return o;
  }();
  return ops;
}

}  // namespace tessera::fuse
