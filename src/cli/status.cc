// tessera status (a volume's settings, usage and sessions) and tessera info
// (a file's chunks, slices and objects, asked of the mount that serves it).
#include <sys/xattr.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/volume.h"
#include "kv/engine.h"
#include "meta/meta.h"
#include "vfs/vfs.h"

namespace tessera::cli {
namespace {

void RunStatus(const std::string& url) {
  auto opened = OpenFormattedMeta(AbsoluteMetaUrl(url));
  if (!opened.has_value()) Die(opened.error().ToString());
  auto& m = opened->meta;
  meta::Settings& settings = opened->settings;
  auto st = m->StatFs();
  if (!st.has_value()) Die(st.error().ToString());
  auto sessions = m->ListSessions();
  if (!sessions.has_value()) Die(sessions.error().ToString());
  nlohmann::json j;
  j["setting"] = nlohmann::json::parse(settings.ToJson(/*redact=*/true));
  j["usage"] = {{"used_space", st->used_space},
                {"used_inodes", st->used_inodes},
                {"total_space", st->total_space},
                {"avail_inodes", st->avail_inodes}};
  nlohmann::json js = nlohmann::json::array();
  for (const auto& s : *sessions) {
    js.push_back({{"id", s.id},
                  {"host", s.host},
                  {"pid", s.pid},
                  {"mountpoint", s.mountpoint},
                  {"version", s.version},
                  {"start_time", s.start_time},
                  {"heartbeat", s.heartbeat}});
  }
  j["sessions"] = js;
  std::printf("%s\n", j.dump(2).c_str());
}

void RunInfo(const std::vector<std::string>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& path : paths) {
    std::string buf(1 << 20, '\0');
    ssize_t n = getxattr(path.c_str(), vfs::kInfoXattr, buf.data(), buf.size());
    if (n < 0) {
      int err = errno;
      if (err == ENODATA || err == ENOTSUP) Die(path + " is not inside a tessera mount");
      Die(path + ": " + std::strerror(err));
    }
    auto j = nlohmann::json::parse(buf.substr(0, static_cast<size_t>(n)), nullptr, false);
    if (j.is_discarded()) Die(path + ": the mount returned malformed info");
    j.erase("pid");
    j["path"] = path;
    out.push_back(std::move(j));
  }
  std::printf("%s\n", (out.size() == 1 ? out[0] : out).dump(2).c_str());
}

}  // namespace

void AddStatusCommand(CLI::App& app) {
  auto url = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("status", "print a volume's settings, usage and sessions "
                                               "as JSON");
  cmd->add_option("META_URL", *url, "metadata engine of the volume")->required();
  cmd->callback([url] { RunStatus(*url); });
}

void AddInfoCommand(CLI::App& app) {
  auto paths = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = app.add_subcommand("info", "print the inode, chunks, slices and objects of "
                                             "files in a mounted volume");
  cmd->add_option("PATH", *paths, "files or directories inside a tessera mount")->required();
  cmd->callback([paths] { RunInfo(*paths); });
}

}  // namespace tessera::cli
