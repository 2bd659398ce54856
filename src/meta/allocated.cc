// Attr::allocated: the bytes of a file that data records show.
//
// A chunk's coverage is resolved from its records newest first: a record
// decides the bytes of its range that no later record decided, and counts
// them when it holds data (id != 0). The decided ranges are kept merged in a
// map, so each record adds one range and every range it swallows is removed
// for good: n records cost O(n log n), however they overlap. Operations keep
// the file's total by the difference one chunk's records make (AccountChunk),
// and only over the bytes that difference can touch: the records an append
// adds and the bytes the length moved across. A write costs one pass over
// its chunk's records (which compaction keeps few) plus the resolution of
// those that overlap what it wrote.
#include <algorithm>
#include <iterator>
#include <map>

#include "meta/ops.h"

namespace tessera::meta {

namespace {

// The ranges of chunk bytes [lo, hi) that data records show (unsorted),
// records resolved newest first.
std::vector<ByteRange> ShownIn(const std::vector<Slice>& records, uint64_t lo, uint64_t hi) {
  std::map<uint64_t, uint64_t> decided;  // begin -> end, disjoint and not touching
  std::vector<ByteRange> shown;
  for (auto r = records.rbegin(); r != records.rend(); ++r) {
    const uint64_t begin = std::max<uint64_t>(r->pos, lo);
    const uint64_t end = std::min({uint64_t{r->pos} + r->len, kChunkSize, hi});
    if (begin >= end) continue;
    // The decided ranges that overlap or touch [begin, end) merge with it;
    // the gaps between them are what this record shows.
    auto it = decided.upper_bound(begin);
    if (it != decided.begin() && std::prev(it)->second >= begin) --it;
    uint64_t first = begin, last = end, at = begin;
    while (it != decided.end() && it->first <= end) {
      if (r->id != 0 && it->first > at) shown.push_back({at, it->first});
      at = std::max(at, it->second);
      first = std::min(first, it->first);
      last = std::max(last, it->second);
      it = decided.erase(it);
    }
    if (r->id != 0 && at < end) shown.push_back({at, end});
    decided.emplace(first, last);
  }
  return shown;
}

uint64_t CoveredIn(const std::vector<Slice>& records, uint64_t lo, uint64_t hi) {
  if (lo >= hi) return 0;
  uint64_t n = 0;
  for (const ByteRange& r : ShownIn(records, lo, hi)) n += r.end - r.begin;
  return n;
}

}  // namespace

std::vector<ByteRange> CoveredRanges(const std::vector<Slice>& records) {
  std::vector<ByteRange> shown = ShownIn(records, 0, kChunkSize);
  std::sort(shown.begin(), shown.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.begin < b.begin; });
  return shown;
}

uint64_t ChunkCoverage(const std::vector<Slice>& records, uint64_t limit) {
  return CoveredIn(records, 0, limit);
}

uint64_t ChunkLimit(uint32_t index, uint64_t length) {
  const uint64_t start = uint64_t{index} * kChunkSize;
  return length <= start ? 0 : std::min(length - start, kChunkSize);
}

void AccountChunk(Attr* attr, uint32_t index, const std::vector<Slice>& before, uint64_t old_length,
                  const std::vector<Slice>& after) {
  if (!attr->IsFile()) return;
  const uint64_t old_limit = ChunkLimit(index, old_length);
  const uint64_t new_limit = ChunkLimit(index, attr->length);
  if (attr->allocated == kAllocatedUnknown) {
    // A file from before the count: when the chunk is the whole file, the
    // chunk gives the whole count.
    if (index == 0 && attr->length <= kChunkSize) attr->allocated = ChunkCoverage(after, new_limit);
    return;
  }
  // Only bytes that a record in one list and not the other touches, or that
  // the length moved across, can change: outside them the same records
  // decide both lists. An append touches its own bytes only.
  size_t same = 0;
  while (same < before.size() && same < after.size() && before[same] == after[same]) ++same;
  uint64_t lo = std::min(old_limit, new_limit);
  uint64_t hi = std::max(old_limit, new_limit);
  auto widen = [&](const std::vector<Slice>& records) {
    for (size_t i = same; i < records.size(); ++i) {
      if (records[i].len == 0) continue;
      if (lo >= hi) lo = hi = records[i].pos;  // nothing yet
      lo = std::min<uint64_t>(lo, records[i].pos);
      hi = std::max<uint64_t>(hi, uint64_t{records[i].pos} + records[i].len);
    }
  };
  widen(before);
  widen(after);
  if (lo >= hi) return;
  const uint64_t was = CoveredIn(before, lo, std::min(hi, old_limit));
  const uint64_t now = CoveredIn(after, lo, std::min(hi, new_limit));
  const uint64_t sum = attr->allocated + now;
  attr->allocated = std::min(sum > was ? sum - was : 0, attr->length);
}

}  // namespace tessera::meta
