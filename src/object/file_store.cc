// The file object store: object "a/b/c" is the file <root>/a/b/c.
//
// Put writes a temporary file beside the final one, fsyncs it, renames it
// over the final name and fsyncs the directory, so a reader sees the whole
// object or nothing, and a stored object survives a crash. Temporary files are
// named ".tmp.*"; keys with a component of that form are refused, so List can
// skip them without hiding any object. Delete removes directories it leaves
// empty; Put retries when such a removal races with it.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <vector>

#include "common/posix_file.h"
#include "object/store.h"

namespace tessera::object {
namespace {

constexpr std::string_view kTempPrefix = ".tmp.";
constexpr int kRaceRetries = 8;

// Owns a DIR*.
struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// A key is '/'-separated non-empty components, none "." or ".." or temporary.
bool ValidKey(std::string_view key) {
  if (key.empty() || key.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    std::string_view part = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || part == "." || part == ".." || part.starts_with(kTempPrefix)) return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// mkdir -p; tolerates directories appearing or vanishing concurrently.
int MakeDirs(const std::string& path) {
  if (path.empty()) return 0;
  for (int attempt = 0; attempt < kRaceRetries; ++attempt) {
    if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return 0;
    if (errno != ENOENT) return errno;
    if (int err = MakeDirs(Parent(path)); err != 0) return err;
  }
  return ENOENT;
}

std::string UniqueTempName() {
  static std::atomic<uint64_t> counter{0};
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

class FileStore final : public ObjectStore {
 public:
  explicit FileStore(std::string root) : root_(std::move(root)), dir_(root_) {
    while (!dir_.empty() && dir_.back() == '/') dir_.pop_back();
  }

  std::string Describe() const override { return "file://" + root_; }

  Status Create() override {
    if (int err = MakeDirs(dir_); err != 0) {
      return Status::FromErrno(err, "bucket directory " + root_ + " cannot be created");
    }
    std::string probe = dir_ + "/" + UniqueTempName() + ".probe";
    int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return Status::FromErrno(errno, "bucket directory " + root_ + " is not writable");
    ::close(fd);
    ::unlink(probe.c_str());
    return Status::Ok();
  }

  Status Put(std::string_view key, std::string_view data) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    std::string parent = Parent(path);
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
      if (int err = MakeDirs(parent); err != 0) {
        return Status::FromErrno(
            err, "cannot create directory " + parent + " for object " + std::string(key));
      }
      tmp = parent + "/" + UniqueTempName();
      fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      // ENOENT: a Delete removed the (empty) parent after we made it; make it again.
      // EEXIST: another process (sharing the directory) picked the same name.
      bool retry = errno == ENOENT || errno == EEXIST;
      if (fd < 0 && (!retry || attempt + 1 >= kRaceRetries)) {
        return Status::FromErrno(
            errno, "put of object " + std::string(key) + " in " + Describe() + ": create " + tmp);
      }
    }
    Fd file(fd);
    Status st = WriteAndRename(file, tmp, path, data);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return Status(st.code(), "put of object " + std::string(key) + " in " + Describe() +
                                   " failed: " + st.message());
    }
    return SyncDir(parent);
  }

  Result<std::string> Get(std::string_view key, uint64_t offset, int64_t length) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (file.get() < 0) return Err(OpenError(errno, key));
    struct stat st;
    if (::fstat(file.get(), &st) != 0) return Err(Status::FromErrno(errno, "stat " + path));
    if (S_ISDIR(st.st_mode)) return Err(NotFound(key));
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset >= size) return std::string();
    uint64_t n = size - offset;
    if (length >= 0 && static_cast<uint64_t>(length) < n) n = static_cast<uint64_t>(length);
    std::string out;
    int err = 0;
    // No zero-fill: pread overwrites the bytes (blocks are megabytes).
    out.resize_and_overwrite(n, [&](char* buf, size_t cap) {
      size_t done = 0;
      while (done < cap) {
        ssize_t r = ::pread(file.get(), buf + done, cap - done, static_cast<off_t>(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) err = errno;
        if (r <= 0) break;
        done += static_cast<size_t>(r);
      }
      return done;
    });
    if (err != 0) return Err(Status::FromErrno(err, "read " + path));
    return out;
  }

