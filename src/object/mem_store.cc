// The in-memory object store: a sorted map under one mutex. Used by tests and
// by "mem" volumes that live only as long as the process.
#include <ctime>
#include <map>
#include <mutex>

#include "object/store.h"

namespace tessera::object {
namespace {

class MemStore final : public ObjectStore {
 public:
  std::string Describe() const override { return "mem://"; }

  Status Create() override { return Status::Ok(); }

  Status Put(std::string_view key, std::string_view data) override {
    if (key.empty()) return Status::Invalid("empty object key");
    Object obj{std::string(data), static_cast<int64_t>(std::time(nullptr))};
    std::lock_guard lock(mu_);
    objects_.insert_or_assign(std::string(key), std::move(obj));
    return Status::Ok();
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return Err(NotFound(key));
    const std::string& data = it->second.data;
    if (offset >= data.size()) return std::string();
    size_t n = data.size() - offset;
    if (length >= 0 && static_cast<uint64_t>(length) < n) n = static_cast<size_t>(length);
    return data.substr(offset, n);
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return Err(NotFound(key));
    return ObjectInfo{it->first, it->second.data.size(), it->second.mtime};
  }

  Status Delete(std::string_view key) override {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it != objects_.end()) objects_.erase(it);
    return Status::Ok();
  }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    ListPage page;
    std::lock_guard lock(mu_);
    auto it =
        start_after < prefix ? objects_.lower_bound(prefix) : objects_.upper_bound(start_after);
    for (; it != objects_.end() && it->first.starts_with(prefix); ++it) {
      if (page.objects.size() == limit) {
        page.truncated = true;
        break;
      }
      page.objects.push_back({it->first, it->second.data.size(), it->second.mtime});
    }
    return page;
  }

 private:
  struct Object {
    std::string data;
    int64_t mtime = 0;
  };

  static Status NotFound(std::string_view key) {
    return Status::NotFound("object " + std::string(key) + " not found in mem://");
  }

  std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<ObjectStore> NewMemStore() { return std::make_unique<MemStore>(); }

}  // namespace tessera::object
