// tessera compact: rewrites every fragmented chunk of the files under the
// given paths as one slice, through the mount that serves them (the virtual
// xattr vfs::kCompactXattr: reading it counts a file's chunks and slice
// records, setting it compacts the file before returning).
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "vfs/vfs.h"

namespace tessera::cli {
namespace {

struct Counts {
  uint64_t chunks = 0;
  uint64_t slices = 0;
};

// errno, or 0 with `out` filled.
int ReadCounts(const std::string& path, Counts* out) {
  char buf[4096];
  ssize_t n = getxattr(path.c_str(), vfs::kCompactXattr, buf, sizeof buf);
  if (n < 0) return errno;
  auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
  if (!j.is_object()) return EIO;
  out->chunks = j.value("chunks", uint64_t{0});
  out->slices = j.value("slices", uint64_t{0});
  return 0;
}

std::string Explain(const std::string& path, int err) {
  if (err == ENOTSUP || err == ENODATA) return path + " is not inside a tessera mount";
  return path + ": " + std::strerror(err);
}

struct Run {
  bool quiet = false;
  uint64_t files = 0, compacted = 0, failed = 0, chunks = 0, before = 0, after = 0;

  void File(const std::string& path) {
    ++files;
    Counts b, a;
    int err = ReadCounts(path, &b);
    if (err == 0 && setxattr(path.c_str(), vfs::kCompactXattr, "1", 1, 0) != 0) err = errno;
    if (err == 0) err = ReadCounts(path, &a);
    if (err != 0) {
      std::fprintf(stderr, "tessera: %s\n", Explain(path, err).c_str());
      ++failed;
      return;
    }
    chunks += b.chunks;
    before += b.slices;
    after += a.slices;
    if (a.slices < b.slices) {
      ++compacted;
      if (!quiet) {
        std::printf("%s: %llu -> %llu slices in %llu chunk(s)\n", path.c_str(),
                    static_cast<unsigned long long>(b.slices),
                    static_cast<unsigned long long>(a.slices),
                    static_cast<unsigned long long>(b.chunks));
        std::fflush(stdout);
      }
    }
  }

  void Path(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::file_status st = fs::symlink_status(path, ec);
    if (ec) {
      std::fprintf(stderr, "tessera: %s: %s\n", path.c_str(), ec.message().c_str());
      ++failed;
      return;
    }
    if (fs::is_regular_file(st)) return File(path);
    if (!fs::is_directory(st)) return;  // symlinks and special files hold no chunks
    // Symlinks are not followed: everything compacted lies under PATH.
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !it->is_symlink(ec)) File(it->path().string());
    }
    if (ec) {
      std::fprintf(stderr, "tessera: %s: %s\n", path.c_str(), ec.message().c_str());
      ++failed;
    }
  }
};

}  // namespace

void AddCompactCommand(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "compact", "rewrite the fragmented chunks of files in a mounted volume as one slice each");
  cmd->footer(
      "Every chunk with more than one slice record is read and written again as one slice by "
      "the mount that serves PATH; the replaced slices' blocks are then deleted (unless another "
      "file shares them). Mounts also do this in the background once a chunk holds more "
      "records than their --compact-threshold. Safe while files are in use: data written "
      "meanwhile is kept. Prints each file it compacted, then a summary; exits 1 if any file "
      "failed.");
  cmd->add_option("PATH", *paths,
                  "files or directories (walked, symlinks not followed) inside a "
                  "tessera mount")
      ->required();
  cmd->add_flag("-q,--quiet", *quiet, "print only the summary");
  cmd->callback([paths, quiet] {
    Run run;
    run.quiet = *quiet;
    for (const auto& p : *paths) run.Path(p);
    std::string failed = run.failed ? ", " + std::to_string(run.failed) + " failed" : "";
    std::printf(
        "compacted %llu of %llu file(s): %llu chunk(s), %llu -> %llu slices%s\n",
        static_cast<unsigned long long>(run.compacted), static_cast<unsigned long long>(run.files),
        static_cast<unsigned long long>(run.chunks), static_cast<unsigned long long>(run.before),
        static_cast<unsigned long long>(run.after), failed.c_str());
    std::fflush(stdout);
    if (run.failed) std::_Exit(1);
  });
}

}  // namespace tessera::cli
