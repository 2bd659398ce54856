// BlockCache: whole blocks in memory, least recently used evicted first once
// the total size passes the capacity. One mutex guards everything; the work
// under it is a hash lookup and a list splice.
#include <list>
#include <mutex>
#include <unordered_map>

#include "chunk/chunk.h"

namespace tessera::chunk {

struct BlockCache::Impl {
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;

  explicit Impl(size_t capacity) : capacity(capacity) {}

  // Drops least recently used entries until the cache fits. Requires mu.
  void Evict() {
    while (bytes > capacity && !lru.empty()) {
      bytes -= lru.back().second->size();
      index.erase(lru.back().first);
      lru.pop_back();
    }
  }

  const size_t capacity;
  mutable std::mutex mu;
  std::list<Entry> lru;  // most recently used first; guarded by mu
  std::unordered_map<std::string, std::list<Entry>::iterator> index;  // guarded by mu
  size_t bytes = 0;                                                   // guarded by mu
};

BlockCache::BlockCache(size_t capacity_bytes) : impl_(std::make_unique<Impl>(capacity_bytes)) {}

BlockCache::~BlockCache() = default;

std::shared_ptr<const std::string> BlockCache::Get(const std::string& key) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(key);
  if (it == impl_->index.end()) return nullptr;
  impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
  return it->second->second;
}

void BlockCache::Put(const std::string& key, std::shared_ptr<const std::string> block) {
  if (!block) return;
  std::lock_guard lock(impl_->mu);
  auto it = impl_->index.find(key);
  if (it != impl_->index.end()) {
    impl_->bytes -= it->second->second->size();
    impl_->lru.erase(it->second);
    impl_->index.erase(it);
  }
  // A block bigger than the whole cache would only evict everything else.
  if (block->size() > impl_->capacity) return;
  impl_->bytes += block->size();
  impl_->lru.emplace_front(key, std::move(block));
  impl_->index.emplace(key, impl_->lru.begin());
  impl_->Evict();
}

size_t BlockCache::size_bytes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bytes;
}

}  // namespace tessera::chunk
