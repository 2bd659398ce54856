// Object stores: where blocks live.
//
// An ObjectStore maps keys (UTF-8, '/'-separated) to immutable byte strings.
// tessera never overwrites an object with different bytes, so a reader never
// has to worry about a half-replaced object; backends still make each Put
// atomic (a reader sees the whole old object, or none, or the whole new one).
//
// Implementations: mem (tests), file (a local directory; put = write a
// temporary file, fsync, rename). Wrappers that add checksums, compression,
// encryption, retries and fault injection wrap any store and keep this
// interface.
//
// Thread-safety: every ObjectStore is safe for concurrent use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tessera::object {

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // ascending by key
  bool truncated = false;           // more remain after objects.back().key
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "file:///path/", "mem://" ... for logs and status.
  virtual std::string Describe() const = 0;

  // Creates the bucket/directory if it is missing; an error says why it cannot be.
  virtual Status Create() = 0;
  virtual Status Put(std::string_view key, std::string_view data) = 0;
  // Bytes [offset, offset+length) of the object; length < 0 means to the end.
  // A range past the end returns the bytes that exist. kNotFound when absent.
  virtual Result<std::string> Get(std::string_view key, uint64_t offset = 0,
                                  int64_t length = -1) = 0;
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  // Deleting an absent object succeeds.
  virtual Status Delete(std::string_view key) = 0;
  // Objects whose key starts with `prefix` and sorts after `start_after`,
  // ascending, at most `limit` of them.
  virtual Result<ListPage> List(std::string_view prefix, std::string_view start_after = "",
                                size_t limit = 1000) = 0;
};

std::unique_ptr<ObjectStore> NewMemStore();
// Objects are files under `root`; the directory is made by Create().
std::unique_ptr<ObjectStore> NewFileStore(const std::string& root);

// Opens a store from `format`'s settings: storage "file" or "mem", bucket = directory or name.
Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& storage,
                                               const std::string& bucket);

// Lists every object under `prefix`, following pagination.
Result<std::vector<ObjectInfo>> ListAll(ObjectStore& store, std::string_view prefix);

}  // namespace tessera::object
