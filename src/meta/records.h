// Value encodings of the namespace's records: inode attributes and directory
// entries (the key schema is in keys.h).
//
// Attributes are a fixed 81-byte big-endian record:
//   flags u8 | mode u32 | uid u32 | gid u32 |
//   atime sec i64, nsec u32 | mtime sec i64, nsec u32 | ctime sec i64, nsec u32 |
//   nlink u32 | length u64 | rdev u32 | parent u64 | allocated u64
// Volumes made before `allocated` hold 73-byte records, which decode with
// allocated = kAllocatedUnknown. Longer values are accepted (room for later
// fields); shorter ones are corrupt.
//
// A directory entry's value is the child's type (mode >> 12, one byte)
// followed by the child inode (u64 big-endian).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "meta/meta.h"

namespace tessera::meta {

constexpr size_t kAttrRecordSize = 81;
// A record from before the `allocated` field.
constexpr size_t kAttrRecordSizeNoAllocated = 73;

std::string EncodeAttr(const Attr& a);
Result<Attr> DecodeAttr(std::string_view data);

struct DentryValue {
  uint8_t type = 0;  // mode >> 12 (S_IFMT bits)
  Ino ino = 0;
  uint32_t TypeMode() const { return static_cast<uint32_t>(type) << 12; }
};

std::string EncodeDentry(uint32_t mode, Ino ino);
Result<DentryValue> DecodeDentry(std::string_view data);

}  // namespace tessera::meta
