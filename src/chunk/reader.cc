// ChunkReader: a byte range of a chunk, assembled from the slice view.
//
// Each segment overlapping the range is served from the blocks of its slice:
// slice byte s lives in block s / block_size at s % block_size. Blocks are
// fetched whole (and kept in the BlockCache when there is one), and every
// fetched block must have exactly the length its name says; anything else is
// an error naming the object, never zeros. A random read may instead take
// just its bytes from a local copy of the block (the disk cache). Holes and
// the bytes past the last segment read as zeros.
#include <algorithm>
#include <cstring>

#include "chunk/buffer.h"
#include "chunk/chunk.h"
#include "common/access_hint.h"

namespace tessera::chunk {
namespace {

// Blocks fetched during one Read, so segments sharing a block fetch it once.
class Fetched {
 public:
  std::shared_ptr<const std::string> Find(uint64_t id, uint32_t index) const {
    for (const auto& b : blocks_) {
      if (b.id == id && b.index == index) return b.data;
    }
    return nullptr;
  }
  void Add(uint64_t id, uint32_t index, std::shared_ptr<const std::string> data) {
    if (blocks_.size() >= kMaxKept) blocks_.erase(blocks_.begin());
    blocks_.push_back({id, index, std::move(data)});
  }

 private:
  static constexpr size_t kMaxKept = 8;
  struct Block {
    uint64_t id;
    uint32_t index;
    std::shared_ptr<const std::string> data;
  };
  std::vector<Block> blocks_;
};

}  // namespace

ChunkReader::ChunkReader(object::ObjectStore& store, Layout layout, BlockCache* cache,
                         Buffer* buffer)
    : store_(store), layout_(std::move(layout)), cache_(cache), buffer_(buffer) {
  CHECK(layout_.block_size > 0);
}

ChunkReader::BlockResult ChunkReader::FetchFromStore(const std::string& key, uint32_t want) {
  auto got = store_.Get(key);
  if (!got) {
    const Status& st = got.error();
    // A block that a committed slice points at must exist: kNotFound here is
    // an error (the vfs may wait for it: a writeback mount may still be
    // uploading it), never a hole.
    Code code = st.code();
    return Err(code,
               "cannot read block " + key + " from " + store_.Describe() + ": " + st.message());
  }
  if (got->size() != want) {
    return Err(Code::kCorrupt, "block " + key + " in " + store_.Describe() + " has " +
                                   std::to_string(got->size()) + " bytes, expected " +
                                   std::to_string(want));
  }
  return std::make_shared<const std::string>(std::move(*got));
}

// Concurrent fetches of one block (a read and the readahead ahead of it, or
// two readers) share one GET: the first caller fetches, the others wait.
ChunkReader::BlockResult ChunkReader::FetchBlock(uint64_t id, uint32_t size, uint32_t index) {
  const uint32_t want = BlockLength(layout_, size, index);
  const std::string key = BlockKey(layout_, id, index, want);
  if (cache_ != nullptr) {
    if (auto hit = cache_->Get(key)) return hit;
  }
  auto [pending, fetcher] = Claim(key);
  if (fetcher) return Complete(key, want, *pending);
  std::unique_lock lock(pending->mu);
  pending->cv.wait(lock, [&] { return pending->done; });
  return pending->result;
}

std::pair<std::shared_ptr<ChunkReader::Pending>, bool> ChunkReader::Claim(const std::string& key) {
  std::lock_guard lock(pending_mu_);
  auto& slot = pending_[key];
  if (slot) return {slot, false};
  slot = std::make_shared<Pending>();
  return {slot, true};
}

ChunkReader::BlockResult ChunkReader::Complete(const std::string& key, uint32_t want,
                                               Pending& pending) {
  if (buffer_ != nullptr) buffer_->StartFetch(want);
  BlockResult result = FetchFromStore(key, want);
  // No longer in flight before it enters the cache, or the cache would make
  // room for it twice.
  if (buffer_ != nullptr) buffer_->EndFetch(want);
  if (result.has_value() && cache_ != nullptr) cache_->Put(key, *result);
  {
    std::lock_guard lock(pending_mu_);
    pending_.erase(key);
  }
  {
    std::lock_guard lock(pending.mu);
    pending.result = result;
    pending.done = true;
  }
  pending.cv.notify_all();
  return result;
}

namespace {

// The segments of `view` (ascending, non-overlapping) from the first that
// ends past `begin`.
std::span<const Segment> From(std::span<const Segment> view, uint64_t begin) {
  auto first = std::partition_point(view.begin(), view.end(), [&](const Segment& seg) {
    return uint64_t{seg.pos} + seg.len <= begin;
  });
  return view.subspan(static_cast<size_t>(first - view.begin()));
}

}  // namespace

// A block is claimed here, before its task is queued: a later call (every
// read of a sequential stream asks again for its whole window) finds it
// claimed and queues nothing, so the pool's threads only ever run distinct
// fetches and never sit waiting for one another.
void ChunkReader::Prefetch(const std::vector<Slice>& slices, uint32_t chunk_off, size_t n,
                           ThreadPool& pool) {
  if (cache_ == nullptr || n == 0) return;
  Prefetch(BuildView(slices), chunk_off, n, pool);
}

void ChunkReader::ForEachBlock(
    std::span<const Segment> view, uint32_t chunk_off, size_t n,
    const std::function<bool(std::string key, uint32_t want)>& fn) const {
  const uint64_t begin = chunk_off;
  const uint64_t end = begin + n;
  const uint32_t bs = layout_.block_size;
  for (const Segment& seg : From(view, begin)) {
    const uint64_t seg_end = uint64_t{seg.pos} + seg.len;
    if (seg_end <= begin || seg.id == 0) continue;
    if (seg.pos >= end) break;
    const uint64_t from = std::max<uint64_t>(seg.pos, begin);
    const uint64_t to = std::min(seg_end, end);
    const uint64_t s_begin = seg.off + (from - seg.pos);
    const uint64_t s_end = std::min<uint64_t>(s_begin + (to - from), seg.size);
    if (s_begin >= s_end) continue;
    for (uint64_t i = s_begin / bs; i <= (s_end - 1) / bs; ++i) {
      const uint32_t index = static_cast<uint32_t>(i);
      const uint32_t want = BlockLength(layout_, seg.size, index);
      if (!fn(BlockKey(layout_, seg.id, index, want), want)) return;
    }
  }
}

void ChunkReader::Prefetch(std::span<const Segment> view, uint32_t chunk_off, size_t n,
                           ThreadPool& pool) {
  if (cache_ == nullptr || n == 0) return;
  ForEachBlock(view, chunk_off, n, [&](std::string key, uint32_t want) {
    if (cache_->Contains(key)) return true;
    if (prefetching_.load() + want > cache_->capacity() / 4) return false;
    auto [pending, fetcher] = Claim(key);
    if (!fetcher) return true;
    prefetching_ += want;
    pool.Submit([this, key = std::move(key), want, pending = std::move(pending)] {
      (void)Complete(key, want, *pending);
      prefetching_ -= want;
    });
    return true;
  });
}

void ChunkReader::Passed(std::span<const Segment> view, uint32_t chunk_off, size_t n) {
  if (cache_ == nullptr || n == 0) return;
  ForEachBlock(view, chunk_off, n, [&](std::string key, uint32_t) {
    cache_->Demote(key);
    return true;
  });
}

Status ChunkReader::Read(const std::vector<Slice>& slices, uint32_t chunk_off, size_t n,
                         char* out) {
  return Read(BuildView(slices), chunk_off, n, out);
}

bool ChunkReader::ReadLocal(uint64_t id, uint32_t size, uint32_t index, uint32_t in_block,
                            size_t n, char* out) {
  const uint32_t want = BlockLength(layout_, size, index);
  if (n >= want) return false;  // the whole block: fetch it and keep it
  const std::string key = BlockKey(layout_, id, index, want);
  if (cache_ != nullptr && cache_->Contains(key)) return false;
  {
    std::lock_guard lock(pending_mu_);
    if (pending_.contains(key)) return false;
  }
  auto part = local_range_(key, in_block, static_cast<uint32_t>(n));
  if (!part.has_value() || part->size() != n) return false;
  std::memcpy(out, part->data(), n);
  return true;
}

Status ChunkReader::Read(std::span<const Segment> view, uint32_t chunk_off, size_t n, char* out,
                         bool random) {
  const RandomAccessScope access(random);  // for the disk cache's writes below
  const uint64_t begin = chunk_off;
  const uint64_t end = begin + n;
  const uint32_t bs = layout_.block_size;
  uint64_t filled = begin;  // out holds chunk bytes [begin, filled)
  Fetched fetched;
  for (const Segment& seg : From(view, begin)) {
    const uint64_t seg_end = uint64_t{seg.pos} + seg.len;
    if (seg_end <= begin) continue;
    if (seg.pos >= end) break;
    const uint64_t from = std::max<uint64_t>(seg.pos, begin);
    const uint64_t to = std::min(seg_end, end);
    char* dst = out + (from - begin);
    if (seg.id == 0) {
      std::memset(dst, 0, to - from);
      filled = to;
      continue;
    }
    uint64_t s = seg.off + (from - seg.pos);  // offset inside the slice
    const uint64_t s_end = s + (to - from);
    if (s_end > seg.size) {
      return Status::Corrupt("slice " + std::to_string(seg.id) + " record reaches byte " +
                             std::to_string(s_end) + " past its size " + std::to_string(seg.size));
    }
    while (s < s_end) {
      const uint32_t index = static_cast<uint32_t>(s / bs);
      const uint32_t in_block = static_cast<uint32_t>(s % bs);
      const size_t m = static_cast<size_t>(std::min<uint64_t>(s_end - s, bs - in_block));
      auto block = fetched.Find(seg.id, index);
      if (!block && random && local_range_ &&
          ReadLocal(seg.id, seg.size, index, in_block, m, dst)) {
        dst += m;
        s += m;
        continue;
      }
      if (!block) {
        ASSIGN_OR_RETURN(block, FetchBlock(seg.id, seg.size, index));
        fetched.Add(seg.id, index, block);
      }
      std::memcpy(dst, block->data() + in_block, m);
      dst += m;
      s += m;
    }
    filled = to;
  }
  if (filled < end) std::memset(out + (filled - begin), 0, end - filled);
  return Status::Ok();
}

}  // namespace tessera::chunk
