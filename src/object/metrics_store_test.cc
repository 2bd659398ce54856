#include <gtest/gtest.h>

#include "common/metrics.h"
#include "object/wrappers.h"

namespace tessera::object {
namespace {

double Value(const std::string& name) {
  auto snap = metrics::Snapshot();
  auto it = snap.find(name);
  return it == snap.end() ? 0 : it->second;
}

TEST(MetricsStore, CountsRequestsBytesAndFailures) {
  auto store = NewMetricsStore(NewMemStore());
  double gets = Value("tessera_object_get_seconds_count");
  double get_bytes = Value("tessera_object_get_bytes_total");
  double puts = Value("tessera_object_put_seconds_count");
  double put_bytes = Value("tessera_object_put_bytes_total");
  double get_errors = Value("tessera_object_get_errors_total");

  ASSERT_TRUE(store->Put("a", std::string(1000, 'x')).ok());
  ASSERT_TRUE(store->Get("a", 0, 10).has_value());
  ASSERT_TRUE(store->Get("a").has_value());
  EXPECT_FALSE(store->Get("missing").has_value());

  EXPECT_EQ(Value("tessera_object_put_seconds_count"), puts + 1);
  EXPECT_EQ(Value("tessera_object_put_bytes_total"), put_bytes + 1000);
  EXPECT_EQ(Value("tessera_object_get_seconds_count"), gets + 3);
  EXPECT_EQ(Value("tessera_object_get_bytes_total"), get_bytes + 1010);
  EXPECT_EQ(Value("tessera_object_get_errors_total"), get_errors);  // not found is an answer

  auto faulty = NewFaultyStore(NewMemStore(), FaultPlan{});
  faulty->SetDown(true);
  auto down = NewMetricsStore(std::move(faulty));
  EXPECT_FALSE(down->Get("a").has_value());
  EXPECT_EQ(Value("tessera_object_get_errors_total"), get_errors + 1);
}

}  // namespace
}  // namespace tessera::object
