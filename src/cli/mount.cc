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
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "cache/cached_store.h"
#include "cache/disk_cache.h"
#include "cli/commands.h"
#include "cli/metrics_http.h"
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
  uint64_t buffer_mib = 300;
  int max_threads = 16;
  int io_retries = 10;
  int max_uploads = 0;  // 0: 20 for object stores, 4 for a local directory
  int max_downloads = 16;
  uint64_t max_readahead_mib = 32;
  double readahead_ratio = vfs::Options().readahead_ratio;
  int heartbeat_s = 12;
  double missing_block_wait_s = 30;
  std::string metrics = "127.0.0.1:9567";
  bool metrics_given = false;  // an address the user chose must be served, not another
  uint32_t compact_threshold = 20;
  int trash_purge_interval_s = 3600;
  bool debug = false;
  std::string cache_dir;  // "": the default for this user (DefaultCacheDir)
  uint64_t cache_size_mib = 102400;
  double free_space_ratio = 0.1;
  std::string cache_mode = "0600";
  std::string cache_eviction = "2-random";
  bool writeback = false;
  double upload_delay_s = 0;
};

// How long a clean unmount waits for writeback uploads; what is left stays
// staged and the next mount uploads it.
constexpr auto kFlushOnUnmount = std::chrono::seconds(25);

// Like /var/jfsCache for root, else under the home directory.
std::string DefaultCacheDir() {
  if (geteuid() == 0) return "/var/cache/tessera";
  return ExpandHome("~/.tessera/cache");
}

// The cache options for volume `settings`: each directory gets a
// subdirectory named by the volume's UUID, so volumes never share entries.
Result<cache::CacheOptions> CacheOptionsFor(const MountFlags& f, const meta::Settings& settings) {
  cache::CacheOptions o;
  o.capacity_bytes = f.cache_size_mib << 20;
  o.free_space_ratio = f.free_space_ratio;
  char* end = nullptr;
  unsigned long mode = std::strtoul(f.cache_mode.c_str(), &end, 8);
  if (f.cache_mode.empty() || *end != '\0' || mode > 0777 || (mode & 0600) != 0600) {
    return Err(Code::kInvalid,
               "--cache-mode must be octal with owner read and write, like 0600; got '" +
                   f.cache_mode + "'");
  }
  o.file_mode = static_cast<uint32_t>(mode);
  if (f.cache_eviction == "2-random") {
    o.eviction = cache::Eviction::k2Random;
  } else if (f.cache_eviction == "lru") {
    o.eviction = cache::Eviction::kLru;
  } else {
    return Err(Code::kInvalid,
               "--cache-eviction must be 2-random or lru; got '" + f.cache_eviction + "'");
  }
  std::string sub = settings.uuid.empty() ? settings.name : settings.uuid;
  for (const std::string& d : cache::SplitDirs(f.cache_dir)) {
    o.dirs.push_back(d == "memory" ? d : d + "/" + sub);
  }
  return o;
}

