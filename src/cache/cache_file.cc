// The cache's file format and file-system calls (see cache_file.h).
#include "cache/cache_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/encoding.h"
#include "common/posix_file.h"
#include "common/xxhash.h"

namespace tessera::cache {
namespace {

constexpr char kMagic1[4] = {'T', 'S', 'C', '1'};
constexpr char kMagic2[4] = {'T', 'S', 'C', '2'};
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

uint64_t Pieces(uint64_t length) { return (length + kPieceSize - 1) / kPieceSize; }

uint32_t PieceSum(const char* p, size_t n) { return static_cast<uint32_t>(XXH3_64bits(p, n)); }

// Checks the pieces of `data`, which starts at piece `first`, against `sums`
// (4 bytes each, from piece `first`).
bool PiecesMatch(std::string_view data, const char* sums) {
  for (size_t at = 0, i = 0; at < data.size(); at += kPieceSize, ++i) {
    size_t n = std::min<size_t>(kPieceSize, data.size() - at);
    if (PieceSum(data.data() + at, n) != GetLE32(sums + 4 * i)) return false;
  }
  return true;
}

// Reads up to `size` bytes at `offset` into `out`; how many there were.
Result<size_t> PreadSome(int fd, char* out, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Err(Status::FromErrno(errno, "read of a cache file"));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Reads exactly `size` bytes at `offset`; a short file is kCorrupt.
Status PreadInto(int fd, char* out, size_t size, uint64_t offset) {
  ASSIGN_OR_RETURN(size_t got, PreadSome(fd, out, size, offset));
  if (got < size) return Status::Corrupt("shorter than its header says");
  return Status::Ok();
}

Status PreadAll(int fd, std::string* out, uint64_t offset) {
  return PreadInto(fd, out->data(), out->size(), offset);
}

// The block length a current-format header `head` (at least
// kFixedHeaderSize bytes) declares, or kCorrupt.
Result<uint64_t> SecondFormatLength(const char* head) {
  if (std::memcmp(head, kMagic2, 4) != 0) return Err(Code::kCorrupt, "bad magic");
  if (GetLE32(head + 4) != kPieceSize) return Err(Code::kCorrupt, "unknown piece size");
  return GetLE64(head + 8);
}

Result<std::string> DecodeFirstFormat(std::string&& file) {
  uint64_t want = GetLE64(file.data() + 8);
  uint64_t got = XXH3_64bits(file.data() + kFixedHeaderSize, file.size() - kFixedHeaderSize);
  if (got != want) return Err(Code::kCorrupt, "checksum mismatch");
  file.erase(0, kFixedHeaderSize);
  return std::move(file);
}

// Direct I/O moves a cache file's bytes between the disk and an aligned
// buffer: no copy into the page cache, which cost more
// CPU than the download itself (several times a direct write's system time
// for the same file, measured with dd).
constexpr size_t kDirectAlign = 4096;
constexpr size_t kDirectStretch = size_t{1} << 20;

// A few aligned buffers shared by every thread: a buffer per thread would
// cost a mebibyte of resident memory for each of the mount's dozens of
// threads. A caller waits for a free one (direct I/O is bound by the disk).
class DirectBuffer {
 public:
  DirectBuffer() {
    std::unique_lock lock(Pool().mu);
    Pool().cv.wait(lock, [] { return !Pool().free.empty() || Pool().made < kCount; });
    if (!Pool().free.empty()) {
      buf_ = Pool().free.back();
      Pool().free.pop_back();
      return;
    }
    buf_ = static_cast<char*>(std::aligned_alloc(kDirectAlign, kDirectStretch));
    if (buf_ != nullptr) ++Pool().made;
  }
  ~DirectBuffer() {
    if (buf_ == nullptr) return;
    {
      std::lock_guard lock(Pool().mu);
      Pool().free.push_back(buf_);
    }
    Pool().cv.notify_one();
  }
  DirectBuffer(const DirectBuffer&) = delete;
  DirectBuffer& operator=(const DirectBuffer&) = delete;
  char* get() const { return buf_; }

 private:
  static constexpr int kCount = 8;
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<char*> free;  // kept for the life of the process
    int made = 0;
  };
  static Shared& Pool() {
    static Shared* shared = new Shared;  // never destroyed: threads may outlive statics
    return *shared;
  }
  char* buf_ = nullptr;
};

// Writes `head` then `data` at offset 0 of the empty file `fd` with O_DIRECT,
// in aligned stretches (the last padded, then cut back to the exact length).
// 0, an errno, or EINVAL when the file system refuses direct I/O (the caller
// then writes through the page cache).
int WriteDirect(int fd, std::string_view head, std::string_view data) {
  DirectBuffer held;
  char* buf = held.get();
  if (buf == nullptr) return EINVAL;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) return EINVAL;
  const uint64_t total = head.size() + data.size();
  int err = 0;
  for (uint64_t at = 0; at < total && err == 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kDirectStretch, total - at));
    // The stretch [at, at + n) of head + data, gathered into the buffer.
    size_t filled = 0;
    if (at < head.size()) {
      filled = std::min<size_t>(n, head.size() - at);
      std::memcpy(buf, head.data() + at, filled);
    }
    if (filled < n) std::memcpy(buf + filled, data.data() + (at + filled - head.size()), n - filled);
    const size_t padded = (n + kDirectAlign - 1) / kDirectAlign * kDirectAlign;
    std::memset(buf + n, 0, padded - n);
    for (size_t done = 0; done < padded;) {
      ssize_t w = ::pwrite(fd, buf + done, padded - done, static_cast<off_t>(at + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        err = w < 0 ? errno : EIO;
        break;
      }
      done += static_cast<size_t>(w);
    }
    at += n;
  }
  if (err == 0 && ::ftruncate(fd, static_cast<off_t>(total)) != 0) err = errno;
  ::fcntl(fd, F_SETFL, flags);
  return err;
}

}  // namespace

