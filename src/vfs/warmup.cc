// Warmup, eviction and the cache check of a file's blocks in the local disk
// cache, behind three virtual xattrs that `tessera warmup` uses:
//   setxattr tessera.warmup  fetches every block of the file's visible data
//                            that the cache lacks (the cached store keeps it);
//   setxattr tessera.evict   drops those blocks from the cache;
//   getxattr tessera.cached  {"blocks","bytes","cached_blocks","cached_bytes"}.
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "vfs/vfs.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {

Result<std::vector<Vfs::BlockRef>> Vfs::FileBlocks(Ino ino) {
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    RETURN_IF_ERROR(CommitLocked(ino, *f));
  }
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(ino));
  if (!attr.IsFile()) return Err(Code::kIsDir, "not a regular file");
  std::vector<BlockRef> out;
  std::set<std::string> seen;
  const uint64_t bs = layout_.block_size;
  const uint32_t count = static_cast<uint32_t>((attr.length + kChunkSize - 1) / kChunkSize);
  for (uint32_t index = 0; index < count; ++index) {
    ASSIGN_OR_RETURN(auto slices, meta_->ReadChunk(ino, index));
    for (const chunk::Segment& seg : chunk::BuildView(slices)) {
      if (seg.id == 0 || seg.len == 0) continue;
      const uint64_t first = seg.off / bs;
      const uint64_t last = (uint64_t{seg.off} + seg.len - 1) / bs;
      for (uint64_t b = first; b <= last; ++b) {
        const uint32_t i = static_cast<uint32_t>(b);
        const uint32_t len = chunk::BlockLength(layout_, seg.size, i);
        std::string key = chunk::BlockKey(layout_, seg.id, i, len);
        if (seen.insert(key).second) out.push_back({std::move(key), len});
      }
    }
  }
  return out;
}

Result<std::string> Vfs::CachedJson(Ino ino) {
  ASSIGN_OR_RETURN(auto blocks, FileBlocks(ino));
  uint64_t bytes = 0, cached = 0, cached_bytes = 0;
  for (const BlockRef& b : blocks) {
    bytes += b.length;
    if (cache_control_.contains && cache_control_.contains(b.key)) {
      ++cached;
      cached_bytes += b.length;
    }
  }
  nlohmann::json j = {{"blocks", blocks.size()},
                      {"bytes", bytes},
                      {"cached_blocks", cached},
                      {"cached_bytes", cached_bytes}};
  return j.dump();
}

Status Vfs::WarmupFile(Ino ino) {
  if (!cache_control_.contains) {
    return Err(Code::kNotSupported, "this mount has no disk cache (--cache-size 0)");
  }
  ASSIGN_OR_RETURN(auto blocks, FileBlocks(ino));
  // A few fetches at once per file; `tessera warmup` runs many files at once.
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto work = [&] {
    for (size_t i = next++; i < blocks.size(); i = next++) {
      if (cache_control_.contains(blocks[i].key)) continue;
      auto got = store_->Get(blocks[i].key);  // the cached store keeps it on disk
      if (!got.has_value()) {
        std::lock_guard lock(mu);
        if (first.ok()) first = Status(got.error().code(), got.error().message());
      }
    }
  };
  const size_t n = std::min<size_t>(4, blocks.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  return first;
}

Status Vfs::EvictFile(Ino ino) {
  if (!cache_control_.evict) {
    return Err(Code::kNotSupported, "this mount has no disk cache (--cache-size 0)");
  }
  ASSIGN_OR_RETURN(auto blocks, FileBlocks(ino));
  for (const BlockRef& b : blocks) RETURN_IF_ERROR(cache_control_.evict(b.key));
  return {};
}

}  // namespace tessera::vfs
