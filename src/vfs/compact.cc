// Vfs compaction: rewriting a fragmented chunk as one slice, in the
// background after commits and on demand (the kCompactXattr).
//
// A pass reads the chunk's records from meta, writes what they show as a new
// slice (chunk::WriteCompacted: its blocks are stored before anything points
// at them), and asks meta to swap the records it read for the new one. The
// swap refuses (kBusy) if the chunk no longer starts with those records, and
// the new blocks are deleted; writes committed meanwhile only append records,
// so they neither stop the swap nor lose to it. The replaced slices lose a
// reference each and meta hands the unreferenced ones to FreeSlice. Readers
// holding the old records (here, or on another mount until it re-reads them)
// find their blocks gone at worst, and Read re-reads the records and retries.
//
// One task per chunk at a time (ClaimChunk); background passes run on the
// compactor_ pool and never block a writer: the commit only queues the chunk.
#include <nlohmann/json.hpp>

#include "common/logging.h"
#include "common/metrics.h"
#include "vfs/vfs.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {
namespace {

// Records merged in one swap: bounds the swap's transaction (the chunk's
// value and the release queue, 24 bytes a record each: under etcd's 1.5 MiB
// request) and the memory of a pass; a chunk with more takes several passes.
constexpr size_t kMaxCompactRecords = 16384;
// A chunk past this many records is compacted at once, its commits paused or
// not: commits and reads of it cost more with every record, and a chunk
// with more than one pass merges would need several rewrites.
constexpr uint32_t kMaxDeferredRecords = kMaxCompactRecords;

metrics::Counter& CompactTotal() {
  static auto& c = metrics::GetCounter("tessera_compact_total", "chunks compacted");
  return c;
}
metrics::Counter& CompactSlices() {
  static auto& c =
      metrics::GetCounter("tessera_compact_slices_total", "slice records removed by compaction");
  return c;
}
metrics::Counter& CompactBytes() {
  static auto& c =
      metrics::GetCounter("tessera_compact_bytes_total", "bytes written by compaction");
  return c;
}

// Chunks claimed for compaction, queued or under way (every mount of the
// process): 0 once background compaction has caught up.
metrics::Gauge& CompactPending() {
  static auto& g =
      metrics::GetGauge("tessera_compact_pending", "chunks queued for or under compaction");
  return g;
}

uint32_t ChunkCount(const Attr& attr) {
  return static_cast<uint32_t>((attr.length + kChunkSize - 1) / kChunkSize);
}

}  // namespace

bool Vfs::ClaimChunk(Ino ino, uint32_t index, bool wait) {
  std::unique_lock lock(compact_mu_);
  auto key = std::make_pair(ino, index);
  if (!wait) {
    auto it = compacting_.find(key);
    if (it != compacting_.end()) {
      it->second = true;  // the holder makes another pass before it lets go
      return false;
    }
  }
  compact_cv_.wait(lock, [&] { return compact_stopping_ || !compacting_.contains(key); });
  if (compact_stopping_) return false;
  compacting_.emplace(key, false);
  CompactPending().Add(1);
  return true;
}

bool Vfs::ReleaseChunk(Ino ino, uint32_t index, bool keep_if_asked) {
  bool again = false;
  {
    std::lock_guard lock(compact_mu_);
    auto it = compacting_.find({ino, index});
    if (it == compacting_.end()) return false;
    again = it->second;
    if (keep_if_asked && again && !compact_stopping_) {
      it->second = false;
      return true;
    }
    compacting_.erase(it);
    CompactPending().Add(-1);
  }
  compact_cv_.notify_all();
  return again;
}

void Vfs::StopCompactions() {
  StopCompactTimer();
  std::unique_lock lock(compact_mu_);
  compact_cv_.wait(lock, [&] { return compacting_.empty(); });
}

void Vfs::StopCompactTimer() {
  {
    std::lock_guard lock(compact_mu_);
    compact_stopping_ = true;
    // Deferred chunks stay as they are: the next mount's commits or reads
    // queue them again.
    CompactPending().Add(-static_cast<int64_t>(deferred_.size()));
    deferred_.clear();
  }
  compact_cv_.notify_all();
  if (compact_timer_.joinable()) compact_timer_.join();
}

