// Placeholder until the redis engine lands.
#include "kv/engine.h"

namespace tessera::kv {

Result<std::unique_ptr<Engine>> NewRedisEngine(const Url& url) {
  return Err(Code::kNotSupported, "the redis engine is not built yet: '" + url.Redacted() + "'");
}

}  // namespace tessera::kv
