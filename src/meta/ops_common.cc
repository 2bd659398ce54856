// Helpers shared by the operations: attributes, names, usage accounting,
// destroying inodes and dropping slice references.
#include <algorithm>

#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

constexpr uint64_t kUnit = 4096;

Result<int64_t> ReadCounter(kv::Txn& txn, std::string_view name) {
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Counter(name)));
  if (!v) return 0;
  if (v->size() != 8) return Err(Code::kCorrupt, "counter " + std::string(name) + " malformed");
  return static_cast<int64_t>(GetLE64(v->data()));
}

}  // namespace

uint64_t UsageOf(const Attr& attr) {
  if (!attr.IsFile() || attr.length <= kUnit) return kUnit;
  return (attr.length + kUnit - 1) / kUnit * kUnit;
}

Result<Attr> LoadAttr(kv::Txn& txn, Ino ino) {
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Attr(ino)));
  if (!v) return Err(Code::kNotFound, "inode " + std::to_string(ino) + " not found");
  auto attr = DecodeAttr(*v);
  if (!attr) {
    return Err(Code::kCorrupt, "inode " + std::to_string(ino) + ": " + attr.error().message());
  }
  return *attr;
}

Status StoreAttr(kv::Txn& txn, Ino ino, const Attr& attr) {
  return txn.Set(keys::Attr(ino), EncodeAttr(attr));
}

Status CheckName(std::string_view name) {
  if (name.empty()) return Status(Code::kInvalid, "empty name");
  if (name.size() > kMaxName) {
    return Status(Code::kNameTooLong, "name of " + std::to_string(name.size()) +
                                          " bytes exceeds " + std::to_string(kMaxName));
  }
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Status(Code::kInvalid, "name contains '/' or NUL");
  }
  return Status::Ok();
}

Status AddUsage(kv::Txn& txn, const OpEnv& env, int64_t space, int64_t inodes) {
  if (space > 0 && env.capacity > 0) {
    ASSIGN_OR_RETURN(int64_t used, ReadCounter(txn, keys::kUsedSpace));
    if (static_cast<uint64_t>(std::max<int64_t>(used, 0) + space) > env.capacity) {
      return Status(Code::kNoSpace, "volume capacity of " + std::to_string(env.capacity) +
                                        " bytes reached");
    }
  }
  if (inodes > 0 && env.max_inodes > 0) {
    ASSIGN_OR_RETURN(int64_t used, ReadCounter(txn, keys::kTotalInodes));
    if (static_cast<uint64_t>(std::max<int64_t>(used, 0) + inodes) > env.max_inodes) {
      return Status(Code::kNoSpace, "volume inode quota of " + std::to_string(env.max_inodes) +
                                        " reached");
    }
  }
  if (space != 0) RETURN_IF_ERROR(txn.Increment(keys::Counter(keys::kUsedSpace), space));
  if (inodes != 0) RETURN_IF_ERROR(txn.Increment(keys::Counter(keys::kTotalInodes), inodes));
  return Status::Ok();
}

Status DestroyInode(kv::Txn& txn, const OpEnv& env, Ino ino, const Attr& attr) {
  RETURN_IF_ERROR(txn.Delete(keys::Attr(ino)));
  if (attr.IsSymlink()) RETURN_IF_ERROR(txn.Delete(keys::Symlink(ino)));
  std::string xattrs = keys::XattrPrefix(ino);
  RETURN_IF_ERROR(txn.DeleteRange(xattrs, kv::PrefixEnd(xattrs)));
  if (attr.IsFile()) RETURN_IF_ERROR(txn.Set(keys::DelFile(ino, attr.length), ""));
  return AddUsage(txn, env, -static_cast<int64_t>(UsageOf(attr)), -1);
}

Status DropLink(kv::Txn& txn, const OpEnv& env, Ino ino, Attr& attr, bool* sustained) {
  *sustained = false;
  if (attr.nlink > 0) --attr.nlink;
  attr.ctime = env.now;
  if (attr.nlink > 0) return StoreAttr(txn, ino, attr);
  if (env.IsOpen(ino)) {
    *sustained = true;
    RETURN_IF_ERROR(txn.Set(keys::Sustained(env.sid, ino), ""));
    return StoreAttr(txn, ino, attr);
  }
  return DestroyInode(txn, env, ino, attr);
}

Status DerefSlices(kv::Txn& txn, const std::vector<Slice>& slices, std::vector<Slice>* freed) {
  // The records of a packed slice name one slice many times: one read and
  // one write of its count for all of them.
  std::map<std::pair<uint64_t, uint32_t>, int64_t> dropped;
  for (const Slice& s : slices) {
    if (s.id != 0) ++dropped[{s.id, s.size}];
  }
  for (const auto& [slice, count] : dropped) {
    std::string key = keys::SliceRef(slice.first, slice.second);
    ASSIGN_OR_RETURN(auto v, txn.Get(key));
    int64_t refs = 1;
    if (v) {
      if (v->size() != 8) return Status(Code::kCorrupt, "slice reference count malformed");
      refs = static_cast<int64_t>(GetLE64(v->data()));
    }
    refs -= count;
    if (refs <= 1) {
      if (v) RETURN_IF_ERROR(txn.Delete(key));
      if (refs <= 0) freed->push_back(Slice{.id = slice.first, .size = slice.second});
    } else {
      std::string value;
      PutLE64(&value, static_cast<uint64_t>(refs));
      RETURN_IF_ERROR(txn.Set(key, value));
    }
  }
  return Status::Ok();
}

Status AddSliceRefs(kv::Txn& txn, const std::map<std::pair<uint64_t, uint32_t>, int64_t>& added) {
  for (const auto& [slice, count] : added) {
    std::string key = keys::SliceRef(slice.first, slice.second);
    ASSIGN_OR_RETURN(auto v, txn.Get(key));
    int64_t refs = 1;
    if (v) {
      if (v->size() != 8) return Status(Code::kCorrupt, "slice reference count malformed");
      refs = static_cast<int64_t>(GetLE64(v->data()));
    }
    std::string value;
    PutLE64(&value, static_cast<uint64_t>(refs + count));
    RETURN_IF_ERROR(txn.Set(key, value));
  }
  return Status::Ok();
}

Status AppendSlices(kv::Txn& txn, Ino ino, Attr* attr, uint64_t old_length, uint32_t index,
                    std::span<const Slice> slices, uint32_t* records) {
  std::string key = keys::Chunk(ino, index);
  ASSIGN_OR_RETURN(auto v, txn.Get(key));
  std::string value = v ? std::move(*v) : std::string();
  std::vector<Slice> before = DecodeSliceRecords(value);
  std::vector<Slice> after = before;
  for (const Slice& s : slices) {
    AppendSliceRecord(&value, s);
    after.push_back(s);
  }
  AccountChunk(attr, index, before, old_length, after);
  if (records) *records = static_cast<uint32_t>(value.size() / kSliceRecordSize);
  return txn.Set(key, value);
}

}  // namespace tessera::meta
