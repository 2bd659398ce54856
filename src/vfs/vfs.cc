// Vfs: lifecycle, the background worker, and the namespace calls, which mostly
// pass through to meta/ and wake the worker when data may have been freed.
#include "vfs/vfs.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "common/metrics.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {

Vfs::Vfs(std::unique_ptr<meta::Meta> meta, std::unique_ptr<object::ObjectStore> store,
         meta::Settings settings, Options options)
    : meta_(std::move(meta)),
      store_(std::move(store)),
      settings_(std::move(settings)),
      options_(options),
      layout_{settings_.name, settings_.block_size},
      buffer_(options.buffer_bytes),
      cache_(options.buffer_bytes, &buffer_),
      reader_(*store_, layout_, &cache_, &buffer_),
      uploads_(std::make_unique<ThreadPool>(static_cast<size_t>(options.max_uploads))),
      downloads_(std::make_unique<ThreadPool>(static_cast<size_t>(options.max_downloads))),
      compactor_(std::make_unique<ThreadPool>(
          static_cast<size_t>(std::max(1, options.compact_threads)))) {
  meta_->SetSliceFreer([this](uint64_t id, uint32_t size) { FreeSlice(id, size); });
  buffer_.SetShrinkHook([this](size_t read_capacity) { cache_.ShrinkTo(read_capacity); });
}

