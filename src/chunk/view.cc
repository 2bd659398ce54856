// BuildView: from a chunk's slice records (later wins) to the non-overlapping
// segments a reader walks.
//
// Records are applied in order to a map of segments keyed by chunk offset. A
// record cuts the segments it overlaps (keeping the parts outside it) and
// replaces what lies inside. Each record adds at most three segments and
// every segment it swallows is removed for good, so n records cost
// O(n log n) in total, however they overlap.
#include <algorithm>
#include <iterator>
#include <map>

#include "chunk/chunk.h"

namespace tessera::chunk {
namespace {

uint64_t End(const Segment& s) { return uint64_t{s.pos} + s.len; }

// The part of `s` from chunk offset `at` (inside it) on.
Segment TailFrom(const Segment& s, uint32_t at) {
  Segment t = s;
  t.pos = at;
  t.len = static_cast<uint32_t>(End(s) - at);
  if (t.id != 0) t.off = s.off + (at - s.pos);
  return t;
}

void Apply(std::map<uint32_t, Segment>& segs, const Segment& rec) {
  const uint32_t a = rec.pos;
  const uint64_t b = End(rec);
  auto it = segs.lower_bound(a);
  if (it != segs.begin()) {
    auto prev = std::prev(it);
    if (End(prev->second) > a) {
      // prev starts before the record and reaches into it: keep its head, and
      // its tail if it reaches past the record.
      if (End(prev->second) > b) {
        Segment tail = TailFrom(prev->second, static_cast<uint32_t>(b));
        segs.emplace_hint(it, tail.pos, tail);
      }
      prev->second.len = a - prev->second.pos;
    }
  }
  it = segs.lower_bound(a);
  while (it != segs.end() && it->first < b) {
    if (End(it->second) > b) {
      Segment tail = TailFrom(it->second, static_cast<uint32_t>(b));
      it = segs.erase(it);
      segs.emplace_hint(it, tail.pos, tail);
      break;
    }
    it = segs.erase(it);
  }
  segs.emplace(a, rec);
}

}  // namespace

std::vector<Segment> BuildView(const std::vector<Slice>& slices) {
  std::map<uint32_t, Segment> segs;
  for (const Slice& s : slices) {
    if (s.len == 0 || s.pos >= kChunkSize) continue;
    // A record never reaches past the chunk; clip a malformed one rather than overflow.
    uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(s.len, kChunkSize - s.pos));
    Segment rec{.pos = s.pos, .len = len, .id = s.id, .size = s.size, .off = s.off};
    if (rec.id == 0) rec.size = rec.off = 0;
    Apply(segs, rec);
  }
  std::vector<Segment> view;
  view.reserve(segs.size() * 2);
  uint32_t at = 0;
  for (const auto& [pos, seg] : segs) {
    if (pos > at) view.push_back(Segment{.pos = at, .len = pos - at});
    view.push_back(seg);
    at = static_cast<uint32_t>(End(seg));
  }
  return view;
}

}  // namespace tessera::chunk
