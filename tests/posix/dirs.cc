// Directories and rename: every rename form and its errors, '.' and '..',
// nlink counting subdirectories, readdir under concurrent change,
// telldir/seekdir.
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "posix/suite.h"

namespace posixsuite {
namespace {

int Rename2(const std::string& a, const std::string& b, unsigned flags) {
  return renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), flags);
}

void Mkdir(const std::string& path) { CHECK_OK(mkdir(path.c_str(), 0755)); }

}  // namespace

POSIX_CASE(rename_file_over_file) {
  WriteFile(env.P("a"), "A");
  WriteFile(env.P("b"), "B");
  CHECK_OK(rename(env.P("a").c_str(), env.P("b").c_str()));
  CHECK_EQ(ReadFile(env.P("b")), std::string("A"));
  CHECK_TRUE((ListDir(env.dir) == std::vector<std::string>{"b"}));
}

POSIX_CASE(rename_dir_over_empty_dir) {
  Mkdir(env.P("a"));
  WriteFile(env.P("a/f"), "x");
  Mkdir(env.P("b"));
  CHECK_OK(rename(env.P("a").c_str(), env.P("b").c_str()));
  CHECK_EQ(ReadFile(env.P("b/f")), std::string("x"));
  CHECK_EQ(Stat(env.dir).st_nlink, nlink_t{3});
}

POSIX_CASE(rename_dir_over_nonempty_dir) {
  Mkdir(env.P("a"));
  Mkdir(env.P("b"));
  WriteFile(env.P("b/f"), "x");
  CHECK_ERR(rename(env.P("a").c_str(), env.P("b").c_str()), ENOTEMPTY);
}

POSIX_CASE(rename_type_mismatch) {
  Mkdir(env.P("d"));
  WriteFile(env.P("f"), "x");
  CHECK_ERR(rename(env.P("d").c_str(), env.P("f").c_str()), ENOTDIR);
  CHECK_ERR(rename(env.P("f").c_str(), env.P("d").c_str()), EISDIR);
}

POSIX_CASE(rename_into_own_subtree) {
  Mkdir(env.P("a"));
  Mkdir(env.P("a/b"));
  CHECK_ERR(rename(env.P("a").c_str(), env.P("a/b/c").c_str()), EINVAL);
  CHECK_ERR(rename(env.P("a").c_str(), env.P("a/c").c_str()), EINVAL);
}

POSIX_CASE(rename_missing_and_dots) {
  CHECK_ERR(rename(env.P("none").c_str(), env.P("x").c_str()), ENOENT);
  Mkdir(env.P("d"));
  CHECK_ERR(rename(env.P("d/.").c_str(), env.P("x").c_str()), EBUSY);
  CHECK_ERR(rename(env.P("d").c_str(), env.P("d/..").c_str()), EBUSY);
  WriteFile(env.P("f"), "x");
  CHECK_ERR(rename(env.P("f").c_str(), env.P("f/x").c_str()), ENOTDIR);
}

POSIX_CASE(rename_same_inode_is_noop) {
  WriteFile(env.P("a"), "x");
  CHECK_OK(link(env.P("a").c_str(), env.P("b").c_str()));
  CHECK_OK(rename(env.P("a").c_str(), env.P("b").c_str()));
  CHECK_EQ(ListDir(env.dir).size(), size_t{2});  // both names stay, as POSIX says
  CHECK_EQ(Stat(env.P("a")).st_nlink, nlink_t{2});
  CHECK_OK(rename(env.P("a").c_str(), env.P("a").c_str()));
}

POSIX_CASE(rename_noreplace) {
  WriteFile(env.P("a"), "A");
  WriteFile(env.P("b"), "B");
  CHECK_ERR(Rename2(env.P("a"), env.P("b"), RENAME_NOREPLACE), EEXIST);
  CHECK_EQ(ReadFile(env.P("b")), std::string("B"));
  CHECK_OK(Rename2(env.P("a"), env.P("c"), RENAME_NOREPLACE));
  CHECK_EQ(ReadFile(env.P("c")), std::string("A"));
}

POSIX_CASE(rename_exchange_files) {
  WriteFile(env.P("a"), "A");
  WriteFile(env.P("b"), "B");
  ino_t ia = Stat(env.P("a")).st_ino;
  CHECK_OK(Rename2(env.P("a"), env.P("b"), RENAME_EXCHANGE));
  CHECK_EQ(ReadFile(env.P("a")), std::string("B"));
  CHECK_EQ(ReadFile(env.P("b")), std::string("A"));
  CHECK_EQ(Stat(env.P("b")).st_ino, ia);
}

