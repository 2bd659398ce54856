// The disk cache: per-directory indexes, eviction, free-space upkeep, the
// start-up scan and writeback staging (see disk_cache.h).
#include "cache/disk_cache.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cache/cache_file.h"
#include "common/access_hint.h"
#include "common/logging.h"
#include "common/xxhash.h"

namespace tessera::cache {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// One cache directory and its share of the capacity.
struct Dir {
  Dir(std::string root_dir, uint64_t cap, Eviction policy, uint64_t seed)
      : root(std::move(root_dir)),
        raw(root + "/raw"),
        staging(root + "/rawstaging"),
        capacity(cap),
        hash_seed(seed),
        index(policy, seed) {}

  const std::string root, raw, staging;
  const uint64_t capacity;
  const uint64_t hash_seed;  // rendezvous hashing
  std::atomic<int64_t> disabled_until_ns{0};
  std::atomic<bool> scanning{true};

  std::mutex mu;
  Index index;                   // guarded by mu
  uint64_t reserved = 0;         // bytes being written, guarded by mu
  int errors_in_row = 0;         // guarded by mu
  int64_t space_checked_ns = 0;  // guarded by mu
  uint64_t avail_bytes = 0;      // at the last check, less what was written since; guarded by mu
  uint64_t avail_inodes = 0;     // guarded by mu
  uint64_t min_bytes = 0;        // free-space-ratio of the disk; guarded by mu
  uint64_t min_inodes = 0;       // guarded by mu
};

class DiskCacheImpl final : public DiskCache {
 public:
  explicit DiskCacheImpl(const CacheOptions& o) : options_(o) {
    uint64_t share = o.capacity_bytes / o.dirs.size();
    for (const std::string& d : o.dirs) {
      uint64_t seed = XXH3_64bits(d.data(), d.size());
      dirs_.push_back(std::make_unique<Dir>(d, share, o.eviction, seed));
    }
    uint32_t dir_mode = o.file_mode | ((o.file_mode & 0444) >> 2) | ((o.file_mode & 0222) >> 1);
    for (auto& d : dirs_) {
      int err = MakeDirs(d->raw, dir_mode);
      if (err == 0) err = MakeDirs(d->staging, dir_mode);
      if (err != 0) {
        TLOG(kWarn) << "cache directory " << d->root << " is not usable (" << std::strerror(err)
                    << "); reading from the object store instead";
        Metrics().errors.Add();
        d->disabled_until_ns = NowNs() + DisableNs();
      }
    }
    if (o.background_scan) {
      scanner_ = std::thread([this] { Scan(); });
    } else {
      Scan();
    }
    behind_limit_ = std::min(o.write_behind_bytes, share / 8);
    if (behind_limit_ > 0) writer_ = std::thread([this] { WriteBehind(); });
  }

  ~DiskCacheImpl() override {
    {
      std::lock_guard lock(behind_mu_);
      behind_stop_ = true;
    }
    behind_cv_.notify_all();
    if (writer_.joinable()) writer_.join();  // after writing what waits
    stop_ = true;
    if (scanner_.joinable()) scanner_.join();
    for (auto& d : dirs_) {
      std::lock_guard lock(d->mu);
      Metrics().used_bytes.Add(-static_cast<int64_t>(d->index.bytes()));
      Metrics().blocks.Add(-static_cast<int64_t>(d->index.count()));
    }
  }

  std::string Describe() const override {
    std::string s = "disk cache ";
    for (size_t i = 0; i < dirs_.size(); ++i) s += (i ? ", " : "") + dirs_[i]->root;
    return s + " (" + std::to_string(options_.capacity_bytes >> 20) + " MiB)";
  }

  std::optional<std::string> Get(std::string_view key) override {
    return Read(key, 0, UINT64_MAX, true);
  }

  std::optional<std::string> GetRange(std::string_view key, uint64_t offset,
                                      uint64_t length) override {
    return Read(key, offset, length, false);
  }

