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
// Doubling alone overreacts to what random access on large files often is:
// short sequential runs at random places (records of a few hundred KiB read
// with 128 KiB kernel requests). Such a run looks sequential from its second
// read on, and each run would fetch a whole block or more ahead that nobody
// reads. So the window is also capped by the ratio: the bytes a stream
// fetches ahead of its reads may not exceed `ratio` times the bytes it has
// read so far, counted in whole blocks (blocks are what is fetched; a window
// of k blocks from the end of a read fetches exactly k blocks past the block
// that read touched). A stream must read block_size / ratio bytes before its
// first block ahead, and reaches the full window once it has read
// max_window / ratio; after that the cap no longer binds. Each stream that
// ends thus has wasted at most `ratio` times what it read, besides the blocks
// its reads touched. A ratio of 0 turns the cap off.
//
// Not thread-safe: the handle's mutex guards it.
#pragma once

#include <array>
#include <cstdint>

namespace tessera::vfs {

class Readahead {
 public:
  static constexpr int kStreams = 4;

  Readahead() : Readahead(1, 0, 0) {}  // off
  Readahead(uint64_t block_size, uint64_t max_window, double ratio)
      : block_size_(block_size), max_window_(max_window), ratio_(ratio) {
    streams_[0].valid = true;  // a read from offset 0 starts a stream
  }

  // Records a read of [offset, offset + size); returns how many bytes after
  // it to fetch ahead (0 for a random read or when readahead is off).
  uint64_t OnRead(uint64_t offset, uint64_t size);

  // File bytes [begin, end), whole blocks, that the stream of the last read
  // has left behind since it last said so: more than a block behind that
  // read (the kernel delivers a stream's requests up to a block out of
  // order). The blocks there are unlikely to be read again by this handle;
  // empty for a random read or a stream that has not passed a block yet.
  struct Range {
    uint64_t begin = 0;
    uint64_t end = 0;
    bool empty() const { return begin >= end; }
  };
  Range passed() const { return passed_; }

 private:
  struct Stream {
    bool valid = false;
    uint64_t next = 0;    // where the stream's next read starts
    uint64_t window = 0;  // bytes, before the ratio's cap
    uint64_t read = 0;    // bytes of the reads that made or continued it
    uint64_t used = 0;    // tick of the last read that continued it
    uint64_t behind = 0;  // blocks below this were reported passed
  };
  // The window of `s`, capped by the ratio to whole blocks.
  uint64_t Capped(const Stream& s) const;

  uint64_t block_size_;
  uint64_t max_window_;
  double ratio_;
  uint64_t tick_ = 0;
  Range passed_;
  std::array<Stream, kStreams> streams_{};
};

}  // namespace tessera::vfs
