// MetricsServer: serves the process's metrics (common/metrics.h) over HTTP in
// Prometheus text format, for `tessera mount --metrics HOST:PORT`. Any GET
// is answered with the whole exposition; one thread accepts and answers one
// request at a time (a scrape is a few kilobytes). Stops on destruction.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace tessera::cli {

class MetricsServer {
 public:
  // Listens on `address` ("127.0.0.1:9567", ":9567" for every interface is
  // refused as a typo-trap: give 0.0.0.0 explicitly). A busy port or a bad
  // address is an error naming it.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& address);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer(int fd, int port);
  void Serve();

  int fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tessera::cli
