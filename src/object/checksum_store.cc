// The checksum wrapper: every object carries a 22-byte header with its
// payload length and xxHash3-64, verified on every Get. Also holds the
// big-endian and range helpers the other wrappers share (wrap_codec.h).

#include <cstring>

#include "common/logging.h"
#include "common/xxhash.h"
#include "object/wrap_codec.h"
#include "object/wrappers.h"

namespace tessera::object {

namespace codec {

namespace {
constexpr char kMagic[4] = {'T', 'S', 'R', '1'};
constexpr uint8_t kVersion = 1;
constexpr uint8_t kAlgorithmXxh3 = 1;
}  // namespace

void AppendU64(std::string* out, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, sizeof(buf));
}

uint64_t ReadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string CutRange(std::string data, uint64_t offset, int64_t length) {
  if (offset == 0 && (length < 0 || static_cast<uint64_t>(length) >= data.size())) return data;
  return CutRange(std::string_view(data), offset, length);
}

std::string CutRange(std::string_view data, uint64_t offset, int64_t length) {
  if (offset >= data.size()) return std::string();
  size_t n = data.size() - offset;
  if (length >= 0 && static_cast<uint64_t>(length) < n) n = static_cast<size_t>(length);
  return std::string(data.substr(offset, n));
}

std::string AddChecksum(std::string_view payload) {
  std::string out;
  out.reserve(kChecksumHeaderSize + payload.size());
  out.append(kMagic, sizeof(kMagic));
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(kAlgorithmXxh3));
  AppendU64(&out, payload.size());
  AppendU64(&out, XXH3_64bits(payload.data(), payload.size()));
  out.append(payload);
  return out;
}

Result<std::string_view> VerifyChecksum(std::string_view key, std::string_view object) {
  auto corrupt = [&](const std::string& what) {
    return Err(Code::kCorrupt, "object " + std::string(key) + " is corrupt: " + what);
  };
  if (object.size() < kChecksumHeaderSize) {
    return corrupt("only " + std::to_string(object.size()) + " bytes, shorter than its " +
                   std::to_string(kChecksumHeaderSize) + "-byte header");
  }
  if (std::memcmp(object.data(), kMagic, sizeof(kMagic)) != 0) return corrupt("bad magic");
  const auto version = static_cast<uint8_t>(object[4]);
  if (version != kVersion) return corrupt("unknown header version " + std::to_string(version));
  const auto algorithm = static_cast<uint8_t>(object[5]);
  if (algorithm != kAlgorithmXxh3) {
    return corrupt("unknown checksum algorithm " + std::to_string(algorithm));
  }
  const uint64_t length = ReadU64(object.data() + 6);
  const uint64_t expected = ReadU64(object.data() + 14);
  std::string_view payload = object.substr(kChecksumHeaderSize);
  if (payload.size() != length) {
    return corrupt("payload is " + std::to_string(payload.size()) + " bytes, header says " +
                   std::to_string(length));
  }
  if (XXH3_64bits(payload.data(), payload.size()) != expected) {
    return corrupt("checksum mismatch");
  }
  return payload;
}

}  // namespace codec

namespace {

uint64_t PayloadSize(uint64_t stored) {
  return stored < codec::kChecksumHeaderSize ? 0 : stored - codec::kChecksumHeaderSize;
}

class ChecksumStore final : public ObjectStore {
 public:
  explicit ChecksumStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }

  Status Put(std::string_view key, std::string_view data) override {
    return inner_->Put(key, codec::AddChecksum(data));
  }

  // Always reads the whole object: the checksum covers all of it.
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    ASSIGN_OR_RETURN(std::string object, inner_->Get(key));
    auto payload = codec::VerifyChecksum(key, object);
    if (!payload) {
      TLOG(kError) << "object " << key << " in " << inner_->Describe()
                   << " failed verification: " << payload.error().message();
      return Err(payload.error());
    }
    if (offset == 0 && (length < 0 || static_cast<uint64_t>(length) >= payload->size())) {
      // The whole payload: drop the header in place rather than copy a block.
      object.erase(0, codec::kChecksumHeaderSize);
      return object;
    }
    return codec::CutRange(*payload, offset, length);
  }

  // Sizes are payload sizes; an object shorter than the header reports 0.
  Result<ObjectInfo> Head(std::string_view key) override {
    ASSIGN_OR_RETURN(ObjectInfo info, inner_->Head(key));
    info.size = PayloadSize(info.size);
    return info;
  }

  Status Delete(std::string_view key) override { return inner_->Delete(key); }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    ASSIGN_OR_RETURN(ListPage page, inner_->List(prefix, start_after, limit));
    for (auto& info : page.objects) info.size = PayloadSize(info.size);
    return page;
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewChecksumStore(std::unique_ptr<ObjectStore> inner) {
  return std::make_unique<ChecksumStore>(std::move(inner));
}

}  // namespace tessera::object
