// tessera dump / tessera load: a volume's whole namespace as one JSON
// document (meta/dump.h), to a file or stdout and back, with a progress bar
// on stderr when it is a terminal and a one-line summary either way.
#include "meta/dump.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <istream>
#include <ostream>
#include <streambuf>
#include <vector>

#include "cli/commands.h"
#include "cli/volume.h"
#include "kv/engine.h"

namespace tessera::cli {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// A stream buffer writing to a file descriptor (stdout or a file) in 1 MiB pieces.
class FdOutBuf final : public std::streambuf {
 public:
  explicit FdOutBuf(int fd) : fd_(fd), buf_(1 << 20) {
    setp(buf_.data(), buf_.data() + buf_.size());
  }
  int error() const { return error_; }

 protected:
  int overflow(int c) override {
    if (!Drain()) return traits_type::eof();
    if (c != traits_type::eof()) {
      *pptr() = static_cast<char>(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return Drain() ? 0 : -1; }

 private:
  bool Drain() {
    const char* p = pbase();
    while (p < pptr()) {
      ssize_t n = ::write(fd_, p, static_cast<size_t>(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        return false;
      }
      p += n;
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return true;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

// A stream buffer reading a file descriptor (stdin or a file) in 1 MiB
// pieces; knows how many bytes were consumed, for the progress bar.
class FdInBuf final : public std::streambuf {
 public:
  explicit FdInBuf(int fd) : fd_(fd), buf_(1 << 20) {}
  uint64_t consumed() const { return read_ - static_cast<uint64_t>(egptr() - gptr()); }
  int error() const { return error_; }

 protected:
  int underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      if (n < 0) error_ = errno;
      return traits_type::eof();
    }
    read_ += static_cast<uint64_t>(n);
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  std::vector<char> buf_;
  uint64_t read_ = 0;
  int error_ = 0;
};

// Redraws one status line on stderr, at most ten times a second, when stderr
// is a terminal; does nothing otherwise.
class ProgressBar final : public meta::Progress {
 public:
  // `fraction` says how far along the work is (0..1), or < 0 when unknown.
  ProgressBar(const char* verb, std::function<double(const meta::DumpStats&)> fraction)
      : verb_(verb), fraction_(std::move(fraction)), tty_(isatty(STDERR_FILENO) == 1) {}

  void Update(const meta::DumpStats& s) override {
    if (!tty_ || Clock::now() - last_ < std::chrono::milliseconds(100)) return;
    last_ = Clock::now();
    double f = fraction_(s);
    char bar[32] = "";
    if (f >= 0) {
      int done = static_cast<int>(std::min(f, 1.0) * 20);
      std::string b = "[" + std::string(done, '#') + std::string(20 - done, '.') + "] ";
      std::snprintf(bar, sizeof bar, "%s%3d%% ", b.c_str(),
                    static_cast<int>(std::min(f, 1.0) * 100));
    }
    std::fprintf(stderr, "\r\033[K%s %s%llu inodes, %llu entries, %llu slices, %.1f s", verb_, bar,
                 static_cast<unsigned long long>(s.inodes),
                 static_cast<unsigned long long>(s.entries),
                 static_cast<unsigned long long>(s.slices), Seconds(start_));
    drawn_ = true;
  }

  // Clears the line before the summary is printed.
  void Clear() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  const char* verb_;
  std::function<double(const meta::DumpStats&)> fraction_;
  bool tty_;
  bool drawn_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

void PrintSummary(const char* verb, const meta::DumpStats& s, Clock::time_point start) {
  std::fprintf(stderr, "%s %llu inodes, %llu entries, %llu slices in %.1f s\n", verb,
               static_cast<unsigned long long>(s.inodes),
               static_cast<unsigned long long>(s.entries),
               static_cast<unsigned long long>(s.slices), Seconds(start));
}

bool IsStdio(const std::string& file) { return file.empty() || file == "-"; }

struct DumpFlags {
  std::string meta_url;
  std::string file;
  bool keep_secret_key = false;
};

void RunDump(const DumpFlags& f) {
  const std::string url = AbsoluteMetaUrl(f.meta_url);
  {
    auto opened = OpenFormattedMeta(url);  // refuses an engine that holds no volume
    if (!opened.has_value()) Die(opened.error().ToString());
  }
  auto engine = kv::OpenEngine(url);
  if (!engine.has_value()) Die(engine.error().ToString());

  // A file is written under a temporary name and renamed when complete, so
  // that a failed dump never leaves a file that looks like a dump.
  int fd = STDOUT_FILENO;
  std::string tmp;
  if (!IsStdio(f.file)) {
    struct stat st;
    bool special = ::stat(f.file.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
    std::string target = special ? f.file : f.file + ".tmp." + std::to_string(getpid());
    fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) Die("cannot write " + target + ": " + std::strerror(errno));
    if (!special) tmp = target;
  }
  auto fail = [&](const std::string& message) {
    if (!tmp.empty()) ::unlink(tmp.c_str());
    Die(message);
  };
  FdOutBuf buf(fd);
  std::ostream out(&buf);
  auto start = Clock::now();
  ProgressBar bar("dumping", [](const meta::DumpStats& s) {
    return s.total_inodes ? static_cast<double>(s.inodes) / s.total_inodes : -1.0;
  });
  meta::DumpOptions options;
  options.keep_secret_key = f.keep_secret_key;
  auto stats = meta::Dump(**engine, out, options, &bar);
  bar.Clear();
  const std::string where = IsStdio(f.file) ? "stdout" : f.file;
  if (!stats.has_value()) {
    std::string message = stats.error().ToString();
    if (buf.error() != 0) message = "writing " + where + ": " + std::strerror(buf.error());
    fail("dump of " + f.meta_url + " failed: " + message);
  }
  if (!tmp.empty()) {
    if (::fsync(fd) != 0) fail("writing " + where + ": " + std::strerror(errno));
    if (::close(fd) != 0) fail("writing " + where + ": " + std::strerror(errno));
    if (::rename(tmp.c_str(), f.file.c_str()) != 0) {
      fail("cannot rename " + tmp + " to " + f.file + ": " + std::strerror(errno));
    }
  }
  PrintSummary("dumped", *stats, start);
}

struct LoadFlags {
  std::string meta_url;
  std::string file;
};

void RunLoad(const LoadFlags& f) {
  const std::string url = AbsoluteMetaUrl(f.meta_url);
  int fd = STDIN_FILENO;
  uint64_t size = 0;
  if (!IsStdio(f.file)) {
    fd = ::open(f.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) Die("cannot read " + f.file + ": " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
  }
  auto engine = kv::OpenEngine(url);
  if (!engine.has_value()) Die(engine.error().ToString());
  FdInBuf buf(fd);
  std::istream in(&buf);
  auto start = Clock::now();
  ProgressBar bar("loading", [&](const meta::DumpStats&) {
    return size ? static_cast<double>(buf.consumed()) / static_cast<double>(size) : -1.0;
  });
  auto report = meta::Load(**engine, in, meta::LoadOptions{}, &bar);
  bar.Clear();
  const std::string from = IsStdio(f.file) ? "stdin" : f.file;
  if (!report.has_value()) {
    const Status& st = report.error();
    if (st.code() == Code::kExists) {
      Die(f.meta_url +
          " already holds data (a formatted volume or other keys); load needs an "
          "empty engine: use a new database file, Redis database, PostgreSQL "
          "schema or etcd prefix (format --force is no fix: it leaves a fresh "
          "volume there)");
    }
    std::string message = st.message();
    if (buf.error() != 0) message = std::string(std::strerror(buf.error())) + "; " + message;
    Die("load of " + from + " into " + f.meta_url + " failed: " + message);
  }
  for (const std::string& field : report->redacted) {
    if (field == "secret_key_sealed") {
      std::fprintf(stderr,
                   "warning: the dump was made without --keep-secret-key, so the volume's S3 "
                   "secret key is not in it: mount with AWS_SECRET_ACCESS_KEY set (no command "
                   "stores it in the settings again)\n");
    } else if (field == "encrypt_key_wrapped") {
      std::fprintf(stderr,
                   "warning: the dump was made without --keep-secret-key, so the volume's "
                   "encryption key is not in it and its data cannot be decrypted: load a dump "
                   "made with --keep-secret-key instead\n");
    }
  }
  PrintSummary("loaded", report->stats, start);
}

}  // namespace

void AddDumpCommand(CLI::App& app) {
  auto f = std::make_shared<DumpFlags>();
  CLI::App* cmd = app.add_subcommand(
      "dump",
      "write a volume's whole namespace (settings, counters, inodes with attributes, "
      "entries, chunks, symlinks and xattrs, slice references, pending deletions) as "
      "JSON. Pages come from separate transactions: the dump of a volume that changes "
      "meanwhile is not a point-in-time snapshot, so dump an idle volume. Progress on "
      "stderr when it is a terminal, then a summary line");
  cmd->add_option("META_URL", f->meta_url, "metadata engine of a formatted volume")->required();
  cmd->add_option("FILE", f->file,
                  "where to write the dump (written as FILE.tmp.PID and renamed when "
                  "complete); '-' or none: stdout");
  cmd->add_flag("--keep-secret-key", f->keep_secret_key,
                "keep the secrets of the settings (the sealed S3 secret key, the encryption "
                "key material) in the dump; by default they are replaced by \"removed\"");
  cmd->callback([f] { RunDump(*f); });
}

void AddLoadCommand(CLI::App& app) {
  auto f = std::make_shared<LoadFlags>();
  CLI::App* cmd = app.add_subcommand(
      "load",
      "load a dump written by 'tessera dump' into an empty metadata engine, which then "
      "holds the same volume (same object store: the bucket is in the settings). "
      "Writes the settings last: a load that fails midway leaves a partial load that "
      "is not a volume and must be removed. Progress on stderr when it is a terminal, "
      "then a summary line");
  cmd->add_option("META_URL", f->meta_url, "metadata engine to load into; must hold no keys")
      ->required();
  cmd->add_option("FILE", f->file, "the dump to read; '-' or none: stdin");
  cmd->callback([f] { RunLoad(*f); });
}

}  // namespace tessera::cli
