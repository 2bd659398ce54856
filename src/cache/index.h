// The index of one cache directory (or of the memory cache): which blocks it
// holds, how big they are, when each was last used, and which to evict next.
//
// Two policies choose the victim:
//  - k2Random (the default): sample two distinct entries at random and evict
//    the one used longer ago (so the most recently used entry never goes). O(1) per access and per
//    eviction, no list to keep in order, and on the workloads measured in docs/cache.md within a
//    point or two of LRU's hit rate; it also never evicts the whole of a scan the way LRU does when
//    the scan is larger than the cache.
//  - kLru: evict the entry used longest ago exactly; every access moves the
//    entry in an ordered set (O(log n)).
//
// Not thread-safe: its owner holds a lock around every call.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tessera::cache {

enum class Eviction { k2Random, kLru };

class Index {
 public:
  explicit Index(Eviction policy, uint64_t seed = 0x5eed) : policy_(policy), rng_(seed) {}

  struct Entry {
    uint64_t size = 0;
    uint64_t atime = 0;  // a logical time: larger is more recent
  };

  // The entry of `key`, or null. Does not count as a use.
  const Entry* Find(std::string_view key) const {
    auto it = map_.find(std::string(key));
    return it == map_.end() ? nullptr : &it->second.entry;
  }
  // Marks a use of `key`; false when absent.
  bool Touch(std::string_view key) {
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return false;
    SetTime(it, ++clock_);
    return true;
  }
  // Adds `key` (used now) or, when present, updates its size and marks a use.
  // `atime` > 0 gives an older time: an entry found on disk at start passes its
  // file's access time in seconds, which sorts before every use since start.
  void Add(const std::string& key, uint64_t size, uint64_t atime = 0) {
    uint64_t t = atime > 0 ? atime : ++clock_;
    auto it = map_.find(key);
    if (it != map_.end()) {
      bytes_ -= it->second.entry.size;
      it->second.entry.size = size;
      bytes_ += size;
      SetTime(it, t);
      return;
    }
    it = map_.emplace(key, Slot{{size, t}, keys_.size()}).first;
    keys_.push_back(&it->first);
    if (policy_ == Eviction::kLru) lru_.emplace(t, &it->first);
    bytes_ += size;
  }
  // Removes `key`; returns its size, or nullopt when absent.
  std::optional<uint64_t> Remove(std::string_view key) {
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return std::nullopt;
    uint64_t size = it->second.entry.size;
    size_t pos = it->second.pos;
    const std::string* last = keys_.back();
    keys_[pos] = last;
    map_.find(*last)->second.pos = pos;
    keys_.pop_back();
    if (policy_ == Eviction::kLru) lru_.erase({it->second.entry.atime, &it->first});
    bytes_ -= size;
    map_.erase(it);
    return size;
  }
  // A time of use for an entry added later (Add's `atime`), ordered with
  // the uses of the entries present.
  uint64_t Tick() { return ++clock_; }
  // The key to evict next, or nullopt when empty. Does not remove it.
  std::optional<std::string> Victim() {
    if (keys_.empty()) return std::nullopt;
    if (policy_ == Eviction::kLru) return *lru_.begin()->second;
    if (keys_.size() == 1) return *keys_[0];
    // Two distinct entries, so the most recently used one is never the victim.
    size_t i = std::uniform_int_distribution<size_t>(0, keys_.size() - 1)(rng_);
    size_t j = std::uniform_int_distribution<size_t>(0, keys_.size() - 2)(rng_);
    if (j >= i) ++j;
    const std::string* a = keys_[i];
    const std::string* b = keys_[j];
    return map_.at(*a).entry.atime <= map_.at(*b).entry.atime ? *a : *b;
  }

  uint64_t bytes() const { return bytes_; }
  size_t count() const { return keys_.size(); }

 private:
  struct Slot {
    Entry entry;
    size_t pos;  // in keys_
  };
  using Map = std::unordered_map<std::string, Slot>;

  void SetTime(Map::iterator it, uint64_t t) {
    if (policy_ == Eviction::kLru) {
      lru_.erase({it->second.entry.atime, &it->first});
      lru_.emplace(t, &it->first);
    }
    it->second.entry.atime = t;
  }

  Eviction policy_;
  std::mt19937_64 rng_;
  Map map_;                                                // node-based: key addresses stay put
  std::vector<const std::string*> keys_;                   // every key, for sampling
  std::set<std::pair<uint64_t, const std::string*>> lru_;  // kLru only: by atime
  uint64_t bytes_ = 0;
  uint64_t clock_ = uint64_t{1} << 62;  // above any file time in seconds
};

}  // namespace tessera::cache
