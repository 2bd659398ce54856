// Opening and I/O: O_* flags, O_APPEND across threads, O_DIRECT, mmap,
// unlinked open files, flock and fcntl locks.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "posix/suite.h"

namespace posixsuite {

POSIX_CASE(open_excl) {
  close(Open(env.P("f"), O_CREAT | O_EXCL | O_WRONLY));
  CHECK_ERR(open(env.P("f").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
  CHECK_OK(symlink("dangling", env.P("l").c_str()));
  CHECK_ERR(open(env.P("l").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  CHECK_ERR(open(env.P("d").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
}

POSIX_CASE(open_creat_existing_keeps_mode) {
  WriteFile(env.P("f"), "keep", 0600);
  int fd = Open(env.P("f"), O_CREAT | O_RDWR, 0777);
  close(fd);
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0600});
  CHECK_EQ(ReadFile(env.P("f")), std::string("keep"));
}

POSIX_CASE(open_creat_readonly_mode) {
  // The creator may write through the descriptor whatever mode it asked for.
  int fd = Open(env.P("f"), O_CREAT | O_RDWR, 0444);
  CHECK_EQ(write(fd, "x", 1), ssize_t{1});
  close(fd);
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0444});
  CHECK_OK(chmod(env.P(".").c_str(), 0777));
  AsUser([&] {
    int ufd = CHECK_OK(open(env.P("u").c_str(), O_CREAT | O_RDWR, 0));
    CHECK_EQ(write(ufd, "x", 1), ssize_t{1});
    close(ufd);
    CHECK_ERR(open(env.P("u").c_str(), O_RDONLY), EACCES);
  });
}

POSIX_CASE(open_trunc) {
  WriteFile(env.P("f"), "long content");
  close(Open(env.P("f"), O_WRONLY | O_TRUNC));
  CHECK_EQ(Stat(env.P("f")).st_size, off_t{0});
  WriteFile(env.P("g"), "long content");
  close(Open(env.P("g"), O_RDONLY | O_TRUNC));  // Linux truncates even for O_RDONLY
  CHECK_EQ(Stat(env.P("g")).st_size, off_t{0});
}

POSIX_CASE(open_dir_errors) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  WriteFile(env.P("f"), "x");
  CHECK_ERR(open(env.P("d").c_str(), O_WRONLY), EISDIR);
  CHECK_ERR(open(env.P("d").c_str(), O_RDWR), EISDIR);
  CHECK_ERR(open(env.P("d").c_str(), O_CREAT | O_WRONLY, 0644), EISDIR);
  CHECK_ERR(open(env.P("f").c_str(), O_RDONLY | O_DIRECTORY), ENOTDIR);
  CHECK_ERR(open(env.P("f/x").c_str(), O_RDONLY), ENOTDIR);
  CHECK_ERR(open(env.P("missing/x").c_str(), O_CREAT | O_WRONLY, 0644), ENOENT);
  int fd = Open(env.P("d"), O_RDONLY);
  char c;
  CHECK_ERR(read(fd, &c, 1), EISDIR);
  close(fd);
}

POSIX_CASE(open_append_single) {
  WriteFile(env.P("f"), "abc");
  int fd = Open(env.P("f"), O_WRONLY | O_APPEND);
  CHECK_EQ(pwrite(fd, "d", 1, 0), ssize_t{1});  // Linux: pwrite on O_APPEND appends
  CHECK_EQ(write(fd, "e", 1), ssize_t{1});
  close(fd);
  CHECK_EQ(ReadFile(env.P("f")), std::string("abcde"));
}

POSIX_CASE(open_append_threads) {
  constexpr int kThreads = 4, kRecords = 400, kLen = 64;
  close(Open(env.P("f"), O_CREAT | O_WRONLY));
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int fd = open(env.P("f").c_str(), O_WRONLY | O_APPEND);
      if (fd < 0) return (void)++errors;
      for (int i = 0; i < kRecords; ++i) {
        char rec[kLen + 1];
        std::snprintf(rec, sizeof rec, "%02d:%05d:%-54s\n", t, i, "record");
        if (write(fd, rec, kLen) != kLen) ++errors;
      }
      close(fd);
    });
  }
  for (auto& th : threads) th.join();
  CHECK_EQ(errors.load(), 0);
  std::string data = ReadFile(env.P("f"));
  CHECK_EQ(data.size(), size_t{kThreads * kRecords * kLen});
  std::set<std::string> seen;
  for (size_t off = 0; off < data.size(); off += kLen) {
    std::string rec = data.substr(off, kLen);
    if (rec.back() != '\n' || rec[2] != ':' || rec[8] != ':')
      Fail("torn record at " + std::to_string(off));
    seen.insert(rec.substr(0, 8));
  }
  CHECK_EQ(seen.size(), size_t{kThreads * kRecords});
}

