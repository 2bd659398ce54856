// Opening a store by name (storage type + bucket), and helpers over any store.
//
// "mem" stores are shared by bucket name within the process, so that a
// format and a later mount in the same process (tests, tools) see the same
// objects.
#include <cstdlib>
#include <map>
#include <mutex>

#include "object/store.h"

namespace tessera::object {
namespace {

// A named handle to a mem store that outlives any one opener.
class SharedStore final : public ObjectStore {
 public:
  SharedStore(std::string name, std::shared_ptr<ObjectStore> inner)
      : name_(std::move(name)), inner_(std::move(inner)) {}

  std::string Describe() const override { return "mem://" + name_; }
  Status Create() override { return inner_->Create(); }
  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, data);
  }
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    return inner_->Get(key, offset, length);
  }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    return inner_->List(prefix, start_after, limit);
  }

 private:
  std::string name_;
  std::shared_ptr<ObjectStore> inner_;
};

std::shared_ptr<ObjectStore> NamedMemStore(const std::string& name) {
  static std::mutex mu;
  static auto* stores = new std::map<std::string, std::shared_ptr<ObjectStore>>();
  std::lock_guard lock(mu);
  auto& store = (*stores)[name];
  if (!store) store = NewMemStore();
  return store;
}

Result<std::string> ExpandDirectory(const std::string& bucket) {
  std::string dir = bucket;
  if (dir == "~" || dir.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
      return Err(Code::kInvalid, "cannot expand '" + bucket + "': $HOME is not set");
    }
    dir = std::string(home) + dir.substr(1);
  }
  if (!dir.starts_with("/")) {
    return Err(Code::kInvalid,
               "bucket for storage 'file' must be an absolute directory, got '" + bucket + "'");
  }
  return dir;
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& storage,
                                               const std::string& bucket) {
  if (storage == "file") {
    ASSIGN_OR_RETURN(std::string dir, ExpandDirectory(bucket));
    return NewFileStore(dir);
  }
  if (storage == "mem") {
    return std::make_unique<SharedStore>(bucket, NamedMemStore(bucket));
  }
  return Err(Code::kInvalid, "unknown storage '" + storage + "'; supported: file, mem");
}

Result<std::vector<ObjectInfo>> ListAll(ObjectStore& store, std::string_view prefix) {
  std::vector<ObjectInfo> all;
  std::string after;
  while (true) {
    ASSIGN_OR_RETURN(ListPage page, store.List(prefix, after));
    for (ObjectInfo& info : page.objects) all.push_back(std::move(info));
    if (!page.truncated) break;
    if (page.objects.empty()) {
      return Err(Code::kIO, "listing " + store.Describe() + " made no progress");
    }
    after = all.back().key;
  }
  return all;
}

}  // namespace tessera::object
