// flock(2) and fcntl(2) locks of a mount: meta holds them, so two processes
// on two mounts exclude each other; waiting is a poll of meta.
#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "vfs/vfs_internal.h"

namespace tessera::vfs {
namespace {

constexpr auto kFirstPoll = std::chrono::milliseconds(1);
constexpr auto kMaxPoll = std::chrono::milliseconds(100);

// Runs `attempt` until it does not say kWouldBlock, sleeping a growing
// interval between tries when `wait` is set.
Status RetryWhileBlocked(const std::function<Status()>& attempt, bool wait,
                                const std::function<bool()>& interrupted,
                                const std::function<bool()>& stopping) {
  auto pause = kFirstPoll;
  for (;;) {
    Status s = attempt();
    if (s.code() != Code::kWouldBlock || !wait) return s;
    if ((interrupted && interrupted()) || stopping()) {
      return Status(Code::kInterrupted, "interrupted while waiting for a lock");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kMaxPoll);
  }
}

}  // namespace

Status Vfs::Flock(uint64_t fh, uint64_t owner, int op, const std::function<bool()>& interrupted) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  int type = F_UNLCK;
  switch (op & ~LOCK_NB) {
    case LOCK_SH: type = F_RDLCK; break;
    case LOCK_EX: type = F_WRLCK; break;
    case LOCK_UN: type = F_UNLCK; break;
    default: return Err(Code::kInvalid, "flock operation " + std::to_string(op));
  }
  if (h->file && type != F_UNLCK) h->file->flocked = true;
  return RetryWhileBlocked([&] { return meta_->Flock(h->ino, owner, type); },
                           (op & LOCK_NB) == 0, interrupted, [this] { return Stopping(); });
}

Result<meta::LockRange> Vfs::GetLk(uint64_t fh, uint64_t owner, const meta::LockRange& probe) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  return meta_->GetLk(h->ino, owner, probe);
}

Status Vfs::SetLk(uint64_t fh, uint64_t owner, const meta::LockRange& range, bool wait,
                  const std::function<bool()>& interrupted) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (h->file && range.type != F_UNLCK) h->file->posix_locked = true;
  return RetryWhileBlocked([&] { return meta_->SetLk(h->ino, owner, range); }, wait,
                           interrupted, [this] { return Stopping(); });
}

Status Vfs::ReleaseLocks(uint64_t fh, uint64_t owner, bool posix, bool flock) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return Status::Ok();
  Status first;
  if (posix && h->file->posix_locked) {
    first = meta_->SetLk(h->ino, owner, meta::LockRange{.type = F_UNLCK, .start = 0,
                                                        .end = meta::kLockEOF, .pid = 0});
  }
  if (flock && h->file->flocked) {
    Status s = meta_->Flock(h->ino, owner, F_UNLCK);
    if (first.ok()) first = s;
  }
  return first;
}

bool Vfs::Stopping() {
  std::lock_guard lock(worker_mu_);
  return stopping_;
}

}  // namespace tessera::vfs
