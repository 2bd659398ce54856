// The compression wrapper: lz4 or zstd (level 1) with a 9-byte frame header
// (flag, original length). Objects that do not shrink are stored raw, so
// incompressible data costs only the header.
//
// Sizes: Head reads the frame header through the inner store (for an
// encrypted or checksummed inner store that means the whole object) to report
// the original size; List reports stored sizes, since learning the original
// sizes would mean one read per listed object.
#include <lz4.h>
#include <zstd.h>

#include "object/wrap_codec.h"
#include "object/wrappers.h"

namespace tessera::object {

namespace codec {

namespace {

constexpr int kZstdLevel = 1;

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Contexts are reused per thread: creating one costs more than a small block.
ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> ctx(ZSTD_createDCtx());
  return ctx.get();
}

std::string Frame(Compression flag, uint64_t original) {
  std::string out;
  out.push_back(static_cast<char>(flag));
  AppendU64(&out, original);
  return out;
}

std::string Raw(std::string_view data) {
  std::string out = Frame(Compression::kNone, data.size());
  out.append(data);
  return out;
}

// The framed, compressed form, or empty when `algorithm` cannot handle `data`.
std::string TryCompress(Compression algorithm, std::string_view data) {
  std::string out = Frame(algorithm, data.size());
  if (algorithm == Compression::kLz4) {
    if (data.size() > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) return {};
    const int bound = LZ4_compressBound(static_cast<int>(data.size()));
    out.resize(kCompressHeaderSize + static_cast<size_t>(bound));
    const int n = LZ4_compress_default(data.data(), out.data() + kCompressHeaderSize,
                                       static_cast<int>(data.size()), bound);
    if (n <= 0) return {};
    out.resize(kCompressHeaderSize + static_cast<size_t>(n));
  } else {
    const size_t bound = ZSTD_compressBound(data.size());
    out.resize(kCompressHeaderSize + bound);
    const size_t n = ZSTD_compressCCtx(ThreadCCtx(), out.data() + kCompressHeaderSize, bound,
                                       data.data(), data.size(), kZstdLevel);
    if (ZSTD_isError(n)) return {};
    out.resize(kCompressHeaderSize + n);
  }
  return out;
}

}  // namespace

std::string Compress(Compression algorithm, std::string_view data) {
  if (algorithm == Compression::kNone || data.empty() || data.size() > kMaxCompressedOriginal) {
    return Raw(data);
  }
  std::string out = TryCompress(algorithm, data);
  if (out.empty() || out.size() >= kCompressHeaderSize + data.size()) return Raw(data);
  return out;
}

Result<uint64_t> FramedLength(std::string_view key, std::string_view framed) {
  if (framed.size() < kCompressHeaderSize) {
    return Err(Code::kCorrupt, "object " + std::string(key) +
                                   " is corrupt: " + std::to_string(framed.size()) +
                                   " bytes, shorter than its compression header");
  }
  return ReadU64(framed.data() + 1);
}

Result<std::string> Decompress(std::string_view key, std::string_view framed) {
  ASSIGN_OR_RETURN(const uint64_t original, FramedLength(key, framed));
  auto corrupt = [&](const std::string& what) {
    return Err(Code::kCorrupt, "object " + std::string(key) + " does not decompress: " + what);
  };
  const auto flag = static_cast<Compression>(framed[0]);
  std::string_view body = framed.substr(kCompressHeaderSize);
  if (flag == Compression::kNone) {
    if (body.size() != original) {
      return corrupt("raw body is " + std::to_string(body.size()) + " bytes, header says " +
                     std::to_string(original));
    }
    return std::string(body);
  }
  if (flag != Compression::kLz4 && flag != Compression::kZstd) {
    return corrupt("unknown compression flag " + std::to_string(static_cast<int>(framed[0])));
  }
  // Bound the allocation a damaged header could ask for.
  if (original > kMaxCompressedOriginal) {
    return corrupt("header claims " + std::to_string(original) + " bytes");
  }
  std::string out(original, '\0');
  if (flag == Compression::kLz4) {
    // LZ4 cannot expand more than 255x; a larger claim is damage.
    if (original > body.size() * 255 + 16 || body.size() > static_cast<size_t>(INT32_MAX)) {
      return corrupt("header claims " + std::to_string(original) + " bytes from " +
                     std::to_string(body.size()));
    }
    const int n = LZ4_decompress_safe(body.data(), out.data(), static_cast<int>(body.size()),
                                      static_cast<int>(original));
    if (n < 0 || static_cast<uint64_t>(n) != original) return corrupt("bad lz4 stream");
  } else {
    const size_t n =
        ZSTD_decompressDCtx(ThreadDCtx(), out.data(), out.size(), body.data(), body.size());
    if (ZSTD_isError(n)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(n));
    if (n != original) {
      return corrupt("zstd produced " + std::to_string(n) + " bytes, header says " +
                     std::to_string(original));
    }
  }
  return out;
}

}  // namespace codec

namespace {

class CompressStore final : public ObjectStore {
 public:
  CompressStore(std::unique_ptr<ObjectStore> inner, codec::Compression algorithm)
      : inner_(std::move(inner)), algorithm_(algorithm) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }

  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, codec::Compress(algorithm_, data));
  }

  // Reads and decompresses the whole object, then cuts the range out.
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    ASSIGN_OR_RETURN(std::string framed, inner_->Get(key));
    ASSIGN_OR_RETURN(std::string data, codec::Decompress(key, framed));
    return codec::CutRange(std::move(data), offset, length);
  }

  // The original size, from the frame header (a second read; see the file comment).
  Result<ObjectInfo> Head(std::string_view key) override {
    ASSIGN_OR_RETURN(ObjectInfo info, inner_->Head(key));
    ASSIGN_OR_RETURN(std::string header, inner_->Get(key, 0, codec::kCompressHeaderSize));
    ASSIGN_OR_RETURN(info.size, codec::FramedLength(key, header));
    return info;
  }

  Status Delete(std::string_view key) override { return inner_->Delete(key); }

  // Stored (compressed + header) sizes, not original sizes.
  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    return inner_->List(prefix, start_after, limit);
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
  const codec::Compression algorithm_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> NewCompressStore(std::unique_ptr<ObjectStore> inner,
                                                      const std::string& algorithm) {
  codec::Compression c;
  if (algorithm == "lz4") {
    c = codec::Compression::kLz4;
  } else if (algorithm == "zstd") {
    c = codec::Compression::kZstd;
  } else {
    return Err(Code::kInvalid,
               "unknown compression algorithm '" + algorithm + "' (expected lz4 or zstd)");
  }
  return std::unique_ptr<ObjectStore>(std::make_unique<CompressStore>(std::move(inner), c));
}

}  // namespace tessera::object
