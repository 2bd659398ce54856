// File data: sparse files and holes, SEEK_DATA/SEEK_HOLE, st_blocks,
// fallocate modes, copy_file_range, truncate.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/suite.h"

namespace posixsuite {
namespace {

constexpr off_t kMiB = 1 << 20;

void PwriteAll(int fd, const std::string& data, off_t off) {
  CHECK_EQ(pwrite(fd, data.data(), data.size(), off), static_cast<ssize_t>(data.size()));
}

}  // namespace

POSIX_CASE(sparse_hole_reads_zeros) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "end", kMiB);
  CHECK_EQ(Stat(env.P("f")).st_size, kMiB + 3);
  CHECK_EQ(ReadFd(fd, 4096, 4096), std::string(4096, '\0'));
  CHECK_EQ(ReadFd(fd, 4, kMiB - 1), std::string("\0end", 4));
  close(fd);
}

POSIX_CASE(sparse_1tib) {
  const off_t size = off_t{1} << 40;
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  CHECK_OK(ftruncate(fd, size));
  PwriteAll(fd, "head", 0);
  PwriteAll(fd, "tail", size - 4);
  CHECK_EQ(ReadFd(fd, 4, 0), std::string("head"));
  CHECK_EQ(ReadFd(fd, 4, size - 4), std::string("tail"));
  CHECK_EQ(ReadFd(fd, 8, size / 2), std::string(8, '\0'));
  CHECK_OK(fsync(fd));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, size);
  close(fd);
}

POSIX_CASE(sparse_blocks_allocated) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  CHECK_OK(ftruncate(fd, off_t{1} << 40));
  PwriteAll(fd, Pattern(4096, 1), 0);
  CHECK_OK(fsync(fd));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_TRUE(st.st_blocks * 512 < kMiB);  // almost no space for a 1 TiB sparse file
  CHECK_TRUE(st.st_blocks >= 8);
  close(fd);
  WriteFile(env.P("g"), Pattern(kMiB, 2));
  CHECK_TRUE(Stat(env.P("g")).st_blocks >= 2048);
}

// st_blocks counts what is stored: rewritten bytes once, punched and cut
// bytes no more, bytes a grown file never had not at all.
POSIX_CASE(blocks_follow_the_data) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  auto blocks = [fd] {
    struct stat st;
    CHECK_OK(fstat(fd, &st));
    return static_cast<long long>(st.st_blocks);
  };
  PwriteAll(fd, Pattern(64 * 1024, 5), 0);
  CHECK_OK(fsync(fd));
  PwriteAll(fd, Pattern(64 * 1024, 6), 0);
  CHECK_OK(fsync(fd));
  CHECK_EQ(blocks(), 128LL);
  CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
  CHECK_EQ(blocks(), 112LL);
  CHECK_OK(ftruncate(fd, 4096));
  CHECK_EQ(blocks(), 8LL);
  CHECK_OK(ftruncate(fd, kMiB));
  CHECK_EQ(blocks(), 8LL);
  close(fd);
}

POSIX_CASE(seek_data_hole) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, Pattern(4096, 1), 0);
  PwriteAll(fd, Pattern(4096, 2), kMiB);
  CHECK_OK(ftruncate(fd, 2 * kMiB));
  CHECK_OK(fsync(fd));
  CHECK_EQ(lseek(fd, 0, SEEK_DATA), off_t{0});
  CHECK_EQ(lseek(fd, 0, SEEK_HOLE), off_t{4096});
  CHECK_EQ(lseek(fd, 4096, SEEK_DATA), kMiB);
  CHECK_EQ(lseek(fd, kMiB + 100, SEEK_DATA), kMiB + 100);
  CHECK_EQ(lseek(fd, kMiB, SEEK_HOLE), kMiB + 4096);
  CHECK_ERR(lseek(fd, kMiB + 4096, SEEK_DATA), ENXIO);
  CHECK_EQ(lseek(fd, kMiB + 4096, SEEK_HOLE), kMiB + 4096);
  CHECK_ERR(lseek(fd, 2 * kMiB, SEEK_HOLE), ENXIO);
  CHECK_ERR(lseek(fd, 2 * kMiB, SEEK_DATA), ENXIO);
  close(fd);
}

POSIX_CASE(seek_hole_at_eof_of_dense_file) {
  WriteFile(env.P("f"), Pattern(10000, 3));
  int fd = Open(env.P("f"), O_RDONLY);
  CHECK_EQ(lseek(fd, 0, SEEK_DATA), off_t{0});
  CHECK_EQ(lseek(fd, 0, SEEK_HOLE), off_t{10000});
  CHECK_EQ(lseek(fd, 9999, SEEK_HOLE), off_t{10000});
  CHECK_ERR(lseek(fd, 10000, SEEK_DATA), ENXIO);
  close(fd);
}

