// vfs/: POSIX semantics over meta/ and chunk/; the one place where the
// namespace and the data meet.
//
// A Vfs serves every entry point (the FUSE adapter, tools) with calls shaped
// like the system calls: it keeps open handles, a per-inode FileState that
// owns the inode's in-flight write sessions (one SliceWriter per chunk), the
// chunk slice lists cached per open file, and a background worker that frees
// deleted data and heartbeats the session.
//
// Write path: Write() lands in the chunk's SliceWriter (full blocks upload as
// they fill). Flush/Fsync/Release, a read of the same file, a truncate, or a
// write that cannot continue the current slice finishes the slice and commits
// its record to meta — only after its blocks are stored. So a crash leaves
// orphan objects at worst, never a file that points at missing data.
//
// Read path: the inode's slice records (cached per open file, refreshed on
// open: close-to-open consistency) go to the ChunkReader, which assembles the
// bytes from whole blocks held in a bounded BlockCache. A handle that reads
// sequentially grows a readahead window (one block, doubling up to
// max_readahead_blocks, and at most readahead_ratio times what it has read)
// whose blocks are fetched in the background.
// Full blocks upload in the background too (max_uploads at once).
//
// Compaction (compact.cc, docs/compaction.md): a commit that leaves a chunk
// with more than compact_threshold records schedules, on a small pool and
// once the chunk's commits pause (compact_delay_ms), a rewrite of that chunk
// as one slice; meta swaps the records only if the
// chunk still starts with the ones that were read. A read whose cached records
// name blocks that are gone (freed by a compaction here or on another mount)
// reads the records again and retries once.
//
// Thread-safety: a Vfs is safe for concurrent use. Lock order: handles_mu_,
// then a Handle's mu or files_mu_, then a FileState's mu, then compact_mu_; no lock is held
// across a meta transaction of another inode.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "chunk/buffer.h"
#include "chunk/chunk.h"
#include "common/status.h"
#include "meta/meta.h"
#include "object/store.h"
#include "vfs/readahead.h"

namespace tessera::vfs {

using meta::Attr;
using meta::Context;
using meta::Entry;
using meta::Ino;

struct Options {
  double attr_timeout = 1.0;   // seconds the kernel may cache attributes
  double entry_timeout = 1.0;  // seconds the kernel may cache name lookups
  double dir_entry_timeout = 1.0;
  // Memory for block data: written and not yet stored, and whole blocks kept
  // for readers (see chunk/buffer.h).
  size_t buffer_bytes = 300ull << 20;
  int max_uploads = 20;                     // blocks uploading at once
  int max_downloads = 16;                   // readahead fetches at once
  uint32_t max_readahead_blocks = 8;        // readahead window of a sequential reader
  // A stream fetches ahead at most this many times the bytes it has read, in
  // whole blocks (vfs/readahead.h); 0: no cap.
  double readahead_ratio = 4;
  int cleanup_interval_ms = 1000;           // how often deleted data is freed
  int heartbeat_interval_s = 12;
  // How long a read waits for a block that committed records name and the
  // store lacks (another mount's writeback may not have uploaded it yet)
  // before it fails with EIO.
  double missing_block_wait_s = 30;
  // A session that missed this many heartbeats is stale: live clients clean it up.
  int stale_session_heartbeats = 5;
  // A commit that leaves a chunk with more records than this schedules its
  // compaction in the background (0: never; `tessera compact` still works).
  uint32_t compact_threshold = 20;
  int compact_threads = 1;  // chunks compacted in the background at once
  // A chunk that commits keep reaching is compacted once they pause this
  // long (rewriting it between two bursts of writes would be wasted), or at
  // once past kMaxDeferredRecords.
  int compact_delay_ms = 1000;
  // How often the trash is purged of hours older than the volume's
  // trash_days (also once at start).
  int trash_purge_interval_s = 3600;
};

// What compacting a file did: chunks rewritten, and the records of the
// file's chunks before and after.
struct CompactStats {
  uint64_t chunks = 0;
  uint64_t slices_before = 0;
  uint64_t slices_after = 0;
  uint64_t bytes = 0;  // written as new slices
};

// The name of the virtual xattr that reports an inode's chunks, slices and objects as JSON.
inline constexpr const char* kInfoXattr = "tessera.info";
// The virtual xattr of the root directory that holds the process's metrics in
// Prometheus text format: `tessera stats` and `tessera bench` read it.
inline constexpr const char* kStatsXattr = "tessera.stats";
// The virtual xattr of compaction. Reading it gives a file's chunk and slice
// record counts as JSON ({"chunks": N, "slices": M}); setting it (any value)
// compacts every chunk of the file before returning. `tessera compact` uses it.
inline constexpr const char* kCompactXattr = "tessera.compact";

// The virtual xattrs of `tessera warmup` (see vfs/warmup.cc).
inline constexpr const char* kWarmupXattr = "tessera.warmup";
inline constexpr const char* kEvictXattr = "tessera.evict";
inline constexpr const char* kCachedXattr = "tessera.cached";

// What the vfs may ask of the mount's local disk cache (wired by the mount to
// cache::DiskCache; empty functions: no disk cache).
struct CacheControl {
  std::function<bool(const std::string& key)> contains;
  std::function<Status(const std::string& key)> evict;
  // Part of a cached block, without reading the rest (random reads); see
  // chunk::ChunkReader::LocalRange.
  chunk::ChunkReader::LocalRange read_range;
};

class Vfs {
 public:
  // Takes ownership of both; `settings` are the volume's (meta->Load()).
  Vfs(std::unique_ptr<meta::Meta> meta, std::unique_ptr<object::ObjectStore> store,
      meta::Settings settings, Options options);
  ~Vfs();  // flushes nothing: call Shutdown() first for an orderly stop.

