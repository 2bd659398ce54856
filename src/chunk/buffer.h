// Buffer: the one memory budget (--buffer-size) of a mount's block data.
//
// Two kinds of bytes are charged to it: bytes written and not yet stored
// (a SliceWriter's buffered tail and the blocks it is uploading), and whole
// blocks kept in memory for readers (the BlockCache). Writers come first: the
// block cache may hold only what the writers leave free, and shrinks when a
// writer needs room. A writer that would take the written bytes past the
// limit waits until uploads in flight free some — it never fails; when
// nothing is uploading there is nothing to wait for, so it proceeds (partly
// filled blocks of many files can exceed the limit by at most one block per
// file being written).
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace tessera::chunk {

class Buffer {
 public:
  explicit Buffer(size_t limit_bytes);

  size_t limit() const { return limit_; }
  // Written bytes held now (buffered and uploading).
  size_t written() const;

  // Charges `n` newly buffered bytes; may wait for uploads (see above).
  void AcquireWrite(size_t n);
  // `n` buffered bytes were handed to an upload (still held until it ends).
  void StartUpload(size_t n);
  // An upload of `n` bytes ended: they are freed.
  void EndUpload(size_t n);
  // `n` buffered bytes were dropped without an upload (a failed writer).
  void ReleaseWrite(size_t n);

  // Blocks being fetched from the store (`n` bytes each) are charged too:
  // the block cache makes room for them. At most half the buffer is being
  // fetched at once: StartFetch waits for room (never when nothing is).
  void StartFetch(size_t n);
  void EndFetch(size_t n);

  // What readers may keep in memory now: the limit minus the written bytes
  // and the fetches in flight, but never less than a quarter of it (readers
  // must make progress too).
  size_t ReadCapacity() const;
  // Called (outside the lock) when writers took room, with the new read
  // capacity: the block cache evicts down to it.
  void SetShrinkHook(std::function<void(size_t)> hook);

 private:
  void Publish();  // updates the metrics gauges
  size_t ReadCapacityLocked() const;

  const size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t written_ = 0;    // guarded by mu_
  size_t uploading_ = 0;  // guarded by mu_: part of written_
  size_t fetching_ = 0;   // guarded by mu_
  std::function<void(size_t)> shrink_;  // set once, before use
};

}  // namespace tessera::chunk
