// Readahead: decides, per open file handle, how far past a read to fetch.
//
// A handle may carry several sequential streams at once (a reader of a
// record file that walks two regions, or the kernel's own readahead running
// ahead of the application). Each stream remembers where its next read
// should start and its window; a read within a block of a stream's next
// position (the kernel may deliver its requests slightly out of order)
// continues that stream and doubles its window, from one block up to the
// maximum. A read that continues no stream is random: it replaces the stream
// used least recently and asks for no readahead, so random access costs at
// most the blocks it touches.
//
// Not thread-safe: the handle's mutex guards it.
#pragma once

#include <array>
#include <cstdint>

namespace tessera::vfs {

class Readahead {
 public:
  static constexpr int kStreams = 4;

  Readahead() : Readahead(1, 0) {}  // off
  Readahead(uint64_t block_size, uint64_t max_window)
      : block_size_(block_size), max_window_(max_window) {
    streams_[0].valid = true;  // a read from offset 0 starts a stream
  }

  // Records a read of [offset, offset + size); returns how many bytes after
  // it to fetch ahead (0 for a random read or when readahead is off).
  uint64_t OnRead(uint64_t offset, uint64_t size);

 private:
  struct Stream {
    bool valid = false;
    uint64_t next = 0;    // where the stream's next read starts
    uint64_t window = 0;  // bytes
    uint64_t used = 0;    // tick of the last read that continued it
  };
  uint64_t block_size_;
  uint64_t max_window_;
  uint64_t tick_ = 0;
  std::array<Stream, kStreams> streams_{};
};

}  // namespace tessera::vfs
