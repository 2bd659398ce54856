// chunk/: from slices to blocks and back.
//
// A file is cut into 64 MiB chunks by position; each chunk holds slices (one
// per write session, see common/slice.h); each slice is stored as blocks of
// at most `block_size` bytes, one object each, named
//
//   <volume>/chunks/<id / 1000000>/<id / 1000>/<id>_<block index>_<block length>
//
// A block never changes after it is written and its name is never reused, so
// no cached copy of a block ever needs invalidating.
//
// This module knows nothing of inodes or names: vfs/ asks meta/ for a chunk's
// slice records and hands them here.
//
//  - SliceWriter buffers one write session of one chunk and uploads its blocks.
//  - BuildView turns overlapping slice records into non-overlapping segments.
//  - ChunkReader reads a byte range of a chunk through a BlockCache.
//  - DeleteSliceBlocks removes the objects of a slice nobody references.
//  - WriteCompacted rewrites what a chunk's records show as one slice
//    (compaction; meta swaps the records, see docs/compaction.md).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/slice.h"
#include "common/status.h"
#include "common/thread_pool.h"
#include "object/store.h"

namespace tessera::chunk {

class Buffer;

// Where and how a volume's blocks are stored. Cheap to copy.
struct Layout {
  std::string volume;  // key prefix: the volume name
  uint32_t block_size = 4u << 20;
};

// The object key of block `index` (of `length` bytes) of slice `id`.
std::string BlockKey(const Layout& layout, uint64_t id, uint32_t index, uint32_t length);
// Number of blocks a slice of `size` bytes is stored in, and the length of block `index`.
uint32_t BlockCount(const Layout& layout, uint32_t size);
uint32_t BlockLength(const Layout& layout, uint32_t size, uint32_t index);

// One continuous write session inside one chunk. Writes must continue the
// slice or rewrite bytes still in its unuploaded tail (see CanWrite); full
// blocks are uploaded as soon as no further write can change them.
// Not thread-safe: one owner (a file writer) drives it under its own lock.
class SliceWriter {
 public:
  // `pos`: where the slice starts in the chunk. `store` must outlive the writer.
  // With `uploads`, full blocks upload in the background on that pool, at most
  // `max_inflight` of this slice at a time (Write waits for room); Finish
  // waits for all of them. Without it every upload happens inside Write.
  // With `buffer`, buffered and uploading bytes are charged to it (Write may
  // wait for room, see chunk/buffer.h); it must outlive the writer.
  SliceWriter(object::ObjectStore& store, Layout layout, uint64_t id, uint32_t pos,
              ThreadPool* uploads = nullptr, int max_inflight = 8, Buffer* buffer = nullptr);
  ~SliceWriter();  // waits for uploads still running

  uint64_t id() const { return id_; }
  uint32_t pos() const { return pos_; }
  // Bytes written so far (the slice covers chunk [pos, pos + length)).
  uint32_t length() const { return static_cast<uint32_t>(buffer_.size() + uploaded_); }
  // Bytes held in memory (not yet uploaded).
  size_t buffered() const { return buffer_.size(); }
  // Whether every byte is still in memory: nothing uploaded, not sealed.
  bool InMemory() const { return uploaded_ == 0 && !sealed_; }
  // The slice's bytes, while InMemory().
  std::string_view Bytes() const { return buffer_; }

  // True if bytes [chunk_off, chunk_off + n) may be written into this slice:
  // they start no later than its end, no earlier than its unuploaded part,
  // and stay inside the chunk.
  bool CanWrite(uint32_t chunk_off, size_t n) const;
  // Writes (CanWrite must hold). Uploads blocks that became full and final.
  Status Write(uint32_t chunk_off, std::string_view data);
  // Copies bytes of this slice at [chunk_off, chunk_off+n) that are still in
  // memory into `out`; returns how many leading bytes it could serve (0 if the
  // range starts in an uploaded block or outside the slice).
  size_t ReadBuffered(uint32_t chunk_off, size_t n, char* out) const;
  // Starts uploading whatever remains, without waiting; nothing may be
  // written after. Lets a caller finishing many slices overlap their uploads.
  Status Seal();
  // Seals (if not yet) and waits for every upload; returns the slice record
  // to commit.
  Result<Slice> Finish();

