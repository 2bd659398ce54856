// Attr::allocated: the bytes of a file that data records show.
//
// A chunk's coverage is resolved from its records newest first: a record
// decides the bytes of its range that no later record decided, and counts
// them when it holds data (id != 0). The decided ranges are kept merged in a
// map, so each record adds one range and every range it swallows is removed
// for good: n records cost O(n log n), however they overlap. Operations keep
// the file's total by the difference one chunk's records make (AccountChunk),
// so a write costs work in proportion to the records of its chunk, which
// compaction keeps few.
#include <algorithm>
#include <iterator>
#include <map>

#include "meta/ops.h"

namespace tessera::meta {

std::vector<ByteRange> CoveredRanges(const std::vector<Slice>& records) {
  std::map<uint64_t, uint64_t> decided;  // begin -> end, disjoint and not touching
  std::vector<ByteRange> shown;
  for (auto r = records.rbegin(); r != records.rend(); ++r) {
    const uint64_t begin = r->pos;
    const uint64_t end = std::min<uint64_t>(uint64_t{r->pos} + r->len, kChunkSize);
    if (begin >= end) continue;
    // The decided ranges that overlap or touch [begin, end) merge with it;
    // the gaps between them are what this record shows.
    auto it = decided.upper_bound(begin);
    if (it != decided.begin() && std::prev(it)->second >= begin) --it;
    uint64_t lo = begin, hi = end, at = begin;
    while (it != decided.end() && it->first <= end) {
      if (r->id != 0 && it->first > at) shown.push_back({at, it->first});
      at = std::max(at, it->second);
      lo = std::min(lo, it->first);
      hi = std::max(hi, it->second);
      it = decided.erase(it);
    }
    if (r->id != 0 && at < end) shown.push_back({at, end});
    decided.emplace(lo, hi);
  }
  std::sort(shown.begin(), shown.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
  return shown;
}

uint64_t ChunkCoverage(const std::vector<Slice>& records, uint64_t limit) {
  if (limit == 0) return 0;
  uint64_t n = 0;
  for (const ByteRange& r : CoveredRanges(records)) {
    if (r.begin >= limit) break;
    n += std::min(r.end, limit) - r.begin;
  }
  return n;
}

uint64_t ChunkLimit(uint32_t index, uint64_t length) {
  const uint64_t start = uint64_t{index} * kChunkSize;
  return length <= start ? 0 : std::min(length - start, kChunkSize);
}

void AccountChunk(Attr* attr, uint32_t index, const std::vector<Slice>& before, uint64_t old_length,
                  const std::vector<Slice>& after) {
  if (!attr->IsFile()) return;
  const uint64_t now = ChunkCoverage(after, ChunkLimit(index, attr->length));
  if (index == 0 && attr->length <= kChunkSize) {
    // The chunk is the whole file: the total is known from it alone (this
    // also gives a file from before the field its count).
    attr->allocated = now;
    return;
  }
  if (attr->allocated == kAllocatedUnknown) return;
  const uint64_t was = ChunkCoverage(before, ChunkLimit(index, old_length));
  const uint64_t sum = attr->allocated + now;
  attr->allocated = std::min(sum > was ? sum - was : 0, attr->length);
}

}  // namespace tessera::meta
