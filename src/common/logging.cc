#include "common/logging.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <ctime>

#include "common/clock.h"

namespace tessera {

const Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

namespace log {
namespace {
std::atomic<int> g_level{kInfo};
std::atomic<int> g_fd{2};
const char* kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
}  // namespace

void SetLevel(Level level) { g_level = level; }
Level GetLevel() { return static_cast<Level>(g_level.load()); }

Status SetFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, "open log file " + path);
  int old = g_fd.exchange(fd);
  if (old > 2) ::close(old);
  return {};
}

Line::Line(Level level, const char* file, int line) : level_(level) {
  Timespec now = SystemClock().Now();
  time_t secs = now.sec;
  tm t;
  gmtime_r(&secs, &t);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  const char* base = std::strrchr(file, '/');
  stream_ << buf << "." << (now.nsec / 1000000) << "Z " << kNames[level_] << " "
          << (base ? base + 1 : file) << ":" << line << "] ";
}

Line::~Line() {
  stream_ << '\n';
  std::string s = stream_.str();
  ssize_t ignored = ::write(g_fd.load(), s.data(), s.size());
  (void)ignored;
}

}  // namespace log
}  // namespace tessera
