// Internal to meta/: the namespace operations as functions of a kv::Txn.
//
// Every Do* function reads and writes keys through the Txn and never commits;
// MetaImpl (meta.cc) wraps each in kv::RunTxn, which may run it several times
// on conflict, so a Do* function only touches the Txn and its out-parameters
// (which it resets first).
//
// Accounting: the counters usedSpace and totalInodes follow every inode's
// UsageOf() (4 KiB for directories and symlinks; a file's length rounded up to
// 4 KiB, at least 4 KiB) from its creation until it is destroyed.
//
// Hard links: no A<ino>P<parent> keys are kept. A file's attr.parent is its
// directory while it has one link and becomes 0 once a second link is made;
// it is not restored when the count drops back to 1.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/slice.h"
#include "common/status.h"
#include "kv/engine.h"
#include "meta/meta.h"

namespace tessera::meta {

// What an operation knows besides its arguments.
struct OpEnv {
  Timespec now;
  uint64_t sid = 0;        // this client's session (0 when none)
  uint64_t capacity = 0;   // settings: bytes, 0 unlimited
  uint64_t max_inodes = 0; // settings: 0 unlimited
  int trash_days = 0;      // settings: 0 off
  // Whether this Meta instance holds `ino` open. May be empty (nothing open).
  std::function<bool(Ino)> is_open;
  bool IsOpen(Ino ino) const { return is_open && is_open(ino); }
};

// --- permission.cc ---
// POSIX access check of mask (R_OK|W_OK|X_OK) on `attr` for `ctx`: kAccess.
Status CheckAccess(const Context& ctx, const Attr& attr, int mask);
// The same, and where the mode bits refuse, the inode's access ACL may grant.
Status CheckAccess(kv::Txn& txn, const Context& ctx, Ino ino, const Attr& attr, int mask);
// The sticky-directory rule for removing or renaming `child` out of `dir`: kPermission.
Status CheckSticky(const Context& ctx, const Attr& dir, const Attr& child);
bool IsOwnerOrRoot(const Context& ctx, const Attr& attr);

// --- ops_common.cc: helpers ---
uint64_t UsageOf(const Attr& attr);
// kNotFound when absent.
Result<Attr> LoadAttr(kv::Txn& txn, Ino ino);
Status StoreAttr(kv::Txn& txn, Ino ino, const Attr& attr);
// Validates a directory entry name: kInvalid (empty, '/', NUL), kNameTooLong.
Status CheckName(std::string_view name);
// Adds to the usage counters; when growing, checks the quotas first (kNoSpace).
Status AddUsage(kv::Txn& txn, const OpEnv& env, int64_t space, int64_t inodes);
// Removes the inode's attribute, symlink and xattrs; queues a file's chunks on
// D<ino><length>; gives back its usage.
Status DestroyInode(kv::Txn& txn, const OpEnv& env, Ino ino, const Attr& attr);
// Drops one link of a non-directory: nlink-1 and ctime; at 0 the inode is
// sustained (if open here: SS key) or destroyed. Writes or deletes the attr.
Status DropLink(kv::Txn& txn, const OpEnv& env, Ino ino, Attr& attr, bool* sustained);
// Decrements the references of every slice (K keys); appends those that no
// longer have any reference to `freed`.
Status DerefSlices(kv::Txn& txn, const std::vector<Slice>& slices, std::vector<Slice>* freed);
// Adds `count` references to each slice (id, size): a slice's reference count
// (K key, absent: 1) is the number of chunk records that name it.
Status AddSliceRefs(kv::Txn& txn, const std::map<std::pair<uint64_t, uint32_t>, int64_t>& added);
// Appends `slices` to chunk `index` of file `ino` and moves attr->allocated
// by what they change there (AccountChunk): attr->length must already be the
// length after the append, `old_length` the one before. The caller stores the
// attr. `records` (when given) is set to how many the chunk then holds.
Status AppendSlices(kv::Txn& txn, Ino ino, Attr* attr, uint64_t old_length, uint32_t index,
                    std::span<const Slice> slices, uint32_t* records = nullptr);

// --- allocated.cc: Attr::allocated ---
// Bytes [begin, end) of a chunk.
struct ByteRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};
// The ranges of a chunk that data records (id != 0) show, the later record
// winning where records overlap; ascending and disjoint.
std::vector<ByteRange> CoveredRanges(const std::vector<Slice>& records);
// How many bytes of chunk bytes [0, limit) data records show.
uint64_t ChunkCoverage(const std::vector<Slice>& records, uint64_t limit);
// How many bytes of chunk `index` lie inside a file of `length` bytes.
uint64_t ChunkLimit(uint32_t index, uint64_t length);
// Moves attr->allocated of a file by what chunk `index` changed from
// `before` (its records while the length was `old_length`) to `after` (its
// records now, under attr->length), counting only the bytes the two lists
// can differ in. An unknown total stays unknown, unless the chunk is the
// whole file (index 0, length at most kChunkSize): then it is counted from
// `after`. Clipped to [0, length].
void AccountChunk(Attr* attr, uint32_t index, const std::vector<Slice>& before, uint64_t old_length,
                  const std::vector<Slice>& after);

