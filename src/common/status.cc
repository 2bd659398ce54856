#include "common/status.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tessera {

Status Status::FromErrno(int err, std::string_view context) {
  Code c = Code::kIO;
  switch (err) {
    case ENOENT: c = Code::kNotFound; break;
    case EEXIST: c = Code::kExists; break;
    case ENOTEMPTY: c = Code::kNotEmpty; break;
    case ENOTDIR: c = Code::kNotDir; break;
    case EISDIR: c = Code::kIsDir; break;
    case EINVAL: c = Code::kInvalid; break;
    case ENAMETOOLONG: c = Code::kNameTooLong; break;
    case EACCES: c = Code::kAccess; break;
    case EPERM: c = Code::kPermission; break;
    case ENOSPC: c = Code::kNoSpace; break;
    case EDQUOT: c = Code::kQuota; break;
    case EROFS: c = Code::kPermission; break;
    case ENOTSUP: c = Code::kNotSupported; break;
    case EBUSY: c = Code::kBusy; break;
    case EXDEV: c = Code::kCrossDevice; break;
    case EINTR: c = Code::kInterrupted; break;
    default: break;
  }
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  return {c, std::move(msg)};
}

int Status::ToErrno() const {
  switch (code_) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kExists: return EEXIST;
    case Code::kNotEmpty: return ENOTEMPTY;
    case Code::kNotDir: return ENOTDIR;
    case Code::kIsDir: return EISDIR;
    case Code::kInvalid: return EINVAL;
    case Code::kNameTooLong: return ENAMETOOLONG;
    case Code::kAccess: return EACCES;
    case Code::kPermission: return EPERM;
    case Code::kNoSpace: return ENOSPC;
    case Code::kIO: return EIO;
    case Code::kConflict: return EAGAIN;
    case Code::kUnavailable: return EIO;
    case Code::kCorrupt: return EIO;
    case Code::kNotSupported: return ENOTSUP;
    case Code::kNoData: return ENODATA;
    case Code::kRange: return ERANGE;
    case Code::kBusy: return EBUSY;
    case Code::kLoop: return ELOOP;
    case Code::kCrossDevice: return EXDEV;
    case Code::kTooBig: return EFBIG;
    case Code::kTooManyLinks: return EMLINK;
    case Code::kBadHandle: return EBADF;
    case Code::kQuota: return EDQUOT;
    case Code::kInterrupted: return EINTR;
    case Code::kWouldBlock: return EAGAIN;
    case Code::kNoAddress: return ENXIO;
  }
  return EIO;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_.empty() ? std::string(std::strerror(ToErrno())) : message_;
}

namespace internal {
void CheckFailed(const char* file, int line, const char* cond) {
  std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", file, line, cond);
  std::abort();
}
}  // namespace internal

}  // namespace tessera