  Result<ObjectInfo> Head(std::string_view key) override {
    RETURN_IF_ERROR(CheckKey(key));
    struct stat st;
    if (::stat(Path(key).c_str(), &st) != 0) return Err(OpenError(errno, key));
    if (S_ISDIR(st.st_mode)) return Err(NotFound(key));
    return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec};
  }

  Status Delete(std::string_view key) override {
    RETURN_IF_ERROR(CheckKey(key));
    std::string path = Path(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR && errno != EISDIR) {
      return Status::FromErrno(errno, "delete object " + std::string(key) + " in " + Describe());
    }
    // Remove directories this left empty; a non-empty one stops the climb.
    for (std::string dir = Parent(path); dir.size() > dir_.size(); dir = Parent(dir)) {
      if (::rmdir(dir.c_str()) != 0) break;
    }
    return Status::Ok();
  }

  Result<ListPage> List(std::string_view prefix, std::string_view start_after,
                        size_t limit) override {
    std::vector<ObjectInfo> found;
    // One more than asked for tells whether the listing is truncated.
    size_t want = limit == SIZE_MAX ? limit : limit + 1;
    RETURN_IF_ERROR(Walk("", prefix, start_after, want, &found));
    ListPage page;
    if (found.size() > limit) {
      found.resize(limit);
      page.truncated = true;
    }
    page.objects = std::move(found);
    return page;
  }

 private:
  struct Entry {
    std::string name;  // directories end with '/', so entries sort as the keys beneath them
    bool is_dir = false;
  };

  std::string Path(std::string_view key) const { return dir_ + "/" + std::string(key); }

  Status CheckKey(std::string_view key) const {
    if (ValidKey(key)) return Status::Ok();
    return Status::Invalid("invalid object key '" + std::string(key) + "' for " + Describe());
  }

  Status NotFound(std::string_view key) const {
    return Status::NotFound("object " + std::string(key) + " not found in " + Describe());
  }

  Status OpenError(int err, std::string_view key) const {
    if (err == ENOENT || err == ENOTDIR) return NotFound(key);
    return Status::FromErrno(err, "open object " + std::string(key) + " in " + Describe());
  }

  // Fills the temporary file, makes it durable and moves it to its final name.
  static Status WriteAndRename(Fd& file, const std::string& tmp, const std::string& path,
                               std::string_view data) {
    if (int err = WriteAll(file.get(), data); err != 0) return Status::FromErrno(err, "write");
    if (::fsync(file.get()) != 0) return Status::FromErrno(errno, "fsync");
    if (file.Close() != 0) return Status::FromErrno(errno, "close");
    if (::rename(tmp.c_str(), path.c_str()) != 0) return Status::FromErrno(errno, "rename");
    return Status::Ok();
  }

  Status SyncDir(const std::string& dir) const {
    if (int err = tessera::SyncDir(dir); err != 0) {
      return Status::FromErrno(err, "fsync directory " + dir);
    }
    return Status::Ok();
  }

  // Appends to `out`, in key order, objects under directory `rel` (relative to
  // the root, "" or ending in '/') that match, until `out` holds `want`.
  Status Walk(const std::string& rel, std::string_view prefix, std::string_view start_after,
              size_t want, std::vector<ObjectInfo>* out) const {
    std::string abs = rel.empty() ? dir_ + "/" : dir_ + "/" + rel;
    DirPtr dir(::opendir(abs.c_str()));
    if (!dir) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();  // gone or never made
      return Status::FromErrno(errno, "list directory " + abs);
    }
    int dfd = ::dirfd(dir.get());
    std::vector<Entry> entries;
    while (struct dirent* de = ::readdir(dir.get())) {
      std::string_view name = de->d_name;
      if (name == "." || name == ".." || name.starts_with(kTempPrefix)) continue;
      unsigned char type = de->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (::fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
      }
      if (type == DT_DIR) {
        entries.push_back({std::string(name) + "/", true});
      } else if (type == DT_REG) {
        entries.push_back({std::string(name), false});
      }
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (const Entry& e : entries) {
      std::string full = rel + e.name;
      // Sorted, so once past every key with the prefix nothing later matches.
      if (full > prefix && !full.starts_with(prefix)) break;
      if (e.is_dir) {
        // Every key below starts with `full`: skip if none can match or all are too small.
        if (!full.starts_with(prefix) && !prefix.starts_with(full)) continue;
        if (full < start_after && !start_after.starts_with(full)) continue;
        RETURN_IF_ERROR(Walk(full, prefix, start_after, want, out));
      } else {
        if (!full.starts_with(prefix) || full <= start_after) continue;
        struct stat st;
        if (::fstatat(dfd, e.name.c_str(), &st, 0) != 0) continue;  // deleted meanwhile
        out->push_back({full, static_cast<uint64_t>(st.st_size), st.st_mtim.tv_sec});
      }
      if (out->size() >= want) break;
    }
    return Status::Ok();
  }

  std::string root_;  // as given, for messages
  std::string dir_;   // root_ without trailing '/'
};

}  // namespace

std::unique_ptr<ObjectStore> NewFileStore(const std::string& root) {
  return std::make_unique<FileStore>(root);
}

}  // namespace tessera::object