  void Put(std::string_view key, std::string_view data) override {
    Dir* d = StorableKey(key) ? Pick(key) : nullptr;
    if (d == nullptr) return;
    std::string k(key);
    const uint64_t size = data.size();
    const bool later = behind_limit_ > 0 && size + HeaderSize(size) < kBehindMax;
    if (later && Waiting(k) != nullptr) return;
    uint64_t used_at;
    {
      std::lock_guard lock(d->mu);
      if (d->index.Touch(k)) return;
      if (size > d->capacity || !MakeRoomLocked(*d, size)) return;
      d->reserved += size;
      used_at = d->index.Tick();
    }
    if (later && Defer(*d, k, data, used_at)) return;
    const int err = WriteFileAtomic(d->raw + "/" + k, data, options_.file_mode, false,
                                    EncodeHeader(data), !RandomAccess());
    std::lock_guard lock(d->mu);
    d->reserved -= size;
    WrittenLocked(*d, k, size, err);
  }

  bool Contains(std::string_view key) override {
    Dir* d = StorableKey(key) ? Pick(key) : nullptr;
    if (d == nullptr) return false;
    std::string k(key);
    if (Waiting(k) != nullptr) return true;
    {
      std::lock_guard lock(d->mu);
      if (d->index.Find(k) != nullptr) return true;
      if (!d->scanning) return false;
    }
    struct stat st;
    return ::stat((d->raw + "/" + k).c_str(), &st) == 0;
  }

  Status Evict(std::string_view key) override {
    if (!StorableKey(key)) return Status::Ok();
    std::string k(key);
    Unwait(k);
    for (auto& d : dirs_) {  // every directory: a copy may predate a directory change
      std::lock_guard lock(d->mu);
      RemoveLocked(*d, k);
      if (::unlink((d->raw + "/" + k).c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
        return Status::FromErrno(errno, "evict " + d->raw + "/" + k);
      }
    }
    return Status::Ok();
  }

  uint64_t used_bytes() const override {
    uint64_t n = 0;
    for (auto& d : dirs_) {
      std::lock_guard lock(d->mu);
      n += d->index.bytes();
    }
    return n;
  }

  size_t blocks() const override {
    size_t n = 0;
    for (auto& d : dirs_) {
      std::lock_guard lock(d->mu);
      n += d->index.count();
    }
    return n;
  }

  void WaitForScan() override {
    std::unique_lock lock(scan_mu_);
    scan_cv_.wait(lock, [this] { return scan_done_; });
  }

  void WaitForWrites() override {
    std::unique_lock lock(behind_mu_);
    behind_done_.wait(lock, [this] { return behind_.empty(); });
  }

  Status Stage(std::string_view key, std::string_view data) override {
    if (!StorableKey(key)) return Status::Invalid("key cannot be staged: " + std::string(key));
    Dir* d = Pick(key);
    if (d == nullptr) return Status::Unavailable("no usable cache directory for staging");
    {
      std::lock_guard lock(d->mu);
      if (!MakeRoomLocked(*d, data.size())) {
        return Status(Code::kNoSpace, "cache disk of " + d->root + " is short of free space");
      }
    }
    std::string path = d->staging + "/" + std::string(key);
    int err = WriteFileAtomic(path, data, options_.file_mode, true, EncodeHeader(data));
    if (err != 0) {
      std::string msg = "staging " + path + ": " + std::strerror(err);
      Failed(*d, msg);
      return Status::FromErrno(err, msg);
    }
    return Status::Ok();
  }

  Result<std::string> ReadStaged(std::string_view key) override {
    if (!StorableKey(key)) return Err(Code::kNotFound, std::string(key));
    for (Dir* d : Ranked(key)) {
      std::string path = d->staging + "/" + std::string(key);
      auto block = ReadBlockFile(path);
      if (!block.has_value() && block.error().code() == Code::kNotFound) continue;
      if (!block.has_value() && block.error().code() != Code::kCorrupt) return Err(block.error());
      if (!block.has_value()) {
        Metrics().corrupt.Add();
        return Err(Code::kCorrupt,
                   "staged block " + path + " is damaged: " + block.error().message());
      }
      return block;
    }
    return Err(Code::kNotFound, "not staged: " + std::string(key));
  }

  void Unstage(std::string_view key, bool into_cache) override {
    if (!StorableKey(key)) return;
    std::string k(key);
    for (Dir* d : Ranked(key)) {
      std::string from = d->staging + "/" + k;
      struct stat st;
      if (::stat(from.c_str(), &st) != 0) continue;
      uint64_t size = BlockLengthOf(static_cast<uint64_t>(st.st_size));
      bool usable = d->disabled_until_ns.load() <= NowNs();
      if (into_cache && usable && size <= d->capacity) {
        std::lock_guard lock(d->mu);
        if (MakeRoomLocked(*d, size) && MoveLocked(*d, from, d->raw + "/" + k)) {
          AddLocked(*d, k, size);
          Metrics().write_bytes.Add(size);
          return;
        }
      }
      ::unlink(from.c_str());
      return;
    }
  }

  std::vector<StagedBlock> ListStaged() override {
    std::vector<StagedBlock> out;
    for (auto& d : dirs_) {
      Walk(d->staging, [&](const std::string& rel, uint64_t size, int64_t) {
        out.push_back({rel, BlockLengthOf(size)});
        return true;
      });
    }
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.key < b.key; });
    out.erase(std::unique(out.begin(), out.end(), [](auto& a, auto& b) { return a.key == b.key; }),
              out.end());
    return out;
  }