// Random writes all over a chunk commit records to it again and again;
// rewriting the whole chunk after every commit would cost a chunk of reads
// and writes per commit and find it fragmented again a moment later. So a
// commit only sets the chunk's due time, a quiet period ahead; each further
// commit pushes it back, and the chunk is compacted once its writes pause.
void Vfs::DeferCompaction(Ino ino, uint32_t index, uint32_t records) {
  if (options_.compact_delay_ms <= 0 || records > kMaxDeferredRecords) {
    ScheduleCompaction(ino, index);
    return;
  }
  {
    std::lock_guard lock(compact_mu_);
    if (compact_stopping_) return;
    const auto due =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.compact_delay_ms);
    auto [it, added] = deferred_.insert_or_assign({ino, index}, due);
    if (added) CompactPending().Add(1);
    if (!compact_timer_.joinable()) compact_timer_ = std::thread([this] { CompactTimer(); });
  }
  compact_cv_.notify_all();
}

void Vfs::CompactTimer() {
  std::unique_lock lock(compact_mu_);
  while (!compact_stopping_) {
    if (deferred_.empty()) {
      compact_cv_.wait(lock);
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    auto next = std::chrono::steady_clock::time_point::max();
    std::vector<std::pair<Ino, uint32_t>> due;
    for (auto it = deferred_.begin(); it != deferred_.end();) {
      if (it->second <= now) {
        due.push_back(it->first);
        it = deferred_.erase(it);
      } else {
        next = std::min(next, it->second);
        ++it;
      }
    }
    if (due.empty()) {
      compact_cv_.wait_until(lock, next);
      continue;
    }
    lock.unlock();
    for (const auto& [ino, index] : due) {
      ScheduleCompaction(ino, index);
      CompactPending().Add(-1);  // after the claim's +1: the gauge never dips to 0 between
    }
    lock.lock();
  }
}

// The task makes passes while the chunk stays above the threshold, or while
// commits ask for one (a commit that finds the chunk claimed only leaves
// word), so a chunk never stays fragmented because its writes arrived while
// a pass was running. Passes in a row are bounded so that one busy file
// cannot keep the pool to itself.
void Vfs::ScheduleCompaction(Ino ino, uint32_t index) {
  if (!ClaimChunk(ino, index, /*wait=*/false)) return;  // under way: it will look again
  compactor_->Submit([this, ino, index] {
    constexpr int kMaxPasses = 8;
    for (int pass = 0;; ++pass) {
      {
        std::lock_guard lock(compact_mu_);
        if (compact_stopping_) break;
      }
      CompactStats stats;
      bool progress = false;
      Status s = CompactChunk(ino, index, options_.compact_threshold, &stats, &progress);
      if (s.code() == Code::kBusy || s.code() == Code::kNotFound) {
        // The chunk changed under the pass (the next one looks again), or
        // the file is gone.
        TLOG(kDebug) << "compaction of inode " << ino << " chunk " << index << ": " << s.ToString();
      } else if (!s.ok()) {
        TLOG(kWarn) << "compaction of inode " << ino << " chunk " << index << ": " << s.ToString();
      }
      if (pass + 1 >= kMaxPasses || s.code() == Code::kNotFound ||
          (!s.ok() && s.code() != Code::kBusy))
        break;
      if (s.ok() && progress) continue;  // writes may have piled up during the pass
      if (!ReleaseChunk(ino, index, /*keep_if_asked=*/true)) return;
    }
    // Out of passes with a request pending: back of the queue, after other files.
    if (ReleaseChunk(ino, index, /*keep_if_asked=*/false)) ScheduleCompaction(ino, index);
  });
}

namespace {

// A background pass rewrites the whole span the records show. Small writes
// scattered over a big chunk (random 4 KiB writes into a 64 MiB chunk) would
// make every 20 records cost a 64 MiB rewrite: wait until the rewrite costs
// at most kMaxAmplification times the bytes the newer records brought, or
// until the chunk is so fragmented (ten times the threshold) that reads
// suffer more than the rewrite costs.
constexpr uint64_t kMaxAmplification = 64;

bool CheapEnough(const std::vector<Slice>& records, size_t threshold) {
  if (records.size() > 10 * threshold) return true;
  uint64_t first = UINT64_MAX, last = 0, total = 0, largest = 0;
  for (const chunk::Segment& seg : chunk::BuildView(records)) {
    if (seg.id == 0) continue;
    first = std::min<uint64_t>(first, seg.pos);
    last = uint64_t{seg.pos} + seg.len;
  }
  for (const Slice& r : records) {
    total += r.len;
    largest = std::max<uint64_t>(largest, r.len);
  }
  if (first == UINT64_MAX) return true;  // only holes: nothing to rewrite
  return last - first <= kMaxAmplification * (total - largest);
}

}  // namespace

Status Vfs::CompactChunk(Ino ino, uint32_t index, size_t min_records, CompactStats* stats,
                         bool* progress) {
  *progress = false;
  ASSIGN_OR_RETURN(auto records, meta_->ReadChunk(ino, index));
  if (records.size() <= min_records || !chunk::WorthCompacting(records)) return {};
  // On demand (min_records 1: tessera compact) always; in the background
  // only when the rewrite is cheap enough for what it gains.
  if (min_records > 1 && !CheapEnough(records, min_records)) return {};
  std::vector<Slice> old(
      records.begin(),
      records.begin() + static_cast<ptrdiff_t>(std::min(records.size(), kMaxCompactRecords)));
  ASSIGN_OR_RETURN(uint64_t id, meta_->NewSliceId());
  ASSIGN_OR_RETURN(Slice merged, chunk::WriteCompacted(reader_, *store_, layout_, old, id,
                                                       uploads_.get(), downloads_.get()));
  Status swapped = meta_->CompactChunk(ino, index, old, merged);
  if (!swapped.ok()) {
    if (merged.id != 0) (void)chunk::DeleteSliceBlocks(*store_, layout_, merged.id, merged.size);
    return swapped;
  }
  // Readers here see the new record from now on; a read that copied the old
  // list a moment ago retries if it finds the blocks gone.
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    f->chunks.erase(index);
  }
  const uint64_t removed = old.size() - (merged.len > 0 ? 1 : 0);
  CompactTotal().Add();
  CompactSlices().Add(removed);
  CompactBytes().Add(merged.len);
  stats->bytes += merged.len;
  *progress = true;
  TLOG(kDebug) << "compacted inode " << ino << " chunk " << index << ": " << old.size()
               << " records into slice " << merged.id << " (" << merged.len << " bytes)";
  return {};
}

