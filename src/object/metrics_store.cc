// MetricsStore: counts every request that reaches the backend, its bytes and
// its time, under tessera_object_*. It sits directly on the backend (under the
// retry wrapper), so a retried request counts each time it is sent.
#include "common/metrics.h"
#include "object/wrappers.h"

namespace tessera::object {
namespace {

struct OpMetrics {
  explicit OpMetrics(const char* op)
      : latency(metrics::GetLatency(std::string("tessera_object_") + op + "_seconds",
                                    std::string("object store ") + op + " requests")),
        errors(metrics::GetCounter(std::string("tessera_object_") + op + "_errors_total",
                                   std::string("object store ") + op + " requests that failed")) {}
  metrics::Latency& latency;
  metrics::Counter& errors;
};

bool Failed(const Status& s) { return !s.ok() && s.code() != Code::kNotFound; }
template <typename T>
bool Failed(const Result<T>& r) {
  return !r.has_value() && r.error().code() != Code::kNotFound;
}

template <typename Fn>
auto Timed(OpMetrics& m, Fn fn) {
  metrics::Timer timer(m.latency);
  auto out = fn();
  if (Failed(out)) m.errors.Add();
  return out;
}

class MetricsStore : public ObjectStore {
 public:
  explicit MetricsStore(std::unique_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Status Create() override { return inner_->Create(); }

  Status Put(std::string_view key, std::string_view data) override {
    static OpMetrics m("put");
    static auto& bytes = metrics::GetCounter("tessera_object_put_bytes_total",
                                             "bytes stored by object store puts");
    Status st = Timed(m, [&] { return inner_->Put(key, data); });
    if (st.ok()) bytes.Add(data.size());
    return st;
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    static OpMetrics m("get");
    static auto& bytes = metrics::GetCounter("tessera_object_get_bytes_total",
                                             "bytes fetched by object store gets");
    auto got = Timed(m, [&] { return inner_->Get(key, offset, length); });
    if (got.has_value()) bytes.Add(got->size());
    return got;
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    static OpMetrics m("head");
    return Timed(m, [&] { return inner_->Head(key); });
  }

  Status Delete(std::string_view key) override {
    static OpMetrics m("delete");
    return Timed(m, [&] { return inner_->Delete(key); });
  }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    static OpMetrics m("list");
    return Timed(m, [&] { return inner_->List(prefix, start_after, limit); });
  }

 private:
  std::unique_ptr<ObjectStore> inner_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewMetricsStore(std::unique_ptr<ObjectStore> inner) {
  return std::make_unique<MetricsStore>(std::move(inner));
}

}  // namespace tessera::object