Vfs::~Vfs() {
  StopCompactTimer();
  {
    std::lock_guard lock(worker_mu_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Status Vfs::Start(const meta::SessionInfo& session) {
  ASSIGN_OR_RETURN(uint64_t sid, meta_->NewSession(session));
  TLOG(kInfo) << "session " << sid << " started for volume " << settings_.name;
  worker_ = std::thread([this] { Worker(); });
  return {};
}

Status Vfs::Shutdown() {
  Status first;
  std::vector<std::pair<Ino, std::shared_ptr<FileState>>> files;
  {
    std::lock_guard lock(files_mu_);
    files.assign(files_.begin(), files_.end());
  }
  for (auto& [ino, f] : files) {
    std::lock_guard lock(f->mu);
    Status s = CommitLocked(ino, *f);
    if (!s.ok() && first.ok()) first = s;
  }
  StopCompactions();
  {
    std::lock_guard lock(worker_mu_);
    stopping_ = true;
  }
  worker_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  Status s = meta_->CloseSession();
  if (!s.ok() && first.ok()) first = s;
  // Free what the closed session released.
  auto cleaned = meta_->CleanupDeletedFiles();
  if (!cleaned.has_value() && first.ok()) first = cleaned.error();
  return first;
}

void Vfs::FreeSlice(uint64_t id, uint32_t size) {
  Status s = chunk::DeleteSliceBlocks(*store_, layout_, id, size);
  if (!s.ok()) {
    TLOG(kWarn) << "could not delete blocks of slice " << id << ": " << s.ToString()
                << " (tessera gc will find them)";
  }
}

void Vfs::Kick() {
  {
    std::lock_guard lock(worker_mu_);
    kicked_ = true;
  }
  worker_cv_.notify_all();
}

void Vfs::Worker() {
  auto last_heartbeat = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> last_purge;  // none yet: purge first
  std::unique_lock lock(worker_mu_);
  while (!stopping_) {
    worker_cv_.wait_for(lock, std::chrono::milliseconds(options_.cleanup_interval_ms),
                        [this] { return stopping_ || kicked_; });
    if (stopping_) break;
    kicked_ = false;
    lock.unlock();
    auto now = std::chrono::steady_clock::now();
    if (!last_purge ||
        now - *last_purge >= std::chrono::seconds(options_.trash_purge_interval_s)) {
      last_purge = now;
      auto purged = meta_->PurgeTrash();
      if (!purged.has_value()) {
        TLOG(kWarn) << "purging the trash failed: " << purged.error().ToString();
      } else if (*purged > 0) {
        TLOG(kInfo) << "purged " << *purged << " file(s) from the trash";
      }
    }
    auto cleaned = meta_->CleanupDeletedFiles();
    if (!cleaned.has_value()) {
      TLOG(kWarn) << "freeing deleted files failed: " << cleaned.error().ToString();
    }
    if (now - last_heartbeat > std::chrono::seconds(options_.heartbeat_interval_s)) {
      last_heartbeat = now;
      Status s = meta_->Heartbeat();
      if (!s.ok()) TLOG(kWarn) << "session heartbeat failed: " << s.ToString();
      // Any live client frees what dead ones held: their locks, and the
      // files they kept open after unlink.
      int64_t stale_before = static_cast<int64_t>(time(nullptr)) -
                             int64_t{options_.stale_session_heartbeats} * options_.heartbeat_interval_s;
      auto stale = meta_->CleanStaleSessions(stale_before);
      if (!stale.has_value()) {
        TLOG(kWarn) << "cleaning stale sessions failed: " << stale.error().ToString();
      } else if (*stale > 0) {
        TLOG(kInfo) << "cleaned " << *stale << " stale session(s)";
      }
    }
    lock.lock();
  }
}

Result<Entry> Vfs::Lookup(const Context& ctx, Ino parent, const std::string& name) {
  ASSIGN_OR_RETURN(Entry e, meta_->Lookup(ctx, parent, name));
  OverlayPending(e.ino, &e.attr);
  return e;
}

void Vfs::OverlayPending(Ino ino, Attr* attr) {
  // A file in the trash keeps one link there (meta.h), but it was removed:
  // it shows no links, as on a file system without a trash.
  if (!attr->IsDir() && attr->parent >= meta::kTrashIno) attr->nlink = 0;
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    if (f->writers.empty()) return;
    attr->length = f->length;
    // Bytes written but not committed count as stored, as a local file
    // system counts blocks of delayed allocation: each chunk's sessions,
    // counted once where they overlap (an overestimate where they rewrite
    // stored data, until the commit).
    if (attr->allocated == meta::kAllocatedUnknown) return;
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const auto& [index, sessions] : f->writers) {
      ranges.clear();
      for (const auto& w : sessions) {
        ranges.emplace_back(w->pos(), uint64_t{w->pos()} + w->length());
      }
      std::sort(ranges.begin(), ranges.end());
      uint64_t covered = 0;  // end of the ranges counted so far
      for (auto [begin, end] : ranges) {
        begin = std::max(begin, covered);
        if (end <= begin) continue;
        attr->allocated += end - begin;
        covered = end;
      }
    }
    attr->allocated = std::min(attr->allocated, attr->length);
  }
}

Result<Attr> Vfs::GetAttr(Ino ino) {
  auto attr = meta_->GetAttr(ino);
  if (!attr.has_value()) {
    // A directory removed while open here: fstat still answers, nlink 0.
    if (attr.error().code() == Code::kNotFound) {
      std::lock_guard lock(handles_mu_);
      for (auto& [fh, h] : handles_) {
        if (!h->is_dir || h->ino != ino) continue;
        std::lock_guard hlock(h->mu);
        Attr gone = h->attr;
        gone.nlink = 0;
        return gone;
      }
    }
    return attr;
  }
  OverlayPending(ino, &*attr);
  return attr;
}

Result<Attr> Vfs::SetAttr(const Context& ctx, Ino ino, const meta::SetAttrRequest& req,
                          std::optional<uint64_t> size) {
  if (size.has_value()) {
    auto f = FindFile(ino);
    std::unique_lock<std::mutex> lock;
    if (f) {
      lock = std::unique_lock(f->mu);
      RETURN_IF_ERROR(CommitLocked(ino, *f));
    }
    ASSIGN_OR_RETURN(Attr attr, meta_->Truncate(ctx, ino, *size));
    if (f) {
      f->length = attr.length;
      f->chunks.clear();
    }
    Kick();
    if (req.mask == 0) return attr;
  }
  if (req.mask == 0) return GetAttr(ino);
  ASSIGN_OR_RETURN(Attr attr, meta_->SetAttr(ctx, ino, req));
  OverlayPending(ino, &attr);  // the kernel must not shrink a file being written
  return attr;
}

Status Vfs::Access(const Context& ctx, Ino ino, int mask) { return meta_->Access(ctx, ino, mask); }

Result<Entry> Vfs::Mknod(const Context& ctx, Ino parent, const std::string& name, uint32_t mode,
                         uint32_t rdev) {
  return meta_->Mknod(ctx, parent, name, mode, rdev);
}

Result<Entry> Vfs::Mkdir(const Context& ctx, Ino parent, const std::string& name, uint32_t mode) {
  return meta_->Mkdir(ctx, parent, name, mode);
}

Result<Entry> Vfs::Symlink(const Context& ctx, Ino parent, const std::string& name,
                           const std::string& target) {
  return meta_->Symlink(ctx, parent, name, target);
}

Result<std::string> Vfs::ReadLink(Ino ino) { return meta_->ReadLink(ino); }

Status Vfs::Unlink(const Context& ctx, Ino parent, const std::string& name) {
  RETURN_IF_ERROR(meta_->Unlink(ctx, parent, name));
  Kick();
  return {};
}

Status Vfs::Rmdir(const Context& ctx, Ino parent, const std::string& name) {
  return meta_->Rmdir(ctx, parent, name);
}

Status Vfs::Rename(const Context& ctx, Ino parent, const std::string& name, Ino new_parent,
                   const std::string& new_name, uint32_t flags) {
  RETURN_IF_ERROR(meta_->Rename(ctx, parent, name, new_parent, new_name, flags));
  Kick();  // a replaced file may have lost its last link
  return {};
}

Result<Entry> Vfs::Link(const Context& ctx, Ino ino, Ino new_parent, const std::string& new_name) {
  ASSIGN_OR_RETURN(Entry e, meta_->Link(ctx, ino, new_parent, new_name));
  OverlayPending(e.ino, &e.attr);
  return e;
}

Result<meta::FsStat> Vfs::StatFs() { return meta_->StatFs(); }

Result<uint64_t> Vfs::OpenDir(const Context& ctx, Ino ino) {
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(ino));
  if (!attr.IsDir()) return Err(Code::kNotDir, "not a directory");
  RETURN_IF_ERROR(meta_->Access(ctx, ino, R_OK));
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->is_dir = true;
  h->attr = attr;
  return AddHandle(std::move(h));
}

