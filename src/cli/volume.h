// From a volume's settings to the pieces a command needs, with the secrets
// that are never stored in plain text supplied from the environment:
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY  override stored S3 credentials
//   TESSERA_RSA_PASSPHRASE                     unlocks an encrypted volume's key
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "meta/meta.h"
#include "object/stack.h"

namespace tessera::cli {

inline constexpr const char* kPassphraseEnv = "TESSERA_RSA_PASSPHRASE";

// A formatted volume's metadata and settings.
struct OpenedMeta {
  std::unique_ptr<meta::Meta> meta;
  meta::Settings settings;
};
// Opens `meta_url` and loads its settings; an empty engine is kNotFound with
// the hint to run `tessera format`.
Result<OpenedMeta> OpenFormattedMeta(const std::string& meta_url);

// The object store stack the settings describe; errors say which secret is
// missing or wrong and how to supply it.
Result<object::StoreConfig> StoreConfigFor(const meta::Settings& settings);

// Seals/unseals the S3 secret key kept in the settings (see docs/formats.md).
Result<std::string> SealSecret(const meta::Settings& settings, const std::string& secret);
Result<std::string> UnsealSecret(const meta::Settings& settings);

// Environment variable or "".
std::string Env(const char* name);

}  // namespace tessera::cli
