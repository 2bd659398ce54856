// The caching and writeback ObjectStore wrapper (see cached_store.h).
//
// Writeback state: `pending_` holds every staged block not yet uploaded, and
// `due_` orders the ones waiting for their time (upload delay or retry
// backoff). The scheduler thread moves due blocks onto the upload pool; an
// upload task marks its block `uploading`, reads it from staging, stores it,
// then moves it into the cache and forgets it. A Delete that finds the block
// waiting removes it from staging; one that finds it uploading marks it, and
// the task deletes the object again once its Put is done.
#include "cache/cached_store.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cache/cache_file.h"
#include "common/logging.h"
#include "common/thread_pool.h"

namespace tessera::cache {
namespace {

using Clock = std::chrono::steady_clock;

// An ObjectStore length (< 0: to the end) as Cut's.
uint64_t CutLength(int64_t length) { return length < 0 ? UINT64_MAX : static_cast<uint64_t>(length); }

class CachedStoreImpl final : public CachedStore {
 public:
  CachedStoreImpl(std::unique_ptr<object::ObjectStore> inner, DiskCache& cache,
                  CachedStoreOptions options)
      : inner_(std::move(inner)), cache_(cache), options_(options) {
    // Blocks staged by an earlier writeback mount upload even when this one
    // does not write back: they may be the only copy.
    std::vector<StagedBlock> left = cache_.ListStaged();
    uploader_ = options_.writeback || !left.empty();
    if (!uploader_) return;
    pool_ = std::make_unique<ThreadPool>(static_cast<size_t>(std::max(1, options_.max_uploads)));
    {
      std::lock_guard lock(mu_);
      for (auto& b : left) {
        pending_[b.key] = Pending{b.size};
        due_.emplace(Clock::now(), b.key);
        Metrics().staging_blocks.Add(1);
        Metrics().staging_bytes.Add(static_cast<int64_t>(b.size));
      }
    }
    if (!left.empty()) {
      TLOG(kInfo) << left.size() << " blocks left in writeback staging; uploading them";
    }
    scheduler_ = std::thread([this] { Schedule(); });
  }

  ~CachedStoreImpl() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (scheduler_.joinable()) scheduler_.join();
    pool_.reset();  // queued tasks see stopping_ and leave their blocks staged
    std::lock_guard lock(mu_);
    for (auto& [key, p] : pending_) {
      Metrics().staging_blocks.Add(-1);
      Metrics().staging_bytes.Add(-static_cast<int64_t>(p.size));
    }
  }

  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }

  Status Put(std::string_view key, std::string_view data) override {
    if (options_.writeback) {
      Status staged = cache_.Stage(key, data);
      if (staged.ok()) {
        Enqueue(std::string(key), data.size());
        return Status::Ok();
      }
      TLOG(kDebug) << "uploading " << key << " directly: " << staged.ToString();
    }
    RETURN_IF_ERROR(inner_->Put(key, data));
    cache_.Put(key, data);
    return Status::Ok();
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    if (uploader_ && IsPending(key)) {
      auto staged = cache_.ReadStaged(key);
      if (staged.has_value()) return Cut(std::move(*staged), offset, CutLength(length));
      // Uploaded (and moved into the cache) meanwhile, or damaged: read on.
    }
    if (auto block = cache_.Get(key)) return Cut(std::move(*block), offset, CutLength(length));
    if (offset != 0 || length >= 0) return inner_->Get(key, offset, length);
    ASSIGN_OR_RETURN(std::string block, inner_->Get(key));
    cache_.Put(key, block);
    return block;
  }

  Result<object::ObjectInfo> Head(std::string_view key) override {
    if (uploader_) {
      std::lock_guard lock(mu_);
      auto it = pending_.find(std::string(key));
      if (it != pending_.end() && !it->second.deleted) {
        return object::ObjectInfo{std::string(key), it->second.size, 0};
      }
    }
    return inner_->Head(key);
  }

  Status Delete(std::string_view key) override {
    std::string k(key);
    if (uploader_) {
      std::unique_lock lock(mu_);
      auto it = pending_.find(k);
      if (it != pending_.end()) {
        if (it->second.uploading) {
          it->second.deleted = true;  // the upload task deletes it when its Put ends
          return Status::Ok();
        }
        Forget(it);
        lock.unlock();
        cache_.Unstage(k, false);
        Metrics().skipped.Add();
        // A previous run may have uploaded it before stopping: delete anyway.
      }
    }
    RETURN_IF_ERROR(inner_->Delete(key));
    Status evicted = cache_.Evict(key);
    if (!evicted.ok()) TLOG(kWarn) << "cache: " << evicted.ToString();
    return Status::Ok();
  }

  Result<object::ListPage> List(std::string_view prefix, std::string_view start_after,
                                size_t limit) override {
    return inner_->List(prefix, start_after, limit);
  }

  size_t Flush(std::chrono::milliseconds timeout) override {
    if (!uploader_) return 0;
    auto deadline = Clock::now() + timeout;
    std::unique_lock lock(mu_);
    flushing_ = true;  // no more waiting for upload_delay
    cv_.notify_all();
    cv_.wait_until(lock, deadline, [this] { return pending_.empty(); });
    flushing_ = false;
    return pending_.size();
  }

