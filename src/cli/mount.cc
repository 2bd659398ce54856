// tessera mount / umount.
//
// With --background the command forks a daemon that opens the volume and
// mounts it, and waits until the daemon reports over a pipe that the mount is
// live (exit 0) or why it failed (the reason is printed, exit 1).
#include <fcntl.h>
#include <malloc.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/volume.h"
#include "common/logging.h"
#include "fuse/fuse_server.h"
#include "kv/engine.h"
#include "meta/meta.h"
#include "object/stack.h"
#include "vfs/vfs.h"

namespace tessera::cli {
namespace {

struct MountFlags {
  std::string meta_url;
  std::string mountpoint;
  bool background = false;
  std::string log_file;
  std::vector<std::string> options;
  double attr_cache = 1.0;
  double entry_cache = 1.0;
  double dir_entry_cache = 1.0;
  uint64_t block_cache_mib = 256;
  int max_threads = 16;
  int io_retries = 10;
  int max_uploads = 0;  // 0: 20 for object stores, 4 for a local directory
  uint64_t max_readahead_mib = 32;
  int heartbeat_s = 12;
  uint32_t compact_threshold = 20;
  bool debug = false;
};

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Opens the volume and serves it until unmounted. `ready` is told once.
Status MountAndServe(const MountFlags& f, const std::function<void(const Status&)>& ready) {
  auto fail = [&](Status s) {
    ready(s);
    return s;
  };
  // Blocks are megabytes: keep them on the heap rather than mmap/munmap (and
  // zero-fault) every one.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // and keep freed blocks' pages: no re-faulting
  auto opened = OpenFormattedMeta(f.meta_url);
  if (!opened.has_value()) return fail(opened.error());
  auto m = std::move(opened->meta);
  meta::Settings& settings = opened->settings;
  auto config = StoreConfigFor(settings);
  if (!config.has_value()) return fail(config.error());
  config->retry_options.max_attempts = std::max(1, f.io_retries);
  auto store = object::OpenVolumeStore(*config);
  if (!store.has_value()) return fail(store.error());
  // A missing bucket or refused credentials stop the mount here, not at the first write.
  auto listed = (*store)->List(settings.name + "/", "", 1);
  if (!listed.has_value()) {
    return fail(Status(listed.error().code(), "storage " + (*store)->Describe() +
                                                  " is not usable: " + listed.error().message()));
  }
  vfs::Options opts;
  opts.attr_timeout = f.attr_cache;
  opts.entry_timeout = f.entry_cache;
  opts.dir_entry_timeout = f.dir_entry_cache;
  opts.block_cache_bytes = f.block_cache_mib << 20;
  // Parallel fsyncs on one local disk contend; remote stores need many requests in flight.
  opts.max_uploads = f.max_uploads > 0 ? f.max_uploads : settings.storage == "file" ? 4 : 20;
  opts.heartbeat_interval_s = std::max(1, f.heartbeat_s);
  opts.compact_threshold = f.compact_threshold;
  opts.max_readahead_blocks =
      static_cast<uint32_t>((f.max_readahead_mib << 20) / settings.block_size);
  std::string name = settings.name;
  vfs::Vfs v(std::move(m), std::move(*store), std::move(settings), opts);
  meta::SessionInfo session;
  session.host = Hostname();
  session.pid = static_cast<uint32_t>(getpid());
  session.mountpoint = f.mountpoint;
  session.version = "0.1.0";
  Status started = v.Start(session);
  if (!started.ok()) return fail(started);
  fuse::MountOptions mo;
  mo.mountpoint = f.mountpoint;
  mo.fsname = "tessera:" + name;
  mo.fuse_options = f.options;
  mo.debug = f.debug;
  mo.max_threads = f.max_threads;
  Status served = fuse::Serve(v, mo, ready);
  Status down = v.Shutdown();
  if (!down.ok()) TLOG(kError) << "shutdown: " << down.ToString();
  return served.ok() ? down : served;
}

std::string DefaultLogFile() {
  if (geteuid() == 0) return "/var/log/tessera.log";
  return ExpandHome("~/.tessera/tessera.log");
}

void RunMount(MountFlags f) {
  if (log::GetLevel() > log::kInfo) log::SetLevel(log::kInfo);
  f.meta_url = AbsoluteMetaUrl(f.meta_url);
  Status mp = fuse::CheckMountpoint(f.mountpoint);
  if (!mp.ok()) Die(mp.ToString());
  char real[PATH_MAX];
  if (::realpath(f.mountpoint.c_str(), real)) f.mountpoint = real;

  if (!f.background) {
    Status s = MountAndServe(f, [](const Status&) {});
    if (!s.ok()) Die(s.ToString());
    return;
  }
  if (f.log_file.empty()) f.log_file = DefaultLogFile();
  int fds[2];
  if (pipe(fds) != 0) Die(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) Die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    setsid();
    if (chdir("/") != 0) _exit(1);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    int wfd = fds[1];
    auto ready = [&wfd](const Status& s) {
      std::string msg = s.ok() ? "OK" : s.ToString();
      ssize_t ignored = write(wfd, msg.data(), msg.size());
      (void)ignored;
      close(wfd);
      wfd = -1;
    };
    Status logged = log::SetFile(f.log_file);
    if (!logged.ok()) {
      ready(Status(logged.code(), logged.ToString() + "; choose another with --log"));
      _exit(1);
    }
    Status s = MountAndServe(f, ready);
    if (!s.ok()) TLOG(kError) << s.ToString();
    _exit(s.ok() ? 0 : 1);
  }
  close(fds[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  if (msg != "OK") {
    int status = 0;
    waitpid(pid, &status, 0);
    Die(msg.empty() ? "the mount daemon exited before mounting; see " + f.log_file : msg);
  }
  std::printf("mounted %s at %s (pid %d, log %s); unmount with: tessera umount %s\n",
              f.meta_url.c_str(), f.mountpoint.c_str(), pid, f.log_file.c_str(),
              f.mountpoint.c_str());
}

struct UmountFlags {
  std::string mountpoint;
  bool lazy = false;
  int wait_seconds = 30;
};

void RunUmount(const UmountFlags& f) {
  // The daemon's pid, so we can wait until it has finished its shutdown.
  pid_t daemon = 0;
  char buf[1 << 16];
  ssize_t n = getxattr(f.mountpoint.c_str(), vfs::kInfoXattr, buf, sizeof buf);
  if (n > 0) {
    auto j = nlohmann::json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
    if (j.is_object() && j.contains("pid")) daemon = j["pid"].get<pid_t>();
  }
  int rc;
  if (geteuid() == 0) {
    rc = umount2(f.mountpoint.c_str(), f.lazy ? MNT_DETACH : 0);
  } else {
    std::string cmd = std::string("fusermount3 -u ") + (f.lazy ? "-z " : "") + "'" +
                      f.mountpoint + "'";
    rc = std::system(cmd.c_str()) == 0 ? 0 : -1;
    if (rc != 0) errno = EINVAL;
  }
  if (rc != 0) {
    int err = errno;
    if (err == EINVAL) Die(f.mountpoint + " is not mounted");
    if (err == EBUSY) {
      Die(f.mountpoint + " is busy (files are open or a process is inside it); close them or "
                         "use --lazy");
    }
    Die("umount " + f.mountpoint + ": " + std::strerror(err));
  }
  for (int i = 0; daemon > 0 && i < f.wait_seconds * 10; ++i) {
    if (kill(daemon, 0) != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

void AddMountCommand(CLI::App& app) {
  auto f = std::make_shared<MountFlags>();
  CLI::App* cmd = app.add_subcommand("mount", "mount a volume with FUSE");
  cmd->add_option("META_URL", f->meta_url, "metadata engine of a formatted volume")->required();
  cmd->add_option("MOUNTPOINT", f->mountpoint, "an existing directory")->required();
  cmd->add_flag("-d,--background", f->background,
                "run as a daemon; returns once the mount is ready");
  cmd->add_option("--log", f->log_file,
                  "log file of a --background mount (default /var/log/tessera.log for root, "
                  "else ~/.tessera/tessera.log)");
  cmd->add_option("-o", f->options, "FUSE mount options, e.g. -o allow_other (repeatable)")
      ->delimiter(',');
  cmd->add_option("--attr-cache", f->attr_cache, "seconds the kernel caches attributes")
      ->capture_default_str();
  cmd->add_option("--entry-cache", f->entry_cache, "seconds the kernel caches file lookups")
      ->capture_default_str();
  cmd->add_option("--dir-entry-cache", f->dir_entry_cache,
                  "seconds the kernel caches directory lookups")
      ->capture_default_str();
  cmd->add_option("--block-cache", f->block_cache_mib, "MiB of memory for blocks being read")
      ->capture_default_str();
  cmd->add_option("--max-threads", f->max_threads, "FUSE worker threads")->capture_default_str();
  cmd->add_option("--max-uploads", f->max_uploads,
                  "blocks uploading in parallel (default 20; 4 for file storage)");
  cmd->add_option("--max-readahead", f->max_readahead_mib,
                  "MiB a sequential reader fetches ahead (0: no readahead)")
      ->capture_default_str();
  cmd->add_option("--heartbeat", f->heartbeat_s,
                  "seconds between session heartbeats; a mount silent for 5 heartbeats is "
                  "stale and other mounts release its locks and files")
      ->capture_default_str();
  cmd->add_option("--compact-threshold", f->compact_threshold,
                  "a chunk holding more slice records than this after a write is rewritten as "
                  "one slice in the background (0: never; `tessera compact` still works)")
      ->capture_default_str();
  cmd->add_option("--io-retries", f->io_retries,
                  "attempts of an object store request that fails for a transient reason "
                  "(timeouts, 5xx, 429) before the file operation fails with EIO")
      ->capture_default_str();
  cmd->add_flag("--debug", f->debug, "log every FUSE request");
  cmd->callback([f] { RunMount(*f); });
}

void AddUmountCommand(CLI::App& app) {
  auto f = std::make_shared<UmountFlags>();
  CLI::App* cmd = app.add_subcommand("umount", "unmount a volume and wait for its daemon to stop");
  cmd->add_option("MOUNTPOINT", f->mountpoint, "where the volume is mounted")->required();
  cmd->add_flag("-l,--lazy", f->lazy, "detach now even if busy; clean up when no longer used");
  cmd->add_option("--wait", f->wait_seconds, "seconds to wait for the daemon to finish")
      ->capture_default_str();
  cmd->callback([f] { RunUmount(*f); });
}

}  // namespace tessera::cli