  // Registers the session and starts the background worker.
  Status Start(const meta::SessionInfo& session);
  // Flushes every open file, stops the worker, closes the session.
  Status Shutdown();

  const Options& options() const { return options_; }
  // Before Start: the disk cache that warmup, evict and the check use.
  void SetCacheControl(CacheControl control) {
    cache_control_ = std::move(control);
    reader_.SetLocalRange(cache_control_.read_range);
  }
  const meta::Settings& settings() const { return settings_; }

  // --- Namespace ---
  Result<Entry> Lookup(const Context& ctx, Ino parent, const std::string& name);
  Result<Attr> GetAttr(Ino ino);
  // `size` set: truncate (after committing pending writes).
  Result<Attr> SetAttr(const Context& ctx, Ino ino, const meta::SetAttrRequest& req,
                       std::optional<uint64_t> size);
  Status Access(const Context& ctx, Ino ino, int mask);
  Result<Entry> Mknod(const Context& ctx, Ino parent, const std::string& name, uint32_t mode,
                      uint32_t rdev);
  Result<Entry> Mkdir(const Context& ctx, Ino parent, const std::string& name, uint32_t mode);
  Result<Entry> Symlink(const Context& ctx, Ino parent, const std::string& name,
                        const std::string& target);
  Result<std::string> ReadLink(Ino ino);
  Status Unlink(const Context& ctx, Ino parent, const std::string& name);
  Status Rmdir(const Context& ctx, Ino parent, const std::string& name);
  Status Rename(const Context& ctx, Ino parent, const std::string& name, Ino new_parent,
                const std::string& new_name, uint32_t flags);
  Result<Entry> Link(const Context& ctx, Ino ino, Ino new_parent, const std::string& new_name);
  Result<meta::FsStat> StatFs();

  // --- Directories: a handle snapshots the listing on its first read, so
  // offsets stay stable while the directory changes underneath. ---
  Result<uint64_t> OpenDir(const Context& ctx, Ino ino);
  struct DirItem {
    std::string name;
    Ino ino;
    uint32_t mode;
    uint64_t next_offset;
  };
  Result<std::vector<DirItem>> ReadDir(const Context& ctx, uint64_t fh, uint64_t offset,
                                       size_t max_items);
  Status ReleaseDir(uint64_t fh);

