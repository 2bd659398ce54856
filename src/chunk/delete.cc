// Removing the blocks of a slice that no chunk references any more.
#include "chunk/chunk.h"

namespace tessera::chunk {

Status DeleteSliceBlocks(object::ObjectStore& store, const Layout& layout, uint64_t id,
                         uint32_t size) {
  // Try every block even after a failure, so one bad object leaves as few
  // orphans as possible; report the first failure.
  Status first;
  uint32_t count = BlockCount(layout, size);
  for (uint32_t i = 0; i < count; ++i) {
    Status st = store.Delete(BlockKey(layout, id, i, BlockLength(layout, size, i)));
    if (!st.ok() && first.ok()) first = std::move(st);
  }
  return first;
}

}  // namespace tessera::chunk