  size_t staged() const override {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

 private:
  struct Pending {
    uint64_t size = 0;
    bool uploading = false;
    bool deleted = false;  // deleted while uploading
    int attempts = 0;
  };
  using PendingMap = std::unordered_map<std::string, Pending>;

  bool IsPending(std::string_view key) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(std::string(key));
    return it != pending_.end() && !it->second.deleted;
  }

  void Enqueue(std::string key, uint64_t size) {
    {
      std::lock_guard lock(mu_);
      auto [it, added] = pending_.try_emplace(key, Pending{size});
      if (!added) return;  // staged again while waiting: one upload does
      Metrics().staging_blocks.Add(1);
      Metrics().staging_bytes.Add(static_cast<int64_t>(size));
      due_.emplace(Clock::now() + options_.upload_delay, std::move(key));
    }
    cv_.notify_all();
  }

  // Drops a block from the writeback state (mu_ held).
  void Forget(PendingMap::iterator it) {
    Metrics().staging_blocks.Add(-1);
    Metrics().staging_bytes.Add(-static_cast<int64_t>(it->second.size));
    pending_.erase(it);
    cv_.notify_all();
  }

  // Hands blocks to the upload pool when they are due.
  void Schedule() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      auto now = Clock::now();
      while (!due_.empty() && (flushing_ || due_.begin()->first <= now)) {
        std::string key = due_.begin()->second;
        due_.erase(due_.begin());
        auto it = pending_.find(key);
        if (it == pending_.end() || it->second.uploading) continue;  // deleted or running
        it->second.uploading = true;
        pool_->Submit([this, key] { Upload(key); });
      }
      if (due_.empty()) {
        cv_.wait(lock);
      } else if (!flushing_) {
        cv_.wait_until(lock, due_.begin()->first);
      } else {
        cv_.wait_for(lock, std::chrono::milliseconds(10));
      }
    }
  }

  void Upload(const std::string& key) {
    {
      std::lock_guard lock(mu_);
      auto it = pending_.find(key);
      if (it == pending_.end()) return;
      if (stopping_) {  // stays staged for the next start
        it->second.uploading = false;
        return;
      }
    }
    Status st;
    auto block = cache_.ReadStaged(key);
    if (!block.has_value()) {
      st = block.error();
      if (st.code() == Code::kNotFound || st.code() == Code::kCorrupt) {
        // Nothing (or nothing trustworthy) to upload: the data is lost to us.
        TLOG(kError) << "writeback: staged block " << key
                     << " cannot be uploaded: " << st.ToString();
        std::lock_guard lock(mu_);
        auto it = pending_.find(key);
        if (it != pending_.end()) Forget(it);
        return;
      }
    } else {
      st = inner_->Put(key, *block);
    }
    std::unique_lock lock(mu_);
    auto it = pending_.find(key);
    if (it == pending_.end()) return;
    if (st.ok()) {
      // Still pending until it has left staging, so Flush waits for all of it.
      bool deleted = it->second.deleted;
      lock.unlock();
      cache_.Unstage(key, !deleted);
      lock.lock();
      it = pending_.find(key);
      if (!deleted && it != pending_.end() && it->second.deleted) {
        deleted = true;  // deleted while it was leaving staging
        Status evicted = cache_.Evict(key);
        if (!evicted.ok()) TLOG(kWarn) << "cache: " << evicted.ToString();
      }
      if (deleted) {  // rare: under mu_, so that Flush returns only after it
        Status d = inner_->Delete(key);
        if (!d.ok()) TLOG(kWarn) << "writeback: delete of " << key << ": " << d.ToString();
      }
      Metrics().uploads.Add();
      if (it != pending_.end()) Forget(it);
      return;
    }
    Pending& p = it->second;
    p.uploading = false;
    auto backoff = options_.retry_backoff * (1 << std::min(p.attempts, 16));
    backoff = std::min<std::chrono::milliseconds>(backoff, options_.max_retry_backoff);
    ++p.attempts;
    TLOG(kWarn) << "writeback: upload of " << key << " failed (attempt " << p.attempts
                << "): " << st.ToString() << "; retrying in " << backoff.count() << " ms";
    due_.emplace(Clock::now() + backoff, key);
    cv_.notify_all();
  }

  std::unique_ptr<object::ObjectStore> inner_;
  DiskCache& cache_;
  const CachedStoreOptions options_;
  bool uploader_ = false;  // writeback, or blocks left staged: the scheduler runs

  mutable std::mutex mu_;
  std::condition_variable cv_;
  PendingMap pending_;                                 // guarded by mu_
  std::multimap<Clock::time_point, std::string> due_;  // guarded by mu_
  bool stopping_ = false;                              // guarded by mu_
  bool flushing_ = false;                              // guarded by mu_
  std::thread scheduler_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace

std::unique_ptr<CachedStore> NewCachedStore(std::unique_ptr<object::ObjectStore> inner,
                                            DiskCache& cache, CachedStoreOptions options) {
  return std::make_unique<CachedStoreImpl>(std::move(inner), cache, options);
}

}  // namespace tessera::cache
