// Timestamps: which operation updates which time, nanoseconds, UTIME_NOW and
// UTIME_OMIT, and the atime policy (relatime-like: a read moves atime only
// when it is not newer than mtime or ctime).
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posix/suite.h"

namespace posixsuite {
POSIX_CASE(times_create_sets_all_and_parent) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  SetOldTimes(env.P("d"));
  WriteFile(env.P("d/f"), "");
  struct stat f = Stat(env.P("d/f"));
  CHECK_TRUE(Same(f.st_atim, f.st_mtim));
  CHECK_TRUE(Same(f.st_mtim, f.st_ctim));
  struct stat d = Stat(env.P("d"));
  CHECK_TRUE(!IsOld(d.st_mtim));
  CHECK_TRUE(IsOld(d.st_atim));
  CHECK_TRUE(Same(d.st_mtim, d.st_ctim));
}

POSIX_CASE(times_mkdir_symlink_mknod_parent) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  SetOldTimes(env.P("d"));
  CHECK_OK(mkdir(env.P("d/sub").c_str(), 0755));
  CHECK_TRUE(!IsOld(Stat(env.P("d")).st_mtim));
  SetOldTimes(env.P("d"));
  CHECK_OK(symlink("x", env.P("d/l").c_str()));
  CHECK_TRUE(!IsOld(Stat(env.P("d")).st_mtim));
  SetOldTimes(env.P("d"));
  CHECK_OK(mkfifo(env.P("d/p").c_str(), 0644));
  CHECK_TRUE(!IsOld(Stat(env.P("d")).st_mtim));
}

POSIX_CASE(times_nanoseconds) {
  WriteFile(env.P("f"), "x");
  struct timespec ts[2] = {{1234567890, 987654321}, {1134567890, 123456789}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  struct stat st = Stat(env.P("f"));
  CHECK_EQ(st.st_atim.tv_sec, time_t{1234567890});
  CHECK_EQ(st.st_atim.tv_nsec, long{987654321});
  CHECK_EQ(st.st_mtim.tv_sec, time_t{1134567890});
  CHECK_EQ(st.st_mtim.tv_nsec, long{123456789});
}

POSIX_CASE(times_write_mtime_ctime) {
  WriteFile(env.P("f"), "x");
  SetOldTimes(env.P("f"));
  struct stat before = Stat(env.P("f"));
  Tick();
  int fd = Open(env.P("f"), O_WRONLY);
  CHECK_EQ(write(fd, "abc", 3), ssize_t{3});
  close(fd);
  struct stat after = Stat(env.P("f"));
  CHECK_TRUE(!IsOld(after.st_mtim));
  CHECK_TRUE(Later(after.st_ctim, before.st_ctim));
  CHECK_TRUE(IsOld(after.st_atim));
}

POSIX_CASE(times_truncate_mtime_ctime) {
  WriteFile(env.P("f"), "hello");
  SetOldTimes(env.P("f"));
  CHECK_OK(truncate(env.P("f").c_str(), 2));
  struct stat st = Stat(env.P("f"));
  CHECK_TRUE(!IsOld(st.st_mtim));
  CHECK_TRUE(IsOld(st.st_atim));
  SetOldTimes(env.P("f"));
  int fd = Open(env.P("f"), O_WRONLY);
  CHECK_OK(ftruncate(fd, 2));  // same size: times still move
  close(fd);
  CHECK_TRUE(!IsOld(Stat(env.P("f")).st_mtim));
}

POSIX_CASE(times_open_trunc) {
  WriteFile(env.P("f"), "hello");
  SetOldTimes(env.P("f"));
  close(Open(env.P("f"), O_WRONLY | O_TRUNC));
  struct stat st = Stat(env.P("f"));
  CHECK_EQ(st.st_size, off_t{0});
  CHECK_TRUE(!IsOld(st.st_mtim));
}

POSIX_CASE(times_chmod_chown_ctime_only) {
  WriteFile(env.P("f"), "x");
  SetOldTimes(env.P("f"));
  struct stat before = Stat(env.P("f"));
  Tick();
  CHECK_OK(chmod(env.P("f").c_str(), 0600));
  struct stat mid = Stat(env.P("f"));
  CHECK_TRUE(Later(mid.st_ctim, before.st_ctim));
  CHECK_TRUE(IsOld(mid.st_mtim) && IsOld(mid.st_atim));
  Tick();
  CHECK_OK(chown(env.P("f").c_str(), kUser, kGroup));
  struct stat after = Stat(env.P("f"));
  CHECK_TRUE(Later(after.st_ctim, mid.st_ctim));
  CHECK_TRUE(IsOld(after.st_mtim) && IsOld(after.st_atim));
}

POSIX_CASE(times_link_unlink) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  WriteFile(env.P("f"), "x");
  SetOldTimes(env.P("f"));
  SetOldTimes(env.P("d"));
  struct stat before = Stat(env.P("f"));
  Tick();
  CHECK_OK(link(env.P("f").c_str(), env.P("d/g").c_str()));
  struct stat linked = Stat(env.P("f"));
  CHECK_TRUE(Later(linked.st_ctim, before.st_ctim));
  CHECK_TRUE(IsOld(linked.st_mtim));
  CHECK_TRUE(!IsOld(Stat(env.P("d")).st_mtim));
  SetOldTimes(env.P("d"));
  Tick();
  CHECK_OK(unlink(env.P("d/g").c_str()));
  struct stat unlinked = Stat(env.P("f"));
  CHECK_TRUE(Later(unlinked.st_ctim, linked.st_ctim));
  CHECK_TRUE(IsOld(unlinked.st_mtim));
  struct stat d = Stat(env.P("d"));
  CHECK_TRUE(!IsOld(d.st_mtim));
  CHECK_TRUE(Same(d.st_mtim, d.st_ctim));
}

