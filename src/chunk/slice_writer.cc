// SliceWriter: one write session of one chunk, buffered and uploaded block by
// block.
//
// The slice's bytes [uploaded_, length()) live in buffer_. A write may land
// anywhere from the first unuploaded byte to the current end (rewriting or
// extending). A block is uploaded as soon as it is full; from then on its
// bytes are no longer writable through this slice (CanWrite says no, and the
// caller starts a new slice, which wins over this one where they overlap).
// Only the last block of a slice may be shorter than the block size.
// With an upload pool, blocks upload in the background (a bounded number per
// slice) and Finish waits for all of them before it returns the record.
#include <algorithm>
#include <cstring>
#include <utility>

#include "chunk/buffer.h"
#include "chunk/chunk.h"

namespace tessera::chunk {

SliceWriter::SliceWriter(object::ObjectStore& store, Layout layout, uint64_t id, uint32_t pos,
                         ThreadPool* uploads, int max_inflight, Buffer* buffer)
    : store_(store),
      layout_(std::move(layout)),
      id_(id),
      pos_(pos),
      uploads_(uploads),
      max_inflight_(std::max(1, max_inflight)),
      buffer_budget_(buffer) {
  CHECK(layout_.block_size > 0);
}

SliceWriter::~SliceWriter() {
  (void)WaitUploads();
  Release(charged_);
}

void SliceWriter::Charge(size_t n) {
  if (buffer_budget_ != nullptr && n > 0) buffer_budget_->AcquireWrite(n);
}

void SliceWriter::Release(size_t n) {
  if (buffer_budget_ != nullptr && n > 0) buffer_budget_->ReleaseWrite(n);
}

// The `n` bytes charged for the block stay charged until its Put ends.
Status SliceWriter::Upload(std::string key, std::string data, size_t n) {
  Buffer* budget = buffer_budget_;
  if (budget != nullptr) budget->StartUpload(n);
  if (uploads_ == nullptr) {
    Status st = store_.Put(key, data);
    if (budget != nullptr) budget->EndUpload(n);
    return st;
  }
  std::shared_ptr<Inflight> f = inflight_;
  {
    std::unique_lock lock(f->mu);
    f->cv.wait(lock, [&] { return f->running < max_inflight_; });
    if (!f->first_error.ok()) {
      if (budget != nullptr) budget->EndUpload(n);
      return f->first_error;
    }
    f->running++;
  }
  uploads_->Submit([f, budget, n, &store = store_, key = std::move(key), data = std::move(data)] {
    Status st = store.Put(key, data);
    if (budget != nullptr) budget->EndUpload(n);
    std::lock_guard lock(f->mu);
    if (!st.ok() && f->first_error.ok()) f->first_error = st;
    f->running--;
    f->cv.notify_all();
  });
  return {};
}

Status SliceWriter::WaitUploads() {
  std::unique_lock lock(inflight_->mu);
  inflight_->cv.wait(lock, [&] { return inflight_->running == 0; });
  return inflight_->first_error;
}

bool SliceWriter::CanWrite(uint32_t chunk_off, size_t n) const {
  uint64_t off = chunk_off;
  return !sealed_ && off >= uint64_t{pos_} + uploaded_ && off <= uint64_t{pos_} + length() &&
         off + n <= kChunkSize;
}

Status SliceWriter::Write(uint32_t chunk_off, std::string_view data) {
  if (!CanWrite(chunk_off, data.size())) {
    return Status::Invalid("write of " + std::to_string(data.size()) + " bytes at chunk offset " +
                           std::to_string(chunk_off) + " does not fit slice " +
                           std::to_string(id_) + " (pos " + std::to_string(pos_) + ", uploaded " +
                           std::to_string(uploaded_) + ", length " + std::to_string(length()) +
                           ")");
  }
  size_t at = chunk_off - pos_ - uploaded_;
  // The buffer is charged by its capacity, before it is allocated. A slice
  // that already filled a block is a sequential writer: its next buffer gets
  // a whole block at once (doubling would copy it several times and leave it
  // twice the block size); a fresh slice starts small, so that many small
  // files being written do not each hold a block.
  const size_t want = at + data.size();
  if (want > buffer_.capacity()) {
    const size_t bs = layout_.block_size;
    size_t cap = uploaded_ > 0 ? bs : std::max<size_t>(4096, buffer_.capacity() * 2);
    cap = std::max(want, std::min(cap, bs));
    if (cap > charged_) {
      Charge(cap - charged_);
      charged_ = cap;
    }
    buffer_.reserve(cap);
  }
  if (at + data.size() > buffer_.size()) {
    buffer_.resize(at + data.size());
  }
  std::memcpy(buffer_.data() + at, data.data(), data.size());
  return UploadFullBlocks();
}

Status SliceWriter::UploadFullBlocks() {
  // uploaded_ is always a multiple of the block size, so the buffer starts a block.
  const uint32_t bs = layout_.block_size;
  size_t done = 0;
  Status st;
  if (buffer_.size() == bs) {
    // Exactly one full block (the common case of aligned sequential writes):
    // hand the buffer itself to the upload instead of copying it.
    std::string block = std::move(buffer_);
    buffer_ = std::string();
    size_t charge = std::exchange(charged_, 0);
    st = Upload(BlockKey(layout_, id_, uploaded_ / bs, bs), std::move(block), charge);
    if (st.ok()) uploaded_ += bs;
    return st;
  }
  while (buffer_.size() - done >= bs) {
    uint32_t index = uploaded_ / bs;
    Charge(bs);  // the copy
    st = Upload(BlockKey(layout_, id_, index, bs), buffer_.substr(done, bs), bs);
    if (!st.ok()) break;
    done += bs;
    uploaded_ += bs;
  }
  if (done > 0) buffer_.erase(0, done);
  return st;
}

size_t SliceWriter::ReadBuffered(uint32_t chunk_off, size_t n, char* out) const {
  uint64_t start = uint64_t{pos_} + uploaded_;
  uint64_t end = uint64_t{pos_} + length();
  if (chunk_off < start || chunk_off >= end) return 0;
  size_t m = static_cast<size_t>(std::min<uint64_t>(n, end - chunk_off));
  std::memcpy(out, buffer_.data() + (chunk_off - start), m);
  return m;
}

Status SliceWriter::Seal() {
  if (sealed_) return seal_status_;
  sealed_ = true;
  seal_status_ = UploadFullBlocks();
  if (seal_status_.ok() && !buffer_.empty()) {
    uint32_t index = uploaded_ / layout_.block_size;
    uint32_t len = static_cast<uint32_t>(buffer_.size());
    size_t charge = std::exchange(charged_, 0);
    seal_status_ = Upload(BlockKey(layout_, id_, index, len), std::move(buffer_), charge);
    if (seal_status_.ok()) uploaded_ += len;
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  return seal_status_;
}

Result<Slice> SliceWriter::Finish() {
  RETURN_IF_ERROR(Seal());
  // The record may be committed only once every block is stored.
  RETURN_IF_ERROR(WaitUploads());
  uint32_t size = length();
  return Slice{.pos = pos_, .id = id_, .size = size, .off = 0, .len = size};
}

}  // namespace tessera::chunk
