// fsx: a seeded random sequence of writes, truncates (grow and shrink) and
// reads applied to a file under test and to a reference file on another file
// system; every read, and the whole file at the end, must match byte for byte.
//
//   fsx TEST_FILE REFERENCE_FILE [--seed N] [--ops N] [--max-size BYTES]
//   fsx --compare TEST_FILE REFERENCE_FILE
// Exit 0 when everything matched; otherwise prints the first difference.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

[[noreturn]] void Fail(const char* what, long long a, long long b) {
  std::fprintf(stderr, "fsx: %s (%lld, %lld): %s\n", what, a, b, std::strerror(errno));
  std::exit(1);
}

std::vector<char> ReadAll(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) Fail("fstat", fd, 0);
  std::vector<char> buf(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(done));
    if (n <= 0) Fail("pread whole file", static_cast<long long>(done), n);
    done += static_cast<size_t>(n);
  }
  return buf;
}

int Compare(int a, int b, long op) {
  std::vector<char> x = ReadAll(a), y = ReadAll(b);
  if (x.size() != y.size()) {
    std::fprintf(stderr, "fsx: after op %ld: size %zu, expected %zu\n", op, x.size(), y.size());
    return 1;
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != y[i]) {
      std::fprintf(stderr, "fsx: after op %ld: byte %zu is %d, expected %d\n", op, i, x[i], y[i]);
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], "--compare") == 0) {
    int a = open(argv[2], O_RDONLY), b = open(argv[3], O_RDONLY);
    if (a < 0 || b < 0) Fail("open", a, b);
    return Compare(a, b, -1);
  }
  if (argc < 3) {
    std::fprintf(stderr, "usage: fsx TEST REF [--seed N] [--ops N] [--max-size B]\n");
    return 2;
  }
  unsigned seed = 1;
  long ops = 2000;
  long long max_size = 8 << 20;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seed")) seed = static_cast<unsigned>(std::atol(argv[i + 1]));
    if (!std::strcmp(argv[i], "--ops")) ops = std::atol(argv[i + 1]);
    if (!std::strcmp(argv[i], "--max-size")) max_size = std::atoll(argv[i + 1]);
  }
  std::mt19937_64 rng(seed);
  auto rnd = [&](long long n) { return n <= 0 ? 0 : static_cast<long long>(rng() % n); };
  int t = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
  int r = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (t < 0 || r < 0) Fail("open", t, r);
  std::vector<char> buf, got;
  long long size = 0;
  for (long op = 0; op < ops; ++op) {
    int kind = static_cast<int>(rnd(100));
    if (kind < 50) {  // write, sometimes far past the end, sometimes tiny
      long long off = rnd(size + (max_size / 8));
      long long len = 1 + (rnd(4) == 0 ? rnd(1 << 20) : rnd(64 << 10));
      if (off + len > max_size) off = std::max(0LL, max_size - len);
      buf.resize(static_cast<size_t>(len));
      for (auto& c : buf) c = static_cast<char>(rng());
      if (pwrite(t, buf.data(), buf.size(), off) != len) Fail("pwrite test", off, len);
      if (pwrite(r, buf.data(), buf.size(), off) != len) Fail("pwrite ref", off, len);
      size = std::max(size, off + len);
    } else if (kind < 60) {  // truncate: shrink or grow
      long long to = rnd(max_size);
      if (rnd(2)) to = rnd(size + 1);
      if (ftruncate(t, to) != 0) Fail("ftruncate test", to, 0);
      if (ftruncate(r, to) != 0) Fail("ftruncate ref", to, 0);
      size = to;
    } else if (kind < 95) {  // read and compare a random range
      long long off = rnd(size + 4096);
      long long len = 1 + rnd(256 << 10);
      buf.resize(static_cast<size_t>(len));
      got.resize(static_cast<size_t>(len));
      ssize_t a = pread(t, got.data(), got.size(), off);
      ssize_t b = pread(r, buf.data(), buf.size(), off);
      if (a != b) {
        std::fprintf(stderr, "fsx: op %ld: read at %lld of %lld returned %zd, expected %zd\n", op,
                     off, len, a, b);
        return 1;
      }
      if (b > 0 && std::memcmp(got.data(), buf.data(), static_cast<size_t>(b)) != 0) {
        for (ssize_t i = 0; i < b; ++i) {
          if (got[i] != buf[i]) {
            std::fprintf(stderr, "fsx: op %ld: byte %lld differs (got %d, want %d)\n", op,
                         off + i, got[i], buf[i]);
            return 1;
          }
        }
      }
    } else if (kind < 98) {  // fsync
      if (fsync(t) != 0) Fail("fsync", 0, 0);
    } else {  // close and reopen
      close(t);
      t = open(argv[1], O_RDWR);
      if (t < 0) Fail("reopen", 0, 0);
    }
  }
  int rc = Compare(t, r, ops);
  if (close(t) != 0) Fail("close", 0, 0);
  close(r);
  if (rc == 0) std::printf("fsx: %ld operations matched (seed %u, final size %lld)\n", ops, seed, size);
  return rc;
}
