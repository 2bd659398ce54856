// Ownership: chown and chmod rules, setgid directories, suid/sgid clearing,
// who may set times.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/suite.h"

namespace posixsuite {
namespace {

void Own(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  CHECK_OK(chown(path.c_str(), uid, gid));
  CHECK_OK(chmod(path.c_str(), mode));
}

}  // namespace

POSIX_CASE(setgid_dir_passes_group) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Own(env.P("d"), 0, kOther, 02777);
  WriteFile(env.P("d/f"), "x");
  CHECK_EQ(Stat(env.P("d/f")).st_gid, kOther);
  CHECK_EQ(ModeOf(env.P("d/f")) & S_ISGID, mode_t{0});
  AsUser([&] {
    WriteFile(env.P("d/g"), "x");
    CHECK_EQ(Stat(env.P("d/g")).st_gid, kOther);
    CHECK_EQ(Stat(env.P("d/g")).st_uid, kUser);
  });
}

POSIX_CASE(setgid_dir_subdir_inherits) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Own(env.P("d"), 0, kOther, 02777);
  AsUser([&] {
    CHECK_OK(mkdir(env.P("d/sub").c_str(), 0755));
    struct stat st = Stat(env.P("d/sub"));
    CHECK_EQ(st.st_gid, kOther);
    CHECK_EQ(st.st_mode & 07777, mode_t{02755});
  });
}

POSIX_CASE(setgid_create_nonmember_strips_sgid) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Own(env.P("d"), 0, kOther, 02777);
  AsUser([&] {
    close(CHECK_OK(open(env.P("d/f").c_str(), O_CREAT | O_WRONLY, 02755)));
    CHECK_EQ(ModeOf(env.P("d/f")), mode_t{0755});
  });
}

POSIX_CASE(suid_cleared_on_write) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 06777);
  AsUser2([&] {
    int fd = Open(env.P("f"), O_WRONLY);
    CHECK_EQ(write(fd, "y", 1), ssize_t{1});
    close(fd);
  });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0777});
}

POSIX_CASE(sgid_without_group_exec_kept_on_write) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 02666);
  AsUser([&] {
    int fd = Open(env.P("f"), O_WRONLY);
    CHECK_EQ(write(fd, "y", 1), ssize_t{1});
    close(fd);
  });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{02666});
}

POSIX_CASE(suid_kept_on_root_write) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 06755);
  int fd = Open(env.P("f"), O_WRONLY);
  CHECK_EQ(write(fd, "y", 1), ssize_t{1});
  close(fd);
  CHECK_EQ(ModeOf(env.P("f")), mode_t{06755});
}

POSIX_CASE(suid_cleared_on_truncate) {
  WriteFile(env.P("f"), "xyz");
  Own(env.P("f"), kUser, kGroup, 04777);
  AsUser2([&] { CHECK_OK(truncate(env.P("f").c_str(), 1)); });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0777});
}

POSIX_CASE(suid_cleared_on_chown) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 06755);
  AsUser([&] { CHECK_OK(chown(env.P("f").c_str(), static_cast<uid_t>(-1), kExtra)); });
  struct stat st = Stat(env.P("f"));
  CHECK_EQ(st.st_gid, kExtra);
  CHECK_EQ(st.st_mode & 07777, mode_t{0755});
}

POSIX_CASE(suid_cleared_on_root_chown) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 06755);
  CHECK_OK(chown(env.P("f").c_str(), kUser2, kGroup2));
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0755});
}

POSIX_CASE(suid_dir_kept_on_chown) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  Own(env.P("d"), kUser, kGroup, 02755);
  CHECK_OK(chown(env.P("d").c_str(), kUser2, kGroup2));
  CHECK_EQ(ModeOf(env.P("d")), mode_t{02755});
}

POSIX_CASE(chown_nonroot_uid_denied) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0644);
  AsUser([&] {
    CHECK_ERR(chown(env.P("f").c_str(), kUser2, static_cast<gid_t>(-1)), EPERM);
    CHECK_OK(chown(env.P("f").c_str(), kUser, static_cast<gid_t>(-1)));  // to itself: allowed
  });
}

POSIX_CASE(chown_nonroot_group_rules) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0644);
  AsUser([&] {
    CHECK_ERR(chown(env.P("f").c_str(), static_cast<uid_t>(-1), kOther), EPERM);
    CHECK_OK(chown(env.P("f").c_str(), static_cast<uid_t>(-1), kExtra));
  });
  CHECK_EQ(Stat(env.P("f")).st_gid, kExtra);
  AsUser2([&] { CHECK_ERR(chown(env.P("f").c_str(), static_cast<uid_t>(-1), kGroup2), EPERM); });
}

POSIX_CASE(chown_noop_by_nonowner) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0644);
  AsUser2(
      [&] { CHECK_OK(chown(env.P("f").c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(-1))); });
}

POSIX_CASE(chown_symlink_itself) {
  CHECK_OK(symlink("nowhere", env.P("l").c_str()));
  CHECK_OK(lchown(env.P("l").c_str(), kUser, kGroup));
  struct stat st = Lstat(env.P("l"));
  CHECK_EQ(st.st_uid, kUser);
  CHECK_EQ(st.st_gid, kGroup);
}

POSIX_CASE(chmod_nonowner_denied) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0666);
  AsUser2([&] { CHECK_ERR(chmod(env.P("f").c_str(), 0777), EPERM); });
  AsUser([&] { CHECK_OK(chmod(env.P("f").c_str(), 0600)); });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0600});
}

POSIX_CASE(chmod_sgid_nonmember_cleared) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kOther, 0644);
  AsUser([&] { CHECK_OK(chmod(env.P("f").c_str(), 02755)); });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0755});
  CHECK_OK(chown(env.P("f").c_str(), kUser, kExtra));
  AsUser([&] { CHECK_OK(chmod(env.P("f").c_str(), 02755)); });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{02755});
}

POSIX_CASE(chmod_sticky_and_suid_bits) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0644);
  AsUser([&] { CHECK_OK(chmod(env.P("f").c_str(), 05755)); });
  CHECK_EQ(ModeOf(env.P("f")), mode_t{05755});
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  CHECK_OK(chmod(env.P("d").c_str(), 01777));
  CHECK_EQ(ModeOf(env.P("d")), mode_t{01777});
}

POSIX_CASE(utimes_explicit_needs_owner) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0666);
  AsUser2([&] {
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0), EPERM);
    CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), nullptr, 0));  // "now": write access is enough
  });
  AsUser([&] {
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    CHECK_OK(utimensat(AT_FDCWD, env.P("f").c_str(), ts, 0));
  });
  CHECK_EQ(Stat(env.P("f")).st_mtim.tv_sec, time_t{2});
}

POSIX_CASE(utimes_now_needs_write) {
  WriteFile(env.P("f"), "x");
  Own(env.P("f"), kUser, kGroup, 0644);
  AsUser2([&] { CHECK_ERR(utimensat(AT_FDCWD, env.P("f").c_str(), nullptr, 0), EACCES); });
}

}  // namespace posixsuite