  // --- Files ---
  // Creates and opens; kExists when `flags` has O_EXCL and the name exists.
  Result<std::pair<Entry, uint64_t>> Create(const Context& ctx, Ino parent,
                                            const std::string& name, uint32_t mode, int flags);
  Result<uint64_t> Open(const Context& ctx, Ino ino, int flags);
  Result<size_t> Read(uint64_t fh, uint64_t offset, size_t size, char* out);
  Result<size_t> Write(uint64_t fh, uint64_t offset, std::string_view data);
  Status Flush(uint64_t fh);
  Status Fsync(uint64_t fh);
  Status Release(uint64_t fh);
  Status Fallocate(const Context& ctx, uint64_t fh, int mode, uint64_t offset, uint64_t length);
  // lseek(2) SEEK_DATA / SEEK_HOLE: holes are what no slice covers, hole
  // records, and the implicit hole at the end; kNoAddress (ENXIO) at or past
  // the end of the file, or for SEEK_DATA when only holes follow.
  Result<uint64_t> Lseek(uint64_t fh, uint64_t offset, int whence);
  // copy_file_range(2) by sharing slices (meta::CopyRange): no data moves,
  // whatever the offsets. Copies at most 1 GiB per call; returns the bytes
  // copied (0 at the end of the source).
  Result<uint64_t> CopyFileRange(uint64_t fh_in, uint64_t off_in, uint64_t fh_out,
                                 uint64_t off_out, uint64_t len);

  // --- Locks: held in meta, so they exclude owners on other mounts too. An
  // owner is the kernel's lock owner; waiting polls meta until the lock is
  // free, `interrupted` says so, or the mount stops (kInterrupted). ---
  // flock(2): op is LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB not to wait.
  Status Flock(uint64_t fh, uint64_t owner, int op, const std::function<bool()>& interrupted);
  Result<meta::LockRange> GetLk(uint64_t fh, uint64_t owner, const meta::LockRange& probe);
  Status SetLk(uint64_t fh, uint64_t owner, const meta::LockRange& range, bool wait,
               const std::function<bool()>& interrupted);
  // close(2) of any descriptor drops the POSIX locks its process (owner)
  // holds on the file; the last close of an open file drops its flock.
  Status ReleaseLocks(uint64_t fh, uint64_t owner, bool posix, bool flock);

  // Rewrites every chunk of file `ino` that has more than one record as one
  // slice, now; waits for a background compaction of the same chunk first.
  // Needs write permission (the kernel asks it for setting kCompactXattr).
  Result<CompactStats> CompactFile(const Context& ctx, Ino ino);

  // --- Extended attributes (plus the virtual kInfoXattr and kCompactXattr) ---
  Result<std::string> GetXattr(const Context& ctx, Ino ino, const std::string& name);
  Status SetXattr(const Context& ctx, Ino ino, const std::string& name, std::string_view value,
                  int flags);
  Result<std::vector<std::string>> ListXattr(const Context& ctx, Ino ino);
  Status RemoveXattr(const Context& ctx, Ino ino, const std::string& name);

 private:
  struct FileState;
  struct CachedChunk;
  struct Handle;

