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
  if (buffer_budget_ != nullptr) buffer_budget_->ReleaseWrite(buffer_.size());
}

// The block's bytes stay charged to the buffer until its Put ends.
Status SliceWriter::Upload(std::string key, std::string data) {
  Buffer* budget = buffer_budget_;
  const size_t n = data.size();
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
  uploads_->Submit([f, budget, &store = store_, key = std::move(key), data = std::move(data)] {
    Status st = store.Put(key, data);
    if (budget != nullptr) budget->EndUpload(data.size());
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
  return off >= uint64_t{pos_} + uploaded_ && off <= uint64_t{pos_} + length() &&
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
  if (at + data.size() > buffer_.size()) {
    if (buffer_budget_ != nullptr) buffer_budget_->AcquireWrite(at + data.size() - buffer_.size());
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
  while (buffer_.size() - done >= bs) {
    uint32_t index = uploaded_ / bs;
    st = Upload(BlockKey(layout_, id_, index, bs), buffer_.substr(done, bs));
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

Result<Slice> SliceWriter::Finish() {
  RETURN_IF_ERROR(UploadFullBlocks());
  if (!buffer_.empty()) {
    uint32_t index = uploaded_ / layout_.block_size;
    uint32_t len = static_cast<uint32_t>(buffer_.size());
    RETURN_IF_ERROR(Upload(BlockKey(layout_, id_, index, len), std::move(buffer_)));
    uploaded_ += len;
    buffer_.clear();
    buffer_.shrink_to_fit();
  }
  // The record may be committed only once every block is stored.
  RETURN_IF_ERROR(WaitUploads());
  uint32_t size = length();
  return Slice{.pos = pos_, .id = id_, .size = size, .off = 0, .len = size};
}

}  // namespace tessera::chunk
