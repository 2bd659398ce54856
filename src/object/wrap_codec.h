// The byte transformations behind the checksum, compress and encrypt
// wrappers, as plain functions: the stores call them, and tests and
// benchmarks call them without a store in the way. Internal to src/object.
//
// Formats (all integers big-endian):
//   checksum: "TSR1" | version u8 (1) | algorithm u8 (1 = xxh3-64)
//             | payload length u64 | checksum u64 | payload
//   compress: flag u8 (0 raw, 1 lz4, 2 zstd) | original length u64 | data
//   encrypt:  version u8 (1) | nonce [12] | ciphertext | tag [16]
//
// Every function is safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tessera::object::codec {

inline constexpr size_t kChecksumHeaderSize = 4 + 1 + 1 + 8 + 8;
inline constexpr size_t kCompressHeaderSize = 1 + 8;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kSealOverhead = 1 + kNonceSize + kTagSize;
inline constexpr size_t kDataKeySize = 32;
// Compressed frames never claim more than this; larger objects are stored raw.
inline constexpr uint64_t kMaxCompressedOriginal = uint64_t{1} << 30;

void AppendU64(std::string* out, uint64_t v);
uint64_t ReadU64(const char* p);

// Bytes [offset, offset+length) of `data` (length < 0: to the end), as the
// ObjectStore contract defines a ranged Get. Moves when the range is whole.
std::string CutRange(std::string data, uint64_t offset, int64_t length);
// As above, copying out of a view.
std::string CutRange(std::string_view data, uint64_t offset, int64_t length);

// Header + payload.
std::string AddChecksum(std::string_view payload);
// The payload of a checksummed object, or kCorrupt naming `key` and what was wrong.
Result<std::string_view> VerifyChecksum(std::string_view key, std::string_view object);

enum class Compression : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };
// The framed form; falls back to kNone when the algorithm does not shrink `data`.
std::string Compress(Compression algorithm, std::string_view data);
// kCorrupt naming `key` for a bad flag, length or stream.
Result<std::string> Decompress(std::string_view key, std::string_view framed);
// The original length recorded in a frame's header (kCorrupt if too short).
Result<uint64_t> FramedLength(std::string_view key, std::string_view framed);

// AES-256-GCM with a fresh random nonce; `aad` is authenticated, not stored.
// `data_key` must be kDataKeySize bytes.
Result<std::string> Seal(std::string_view data_key, std::string_view aad, std::string_view plain);
// kCorrupt naming `aad` (the object key) when the tag does not verify.
Result<std::string> Open(std::string_view data_key, std::string_view aad, std::string_view sealed);

}  // namespace tessera::object::codec
