// copyrange: copies all of SRC into DST at DST_OFFSET (default 0) with
// copy_file_range(2) alone, looping over partial copies; prints the bytes
// copied. Used by the end-to-end tests to prove copies share data.
//   copyrange SRC DST [DST_OFFSET]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: copyrange SRC DST [DST_OFFSET]\n");
    return 2;
  }
  int in = open(argv[1], O_RDONLY);
  int out = open(argv[2], O_WRONLY | O_CREAT, 0644);
  if (in < 0 || out < 0) {
    std::perror("open");
    return 1;
  }
  struct stat st;
  if (fstat(in, &st) != 0) {
    std::perror("fstat");
    return 1;
  }
  loff_t off_in = 0, off_out = argc == 4 ? std::strtoll(argv[3], nullptr, 10) : 0;
  long long total = 0;
  while (off_in < st.st_size) {
    ssize_t n =
        copy_file_range(in, &off_in, out, &off_out, static_cast<size_t>(st.st_size - off_in), 0);
    if (n < 0) {
      std::fprintf(stderr, "copy_file_range: %s\n", std::strerror(errno));
      return 1;
    }
    if (n == 0) break;
    total += n;
  }
  if (close(out) != 0) {
    std::perror("close");
    return 1;
  }
  std::printf("%lld\n", total);
  return 0;
}
