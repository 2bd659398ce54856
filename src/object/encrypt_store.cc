// The encryption wrapper: AES-256-GCM under the volume's data key with a
// random 12-byte nonce per object and the object key as associated data, so
// neither a damaged object nor one copied to another name decrypts.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "common/logging.h"
#include "object/wrap_codec.h"
#include "object/wrappers.h"

namespace tessera::object {

namespace codec {

namespace {

constexpr uint8_t kSealVersion = 1;
// EVP takes int lengths; larger inputs go through in pieces.
constexpr size_t kMaxUpdate = size_t{1} << 30;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

const unsigned char* U(const char* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* U(char* p) { return reinterpret_cast<unsigned char*>(p); }

// Feeds `in` through the cipher into `out` (which has room for all of it).
bool Update(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view in, char* out) {
  while (!in.empty()) {
    const size_t n = std::min(in.size(), kMaxUpdate);
    int len = 0;
    const int ok = encrypt
                       ? EVP_EncryptUpdate(ctx, U(out), &len, U(in.data()), static_cast<int>(n))
                       : EVP_DecryptUpdate(ctx, U(out), &len, U(in.data()), static_cast<int>(n));
    if (ok != 1 || static_cast<size_t>(len) != n) return false;  // GCM is a stream mode
    in.remove_prefix(n);
    out += n;
  }
  return true;
}

bool Aad(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view aad) {
  if (aad.empty()) return true;
  if (aad.size() > static_cast<size_t>(INT_MAX)) return false;
  const int n = static_cast<int>(aad.size());
  int len = 0;
  return (encrypt ? EVP_EncryptUpdate(ctx, nullptr, &len, U(aad.data()), n)
                  : EVP_DecryptUpdate(ctx, nullptr, &len, U(aad.data()), n)) == 1;
}

Status KeySizeError(size_t size) {
  return Status(Code::kInvalid, "the data key must be " + std::to_string(kDataKeySize) +
                                    " bytes, not " + std::to_string(size));
}

}  // namespace

Result<std::string> Seal(std::string_view data_key, std::string_view aad, std::string_view plain) {
  if (data_key.size() != kDataKeySize) return Err(KeySizeError(data_key.size()));
  std::string out(kSealOverhead + plain.size(), '\0');
  out[0] = static_cast<char>(kSealVersion);
  char* nonce = out.data() + 1;
  if (RAND_bytes(U(nonce), kNonceSize) != 1) {
    return Err(Code::kIO, "cannot draw a random nonce from OpenSSL");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  char* body = nonce + kNonceSize;
  char* tag = body + plain.size();
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, U(data_key.data()), U(nonce)) != 1 ||
      !Aad(ctx.get(), true, aad) || !Update(ctx.get(), true, plain, body)) {
    return Err(Code::kIO, "AES-256-GCM encryption of object " + std::string(aad) + " failed");
  }
  int len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), U(tag), &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag) != 1) {
    return Err(Code::kIO, "AES-256-GCM encryption of object " + std::string(aad) + " failed");
  }
  return out;
}

Result<std::string> Open(std::string_view data_key, std::string_view aad, std::string_view sealed) {
  if (data_key.size() != kDataKeySize) return Err(KeySizeError(data_key.size()));
  const std::string name(aad);
  if (sealed.size() < kSealOverhead) {
    return Err(Code::kCorrupt, "object " + name + " is corrupt: " + std::to_string(sealed.size()) +
                                   " bytes, shorter than its encryption envelope");
  }
  const auto version = static_cast<uint8_t>(sealed[0]);
  if (version != kSealVersion) {
    return Err(Code::kCorrupt,
               "object " + name + " has unknown encryption version " + std::to_string(version));
  }
  const char* nonce = sealed.data() + 1;
  std::string_view body = sealed.substr(1 + kNonceSize, sealed.size() - kSealOverhead);
  std::string tag(sealed.substr(sealed.size() - kTagSize));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, U(data_key.data()), U(nonce)) != 1 ||
      !Aad(ctx.get(), false, aad) || !Update(ctx.get(), false, body, out.data()) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) {
    return Err(Code::kIO, "AES-256-GCM decryption of object " + name + " failed");
  }
  int len = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), U(tag.data()), &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Err(Code::kCorrupt, "object " + name + " failed authentication (wrong key or damaged)");
  }
  return out;
}

}  // namespace codec

namespace {

class EncryptStore final : public ObjectStore {
 public:
  EncryptStore(std::unique_ptr<ObjectStore> inner, std::string data_key)
      : inner_(std::move(inner)), key_(std::move(data_key)) {}
  ~EncryptStore() override { OPENSSL_cleanse(key_.data(), key_.size()); }

  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }

  Status Put(std::string_view key, std::string_view data) override {
    ASSIGN_OR_RETURN(std::string sealed, codec::Seal(key_, key, data));
    return inner_->Put(key, sealed);
  }

  // Reads and authenticates the whole object, then cuts the range out.
  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    ASSIGN_OR_RETURN(std::string sealed, inner_->Get(key));
    auto plain = codec::Open(key_, key, sealed);
    if (!plain) {
      TLOG(kError) << "object " << key << " in " << inner_->Describe()
                   << " cannot be decrypted: " << plain.error().message();
      return Err(plain.error());
    }
    return codec::CutRange(std::move(*plain), offset, length);
  }

  // GCM keeps lengths, so plaintext sizes are exact without reading.
  Result<ObjectInfo> Head(std::string_view key) override {
    ASSIGN_OR_RETURN(ObjectInfo info, inner_->Head(key));
    info.size = PlainSize(info.size);
    return info;
  }

  Status Delete(std::string_view key) override { return inner_->Delete(key); }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    ASSIGN_OR_RETURN(ListPage page, inner_->List(prefix, start_after, limit));
    for (auto& info : page.objects) info.size = PlainSize(info.size);
    return page;
  }

 private:
  static uint64_t PlainSize(uint64_t stored) {
    return stored < codec::kSealOverhead ? 0 : stored - codec::kSealOverhead;
  }

  std::unique_ptr<ObjectStore> inner_;
  std::string key_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> NewEncryptStore(std::unique_ptr<ObjectStore> inner,
                                                     std::string data_key) {
  if (data_key.size() != codec::kDataKeySize) {
    const size_t size = data_key.size();
    OPENSSL_cleanse(data_key.data(), data_key.size());
    return Err(Code::kInvalid, "the data key must be " + std::to_string(codec::kDataKeySize) +
                                   " bytes, not " + std::to_string(size));
  }
  return std::unique_ptr<ObjectStore>(
      std::make_unique<EncryptStore>(std::move(inner), std::move(data_key)));
}

}  // namespace tessera::object
