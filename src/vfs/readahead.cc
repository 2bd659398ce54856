#include "vfs/readahead.h"

#include <algorithm>

namespace tessera::vfs {

uint64_t Readahead::OnRead(uint64_t offset, uint64_t size) {
  ++tick_;
  const uint64_t slack = block_size_;
  Stream* lru = &streams_[0];
  for (Stream& s : streams_) {
    if (s.valid && offset + slack >= s.next && offset <= s.next + slack) {
      s.window = std::min(max_window_, std::max(block_size_, s.window * 2));
      s.next = std::max(s.next, offset + size);
      s.used = tick_;
      return s.window;
    }
    if (!s.valid || (lru->valid && s.used < lru->used)) lru = &s;
  }
  *lru = Stream{true, offset + size, 0, tick_};
  return 0;
}

}  // namespace tessera::vfs