 private:
  int64_t DisableNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(options_.disable_for).count();
  }

  // Block bytes [offset, offset + length): with `whole`, by reading and
  // verifying the whole file; else only the pieces of the range.
  std::optional<std::string> Read(std::string_view key, uint64_t offset, uint64_t length,
                                  bool whole) {
    Dir* d = StorableKey(key) ? Pick(key) : nullptr;
    if (d == nullptr) return Miss();
    std::string k(key);
    if (auto waiting = Waiting(k)) {
      UsedWaiting(*d, k);
      std::string part = waiting->substr(std::min<uint64_t>(offset, waiting->size()), length);
      Metrics().hits.Add();
      Metrics().hit_bytes.Add(part.size());
      return part;
    }
    bool known;
    {
      std::lock_guard lock(d->mu);
      known = d->index.Touch(k);
      if (!known && !d->scanning) return Miss();
    }
    // Found on disk while the index is still being rebuilt: read it whole,
    // which also tells its size.
    if (!known) whole = true;
    const std::string path = d->raw + "/" + k;
    Result<std::string> got = whole ? ReadBlockFile(path) : ReadRange(path, offset, length);
    if (!got.has_value()) {
      const Status& st = got.error();
      if (st.code() == Code::kNotFound) {
        if (known) Drop(*d, k, false);
      } else if (st.code() == Code::kCorrupt) {
        TLOG(kWarn) << "cached block " << path << " is damaged (" << st.message()
                    << "); deleted, reading from the object store";
        Metrics().corrupt.Add();
        Drop(*d, k, true);
      } else {
        Failed(*d, st.ToString());
      }
      return Miss();
    }
    if (!known) {
      std::lock_guard lock(d->mu);
      if (d->index.Find(k) == nullptr) AddLocked(*d, k, got->size());
    }
    // A whole read still has to be cut to the range asked for.
    std::string part = whole ? Cut(std::move(*got), offset, length) : std::move(*got);
    Metrics().hits.Add();
    Metrics().hit_bytes.Add(part.size());
    return part;
  }

  // --- Write-behind. Each entry of behind_ holds `size` bytes of its
  // directory's reservation and of behind_bytes_; whoever removes the entry
  // (the writer once the file is written, or Evict) gives them back. Lock
  // order: a Dir's mu before behind_mu_. ---

  // The copy of `key` waiting to be written, or null.
  std::shared_ptr<const std::string> Waiting(const std::string& key) {
    std::lock_guard lock(behind_mu_);
    auto it = behind_.find(key);
    return it == behind_.end() ? nullptr : it->second.data;
  }

  // A read of the waiting `key`: its time of use moves on, as Touch's.
  void UsedWaiting(Dir& d, const std::string& key) {
    uint64_t t;
    {
      std::lock_guard lock(d.mu);
      t = d.index.Tick();
    }
    std::lock_guard lock(behind_mu_);
    auto it = behind_.find(key);
    if (it != behind_.end()) it->second.used_at = t;
  }

  // Queues a copy of `data` (its space reserved in `d`, last used at
  // `used_at`); false when the queue is full, and the caller writes it.
  bool Defer(Dir& d, const std::string& key, std::string_view data, uint64_t used_at) {
    {
      std::lock_guard lock(behind_mu_);
      if (!behind_stop_ && behind_bytes_ + data.size() <= behind_limit_) {
        auto [it, added] = behind_.try_emplace(key, Behind{&d, nullptr, used_at});
        if (added) {
          it->second.data = std::make_shared<const std::string>(data);
          behind_bytes_ += data.size();
          behind_queue_.push_back(key);
          behind_cv_.notify_one();
          return true;
        }
      } else {
        return false;
      }
    }
    // Queued meanwhile by another Put: give back this one's reservation.
    std::lock_guard lock(d.mu);
    d.reserved -= data.size();
    return true;
  }

  // Drops `key` from the queue (Evict); its file, if the writer is writing
  // it now, is removed by the writer.
  void Unwait(const std::string& key) {
    Dir* d = nullptr;
    uint64_t size = 0;
    {
      std::lock_guard lock(behind_mu_);
      auto it = behind_.find(key);
      if (it == behind_.end()) return;
      d = it->second.dir;
      size = it->second.data->size();
      behind_bytes_ -= size;
      behind_.erase(it);
    }
    behind_done_.notify_all();
    std::lock_guard lock(d->mu);
    d->reserved -= size;
  }

  // The background writer: writes queued blocks in order until stopped and
  // the queue is empty.
  void WriteBehind() {
    std::unique_lock lock(behind_mu_);
    while (true) {
      behind_cv_.wait(lock, [this] { return behind_stop_ || !behind_queue_.empty(); });
      if (behind_queue_.empty()) return;
      const std::string key = std::move(behind_queue_.front());
      behind_queue_.pop_front();
      auto it = behind_.find(key);
      if (it == behind_.end()) continue;  // evicted while waiting
      const Behind b = it->second;
      lock.unlock();
      const std::string path = b.dir->raw + "/" + key;
      const uint64_t size = b.data->size();
      // A directory that failed meanwhile is not written (nor counted again).
      const bool usable = b.dir->disabled_until_ns.load() <= NowNs();
      const int err = usable ? WriteFileAtomic(path, *b.data, options_.file_mode, false,
                                               EncodeHeader(*b.data), false)
                             : EIO;
      {
        std::lock_guard dir_lock(b.dir->mu);
        lock.lock();
        it = behind_.find(key);
        if (it != behind_.end() && it->second.data == b.data) {
          b.dir->reserved -= size;
          behind_bytes_ -= size;
          if (usable) WrittenLocked(*b.dir, key, size, err, it->second.used_at);
          behind_.erase(it);
        } else if (err == 0) {
          ::unlink(path.c_str());  // evicted while being written
        }
      }
      behind_done_.notify_all();
    }
  }

  // Records the end of a write of `key` (`err`: 0 or an errno), last used at
  // `used_at` (0: now).
  void WrittenLocked(Dir& d, const std::string& key, uint64_t size, int err,
                     uint64_t used_at = 0) {
    if (err != 0) {
      FailedLocked(d, "write of " + d.raw + "/" + key + ": " + std::strerror(err));
      if (err == ENOSPC) d.space_checked_ns = 0;  // look at the disk again
      return;
    }
    d.errors_in_row = 0;
    AddLocked(d, key, size, used_at);
    Metrics().write_bytes.Add(size);
  }

  static std::nullopt_t Miss() {
    Metrics().misses.Add();
    return std::nullopt;
  }

  // Every directory, best first for `key` (rendezvous hashing).
  std::vector<Dir*> Ranked(std::string_view key) const {
    std::vector<std::pair<uint64_t, Dir*>> scored;
    for (auto& d : dirs_) {
      scored.emplace_back(XXH3_64bits_withSeed(key.data(), key.size(), d->hash_seed), d.get());
    }
    std::sort(scored.begin(), scored.end(), [](auto& a, auto& b) { return a.first > b.first; });
    std::vector<Dir*> out;
    for (auto& [score, d] : scored) out.push_back(d);
    return out;
  }

  // The directory that holds `key`: the best-ranked one not disabled.
  Dir* Pick(std::string_view key) const {
    if (dirs_.size() == 1) {
      return dirs_[0]->disabled_until_ns.load() <= NowNs() ? dirs_[0].get() : nullptr;
    }
    int64_t now = NowNs();
    for (Dir* d : Ranked(key)) {
      if (d->disabled_until_ns.load() <= now) return d;
    }
    return nullptr;
  }

  void AddLocked(Dir& d, const std::string& key, uint64_t size, uint64_t atime = 0) {
    const Index::Entry* old = d.index.Find(key);
    if (old != nullptr) {
      Metrics().used_bytes.Add(static_cast<int64_t>(size) - static_cast<int64_t>(old->size));
    } else {
      Metrics().used_bytes.Add(static_cast<int64_t>(size));
      Metrics().blocks.Add(1);
    }
    d.index.Add(key, size, atime);
  }

  void RemoveLocked(Dir& d, const std::string& key) {
    if (auto size = d.index.Remove(key)) {
      Metrics().used_bytes.Add(-static_cast<int64_t>(*size));
      Metrics().blocks.Add(-1);
    }
  }

  // Forgets `key` (and deletes its file when `unlink`).
  void Drop(Dir& d, const std::string& key, bool unlink) {
    std::lock_guard lock(d.mu);
    RemoveLocked(d, key);
    if (unlink) ::unlink((d.raw + "/" + key).c_str());
  }

  void EvictOneLocked(Dir& d) {
    auto victim = d.index.Victim();
    if (!victim) return;
    RemoveLocked(d, *victim);
    ::unlink((d.raw + "/" + *victim).c_str());
    Metrics().evictions.Add();
  }

  // Evicts until `size` more bytes fit in the directory's share and its disk
  // keeps free-space-ratio free. False when that is impossible.
  bool MakeRoomLocked(Dir& d, uint64_t size) {
    while (d.index.count() > 0 && d.index.bytes() + d.reserved + size > d.capacity) {
      EvictOneLocked(d);
    }
    if (d.index.bytes() + d.reserved + size > d.capacity) return false;
    if (options_.free_space_ratio <= 0) return true;
    int64_t now = NowNs();
    if (now - d.space_checked_ns > 1'000'000'000) {
      struct statvfs vfs;
      if (::statvfs(d.root.c_str(), &vfs) != 0) {
        FailedLocked(d, "statvfs " + d.root + ": " + std::strerror(errno));
        return false;
      }
      d.space_checked_ns = now;
      d.avail_bytes = uint64_t{vfs.f_bavail} * vfs.f_frsize;
      d.avail_inodes = vfs.f_favail;
      d.min_bytes = static_cast<uint64_t>(
          options_.free_space_ratio * static_cast<double>(uint64_t{vfs.f_blocks} * vfs.f_frsize));
      d.min_inodes =
          static_cast<uint64_t>(options_.free_space_ratio * static_cast<double>(vfs.f_files));
    }
    // Inode counts of 0 mean the file system does not count inodes.
    auto short_of_space = [&] {
      return d.avail_bytes < d.min_bytes + size ||
             (d.min_inodes > 0 && d.avail_inodes < d.min_inodes + 2);
    };
    while (short_of_space() && d.index.count() > 0) {
      auto victim = d.index.Victim();
      uint64_t freed = d.index.Find(*victim)->size;
      EvictOneLocked(d);
      d.avail_bytes += freed;
      d.avail_inodes += 1;
    }
    if (short_of_space()) return false;
    d.avail_bytes -= size;
    d.avail_inodes -= std::min<uint64_t>(d.avail_inodes, 1);
    return true;
  }

  bool MoveLocked(Dir& d, const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) == 0) return true;
    if (errno == ENOENT) {
      uint32_t m = options_.file_mode;
      MakeDirs(to.substr(0, to.rfind('/')), m | ((m & 0444) >> 2) | ((m & 0222) >> 1));
      if (::rename(from.c_str(), to.c_str()) == 0) return true;
    }
    FailedLocked(d, "rename " + from + " to " + to + ": " + std::strerror(errno));
    return false;
  }

  void Failed(Dir& d, const std::string& what) {
    std::lock_guard lock(d.mu);
    FailedLocked(d, what);
  }

  // Counts a failure; the third in a row takes the directory out for a while.
  void FailedLocked(Dir& d, const std::string& what) {
    Metrics().errors.Add();
    if (++d.errors_in_row < options_.errors_to_disable) {
      TLOG(kWarn) << "cache: " << what;
      return;
    }
    d.errors_in_row = 0;
    d.disabled_until_ns = NowNs() + DisableNs();
    TLOG(kWarn) << "cache: " << what << "; cache directory " << d.root << " failed "
                << options_.errors_to_disable << " times in a row, unused for "
                << options_.disable_for.count() << " ms";
  }

  // Rebuilds the indexes from the files on disk.
  void Scan() {
    for (auto& d : dirs_) {
      size_t found = 0;
      Walk(d->raw, [&](const std::string& rel, uint64_t size, int64_t atime) {
        if (stop_) return false;
        if (size < kFixedHeaderSize || !StorableKey(rel)) {
          ::unlink((d->raw + "/" + rel).c_str());
          return true;
        }
        std::lock_guard lock(d->mu);
        if (d->index.Find(rel) == nullptr) {
          AddLocked(*d, rel, BlockLengthOf(size),
                    static_cast<uint64_t>(std::max<int64_t>(atime, 1)));
          ++found;
        }
        return true;
      });
      {
        std::lock_guard lock(d->mu);
        MakeRoomLocked(*d, 0);  // the share may have shrunk since the last run
        d->scanning = false;
      }
      if (found > 0) TLOG(kInfo) << "cache " << d->root << ": " << found << " blocks found";
    }
    std::lock_guard lock(scan_mu_);
    scan_done_ = true;
    scan_cv_.notify_all();
  }

  // A block smaller than this (with its header) may be written behind: it is
  // written through the page cache, so the write costs the file's creation.
  static constexpr uint64_t kBehindMax = uint64_t{1} << 20;

  struct Behind {
    Dir* dir;
    std::shared_ptr<const std::string> data;
    uint64_t used_at;  // the directory index's time of the last use
  };

  const CacheOptions options_;
  std::vector<std::unique_ptr<Dir>> dirs_;
  std::mutex behind_mu_;
  std::condition_variable behind_cv_;    // a block queued, or stopping
  std::condition_variable behind_done_;  // a block left the queue
  std::unordered_map<std::string, Behind> behind_;  // guarded by behind_mu_
  std::deque<std::string> behind_queue_;            // guarded by behind_mu_
  uint64_t behind_bytes_ = 0;                       // guarded by behind_mu_
  bool behind_stop_ = false;                        // guarded by behind_mu_
  // What may wait: an eighth of the smallest directory's share at most, so
  // that space reserved for waiting blocks does not evict much.
  uint64_t behind_limit_ = 0;
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::thread scanner_;
  std::mutex scan_mu_;
  std::condition_variable scan_cv_;
  bool scan_done_ = false;  // guarded by scan_mu_
};

}  // namespace

std::vector<std::string> SplitDirs(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string_view::npos) end = list.size();
    if (end > start) out.emplace_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Result<std::unique_ptr<DiskCache>> NewDiskCache(const CacheOptions& options) {
  if (options.dirs.empty()) return Err(Code::kInvalid, "no cache directory given");
  if (options.capacity_bytes == 0) return Err(Code::kInvalid, "cache size is 0");
  if (options.free_space_ratio < 0 || options.free_space_ratio >= 1) {
    return Err(Code::kInvalid, "free space ratio must be in [0, 1)");
  }
  if (options.dirs.size() == 1 && options.dirs[0] == "memory") return NewMemCache(options);
  for (const std::string& d : options.dirs) {
    if (d == "memory") return Err(Code::kInvalid, "'memory' cannot be mixed with directories");
    if (d.empty() || d[0] != '/') {
      return Err(Code::kInvalid, "cache directory must be an absolute path: " + d);
    }
  }
  return std::unique_ptr<DiskCache>(std::make_unique<DiskCacheImpl>(options));
}

}  // namespace tessera::cache
