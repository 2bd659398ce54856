// Fixed-width integer encoding for keys and records.
//
// Big-endian where the bytes must sort like the numbers (chunk indexes, slice
// ids in keys); little-endian where spreading matters more than order (the
// inode inside keys, see docs/formats.md). All functions are pure.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tessera {

inline void PutBE64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutBE32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutLE64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutLE32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void PutBE16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
inline void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }

inline uint64_t GetBE64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint32_t GetBE32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint16_t GetBE16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint64_t GetLE64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint32_t GetLE32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A cursor over a byte string that reads fixed-width fields; `ok()` turns
// false (and reads return 0) once a read runs past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view data) : data_(data) {}
  uint64_t BE64() { return Take(8) ? GetBE64(data_.data() + pos_ - 8) : 0; }
  uint32_t BE32() { return Take(4) ? GetBE32(data_.data() + pos_ - 4) : 0; }
  uint16_t BE16() { return Take(2) ? GetBE16(data_.data() + pos_ - 2) : 0; }
  uint64_t LE64() { return Take(8) ? GetLE64(data_.data() + pos_ - 8) : 0; }
  uint8_t U8() { return Take(1) ? static_cast<uint8_t>(data_[pos_ - 1]) : 0; }
  std::string_view Rest() const { return data_.substr(pos_ > data_.size() ? data_.size() : pos_); }
  size_t remaining() const { return pos_ > data_.size() ? 0 : data_.size() - pos_; }
  bool ok() const { return ok_; }

 private:
  bool Take(size_t n) {
    if (!ok_ || data_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tessera
