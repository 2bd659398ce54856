// lockrange: takes an fcntl(2) byte-range lock on a file and runs a command
// while holding it, or reports who holds a range. For end-to-end tests of
// locks across mounts.
//
//   lockrange FILE read|write START LEN wait|try COMMAND   (LEN 0: to the end)
//     exit 0 with COMMAND's status; 75 (EX_TEMPFAIL) if `try` found the range held.
//   lockrange FILE test START LEN
//     prints "free" or "held write|read START LEN pid PID"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: lockrange FILE read|write START LEN wait|try COMMAND\n"
               "       lockrange FILE test START LEN\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return Usage();
  const std::string mode = argv[2];
  struct flock lk;
  std::memset(&lk, 0, sizeof lk);
  lk.l_whence = SEEK_SET;
  lk.l_start = std::atoll(argv[3]);
  lk.l_len = std::atoll(argv[4]);
  int fd = open(argv[1], mode == "read" || mode == "test" ? O_RDONLY : O_RDWR);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  if (mode == "test") {
    lk.l_type = F_WRLCK;
    if (fcntl(fd, F_GETLK, &lk) != 0) {
      std::perror("F_GETLK");
      return 1;
    }
    if (lk.l_type == F_UNLCK) {
      std::printf("free\n");
    } else {
      std::printf("held %s %lld %lld pid %d\n", lk.l_type == F_WRLCK ? "write" : "read",
                  static_cast<long long>(lk.l_start), static_cast<long long>(lk.l_len), lk.l_pid);
    }
    return 0;
  }
  if (argc < 7 || (mode != "read" && mode != "write")) return Usage();
  lk.l_type = mode == "read" ? F_RDLCK : F_WRLCK;
  const bool wait = std::string(argv[5]) == "wait";
  if (fcntl(fd, wait ? F_SETLKW : F_SETLK, &lk) != 0) {
    if (!wait && (errno == EAGAIN || errno == EACCES)) return 75;
    std::perror("fcntl");
    return 1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", argv[6], static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
