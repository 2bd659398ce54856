// The files of the disk cache: the header that makes a cached or staged block
// self-checking, and the few file-system calls the cache makes. Internal to
// cache/. Stateless functions, safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"

namespace tessera::cache {

// A cache file is a header, then the block:
//
//   "TSC2" | piece size (u32) | block length (u64) | one u32 per piece | block
//
// (little-endian). The block is cut into pieces of kPieceSize bytes (the last
// may be shorter), each with the low 32 bits of its xxHash3-64, so a read of a
// few KiB reads and verifies those pieces only, not the whole block. Files of
// the first format ("TSC1", four zero bytes, the xxHash3-64 of the whole
// block, then the block) are still read, whole.
inline constexpr uint32_t kPieceSize = 4096;
inline constexpr size_t kFixedHeaderSize = 16;

// Bytes before the block in a file holding a block of `length` bytes.
uint64_t HeaderSize(uint64_t length);
// The length of the block in a (current format) file of `file_size` bytes;
// 0 when the file is too short to hold one.
uint64_t BlockLengthOf(uint64_t file_size);

// Header + block, ready to write.
std::string Encode(std::string_view block);
// Just the header of `block` (written before it: no copy of the block).
std::string EncodeHeader(std::string_view block);
// The block inside `file`, or kCorrupt saying what is wrong.
Result<std::string> Decode(std::string&& file);
// Bytes [offset, offset + length) of `block`, fewer where it ends (none past
// it); the block itself, not a copy, when that is all of it.
std::string Cut(std::string&& block, uint64_t offset, uint64_t length);

// A key is stored as a path below the cache root: '/'-separated, non-empty
// components, none "." / ".." or starting with ".tmp." (our temporary files).
bool StorableKey(std::string_view key);
bool IsTempName(std::string_view name);

// mkdir -p with `mode`; 0 or an errno.
int MakeDirs(const std::string& path, uint32_t mode);
// Writes `data` to a temporary file beside `path` (mode `mode`) and renames it
// over `path`; `durable` also fsyncs the file and the directory. Makes
// missing parent directories. With `head`, it is written before `data`.
// With `direct`, a file of 1 MiB or more bypasses the page cache (O_DIRECT
// where the file system allows it). 0 or an errno.
int WriteFileAtomic(const std::string& path, std::string_view data, uint32_t mode, bool durable,
                    std::string_view head = {}, bool direct = true);
// The block in the cache file at `path`, verified: kNotFound when absent,
// kCorrupt when damaged, an errno status when it cannot be read.
Result<std::string> ReadBlockFile(const std::string& path);
// Bytes [offset, offset + length) of that block, fewer when it ends first.
// Reads and verifies only the pieces the range touches (a first-format file:
// the whole block); errors as ReadBlockFile.
Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length);

// Calls `fn(relative path, size, atime seconds)` for every regular file below
// `root` (temporary files are removed instead); stops early when `fn` returns
// false. Missing `root` is not an error.
void Walk(const std::string& root,
          const std::function<bool(const std::string&, uint64_t, int64_t)>& fn);

struct CacheOptions;
class DiskCache;
// The RAM cache behind `--cache-dir memory`.
std::unique_ptr<DiskCache> NewMemCache(const CacheOptions& options);

// The metrics of cache/, registered once.
struct CacheMetrics {
  metrics::Counter& hits;
  metrics::Counter& misses;
  metrics::Counter& hit_bytes;
  metrics::Counter& write_bytes;
  metrics::Gauge& used_bytes;
  metrics::Gauge& blocks;
  metrics::Counter& evictions;
  metrics::Counter& corrupt;
  metrics::Counter& errors;
  metrics::Gauge& staging_blocks;
  metrics::Gauge& staging_bytes;
  metrics::Counter& uploads;
  metrics::Counter& skipped;
};
CacheMetrics& Metrics();

}  // namespace tessera::cache
