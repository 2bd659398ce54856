// `--cache-dir memory`: the DiskCache interface over RAM, with the same
// capacity bound and eviction policy. Blocks in RAM cannot be damaged by a
// disk, so they carry no checksum; there is no staging (writeback needs a
// disk that survives a restart).
#include <mutex>
#include <unordered_map>

#include "cache/cache_file.h"
#include "cache/disk_cache.h"

namespace tessera::cache {
namespace {

class MemCache final : public DiskCache {
 public:
  explicit MemCache(const CacheOptions& o) : capacity_(o.capacity_bytes), index_(o.eviction) {}

  ~MemCache() override {
    Metrics().used_bytes.Add(-static_cast<int64_t>(index_.bytes()));
    Metrics().blocks.Add(-static_cast<int64_t>(index_.count()));
  }

  std::string Describe() const override {
    return "memory cache (" + std::to_string(capacity_ >> 20) + " MiB)";
  }

  std::optional<std::string> Get(std::string_view key) override {
    return Read(key, 0, UINT64_MAX);
  }

  std::optional<std::string> GetRange(std::string_view key, uint64_t offset,
                                      uint64_t length) override {
    return Read(key, offset, length);
  }

  void Put(std::string_view key, std::string_view data) override {
    std::string k(key);
    std::lock_guard lock(mu_);
    if (index_.Touch(k) || data.size() > capacity_) return;
    while (index_.count() > 0 && index_.bytes() + data.size() > capacity_) {
      RemoveLocked(*index_.Victim());
      Metrics().evictions.Add();
    }
    blocks_.emplace(k, std::string(data));
    index_.Add(k, data.size());
    Metrics().used_bytes.Add(static_cast<int64_t>(data.size()));
    Metrics().blocks.Add(1);
    Metrics().write_bytes.Add(data.size());
  }

  bool Contains(std::string_view key) override {
    std::lock_guard lock(mu_);
    return blocks_.contains(std::string(key));
  }

  Status Evict(std::string_view key) override {
    std::lock_guard lock(mu_);
    RemoveLocked(std::string(key));
    return Status::Ok();
  }

  uint64_t used_bytes() const override {
    std::lock_guard lock(mu_);
    return index_.bytes();
  }
  size_t blocks() const override {
    std::lock_guard lock(mu_);
    return index_.count();
  }
  void WaitForScan() override {}
  void WaitForWrites() override {}

  Status Stage(std::string_view, std::string_view) override {
    return Status::NotSupported("writeback needs a disk cache, not memory");
  }
  Result<std::string> ReadStaged(std::string_view key) override {
    return Err(Code::kNotFound, "not staged: " + std::string(key));
  }
  void Unstage(std::string_view, bool) override {}
  std::vector<StagedBlock> ListStaged() override { return {}; }

 private:
  // A copy of the block's bytes [offset, offset + length), counted as a hit
  // or a miss.
  std::optional<std::string> Read(std::string_view key, uint64_t offset, uint64_t length) {
    std::lock_guard lock(mu_);
    auto it = blocks_.find(std::string(key));
    if (it == blocks_.end()) {
      Metrics().misses.Add();
      return std::nullopt;
    }
    index_.Touch(it->first);
    const std::string& block = it->second;
    std::string part = offset >= block.size() ? std::string() : block.substr(offset, length);
    Metrics().hits.Add();
    Metrics().hit_bytes.Add(part.size());
    return part;
  }

  void RemoveLocked(const std::string& key) {
    if (auto size = index_.Remove(key)) {
      blocks_.erase(key);
      Metrics().used_bytes.Add(-static_cast<int64_t>(*size));
      Metrics().blocks.Add(-1);
    }
  }

  const uint64_t capacity_;
  mutable std::mutex mu_;
  Index index_;                                          // guarded by mu_
  std::unordered_map<std::string, std::string> blocks_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<DiskCache> NewMemCache(const CacheOptions& options) {
  return std::make_unique<MemCache>(options);
}

}  // namespace tessera::cache