POSIX_CASE(fallocate_default_extends) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "abc", 0);
  CHECK_OK(fallocate(fd, 0, 0, kMiB));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, kMiB);
  CHECK_EQ(ReadFd(fd, 6, 0), std::string("abc\0\0\0", 6));
  close(fd);
}

// The range is allocated (unwritten extents on ext4): st_blocks counts it
// before anything is written there.
POSIX_CASE(fallocate_default_allocates_blocks) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "abc", 0);
  CHECK_OK(fallocate(fd, 0, 0, kMiB));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_TRUE(st.st_blocks >= 2048);
  close(fd);
}

POSIX_CASE(fallocate_keep_size) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "abc", 0);
  CHECK_OK(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, kMiB));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, off_t{3});
  CHECK_EQ(ReadFd(fd, 10, 0), std::string("abc"));
  close(fd);
}

POSIX_CASE(fallocate_punch_hole) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  std::string data = Pattern(64 * 1024, 4);
  PwriteAll(fd, data, 0);
  CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
  std::string want = data;
  std::fill(want.begin() + 4096, want.begin() + 4096 + 8192, '\0');
  CHECK_EQ(ReadFd(fd, data.size(), 0), want);
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, off_t{64 * 1024});
  CHECK_EQ(lseek(fd, 0, SEEK_HOLE), off_t{4096});
  CHECK_EQ(lseek(fd, 4096, SEEK_DATA), off_t{12288});
  // Past the end: nothing to punch, and the size stays.
  CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 60 * 1024, kMiB));
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, off_t{64 * 1024});
  close(fd);
}

POSIX_CASE(fallocate_punch_needs_keep_size) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "abc", 0);
  CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 1), EOPNOTSUPP);
  close(fd);
}

POSIX_CASE(fallocate_zero_range) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  std::string data = Pattern(16384, 5);
  PwriteAll(fd, data, 0);
  CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096, 4096));
  std::string want = data;
  std::fill(want.begin() + 4096, want.begin() + 8192, '\0');
  CHECK_EQ(ReadFd(fd, data.size(), 0), want);
  CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE, 12288, 8192));  // grows the file
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, off_t{20480});
  CHECK_EQ(ReadFd(fd, 8192, 12288), std::string(8192, '\0'));
  CHECK_OK(fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 16384, 65536));
  CHECK_OK(fstat(fd, &st));
  CHECK_EQ(st.st_size, off_t{20480});
  close(fd);
}

POSIX_CASE(fallocate_errors) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  CHECK_ERR(fallocate(fd, 0, 0, 0), EINVAL);
  CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
  close(fd);
  fd = Open(env.P("f"), O_RDONLY);
  CHECK_ERR(fallocate(fd, 0, 0, 10), EBADF);
  close(fd);
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  int dfd = Open(env.P("d"), O_RDONLY | O_DIRECTORY);
  CHECK_ERR(fallocate(dfd, 0, 0, 10), EBADF);
  close(dfd);
}

POSIX_CASE(fallocate_updates_times) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, Pattern(8192, 6), 0);
  SetOldTimes(env.P("f"));
  CHECK_OK(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
  struct stat st;
  CHECK_OK(fstat(fd, &st));
  CHECK_TRUE(!IsOld(st.st_mtim));
  close(fd);
}

POSIX_CASE(copy_file_range_whole) {
  std::string data = Pattern(3 * kMiB + 12345, 7);
  WriteFile(env.P("src"), data);
  int in = Open(env.P("src"), O_RDONLY);
  int out = Open(env.P("dst"), O_CREAT | O_WRONLY);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = copy_file_range(in, nullptr, out, nullptr, data.size() - done, 0);
    if (n <= 0) Fail("copy_file_range returned " + std::to_string(n) + " " + ErrnoName(errno));
    done += static_cast<size_t>(n);
  }
  CHECK_EQ(lseek(in, 0, SEEK_CUR), static_cast<off_t>(data.size()));
  CHECK_EQ(lseek(out, 0, SEEK_CUR), static_cast<off_t>(data.size()));
  close(in);
  close(out);
  CHECK_EQ(ReadFile(env.P("dst")), data);
}

POSIX_CASE(copy_file_range_offsets) {
  std::string src = Pattern(200000, 8);
  std::string dst = Pattern(150000, 9);
  WriteFile(env.P("src"), src);
  WriteFile(env.P("dst"), dst);
  int in = Open(env.P("src"), O_RDONLY);
  int out = Open(env.P("dst"), O_WRONLY);
  loff_t off_in = 1001, off_out = 140000;
  size_t done = 0;
  while (done < 50000) {
    ssize_t n = copy_file_range(in, &off_in, out, &off_out, 50000 - done, 0);
    if (n <= 0) Fail("copy_file_range returned " + std::to_string(n) + " " + ErrnoName(errno));
    done += static_cast<size_t>(n);
  }
  CHECK_EQ(off_in, loff_t{51001});
  CHECK_EQ(off_out, loff_t{190000});
  CHECK_EQ(lseek(in, 0, SEEK_CUR), off_t{0});  // explicit offsets leave the file offsets
  close(in);
  close(out);
  std::string want = dst.substr(0, 140000) + src.substr(1001, 50000);
  CHECK_EQ(ReadFile(env.P("dst")), want);
}

