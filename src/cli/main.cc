// tessera: format, mount and operate a volume. `tessera <verb> --help` documents every flag.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include "cli/commands.h"
#include "common/logging.h"

namespace tessera::cli {

void Die(const std::string& message) {
  std::fprintf(stderr, "tessera: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

std::string ExpandHome(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  return path;
}

std::string AbsoluteMetaUrl(const std::string& url) {
  const std::string prefix = "sqlite3://";
  if (url.rfind(prefix, 0) != 0) return url;
  std::string path = ExpandHome(url.substr(prefix.size()));
  if (!path.empty() && path[0] != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd)) path = std::string(cwd) + "/" + path;
  }
  return prefix + path;
}

}  // namespace tessera::cli

namespace {

// Asks glibc's malloc to back the heap with transparent huge pages (the
// tunable glibc.malloc.hugetlb=1, read only when a process starts: hence the
// exec of ourselves). A mount fills hundreds of MiB of fresh block buffers,
// and on hosts whose THP mode is "madvise" (Debian's default) faulting them
// in 4 KiB at a time cost more CPU than the reads: with it a warm 1 GiB
// sequential read went from ~600 to ~1,500 MiB/s (bench/warm.sh). A glibc
// that does not know the tunable ignores it; a failed exec just goes on
// without it. GLIBC_TUNABLES=glibc.malloc.hugetlb=0 turns it off.
void ExecWithHugePages(char** argv) {
  const char* now = std::getenv("GLIBC_TUNABLES");
  std::string tunables = now != nullptr ? now : "";
  if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return;
  tunables += (tunables.empty() ? "" : ":") + std::string("glibc.malloc.hugetlb=1");
  if (::setenv("GLIBC_TUNABLES", tunables.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
}

}  // namespace

int main(int argc, char** argv) {
  ExecWithHugePages(argv);
  CLI::App app{"tessera: a POSIX file system on object storage.\n"
               "Metadata lives in a transactional engine (SQLite by default), data in an object "
               "store."};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "log debug messages");
  app.add_subcommand("version", "print the version")->callback([] {
    std::printf("tessera 0.1.0\n");
  });
  tessera::cli::AddFormatCommand(app);
  tessera::cli::AddMountCommand(app);
  tessera::cli::AddUmountCommand(app);
  tessera::cli::AddStatusCommand(app);
  tessera::cli::AddInfoCommand(app);
  tessera::cli::AddCompactCommand(app);
  tessera::cli::AddBenchCommand(app);
  tessera::cli::AddObjbenchCommand(app);
  tessera::cli::AddBenchMetaCommand(app);
  tessera::cli::AddDumpCommand(app);
  tessera::cli::AddLoadCommand(app);
  tessera::cli::AddStatsCommand(app);
  tessera::cli::AddWarmupCommand(app);
  tessera::cli::AddRestoreCommand(app);
  // Commands print one line for what went wrong; the details that led there
  // (retries and the like) are logged only with -v. A mount logs at INFO.
  tessera::log::SetLevel(tessera::log::kError);
  app.parse_complete_callback([&] {
    if (verbose) tessera::log::SetLevel(tessera::log::kDebug);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
