// What a reader tells the layers below it, on its own thread, about the
// access a block fetch serves. The disk cache writes a block fetched for a
// sequential stream around the page cache (direct I/O: the stream will not
// come back for it soon, and the copy costs CPU), but one fetched for a
// random read through it, where the next random read of that block finds
// its pieces in memory.
#pragma once

namespace tessera {

namespace access_detail {
inline thread_local bool random = false;
}  // namespace access_detail

// Whether this thread is fetching for a random read.
inline bool RandomAccess() { return access_detail::random; }

// Marks the fetches of this thread, for its lifetime, as serving a random
// read when `random` (nested scopes keep an outer mark).
class RandomAccessScope {
 public:
  explicit RandomAccessScope(bool random) : saved_(access_detail::random) {
    access_detail::random = random || saved_;
  }
  ~RandomAccessScope() { access_detail::random = saved_; }
  RandomAccessScope(const RandomAccessScope&) = delete;
  RandomAccessScope& operator=(const RandomAccessScope&) = delete;

 private:
  const bool saved_;
};

}  // namespace tessera
