// fsdiff: a randomized differential test of two directories.
//
// Applies one seeded sequence of mixed operations (create, write, truncate,
// rename with its flags, link, unlink, mkdir, rmdir, symlink, setxattr,
// removexattr, chmod, fallocate in every mode, copy_file_range, read) to
// directory A and to directory B, one operation at a time, and compares every
// return value and errno (and the bytes of every read). At the end it walks
// both trees and compares names, types, modes, sizes, link counts, contents,
// symlink targets and user xattrs. Names come from a small pool so that
// operations collide: renames over existing entries, rmdir of full
// directories, links to directories, and so on.
//
//   fsdiff SEED OPS DIR_A DIR_B
//
// Prints the first differences (at most 20) and "N operations, M differences";
// exits 1 when there is any.
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

// What one operation returned in one directory.
struct Outcome {
  long ret = 0;
  int err = 0;
  std::string data;  // bytes read, for reads
  bool operator==(const Outcome&) const = default;
};

std::string Describe(const Outcome& o) {
  std::string s = std::to_string(o.ret);
  if (o.ret < 0) s += std::string(" ") + (strerrorname_np(o.err) ? strerrorname_np(o.err) : "?");
  if (!o.data.empty()) s += " (" + std::to_string(o.data.size()) + " bytes read)";
  return s;
}

Outcome Result(long ret) {
  Outcome o;
  o.ret = ret < 0 ? -1 : ret;
  o.err = ret < 0 ? errno : 0;
  return o;
}

std::string Bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// One operation, drawn once and applied to both directories.
struct Op {
  int kind = 0;
  std::string a, b;  // relative paths
  long x = 0, y = 0, z = 0;
  unsigned flags = 0;
  std::string data;
  std::string Text() const {
    static const char* kNames[] = {"create",    "write",           "truncate",    "rename",
                                   "link",      "unlink",          "mkdir",       "rmdir",
                                   "symlink",   "setxattr",        "removexattr", "chmod",
                                   "fallocate", "copy_file_range", "read"};
    return std::string(kNames[kind]) + " " + a + (b.empty() ? "" : " " + b) +
           " x=" + std::to_string(x) + " y=" + std::to_string(y) + " z=" + std::to_string(z) +
           " flags=" + std::to_string(flags);
  }
};
constexpr int kKinds = 15;

Op Draw(std::mt19937_64& rng) {
  static const std::vector<std::string> kParents = {"", "d0/", "d1/", "d0/d0/", "d1/d1/"};
  static const std::vector<std::string> kNames = {"d0", "d1", "a", "b", "c", "e"};
  auto path = [&] { return kParents[rng() % kParents.size()] + kNames[rng() % kNames.size()]; };
  // Data operations mostly name files that exist: a few names near the top.
  auto file_path = [&] {
    static const std::vector<std::string> kFileParents = {"", "", "d0/", "d1/"};
    static const std::vector<std::string> kFileNames = {"a", "b", "c"};
    return rng() % 8 == 0
               ? path()
               : kFileParents[rng() % kFileParents.size()] + kFileNames[rng() % kFileNames.size()];
  };
  Op op;
  // Writes and creates more often than the rest, so files grow.
  static const int kWeights[kKinds] = {8, 12, 4, 8, 4, 4, 6, 3, 2, 4, 2, 3, 4, 4, 6};
  int total = 0;
  for (int w : kWeights) total += w;
  int pick = static_cast<int>(rng() % static_cast<uint64_t>(total));
  for (op.kind = 0; pick >= kWeights[op.kind]; ++op.kind) pick -= kWeights[op.kind];
  const bool data_op = op.kind == 0 || op.kind == 1 || op.kind == 2 || op.kind == 12 ||
                       op.kind == 13 || op.kind == 14 || op.kind == 4;
  op.a = data_op ? file_path() : path();
  switch (op.kind) {
    case 0:
      op.flags = rng() % 3 == 0 ? O_EXCL : 0, op.x = (rng() % 2) ? 0644 : 0600;
      break;
    case 1:
      op.x = static_cast<long>(rng() % (300 << 10));
      op.data = Bytes(rng, 1 + rng() % (64 << 10));
      op.flags = rng() % 8 == 0 ? O_APPEND : 0;
      break;
    case 2:
      op.x = static_cast<long>(rng() % (320 << 10));
      break;
    case 3: {
      op.b = path();
      unsigned r = static_cast<unsigned>(rng() % 6);
      op.flags = r == 0 ? RENAME_NOREPLACE : r == 1 ? RENAME_EXCHANGE : 0;
      break;
    }
    case 4:
      op.b = rng() % 2 ? file_path() : path();
      break;
    case 8:
      op.b = path();
      break;  // target text
    case 9:
      op.x = static_cast<long>(rng() % 4);
      op.flags = static_cast<unsigned>(rng() % 3);  // 0, XATTR_CREATE, XATTR_REPLACE
      op.data = Bytes(rng, rng() % 100);
      break;
    case 10:
      op.x = static_cast<long>(rng() % 4);
      break;
    case 11:
      op.x = static_cast<long>(rng() % 01000);
      break;
    case 12: {
      static const int kModes[] = {0, FALLOC_FL_KEEP_SIZE,
                                   FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE,
                                   FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE};
      op.flags = static_cast<unsigned>(kModes[rng() % 5]);
      op.x = static_cast<long>(rng() % (300 << 10));
      op.y = static_cast<long>(1 + rng() % (100 << 10));
      break;
    }
    case 13:
      op.b = file_path();
      op.x = static_cast<long>(rng() % (300 << 10));
      op.y = static_cast<long>(rng() % (300 << 10));
      op.z = static_cast<long>(1 + rng() % (200 << 10));
      break;
    case 14:
      op.x = static_cast<long>(rng() % (300 << 10));
      op.y = static_cast<long>(1 + rng() % (64 << 10));
      break;
    default:
      break;
  }
  return op;
}