POSIX_CASE(open_direct) {
  int fd = open(env.P("f").c_str(), O_CREAT | O_RDWR | O_DIRECT, 0644);
  if (fd < 0) Fail("open O_DIRECT: " + ErrnoName(errno));
  void* buf = nullptr;
  if (posix_memalign(&buf, 4096, 8192) != 0) Fail("posix_memalign");
  std::string data = Pattern(8192, 13);
  std::memcpy(buf, data.data(), 8192);
  CHECK_EQ(pwrite(fd, buf, 8192, 4096), ssize_t{8192});
  std::memset(buf, 0, 8192);
  CHECK_EQ(pread(fd, buf, 8192, 4096), ssize_t{8192});
  CHECK_TRUE(std::memcmp(buf, data.data(), 8192) == 0);
  free(buf);
  close(fd);
  CHECK_EQ(ReadFile(env.P("f")).substr(4096), data);
}

POSIX_CASE(open_nofollow_and_path) {
  WriteFile(env.P("f"), "x");
  CHECK_OK(symlink("f", env.P("l").c_str()));
  CHECK_ERR(open(env.P("l").c_str(), O_RDONLY | O_NOFOLLOW), ELOOP);
  int fd = Open(env.P("l"), O_PATH | O_NOFOLLOW);
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_TRUE(S_ISLNK(st.st_mode));
  close(fd);
}

POSIX_CASE(mmap_shared_write_seen_by_read) {
  WriteFile(env.P("f"), std::string(8192, 'a'));
  int fd = Open(env.P("f"), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED) Fail("mmap: " + ErrnoName(errno));
  std::memcpy(p + 100, "mapped", 6);
  CHECK_EQ(ReadFd(fd, 6, 100), std::string("mapped"));  // before msync: one page cache
  CHECK_OK(msync(p, 8192, MS_SYNC));
  munmap(p, 8192);
  close(fd);
  CHECK_EQ(ReadFile(env.P("f")).substr(100, 6), std::string("mapped"));
}

POSIX_CASE(mmap_shared_seen_by_other_process) {
  WriteFile(env.P("f"), std::string(4096, 'a'));
  int fd = Open(env.P("f"), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED) Fail("mmap: " + ErrnoName(errno));
  std::memcpy(p, "shared", 6);
  CHECK_OK(msync(p, 4096, MS_SYNC));
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int cfd = open(env.P("f").c_str(), O_RDONLY);
    char buf[6];
    bool ok = cfd >= 0 && pread(cfd, buf, 6, 0) == 6 && std::memcmp(buf, "shared", 6) == 0;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  munmap(p, 4096);
  close(fd);
  CHECK_EQ(WEXITSTATUS(status), 0);
}

POSIX_CASE(mmap_read_sees_write) {
  WriteFile(env.P("f"), std::string(4096, 'a'));
  int fd = Open(env.P("f"), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0));
  if (p == MAP_FAILED) Fail("mmap: " + ErrnoName(errno));
  CHECK_EQ(pwrite(fd, "written", 7, 10), ssize_t{7});
  CHECK_EQ(std::string(p + 10, 7), std::string("written"));
  munmap(p, 4096);
  close(fd);
}

POSIX_CASE(mmap_private_not_visible) {
  WriteFile(env.P("f"), std::string(4096, 'a'));
  int fd = Open(env.P("f"), O_RDWR);
  char* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0));
  if (p == MAP_FAILED) Fail("mmap: " + ErrnoName(errno));
  std::memcpy(p, "private", 7);
  CHECK_EQ(ReadFd(fd, 7, 0), std::string("aaaaaaa"));
  munmap(p, 4096);
  close(fd);
  CHECK_EQ(ReadFile(env.P("f")), std::string(4096, 'a'));
}

POSIX_CASE(mmap_shared_write_needs_rw_fd) {
  WriteFile(env.P("f"), std::string(4096, 'a'));
  int fd = Open(env.P("f"), O_RDONLY);
  errno = 0;
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  CHECK_TRUE(p == MAP_FAILED);
  CHECK_EQ(errno, EACCES);
  close(fd);
}