uint64_t HeaderSize(uint64_t length) { return kFixedHeaderSize + 4 * Pieces(length); }

uint64_t BlockLengthOf(uint64_t file_size) {
  if (file_size < kFixedHeaderSize) return 0;
  // Every whole piece takes its bytes and its sum; what is left over is the
  // sum and the bytes of a last, partial piece.
  const uint64_t rest = file_size - kFixedHeaderSize;
  const uint64_t whole = rest / (kPieceSize + 4);
  const uint64_t tail = rest % (kPieceSize + 4);
  return whole * kPieceSize + (tail > 4 ? tail - 4 : 0);
}

std::string EncodeHeader(std::string_view block) {
  std::string out;
  out.reserve(HeaderSize(block.size()));
  out.append(kMagic2, 4);
  PutLE32(&out, kPieceSize);
  PutLE64(&out, block.size());
  for (size_t at = 0; at < block.size(); at += kPieceSize) {
    PutLE32(&out, PieceSum(block.data() + at, std::min<size_t>(kPieceSize, block.size() - at)));
  }
  return out;
}

std::string Encode(std::string_view block) {
  std::string out = EncodeHeader(block);
  out.append(block);
  return out;
}

Result<std::string> Decode(std::string&& file) {
  if (file.size() < kFixedHeaderSize) return Err(Code::kCorrupt, "shorter than its header");
  if (std::memcmp(file.data(), kMagic1, 4) == 0) return DecodeFirstFormat(std::move(file));
  ASSIGN_OR_RETURN(const uint64_t length, SecondFormatLength(file.data()));
  if (length > file.size() || HeaderSize(length) + length != file.size()) {
    return Err(Code::kCorrupt, "length does not match the file's size");
  }
  const size_t header = HeaderSize(length);
  if (!PiecesMatch(std::string_view(file).substr(header), file.data() + kFixedHeaderSize)) {
    return Err(Code::kCorrupt, "checksum mismatch");
  }
  file.erase(0, header);
  return std::move(file);
}

