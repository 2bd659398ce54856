// Private state of a Vfs: open files and handles. Included only by vfs/*.cc.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "vfs/readahead.h"
#include "vfs/vfs.h"

namespace tessera::vfs {

// Limits on write sessions left open, per chunk and per file, before they are
// committed: each holds at least a small buffer, and each becomes a record.
inline constexpr size_t kMaxChunkSessions = 256;
inline constexpr size_t kMaxFileSessions = 1024;

// A chunk's slice records and their view (chunk::BuildView), built once per
// change rather than per read. Immutable: readers hold it without the lock.
struct Vfs::CachedChunk {
  std::vector<Slice> records;
  std::vector<chunk::Segment> view;
  explicit CachedChunk(std::vector<Slice> r)
      : records(std::move(r)), view(chunk::BuildView(records)) {}
};

// One per inode that this mount has open; shared by all of its handles.
struct Vfs::FileState {
  std::mutex mu;
  int refs = 0;         // guarded by Vfs::files_mu_
  uint64_t length = 0;  // the length including writes not yet committed
  // The write sessions of each chunk with uncommitted data, oldest first. A
  // write that continues none of them starts another instead of committing,
  // so that random writes are buffered and committed together, in order, in
  // one transaction per chunk (at close, fsync, a read, or past the limits).
  std::map<uint32_t, std::vector<std::unique_ptr<chunk::SliceWriter>>> writers;
  size_t pending_slices = 0;  // sessions in writers
  // Chunks read so far; refreshed when the file is opened.
  std::map<uint32_t, std::shared_ptr<const CachedChunk>> chunks;
  // Whether an owner on this mount ever took a POSIX lock / flock on the
  // file: only then does a close ask meta to drop that owner's locks.
  std::atomic<bool> posix_locked{false};
  std::atomic<bool> flocked{false};
};

struct Vfs::Handle {
  Ino ino = 0;
  int flags = 0;
  bool is_dir = false;
  std::shared_ptr<FileState> file;  // regular files only

  std::mutex mu;
  // Files: the sequential streams this handle reads (guarded by mu).
  Readahead readahead;

  // Directories: the listing snapshot taken at offset 0 (guarded by mu).
  bool loaded = false;
  std::vector<DirItem> items;

  // The attributes at open: a directory removed while open still answers
  // fstat (with nlink 0); a file's first read applies the atime policy.
  Attr attr;                 // guarded by mu
  bool atime_done = false;   // guarded by mu
};

}  // namespace tessera::vfs
