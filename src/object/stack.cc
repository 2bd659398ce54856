// OpenBackend / OpenVolumeStore: from a volume's settings to its store stack.
#include "object/stack.h"

#include "object/s3.h"

namespace tessera::object {

Result<std::unique_ptr<ObjectStore>> OpenBackend(const StoreConfig& config) {
  if (config.storage == "s3") {
    ASSIGN_OR_RETURN(S3Options opts, ParseS3Url(config.bucket));
    opts.access_key = config.access_key;
    opts.secret_key = config.secret_key;
    if (opts.access_key.empty() || opts.secret_key.empty()) {
      return Err(Code::kInvalid,
                 "storage s3 needs credentials: --access-key/--secret-key, or "
                 "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    return NewS3Store(opts);
  }
  if (config.storage == "file" || config.storage == "mem") {
    return OpenStore(config.storage, config.bucket);
  }
  return Err(Code::kInvalid, "unknown storage '" + config.storage + "'; supported: " +
                                 kSupportedStorage);
}

Result<std::unique_ptr<ObjectStore>> OpenVolumeStore(const StoreConfig& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<ObjectStore> store, OpenBackend(config));
  store = NewMetricsStore(std::move(store));
  if (config.retry) store = NewRetryStore(std::move(store), config.retry_options);
  if (config.checksum) store = NewChecksumStore(std::move(store));
  if (!config.data_key.empty()) {
    ASSIGN_OR_RETURN(store, NewEncryptStore(std::move(store), config.data_key));
  }
  if (!config.compression.empty() && config.compression != "none") {
    ASSIGN_OR_RETURN(store, NewCompressStore(std::move(store), config.compression));
  }
  return store;
}

}  // namespace tessera::object