Result<CompactStats> Vfs::CompactFile(const Context& ctx, Ino ino) {
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(ino));
  if (attr.IsDir()) return Err(Code::kIsDir, "inode " + std::to_string(ino) + " is a directory");
  if (!attr.IsFile()) return Err(Code::kInvalid, "only regular files are compacted");
  RETURN_IF_ERROR(meta_->Access(ctx, ino, W_OK));
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    RETURN_IF_ERROR(CommitLocked(ino, *f));
    attr.length = std::max(attr.length, f->length);
  }
  CompactStats stats;
  for (uint32_t index = 0; index < ChunkCount(attr); ++index) {
    ASSIGN_OR_RETURN(auto before, meta_->ReadChunk(ino, index));
    if (before.empty()) continue;
    stats.slices_before += before.size();
    if (!ClaimChunk(ino, index, /*wait=*/true)) return Err(Code::kInterrupted, "unmounting");
    Status s;
    bool compacted = false;
    // A pass merges a bounded number of records; a change under a pass (a
    // concurrent truncate, say) is worth a few more tries.
    for (int busy = 0, pass = 0; pass < 100 && (s.ok() || (s.code() == Code::kBusy && busy < 3));
         ++pass) {
      bool progress = false;
      s = CompactChunk(ino, index, 1, &stats, &progress);
      if (s.code() == Code::kBusy) ++busy;
      if (s.ok() && !progress) break;
      compacted = compacted || progress;
    }
    // A commit that asked for a pass meanwhile gets one in the background.
    if (ReleaseChunk(ino, index, /*keep_if_asked=*/false)) ScheduleCompaction(ino, index);
    RETURN_IF_ERROR(s);
    if (compacted) ++stats.chunks;
    ASSIGN_OR_RETURN(auto after, meta_->ReadChunk(ino, index));
    stats.slices_after += after.size();
  }
  return stats;
}

Result<std::string> Vfs::FragmentationJson(Ino ino) {
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    RETURN_IF_ERROR(CommitLocked(ino, *f));
  }
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(ino));
  uint64_t chunks = 0, slices = 0;
  if (attr.IsFile()) {
    for (uint32_t index = 0; index < ChunkCount(attr); ++index) {
      ASSIGN_OR_RETURN(auto records, meta_->ReadChunk(ino, index));
      chunks += !records.empty();
      slices += records.size();
    }
  }
  return nlohmann::json{{"chunks", chunks}, {"slices", slices}}.dump();
}

}  // namespace tessera::vfs
