// The whole key schema of the namespace, in one place.
//
//   setting                     volume settings (JSON)
//   C<name>                     counter: 8-byte little-endian int64 (kv::Txn::Increment)
//   A<ino>I                     inode attributes (records.h)
//   A<ino>D<name>               directory entry: type byte + child inode
//   A<ino>C<index BE32>         the chunk's 24-byte slice records, appended
//   A<ino>S                     symlink target
//   A<ino>X<name>               extended attribute value
//   A<ino>F                     BSD flock holders of the inode (ops_lock.cc)
//   A<ino>L                     POSIX record locks of the inode (ops_lock.cc)
//   D<ino BE64><length BE64>    a deleted file whose chunks wait to be freed
//   K<slice id BE64><size BE32> slice reference count (only where shared; missing = 1)
//   R<id BE64>                  slice records replaced by a compaction, each still to
//                               lose one reference (ops_compact.cc)
//   SE<session BE64>            session JSON
//   SS<session BE64><ino BE64>  inode sustained by the session (unlinked while open)
//   SL<session BE64><ino BE64>  inode on which the session holds a lock
//
// The inode inside `A` keys is LITTLE-endian: consecutive inode numbers then
// differ in their first byte and spread over the key ranges of a distributed
// engine instead of all landing on the range that holds the newest inodes.
// Nothing scans across inodes in order, so nothing is lost. Chunk indexes and
// slice ids are big-endian so that they scan in numeric order; D and SS keys
// use big-endian inodes because they are scanned as queues.
//
// The trash (ops_trash.cc) adds no key kind: /.trash is inode kTrashIno with
// no entry in the root, its hour directories inodes kTrashIno + n (counter
// nextTrash), trashed files ordinary entries of those.
//
// Hard-link parent keys (A<ino>P<parent>) are not used: a file with more than
// one link keeps attr.parent == 0 (see ops.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/encoding.h"