// --- ops_namespace.cc ---
Result<Entry> DoLookup(kv::Txn& txn, const Context& ctx, Ino parent, std::string_view name);

// What to create: mode holds the type bits; target for symlinks.
struct CreateRequest {
  Ino parent = 0;
  std::string_view name;
  uint32_t mode = 0;
  uint32_t rdev = 0;
  std::string_view target;
};
Result<Entry> DoCreate(kv::Txn& txn, const Context& ctx, const OpEnv& env,
                       const CreateRequest& req, Ino ino);
Result<Entry> DoLink(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino, Ino new_parent,
                     std::string_view new_name);
// `sustained` is set when the last link went but the file is open here.
Status DoUnlink(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
                std::string_view name, bool* sustained, Ino* ino);
Status DoRmdir(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
               std::string_view name);

// --- ops_rename.cc ---
struct RenameResult {
  bool sustained = false;  // the replaced file was kept for an open handle here
  Ino replaced = 0;
};
Status DoRename(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino parent,
                std::string_view name, Ino new_parent, std::string_view new_name, uint32_t flags,
                RenameResult* result);

// --- ops_trash.cc ---
// "YYYY-MM-DD-HH" of the UTC hour holding `sec`, and back to the hour's start.
std::string TrashHourName(int64_t sec);
std::optional<int64_t> ParseTrashHour(std::string_view name);
// "<parent>-<ino>-<name>", cut at kMaxName bytes.
std::string TrashEntryName(Ino parent, Ino ino, std::string_view name);
struct TrashEntry {
  Ino parent = 0;
  Ino ino = 0;
  std::string name;
};
std::optional<TrashEntry> ParseTrashEntry(std::string_view entry);
// Whether directory `dir` is /.trash or one of its hour directories.
bool IsTrashDir(Ino dir, const Attr& attr);
// Whether removing the entry of `attr` from `parent` moves it to the trash:
// trash on, the last link of a non-directory, not already in the trash.
bool ShouldTrash(const OpEnv& env, Ino parent, const Attr& pattr, const Attr& attr);
// Gives inode `ino`, whose entry `name` in `parent` the caller removed, an
// entry in the hour directory of env.now (made on demand) and stores `attr`.
Status MoveToTrash(kv::Txn& txn, const OpEnv& env, Ino parent, std::string_view name, Ino ino,
                   Attr& attr);
// Puts trash entry `entry` of hour directory `hour` back (Meta::RestoreTrash).
Status DoRestoreEntry(kv::Txn& txn, const OpEnv& env, Ino hour, std::string_view entry);
// Removes trash entry `entry` for real: DropLink (`sustained`, `ino` as in DoUnlink).
Status DoPurgeEntry(kv::Txn& txn, const OpEnv& env, Ino hour, std::string_view entry,
                    bool* sustained, Ino* ino);
// Removes hour directory `hour_name` (inode `hour`) if it is empty.
Status DoRemoveHourDir(kv::Txn& txn, const OpEnv& env, std::string_view hour_name, Ino hour);

