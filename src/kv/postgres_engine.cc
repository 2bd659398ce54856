// Placeholder until the postgres engine lands.
#include "kv/engine.h"

namespace tessera::kv {

Result<std::unique_ptr<Engine>> NewPostgresEngine(const Url& url) {
  return Err(Code::kNotSupported, "the postgres engine is not built yet: '" + url.Redacted() + "'");
}

}  // namespace tessera::kv
