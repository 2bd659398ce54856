// An ObjectStore that keeps blocks in a DiskCache, and optionally writes them
// back in the background: the one seam through which chunk/ and vfs/ get the
// disk cache without changing how they read or write blocks.
//
//  - Get of a whole object tries the cache, else fetches it from the inner
//    store and caches it. A ranged Get is cut from a cached block when there
//    is one, else passes through (uncached).
//  - Put stores in the inner store, then caches the block (a block just
//    written is usually read back soon).
//  - Delete deletes from the inner store and drops the cached copy.
//  - List, Head, Create and Describe pass through.
//
// Writeback (`writeback` set): Put stages the block durably in the cache's
// staging area and returns; a scheduler uploads it after `upload_delay` on
// up to `max_uploads` threads, retrying failures with backoff (up to 30 s
// apart) for as long as it takes, and then moves it into the cache proper.
// A Delete of a block not yet uploaded removes it from staging: it never
// reaches the bucket. A Get or Head of a staged block is served from
// staging. Blocks found in staging at construction (a previous run that
// stopped before uploading them) are queued at once, with or without
// `writeback`. When staging fails (no
// space, no usable disk) the Put uploads directly: the cache never fails a
// write. Flush waits, with a deadline, for every staged upload; what is left
// stays staged for the next start.
//
// Durability: with writeback, a block acknowledged by Put lives only on this
// machine's disk until uploaded (see docs/cache.md).
//
// Thread-safety: safe for concurrent use. `cache` must outlive the store.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "cache/disk_cache.h"
#include "object/store.h"

namespace tessera::cache {

struct CachedStoreOptions {
  bool writeback = false;
  int max_uploads = 20;                       // writeback: parallel uploads
  std::chrono::milliseconds upload_delay{0};  // writeback: age before a block uploads
  // Writeback: first retry of a failed upload; doubles up to max_retry_backoff.
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds max_retry_backoff{30000};
};

class CachedStore : public object::ObjectStore {
 public:
  // Uploads every staged block now (ignoring upload_delay) and waits until
  // none is left or `timeout` passes. Returns how many are still staged.
  virtual size_t Flush(std::chrono::milliseconds timeout) = 0;
  // Blocks staged and not yet uploaded.
  virtual size_t staged() const = 0;
};

std::unique_ptr<CachedStore> NewCachedStore(std::unique_ptr<object::ObjectStore> inner,
                                            DiskCache& cache, CachedStoreOptions options = {});

}  // namespace tessera::cache
