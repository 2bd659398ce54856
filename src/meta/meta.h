// The namespace: inodes, directories, attributes, xattrs and the slices of
// every file, written once on the transactional KV interface.
//
// Every operation is a function of (kv::Txn&, request) that reads and writes
// keys and never commits (see ops_*.cc); the public methods below wrap each in
// kv::RunTxn, which commits and retries on conflict. The key schema lives in
// keys.h; record encodings in records.h; both are documented in
// docs/formats.md.
//
// Permission checks follow POSIX for the caller in Context (uid 0 bypasses
// read/write checks as on Linux), with POSIX ACLs (acl.h) where the mode bits
// refuse. Over FUSE the kernel checks first (default_permissions); see
// docs/posix.md. meta/ knows nothing of blocks or object
// stores: when data becomes unreachable it hands the freed slices to the
// SliceFreer callback that the owner (vfs) installs.
//
// Thread-safety: a Meta is safe for concurrent use from many threads.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/slice.h"
#include "common/status.h"
#include "kv/engine.h"

namespace tessera::meta {

using Ino = uint64_t;
constexpr Ino kRootIno = 1;
// The trash (see docs/posix.md): /.trash has this inode, its hour directories
// the ones above it; ordinary inodes never get that far.
constexpr Ino kTrashIno = 0x7FFFFFFF10000000ULL;
constexpr std::string_view kTrashName = ".trash";
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kMaxName = 255;
constexpr size_t kMaxSymlink = 4096;
constexpr size_t kMaxXattrName = 255;
constexpr size_t kMaxXattrValue = 65536;
// POSIX ACLs, kept as xattrs in the kernel's binary form (see acl.h).
constexpr std::string_view kAclAccessXattr = "system.posix_acl_access";
constexpr std::string_view kAclDefaultXattr = "system.posix_acl_default";

// Attr::allocated of a record written before the field existed (or by a
// build that does not know it): not known.
constexpr uint64_t kAllocatedUnknown = ~uint64_t{0};

struct Attr {
  uint32_t mode = 0;  // st_mode: file type bits | permission bits (incl. suid/sgid/sticky)
  uint32_t uid = 0;
  uint32_t gid = 0;
  Timespec atime, mtime, ctime;
  uint32_t nlink = 0;
  uint64_t length = 0;
  uint32_t rdev = 0;
  Ino parent = 0;  // directories; files while nlink == 1
  uint8_t flags = 0;
  // Files: the bytes of [0, length) that data records show (not holes, not
  // ranges nothing was written to), kept exact by every operation that
  // changes a chunk or the length; kAllocatedUnknown for a file whose record
  // predates the field. 0 for other types.
  uint64_t allocated = 0;

  bool IsDir() const { return S_ISDIR(mode); }
  bool IsFile() const { return S_ISREG(mode); }
  bool IsSymlink() const { return S_ISLNK(mode); }
  // What st_blocks counts, in bytes: a file's allocated bytes (its length
  // when they are not known); the length of anything else.
  uint64_t StoredBytes() const {
    return IsFile() && allocated != kAllocatedUnknown ? allocated : length;
  }
  bool operator==(const Attr&) const = default;
};

// The atime policy (relatime, as Linux mounts by default): a read at `now`
// moves atime only when atime is not newer than mtime or ctime, or is a day old.
bool NeedsAtimeUpdate(const Attr& attr, Timespec now);

struct Entry {
  Ino ino = 0;
  Attr attr;
};

struct DirEntry {
  std::string name;
  Ino ino = 0;
  Attr attr;  // filled when ReadDir is asked for attributes; else only attr.mode's type bits
};

// Who is asking. Permission checks use uid, gid and the supplementary groups.
struct Context {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> gids;  // supplementary groups (may be empty)
  uint32_t pid = 0;
  // The caller's umask, applied to a new inode's mode unless its parent has a
  // default ACL (then the ACL rules; see acl.h). 0 when the caller applied it.
  uint32_t umask = 0;
  bool InGroup(uint32_t g) const;
};

// The volume's settings, one record written by Format.
struct Settings {
  std::string name;
  std::string uuid;
  std::string storage = "file";  // object store type
  std::string bucket;            // directory, bucket URL, ...
  uint32_t block_size = 4u << 20;
  std::string compression = "none";  // none, lz4, zstd
  std::string checksum = "none";     // none, xxh3 (every new volume: xxh3)
  std::string access_key;            // object store credentials, if stored
  std::string secret_key_sealed;     // the secret key, sealed (never plain; see docs/formats.md)
  std::string encrypt_key_wrapped;   // data key wrapped by the RSA key (base64); empty: off
  std::string encrypt_private_pem;   // that RSA key, as given (passphrase-protected)
  int trash_days = 0;     // days removed files stay in /.trash; 0: off (and volumes without it)
  uint64_t capacity = 0;  // bytes; 0: unlimited
  uint64_t inodes = 0;    // 0: unlimited
  uint32_t format_version = kFormatVersion;