Result<std::vector<Vfs::DirItem>> Vfs::ReadDir(const Context& ctx, uint64_t fh, uint64_t offset,
                                               size_t max_items) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  std::lock_guard lock(h->mu);
  if (offset == 0 || !h->loaded) {
    ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(h->ino));
    ASSIGN_OR_RETURN(auto entries, meta_->ReadDir(ctx, h->ino, false));
    h->items.clear();
    h->items.reserve(entries.size() + 2);
    h->items.push_back({".", h->ino, S_IFDIR, 1});
    h->items.push_back({"..", attr.parent ? attr.parent : h->ino, S_IFDIR, 2});
    for (auto& e : entries) {
      h->items.push_back({std::move(e.name), e.ino, e.attr.mode, h->items.size() + 1});
    }
    h->loaded = true;
  }
  std::vector<DirItem> out;
  for (uint64_t i = offset; i < h->items.size() && out.size() < max_items; ++i) {
    out.push_back(h->items[i]);
  }
  return out;
}

Status Vfs::ReleaseDir(uint64_t fh) {
  std::lock_guard lock(handles_mu_);
  handles_.erase(fh);
  return {};
}

namespace {
constexpr std::string_view kCapabilityXattr = "security.capability";
}

bool Vfs::NoCapabilityCached(Ino ino) {
  std::lock_guard lock(capability_mu_);
  auto it = no_capability_.find(ino);
  if (it == no_capability_.end()) return false;
  if (it->second > std::chrono::steady_clock::now()) return true;
  no_capability_.erase(it);
  return false;
}

void Vfs::CacheNoCapability(Ino ino) {
  if (options_.attr_timeout <= 0) return;
  std::lock_guard lock(capability_mu_);
  if (no_capability_.size() > 100000) no_capability_.clear();
  no_capability_[ino] = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options_.attr_timeout));
}

void Vfs::ForgetCapability(Ino ino) {
  std::lock_guard lock(capability_mu_);
  no_capability_.erase(ino);
}

Result<std::string> Vfs::GetXattr(const Context& ctx, Ino ino, const std::string& name) {
  if (name == kInfoXattr) return InfoJson(ino);
  if (name == kCompactXattr) return FragmentationJson(ino);
  if (name == kCachedXattr) return CachedJson(ino);
  if (name == kStatsXattr && ino == meta::kRootIno) return metrics::PrometheusText();
  const bool capability = name == kCapabilityXattr;
  if (capability && NoCapabilityCached(ino)) return Err(Code::kNoData, "no such attribute");
  auto got = meta_->GetXattr(ctx, ino, name);
  if (capability && !got.has_value() && got.error().code() == Code::kNoData) {
    CacheNoCapability(ino);
  }
  return got;
}

Status Vfs::SetXattr(const Context& ctx, Ino ino, const std::string& name, std::string_view value,
                     int flags) {
  if (name == kInfoXattr || (name == kStatsXattr && ino == meta::kRootIno)) {
    return Err(Code::kPermission, name + " is read-only");
  }
  if (name == kWarmupXattr) return WarmupFile(ino);
  if (name == kEvictXattr) return EvictFile(ino);
  if (name == kCompactXattr) {
    ASSIGN_OR_RETURN(CompactStats stats, CompactFile(ctx, ino));
    (void)stats;
    return {};
  }
  ForgetCapability(ino);
  return meta_->SetXattr(ctx, ino, name, value, flags);
}

Result<std::vector<std::string>> Vfs::ListXattr(const Context& ctx, Ino ino) {
  return meta_->ListXattr(ctx, ino);
}

Status Vfs::RemoveXattr(const Context& ctx, Ino ino, const std::string& name) {
  ForgetCapability(ino);
  return meta_->RemoveXattr(ctx, ino, name);
}

}  // namespace tessera::vfs
