#include "vfs/readahead.h"

#include <algorithm>

namespace tessera::vfs {

uint64_t Readahead::OnRead(uint64_t offset, uint64_t size) {
  ++tick_;
  passed_ = {};
  const uint64_t slack = block_size_;
  const uint64_t block_start = offset / block_size_ * block_size_;
  Stream* lru = &streams_[0];
  for (Stream& s : streams_) {
    if (s.valid && offset + slack >= s.next && offset <= s.next + slack) {
      s.window = std::min(max_window_, std::max(block_size_, s.window * 2));
      s.next = std::max(s.next, offset + size);
      s.read += size;
      s.used = tick_;
      // Blocks wholly more than a block before this read are passed.
      const uint64_t passed = block_start >= slack ? block_start - slack : 0;
      if (passed > s.behind) {
        passed_ = {s.behind, passed};
        s.behind = passed;
      }
      return Capped(s);
    }
    if (!s.valid || (lru->valid && s.used < lru->used)) lru = &s;
  }
  *lru = Stream{true, offset + size, 0, size, tick_, block_start};
  return 0;
}

uint64_t Readahead::Capped(const Stream& s) const {
  if (ratio_ <= 0) return s.window;
  // In double: a stream may read far more than 2^64 / ratio bytes.
  const double budget = ratio_ * static_cast<double>(s.read);
  if (budget >= static_cast<double>(s.window)) return s.window;
  const uint64_t blocks = static_cast<uint64_t>(budget) / block_size_;
  return blocks * block_size_;
}

}  // namespace tessera::vfs
