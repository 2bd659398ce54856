// BlockCache: whole blocks in memory, least recently used evicted first once
// the total size passes the capacity. One mutex guards everything; the work
// under it is a hash lookup and a list splice.
#include <algorithm>
#include <deque>
#include <list>
#include <mutex>
#include <unordered_map>

#include "chunk/buffer.h"
#include "chunk/chunk.h"
#include "common/metrics.h"

namespace tessera::chunk {

struct BlockCache::Impl {
  struct Entry {
    std::string key;
    std::shared_ptr<const std::string> block;
    bool unread = true;  // put (e.g. by readahead) and not asked for since
    bool passed = false;  // demoted: its reader has moved on
  };

  Impl(size_t capacity, Buffer* buffer) : capacity(capacity), buffer(buffer) {}

  size_t Capacity() const {
    return buffer == nullptr ? capacity : std::min(capacity, buffer->ReadCapacity());
  }

  // Drops entries until the cache holds at most `limit`, least recently used
  // first, but blocks fetched ahead and not read yet only when nothing else
  // is left: a sequential reader touches the block it reads again and again,
  // which would otherwise make its readahead look older than what it read.
  // Requires mu.
  void Evict(size_t limit) {
    while (bytes > limit && !lru.empty()) {
      auto victim = std::prev(lru.end());
      for (auto it = lru.rbegin(); it != lru.rend(); ++it) {
        if (!it->unread) {
          victim = std::prev(it.base());
          break;
        }
      }
      EvictEntry(victim);
    }
  }

  // Removes an entry. Requires mu.
  void Drop(std::list<Entry>::iterator it) {
    bytes -= it->block->size();
    if (it->passed) passed_bytes -= it->block->size();
    index.erase(it->key);
    lru.erase(it);
  }

  // Removes an entry to make room, counted as an eviction. Requires mu.
  void EvictEntry(std::list<Entry>::iterator it) {
    static auto& evictions = metrics::GetCounter("tessera_blockcache_evictions_total",
                                                 "blocks dropped from the memory block cache");
    evictions.Add();
    Drop(it);
  }

  // Evicts passed blocks, those demoted first first, until they take at most
  // `limit`. Requires mu.
  void TrimPassed(size_t limit) {
    while (passed_bytes > limit && !passed_order.empty()) {
      auto it = index.find(passed_order.front());
      passed_order.pop_front();
      if (it == index.end() || !it->second->passed) continue;  // stale
      EvictEntry(it->second);
    }
  }

  // Whether passed_order's `key` no longer names a passed entry (it was read
  // again or left the cache). Requires mu.
  bool Stale(const std::string& key) const {
    auto it = index.find(key);
    return it == index.end() || !it->second->passed;
  }

  // Publishes the cache's size. Requires mu.
  void Publish() {
    static auto& gauge = metrics::GetGauge("tessera_blockcache_bytes",
                                           "bytes of blocks held in the memory block cache");
    gauge.Set(static_cast<int64_t>(bytes));
  }

  const size_t capacity;
  Buffer* const buffer;
  mutable std::mutex mu;
  std::list<Entry> lru;  // most recently used first; guarded by mu
  std::unordered_map<std::string, std::list<Entry>::iterator> index;  // guarded by mu
  size_t bytes = 0;                                                   // guarded by mu
  size_t passed_bytes = 0;              // of entries marked passed; guarded by mu
  std::deque<std::string> passed_order;  // keys as demoted (some stale); guarded by mu
};

BlockCache::BlockCache(size_t capacity_bytes, Buffer* buffer)
    : impl_(std::make_unique<Impl>(capacity_bytes, buffer)) {}

BlockCache::~BlockCache() = default;

std::shared_ptr<const std::string> BlockCache::Get(const std::string& key) {
  static auto& hits = metrics::GetCounter("tessera_blockcache_hits_total",
                                          "block reads served from the memory block cache");
  static auto& misses = metrics::GetCounter("tessera_blockcache_misses_total",
                                            "block reads the memory block cache did not hold");
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(key);
  if (it == impl_->index.end()) {
    misses.Add();
    return nullptr;
  }
  hits.Add();
  it->second->unread = false;
  if (it->second->passed) {
    it->second->passed = false;
    impl_->passed_bytes -= it->second->block->size();
  }
  impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
  return it->second->block;
}

bool BlockCache::Contains(const std::string& key) const {
  std::lock_guard lock(impl_->mu);
  return impl_->index.contains(key);
}

void BlockCache::Put(const std::string& key, std::shared_ptr<const std::string> block) {
  if (!block) return;
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(key);
  if (it != impl_->index.end()) impl_->Drop(it->second);
  // A block bigger than the whole cache would only evict everything else.
  const size_t capacity = impl_->Capacity();
  if (block->size() > capacity) return;
  impl_->bytes += block->size();
  impl_->lru.push_front(Impl::Entry{key, std::move(block)});
  impl_->index.emplace(key, impl_->lru.begin());
  impl_->Evict(capacity);
  impl_->Publish();
}

void BlockCache::Demote(const std::string& key) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(key);
  if (it == impl_->index.end() || it->second->passed) return;
  it->second->passed = true;
  impl_->passed_bytes += it->second->block->size();
  impl_->passed_order.push_back(key);
  impl_->lru.splice(impl_->lru.end(), impl_->lru, it->second);
  impl_->TrimPassed(impl_->Capacity() / 8);
  // Keys of entries read again or evicted since stay queued until a trim
  // reaches them: once they could outnumber the entries, drop them all (and
  // only them, so that every passed entry can still be trimmed).
  if (impl_->passed_order.size() > 2 * impl_->index.size() + 64) {
    std::erase_if(impl_->passed_order, [&](const std::string& k) { return impl_->Stale(k); });
  }
  impl_->Publish();
}

size_t BlockCache::capacity() const { return impl_->Capacity(); }

void BlockCache::ShrinkTo(size_t bytes) {
  std::lock_guard lock(impl_->mu);
  impl_->Evict(bytes);
  impl_->Publish();
}

size_t BlockCache::size_bytes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bytes;
}

}  // namespace tessera::chunk