Outcome Apply(const Op& op, const std::string& root) {
  const std::string a = root + "/" + op.a, b = root + "/" + op.b;
  errno = 0;
  switch (op.kind) {
    case 0: {
      int fd = open(a.c_str(), O_CREAT | O_WRONLY | static_cast<int>(op.flags),
                    static_cast<mode_t>(op.x));
      if (fd < 0) return Result(-1);
      close(fd);
      return Result(0);
    }
    case 1: {
      int fd = open(a.c_str(), O_WRONLY | static_cast<int>(op.flags));
      if (fd < 0) return Result(-1);
      Outcome o = Result(pwrite(fd, op.data.data(), op.data.size(), op.x));
      close(fd);
      return o;
    }
    case 2:
      return Result(truncate(a.c_str(), op.x));
    case 3:
      return Result(renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), op.flags));
    case 4:
      return Result(link(a.c_str(), b.c_str()));
    case 5:
      return Result(unlink(a.c_str()));
    case 6:
      return Result(mkdir(a.c_str(), 0755));
    case 7:
      return Result(rmdir(a.c_str()));
    case 8:
      return Result(symlink(op.b.c_str(), a.c_str()));
    case 9: {
      std::string name = "user.k" + std::to_string(op.x);
      return Result(lsetxattr(a.c_str(), name.c_str(), op.data.data(), op.data.size(),
                              static_cast<int>(op.flags)));
    }
    case 10: {
      std::string name = "user.k" + std::to_string(op.x);
      return Result(lremovexattr(a.c_str(), name.c_str()));
    }
    case 11:
      return Result(chmod(a.c_str(), static_cast<mode_t>(op.x) | 0700));
    case 12: {
      int fd = open(a.c_str(), O_RDWR);
      if (fd < 0) return Result(-1);
      Outcome o = Result(fallocate(fd, static_cast<int>(op.flags), op.x, op.y));
      close(fd);
      return o;
    }
    case 13: {
      int in = open(a.c_str(), O_RDONLY);
      if (in < 0) return Result(-1);
      int out = open(b.c_str(), O_WRONLY);
      if (out < 0) {
        Outcome o = Result(-1);
        close(in);
        return o;
      }
      loff_t off_in = op.x, off_out = op.y;
      long total = 0;
      Outcome o;
      while (total < op.z) {
        ssize_t n =
            copy_file_range(in, &off_in, out, &off_out, static_cast<size_t>(op.z - total), 0);
        if (n < 0) {
          o = Result(-1);
          break;
        }
        if (n == 0) break;
        total += n;
      }
      if (o.ret == 0) o.ret = total;
      close(in);
      close(out);
      return o;
    }
    case 14: {
      int fd = open(a.c_str(), O_RDONLY);
      if (fd < 0) return Result(-1);
      std::string buf(static_cast<size_t>(op.y), '\0');
      Outcome o = Result(pread(fd, buf.data(), buf.size(), op.x));
      if (o.ret > 0) o.data = buf.substr(0, static_cast<size_t>(o.ret));
      close(fd);
      return o;
    }
  }
  return Result(0);
}