std::string Cut(std::string&& block, uint64_t offset, uint64_t length) {
  if (offset >= block.size()) return {};
  const uint64_t n = std::min<uint64_t>(block.size() - offset, length);
  if (offset == 0 && n == block.size()) return std::move(block);
  return block.substr(offset, n);
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
                    std::string_view head, bool direct) {
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
  if (err == 0) {
    // A direct write returns once the disk has the data, a buffered one at
    // once: small files, whose reader waits for this write, stay buffered;
    // so does what the caller wants kept in the page cache.
    err = direct && head.size() + data.size() >= kDirectStretch ? WriteDirect(fd, head, data)
                                                                 : EINVAL;
    if (err == EINVAL) {  // buffered, or no direct I/O here (tmpfs, some FUSE file systems)
      err = ::ftruncate(fd, 0) == 0 && ::lseek(fd, 0, SEEK_SET) == 0 ? 0 : errno;
      if (err == 0 && !head.empty()) err = WriteAll(fd, head);
      if (err == 0) err = WriteAll(fd, data);
    }
  }
  if (err == 0 && durable && ::fsync(fd) != 0) err = errno;
  if (err == 0 && file.Close() != 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return err;
  }
  return durable ? SyncDir(parent) : 0;
}

namespace {

// Opens `path` to read (without updating its access time when allowed);
// kNotFound when absent, an errno status otherwise.
Result<int> OpenForRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // not owner
  if (fd >= 0) return fd;
  if (errno == ENOENT || errno == ENOTDIR) return Err(Code::kNotFound, path);
  return Err(Status::FromErrno(errno, "open " + path));
}

// The verified block of the open current-format cache file `fd` of
// `file_size` bytes, read in stretches through `buf` (kDirectStretch bytes,
// aligned): each stretch is copied out and its whole pieces checked while they
// are still in the CPU's cache (checking 4 MiB after reading it all ran at
// memory speed). `direct`: `fd` has O_DIRECT. kNotSupported when the file is
// of the first format, or when the file system refuses direct I/O.
Result<std::string> ReadStretches(int fd, uint64_t file_size, char* buf, bool direct) {
  if (file_size < kFixedHeaderSize) return Err(Code::kCorrupt, "shorter than its header");
  const uint64_t length = BlockLengthOf(file_size);
  const uint64_t header = file_size - length;
  std::string head;
  Status st;
  std::string block;
  block.resize_and_overwrite(length, [&](char* p, size_t) {
    uint64_t verified = 0;  // block bytes checked so far
    for (uint64_t at = 0; at < file_size && st.ok();) {
      ssize_t got = ::pread(fd, buf, kDirectStretch, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        st = direct && errno == EINVAL && at == 0
                 ? Status(Code::kNotSupported, "no direct I/O")
                 : Status::FromErrno(errno, "read of a cache file");
        break;
      }
      if (got == 0) {
        st = Status::Corrupt("shorter than its header says");
        break;
      }
      const uint64_t end = std::min<uint64_t>(file_size, at + static_cast<uint64_t>(got));
      if (at == 0 && std::memcmp(buf, kMagic1, 4) == 0) {
        st = Status(Code::kNotSupported, "first format");
        break;
      }
      if (at < header) {  // the header may span stretches (blocks over 256 MiB)
        head.append(buf, std::min(end, header) - at);
        if (head.size() == header) {
          auto declared = SecondFormatLength(head.data());
          if (!declared || *declared != length) {
            st = declared ? Status::Corrupt("length does not match the file's size")
                          : declared.error();
            break;
          }
        }
      }
      const uint64_t from = std::max(at, header);
      if (end > from) std::memcpy(p + (from - header), buf + (from - at), end - from);
      // Check every piece that is now whole (or the last one, at the end).
      const uint64_t have = end > header ? end - header : 0;
      const uint64_t upto = have == length ? length : have / kPieceSize * kPieceSize;
      if (upto > verified) {
        if (!PiecesMatch({p + verified, upto - verified},
                         head.data() + kFixedHeaderSize + 4 * (verified / kPieceSize))) {
          st = Status::Corrupt("checksum mismatch");
          break;
        }
        verified = upto;
      }
      at = end;
    }
    return length;
  });
  RETURN_IF_ERROR(st);
  return block;
}

