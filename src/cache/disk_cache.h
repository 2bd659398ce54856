// cache/: blocks kept near the client, so a block is fetched from the object
// store once and then read from local disk (or memory).
//
// A block's object key names bytes that never change, so a cached copy is
// never stale and the cache needs no invalidation at all: the only questions
// are where a block lives, when it goes, and whether the copy on disk is
// still the one written.
//
//  - Where: one or more directories (`--cache-dir a:b`). A block's directory
//    is chosen by rendezvous hashing of its key over the directories, so
//    adding or losing a directory moves only that directory's share. Each
//    directory holds cache-size / n bytes. Files are
//    `<dir>/raw/<object key>`; writeback staging is `<dir>/rawstaging/<key>`.
//  - What is on disk: a header with a checksum of every 4 KiB piece of the
//    block, then the block (cache_file.h), so a small read verifies only the
//    pieces it reads. The file is written as a
//    temporary (".tmp.*") beside the final name and renamed, so a reader never
//    sees half a file; the checksum catches what a crash or a bad disk leaves.
//    A file that fails it is deleted, counted, and reported as a miss: a
//    damaged copy is never served. Staged files are also fsynced (file and
//    directory) before Stage returns: they are the only copy.
//  - When it goes: the index (key → size, last use) is kept in memory and
//    rebuilt from the directories at start by a background scan, so a mount
//    with a huge cache starts at once; until the scan ends, a Get that the
//    index does not know looks for the file directly. A Put that would take a
//    directory past its share evicts first (see index.h for the policy), so
//    the cache never holds more than cache-size plus the blocks being written
//    at that moment. A directory whose disk has less than free-space-ratio of
//    its space or inodes free evicts until it has, or stops caching.
//  - Write-behind: a block under 1 MiB (written through the page cache, so its
//    cost is creating the file, not moving bytes) is copied and written by a
//    background thread, so that a reader does not wait for it; until then
//    Get, GetRange and Contains serve it from memory, and its space is
//    reserved. At most write_behind_bytes (and an eighth of a directory's
//    share) wait; past that, Put writes the block itself. The destructor
//    writes whatever still waits.
//  - When the disk fails: a cache never fails a read or a write. Put errors
//    are counted and ignored; a directory that fails three times in a row is
//    left alone for a minute, and its blocks come from the object store.
//
// `--cache-dir memory` keeps blocks in RAM with the same interface, bound and
// eviction (no staging: writeback needs a disk).
//
// Thread-safety: a DiskCache is safe for concurrent use. Each directory has
// its own lock, held only for index updates and unlinks, never while a block
// is read or written.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/index.h"
#include "common/status.h"

namespace tessera::cache {

struct CacheOptions {
  // Directories, or the single entry "memory" for a RAM cache.
  std::vector<std::string> dirs;
  uint64_t capacity_bytes = 100ull << 30;
  // Keep this fraction of each cache disk's space and inodes free.
  double free_space_ratio = 0.1;
  uint32_t file_mode = 0600;  // cache and staging files; directories get the x bits too
  Eviction eviction = Eviction::k2Random;
  // After a directory fails this many times in a row, skip it for `disable_for`.
  int errors_to_disable = 3;
  std::chrono::milliseconds disable_for{60000};
  // Rebuild the index in the background (false: before NewDiskCache returns).
  bool background_scan = true;
  // Bytes of small blocks that may wait in memory to be written (0: none).
  uint64_t write_behind_bytes = 16ull << 20;
};

// A block left in staging, to upload.
struct StagedBlock {
  std::string key;
  uint64_t size = 0;
};

class DiskCache {
 public:
  virtual ~DiskCache() = default;

  // "disk cache /a, /b (100 GiB)" for logs.
  virtual std::string Describe() const = 0;

  // The whole block, or nullopt on a miss (absent, damaged, or the disk failed).
  virtual std::optional<std::string> Get(std::string_view key) = 0;
  // Bytes [offset, offset + length) of the block (fewer where it ends), read
  // and verified without the rest of it; nullopt on a miss, as Get.
  virtual std::optional<std::string> GetRange(std::string_view key, uint64_t offset,
                                              uint64_t length) = 0;
  // Keeps a copy of the block; failures are counted and ignored.
  virtual void Put(std::string_view key, std::string_view data) = 0;
  virtual bool Contains(std::string_view key) = 0;
  // Drops the cached copy (absent: ok).
  virtual Status Evict(std::string_view key) = 0;

  virtual uint64_t used_bytes() const = 0;
  virtual size_t blocks() const = 0;
  // Waits for the start-up scan to finish (tests and tools).
  virtual void WaitForScan() = 0;
  // Waits until every block Put so far is on disk (or failed): tests and tools.
  virtual void WaitForWrites() = 0;

  // --- Writeback staging (disk caches only; the memory cache refuses) ---
  // Stores the block durably under staging; an error (no space, no disk,
  // memory cache) means the caller must upload it itself.
  virtual Status Stage(std::string_view key, std::string_view data) = 0;
  // The staged block, verified; kNotFound when not staged, kCorrupt when damaged.
  virtual Result<std::string> ReadStaged(std::string_view key) = 0;
  // The block was uploaded (`into_cache`: keep it as a cached block) or
  // deleted before upload: it leaves staging.
  virtual void Unstage(std::string_view key, bool into_cache) = 0;
  // Every block in staging, e.g. left by a previous run.
  virtual std::vector<StagedBlock> ListStaged() = 0;
};

// Opens the cache. Directories that cannot be created or written are logged
// and skipped (the cache then holds less, or nothing); an empty `dirs` or a
// zero capacity is kInvalid.
Result<std::unique_ptr<DiskCache>> NewDiskCache(const CacheOptions& options);

// Splits "a:b:c" into directories (empty parts dropped).
std::vector<std::string> SplitDirs(std::string_view list);

}  // namespace tessera::cache