  // `redact` drops the sealed secret and the key material (for status/dump).
  std::string ToJson(bool redact = false) const;
  static Result<Settings> FromJson(std::string_view json);
};

// Which fields of SetAttrRequest apply.
enum SetAttrMask : uint32_t {
  kSetMode = 1 << 0,
  kSetUid = 1 << 1,
  kSetGid = 1 << 2,
  kSetAtime = 1 << 3,
  kSetMtime = 1 << 4,
  kSetAtimeNow = 1 << 5,
  kSetMtimeNow = 1 << 6,
  kSetCtime = 1 << 7,
  // A read's atime update (relatime): no permission check, ctime stays, and
  // atime moves to now only when it is not newer than mtime or ctime, or is
  // a day old. Not combined with other bits.
  kSetAtimeRead = 1 << 8,
};

struct SetAttrRequest {
  uint32_t mask = 0;
  uint32_t mode = 0;  // permission bits only
  uint32_t uid = 0;
  uint32_t gid = 0;
  Timespec atime, mtime, ctime;
};

struct FsStat {
  uint64_t total_space = 0;  // bytes (capacity, or a large figure when unlimited)
  uint64_t avail_space = 0;
  uint64_t used_space = 0;
  uint64_t used_inodes = 0;
  uint64_t avail_inodes = 0;
};

// A mounted client, as registered by NewSession.
struct SessionInfo {
  uint64_t id = 0;
  std::string host;
  uint32_t pid = 0;
  std::string mountpoint;
  std::string version;
  int64_t start_time = 0;  // seconds
  int64_t heartbeat = 0;   // seconds, last heartbeat
};

// A byte-range lock as fcntl(2) sees it: bytes [start, end], end = kLockEOF
// for "to the end of the file, however long".
constexpr uint64_t kLockEOF = 0x7fffffffffffffffULL;
struct LockRange {
  int type = 2;  // F_RDLCK 0, F_WRLCK 1, F_UNLCK 2
  uint64_t start = 0;
  uint64_t end = kLockEOF;
  uint32_t pid = 0;  // the holder's pid, on its own host
};

// What putting one trash entry back did (Meta::RestoreTrash).
struct RestoreOutcome {
  std::string entry;  // its name in the hour directory
  std::string path;   // "<parent inode>/<name>" it went back to (or would have)
  Status status;      // kExists: the name is taken; kNotFound: the directory is gone
};

// rename(2) flags, as in <linux/fs.h>.
constexpr uint32_t kRenameNoReplace = 1;
constexpr uint32_t kRenameExchange = 2;

// fallocate(2) modes, as in <linux/falloc.h>.
constexpr int kFallocKeepSize = 0x01;
constexpr int kFallocPunchHole = 0x02;
constexpr int kFallocZeroRange = 0x10;

class Meta {
 public:
  virtual ~Meta() = default;

  // Called (outside any transaction) with every slice that no file references
  // any more, so that its blocks can be deleted.
  using SliceFreer = std::function<void(uint64_t slice_id, uint32_t size)>;
  virtual void SetSliceFreer(SliceFreer freer) = 0;

  // --- Volume ---
  // Writes settings and creates the root directory. Refuses (kExists) a
  // formatted engine unless `force`, which wipes it first.
  virtual Status Format(const Settings& settings, bool force) = 0;
  // Reads settings: kNotFound "not formatted" on an empty engine; kNotSupported
  // for a format version this build does not know.
  virtual Result<Settings> Load() = 0;
  virtual Result<FsStat> StatFs() = 0;