POSIX_CASE(rename_exchange_dir_and_file_across) {
  Mkdir(env.P("p"));
  Mkdir(env.P("q"));
  Mkdir(env.P("p/d"));
  WriteFile(env.P("q/f"), "F");
  CHECK_OK(Rename2(env.P("p/d"), env.P("q/f"), RENAME_EXCHANGE));
  CHECK_TRUE(S_ISDIR(Stat(env.P("q/f")).st_mode));
  CHECK_EQ(ReadFile(env.P("p/d")), std::string("F"));
  CHECK_EQ(Stat(env.P("p")).st_nlink, nlink_t{2});
  CHECK_EQ(Stat(env.P("q")).st_nlink, nlink_t{3});
  CHECK_EQ(Stat(env.P("q/f/..")).st_ino, Stat(env.P("q")).st_ino);
}

POSIX_CASE(rename_exchange_errors) {
  WriteFile(env.P("a"), "A");
  CHECK_ERR(Rename2(env.P("a"), env.P("none"), RENAME_EXCHANGE), ENOENT);
  WriteFile(env.P("b"), "B");
  CHECK_ERR(Rename2(env.P("a"), env.P("b"), RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
  Mkdir(env.P("d"));
  Mkdir(env.P("d/sub"));
  CHECK_ERR(Rename2(env.P("d"), env.P("d/sub"), RENAME_EXCHANGE), EINVAL);
  CHECK_ERR(Rename2(env.P("a"), env.P("b"), 0x100), EINVAL);
}

POSIX_CASE(rename_dir_updates_dotdot_and_nlink) {
  Mkdir(env.P("a"));
  Mkdir(env.P("b"));
  Mkdir(env.P("a/d"));
  CHECK_EQ(Stat(env.P("a")).st_nlink, nlink_t{3});
  CHECK_OK(rename(env.P("a/d").c_str(), env.P("b/d").c_str()));
  CHECK_EQ(Stat(env.P("a")).st_nlink, nlink_t{2});
  CHECK_EQ(Stat(env.P("b")).st_nlink, nlink_t{3});
  CHECK_EQ(Stat(env.P("b/d/..")).st_ino, Stat(env.P("b")).st_ino);
}

POSIX_CASE(dotdot_after_parent_renamed) {
  Mkdir(env.P("a"));
  Mkdir(env.P("a/inner"));
  Mkdir(env.P("z"));
  int fd = Open(env.P("a/inner"), O_RDONLY | O_DIRECTORY);
  CHECK_OK(rename(env.P("a").c_str(), env.P("z/moved").c_str()));
  struct stat up;
  CHECK_OK(fstatat(fd, "..", &up, 0));
  CHECK_EQ(up.st_ino, Stat(env.P("z/moved")).st_ino);
  CHECK_OK(fstatat(fd, "../..", &up, 0));
  CHECK_EQ(up.st_ino, Stat(env.P("z")).st_ino);
  close(fd);
}

POSIX_CASE(dir_nlink_counts_subdirs) {
  Mkdir(env.P("d"));
  CHECK_EQ(Stat(env.P("d")).st_nlink, nlink_t{2});
  Mkdir(env.P("d/a"));
  Mkdir(env.P("d/b"));
  Mkdir(env.P("d/c"));
  WriteFile(env.P("d/f"), "x");
  CHECK_EQ(Stat(env.P("d")).st_nlink, nlink_t{5});
  CHECK_OK(rmdir(env.P("d/a").c_str()));
  CHECK_EQ(Stat(env.P("d")).st_nlink, nlink_t{4});
  CHECK_OK(rename(env.P("d/b").c_str(), env.P("b").c_str()));
  CHECK_EQ(Stat(env.P("d")).st_nlink, nlink_t{3});
  CHECK_EQ(Stat(env.P("d/c")).st_nlink, nlink_t{2});
}

POSIX_CASE(rmdir_errors) {
  Mkdir(env.P("d"));
  WriteFile(env.P("d/f"), "x");
  WriteFile(env.P("f"), "x");
  CHECK_ERR(rmdir(env.P("d").c_str()), ENOTEMPTY);
  CHECK_ERR(rmdir(env.P("f").c_str()), ENOTDIR);
  CHECK_ERR(rmdir(env.P("d/.").c_str()), EINVAL);
  CHECK_ERR(rmdir(env.P("d/..").c_str()), ENOTEMPTY);
  CHECK_ERR(rmdir(env.P("none").c_str()), ENOENT);
  CHECK_ERR(unlink(env.P("d").c_str()), EISDIR);
  CHECK_ERR(mkdir(env.P("d").c_str(), 0755), EEXIST);
  CHECK_ERR(mkdir(env.P("f").c_str(), 0755), EEXIST);
}

POSIX_CASE(rmdir_open_dir) {
  Mkdir(env.P("d"));
  int fd = Open(env.P("d"), O_RDONLY | O_DIRECTORY);
  CHECK_OK(rmdir(env.P("d").c_str()));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_nlink, nlink_t{0});
  CHECK_ERR(openat(fd, "new", O_CREAT | O_WRONLY, 0644), ENOENT);
  close(fd);
}

POSIX_CASE(readdir_dots_and_types) {
  Mkdir(env.P("d"));
  Mkdir(env.P("d/sub"));
  WriteFile(env.P("d/f"), "x");
  CHECK_OK(symlink("f", env.P("d/l").c_str()));
  CHECK_OK(mkfifo(env.P("d/p").c_str(), 0644));
  DIR* dir = opendir(env.P("d").c_str());
  CHECK_TRUE(dir != nullptr);
  std::map<std::string, std::pair<ino_t, unsigned>> got;
  while (struct dirent* e = readdir(dir)) got[e->d_name] = {e->d_ino, e->d_type};
  closedir(dir);
  CHECK_EQ(got.size(), size_t{6});
  CHECK_EQ(got["."].first, Stat(env.P("d")).st_ino);
  CHECK_EQ(got[".."].first, Stat(env.dir).st_ino);
  CHECK_EQ(got["sub"].second, unsigned{DT_DIR});
  CHECK_EQ(got["f"].second, unsigned{DT_REG});
  CHECK_EQ(got["l"].second, unsigned{DT_LNK});
  CHECK_EQ(got["p"].second, unsigned{DT_FIFO});
  CHECK_EQ(got["f"].first, Stat(env.P("d/f")).st_ino);
}

POSIX_CASE(readdir_stable_under_change) {
  // Entries present throughout are returned exactly once, whatever is created
  // or removed while the listing is read.
  Mkdir(env.P("d"));
  for (int i = 0; i < 300; ++i) WriteFile(env.P("d/keep" + std::to_string(i)), "");
  for (int i = 0; i < 100; ++i) WriteFile(env.P("d/gone" + std::to_string(i)), "");
  DIR* dir = opendir(env.P("d").c_str());
  CHECK_TRUE(dir != nullptr);
  std::multiset<std::string> seen;
  int n = 0;
  while (struct dirent* e = readdir(dir)) {
    seen.insert(e->d_name);
    if (++n == 50) {
      for (int i = 0; i < 100; ++i) unlink(env.P("d/gone" + std::to_string(i)).c_str());
      for (int i = 0; i < 200; ++i) WriteFile(env.P("d/new" + std::to_string(i)), "");
    }
  }
  closedir(dir);
  for (int i = 0; i < 300; ++i) CHECK_EQ(seen.count("keep" + std::to_string(i)), size_t{1});
  for (const auto& name : seen) {
    if (seen.count(name) != 1) Fail("\"" + name + "\" listed twice");
  }
}

POSIX_CASE(telldir_seekdir) {
  Mkdir(env.P("d"));
  for (int i = 0; i < 50; ++i) WriteFile(env.P("d/f" + std::to_string(i)), "");
  DIR* dir = opendir(env.P("d").c_str());
  CHECK_TRUE(dir != nullptr);
  for (int i = 0; i < 20; ++i) CHECK_TRUE(readdir(dir) != nullptr);
  long pos = telldir(dir);
  std::vector<std::string> first;
  for (int i = 0; i < 10; ++i) first.push_back(readdir(dir)->d_name);
  seekdir(dir, pos);
  std::vector<std::string> again;
  for (int i = 0; i < 10; ++i) again.push_back(readdir(dir)->d_name);
  CHECK_TRUE(first == again);
  rewinddir(dir);
  int count = 0;
  while (readdir(dir)) ++count;
  CHECK_EQ(count, 52);
  closedir(dir);
}

POSIX_CASE(readdir_empty_after_rm) {
  Mkdir(env.P("d"));
  for (int i = 0; i < 10; ++i) WriteFile(env.P("d/f" + std::to_string(i)), "");
  for (int i = 0; i < 10; ++i) CHECK_OK(unlink(env.P("d/f" + std::to_string(i)).c_str()));
  CHECK_TRUE(ListDir(env.P("d")).empty());
  CHECK_OK(rmdir(env.P("d").c_str()));
}

}  // namespace posixsuite