// --- The final trees ---

std::string FileContent(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return "<unreadable>";
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::map<std::string, std::string> Xattrs(const std::string& path) {
  std::map<std::string, std::string> out;
  char names[4096];
  ssize_t n = llistxattr(path.c_str(), names, sizeof names);
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (name.rfind("user.", 0) != 0) continue;
    char value[4096];
    ssize_t v = lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
    out[name] = v >= 0 ? std::string(value, static_cast<size_t>(v)) : "<error>";
  }
  return out;
}

// path (relative) -> a description of everything compared.
void Walk(const std::string& root, const std::string& rel,
          std::map<std::string, std::string>* out) {
  std::string full = rel.empty() ? root : root + "/" + rel;
  DIR* d = opendir(full.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string r = rel.empty() ? n : rel + "/" + n;
    std::string p = root + "/" + r;
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) {
      (*out)[r] = "<lstat failed>";
      continue;
    }
    // A directory's size is the file system's own business (ext4: blocks,
    // tmpfs: entries, tessera: 0): not compared.
    char desc[128];
    std::snprintf(desc, sizeof desc, "mode %o nlink %lu size %lld", st.st_mode,
                  static_cast<unsigned long>(st.st_nlink),
                  S_ISDIR(st.st_mode) ? 0LL : static_cast<long long>(st.st_size));
    std::string v = desc;
    for (const auto& [k, x] : Xattrs(p))
      v += " " + k + "=" + std::to_string(std::hash<std::string>{}(x));
    if (S_ISREG(st.st_mode)) {
      v += " content " + std::to_string(std::hash<std::string>{}(FileContent(p)));
    } else if (S_ISLNK(st.st_mode)) {
      char t[4096];
      ssize_t n2 = readlink(p.c_str(), t, sizeof t);
      v += " -> " + std::string(t, static_cast<size_t>(std::max<ssize_t>(n2, 0)));
    }
    (*out)[r] = v;
    if (S_ISDIR(st.st_mode)) Walk(root, r, out);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: fsdiff SEED OPS DIR_A DIR_B\n");
    return 2;
  }
  uint64_t seed = std::strtoull(argv[1], nullptr, 10);
  long ops = std::strtol(argv[2], nullptr, 10);
  std::string dir_a = argv[3], dir_b = argv[4];
  std::mt19937_64 rng(seed);
  umask(022);
  int diffs = 0;
  std::map<int, int> per_kind, succeeded;
  for (long i = 0; i < ops; ++i) {
    Op op = Draw(rng);
    Outcome a = Apply(op, dir_a);
    Outcome b = Apply(op, dir_b);
    ++per_kind[op.kind];
    if (a.ret >= 0) ++succeeded[op.kind];
    if (!(a == b)) {
      if (++diffs <= 20) {
        std::printf("op %ld %s: %s gives %s, %s gives %s%s\n", i, op.Text().c_str(), dir_a.c_str(),
                    Describe(a).c_str(), dir_b.c_str(), Describe(b).c_str(),
                    a.ret == b.ret && a.data != b.data ? " (different bytes)" : "");
      }
    }
  }
  std::map<std::string, std::string> tree_a, tree_b;
  Walk(dir_a, "", &tree_a);
  Walk(dir_b, "", &tree_b);
  for (const auto& [path, desc] : tree_a) {
    auto it = tree_b.find(path);
    std::string other = it == tree_b.end() ? "<missing>" : it->second;
    if (other != desc && ++diffs <= 40) {
      std::printf("tree %s: %s in A, %s in B\n", path.c_str(), desc.c_str(), other.c_str());
    }
  }
  for (const auto& [path, desc] : tree_b) {
    if (!tree_a.count(path) && ++diffs <= 40)
      std::printf("tree %s: only in B: %s\n", path.c_str(), desc.c_str());
  }
  std::string counts;
  for (const auto& [kind, n] : per_kind) {
    Op named;
    named.kind = kind;
    std::string text = named.Text();
    counts += " " + text.substr(0, text.find(' ')) + " " + std::to_string(succeeded[kind]) + "/" +
              std::to_string(n);
  }
  std::printf("succeeded:%s\n", counts.c_str());
  std::printf("%ld operations (seed %llu), %zu entries in the final tree, %d differences\n", ops,
              static_cast<unsigned long long>(seed), tree_a.size(), diffs);
  return diffs == 0 ? 0 : 1;
}
