// tessera warmup PATH...: fetches the blocks of files (and of every file under
// directories) into the mount's local disk cache, with parallel workers and a
// progress bar; --check reports how much is cached, --evict drops it. Works
// through the mount's virtual xattrs tessera.warmup / tessera.evict /
// tessera.cached (vfs/warmup.cc).
#include <sys/xattr.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "cli/bench_util.h"
#include "cli/commands.h"
#include "vfs/vfs.h"

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

struct WarmupFlags {
  std::vector<std::string> paths;
  std::string file_list;
  int threads = 50;
  bool evict = false;
  bool check = false;
};

// Regular files named by `paths`, directories walked (symlinks not followed).
std::vector<std::string> CollectFiles(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    if (ec) Die(p + ": " + ec.message());
    if (fs::is_regular_file(st)) {
      files.push_back(p);
    } else if (fs::is_directory(st)) {
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (it->is_regular_file() && !it->is_symlink()) files.push_back(it->path().string());
      }
      if (ec) Die(p + ": " + ec.message());
    }
  }
  return files;
}

struct Cached {
  uint64_t bytes = 0;
  uint64_t cached_bytes = 0;
  uint64_t blocks = 0;
  uint64_t cached_blocks = 0;
};

Result<Cached> Check(const std::string& file) {
  char buf[4096];
  ssize_t n = getxattr(file.c_str(), vfs::kCachedXattr, buf, sizeof buf);
  if (n < 0) {
    int err = errno;
    if (err == ENODATA || err == ENOTSUP) {
      return Err(Code::kInvalid, file + " is not in a tessera mount");
    }
    return Err(Code::kIO, file + ": " + std::strerror(err));
  }
  auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
  if (!j.is_object()) return Err(Code::kIO, file + ": unreadable cache state");
  return Cached{j.value("bytes", uint64_t{0}), j.value("cached_bytes", uint64_t{0}),
                j.value("blocks", uint64_t{0}), j.value("cached_blocks", uint64_t{0})};
}

Status Act(const std::string& file, const char* xattr) {
  if (setxattr(file.c_str(), xattr, "1", 1, 0) == 0) return {};
  int err = errno;
  if (err == ENOTSUP) {
    return Err(Code::kNotSupported,
               file + ": not in a tessera mount, or the mount has no disk cache (--cache-size 0)");
  }
  return Err(Code::kIO, file + ": " + std::strerror(err));
}

void RunWarmup(WarmupFlags f) {
  if (!f.file_list.empty()) {
    std::ifstream in(f.file_list);
    if (!in) Die("cannot read --file-list " + f.file_list);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) f.paths.push_back(line);
    }
  }
  if (f.paths.empty()) Die("nothing to warm up: give PATHs or --file-list");
  const std::vector<std::string> files = CollectFiles(f.paths);
  const int threads = std::max(1, f.threads);
  const uint64_t per_worker = (files.size() + threads - 1) / threads;
  std::mutex mu;
  Cached total;
  const char* verb = f.check ? "checked" : f.evict ? "evicted" : "warmed up";
  Phase phase = RunPerWorker(verb, per_worker, threads, true,
                             [&](int t, uint64_t i) -> Result<uint64_t> {
    const uint64_t at = i * threads + static_cast<uint64_t>(t);
    if (at >= files.size()) return uint64_t{0};
    const std::string& file = files[at];
    if (!f.check) RETURN_IF_ERROR(Act(file, f.evict ? vfs::kEvictXattr : vfs::kWarmupXattr));
    ASSIGN_OR_RETURN(Cached c, Check(file));
    std::lock_guard lock(mu);
    total.bytes += c.bytes;
    total.cached_bytes += c.cached_bytes;
    total.blocks += c.blocks;
    total.cached_blocks += c.cached_blocks;
    return c.bytes;
  });
  const double mib = static_cast<double>(total.bytes) / (1 << 20);
  std::printf("%s %zu files, %.1f MiB in %.1f s (%.1f MiB/s); cached now: %.1f%% of the bytes "
              "(%llu of %llu blocks)\n",
              verb, files.size(), mib, phase.seconds,
              phase.seconds > 0 ? mib / phase.seconds : 0.0,
              total.bytes ? 100.0 * static_cast<double>(total.cached_bytes) /
                                static_cast<double>(total.bytes)
                          : 100.0,
              static_cast<unsigned long long>(total.cached_blocks),
              static_cast<unsigned long long>(total.blocks));
  if (phase.errors > 0) {
    Die(std::to_string(phase.errors) + " of the workers stopped at an error; first: " +
        phase.first_error);
  }
}

}  // namespace

void AddWarmupCommand(CLI::App& app) {
  auto f = std::make_shared<WarmupFlags>();
  CLI::App* cmd = app.add_subcommand(
      "warmup", "fetch files' blocks into the mount's local disk cache (or --check, --evict)");
  cmd->add_option("PATH", f->paths, "files or directories in a tessera mount");
  cmd->add_option("-f,--file-list", f->file_list, "a file naming one PATH per line");
  cmd->add_option("-p,--threads", f->threads, "files worked on in parallel")
      ->capture_default_str();
  cmd->add_flag("--evict", f->evict, "drop the blocks from the disk cache instead");
  cmd->add_flag("--check", f->check, "only report how much of PATH is cached");
  cmd->callback([f] { RunWarmup(*f); });
}

}  // namespace tessera::cli
