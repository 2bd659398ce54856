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
// max_readahead_blocks) whose blocks are fetched in the background.
// Full blocks upload in the background too (max_uploads at once).
//
// Thread-safety: a Vfs is safe for concurrent use. Lock order: handles_mu_,
// then a Handle's mu or files_mu_, then a FileState's mu; no lock is held
// across a meta transaction of another inode.
#pragma once

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

#include "chunk/chunk.h"
#include "common/status.h"
#include "meta/meta.h"
#include "object/store.h"

namespace tessera::vfs {

using meta::Attr;
using meta::Context;
using meta::Entry;
using meta::Ino;

struct Options {
  double attr_timeout = 1.0;   // seconds the kernel may cache attributes
  double entry_timeout = 1.0;  // seconds the kernel may cache name lookups
  double dir_entry_timeout = 1.0;
  size_t block_cache_bytes = 256ull << 20;  // memory for whole blocks being read
  int max_uploads = 20;                     // blocks uploading at once
  int max_downloads = 16;                   // readahead fetches at once
  uint32_t max_readahead_blocks = 8;        // readahead window of a sequential reader
  int cleanup_interval_ms = 1000;           // how often deleted data is freed
  int heartbeat_interval_s = 12;
  // A session that missed this many heartbeats is stale: live clients clean it up.
  int stale_session_heartbeats = 5;
};

// The name of the virtual xattr that reports an inode's chunks, slices and objects as JSON.
inline constexpr const char* kInfoXattr = "tessera.info";

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

  // --- Extended attributes (plus the virtual kInfoXattr) ---
  Result<std::string> GetXattr(const Context& ctx, Ino ino, const std::string& name);
  Status SetXattr(const Context& ctx, Ino ino, const std::string& name, std::string_view value,
                  int flags);
  Result<std::vector<std::string>> ListXattr(const Context& ctx, Ino ino);
  Status RemoveXattr(const Context& ctx, Ino ino, const std::string& name);

 private:
  struct FileState;
  struct Handle;

  std::shared_ptr<FileState> AcquireFile(Ino ino, const Attr& attr);
  void ReleaseFile(Ino ino);
  std::shared_ptr<FileState> FindFile(Ino ino);
  // Every attribute handed out must count writes not yet committed, or the
  // kernel would cache a length that cuts them off.
  void OverlayPending(Ino ino, Attr* attr);
  Result<std::shared_ptr<Handle>> GetHandle(uint64_t fh);
  uint64_t AddHandle(std::shared_ptr<Handle> h);
  // Finishes one write session of chunk `index` and commits its slice; a
  // failure is logged and becomes kIO. Caller holds f.mu.
  Status CommitWriterLocked(Ino ino, FileState& f, uint32_t index, chunk::SliceWriter& w);
  // Finishes every write session of `f` and commits the slices. Caller holds f->mu.
  Status CommitLocked(Ino ino, FileState& f);
  Result<const std::vector<Slice>*> ChunkLocked(Ino ino, FileState& f, uint32_t index);
  void ReadAheadLocked(Ino ino, FileState& f, uint64_t from, uint64_t window);
  Result<std::string> InfoJson(Ino ino);
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

  std::mutex worker_mu_;
  std::condition_variable worker_cv_;
  bool stopping_ = false;
  bool kicked_ = false;
  std::thread worker_;
};

}  // namespace tessera::vfs
