// Store configuration of a formatted volume.
#include "cli/volume.h"

#include <cstdlib>

#include "kv/engine.h"
#include "object/wrappers.h"

namespace tessera::cli {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Result<OpenedMeta> OpenFormattedMeta(const std::string& meta_url) {
  ASSIGN_OR_RETURN(auto engine, kv::OpenEngine(meta_url));
  OpenedMeta opened{meta::NewMeta(std::move(engine)), {}};
  auto settings = opened.meta->Load();
  if (!settings.has_value()) {
    if (settings.error().code() != Code::kNotFound) return Err(settings.error());
    return Err(Code::kNotFound, meta_url + " is not formatted; run 'tessera format " + meta_url +
                                    " NAME' first");
  }
  opened.settings = std::move(*settings);
  return opened;
}

Result<object::StoreConfig> StoreConfigFor(const meta::Settings& s) {
  object::StoreConfig c;
  c.storage = s.storage;
  c.bucket = s.bucket;
  c.compression = s.compression;
  c.checksum = s.checksum == "xxh3";
  if (s.checksum != "none" && s.checksum != "xxh3") {
    return Err(Code::kNotSupported, "volume uses checksum '" + s.checksum +
                                        "', which this build does not know; upgrade tessera");
  }
  c.access_key = Env("AWS_ACCESS_KEY_ID");
  c.secret_key = Env("AWS_SECRET_ACCESS_KEY");
  if (c.access_key.empty()) c.access_key = s.access_key;
  if (c.secret_key.empty() && !s.secret_key_sealed.empty()) {
    ASSIGN_OR_RETURN(c.secret_key, UnsealSecret(s));
  }
  if (!s.encrypt_key_wrapped.empty()) {
    auto key = object::UnwrapDataKey(s.encrypt_private_pem, Env(kPassphraseEnv),
                                     s.encrypt_key_wrapped);
    if (!key.has_value()) {
      return Err(key.error().code(),
                 "volume '" + s.name + "' is encrypted and its key cannot be unlocked (" +
                     key.error().message() + "); set " + kPassphraseEnv +
                     " to the passphrase of the RSA key given at format");
    }
    c.data_key = std::move(*key);
  }
  return c;
}

Result<std::string> SealSecret(const meta::Settings& settings, const std::string& secret) {
  return object::SealSecret(settings.uuid, secret);
}

Result<std::string> UnsealSecret(const meta::Settings& settings) {
  return object::UnsealSecret(settings.uuid, settings.secret_key_sealed);
}

}  // namespace tessera::cli
