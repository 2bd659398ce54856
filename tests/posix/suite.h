// posixsuite: tessera's own POSIX compliance suite.
//
// Every case is a small function that runs system calls in a fresh directory
// of its own and asserts the exact return value and errno that Linux's ext4
// gives. The same binary runs on a reference file system (ext4 or tmpfs, to
// prove the expectations) and on a tessera mount (to prove tessera matches):
//
//   posixsuite DIR [--filter SUBSTRING] [--list]
//
// prints "PASS name" or "FAIL name: why" per case and "N passed, M failed".
// The suite runs as root; cases that need an unprivileged caller fork and drop
// to a test uid/gid with setresuid/setresgid/setgroups (RunAs), so one binary
// covers both. No user or group needs to exist in /etc/passwd.
//
// A check that fails throws Failure; the runner reports its message. Cases
// are independent: each gets DIR/<name>, owned by root, mode 0755.
#pragma once

#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace posixsuite {

// Unprivileged identities used by the cases. None needs to exist in /etc/passwd.
constexpr uid_t kUser = 1001;
constexpr uid_t kUser2 = 1002;
constexpr gid_t kGroup = 2001;   // kUser's primary group
constexpr gid_t kGroup2 = 2002;  // kUser2's primary group
constexpr gid_t kExtra = 3003;   // a supplementary group of kUser (not kUser2)
constexpr gid_t kOther = 4004;   // a group nobody is in

struct Failure {
  std::string what;
};

// The directory of the running case, and where the whole suite runs.
struct Env {
  std::string root;  // DIR given on the command line
  std::string dir;   // DIR/<case name>
  std::string P(const std::string& rel) const { return dir + "/" + rel; }
};

using CaseFn = void (*)(Env&);
struct Case {
  const char* name;
  CaseFn fn;
};
std::vector<Case>& Registry();
struct Registrar {
  Registrar(const char* name, CaseFn fn) { Registry().push_back({name, fn}); }
};

#define POSIX_CASE(name)                                        \
  static void name(::posixsuite::Env& env);                     \
  static ::posixsuite::Registrar registrar_##name(#name, name); \
  static void name([[maybe_unused]] ::posixsuite::Env& env)

[[noreturn]] void Fail(const std::string& msg);
std::string ErrnoName(int e);

// CHECK_OK(call): the call must not return -1 (or a null pointer as -1).
// Evaluates to the call's return value.
#define CHECK_OK(expr)                                                                       \
  ([&]() {                                                                                   \
    errno = 0;                                                                               \
    auto r_ = (expr);                                                                        \
    if (r_ == decltype(r_)(-1)) {                                                            \
      ::posixsuite::Fail(std::string(#expr) + " failed: " + ::posixsuite::ErrnoName(errno) + \
                         " (line " + std::to_string(__LINE__) + ")");                        \
    }                                                                                        \
    return r_;                                                                               \
  }())

// CHECK_ERR(call, ERRNO): the call must return -1 with errno ERRNO.
#define CHECK_ERR(expr, want)                                                                      \
  do {                                                                                             \
    errno = 0;                                                                                     \
    long r_ = static_cast<long>(expr);                                                             \
    int e_ = errno;                                                                                \
    if (r_ != -1 || e_ != (want)) {                                                                \
      ::posixsuite::Fail(std::string(#expr) + " returned " + std::to_string(r_) + " " +            \
                         (r_ == -1 ? ::posixsuite::ErrnoName(e_) : std::string()) + ", want -1 " + \
                         ::posixsuite::ErrnoName(want) + " (line " + std::to_string(__LINE__) +    \
                         ")");                                                                     \
    }                                                                                              \
  } while (0)

#define CHECK_EQ(a, b)                                                                         \
  do {                                                                                         \
    auto a_ = (a);                                                                             \
    auto b_ = (b);                                                                             \
    if (!(a_ == b_)) {                                                                         \
      ::posixsuite::Fail(std::string(#a) + " == " + ::posixsuite::Show(a_) + ", want " +       \
                         ::posixsuite::Show(b_) + " (line " + std::to_string(__LINE__) + ")"); \
    }                                                                                          \
  } while (0)

#define CHECK_TRUE(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      ::posixsuite::Fail(std::string("expected ") + #cond + " (line " + std::to_string(__LINE__) + \
                         ")");                                                                     \
    }                                                                                              \
  } while (0)

std::string Oct(uint64_t v);
template <typename T>
std::string Show(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (v.size() > 64)
      return "\"" + v.substr(0, 64) + "...\" (" + std::to_string(v.size()) + " bytes)";
    return "\"" + v + "\"";
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_integral_v<T>) {
    return std::to_string(v) +
           (v > 7 && v < 0200000 ? " (0" + Oct(static_cast<uint64_t>(v)) + ")" : "");
  } else {
    return std::to_string(v);
  }
}

// --- Helpers (helpers.cc) ---
// Runs `fn` in a child process as uid/gid with the supplementary `groups`;
// a Failure in the child becomes a Failure here.
void RunAs(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::function<void()>& fn);
// kUser with primary kGroup and supplementary kExtra; kUser2 with kGroup2 only.
void AsUser(const std::function<void()>& fn);
void AsUser2(const std::function<void()>& fn);

void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0644);
std::string ReadFile(const std::string& path);
std::string ReadFd(int fd, size_t size, off_t off);
struct stat Stat(const std::string& path);
struct stat Lstat(const std::string& path);
mode_t ModeOf(const std::string& path);  // permission bits incl. suid/sgid/sticky
// Sets atime and mtime to a fixed instant in the past (2001), so that a later
// change of either is visible whatever the clock's granularity.
void SetOldTimes(const std::string& path);
constexpr time_t kOldSec = 1000000000;
constexpr long kOldNsec = 123456789;
bool IsOld(const struct timespec& t);
// Waits long enough for the ctime clock to move on (coarse clocks tick in ms).
void Tick();
bool Later(const struct timespec& a, const struct timespec& b);  // a > b
bool Same(const struct timespec& a, const struct timespec& b);
std::vector<std::string> ListDir(const std::string& path);  // without . and ..
std::string Pattern(size_t size, uint32_t seed);            // deterministic bytes
// Opens or fails the case.
int Open(const std::string& path, int flags, mode_t mode = 0644);

}  // namespace posixsuite
