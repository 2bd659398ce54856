// Special files (FIFOs, sockets, devices), names and path lengths, links.
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "posix/suite.h"

namespace posixsuite {

POSIX_CASE(special_fifo) {
  CHECK_OK(mkfifo(env.P("p").c_str(), 0644));
  CHECK_TRUE(S_ISFIFO(Lstat(env.P("p")).st_mode));
  CHECK_EQ(Lstat(env.P("p")).st_size, off_t{0});
  int fd = Open(env.P("p"), O_RDWR);  // Linux: O_RDWR on a FIFO does not block
  CHECK_EQ(write(fd, "ping", 4), ssize_t{4});
  char buf[8];
  CHECK_EQ(read(fd, buf, sizeof buf), ssize_t{4});
  CHECK_EQ(std::string(buf, 4), std::string("ping"));
  close(fd);
  CHECK_ERR(open(env.P("p").c_str(), O_WRONLY | O_NONBLOCK), ENXIO);  // no reader
}

POSIX_CASE(special_socket_bind_connect) {
  std::string path = env.P("s");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return;  // a deep DIR: nothing to check here
  std::strcpy(addr.sun_path, path.c_str());
  int srv = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
  CHECK_OK(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  CHECK_OK(listen(srv, 1));
  CHECK_TRUE(S_ISSOCK(Lstat(path).st_mode));
  int cli = CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0));
  CHECK_OK(connect(cli, reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  int conn = CHECK_OK(accept(srv, nullptr, nullptr));
  CHECK_EQ(write(cli, "hi", 2), ssize_t{2});
  char buf[2];
  CHECK_EQ(read(conn, buf, 2), ssize_t{2});
  close(conn);
  close(cli);
  close(srv);
  CHECK_ERR(bind(CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0)), reinterpret_cast<sockaddr*>(&addr),
                 sizeof addr),
            EADDRINUSE);
}

POSIX_CASE(special_mknod_socket) {
  CHECK_OK(mknod(env.P("s").c_str(), S_IFSOCK | 0644, 0));
  CHECK_TRUE(S_ISSOCK(Lstat(env.P("s")).st_mode));
}

POSIX_CASE(special_char_device_rdev) {
  CHECK_OK(mknod(env.P("null").c_str(), S_IFCHR | 0666, makedev(1, 3)));
  struct stat st = Lstat(env.P("null"));
  CHECK_TRUE(S_ISCHR(st.st_mode));
  CHECK_EQ(major(st.st_rdev), 1u);
  CHECK_EQ(minor(st.st_rdev), 3u);
  CHECK_EQ(st.st_size, off_t{0});
  int fd = Open(env.P("null"), O_WRONLY);  // /dev/null semantics: the mount allows devices
  CHECK_EQ(write(fd, "gone", 4), ssize_t{4});
  close(fd);
}

POSIX_CASE(special_block_device_rdev) {
  CHECK_OK(mknod(env.P("blk").c_str(), S_IFBLK | 0600, makedev(259, 65537)));
  struct stat st = Lstat(env.P("blk"));
  CHECK_TRUE(S_ISBLK(st.st_mode));
  CHECK_EQ(major(st.st_rdev), 259u);
  CHECK_EQ(minor(st.st_rdev), 65537u);
}

POSIX_CASE(special_mknod_regular_and_errors) {
  CHECK_OK(mknod(env.P("r").c_str(), S_IFREG | 0640, 0));
  CHECK_TRUE(S_ISREG(Lstat(env.P("r")).st_mode));
  CHECK_EQ(ModeOf(env.P("r")), mode_t{0640});
  CHECK_ERR(mknod(env.P("r").c_str(), S_IFIFO | 0644, 0), EEXIST);
  CHECK_OK(chmod(env.P(".").c_str(), 0777));
  AsUser([&] {
    CHECK_ERR(mknod(env.P("c").c_str(), S_IFCHR | 0644, makedev(1, 3)), EPERM);
    CHECK_OK(mknod(env.P("p").c_str(), S_IFIFO | 0644, 0));
  });
}

POSIX_CASE(name_255_bytes) {
  std::string name(255, 'n');
  WriteFile(env.P(name), "x");
  CHECK_EQ(ReadFile(env.P(name)), std::string("x"));
  CHECK_OK(mkdir(env.P(std::string(255, 'd')).c_str(), 0755));
  CHECK_OK(symlink("t", env.P(std::string(255, 'l')).c_str()));
  CHECK_OK(rename(env.P(name).c_str(), env.P(std::string(255, 'm')).c_str()));
  CHECK_EQ(ListDir(env.dir).size(), size_t{3});
}

