// The runner and the helpers that cases share.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "posix/suite.h"

namespace posixsuite {

std::vector<Case>& Registry() {
  static std::vector<Case> cases;
  return cases;
}

void Fail(const std::string& msg) { throw Failure{msg}; }

std::string ErrnoName(int e) {
  const char* n = strerrorname_np(e);
  return n ? n : "errno " + std::to_string(e);
}

std::string Oct(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llo", static_cast<unsigned long long>(v));
  return buf;
}

void RunAs(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::function<void()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) Fail("pipe failed");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) Fail("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string msg;
    if (setgroups(groups.size(), groups.data()) != 0 || setresgid(gid, gid, gid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
      msg = "could not drop privileges: " + ErrnoName(errno);
    } else {
      try {
        fn();
      } catch (const Failure& f) {
        msg = f.what;
      }
    }
    if (!msg.empty()) (void)!write(fds[1], msg.data(), msg.size());
    _exit(msg.empty() ? 0 : 1);
  }
  close(fds[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!msg.empty()) Fail("as uid " + std::to_string(uid) + ": " + msg);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Fail("child as uid " + std::to_string(uid) + " died (status " + std::to_string(status) + ")");
  }
}

void AsUser(const std::function<void()>& fn) { RunAs(kUser, kGroup, {kGroup, kExtra}, fn); }
void AsUser2(const std::function<void()>& fn) { RunAs(kUser2, kGroup2, {kGroup2}, fn); }

int Open(const std::string& path, int flags, mode_t mode) {
  int fd = open(path.c_str(), flags, mode);
  if (fd < 0) Fail("open " + path + " failed: " + ErrnoName(errno));
  return fd;
}

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  int fd = Open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      close(fd);
      Fail("write " + path + " failed: " + ErrnoName(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0) Fail("close " + path + " failed: " + ErrnoName(errno));
}

std::string ReadFd(int fd, size_t size, off_t off) {
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, out.data() + done, size - done, off + static_cast<off_t>(done));
    if (n < 0) Fail("pread failed: " + ErrnoName(errno));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

std::string ReadFile(const std::string& path) {
  int fd = Open(path, O_RDONLY);
  struct stat st;
  fstat(fd, &st);
  std::string out = ReadFd(fd, static_cast<size_t>(st.st_size), 0);
  close(fd);
  return out;
}

struct stat Stat(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) Fail("stat " + path + " failed: " + ErrnoName(errno));
  return st;
}

struct stat Lstat(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) Fail("lstat " + path + " failed: " + ErrnoName(errno));
  return st;
}

mode_t ModeOf(const std::string& path) { return Lstat(path).st_mode & 07777; }

void SetOldTimes(const std::string& path) {
  struct timespec ts[2] = {{kOldSec, kOldNsec}, {kOldSec, kOldNsec}};
  if (utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    Fail("utimensat " + path + " failed: " + ErrnoName(errno));
  }
}

bool IsOld(const struct timespec& t) { return t.tv_sec == kOldSec && t.tv_nsec == kOldNsec; }

void Tick() {
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, nullptr);
}

bool Later(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

bool Same(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

std::vector<std::string> ListDir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (!d) Fail("opendir " + path + " failed: " + ErrnoName(errno));
  std::vector<std::string> out;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  return out;
}

std::string Pattern(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x);
  }
  return out;
}

}  // namespace posixsuite

namespace {

// Removes a case's leftovers (as root; clears immutable-looking modes first).
void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path.c_str(), 0755);
    if (DIR* d = opendir(path.c_str())) {
      std::vector<std::string> names;
      while (struct dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      closedir(d);
      for (const auto& n : names) RemoveTree(path + "/" + n);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace posixsuite;
  std::string root, filter;
  bool list = false, keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else if (a == "--list") {
      list = true;
    } else if (a == "--keep") {
      keep = true;
    } else if (root.empty()) {
      root = a;
    } else {
      std::fprintf(stderr, "usage: posixsuite DIR [--filter SUBSTRING] [--list] [--keep]\n");
      return 2;
    }
  }
  if (list) {
    for (const Case& c : Registry()) std::printf("%s\n", c.name);
    return 0;
  }
  if (root.empty()) {
    std::fprintf(stderr, "usage: posixsuite DIR [--filter SUBSTRING] [--list] [--keep]\n");
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "posixsuite runs as root (cases drop privileges themselves)\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  int passed = 0, failed = 0;
  for (const Case& c : Registry()) {
    if (!filter.empty() && std::string(c.name).find(filter) == std::string::npos) continue;
    Env env{root, root + "/" + c.name};
    RemoveTree(env.dir);
    umask(022);
    std::string why;
    if (mkdir(env.dir.c_str(), 0755) != 0 || chmod(env.dir.c_str(), 0755) != 0) {
      why = "could not create " + env.dir + ": " + ErrnoName(errno);
    } else {
      try {
        c.fn(env);
      } catch (const Failure& f) {
        why = f.what;
      }
    }
    umask(022);
    if (why.empty()) {
      ++passed;
      std::printf("PASS %s\n", c.name);
    } else {
      ++failed;
      std::printf("FAIL %s: %s\n", c.name, why.c_str());
    }
    if (!keep) RemoveTree(env.dir);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