// --- ops_attr.cc ---
Result<Attr> DoSetAttr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                       const SetAttrRequest& req);
Result<std::vector<DirEntry>> DoReadDir(kv::Txn& txn, const Context& ctx, Ino dir,
                                        bool with_attr, std::string_view start_after,
                                        size_t limit);
Result<std::string> DoGetXattr(kv::Txn& txn, const Context& ctx, Ino ino, std::string_view name);
Status DoSetXattr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                  std::string_view name, std::string_view value, int flags);
Result<std::vector<std::string>> DoListXattr(kv::Txn& txn, const Context& ctx, Ino ino);
Status DoRemoveXattr(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                     std::string_view name);

// --- ops_file.cc ---
Result<Attr> DoTruncate(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                        uint64_t length, std::vector<Slice>* freed);
Status DoFallocate(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino, int mode,
                   uint64_t offset, uint64_t length);
Status DoWriteSlices(kv::Txn& txn, const OpEnv& env, Ino ino, uint32_t index,
                     std::span<const Slice> slices, Timespec mtime, uint32_t* records);
Result<std::vector<Slice>> DoReadChunk(kv::Txn& txn, Ino ino, uint32_t index);
Result<std::vector<uint32_t>> DoChunkIndexes(kv::Txn& txn, Ino ino, uint32_t first, size_t limit);
// See Meta::CopyRange. A slice's reference count (K key, absent: 1) is the
// number of chunk records that name it, so each shared record adds one. A
// piece shares at most kCopySharedSlices slices (it is shortened to fit).
inline constexpr size_t kCopySharedSlices = 64;
Result<uint64_t> DoCopyRange(kv::Txn& txn, const OpEnv& env, Ino src, uint64_t src_off, Ino dst,
                             uint64_t dst_off, uint64_t len);
// Frees a batch of the chunks of one queued deleted file — at most
// kCleanupChunks chunks, and no more chunks once kCleanupSlices slices are
// taken — and its D key with the last batch; `done` says whether that was it.
inline constexpr size_t kCleanupChunks = 32;
inline constexpr size_t kCleanupSlices = 48;
Status DoCleanupFile(kv::Txn& txn, std::string_view del_key, Ino ino, std::vector<Slice>* freed,
                     bool* done);
// Destroys an inode whose nlink is 0 (after its last Close or at session end)
// and removes its SS key. No-op when the inode is gone or linked again.
Status DoReleaseInode(kv::Txn& txn, const OpEnv& env, Ino ino);

// --- ops_compact.cc ---
// Replaces the first old.size() records of chunk `index` by `compacted` (by
// nothing when its len is 0) if the chunk still starts with exactly `old`,
// else kBusy; queues the slices of `old` on R<release_id> to lose one
// reference each (DoReleaseSlices).
Status DoCompactChunk(kv::Txn& txn, Ino ino, uint32_t index, const std::vector<Slice>& old,
                      const Slice& compacted, uint64_t release_id);
// Drops one reference of at most kCleanupSlices of the slices queued on
// `release_key`, and the key with the last of them; `done` says whether that
// was it. Slices left without references go to `freed`.
Status DoReleaseSlices(kv::Txn& txn, std::string_view release_key, std::vector<Slice>* freed,
                       bool* done);

// --- ops_lock.cc --- (sid: the session of the lock's owner)
Status DoFlock(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner, int type);
Result<LockRange> DoGetLk(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner,
                          const LockRange& probe);
Status DoSetLk(kv::Txn& txn, uint64_t sid, Ino ino, uint64_t owner, const LockRange& range);
// Drops every lock that session `sid` holds on `ino`.
Status DoReleaseSessionLocks(kv::Txn& txn, uint64_t sid, Ino ino);

// --- session.cc ---
// Releases everything session `sid` holds (its locks; the files it kept
// alive after unlink, which this client takes over if env says it has them
// open) and removes its record. `sid` may be this client's own session.
Status ReleaseSession(kv::Engine& engine, const OpEnv& env, uint64_t sid);

}  // namespace tessera::meta
