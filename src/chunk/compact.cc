// Compaction: what a chunk's records show, rewritten as one slice.
//
// The bytes are read through the ChunkReader, exactly as a file read would
// see them, one block-sized piece at a time, and written to a SliceWriter, so
// memory stays at a few blocks however large the chunk. The new slice spans
// from the first byte any data record shows to the last: holes between them
// become stored zeros, and the holes before and after stay holes (a chunk
// reads zeros where no record reaches). Records that show nothing but holes
// need no slice at all.
#include <algorithm>
#include <optional>

#include "chunk/chunk.h"

namespace tessera::chunk {

bool WorthCompacting(const std::vector<Slice>& slices) { return slices.size() >= 2; }

Result<Slice> WriteCompacted(ChunkReader& reader, object::ObjectStore& store, const Layout& layout,
                             const std::vector<Slice>& slices, uint64_t id, ThreadPool* uploads,
                             ThreadPool* downloads) {
  std::optional<uint32_t> first;
  uint64_t last = 0;
  for (const Segment& seg : BuildView(slices)) {
    if (seg.id == 0) continue;
    if (!first) first = seg.pos;
    last = uint64_t{seg.pos} + seg.len;
  }
  if (!first) return Slice{};
  const uint64_t span = last - *first;
  if (downloads != nullptr) reader.Prefetch(slices, *first, span, *downloads);
  SliceWriter writer(store, layout, id, *first, uploads);
  std::string piece;
  Status st;
  for (uint64_t done = 0; done < span && st.ok();) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(span - done, layout.block_size));
    piece.resize(n);
    const uint32_t at = static_cast<uint32_t>(*first + done);
    st = reader.Read(slices, at, n, piece.data());
    if (st.ok()) st = writer.Write(at, piece);
    done += n;
  }
  Result<Slice> record = st.ok() ? writer.Finish() : Result<Slice>(Err(st));
  if (!record.has_value()) {
    // Nothing references the new slice: leave none of its blocks behind.
    (void)DeleteSliceBlocks(store, layout, id, static_cast<uint32_t>(span));
  }
  return record;
}

}  // namespace tessera::chunk
