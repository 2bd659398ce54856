// tessera objbench: how fast is an object store, for sizing a volume on it.
// Checks the basic operations, then measures put/get of big objects (one
// block size each), put/get/head of small objects, list and delete, with N
// parallel workers, and prints throughput and mean latency per operation.
#include <atomic>
#include <cstring>
#include <mutex>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "cli/bench_util.h"
#include "cli/commands.h"
#include "cli/volume.h"
#include "object/stack.h"

namespace tessera::cli {
namespace {

struct BenchFlags {
  object::StoreConfig config;
  uint64_t block_kib = 4096;
  uint64_t big_mib = 1024;
  uint64_t small_count = 100;
  uint64_t small_kib = 128;
  int threads = 4;
  bool wrappers = false;
};

void Print(const Phase& p) {
  double mibs = static_cast<double>(p.bytes) / (1 << 20) / p.seconds;
  std::printf("%-16s %8lu %10.1f %10.1f %12.2f", p.name.c_str(), static_cast<unsigned long>(p.count),
              static_cast<double>(p.count) / p.seconds, mibs,
              p.count ? p.latency_sum / static_cast<double>(p.count) : 0.0);
  if (p.errors) std::printf("   %lu errors, first: %s", static_cast<unsigned long>(p.errors),
                            p.first_error.c_str());
  std::printf("\n");
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

void RunObjbench(const BenchFlags& f) {
  auto store = f.wrappers ? object::OpenVolumeStore(f.config) : object::OpenBackend(f.config);
  if (!store.has_value()) Die(store.error().ToString());
  object::ObjectStore& s = **store;
  std::string prefix = "objbench-" + std::to_string(std::random_device{}()) + "/";
  // Functional checks first: a store that fails them is not worth timing.
  Status created = s.Create();
  if (!created.ok()) Die("create bucket on " + s.Describe() + ": " + created.ToString());
  std::string probe = RandomBytes(1000, 1);
  auto check = [&](const char* what, const Status& st) {
    if (!st.ok()) Die(std::string(what) + " failed on " + s.Describe() + ": " + st.ToString());
  };
  check("put", s.Put(prefix + "probe", probe));
  auto got = s.Get(prefix + "probe", 10, 20);
  check("ranged get", got.has_value() ? (*got == probe.substr(10, 20)
                                             ? Status()
                                             : Status(Code::kCorrupt, "wrong bytes"))
                                      : got.error());
  auto head = s.Head(prefix + "probe");
  check("head", head.has_value() ? (head->size == probe.size()
                                        ? Status()
                                        : Status(Code::kCorrupt, "wrong size"))
                                 : head.error());
  check("delete", s.Delete(prefix + "probe"));
  std::printf("functional checks passed on %s\n\n", s.Describe().c_str());

  size_t block = f.block_kib << 10;
  uint64_t big_n = std::max<uint64_t>(1, (f.big_mib << 20) / block);
  std::string big = RandomBytes(block, 2);
  std::string small = RandomBytes(f.small_kib << 10, 3);
  std::printf("%-16s %8s %10s %10s %12s\n", "operation", "count", "ops/s", "MiB/s", "latency ms");
  Print(RunPhase("put big", big_n, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    RETURN_IF_ERROR(s.Put(prefix + "big/" + std::to_string(i), big));
    return big.size();
  }));
  Print(RunPhase("get big", big_n, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    ASSIGN_OR_RETURN(std::string d, s.Get(prefix + "big/" + std::to_string(i)));
    if (d.size() != big.size()) return Err(Code::kCorrupt, "short object");
    return d.size();
  }));
  Print(RunPhase("put small", f.small_count, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    RETURN_IF_ERROR(s.Put(prefix + "small/" + std::to_string(i), small));
    return small.size();
  }));
  Print(RunPhase("get small", f.small_count, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    ASSIGN_OR_RETURN(std::string d, s.Get(prefix + "small/" + std::to_string(i)));
    return d.size();
  }));
  Print(RunPhase("head", f.small_count, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    ASSIGN_OR_RETURN(auto info, s.Head(prefix + "small/" + std::to_string(i)));
    (void)info;
    return 0;
  }));
  Print(RunPhase("list", 10, f.threads, [&](uint64_t) -> Result<uint64_t> {
    ASSIGN_OR_RETURN(auto page, s.List(prefix + "small/", "", 1000));
    (void)page;
    return 0;
  }));
  Print(RunPhase("delete", big_n + f.small_count, f.threads, [&](uint64_t i) -> Result<uint64_t> {
    std::string key = i < big_n ? prefix + "big/" + std::to_string(i)
                                : prefix + "small/" + std::to_string(i - big_n);
    RETURN_IF_ERROR(s.Delete(key));
    return 0;
  }));
}

}  // namespace

void AddObjbenchCommand(CLI::App& app) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("objbench", "measure an object store: put/get/head/list/"
                                                 "delete throughput and latency");
  cmd->add_option("--storage", f->config.storage, "file, s3 or mem")->capture_default_str();
  cmd->add_option("--bucket", f->config.bucket, "directory or S3 bucket URL")->required();
  cmd->add_option("--access-key", f->config.access_key, "S3 access key (default $AWS_ACCESS_KEY_ID)");
  cmd->add_option("--secret-key", f->config.secret_key,
                  "S3 secret key (default $AWS_SECRET_ACCESS_KEY)");
  cmd->add_option("--block-size", f->block_kib, "size of a big object, KiB")->capture_default_str();
  cmd->add_option("--big-object-size", f->big_mib, "MiB written as big objects")
      ->capture_default_str();
  cmd->add_option("--small-objects", f->small_count, "how many small objects")
      ->capture_default_str();
  cmd->add_option("--small-object-size", f->small_kib, "size of a small object, KiB")
      ->capture_default_str();
  cmd->add_option("-p,--threads", f->threads, "parallel workers")->capture_default_str();
  cmd->add_option("--compress", f->config.compression,
                  "with --wrappers: none, lz4 or zstd")->capture_default_str();
  cmd->add_flag("--wrappers", f->wrappers,
                "measure through the volume stack (checksum, retry, --compress)");
  cmd->callback([f] {
    if (f->config.access_key.empty()) f->config.access_key = Env("AWS_ACCESS_KEY_ID");
    if (f->config.secret_key.empty()) f->config.secret_key = Env("AWS_SECRET_ACCESS_KEY");
    if (f->threads < 1) Die("-p must be at least 1");
    RunObjbench(*f);
  });
}

}  // namespace tessera::cli
