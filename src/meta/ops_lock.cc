// BSD flock and POSIX record locks, kept in the engine so that owners on
// different mounts exclude each other.
//
// Each inode has at most two lock tables: A<ino>F lists flock holders, A<ino>L
// lists byte ranges. A holder is (session, owner): the owner is the kernel's
// lock owner of the open file (flock) or of the process's file table (fcntl),
// which is unique only within one mount, hence the session. SL<sid><ino>
// marks the inodes where a session holds anything, so that a dead session's
// locks can be found and released without scanning every inode.
//
//   flock record: sid LE64, owner LE64, type u8                         (17 bytes)
//   range record: sid LE64, owner LE64, pid LE32, type u8, start LE64,
//                 end LE64 (inclusive; kLockEOF = to the end)         (37 bytes)
//
// Nothing here waits: a conflicting request is kWouldBlock and the caller
// (vfs) polls when the application asked to wait.
#include <fcntl.h>

#include <algorithm>

#include "common/encoding.h"
#include "meta/keys.h"
#include "meta/ops.h"

namespace tessera::meta {
namespace {

constexpr size_t kFlockRecord = 17;
constexpr size_t kRangeRecord = 37;

struct FlockRec {
  uint64_t sid = 0;
  uint64_t owner = 0;
  uint8_t type = 0;
};

struct RangeRec {
  uint64_t sid = 0;
  uint64_t owner = 0;
  uint32_t pid = 0;
  uint8_t type = 0;
  uint64_t start = 0;
  uint64_t end = 0;
};

bool Conflicts(int a, int b) { return a == F_WRLCK || b == F_WRLCK; }
bool Overlaps(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2) { return s1 <= e2 && s2 <= e1; }

Result<std::vector<FlockRec>> DecodeFlocks(Ino ino, const std::optional<std::string>& v) {
  std::vector<FlockRec> out;
  if (!v) return out;
  if (v->size() % kFlockRecord != 0) {
    return Err(Code::kCorrupt, "flock table of inode " + std::to_string(ino) + " is malformed");
  }
  for (size_t i = 0; i < v->size(); i += kFlockRecord) {
    const char* p = v->data() + i;
    out.push_back({GetLE64(p), GetLE64(p + 8), static_cast<uint8_t>(p[16])});
  }
  return out;
}

Result<std::vector<RangeRec>> DecodeRanges(Ino ino, const std::optional<std::string>& v) {
  std::vector<RangeRec> out;
  if (!v) return out;
  if (v->size() % kRangeRecord != 0) {
    return Err(Code::kCorrupt, "lock table of inode " + std::to_string(ino) + " is malformed");
  }
  for (size_t i = 0; i < v->size(); i += kRangeRecord) {
    const char* p = v->data() + i;
    out.push_back({GetLE64(p), GetLE64(p + 8), GetLE32(p + 16), static_cast<uint8_t>(p[20]),
                   GetLE64(p + 21), GetLE64(p + 29)});
  }
  return out;
}

// Both lock tables of one inode, as loaded and as they will be stored.
struct LockTables {
  std::vector<FlockRec> flocks;
  std::vector<RangeRec> ranges;
};

Result<LockTables> LoadLocks(kv::Txn& txn, Ino ino) {
  ASSIGN_OR_RETURN(auto values, txn.BatchGet({keys::Flocks(ino), keys::Plocks(ino)}));
  LockTables t;
  ASSIGN_OR_RETURN(t.flocks, DecodeFlocks(ino, values[0]));
  ASSIGN_OR_RETURN(t.ranges, DecodeRanges(ino, values[1]));
  return t;
}

// Writes both tables (deleting empty ones) and keeps the SL index of `sid`
// true: set while the session holds anything on the inode.
Status StoreLocks(kv::Txn& txn, Ino ino, uint64_t sid, const LockTables& t) {
  std::string f, r;
  for (const auto& rec : t.flocks) {
    PutLE64(&f, rec.sid);
    PutLE64(&f, rec.owner);
    PutU8(&f, rec.type);
  }
  for (const auto& rec : t.ranges) {
    PutLE64(&r, rec.sid);
    PutLE64(&r, rec.owner);
    PutLE32(&r, rec.pid);
    PutU8(&r, rec.type);
    PutLE64(&r, rec.start);
    PutLE64(&r, rec.end);
  }
  RETURN_IF_ERROR(f.empty() ? txn.Delete(keys::Flocks(ino)) : txn.Set(keys::Flocks(ino), f));
  RETURN_IF_ERROR(r.empty() ? txn.Delete(keys::Plocks(ino)) : txn.Set(keys::Plocks(ino), r));
  bool holds = std::any_of(t.flocks.begin(), t.flocks.end(), [&](auto& x) { return x.sid == sid; }) ||
               std::any_of(t.ranges.begin(), t.ranges.end(), [&](auto& x) { return x.sid == sid; });
  return holds ? txn.Set(keys::Locked(sid, ino), "") : txn.Delete(keys::Locked(sid, ino));
}

Status CheckType(int type) {
  if (type == F_RDLCK || type == F_WRLCK || type == F_UNLCK) return Status::Ok();
  return Status(Code::kInvalid, "lock type " + std::to_string(type));
}

// Removes [start, end] from the ranges of (sid, owner), splitting where needed.
void CutOwnRanges(std::vector<RangeRec>& ranges, uint64_t sid, uint64_t owner, uint64_t start,
                  uint64_t end) {
  std::vector<RangeRec> out;
  for (const RangeRec& r : ranges) {
    if (r.sid != sid || r.owner != owner || !Overlaps(r.start, r.end, start, end)) {
      out.push_back(r);
      continue;
    }
    if (r.start < start) {
      RangeRec left = r;
      left.end = start - 1;
      out.push_back(left);
    }
    if (r.end > end) {
      RangeRec right = r;
      right.start = end + 1;
      out.push_back(right);
    }
  }
  ranges = std::move(out);
}

// Joins touching or overlapping ranges of one holder with the same type.
void MergeOwnRanges(std::vector<RangeRec>& ranges, uint64_t sid, uint64_t owner) {
  std::vector<RangeRec> own, out;
  for (const RangeRec& r : ranges) (r.sid == sid && r.owner == owner ? own : out).push_back(r);
  std::sort(own.begin(), own.end(), [](auto& a, auto& b) { return a.start < b.start; });
  for (const RangeRec& r : own) {
    if (!out.empty()) {
      RangeRec& last = out.back();
      bool mine = last.sid == sid && last.owner == owner;
      bool touches = last.end == kLockEOF || r.start <= last.end + 1;
      if (mine && last.type == r.type && touches) {
        last.end = std::max(last.end, r.end);
        continue;
      }
    }
    out.push_back(r);
  }
  ranges = std::move(out);
}

}  // namespace

Status DoFlock(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner, int type) {
  RETURN_IF_ERROR(CheckType(type));
  ASSIGN_OR_RETURN(LockTables t, LoadLocks(txn, ino));
  auto mine = [&](const FlockRec& r) { return r.sid == sid && r.owner == owner; };
  if (type != F_UNLCK) {
    for (const FlockRec& r : t.flocks) {
      if (!mine(r) && Conflicts(type, r.type)) {
        return Status(Code::kWouldBlock, "inode " + std::to_string(ino) + " is flocked");
      }
    }
  }
  std::erase_if(t.flocks, mine);
  if (type != F_UNLCK) t.flocks.push_back({sid, owner, static_cast<uint8_t>(type)});
  return StoreLocks(txn, ino, sid, t);
}

Result<LockRange> DoGetLk(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner,
                          const LockRange& probe) {
  RETURN_IF_ERROR(CheckType(probe.type));
  ASSIGN_OR_RETURN(LockTables t, LoadLocks(txn, ino));
  for (const RangeRec& r : t.ranges) {
    if (r.sid == sid && r.owner == owner) continue;
    if (Overlaps(r.start, r.end, probe.start, probe.end) && Conflicts(probe.type, r.type)) {
      return LockRange{.type = r.type, .start = r.start, .end = r.end, .pid = r.pid};
    }
  }
  return LockRange{.type = F_UNLCK, .start = probe.start, .end = probe.end, .pid = 0};
}

Status DoSetLk(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner, const LockRange& range) {
  RETURN_IF_ERROR(CheckType(range.type));
  if (range.start > range.end) return Status(Code::kInvalid, "lock range ends before it starts");
  ASSIGN_OR_RETURN(LockTables t, LoadLocks(txn, ino));
  if (range.type != F_UNLCK) {
    for (const RangeRec& r : t.ranges) {
      if (r.sid == sid && r.owner == owner) continue;
      if (Overlaps(r.start, r.end, range.start, range.end) && Conflicts(range.type, r.type)) {
        return Status(Code::kWouldBlock, "a range of inode " + std::to_string(ino) +
                                             " is locked by pid " + std::to_string(r.pid));
      }
    }
  }
  CutOwnRanges(t.ranges, sid, owner, range.start, range.end);
  if (range.type != F_UNLCK) {
    t.ranges.push_back({sid, owner, range.pid, static_cast<uint8_t>(range.type), range.start,
                        range.end});
    MergeOwnRanges(t.ranges, sid, owner);
  }
  return StoreLocks(txn, ino, sid, t);
}

Status DoReleaseSessionLocks(kv::Txn& txn, uint64_t sid, Ino ino) {
  ASSIGN_OR_RETURN(LockTables t, LoadLocks(txn, ino));
  std::erase_if(t.flocks, [&](const FlockRec& r) { return r.sid == sid; });
  std::erase_if(t.ranges, [&](const RangeRec& r) { return r.sid == sid; });
  return StoreLocks(txn, ino, sid, t);
}

}  // namespace tessera::meta
