#include "chunk/buffer.h"

#include <algorithm>

#include "common/metrics.h"

namespace tessera::chunk {

Buffer::Buffer(size_t limit_bytes) : limit_(limit_bytes) {
  static auto& limit = metrics::GetGauge("tessera_buffer_limit_bytes", "--buffer-size");
  limit.Set(static_cast<int64_t>(limit_));
}

size_t Buffer::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

void Buffer::AcquireWrite(size_t n) {
  size_t capacity;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return written_ + n <= limit_ || uploading_ == 0; });
    written_ += n;
    capacity = ReadCapacityLocked();
  }
  Publish();
  if (shrink_) shrink_(capacity);
}

void Buffer::StartUpload(size_t n) {
  std::lock_guard lock(mu_);
  uploading_ += n;
}

void Buffer::EndUpload(size_t n) {
  {
    std::lock_guard lock(mu_);
    uploading_ -= std::min(uploading_, n);
    written_ -= std::min(written_, n);
  }
  cv_.notify_all();
  Publish();
}

void Buffer::ReleaseWrite(size_t n) {
  {
    std::lock_guard lock(mu_);
    written_ -= std::min(written_, n);
  }
  cv_.notify_all();
  Publish();
}

size_t Buffer::ReadCapacity() const {
  std::lock_guard lock(mu_);
  return ReadCapacityLocked();
}

size_t Buffer::ReadCapacityLocked() const {
  size_t used = written_ + fetching_;
  return std::max(limit_ / 4, limit_ > used ? limit_ - used : 0);
}

void Buffer::StartFetch(size_t n) {
  std::unique_lock lock(mu_);
  // Fetches in flight take at most half the buffer (one at least, always).
  cv_.wait(lock, [&] { return fetching_ == 0 || fetching_ + n <= limit_ / 2; });
  fetching_ += n;
}

void Buffer::EndFetch(size_t n) {
  {
    std::lock_guard lock(mu_);
    fetching_ -= std::min(fetching_, n);
  }
  cv_.notify_all();
}

void Buffer::SetShrinkHook(std::function<void(size_t)> hook) { shrink_ = std::move(hook); }

void Buffer::Publish() {
  static auto& written = metrics::GetGauge("tessera_buffer_written_bytes",
                                           "bytes written and not yet stored");
  written.Set(static_cast<int64_t>(this->written()));
}

}  // namespace tessera::chunk