  // --- Sessions (sustained inodes are kept per session) ---
  virtual Result<uint64_t> NewSession(const SessionInfo& info) = 0;
  virtual Status Heartbeat() = 0;
  // Removes this session; frees files it still held open after unlink.
  virtual Status CloseSession() = 0;
  virtual Result<std::vector<SessionInfo>> ListSessions() = 0;
  // Removes the sessions whose last heartbeat is before `before` (seconds):
  // releases their locks and frees the files they kept alive after unlink
  // (unless this client has them open: then it keeps them). Returns how many.
  virtual Result<size_t> CleanStaleSessions(int64_t before) = 0;

  // --- Locks, held in the engine: owners on every mount exclude each other ---
  // A lock owner is unique within this client's session. Nothing waits:
  // kWouldBlock when another owner holds a conflicting lock.
  // BSD flock(2): type F_RDLCK (shared), F_WRLCK (exclusive) or F_UNLCK.
  virtual Status Flock(Ino ino, uint64_t owner, int type) = 0;
  // F_GETLK: the first lock of another owner that conflicts with `probe`, or
  // `probe` with type F_UNLCK when none does.
  virtual Result<LockRange> GetLk(Ino ino, uint64_t owner, const LockRange& probe) = 0;
  // F_SETLK: sets `range` for `owner` (F_UNLCK clears it), splitting and
  // merging the owner's ranges as POSIX says.
  virtual Status SetLk(Ino ino, uint64_t owner, const LockRange& range) = 0;

  // --- Namespace ---
  virtual Result<Entry> Lookup(const Context& ctx, Ino parent, std::string_view name) = 0;
  virtual Result<Attr> GetAttr(Ino ino) = 0;
  virtual Result<Attr> SetAttr(const Context& ctx, Ino ino, const SetAttrRequest& req) = 0;
  // access(2): mask of R_OK/W_OK/X_OK.
  virtual Status Access(const Context& ctx, Ino ino, int mask) = 0;
  // `mode` holds type and permission bits; ctx.umask or the parent's default ACL applies.
  virtual Result<Entry> Mknod(const Context& ctx, Ino parent, std::string_view name, uint32_t mode,
                              uint32_t rdev) = 0;
  virtual Result<Entry> Mkdir(const Context& ctx, Ino parent, std::string_view name,
                              uint32_t mode) = 0;
  virtual Result<Entry> Symlink(const Context& ctx, Ino parent, std::string_view name,
                                std::string_view target) = 0;
  virtual Result<std::string> ReadLink(Ino ino) = 0;
  virtual Status Unlink(const Context& ctx, Ino parent, std::string_view name) = 0;
  virtual Status Rmdir(const Context& ctx, Ino parent, std::string_view name) = 0;
  virtual Status Rename(const Context& ctx, Ino parent, std::string_view name, Ino new_parent,
                        std::string_view new_name, uint32_t flags) = 0;
  virtual Result<Entry> Link(const Context& ctx, Ino ino, Ino new_parent,
                             std::string_view new_name) = 0;
  // Entries of a directory (not "." or ".."), ascending by name, starting
  // after `start_after` (empty: from the first), at most `limit` (0: all).
  virtual Result<std::vector<DirEntry>> ReadDir(const Context& ctx, Ino dir, bool with_attr,
                                                std::string_view start_after = "",
                                                size_t limit = 0) = 0;

  // --- Extended attributes ---
  virtual Result<std::string> GetXattr(const Context& ctx, Ino ino, std::string_view name) = 0;
  // flags: XATTR_CREATE (kExists if present) / XATTR_REPLACE (kNoData if absent).
  virtual Status SetXattr(const Context& ctx, Ino ino, std::string_view name,
                          std::string_view value, int flags) = 0;
  virtual Result<std::vector<std::string>> ListXattr(const Context& ctx, Ino ino) = 0;
  virtual Status RemoveXattr(const Context& ctx, Ino ino, std::string_view name) = 0;