POSIX_CASE(times_rename) {
  CHECK_OK(mkdir(env.P("a").c_str(), 0755));
  CHECK_OK(mkdir(env.P("b").c_str(), 0755));
  WriteFile(env.P("a/f"), "x");
  SetOldTimes(env.P("a/f"));
  SetOldTimes(env.P("a"));
  SetOldTimes(env.P("b"));
  struct stat before = Stat(env.P("a/f"));
  Tick();
  CHECK_OK(rename(env.P("a/f").c_str(), env.P("b/f").c_str()));
  struct stat after = Stat(env.P("b/f"));
  CHECK_TRUE(Later(after.st_ctim, before.st_ctim));
  CHECK_TRUE(IsOld(after.st_mtim) && IsOld(after.st_atim));
  CHECK_TRUE(!IsOld(Stat(env.P("a")).st_mtim));
  CHECK_TRUE(!IsOld(Stat(env.P("b")).st_mtim));
}

POSIX_CASE(times_rmdir_parent) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  CHECK_OK(mkdir(env.P("d/sub").c_str(), 0755));
  SetOldTimes(env.P("d"));
  CHECK_OK(rmdir(env.P("d/sub").c_str()));
  CHECK_TRUE(!IsOld(Stat(env.P("d")).st_mtim));
}

POSIX_CASE(times_utime_now_and_omit) {
  WriteFile(env.P("f"), "x");
  SetOldTimes(env.P("f"));
  struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  struct stat st = Stat(env.P("f"));
  CHECK_TRUE(!IsOld(st.st_atim));
  CHECK_TRUE(IsOld(st.st_mtim));
  SetOldTimes(env.P("f"));
  struct timespec ts2[2] = {{0, UTIME_OMIT}, {5, 6}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts2, 0));
  st = Stat(env.P("f"));
  CHECK_TRUE(IsOld(st.st_atim));
  CHECK_EQ(st.st_mtim.tv_sec, time_t{5});
  CHECK_EQ(st.st_mtim.tv_nsec, long{6});
}

POSIX_CASE(times_utime_changes_ctime) {
  WriteFile(env.P("f"), "x");
  struct stat before = Stat(env.P("f"));
  Tick();
  SetOldTimes(env.P("f"));
  CHECK_TRUE(Later(Stat(env.P("f")).st_ctim, before.st_ctim));
  struct stat mid = Stat(env.P("f"));
  Tick();
  struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), omit, 0));  // both omitted: nothing changes
  CHECK_TRUE(Same(Stat(env.P("f")).st_ctim, mid.st_ctim));
}

POSIX_CASE(times_utime_symlink_nofollow) {
  WriteFile(env.P("f"), "x");
  CHECK_OK(symlink("f", env.P("l").c_str()));
  SetOldTimes(env.P("f"));
  struct timespec ts[2] = {{7, 0}, {8, 0}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("l").c_str(), ts, AT_SYMLINK_NOFOLLOW));
  CHECK_EQ(Lstat(env.P("l")).st_mtim.tv_sec, time_t{8});
  CHECK_TRUE(IsOld(Stat(env.P("f")).st_mtim));
}

POSIX_CASE(times_read_atime_relatime) {
  WriteFile(env.P("f"), "hello");
  // atime older than mtime: the next read moves it.
  struct timespec ts[2] = {{kOldSec, 0}, {kOldSec + 10, 0}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  CHECK_EQ(ReadFile(env.P("f")), std::string("hello"));
  struct stat st = Stat(env.P("f"));
  CHECK_TRUE(st.st_atim.tv_sec > kOldSec + 10);
  CHECK_EQ(st.st_mtim.tv_sec, time_t{kOldSec + 10});
}

POSIX_CASE(times_read_recent_atime_kept) {
  WriteFile(env.P("f"), "hello");
  // atime newer than mtime and ctime, and recent: a read leaves it alone.
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct timespec ts[2] = {{now.tv_sec + 3600, 0}, {kOldSec, 0}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  CHECK_EQ(ReadFile(env.P("f")), std::string("hello"));
  CHECK_EQ(Stat(env.P("f")).st_atim.tv_sec, time_t{now.tv_sec + 3600});
}

POSIX_CASE(times_noatime_read) {
  WriteFile(env.P("f"), "hello");
  struct timespec ts[2] = {{kOldSec, 0}, {kOldSec + 10, 0}};
  CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  int fd = Open(env.P("f"), O_RDONLY | O_NOATIME);
  CHECK_EQ(ReadFd(fd, 5, 0), std::string("hello"));
  close(fd);
  CHECK_EQ(Stat(env.P("f")).st_atim.tv_sec, time_t{kOldSec});
}

POSIX_CASE(times_read_no_mtime_ctime) {
  WriteFile(env.P("f"), "hello");
  SetOldTimes(env.P("f"));
  struct stat before = Stat(env.P("f"));
  Tick();
  CHECK_EQ(ReadFile(env.P("f")), std::string("hello"));
  struct stat after = Stat(env.P("f"));
  CHECK_TRUE(IsOld(after.st_mtim));
  CHECK_TRUE(Same(after.st_ctim, before.st_ctim));
}

}  // namespace posixsuite
