// The cache's file format and file-system calls (see cache_file.h).
#include "cache/cache_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/posix_file.h"

namespace tessera::cache {
namespace {

constexpr char kMagic[4] = {'T', 'S', 'C', '1'};
constexpr std::string_view kTempPrefix = ".tmp.";

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

void WalkDir(const std::string& root, const std::string& rel,
             const std::function<bool(const std::string&, uint64_t, int64_t)>& fn, bool* stop) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return;
  while (!*stop) {
    dirent* e = ::readdir(d.get());
    if (e == nullptr) break;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child_rel = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
    std::string child = root + "/" + child_rel;
    struct stat st;
    if (::lstat(child.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      WalkDir(root, child_rel, fn, stop);
    } else if (S_ISREG(st.st_mode)) {
      if (IsTempName(name)) {
        ::unlink(child.c_str());  // left by a crash mid-write
        continue;
      }
      uint64_t size = static_cast<uint64_t>(st.st_size);
      if (!fn(child_rel, size, st.st_atim.tv_sec)) *stop = true;
    }
  }
}

}  // namespace

std::string EncodeHeader(std::string_view block) {
  std::string out;
  out.reserve(kHeaderSize);
  out.append(kMagic, 4);
  out.append(4, '\0');
  uint64_t h = XXH3_64bits(block.data(), block.size());
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(h >> (8 * i)));
  return out;
}

std::string Encode(std::string_view block) {
  std::string out = EncodeHeader(block);
  out.append(block);
  return out;
}

Result<std::string> Decode(std::string&& file) {
  if (file.size() < kHeaderSize) return Err(Code::kCorrupt, "shorter than its header");
  if (std::memcmp(file.data(), kMagic, 4) != 0) return Err(Code::kCorrupt, "bad magic");
  uint64_t want = 0;
  for (int i = 0; i < 8; ++i) {
    want |= uint64_t{static_cast<unsigned char>(file[8 + static_cast<size_t>(i)])} << (8 * i);
  }
  uint64_t got = XXH3_64bits(file.data() + kHeaderSize, file.size() - kHeaderSize);
  if (got != want) return Err(Code::kCorrupt, "checksum mismatch");
  file.erase(0, kHeaderSize);
  return std::move(file);
}

bool IsTempName(std::string_view name) { return name.starts_with(kTempPrefix); }

bool StorableKey(std::string_view key) {
  if (key.empty() || key.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view part = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part == "." || part == ".." || IsTempName(part)) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

int MakeDirs(const std::string& path, uint32_t mode) {
  if (path.empty() || path == "/" || path == ".") return 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (::mkdir(path.c_str(), mode) == 0) return 0;
    if (errno == EEXIST) {
      struct stat st;
      if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) return ENOTDIR;
      return 0;
    }
    if (errno != ENOENT) return errno;
    if (int err = MakeDirs(Parent(path), mode); err != 0) return err;
  }
  return ENOENT;
}

int WriteFileAtomic(const std::string& path, std::string_view data, uint32_t mode, bool durable,
                    std::string_view head) {
  static std::atomic<uint64_t> counter{0};
  std::string parent = Parent(path);
  std::string tmp = parent + "/" + std::string(kTempPrefix) + std::to_string(::getpid()) + "." +
                    std::to_string(counter.fetch_add(1));
  // Directories need the x bits of the readable/writable classes.
  uint32_t dir_mode = mode | ((mode & 0444) >> 2) | ((mode & 0222) >> 1);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0 && errno == ENOENT) {
    if (int err = MakeDirs(parent, dir_mode); err != 0) return err;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  }
  if (fd < 0) return errno;
  Fd file(fd);
  int err = ::fchmod(fd, mode) == 0 ? 0 : errno;  // exact, whatever the umask
  if (err == 0 && !head.empty()) err = WriteAll(fd, head);
  if (err == 0) err = WriteAll(fd, data);
  if (err == 0 && durable && ::fsync(fd) != 0) err = errno;
  if (err == 0 && file.Close() != 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return err;
  }
  return durable ? SyncDir(parent) : 0;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (raw < 0 && errno == EPERM) raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // not owner
  Fd fd(raw);
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Err(Code::kNotFound, path);
    return Err(Status::FromErrno(errno, "open " + path));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Err(Status::FromErrno(errno, "stat " + path));
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Status::FromErrno(errno, "read " + path));
    }
    if (n == 0) break;  // shrank under us: the checksum will say so
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

void Walk(const std::string& root,
          const std::function<bool(const std::string&, uint64_t, int64_t)>& fn) {
  bool stop = false;
  WalkDir(root, "", fn, &stop);
}

CacheMetrics& Metrics() {
  static CacheMetrics m{
      metrics::GetCounter("tessera_diskcache_hits_total", "blocks served by the cache"),
      metrics::GetCounter("tessera_diskcache_misses_total", "blocks the cache did not have"),
      metrics::GetCounter("tessera_diskcache_hit_bytes_total", "bytes served by the cache"),
      metrics::GetCounter("tessera_diskcache_write_bytes_total", "bytes written to the cache"),
      metrics::GetGauge("tessera_diskcache_used_bytes", "bytes of blocks in the cache"),
      metrics::GetGauge("tessera_diskcache_blocks", "blocks in the cache"),
      metrics::GetCounter("tessera_diskcache_evictions_total", "blocks evicted from the cache"),
      metrics::GetCounter("tessera_diskcache_corrupt_total",
                          "cached or staged files that failed their checksum (deleted)"),
      metrics::GetCounter("tessera_diskcache_errors_total",
                          "cache disk operations that failed (the object store served instead)"),
      metrics::GetGauge("tessera_staging_blocks", "writeback blocks staged, not yet uploaded"),
      metrics::GetGauge("tessera_staging_bytes", "bytes of writeback blocks not yet uploaded"),
      metrics::GetCounter("tessera_staging_uploads_total", "staged blocks uploaded"),
      metrics::GetCounter("tessera_staging_skipped_total",
                          "staged blocks deleted before their upload (never uploaded)"),
  };
  return m;
}

}  // namespace tessera::cache
