// Data key wrapping: a volume's random AES key is stored in its settings
// encrypted with RSA-OAEP (SHA-256) under the user's RSA key, whose PEM text
// (passphrase-protected, the passphrase kept out of the settings) is kept
// beside it.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <climits>
#include <cstring>

#include "object/wrap_codec.h"
#include "object/wrappers.h"

namespace tessera::object {
namespace {

constexpr int kMinRsaBits = 2048;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

// The last OpenSSL error as text, clearing the thread's error queue.
std::string OpenSslError() {
  const unsigned long e = ERR_peek_last_error();
  std::string text;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    text = buf;
  }
  ERR_clear_error();
  return text.empty() ? "unknown OpenSSL error" : text;
}

// Hands the passphrase to OpenSSL (never prompting on a terminal) and notes
// whether the PEM asked for one.
struct Passphrase {
  const std::string* text;
  bool asked = false;
};

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* arg) {
  auto* p = static_cast<Passphrase*>(arg);
  p->asked = true;
  if (p->text->empty() || p->text->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, p->text->data(), p->text->size());
  return static_cast<int>(p->text->size());
}

Result<Pkey> LoadPrivateKey(const std::string& pem_text, const std::string& passphrase) {
  if (pem_text.size() > static_cast<size_t>(INT_MAX)) {
    return Err(Code::kInvalid, "the private key PEM is too large");
  }
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(pem_text.data(), static_cast<int>(pem_text.size())));
  if (!bio) return Err(Code::kIO, "cannot read the private key: " + OpenSslError());
  Passphrase pass{&passphrase};
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &pass));
  if (!key) {
    const std::string detail = OpenSslError();
    if (pass.asked) {
      return Err(Code::kAccess,
                 passphrase.empty()
                     ? "the RSA private key is encrypted: set its passphrase"
                     : "cannot decrypt the RSA private key: wrong passphrase? (" + detail + ")");
    }
    return Err(Code::kInvalid, "not a PEM private key (" + detail + ")");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    return Err(Code::kInvalid, std::string("the private key is ") +
                                   OBJ_nid2sn(EVP_PKEY_get_base_id(key.get())) + ", not RSA");
  }
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
    return Err(Code::kInvalid, "the RSA key has " + std::to_string(EVP_PKEY_get_bits(key.get())) +
                                   " bits; at least " + std::to_string(kMinRsaBits) +
                                   " are required");
  }
  return key;
}

// A context for RSA-OAEP with SHA-256 for both the label hash and MGF1.
Result<PkeyCtx> OaepContext(EVP_PKEY* key, bool encrypt) {
  PkeyCtx ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (!ctx ||
      (encrypt ? EVP_PKEY_encrypt_init(ctx.get()) : EVP_PKEY_decrypt_init(ctx.get())) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) != 1) {
    return Err(Code::kIO, "cannot set up RSA-OAEP: " + OpenSslError());
  }
  return ctx;
}

std::string Base64Encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(const std::string& text) {
  auto bad = [] { return Err(Code::kInvalid, "the wrapped data key is not valid base64"); };
  if (text.empty() || text.size() % 4 != 0 || text.size() > static_cast<size_t>(INT_MAX)) {
    return bad();
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return bad();
  // DecodeBlock counts the bytes that padding stands for; drop them.
  size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with("=")) {
    padding = 1;
  }
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

}  // namespace

Result<WrappedKey> NewWrappedDataKey(const std::string& pem_text, const std::string& passphrase) {
  ASSIGN_OR_RETURN(Pkey key, LoadPrivateKey(pem_text, passphrase));
  std::string data_key(codec::kDataKeySize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(data_key.data()), codec::kDataKeySize) != 1) {
    return Err(Code::kIO, "cannot draw a random data key: " + OpenSslError());
  }
  ASSIGN_OR_RETURN(PkeyCtx ctx, OaepContext(key.get(), true));
  const auto* in = reinterpret_cast<const unsigned char*>(data_key.data());
  size_t len = 0;
  std::string wrapped;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, data_key.size()) == 1) {
    wrapped.resize(len);
    if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(wrapped.data()), &len, in,
                         data_key.size()) == 1) {
      wrapped.resize(len);
    } else {
      wrapped.clear();
    }
  }
  OPENSSL_cleanse(data_key.data(), data_key.size());
  if (wrapped.empty()) return Err(Code::kIO, "RSA-OAEP wrapping failed: " + OpenSslError());
  return WrappedKey{Base64Encode(wrapped), pem_text};
}

Result<std::string> UnwrapDataKey(const std::string& pem_text, const std::string& passphrase,
                                  const std::string& wrapped_base64) {
  ASSIGN_OR_RETURN(std::string wrapped, Base64Decode(wrapped_base64));
  ASSIGN_OR_RETURN(Pkey key, LoadPrivateKey(pem_text, passphrase));
  ASSIGN_OR_RETURN(PkeyCtx ctx, OaepContext(key.get(), false));
  const auto* in = reinterpret_cast<const unsigned char*>(wrapped.data());
  size_t len = 0;
  std::string data_key;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, in, wrapped.size()) == 1) {
    data_key.resize(len);
    if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(data_key.data()), &len, in,
                         wrapped.size()) == 1) {
      data_key.resize(len);
    } else {
      data_key.clear();
    }
  }
  if (data_key.size() != codec::kDataKeySize) {
    OPENSSL_cleanse(data_key.data(), data_key.size());
    ERR_clear_error();
    return Err(Code::kAccess,
               "cannot unwrap the data key: it was wrapped with a different RSA key");
  }
  return data_key;
}

namespace {
std::string SecretKeyFor(std::string_view salt) {
  std::string key(codec::kDataKeySize, '\0');
  std::string input = "tessera sealed secret:" + std::string(salt);
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         reinterpret_cast<unsigned char*>(key.data()));
  return key;
}
}  // namespace

Result<std::string> SealSecret(std::string_view salt, std::string_view secret) {
  ASSIGN_OR_RETURN(std::string sealed, codec::Seal(SecretKeyFor(salt), "secret", secret));
  return Base64Encode(sealed);
}

Result<std::string> UnsealSecret(std::string_view salt, std::string_view sealed_base64) {
  ASSIGN_OR_RETURN(std::string sealed, Base64Decode(std::string(sealed_base64)));
  auto plain = codec::Open(SecretKeyFor(salt), "secret", sealed);
  if (!plain.has_value()) return Err(Code::kCorrupt, "the stored secret key cannot be unsealed");
  return plain;
}

}  // namespace tessera::object