POSIX_CASE(copy_file_range_eof_and_errors) {
  WriteFile(env.P("src"), "short");
  int in = Open(env.P("src"), O_RDONLY);
  int out = Open(env.P("dst"), O_CREAT | O_WRONLY);
  loff_t off = 100;
  CHECK_EQ(copy_file_range(in, &off, out, nullptr, 10, 0), ssize_t{0});
  CHECK_ERR(copy_file_range(in, nullptr, out, nullptr, 10, 1), EINVAL);
  CHECK_ERR(copy_file_range(out, nullptr, in, nullptr, 10, 0), EBADF);
  close(out);
  int app = Open(env.P("dst"), O_WRONLY | O_APPEND);
  CHECK_ERR(copy_file_range(in, nullptr, app, nullptr, 10, 0), EBADF);
  close(app);
  close(in);
  // Overlapping ranges of one file.
  WriteFile(env.P("same"), Pattern(8192, 1));
  int fd = Open(env.P("same"), O_RDWR);
  loff_t a = 0, b = 100;
  CHECK_ERR(copy_file_range(fd, &a, fd, &b, 4096, 0), EINVAL);
  close(fd);
}

POSIX_CASE(copy_file_range_large_sparse) {
  // 256 MiB with data at both ends and a hole between: the copy reads as the source.
  const off_t size = 256 * kMiB;
  int fd = Open(env.P("src"), O_CREAT | O_RDWR);
  std::string head = Pattern(kMiB, 10), tail = Pattern(kMiB, 11);
  PwriteAll(fd, head, 0);
  PwriteAll(fd, tail, size - kMiB);
  close(fd);
  int in = Open(env.P("src"), O_RDONLY);
  int out = Open(env.P("dst"), O_CREAT | O_WRONLY);
  off_t done = 0;
  while (done < size) {
    ssize_t n = copy_file_range(in, nullptr, out, nullptr, static_cast<size_t>(size - done), 0);
    if (n <= 0) Fail("copy_file_range returned " + std::to_string(n) + " " + ErrnoName(errno));
    done += n;
  }
  close(in);
  close(out);
  int r = Open(env.P("dst"), O_RDONLY);
  CHECK_EQ(ReadFd(r, kMiB, 0), head);
  CHECK_EQ(ReadFd(r, kMiB, size - kMiB), tail);
  CHECK_EQ(ReadFd(r, 4096, size / 2), std::string(4096, '\0'));
  close(r);
  CHECK_EQ(Stat(env.P("dst")).st_size, size);
}

POSIX_CASE(truncate_extend_and_shrink) {
  WriteFile(env.P("f"), "0123456789");
  CHECK_OK(truncate(env.P("f").c_str(), 4));
  CHECK_EQ(ReadFile(env.P("f")), std::string("0123"));
  CHECK_OK(truncate(env.P("f").c_str(), 8));
  CHECK_EQ(ReadFile(env.P("f")), std::string("0123\0\0\0\0", 8));
  CHECK_ERR(truncate(env.P("f").c_str(), -1), EINVAL);
  CHECK_OK(mkdir(env.P("d").c_str(), 0755));
  CHECK_ERR(truncate(env.P("d").c_str(), 0), EISDIR);
}

POSIX_CASE(truncate_shrink_across_chunks) {
  // 64 MiB chunks: shrink into the first, grow again, the rest reads as zeros.
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, Pattern(kMiB, 12), 64 * kMiB - kMiB / 2);
  CHECK_OK(ftruncate(fd, 64 * kMiB - kMiB / 4));
  CHECK_OK(ftruncate(fd, 66 * kMiB));
  std::string want = Pattern(kMiB, 12).substr(0, kMiB / 4) + std::string(kMiB / 4 * 3, '\0');
  CHECK_EQ(ReadFd(fd, kMiB, 64 * kMiB - kMiB / 2), want);
  close(fd);
}

POSIX_CASE(pwrite_pread_offsets) {
  int fd = Open(env.P("f"), O_CREAT | O_RDWR);
  PwriteAll(fd, "bbb", 3);
  PwriteAll(fd, "aaa", 0);
  PwriteAll(fd, "c", 4);
  CHECK_EQ(ReadFd(fd, 10, 0), std::string("aaabcb"));
  CHECK_EQ(lseek(fd, 0, SEEK_END), off_t{6});
  CHECK_EQ(lseek(fd, 10, SEEK_END), off_t{16});
  CHECK_ERR(lseek(fd, -100, SEEK_SET), EINVAL);
  close(fd);
}

}  // namespace posixsuite