std::string Hostname() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// The Prometheus endpoint: the address asked for, or with the default, the
// first free port of the ten after it (several mounts on one machine).
Result<std::unique_ptr<MetricsServer>> StartMetrics(const MountFlags& f) {
  if (f.metrics.empty() || f.metrics == "off") return std::unique_ptr<MetricsServer>();
  auto server = MetricsServer::Start(f.metrics);
  if (server.has_value() || f.metrics_given) {
    if (server.has_value()) TLOG(kInfo) << "metrics on http://" << f.metrics << "/metrics";
    return server;
  }
  size_t colon = f.metrics.rfind(':');
  int port = std::atoi(f.metrics.c_str() + colon + 1);
  for (int p = port + 1; p <= port + 10; ++p) {
    std::string address = f.metrics.substr(0, colon + 1) + std::to_string(p);
    server = MetricsServer::Start(address);
    if (server.has_value()) {
      TLOG(kInfo) << "metrics on http://" << address << "/metrics";
      return server;
    }
  }
  TLOG(kWarn) << "no free port for metrics near " << f.metrics << "; serving none";
  return std::unique_ptr<MetricsServer>();
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
  // Keep some freed blocks' pages (re-faulting each block costs throughput),
  // but not so many that resident memory drifts past --buffer-size: every
  // malloc arena may keep this much free and fragments on its own, so there
  // is one (8 threads streaming 8 GiB through a 64 MiB buffer peaked at
  // 161-173 MiB with two arenas, 137-140 MiB with one).
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
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
  opts.buffer_bytes = std::max<uint64_t>(f.buffer_mib, 32) << 20;
  // Parallel fsyncs on one local disk contend; remote stores need many requests in flight.
  opts.max_uploads = f.max_uploads > 0 ? f.max_uploads : settings.storage == "file" ? 4 : 20;
  opts.heartbeat_interval_s = std::max(1, f.heartbeat_s);
  opts.max_downloads = std::max(1, f.max_downloads);
  opts.missing_block_wait_s = f.missing_block_wait_s;
  opts.compact_threshold = f.compact_threshold;
  opts.trash_purge_interval_s = std::max(1, f.trash_purge_interval_s);
  opts.max_readahead_blocks =
      static_cast<uint32_t>((f.max_readahead_mib << 20) / settings.block_size);
  opts.readahead_ratio = f.readahead_ratio;
  // First: a busy port stops the mount before it opens anything more.
  auto metrics = StartMetrics(f);
  if (!metrics.has_value()) return fail(metrics.error());
  // The disk cache wraps the whole volume stack: a hit skips the checksum,
  // decryption and decompression (cached files carry their own checksum).
  std::unique_ptr<cache::DiskCache> disk_cache;  // outlives v, which owns the wrapper
  cache::CachedStore* cached = nullptr;
  std::unique_ptr<object::ObjectStore> volume_store = std::move(*store);
  if (f.cache_size_mib > 0) {
    auto co = CacheOptionsFor(f, settings);
    if (!co.has_value()) return fail(co.error());
    if (f.writeback && co->dirs.size() == 1 && co->dirs[0] == "memory") {
      return fail(Status::Invalid("--writeback needs a disk --cache-dir, not memory"));
    }
    auto c = cache::NewDiskCache(*co);
    if (!c.has_value()) return fail(c.error());
    disk_cache = std::move(*c);
    cache::CachedStoreOptions cso;
    cso.writeback = f.writeback;
    cso.max_uploads = opts.max_uploads;
    cso.upload_delay = std::chrono::milliseconds(static_cast<int64_t>(f.upload_delay_s * 1000));
    auto wrapped = cache::NewCachedStore(std::move(volume_store), *disk_cache, cso);
    cached = wrapped.get();
    volume_store = std::move(wrapped);
    TLOG(kInfo) << disk_cache->Describe() << (f.writeback ? ", writeback" : "");
  } else if (f.writeback) {
    return fail(Status::Invalid("--writeback needs the disk cache (--cache-size > 0)"));
  }
  std::string name = settings.name;
  vfs::Vfs v(std::move(m), std::move(volume_store), std::move(settings), opts);
  if (disk_cache) {
    cache::DiskCache* dc = disk_cache.get();
    v.SetCacheControl({[dc](const std::string& key) { return dc->Contains(key); },
                       [dc](const std::string& key) { return dc->Evict(key); },
                       [dc](const std::string& key, uint32_t offset,
                            uint32_t length) -> std::optional<std::string> {
                         // Contains first: a block not cached is not a miss
                         // here, the whole-block fetch that follows counts it.
                         if (!dc->Contains(key)) return std::nullopt;
                         return dc->GetRange(key, offset, length);
                       }});
  }
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
  if (cached != nullptr && cached->staged() > 0) {
    TLOG(kInfo) << "uploading " << cached->staged() << " staged blocks";
    size_t left = cached->Flush(kFlushOnUnmount);
    if (left > 0) {
      TLOG(kWarn) << left
                  << " blocks are still staged; the next mount with this cache directory "
                     "uploads them";
    }
  }
  return served.ok() ? down : served;
}

std::string DefaultLogFile() {
  if (geteuid() == 0) return "/var/log/tessera.log";
  return ExpandHome("~/.tessera/tessera.log");
}

