// OpenEngine: from a metadata URL to an engine.
//
//   sqlite3:///abs/meta.db   sqlite3://relative/meta.db   sqlite3://meta.db?sync=normal
//   mem://name               (one engine per name, shared within the process)
//   redis://… postgres://… etcd://…   (see engine.h)
#include <map>
#include <mutex>

#include "common/url.h"
#include "kv/sqlite_engine.h"

namespace tessera::kv {
namespace {

// Forwards to an engine owned jointly with the registry of named mem engines.
class SharedEngine final : public Engine {
 public:
  explicit SharedEngine(std::shared_ptr<Engine> inner) : inner_(std::move(inner)) {}

  std::string Name() const override { return inner_->Name(); }
  Result<std::unique_ptr<Txn>> Begin(bool read_only) override { return inner_->Begin(read_only); }
  Status Commit(std::unique_ptr<Txn> txn) override { return inner_->Commit(std::move(txn)); }
  void Abort(std::unique_ptr<Txn> txn) override { inner_->Abort(std::move(txn)); }
  Status Reset() override { return inner_->Reset(); }

 private:
  std::shared_ptr<Engine> inner_;
};

// The mem engine called `name`, created on first use and kept for the life of the process.
std::shared_ptr<Engine> NamedMemEngine(const std::string& name) {
  static std::mutex mu;
  static auto* registry = new std::map<std::string, std::shared_ptr<Engine>>();
  std::lock_guard lock(mu);
  auto& engine = (*registry)[name];
  if (engine == nullptr) engine = NewMemEngine();
  return engine;
}

Result<SqliteOptions> ParseSqliteQuery(const Url& url) {
  SqliteOptions opts;
  std::string_view query = url.query;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    if (param == "sync=full") {
      opts.sync_full = true;
    } else if (param == "sync=normal") {
      opts.sync_full = false;
    } else {
      return Err(Code::kInvalid, "unknown option '" + std::string(param) + "' in '" +
                                     url.Redacted() + "'; supported: sync=full, sync=normal");
    }
  }
  return opts;
}

}  // namespace

std::unique_ptr<Engine> ShareEngine(std::shared_ptr<Engine> inner) {
  return std::make_unique<SharedEngine>(std::move(inner));
}

std::vector<std::string> SupportedSchemes() {
  return {"sqlite3", "mem", "redis", "rediss", "postgres", "postgresql", "etcd"};
}

Result<std::unique_ptr<Engine>> OpenEngine(const std::string& url) {
  ASSIGN_OR_RETURN(Url parsed, ParseUrl(url, SupportedSchemes()));
  if (parsed.scheme == "mem") {
    if (!parsed.query.empty()) {
      return Err(Code::kInvalid, "mem:// takes no options: '" + url + "'");
    }
    return ShareEngine(NamedMemEngine(parsed.path));
  }
  if (parsed.scheme == "redis" || parsed.scheme == "rediss") return NewRedisEngine(parsed);
  if (parsed.scheme == "postgres" || parsed.scheme == "postgresql") {
    return NewPostgresEngine(parsed);
  }
  if (parsed.scheme == "etcd") return NewEtcdEngine(parsed);
  // sqlite3
  ASSIGN_OR_RETURN(SqliteOptions opts, ParseSqliteQuery(parsed));
  return NewSqliteEngine(parsed.path, opts);
}

}  // namespace tessera::kv
