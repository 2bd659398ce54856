// Permissions for non-root callers: r/w/x on files, search on the path,
// write on directories, the sticky bit, access(2), umask.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix/suite.h"

namespace posixsuite {
namespace {

void MakeFile(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
  WriteFile(path, "data\n", 0600);
  CHECK_OK(chown(path.c_str(), uid, gid));
  CHECK_OK(chmod(path.c_str(), mode));
}

void MakeDir(const std::string& path, mode_t mode, uid_t uid = 0, gid_t gid = 0) {
  CHECK_OK(mkdir(path.c_str(), 0700));
  CHECK_OK(chown(path.c_str(), uid, gid));
  CHECK_OK(chmod(path.c_str(), mode));
}

}  // namespace

POSIX_CASE(perm_read_denied_other) {
  MakeFile(env.P("f"), 0600);
  AsUser([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
}

POSIX_CASE(perm_read_allowed_other) {
  MakeFile(env.P("f"), 0604);
  AsUser([&] { CHECK_EQ(ReadFile(env.P("f")), std::string("data\n")); });
}

POSIX_CASE(perm_write_denied_other) {
  MakeFile(env.P("f"), 0644);
  AsUser([&] {
    CHECK_ERR(open(env.P("f").c_str(), O_WRONLY), EACCES);
    CHECK_ERR(open(env.P("f").c_str(), O_RDWR), EACCES);
    CHECK_ERR(truncate(env.P("f").c_str(), 0), EACCES);
  });
}

POSIX_CASE(perm_group_write) {
  MakeFile(env.P("f"), 0660, 0, kGroup);
  AsUser([&] { close(CHECK_OK(open(env.P("f").c_str(), O_WRONLY))); });
  AsUser2([&] { CHECK_ERR(open(env.P("f").c_str(), O_WRONLY), EACCES); });
}

POSIX_CASE(perm_supplementary_group) {
  MakeFile(env.P("f"), 0640, 0, kExtra);
  AsUser([&] { CHECK_EQ(ReadFile(env.P("f")), std::string("data\n")); });
  AsUser2([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
}

POSIX_CASE(perm_owner_class_wins) {
  // The owner gets the owner bits even when "other" would allow more.
  MakeFile(env.P("f"), 0077, kUser, kGroup2);
  AsUser([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
  AsUser2([&] { CHECK_EQ(ReadFile(env.P("f")), std::string("data\n")); });
}

POSIX_CASE(perm_group_class_wins) {
  MakeFile(env.P("f"), 0707, 0, kGroup);
  AsUser([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY), EACCES); });
}

POSIX_CASE(perm_exec) {
  WriteFile(env.P("s"), "#!/bin/sh\nexit 7\n", 0644);
  AsUser([&] {
    char* argv[] = {const_cast<char*>("s"), nullptr};
    CHECK_ERR(execve(env.P("s").c_str(), argv, environ), EACCES);
  });
  CHECK_OK(chmod(env.P("s").c_str(), 0755));
  AsUser([&] {
    pid_t pid = fork();
    if (pid == 0) {
      char* argv[] = {const_cast<char*>("s"), nullptr};
      execve(env.P("s").c_str(), argv, environ);
      _exit(99);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_EQ(WEXITSTATUS(status), 7);
  });
}

POSIX_CASE(perm_search_denied) {
  MakeDir(env.P("d"), 0700);
  MakeFile(env.P("d/f"), 0644);
  AsUser([&] {
    struct stat st;
    CHECK_ERR(stat(env.P("d/f").c_str(), &st), EACCES);
    CHECK_ERR(open(env.P("d/f").c_str(), O_RDONLY), EACCES);
    CHECK_ERR(open(env.P("d/new").c_str(), O_CREAT | O_WRONLY, 0644), EACCES);
  });
}

POSIX_CASE(perm_search_deep_path) {
  // Search permission is needed on every directory along the path.
  MakeDir(env.P("a"), 0755);
  MakeDir(env.P("a/b"), 0700);
  MakeDir(env.P("a/b/c"), 0777);
  MakeFile(env.P("a/b/c/f"), 0666);
  AsUser([&] {
    struct stat st;
    CHECK_ERR(stat(env.P("a/b/c/f").c_str(), &st), EACCES);
  });
  CHECK_OK(chmod(env.P("a/b").c_str(), 0711));
  AsUser([&] { CHECK_EQ(ReadFile(env.P("a/b/c/f")), std::string("data\n")); });
}

POSIX_CASE(perm_search_without_read) {
  MakeDir(env.P("d"), 0711);
  MakeFile(env.P("d/f"), 0644);
  AsUser([&] {
    CHECK_EQ(ReadFile(env.P("d/f")), std::string("data\n"));
    CHECK_ERR(open(env.P("d").c_str(), O_RDONLY | O_DIRECTORY), EACCES);
  });
}

POSIX_CASE(perm_read_without_search) {
  MakeDir(env.P("d"), 0744);
  MakeFile(env.P("d/f"), 0644);
  AsUser([&] {
    DIR* d = opendir(env.P("d").c_str());
    CHECK_TRUE(d != nullptr);
    bool seen = false;
    while (struct dirent* e = readdir(d)) seen |= std::string(e->d_name) == "f";
    closedir(d);
    CHECK_TRUE(seen);
    struct stat st;
    CHECK_ERR(stat(env.P("d/f").c_str(), &st), EACCES);
  });
}

POSIX_CASE(perm_create_needs_dir_write) {
  MakeDir(env.P("ro"), 0755);
  MakeDir(env.P("rw"), 0777);
  AsUser([&] {
    CHECK_ERR(open(env.P("ro/f").c_str(), O_CREAT | O_WRONLY, 0644), EACCES);
    CHECK_ERR(mkdir(env.P("ro/d").c_str(), 0755), EACCES);
    CHECK_ERR(symlink("x", env.P("ro/l").c_str()), EACCES);
    CHECK_ERR(mkfifo(env.P("ro/p").c_str(), 0644), EACCES);
    close(CHECK_OK(open(env.P("rw/f").c_str(), O_CREAT | O_WRONLY, 0644)));
    struct stat st = Stat(env.P("rw/f"));
    CHECK_EQ(st.st_uid, kUser);
    CHECK_EQ(st.st_gid, kGroup);
  });
}

POSIX_CASE(perm_unlink_needs_dir_write) {
  MakeDir(env.P("d"), 0755);
  MakeFile(env.P("d/f"), 0666, kUser, kGroup);
  AsUser([&] { CHECK_ERR(unlink(env.P("d/f").c_str()), EACCES); });
  CHECK_OK(chmod(env.P("d").c_str(), 0777));
  AsUser([&] { CHECK_OK(unlink(env.P("d/f").c_str())); });
}

POSIX_CASE(perm_rmdir_needs_dir_write) {
  MakeDir(env.P("d"), 0755);
  MakeDir(env.P("d/sub"), 0777, kUser, kGroup);
  AsUser([&] { CHECK_ERR(rmdir(env.P("d/sub").c_str()), EACCES); });
}

POSIX_CASE(perm_rename_needs_both_dirs_write) {
  MakeDir(env.P("src"), 0777);
  MakeDir(env.P("dst"), 0755);
  MakeFile(env.P("src/f"), 0644, kUser, kGroup);
  AsUser([&] { CHECK_ERR(rename(env.P("src/f").c_str(), env.P("dst/f").c_str()), EACCES); });
  CHECK_OK(chmod(env.P("dst").c_str(), 0777));
  AsUser([&] { CHECK_OK(rename(env.P("src/f").c_str(), env.P("dst/f").c_str())); });
}

POSIX_CASE(perm_rename_dir_needs_its_write) {
  // Moving a directory to another parent rewrites its "..": write on it is needed.
  MakeDir(env.P("a"), 0777);
  MakeDir(env.P("b"), 0777);
  MakeDir(env.P("a/d"), 0755);
  AsUser([&] { CHECK_ERR(rename(env.P("a/d").c_str(), env.P("b/d").c_str()), EACCES); });
  AsUser([&] { CHECK_OK(rename(env.P("a/d").c_str(), env.P("a/e").c_str())); });
}

POSIX_CASE(sticky_unlink_others_file) {
  MakeDir(env.P("t"), 01777);
  MakeFile(env.P("t/f"), 0666, kUser2, kGroup2);
  AsUser([&] {
    CHECK_ERR(unlink(env.P("t/f").c_str()), EPERM);
    CHECK_ERR(rename(env.P("t/f").c_str(), env.P("t/g").c_str()), EPERM);
  });
}

POSIX_CASE(sticky_unlink_own_file) {
  MakeDir(env.P("t"), 01777);
  AsUser([&] {
    WriteFile(env.P("t/mine"), "x");
    CHECK_OK(rename(env.P("t/mine").c_str(), env.P("t/mine2").c_str()));
    CHECK_OK(unlink(env.P("t/mine2").c_str()));
  });
}

POSIX_CASE(sticky_dir_owner_may_unlink) {
  MakeDir(env.P("t"), 01777, kUser, kGroup);
  MakeFile(env.P("t/f"), 0666, kUser2, kGroup2);
  AsUser([&] { CHECK_OK(unlink(env.P("t/f").c_str())); });
}

POSIX_CASE(sticky_replace_others_file) {
  MakeDir(env.P("t"), 01777);
  MakeFile(env.P("t/theirs"), 0666, kUser2, kGroup2);
  AsUser([&] {
    WriteFile(env.P("t/mine"), "x");
    CHECK_ERR(rename(env.P("t/mine").c_str(), env.P("t/theirs").c_str()), EPERM);
  });
}

POSIX_CASE(sticky_rmdir_others_dir) {
  MakeDir(env.P("t"), 01777);
  MakeDir(env.P("t/d"), 0777, kUser2, kGroup2);
  AsUser([&] { CHECK_ERR(rmdir(env.P("t/d").c_str()), EPERM); });
}

POSIX_CASE(access_bits) {
  MakeFile(env.P("f"), 0640, kUser, kGroup2);
  AsUser([&] {
    CHECK_OK(access(env.P("f").c_str(), F_OK));
    CHECK_OK(access(env.P("f").c_str(), R_OK | W_OK));
    CHECK_ERR(access(env.P("f").c_str(), X_OK), EACCES);
  });
  AsUser2([&] {
    CHECK_OK(access(env.P("f").c_str(), R_OK));
    CHECK_ERR(access(env.P("f").c_str(), W_OK), EACCES);
    CHECK_ERR(access(env.P("missing").c_str(), F_OK), ENOENT);
  });
}

POSIX_CASE(access_root_exec) {
  MakeFile(env.P("f"), 0644);
  CHECK_OK(access(env.P("f").c_str(), R_OK | W_OK));
  CHECK_ERR(access(env.P("f").c_str(), X_OK), EACCES);
  CHECK_OK(chmod(env.P("f").c_str(), 0001));
  CHECK_OK(access(env.P("f").c_str(), X_OK));
  MakeDir(env.P("d"), 0000);
  CHECK_OK(access(env.P("d").c_str(), R_OK | W_OK | X_OK));
}

POSIX_CASE(access_search_on_path) {
  MakeDir(env.P("d"), 0700);
  MakeFile(env.P("d/f"), 0644);
  AsUser([&] { CHECK_ERR(access(env.P("d/f").c_str(), F_OK), EACCES); });
}

POSIX_CASE(umask_create) {
  umask(027);
  close(Open(env.P("f"), O_CREAT | O_WRONLY, 0666));
  CHECK_EQ(ModeOf(env.P("f")), mode_t{0640});
  umask(0);
  close(Open(env.P("g"), O_CREAT | O_WRONLY, 0666));
  CHECK_EQ(ModeOf(env.P("g")), mode_t{0666});
}

POSIX_CASE(umask_mkdir_mknod_symlink) {
  umask(077);
  CHECK_OK(mkdir(env.P("d").c_str(), 0777));
  CHECK_EQ(ModeOf(env.P("d")), mode_t{0700});
  CHECK_OK(mkfifo(env.P("p").c_str(), 0666));
  CHECK_EQ(ModeOf(env.P("p")), mode_t{0600});
  CHECK_OK(symlink("target", env.P("l").c_str()));
  CHECK_EQ(ModeOf(env.P("l")), mode_t{0777});
}

POSIX_CASE(perm_ftruncate_readonly_fd) {
  WriteFile(env.P("f"), "abc");
  int fd = Open(env.P("f"), O_RDONLY);
  CHECK_ERR(ftruncate(fd, 0), EINVAL);
  char c = 'x';
  CHECK_ERR(write(fd, &c, 1), EBADF);
  close(fd);
  fd = Open(env.P("f"), O_WRONLY);
  CHECK_ERR(read(fd, &c, 1), EBADF);
  close(fd);
}

POSIX_CASE(perm_open_trunc_needs_write) {
  MakeFile(env.P("f"), 0644);
  AsUser([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY | O_TRUNC), EACCES); });
  CHECK_EQ(ReadFile(env.P("f")), std::string("data\n"));
}

POSIX_CASE(perm_noatime_needs_owner) {
  MakeFile(env.P("f"), 0644);
  AsUser([&] { CHECK_ERR(open(env.P("f").c_str(), O_RDONLY | O_NOATIME), EPERM); });
  close(Open(env.P("f"), O_RDONLY | O_NOATIME));
}

}  // namespace posixsuite