  // --- Files ---
  // Checks permission for open(2) flags (O_ACCMODE, O_TRUNC) and counts the
  // open, so that an unlinked file keeps its data until the last Close.
  virtual Result<Attr> Open(const Context& ctx, Ino ino, int flags) = 0;
  virtual Status Close(Ino ino) = 0;
  // Sets the length; data past it reads as zeros if the file grows again.
  virtual Result<Attr> Truncate(const Context& ctx, Ino ino, uint64_t length) = 0;
  virtual Status Fallocate(const Context& ctx, Ino ino, int mode, uint64_t offset,
                           uint64_t length) = 0;
  // A fresh slice id (handed out in batches).
  virtual Result<uint64_t> NewSliceId() = 0;
  // The records of chunk `index`, in write order (empty when none).
  virtual Result<std::vector<Slice>> ReadChunk(Ino ino, uint32_t index) = 0;
  // Appends slice records to chunk `index`, in order (a later one wins where
  // they overlap), in one transaction. The slices are fresh ones; a slice that
  // several records name (pieces of it at different offsets) gets one
  // reference per record. extends the length to cover them, sets
  // mtime/ctime to `mtime`. suid/sgid stay: whoever knows the writer drops
  // them (the kernel does, with a chmod, for a non-root writer). `records`,
  // when given, is set to how many records the chunk then holds (what a
  // caller needs to decide on compaction, at no extra cost).
  virtual Status WriteSlices(Ino ino, uint32_t index, std::span<const Slice> slices,
                             Timespec mtime, uint32_t* records = nullptr) = 0;
  Status WriteSlice(Ino ino, uint32_t index, const Slice& slice, Timespec mtime,
                    uint32_t* records = nullptr) {
    return WriteSlices(ino, index, std::span<const Slice>(&slice, 1), mtime, records);
  }

  // --- Compaction (see docs/compaction.md) ---
  // Swaps, in one transaction, the first old.size() records of chunk `index`
  // for the one record `compacted` — which must show the same bytes as `old`
  // (a record with len 0: for no record, when `old` shows only zeros).
  // Records appended since `old` was read stay after it and keep winning.
  // If the chunk no longer starts with exactly `old` (a truncate, another
  // compaction), nothing changes and the result is kBusy: the caller then
  // deletes the blocks of `compacted`, which nothing references. kNotFound
  // when the inode is gone.
  // After the swap every slice of `old` loses one reference — in batches of
  // their own transactions (engines bound a transaction's size), queued on an
  // R key in the swap so that a crash leaves them to CleanupDeletedFiles —
  // and the slices left without any go to the SliceFreer. Slices shared with
  // other files (K keys) keep their blocks.
  virtual Status CompactChunk(Ino ino, uint32_t index, const std::vector<Slice>& old,
                              const Slice& compacted) = 0;

  // The indexes of the chunks of `ino`, from `first` on, that hold records
  // (ascending; at most `limit`, 0: all).
  virtual Result<std::vector<uint32_t>> ChunkIndexes(Ino ino, uint32_t first, size_t limit) = 0;
  // copy_file_range by sharing slices: makes bytes [dst_off, dst_off + n) of
  // `dst` read as bytes [src_off, src_off + n) of `src` read now, where n is
  // `len` cut at the end of `src` and at the next chunk boundary of either
  // file, in one transaction: the source's records are appended to the
  // destination chunk (over a hole record) and their slices' reference
  // counts raised; no data moves. Extends `dst` and sets its mtime/ctime.
  // Returns n (0 when src_off is at or past the end of `src`).
  virtual Result<uint64_t> CopyRange(Ino src, uint64_t src_off, Ino dst, uint64_t dst_off,
                                     uint64_t len) = 0;

  // Makes every committed change survive power loss (see kv::Engine::Sync).
  virtual Status Sync() = 0;

  // --- Background work ---
  // Frees the data of deleted files (the D queue) whose last handle is closed,
  // and drops the references still queued by compactions (R keys) that did
  // not finish. Returns how many files were freed.
  virtual Result<uint64_t> CleanupDeletedFiles() = 0;

  // --- Trash (see docs/posix.md) ---
  // Removes for real the files of the trash hour directories that ended
  // trash_days or more ago (all of them when the trash is off), and those
  // directories; their data goes to the D queue. Returns how many files.
  virtual Result<uint64_t> PurgeTrash() = 0;
  // The hour directories of the trash, ascending.
  virtual Result<std::vector<DirEntry>> ListTrash() = 0;
  // Puts every entry of hour directory `hour` back under its original parent
  // and name, each in its own transaction; an entry whose name is taken or
  // whose directory is gone stays. kNotFound when there is no such hour.
  virtual Result<std::vector<RestoreOutcome>> RestoreTrash(std::string_view hour) = 0;
};

// The namespace over `engine`. `clock` must outlive the Meta.
std::unique_ptr<Meta> NewMeta(std::unique_ptr<kv::Engine> engine,
                              const Clock& clock = SystemClock());

}  // namespace tessera::meta