  std::shared_ptr<FileState> AcquireFile(Ino ino, const Attr& attr);
  void ReleaseFile(Ino ino);
  std::shared_ptr<FileState> FindFile(Ino ino);
  // Every attribute handed out must count writes not yet committed, or the
  // kernel would cache a length that cuts them off (their bytes count as
  // allocated too); a trashed file shows nlink 0.
  void OverlayPending(Ino ino, Attr* attr);
  Result<std::shared_ptr<Handle>> GetHandle(uint64_t fh);
  uint64_t AddHandle(std::shared_ptr<Handle> h);
  // Finishes the write sessions of chunk `index` and commits their slices in
  // one transaction, oldest first; they leave f.writers, committed or not
  // (all or none). A failure is logged and becomes kIO. Caller holds f.mu.
  Status CommitChunkLocked(Ino ino, FileState& f, uint32_t index);
  // Finishes every write session of `f` and commits the slices. Caller holds f->mu.
  Status CommitLocked(Ino ino, FileState& f);
  // The write session of chunk `index` that may take [in_chunk, in_chunk + n),
  // or null: one whose unuploaded tail the range continues or rewrites, with
  // no newer session overlapping the range (records committed later win).
  chunk::SliceWriter* WritableLocked(FileState& f, uint32_t index, uint32_t in_chunk, size_t n);
  // Chunk `index`'s records and view as this mount last read them (read from
  // meta if not cached). A chunk with more records than the compaction
  // threshold is queued for compaction as it is read. Caller holds f.mu.
  Result<std::shared_ptr<const CachedChunk>> ChunkLocked(Ino ino, FileState& f, uint32_t index);
  void ReadAheadLocked(Ino ino, FileState& f, uint64_t from, uint64_t window);
  void PassedLocked(FileState& f, uint64_t from, uint64_t to);
  Status WaitForMissingBlock(Ino ino, const std::vector<Slice>& slices, uint32_t in_chunk,
                             size_t n, char* out, Status first);
  Readahead NewReadahead() const;
  Result<std::string> InfoJson(Ino ino);
  // The blocks holding a file's visible data (vfs/warmup.cc).
  struct BlockRef {
    std::string key;
    uint32_t length;
  };
  Result<std::vector<BlockRef>> FileBlocks(Ino ino);
  Result<std::string> CachedJson(Ino ino);
  Status WarmupFile(Ino ino);
  Status EvictFile(Ino ino);
  // kCompactXattr's value: the file's chunks and records.
  Result<std::string> FragmentationJson(Ino ino);
  // Compaction (compact.cc). A chunk is compacted by one task at a time:
  // ClaimChunk takes it (waiting for the holder when `wait`; else, when held,
  // asks the holder for one more pass and gives up).
  bool ClaimChunk(Ino ino, uint32_t index, bool wait);
  // Gives the claim up and says whether a pass was asked for meanwhile; with
  // `keep_if_asked` such a request keeps the claim instead (returns true).
  bool ReleaseChunk(Ino ino, uint32_t index, bool keep_if_asked);
  void ScheduleCompaction(Ino ino, uint32_t index);
  // After a commit that left `records` in the chunk: schedules its
  // compaction once commits to it pause for compact_delay_ms (each call
  // pushes that back), or at once when it holds too many records to wait.
  void DeferCompaction(Ino ino, uint32_t index, uint32_t records);
  // The thread that hands deferred chunks to ScheduleCompaction when due.
  void CompactTimer();
  // One pass over chunk `index` (its first records, at most a bounded number)
  // if it has more than `min_records`; adds what it did to `stats`. Caller
  // holds the chunk's claim; kBusy when the chunk changed meanwhile.
  Status CompactChunk(Ino ino, uint32_t index, size_t min_records, CompactStats* stats,
                      bool* progress);
  // Lets running compactions end and queued ones be skipped (Shutdown).
  void StopCompactions();
  // Drops the deferred chunks and ends compact_timer_; compactions queued
  // from now on are skipped.
  void StopCompactTimer();
  // A handle's first read: moves atime as the policy says (meta::NeedsAtimeUpdate).
  // Caller holds h.mu.
  void TouchAtimeLocked(Handle& h);
  void FreeSlice(uint64_t id, uint32_t size);
  void Kick();
  void Worker();
  bool Stopping();

  std::unique_ptr<meta::Meta> meta_;
  std::unique_ptr<object::ObjectStore> store_;
  meta::Settings settings_;
  Options options_;
  chunk::Layout layout_;
  CacheControl cache_control_;
  chunk::Buffer buffer_;
  chunk::BlockCache cache_;
  chunk::ChunkReader reader_;
  // Declared after everything their tasks use, so they drain first.
  std::unique_ptr<ThreadPool> uploads_;
  std::unique_ptr<ThreadPool> downloads_;

  std::mutex handles_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Handle>> handles_;
  uint64_t next_fh_ = 1;

  std::mutex files_mu_;
  std::unordered_map<Ino, std::shared_ptr<FileState>> files_;

  std::mutex compact_mu_;
  std::condition_variable compact_cv_;
  // Claimed chunks, and whether a commit asked for another pass; guarded by compact_mu_.
  std::map<std::pair<Ino, uint32_t>, bool> compacting_;
  bool compact_stopping_ = false;                  // guarded by compact_mu_
  // Chunks waiting for their commits to pause, and when they are due;
  // guarded by compact_mu_. compact_timer_ starts with the first one.
  std::map<std::pair<Ino, uint32_t>, std::chrono::steady_clock::time_point> deferred_;
  std::thread compact_timer_;

  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  bool stopping_ = false;
  bool kicked_ = false;
  std::thread worker_;

  // The kernel asks for security.capability before every write (to drop file
  // capabilities); the answer "none" is cached per inode for attr_timeout,
  // like attributes, instead of costing a metadata transaction per write.
  bool NoCapabilityCached(Ino ino);
  void CacheNoCapability(Ino ino);
  void ForgetCapability(Ino ino);
  std::mutex capability_mu_;
  std::unordered_map<Ino, std::chrono::steady_clock::time_point> no_capability_;

  // The last member, so it drains first: its tasks use everything above.
  std::unique_ptr<ThreadPool> compactor_;
};

}  // namespace tessera::vfs