// The verified block of the open cache file `fd` (no O_DIRECT), of either format.
Result<std::string> ReadBlock(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Err(Status::FromErrno(errno, "stat of a cache file"));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  {
    DirectBuffer held;
    if (held.get() == nullptr) return Err(Code::kNoSpace, "no memory for a cache read");
    auto block = ReadStretches(fd, file_size, held.get(), false);
    if (block || block.error().code() != Code::kNotSupported) return block;
  }
  std::string file(file_size, '\0');  // the first format: checked whole
  RETURN_IF_ERROR(PreadAll(fd, &file, 0));
  return DecodeFirstFormat(std::move(file));
}

// Bytes [offset, offset + length) of the block of the open cache file `fd`.
Result<std::string> ReadRangeOf(int fd, uint64_t offset, uint64_t length) {
  const uint64_t first = offset / kPieceSize;
  uint64_t last = (offset + std::max<uint64_t>(length, 1) - 1) / kPieceSize;
  // The fixed header and the sums up to the range's last piece, in one read
  // (all the sums of a 4 MiB block are 4 KiB).
  std::string head(kFixedHeaderSize + 4 * (last + 1), '\0');
  ASSIGN_OR_RETURN(size_t got, PreadSome(fd, head.data(), head.size(), 0));
  if (got < kFixedHeaderSize) return Err(Code::kCorrupt, "shorter than its header");
  if (std::memcmp(head.data(), kMagic1, 4) == 0) {
    ASSIGN_OR_RETURN(std::string block, ReadBlock(fd));
    return Cut(std::move(block), offset, length);
  }
  ASSIGN_OR_RETURN(const uint64_t block_length, SecondFormatLength(head.data()));
  if (offset >= block_length || length == 0) return std::string();
  const uint64_t end = std::min(offset + length, block_length);
  last = (end - 1) / kPieceSize;
  if (got < kFixedHeaderSize + 4 * (last + 1)) return Err(Code::kCorrupt, "header cut short");
  const uint64_t from = first * kPieceSize;
  std::string data(std::min(block_length, (last + 1) * kPieceSize) - from, '\0');
  RETURN_IF_ERROR(PreadAll(fd, &data, HeaderSize(block_length) + from));
  if (!PiecesMatch(data, head.data() + kFixedHeaderSize + 4 * first)) {
    return Err(Code::kCorrupt, "checksum mismatch");
  }
  data.erase(0, offset - from);
  data.resize(end - offset);
  return data;
}

}  // namespace

Result<std::string> ReadBlockFile(const std::string& path) {
  // Whole blocks bypass the page cache: a sequential reader takes each block
  // once, and filling the page cache cost more CPU than the read itself.
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME | O_DIRECT);
  if (raw < 0 && errno == EPERM) raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  if (raw >= 0) {
    Fd fd(raw);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Err(Status::FromErrno(errno, "stat of " + path));
    DirectBuffer held;
    if (held.get() != nullptr) {
      auto block = ReadStretches(fd.get(), static_cast<uint64_t>(st.st_size), held.get(), true);
      if (block || block.error().code() != Code::kNotSupported) return block;
    }
  }
  ASSIGN_OR_RETURN(raw, OpenForRead(path));
  Fd fd(raw);
  return ReadBlock(fd.get());
}

Result<std::string> ReadRange(const std::string& path, uint64_t offset, uint64_t length) {
  ASSIGN_OR_RETURN(int raw, OpenForRead(path));
  Fd fd(raw);
  return ReadRangeOf(fd.get(), offset, length);
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