 private:
  Status UploadFullBlocks();
  // Stores one block, in the background when there is a pool.
  // `charge`: the bytes charged to the buffer for `data`, freed when it is stored.
  Status Upload(std::string key, std::string data, size_t charge);
  void Charge(size_t n);   // to the buffer, if any; may wait for room
  void Release(size_t n);
  // Waits until every background upload ended; returns the first failure.
  Status WaitUploads();

  // Background uploads of this slice; shared with the tasks, which may end
  // after the writer is gone.
  struct Inflight {
    std::mutex mu;
    std::condition_variable cv;
    int running = 0;     // guarded by mu
    Status first_error;  // guarded by mu
  };

  object::ObjectStore& store_;
  Layout layout_;
  uint64_t id_;
  uint32_t pos_;
  ThreadPool* uploads_;
  int max_inflight_;
  Buffer* buffer_budget_;
  size_t charged_ = 0;  // bytes of buffer_'s capacity charged to the buffer
  std::shared_ptr<Inflight> inflight_ = std::make_shared<Inflight>();
  uint32_t uploaded_ = 0;  // bytes of the slice already stored as blocks
  bool sealed_ = false;
  Status seal_status_;  // what Seal gave; every later Seal gives it again
  std::string buffer_;     // slice bytes [uploaded_, uploaded_ + buffer_.size())
};

// A non-overlapping piece of a chunk and where its bytes come from.
struct Segment {
  uint32_t pos = 0;  // chunk offset
  uint32_t len = 0;
  uint64_t id = 0;   // 0: zeros
  uint32_t size = 0; // the slice's stored size (for block keys)
  uint32_t off = 0;  // offset inside the slice
  bool operator==(const Segment&) const = default;
};

// Resolves overlapping records (later wins) into ascending, non-overlapping
// segments covering [0, end of the last byte any record covers). Gaps come
// back as id-0 segments.
std::vector<Segment> BuildView(const std::vector<Slice>& slices);

// Holds whole blocks in memory by key, bounded by bytes, least recently used
// evicted first. Safe for concurrent use.
class BlockCache {
 public:
  // With `buffer`, the cache holds at most what the buffer leaves to readers
  // (Buffer::ReadCapacity) and shrinks when writers take room; `buffer` must
  // outlive the cache.
  explicit BlockCache(size_t capacity_bytes, Buffer* buffer = nullptr);
  ~BlockCache();
  // The block, or null; counted as a hit or a miss in the metrics.
  std::shared_ptr<const std::string> Get(const std::string& key);
  // Whether the block is held, without counting or refreshing it.
  bool Contains(const std::string& key) const;
  void Put(const std::string& key, std::shared_ptr<const std::string> block);
  // A block that its sequential reader has passed: evicted before any other,
  // and at once when such blocks pass an eighth of the capacity (oldest
  // first), so that a stream reuses the memory of what it has read instead
  // of filling the cache with it. A Get before then keeps it as usual.
  void Demote(const std::string& key);
  size_t size_bytes() const;
  // Evicts the least recently used blocks until at most `bytes` remain.
  void ShrinkTo(size_t bytes);
  // How many bytes the cache may hold now (less while writers use the buffer).
  size_t capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads chunks of a volume. Safe for concurrent use.
class ChunkReader {
 public:
  // `store`, `cache` and `buffer` must outlive the reader; `cache` may be
  // null. With `buffer`, blocks being fetched are charged to it.
  ChunkReader(object::ObjectStore& store, Layout layout, BlockCache* cache,
              Buffer* buffer = nullptr);