namespace tessera::meta::keys {

inline constexpr std::string_view kSetting = "setting";

inline constexpr std::string_view kNextInode = "nextInode";
inline constexpr std::string_view kNextSlice = "nextSlice";
inline constexpr std::string_view kNextSession = "nextSession";
inline constexpr std::string_view kUsedSpace = "usedSpace";
inline constexpr std::string_view kTotalInodes = "totalInodes";
inline constexpr std::string_view kNextTrash = "nextTrash";  // trash hour dirs: kTrashIno + n

inline std::string Counter(std::string_view name) {
  std::string k = "C";
  k.append(name);
  return k;
}

// A<ino LE64>: every key of one inode starts with this.
inline std::string InodePrefix(uint64_t ino) {
  std::string k = "A";
  PutLE64(&k, ino);
  return k;
}

inline std::string InodeKey(uint64_t ino, char kind) {
  std::string k = InodePrefix(ino);
  k.push_back(kind);
  return k;
}

inline std::string Attr(uint64_t ino) { return InodeKey(ino, 'I'); }
inline std::string Symlink(uint64_t ino) { return InodeKey(ino, 'S'); }
inline std::string DentryPrefix(uint64_t parent) { return InodeKey(parent, 'D'); }
inline std::string Dentry(uint64_t parent, std::string_view name) {
  std::string k = DentryPrefix(parent);
  k.append(name);
  return k;
}
inline std::string ChunkPrefix(uint64_t ino) { return InodeKey(ino, 'C'); }
inline std::string Chunk(uint64_t ino, uint32_t index) {
  std::string k = ChunkPrefix(ino);
  PutBE32(&k, index);
  return k;
}
inline std::string Flocks(uint64_t ino) { return InodeKey(ino, 'F'); }
inline std::string Plocks(uint64_t ino) { return InodeKey(ino, 'L'); }
inline std::string XattrPrefix(uint64_t ino) { return InodeKey(ino, 'X'); }
inline std::string Xattr(uint64_t ino, std::string_view name) {
  std::string k = XattrPrefix(ino);
  k.append(name);
  return k;
}

inline constexpr std::string_view kDelFilePrefix = "D";
inline std::string DelFile(uint64_t ino, uint64_t length) {
  std::string k(kDelFilePrefix);
  PutBE64(&k, ino);
  PutBE64(&k, length);
  return k;
}

inline constexpr std::string_view kSliceRefPrefix = "K";
inline std::string SliceRef(uint64_t id, uint32_t size) {
  std::string k(kSliceRefPrefix);
  PutBE64(&k, id);
  PutBE32(&k, size);
  return k;
}

inline constexpr std::string_view kReleasePrefix = "R";
inline std::string Release(uint64_t id) {
  std::string k(kReleasePrefix);
  PutBE64(&k, id);
  return k;
}

inline constexpr std::string_view kSessionPrefix = "SE";
inline std::string Session(uint64_t sid) {
  std::string k(kSessionPrefix);
  PutBE64(&k, sid);
  return k;
}

inline std::string SustainedPrefix(uint64_t sid) {
  std::string k = "SS";
  PutBE64(&k, sid);
  return k;
}
inline std::string Sustained(uint64_t sid, uint64_t ino) {
  std::string k = SustainedPrefix(sid);
  PutBE64(&k, ino);
  return k;
}

inline std::string LockedPrefix(uint64_t sid) {
  std::string k = "SL";
  PutBE64(&k, sid);
  return k;
}
inline std::string Locked(uint64_t sid, uint64_t ino) {
  std::string k = LockedPrefix(sid);
  PutBE64(&k, ino);
  return k;
}

// --- Parsers: nullopt when the key does not have the expected shape. ---

// The name of A<ino>D<name>.
inline std::optional<std::string_view> ParseDentryName(std::string_view key) {
  if (key.size() < 10 || key[0] != 'A' || key[9] != 'D') return std::nullopt;
  return key.substr(10);
}

inline std::optional<uint32_t> ParseChunkIndex(std::string_view key) {
  if (key.size() != 14 || key[0] != 'A' || key[9] != 'C') return std::nullopt;
  return GetBE32(key.data() + 10);
}

inline std::optional<std::string_view> ParseXattrName(std::string_view key) {
  if (key.size() < 10 || key[0] != 'A' || key[9] != 'X') return std::nullopt;
  return key.substr(10);
}

struct DelFileKey {
  uint64_t ino;
  uint64_t length;
};
inline std::optional<DelFileKey> ParseDelFile(std::string_view key) {
  if (key.size() != 17 || key[0] != 'D') return std::nullopt;
  return DelFileKey{GetBE64(key.data() + 1), GetBE64(key.data() + 9)};
}

struct SliceRefKey {
  uint64_t id;
  uint32_t size;
};
inline std::optional<SliceRefKey> ParseSliceRef(std::string_view key) {
  if (key.size() != 13 || key[0] != 'K') return std::nullopt;
  return SliceRefKey{GetBE64(key.data() + 1), GetBE32(key.data() + 9)};
}

inline std::optional<uint64_t> ParseRelease(std::string_view key) {
  if (key.size() != 9 || key[0] != 'R') return std::nullopt;
  return GetBE64(key.data() + 1);
}

inline std::optional<uint64_t> ParseSession(std::string_view key) {
  if (key.size() != 10 || !key.starts_with(kSessionPrefix)) return std::nullopt;
  return GetBE64(key.data() + 2);
}

struct SustainedKey {
  uint64_t sid;
  uint64_t ino;
};
inline std::optional<SustainedKey> ParseSustained(std::string_view key) {
  if (key.size() != 18 || !key.starts_with("SS")) return std::nullopt;
  return SustainedKey{GetBE64(key.data() + 2), GetBE64(key.data() + 10)};
}
// SL keys have the shape of SS keys.
inline std::optional<SustainedKey> ParseLocked(std::string_view key) {
  if (key.size() != 18 || !key.starts_with("SL")) return std::nullopt;
  return SustainedKey{GetBE64(key.data() + 2), GetBE64(key.data() + 10)};
}

}  // namespace tessera::meta::keys