POSIX_CASE(unlinked_open_file) {
  WriteFile(env.P("f"), "before");
  int fd = Open(env.P("f"), O_RDWR);
  CHECK_OK(unlink(env.P("f").c_str()));
  struct stat st;
  CHECK_ERR(stat(env.P("f").c_str(), &st), ENOENT);
  CHECK_EQ(pwrite(fd, "+after", 6, 6), ssize_t{6});
  CHECK_EQ(ReadFd(fd, 100, 0), std::string("before+after"));
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_nlink, nlink_t{0});
  CHECK_EQ(st.st_size, off_t{12});
  CHECK_OK(fchmod(fd, 0600));
  CHECK_OK(ftruncate(fd, 3));
  CHECK_EQ(ReadFd(fd, 100, 0), std::string("bef"));
  close(fd);
  CHECK_TRUE(ListDir(env.dir).empty());
}

POSIX_CASE(unlinked_by_rename_over) {
  WriteFile(env.P("f"), "old");
  WriteFile(env.P("g"), "new");
  int fd = Open(env.P("f"), O_RDONLY);
  CHECK_OK(rename(env.P("g").c_str(), env.P("f").c_str()));
  CHECK_EQ(ReadFd(fd, 10, 0), std::string("old"));
  close(fd);
  CHECK_EQ(ReadFile(env.P("f")), std::string("new"));
}

POSIX_CASE(flock_conflicts) {
  WriteFile(env.P("f"), "x");
  int a = Open(env.P("f"), O_RDONLY);
  int b = Open(env.P("f"), O_RDONLY);
  CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
  CHECK_ERR(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
  CHECK_OK(flock(a, LOCK_SH));
  CHECK_OK(flock(b, LOCK_SH | LOCK_NB));
  CHECK_ERR(flock(a, LOCK_EX | LOCK_NB), EWOULDBLOCK);
  CHECK_OK(flock(b, LOCK_UN));
  CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
  int c = dup(a);
  close(a);  // not the last descriptor of a's open file: the lock stays
  CHECK_ERR(flock(b, LOCK_SH | LOCK_NB), EWOULDBLOCK);
  close(c);
  close(b);
}

POSIX_CASE(flock_released_by_last_close) {
  WriteFile(env.P("f"), "x");
  int a = Open(env.P("f"), O_RDONLY);
  int b = Open(env.P("f"), O_RDONLY);
  CHECK_OK(flock(b, LOCK_EX | LOCK_NB));
  close(b);  // the last close of b's open file drops its lock at once
  CHECK_OK(flock(a, LOCK_EX | LOCK_NB));
  close(a);
}

POSIX_CASE(fcntl_lock_conflicts) {
  WriteFile(env.P("f"), std::string(200, 'x'));
  int fd = Open(env.P("f"), O_RDWR);
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  lk.l_start = 0;
  lk.l_len = 100;
  CHECK_OK(fcntl(fd, F_SETLK, &lk));
  pid_t me = getpid();
  std::fflush(stdout);
  int pipefd[2], ready[2];
  CHECK_OK(pipe(pipefd));
  CHECK_OK(pipe(ready));
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[1]);
    close(ready[0]);
    int cfd = open(env.P("f").c_str(), O_RDWR);
    struct flock c {};
    c.l_type = F_RDLCK;
    c.l_whence = SEEK_SET;
    c.l_start = 50;
    c.l_len = 10;
    int code = 0;
    errno = 0;
    if (fcntl(cfd, F_SETLK, &c) != -1 || errno != EAGAIN) code = 1;
    struct flock q = c;
    if (code == 0 && (fcntl(cfd, F_GETLK, &q) != 0 || q.l_type != F_WRLCK || q.l_pid != me ||
                      q.l_start != 0 || q.l_len != 100)) {
      code = 2;
    }
    c.l_start = 100;  // past the held range
    if (code == 0 && fcntl(cfd, F_SETLK, &c) != 0) code = 3;
    char go = 'r';
    if (write(ready[1], &go, 1) != 1 || read(pipefd[0], &go, 1) != 1)
      code = 4;  // the parent closed another descriptor
    c.l_start = 0;
    if (code == 0 && fcntl(cfd, F_SETLK, &c) != 0) code = 5;
    _exit(code);
  }
  close(pipefd[0]);
  close(ready[1]);
  char r;
  (void)!read(ready[0], &r, 1);  // EOF if the child failed early
  close(ready[0]);
  // Any close by the lock's process drops its POSIX locks on the file.
  close(Open(env.P("f"), O_RDONLY));
  CHECK_EQ(write(pipefd[1], "g", 1), ssize_t{1});
  close(pipefd[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);
  CHECK_EQ(WEXITSTATUS(status), 0);
}

}  // namespace posixsuite
