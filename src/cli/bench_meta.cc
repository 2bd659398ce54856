// tessera bench-meta: how fast is a metadata engine for namespace work.
// Runs create, stat, lookup, rename, readdir and unlink through the meta
// layer (no FUSE, no object store) in a scratch directory of a formatted
// volume, with N threads each in a directory of its own, and prints ops/s
// and mean latency per operation.
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "cli/bench_util.h"
#include "cli/commands.h"
#include "cli/volume.h"
#include "meta/meta.h"

namespace tessera::cli {
namespace {

struct BenchMetaFlags {
  std::string meta_url;
  int threads = 1;
  uint64_t files = 1000;
  bool keep = false;
};

void Print(const Phase& p) {
  double us = p.count ? p.latency_sum * 1000 / static_cast<double>(p.count) : 0.0;
  std::printf("%-10s %9lu %12.0f %12.1f", p.name.c_str(), static_cast<unsigned long>(p.count),
              static_cast<double>(p.count) / p.seconds, us);
  if (p.errors) {
    std::printf("   %lu errors, first: %s", static_cast<unsigned long>(p.errors),
                p.first_error.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
}

void RunBenchMeta(const BenchMetaFlags& f) {
  auto opened = OpenFormattedMeta(AbsoluteMetaUrl(f.meta_url));
  if (!opened.has_value()) Die(opened.error().ToString());
  meta::Meta& m = *opened->meta;
  const int threads = std::max(1, f.threads);
  const meta::Context root;
  std::string base_name = ".bench-meta-" + std::to_string(getpid()) + "-" +
                          std::to_string(std::random_device{}() % 100000);
  auto base = m.Mkdir(root, meta::kRootIno, base_name, 0755);
  if (!base.has_value()) Die("mkdir /" + base_name + ": " + base.error().ToString());
  std::vector<meta::Ino> dirs;
  for (int t = 0; t < threads; ++t) {
    auto d = m.Mkdir(root, base->ino, "t" + std::to_string(t), 0755);
    if (!d.has_value()) Die("mkdir: " + d.error().ToString());
    dirs.push_back(d->ino);
  }
  // File i lives in directory i % threads, so each thread mostly works in its own.
  auto dir = [&](uint64_t i) { return dirs[i % dirs.size()]; };
  auto name = [](const char* p, uint64_t i) { return p + std::to_string(i); };
  std::vector<meta::Ino> inos(f.files);
  auto done = [](auto&& r) -> Result<uint64_t> {
    if (!r.has_value()) return Err(r.error());
    return 0;
  };
  auto done_status = [](const Status& s) -> Result<uint64_t> {
    if (!s.ok()) return Err(s);
    return 0;
  };

  std::string engine = f.meta_url.substr(0, f.meta_url.find("://"));
  std::printf("%s, volume %s: %d thread(s), %lu files\n", engine.c_str(),
              opened->settings.name.c_str(), threads, static_cast<unsigned long>(f.files));
  std::printf("%-10s %9s %12s %12s\n", "operation", "count", "ops/s", "latency us");
  Print(RunPhase("create", f.files, threads, [&](uint64_t i) -> Result<uint64_t> {
    auto e = m.Mknod(root, dir(i), name("f", i), S_IFREG | 0644, 0);
    if (e.has_value()) inos[i] = e->ino;
    return done(e);
  }));
  Print(RunPhase("stat", f.files, threads,
                 [&](uint64_t i) { return done(m.GetAttr(inos[i])); }));
  Print(RunPhase("lookup", f.files, threads,
                 [&](uint64_t i) { return done(m.Lookup(root, dir(i), name("f", i))); }));
  Print(RunPhase("rename", f.files, threads, [&](uint64_t i) {
    return done_status(m.Rename(root, dir(i), name("f", i), dir(i), name("r", i), 0));
  }));
  // Each listing returns files/threads entries with their attributes.
  uint64_t listings = std::max<uint64_t>(10, static_cast<uint64_t>(threads) * 10);
  Print(RunPhase("readdir", listings, threads,
                 [&](uint64_t i) { return done(m.ReadDir(root, dir(i), /*with_attr=*/true)); }));
  if (f.keep) {
    std::printf("kept %lu files under /%s\n", static_cast<unsigned long>(f.files),
                base_name.c_str());
    return;
  }
  Print(RunPhase("unlink", f.files, threads,
                 [&](uint64_t i) { return done_status(m.Unlink(root, dir(i), name("r", i))); }));
  for (int t = 0; t < threads; ++t) (void)m.Rmdir(root, base->ino, "t" + std::to_string(t));
  (void)m.Rmdir(root, meta::kRootIno, base_name);
}

}  // namespace

void AddBenchMetaCommand(CLI::App& app) {
  auto f = std::make_shared<BenchMetaFlags>();
  auto* cmd = app.add_subcommand(
      "bench-meta",
      "measure namespace operations on a metadata engine (create, stat, lookup, rename, "
      "readdir, unlink) in a scratch directory of the volume");
  cmd->add_option("META_URL", f->meta_url, "metadata URL of a formatted volume")->required();
  cmd->add_option("-p,--threads", f->threads, "parallel workers")->capture_default_str();
  cmd->add_option("-n,--files", f->files, "files created (and removed) per run")
      ->capture_default_str();
  cmd->add_flag("--keep", f->keep,
                "leave the files (renamed) in the volume, to grow it between runs");
  cmd->callback([f] { RunBenchMeta(*f); });
}

}  // namespace tessera::cli