void RunMount(MountFlags f) {
  if (log::GetLevel() > log::kInfo) log::SetLevel(log::kInfo);
  f.meta_url = AbsoluteMetaUrl(f.meta_url);
  if (f.cache_dir.empty()) f.cache_dir = DefaultCacheDir();
  {
    // The daemon runs in /: make every cache directory absolute now.
    std::string dirs;
    for (std::string d : cache::SplitDirs(f.cache_dir)) {
      d = ExpandHome(d);
      char cwd[PATH_MAX];
      if (d != "memory" && d[0] != '/' && getcwd(cwd, sizeof cwd)) d = std::string(cwd) + "/" + d;
      dirs += (dirs.empty() ? "" : ":") + d;
    }
    f.cache_dir = dirs;
  }
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
  cmd->add_option("--buffer-size", f->buffer_mib,
                  "MiB of memory for file data: writes not yet uploaded (writers wait when it "
                  "is full) and blocks kept for readers (at least 32)")
      ->capture_default_str();
  cmd->add_option("--max-threads", f->max_threads, "FUSE worker threads")->capture_default_str();
  cmd->add_option("--max-uploads", f->max_uploads,
                  "blocks uploading in parallel (default 20; 4 for file storage)");
  cmd->add_option("--max-downloads", f->max_downloads, "blocks fetched ahead in parallel")
      ->capture_default_str();
  cmd->add_option("--max-readahead", f->max_readahead_mib,
                  "MiB a sequential reader fetches ahead (0: no readahead)")
      ->capture_default_str();
  cmd->add_option("--readahead-ratio", f->readahead_ratio,
                  "caps read amplification: a sequential stream fetches ahead at most this many "
                  "times the bytes it has read, in whole blocks, so short runs at random "
                  "offsets fetch nothing past the blocks they touch and a long read has the "
                  "full --max-readahead once it has read that divided by this (0: no cap)")
      ->check([](const std::string& v) -> std::string {
        char* end = nullptr;
        const double ratio = std::strtod(v.c_str(), &end);
        if (!v.empty() && *end == '\0' && ratio >= 0) return "";
        return "must be a number, 0 or more; got '" + v + "'";
      })
      ->capture_default_str();
  cmd->add_option("--missing-block-wait", f->missing_block_wait_s,
                  "seconds a read waits for a block the metadata names but the store lacks "
                  "(another mount's --writeback may still be uploading it) before EIO")
      ->capture_default_str();
  cmd->add_option("--heartbeat", f->heartbeat_s,
                  "seconds between session heartbeats; a mount silent for 5 heartbeats is "
                  "stale and other mounts release its locks and files")
      ->capture_default_str();
  cmd->add_option("--compact-threshold", f->compact_threshold,
                  "a chunk holding more slice records than this after a write is rewritten as "
                  "one slice in the background once its writes pause for a second (0: never; "
                  "`tessera compact` still works)")
      ->capture_default_str();
  // Hidden (no group): tests purge promptly.
  cmd->add_option("--trash-purge-interval", f->trash_purge_interval_s,
                  "seconds between purges of trash hours older than the volume's trash days")
      ->group("");
  cmd->add_option("--io-retries", f->io_retries,
                  "attempts of an object store request that fails for a transient reason "
                  "(timeouts, 5xx, 429) before the file operation fails with EIO")
      ->capture_default_str();
  cmd->add_option("--metrics", f->metrics,
                  "HOST:PORT serving Prometheus metrics (default port busy: the next free one "
                  "of ten is used; off: none)")
      ->capture_default_str()
      ->each([f](const std::string&) { f->metrics_given = true; });
  cmd->add_option("--cache-dir", f->cache_dir,
                  "directories of the local block cache, ':'-separated (blocks spread by hash), "
                  "or 'memory'; each volume uses a subdirectory named by its UUID (default "
                  "/var/cache/tessera for root, else ~/.tessera/cache)");
  cmd->add_option("--cache-size", f->cache_size_mib,
                  "MiB of blocks the cache keeps, shared by its directories (0: no cache)")
      ->capture_default_str();
  cmd->add_option("--free-space-ratio", f->free_space_ratio,
                  "fraction of each cache disk's space and inodes to keep free (the cache "
                  "evicts to keep it)")
      ->capture_default_str();
  cmd->add_option("--cache-mode", f->cache_mode, "file mode of cached and staged blocks (octal)")
      ->capture_default_str();
  cmd->add_option("--cache-eviction", f->cache_eviction,
                  "2-random (of two random blocks, evict the one used longer ago) or lru")
      ->capture_default_str();
  cmd->add_flag("--writeback", f->writeback,
                "a close returns once blocks are on the local cache disk; they upload in the "
                "background (and after a restart). Data lives only on this machine until "
                "uploaded: see docs/cache.md");
  cmd->add_option("--upload-delay", f->upload_delay_s,
                  "with --writeback, seconds a block waits before it uploads; a block deleted "
                  "meanwhile is never uploaded")
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
