// Status and Result<T>: how every layer of tessera reports failure.
//
// A Status is a code close to an errno plus a human message. Codes map to
// errno values in exactly one place (Status::ToErrno), used at the FUSE edge.
// Result<T> is std::expected<T, Status>. No exceptions cross module
// boundaries. Status is a value type; safe to copy between threads.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace tessera {

enum class Code : int {
  kOk = 0,
  kNotFound,      // ENOENT
  kExists,        // EEXIST
  kNotEmpty,      // ENOTEMPTY
  kNotDir,        // ENOTDIR
  kIsDir,         // EISDIR
  kInvalid,       // EINVAL
  kNameTooLong,   // ENAMETOOLONG
  kAccess,        // EACCES
  kPermission,    // EPERM
  kNoSpace,       // ENOSPC
  kIO,            // EIO
  kConflict,      // transaction conflict: retried by RunTxn, EAGAIN if it escapes
  kUnavailable,   // a server or disk did not answer: EIO at the edge
  kCorrupt,       // checksum mismatch or malformed record: EIO
  kNotSupported,  // ENOTSUP
  kNoData,        // ENODATA (missing xattr)
  kRange,         // ERANGE (buffer too small)
  kBusy,          // EBUSY
  kLoop,          // ELOOP
  kCrossDevice,   // EXDEV
  kTooBig,        // EFBIG
  kTooManyLinks,  // EMLINK
  kBadHandle,     // EBADF
  kQuota,         // EDQUOT
  kInterrupted,   // EINTR
  kWouldBlock,    // EAGAIN: a lock is held by another owner
  kNoAddress,     // ENXIO (lseek: no data or hole past the offset)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // Lets `return Err(...)` work in functions that return a plain Status.
  Status(std::unexpected<Status> u) : Status(std::move(u.error())) {}  // NOLINT

  static Status Ok() { return {}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Exists(std::string m) { return {Code::kExists, std::move(m)}; }
  static Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Status IO(std::string m) { return {Code::kIO, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status NotSupported(std::string m) { return {Code::kNotSupported, std::move(m)}; }
  // A status carrying an errno value observed from the OS.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The errno that the FUSE edge returns for this status.
  int ToErrno() const;
  // "ENOENT: message" style text for logs and CLI errors.
  std::string ToString() const;

  bool operator==(Code c) const { return code_ == c; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
using Result = std::expected<T, Status>;

inline std::unexpected<Status> Err(Status s) { return std::unexpected<Status>(std::move(s)); }
inline std::unexpected<Status> Err(Code c, std::string m) {
  return std::unexpected<Status>(Status(c, std::move(m)));
}

namespace internal {
inline Status ToStatus(Status s) { return s; }
template <typename T>
Status ToStatus(const Result<T>& r) {
  return r.has_value() ? Status() : r.error();
}
}  // namespace internal

}  // namespace tessera

#define TESSERA_CONCAT_INNER(a, b) a##b
#define TESSERA_CONCAT(a, b) TESSERA_CONCAT_INNER(a, b)

// Returns the Status (or the error of a Result) from the enclosing function if not ok.
// Works in functions returning Status or Result<T>.
#define RETURN_IF_ERROR(expr)                                               \
  do {                                                                      \
    ::tessera::Status _st = ::tessera::internal::ToStatus((expr));          \
    if (!_st.ok()) return ::tessera::Err(std::move(_st));                   \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); unpacks a Result or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr)                                          \
  auto TESSERA_CONCAT(_res_, __LINE__) = (expr);                             \
  if (!TESSERA_CONCAT(_res_, __LINE__).has_value())                          \
    return ::tessera::Err(std::move(TESSERA_CONCAT(_res_, __LINE__).error())); \
  lhs = std::move(*TESSERA_CONCAT(_res_, __LINE__))

// A broken invariant: abort with a message.
#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) ::tessera::internal::CheckFailed(__FILE__, __LINE__, #cond);        \
  } while (0)

namespace tessera::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond);
}
