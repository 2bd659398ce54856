// A slice record: one write session's data inside one chunk.
//
// Shared vocabulary of meta/ (which stores the records of each chunk) and
// chunk/ (which turns them into block reads). Both layers use it; neither
// needs the other to do so.
//
// The slice `id` holds `size` bytes, stored as blocks. The record makes bytes
// [off, off+len) of the slice visible at chunk offset [pos, pos+len). Slice id
// 0 is a hole: the range reads as zeros. Records of a chunk are kept in write
// order; where they overlap, the later record wins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/encoding.h"

namespace tessera {

constexpr uint64_t kChunkSize = 64ull << 20;  // a file is cut into chunks by position
constexpr size_t kSliceRecordSize = 24;

struct Slice {
  uint32_t pos = 0;   // where the visible part starts inside the chunk
  uint64_t id = 0;    // 0: a hole
  uint32_t size = 0;  // the whole slice's stored length
  uint32_t off = 0;   // where the visible part starts inside the slice
  uint32_t len = 0;   // visible length
  bool operator==(const Slice&) const = default;
};

// 24 bytes, big-endian: pos u32, id u64, size u32, off u32, len u32.
inline void AppendSliceRecord(std::string* out, const Slice& s) {
  PutBE32(out, s.pos);
  PutBE64(out, s.id);
  PutBE32(out, s.size);
  PutBE32(out, s.off);
  PutBE32(out, s.len);
}

// Decodes a chunk value (records concatenated). Trailing bytes that do not
// form a whole record are ignored and reported through `ok` when given.
inline std::vector<Slice> DecodeSliceRecords(std::string_view data, bool* ok = nullptr) {
  std::vector<Slice> out;
  Decoder d(data);
  while (d.remaining() >= kSliceRecordSize) {
    Slice s;
    s.pos = d.BE32();
    s.id = d.BE64();
    s.size = d.BE32();
    s.off = d.BE32();
    s.len = d.BE32();
    out.push_back(s);
  }
  if (ok) *ok = d.remaining() == 0;
  return out;
}

}  // namespace tessera
