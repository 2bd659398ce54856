// A volume's object store: the backend named in its settings with the
// wrappers its settings ask for, stacked in the one documented order
//
//   data → compress → encrypt → checksum → retry → metrics → backend (file, mem, s3)
//
// so that a block is verified before it is decrypted and decompressed, and a
// transient backend failure is retried underneath all of it.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "object/store.h"
#include "object/wrappers.h"

namespace tessera::object {

struct StoreConfig {
  std::string storage = "file";  // file, mem, s3
  std::string bucket;            // directory, mem name, or S3 bucket URL
  std::string access_key;        // s3 only
  std::string secret_key;        // s3 only
  std::string compression = "none";  // none, lz4, zstd
  std::string data_key;              // 32 bytes: encrypt with AES-256-GCM; empty: off
  bool checksum = true;
  bool retry = true;
  RetryOptions retry_options;
};

// The bare backend (no wrappers), e.g. for objbench.
Result<std::unique_ptr<ObjectStore>> OpenBackend(const StoreConfig& config);

// The whole stack for a volume.
Result<std::unique_ptr<ObjectStore>> OpenVolumeStore(const StoreConfig& config);

// The storage types OpenBackend knows, for messages.
inline constexpr const char* kSupportedStorage = "file, mem, s3";

}  // namespace tessera::object
