// Placeholder until the etcd engine lands.
#include "kv/engine.h"

namespace tessera::kv {

Result<std::unique_ptr<Engine>> NewEtcdEngine(const Url& url) {
  return Err(Code::kNotSupported, "the etcd engine is not built yet: '" + url.Redacted() + "'");
}

}  // namespace tessera::kv
