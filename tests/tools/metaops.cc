// metaops: create, stat (with --rename: rename) and unlink N empty files in
// DIR and print the rate of each phase. Used by bench/ to compare a mount with
// a local directory.
//   metaops DIR [N] [--rename]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: metaops DIR [N] [--rename]\n");
    return 2;
  }
  std::string dir = argv[1];
  long n = argc > 2 ? std::atol(argv[2]) : 10000;
  bool renames = argc > 3 && std::string(argv[3]) == "--rename";
  auto now = [] { return std::chrono::steady_clock::now(); };
  auto rate = [&](const char* what, auto start) {
    double s = std::chrono::duration<double>(now() - start).count();
    std::printf("%-7s %8ld files in %7.3f s: %9.0f ops/s\n", what, n, s, n / s);
  };
  auto t0 = now();
  for (long i = 0; i < n; ++i) {
    int fd = open((dir + "/f" + std::to_string(i)).c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0 || close(fd) != 0) { std::perror("create"); return 1; }
  }
  rate("create", t0);
  auto t1 = now();
  struct stat st;
  for (long i = 0; i < n; ++i) {
    if (stat((dir + "/f" + std::to_string(i)).c_str(), &st) != 0) { std::perror("stat"); return 1; }
  }
  rate("stat", t1);
  const char* last = "/f";
  if (renames) {
    auto tr = now();
    for (long i = 0; i < n; ++i) {
      std::string from = dir + "/f" + std::to_string(i), to = dir + "/r" + std::to_string(i);
      if (rename(from.c_str(), to.c_str()) != 0) { std::perror("rename"); return 1; }
    }
    rate("rename", tr);
    last = "/r";
  }
  auto t2 = now();
  for (long i = 0; i < n; ++i) {
    if (unlink((dir + last + std::to_string(i)).c_str()) != 0) { std::perror("unlink"); return 1; }
  }
  rate("unlink", t2);
  double total = std::chrono::duration<double>(now() - t0).count();
  std::printf("total   %8ld files in %7.3f s: %9.0f files/s (create+stat+%sunlink)\n", n, total,
              n / total, renames ? "rename+" : "");
  return 0;
}