  // Bytes [offset, offset + length) of the block `key` when a copy of it is
  // kept near this client (the disk cache), read without the rest of the
  // block; nullopt when there is none.
  using LocalRange = std::function<std::optional<std::string>(const std::string& key,
                                                              uint32_t offset, uint32_t length)>;
  // Lets random reads take parts of blocks from `local` instead of whole
  // blocks (see Read). Call before the first read.
  void SetLocalRange(LocalRange local) { local_range_ = std::move(local); }
  // Fills out[0, n) with chunk bytes [chunk_off, chunk_off + n) as `slices`
  // say; holes and bytes past every slice read as zeros. A missing (kNotFound)
  // or short (kCorrupt) block is an error naming the object, never zeros.
  Status Read(const std::vector<Slice>& slices, uint32_t chunk_off, size_t n, char* out);
  // The same from the chunk's view (BuildView of its records), which a caller
  // reading one chunk many times builds once: a read then costs O(log
  // segments), not a pass over every record.
  //
  // `random`: the caller expects no further reads near this one (no
  // readahead), so a block that is neither in memory nor being fetched is
  // read in part from the LocalRange when it has the block: a 4 KiB read of
  // a block in the disk cache then reads 4 KiB, not 4 MiB. Otherwise, and
  // when the LocalRange lacks it, the whole block is fetched and kept.
  Status Read(std::span<const Segment> view, uint32_t chunk_off, size_t n, char* out,
              bool random = false);
  // Starts fetching, on `pool`, the blocks that a Read of [chunk_off,
  // chunk_off + n) would need and the cache does not hold (readahead). Errors
  // are left for the Read that needs the block. Needs a cache. At most a quarter of
  // the cache's capacity is being prefetched at once: blocks fetched ahead
  // must not evict each other before they are read.
  void Prefetch(const std::vector<Slice>& slices, uint32_t chunk_off, size_t n, ThreadPool& pool);
  void Prefetch(std::span<const Segment> view, uint32_t chunk_off, size_t n, ThreadPool& pool);
  // Tells the cache that the blocks a Read of [chunk_off, chunk_off + n)
  // touches have been read past (BlockCache::Demote).
  void Passed(std::span<const Segment> view, uint32_t chunk_off, size_t n);

 private:
  // Calls fn(key, want) for each block, in order, that a Read of [chunk_off,
  // chunk_off + n) touches (holes have none) until fn returns false.
  void ForEachBlock(std::span<const Segment> view, uint32_t chunk_off, size_t n,
                    const std::function<bool(std::string key, uint32_t want)>& fn) const;
  using BlockResult = Result<std::shared_ptr<const std::string>>;
  // A fetch that callers of the same block wait for instead of fetching again.
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    BlockResult result = Err(Code::kIO, "fetch not finished");
  };
  BlockResult FetchBlock(uint64_t id, uint32_t size, uint32_t index);
  // The fetch of `key` in flight, and whether the caller just registered it
  // (and so must run it with Complete) rather than found it.
  std::pair<std::shared_ptr<Pending>, bool> Claim(const std::string& key);
  // Fetches a claimed block, caches it, and hands the result to its waiters.
  BlockResult Complete(const std::string& key, uint32_t want, Pending& pending);
  BlockResult FetchFromStore(const std::string& key, uint32_t want);
  // Serves [in_block, in_block + n) of block `index` of slice `id` into
  // `out` from the LocalRange, unless the block is in memory or on its way
  // there; false when it did not.
  bool ReadLocal(uint64_t id, uint32_t size, uint32_t index, uint32_t in_block, size_t n,
                 char* out);

  object::ObjectStore& store_;
  Layout layout_;
  BlockCache* cache_;
  Buffer* buffer_;
  LocalRange local_range_;
  std::mutex pending_mu_;
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // guarded by pending_mu_
  std::atomic<size_t> prefetching_{0};  // bytes of prefetches claimed and not done
};

// Deletes every block of slice `id` of `size` bytes. Missing blocks are fine.
Status DeleteSliceBlocks(object::ObjectStore& store, const Layout& layout, uint64_t id,
                         uint32_t size);

// Whether rewriting `slices` (a chunk's records, or the first of them) as one
// slice would leave fewer records: at least two.
bool WorthCompacting(const std::vector<Slice>& slices);

// Reads the bytes that `slices` show and stores them as the blocks of slice
// `id`, which spans from the first byte a data record shows to the last
// (holes between become zeros; holes before and after stay holes). Returns
// the one record that shows the same bytes as all of `slices` — a record with
// len 0 and id 0, storing nothing, when they show only holes. On failure no
// block of `id` is left behind. `uploads` and `downloads` (optional) fetch
// and store blocks in parallel; `reader` must have a cache for `downloads`
// to help. The caller holds `id` from meta and swaps the records there.
Result<Slice> WriteCompacted(ChunkReader& reader, object::ObjectStore& store, const Layout& layout,
                             const std::vector<Slice>& slices, uint64_t id,
                             ThreadPool* uploads = nullptr, ThreadPool* downloads = nullptr);

}  // namespace tessera::chunk
