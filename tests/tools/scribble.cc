// scribble: many small overlapping writes to a file, each through its own
// open, pwrite and close (so that each becomes its own slice in a tessera
// mount), applied identically to a model file elsewhere. For end-to-end
// tests of fragmentation and compaction.
//
//   scribble FILE MODEL COUNT SPAN [SEED]
//     COUNT writes of 1..4096 bytes at offsets below SPAN, pseudo-random
//     from SEED (default 1); FILE and MODEL end up with the same bytes.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace {

bool WriteAt(const char* path, const std::string& data, off_t off) {
  int fd = open(path, O_WRONLY | O_CREAT, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "scribble: open %s: %s\n", path, std::strerror(errno));
    return false;
  }
  bool ok = pwrite(fd, data.data(), data.size(), off) == static_cast<ssize_t>(data.size());
  if (!ok) std::fprintf(stderr, "scribble: pwrite %s: %s\n", path, std::strerror(errno));
  if (close(fd) != 0) {
    std::fprintf(stderr, "scribble: close %s: %s\n", path, std::strerror(errno));
    ok = false;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: scribble FILE MODEL COUNT SPAN [SEED]\n");
    return 2;
  }
  long count = std::atol(argv[3]);
  long span = std::atol(argv[4]);
  std::mt19937_64 rng(argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 1);
  if (count < 0 || span <= 0) return 2;
  for (long i = 0; i < count; ++i) {
    std::string data(1 + rng() % 4096, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    off_t off = static_cast<off_t>(rng() % static_cast<uint64_t>(span));
    if (!WriteAt(argv[1], data, off) || !WriteAt(argv[2], data, off)) return 1;
  }
  return 0;
}
