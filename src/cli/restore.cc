// tessera restore: puts the files of trash hour directories back where they
// were removed from (see docs/posix.md, "Trash").
#include <cstdio>

#include "cli/commands.h"
#include "cli/volume.h"
#include "meta/meta.h"

namespace tessera::cli {
namespace {

struct RestoreFlags {
  std::string meta_url;
  std::vector<std::string> hours;
  bool quiet = false;
};

// "2026-12-01-14", also when given as a path such as /mnt/.trash/2026-12-01-14/.
std::string HourName(std::string hour) {
  while (hour.size() > 1 && hour.back() == '/') hour.pop_back();
  size_t slash = hour.rfind('/');
  return slash == std::string::npos ? hour : hour.substr(slash + 1);
}

void RunRestore(const RestoreFlags& f) {
  auto opened = OpenFormattedMeta(AbsoluteMetaUrl(f.meta_url));
  if (!opened.has_value()) Die(opened.error().ToString());
  meta::Meta& m = *opened->meta;
  uint64_t restored = 0, kept = 0;
  bool missing_hour = false;
  for (const std::string& arg : f.hours) {
    std::string hour = HourName(arg);
    auto out = m.RestoreTrash(hour);
    if (!out.has_value()) {
      std::fprintf(stderr, "tessera: %s\n", out.error().message().c_str());
      missing_hour = true;
      continue;
    }
    for (const meta::RestoreOutcome& o : *out) {
      if (o.status.ok()) {
        ++restored;
        if (!f.quiet)
          std::printf("restored %s/%s -> %s\n", hour.c_str(), o.entry.c_str(), o.path.c_str());
      } else {
        ++kept;
        std::printf("kept %s/%s in the trash: %s\n", hour.c_str(), o.entry.c_str(),
                    o.status.message().c_str());
      }
    }
  }
  std::printf("%llu restored, %llu left in the trash\n", static_cast<unsigned long long>(restored),
              static_cast<unsigned long long>(kept));
  std::fflush(stdout);
  if (missing_hour) std::_Exit(1);
}

}  // namespace

void AddRestoreCommand(CLI::App& app) {
  auto f = std::make_shared<RestoreFlags>();
  CLI::App* cmd = app.add_subcommand(
      "restore",
      "put removed files back from the trash: every entry <parent inode>-<inode>-<name> of "
      "each hour directory returns to its directory and name, unless that name is taken or "
      "the directory is gone (then it stays in the trash)");
  cmd->add_option("META_URL", f->meta_url, "metadata engine of the volume")->required();
  cmd->add_option("HOUR", f->hours,
                  "trash hour directories, e.g. 2026-12-01-14 (UTC), or their paths "
                  "MOUNTPOINT/.trash/2026-12-01-14 as root sees them")
      ->required();
  cmd->add_flag("-q,--quiet", f->quiet, "print only what stays in the trash and the summary");
  cmd->callback([f] { RunRestore(*f); });
}

}  // namespace tessera::cli
