// Block naming and the arithmetic that cuts a slice into blocks.
#include <algorithm>

#include "chunk/chunk.h"

namespace tessera::chunk {

std::string BlockKey(const Layout& layout, uint64_t id, uint32_t index, uint32_t length) {
  std::string key = layout.volume;
  key += "/chunks/";
  key += std::to_string(id / 1000000);
  key += '/';
  key += std::to_string(id / 1000);
  key += '/';
  key += std::to_string(id);
  key += '_';
  key += std::to_string(index);
  key += '_';
  key += std::to_string(length);
  return key;
}

uint32_t BlockCount(const Layout& layout, uint32_t size) {
  return static_cast<uint32_t>((uint64_t{size} + layout.block_size - 1) / layout.block_size);
}

uint32_t BlockLength(const Layout& layout, uint32_t size, uint32_t index) {
  uint64_t start = uint64_t{index} * layout.block_size;
  if (start >= size) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(layout.block_size, size - start));
}

}  // namespace tessera::chunk