POSIX_CASE(name_256_too_long) {
  std::string name(256, 'n');
  WriteFile(env.P("f"), "x");
  struct stat st;
  CHECK_ERR(open(env.P(name).c_str(), O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
  CHECK_ERR(stat(env.P(name).c_str(), &st), ENAMETOOLONG);
  CHECK_ERR(mkdir(env.P(name).c_str(), 0755), ENAMETOOLONG);
  CHECK_ERR(symlink("t", env.P(name).c_str()), ENAMETOOLONG);
  CHECK_ERR(link(env.P("f").c_str(), env.P(name).c_str()), ENAMETOOLONG);
  CHECK_ERR(rename(env.P("f").c_str(), env.P(name).c_str()), ENAMETOOLONG);
  CHECK_ERR(mknod(env.P(name).c_str(), S_IFIFO | 0644, 0), ENAMETOOLONG);
}

POSIX_CASE(name_any_bytes) {
  std::vector<std::string> names;
  std::string all;
  for (int c = 1; c < 256; ++c) {
    if (c != '/') all.push_back(static_cast<char>(c));
  }
  names.push_back(all.substr(0, 120));
  names.push_back(all.substr(120));
  names.push_back(" leading and trailing ");
  names.push_back("new\nline\ttab");
  names.push_back("\xff\xfe\x80 not utf-8");
  names.push_back("...");
  names.push_back("-");
  for (const auto& n : names) WriteFile(env.P(n), n);
  auto listed = ListDir(env.dir);
  std::sort(listed.begin(), listed.end());
  std::sort(names.begin(), names.end());
  CHECK_TRUE(listed == names);
  for (const auto& n : names) CHECK_EQ(ReadFile(env.P(n)), n);
}

POSIX_CASE(path_4095_and_4096) {
  // Nested directories of 200-byte names up to a path of PATH_MAX - 1 bytes.
  std::string path = env.dir;
  std::string seg(200, 's');
  while (path.size() + 1 + seg.size() < 4000) {
    path += "/" + seg;
    CHECK_OK(mkdir(path.c_str(), 0755));
  }
  size_t room = 4095 - path.size() - 1;  // bytes left for a last component
  if (room > 255) {
    path += "/" + std::string(std::max<size_t>(1, room - 256), 'x');
    CHECK_OK(mkdir(path.c_str(), 0755));
    room = 4095 - path.size() - 1;
  }
  std::string last(room, 'f');
  std::string full = path + "/" + last;
  CHECK_EQ(full.size(), size_t{4095});
  close(Open(full, O_CREAT | O_WRONLY, 0644));
  struct stat st;
  CHECK_OK(stat(full.c_str(), &st));
  CHECK_ERR(stat((full + "g").c_str(), &st), ENAMETOOLONG);
}

POSIX_CASE(symlink_target_limits) {
  std::string target(4095, 't');
  CHECK_OK(symlink(target.c_str(), env.P("l").c_str()));
  char buf[5000];
  CHECK_EQ(readlink(env.P("l").c_str(), buf, sizeof buf), ssize_t{4095});
  CHECK_EQ(Lstat(env.P("l")).st_size, off_t{4095});
  std::string too_long(4096, 't');
  CHECK_ERR(symlink(too_long.c_str(), env.P("m").c_str()), ENAMETOOLONG);
  CHECK_ERR(symlink("", env.P("e").c_str()), ENOENT);
}

POSIX_CASE(symlink_follow_and_loop) {
  WriteFile(env.P("f"), "via link");
  CHECK_OK(symlink("f", env.P("l").c_str()));
  CHECK_EQ(ReadFile(env.P("l")), std::string("via link"));
  CHECK_TRUE(S_ISLNK(Lstat(env.P("l")).st_mode));
  CHECK_EQ(Lstat(env.P("l")).st_size, off_t{1});
  CHECK_OK(symlink("loop2", env.P("loop1").c_str()));
  CHECK_OK(symlink("loop1", env.P("loop2").c_str()));
  CHECK_ERR(open(env.P("loop1").c_str(), O_RDONLY), ELOOP);
  CHECK_ERR(open(env.P("l").c_str(), O_RDONLY | O_NOFOLLOW), ELOOP);
  char buf[8];
  CHECK_ERR(readlink(env.P("f").c_str(), buf, sizeof buf), EINVAL);
}

POSIX_CASE(link_counts) {
  WriteFile(env.P("f"), "x");
  CHECK_OK(link(env.P("f").c_str(), env.P("g").c_str()));
  CHECK_OK(link(env.P("f").c_str(), env.P("h").c_str()));
  CHECK_EQ(Stat(env.P("f")).st_nlink, nlink_t{3});
  CHECK_EQ(Stat(env.P("g")).st_ino, Stat(env.P("f")).st_ino);
  CHECK_OK(unlink(env.P("g").c_str()));
  CHECK_EQ(Stat(env.P("h")).st_nlink, nlink_t{2});
  CHECK_ERR(link(env.P("f").c_str(), env.P("h").c_str()), EEXIST);
  CHECK_ERR(link(env.P("missing").c_str(), env.P("m").c_str()), ENOENT);
}

POSIX_CASE(link_directory_denied) {
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  CHECK_ERR(link(env.P("d").c_str(), env.P("e").c_str()), EPERM);
}

POSIX_CASE(link_symlink_itself) {
  CHECK_OK(symlink("nowhere", env.P("l").c_str()));
  CHECK_OK(linkat(AT_FDCWD, env.P("l").c_str(), AT_FDCWD, env.P("m").c_str(), 0));
  CHECK_TRUE(S_ISLNK(Lstat(env.P("m")).st_mode));
  CHECK_EQ(Lstat(env.P("m")).st_nlink, nlink_t{2});
}

POSIX_CASE(cross_device_errors) {
  // /dev/shm: another file system than DIR's (the suite runs on a mount of its own).
  WriteFile(env.P("f"), "x");
  CHECK_ERR(rename(env.P("f").c_str(), "/dev/shm/tessera-posix-xdev"), EXDEV);
  CHECK_ERR(link(env.P("f").c_str(), "/dev/shm/tessera-posix-xdev"), EXDEV);
}

}  // namespace posixsuite
