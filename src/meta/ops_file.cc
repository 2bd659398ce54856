// File data: slices, truncate, fallocate, and freeing the data of deleted files.
//
// Data is never rewritten in place. Shrinking a file drops the chunks wholly
// past the new length and covers the rest of the old data inside the boundary
// chunk with a hole record (slice id 0), so that growing the file again reads
// zeros; punching and zeroing append hole records the same way.
//
// Every change of a chunk's records or of the length moves attr.allocated
// in the same transaction (AccountChunk). Growing a file, by truncate or
// fallocate, adds nothing: no record covers the bytes past the old length.
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <map>

#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

constexpr uint64_t kMaxFileSize = 1ull << 57;

Status CheckWritableFile(kv::Txn& txn, const Context& ctx, const Attr& attr, Ino ino) {
  if (attr.IsDir()) return Status(Code::kIsDir, "inode " + std::to_string(ino) + " is a directory");
  if (!attr.IsFile()) {
    return Status(Code::kInvalid, "inode " + std::to_string(ino) + " is not a regular file");
  }
  return CheckAccess(txn, ctx, ino, attr, W_OK);
}

// Appends hole records over [begin, end) of the file, one per chunk touched
// (see AppendSlices for `attr` and `old_length`).
Status AppendHoles(kv::Txn& txn, Ino ino, Attr* attr, uint64_t old_length, uint64_t begin,
                   uint64_t end) {
  while (begin < end) {
    uint32_t index = static_cast<uint32_t>(begin / kChunkSize);
    uint64_t chunk_end = (static_cast<uint64_t>(index) + 1) * kChunkSize;
    uint64_t stop = std::min(end, chunk_end);
    Slice hole;
    hole.pos = static_cast<uint32_t>(begin % kChunkSize);
    hole.len = static_cast<uint32_t>(stop - begin);
    RETURN_IF_ERROR(AppendSlices(txn, ino, attr, old_length, index, {&hole, 1}));
    begin = stop;
  }
  return Status::Ok();
}

Status UpdateLength(kv::Txn& txn, const OpEnv& env, Attr* attr, uint64_t length) {
  Attr next = *attr;
  next.length = length;
  int64_t delta = static_cast<int64_t>(UsageOf(next)) - static_cast<int64_t>(UsageOf(*attr));
  RETURN_IF_ERROR(AddUsage(txn, env, delta, 0));
  attr->length = length;
  return Status::Ok();
}

// Deletes every chunk of `ino` from index `first` on and drops its slices;
// `covered` is set to the bytes they showed inside a file of `length`.
Status DropChunksFrom(kv::Txn& txn, Ino ino, uint64_t first, uint64_t length,
                      std::vector<Slice>* freed, uint64_t* covered) {
  *covered = 0;
  std::string prefix = keys::ChunkPrefix(ino);
  std::string end = kv::PrefixEnd(prefix);
  if (first > std::numeric_limits<uint32_t>::max()) return Status::Ok();
  std::string begin = keys::Chunk(ino, static_cast<uint32_t>(first));
  ASSIGN_OR_RETURN(auto kvs, txn.Scan(begin, end));
  if (kvs.empty()) return Status::Ok();
  std::vector<Slice> slices;
  for (auto& [key, value] : kvs) {
    auto index = keys::ParseChunkIndex(key);
    if (!index) return Status(Code::kCorrupt, "malformed chunk key");
    auto records = DecodeSliceRecords(value);
    *covered += ChunkCoverage(records, ChunkLimit(*index, length));
    slices.insert(slices.end(), records.begin(), records.end());
  }
  RETURN_IF_ERROR(txn.DeleteRange(begin, end));
  return DerefSlices(txn, slices, freed);
}

}  // namespace

Result<Attr> DoTruncate(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino,
                        uint64_t length, std::vector<Slice>* freed) {
  freed->clear();
  if (length > kMaxFileSize) return Err(Code::kTooBig, "length past the maximum file size");
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  RETURN_IF_ERROR(CheckWritableFile(txn, ctx, attr, ino));
  uint64_t old = attr.length;
  RETURN_IF_ERROR(UpdateLength(txn, env, &attr, length));
  if (length < old) {
    uint64_t boundary = length / kChunkSize;
    uint64_t in_chunk = length % kChunkSize;
    uint64_t dropped = 0;
    RETURN_IF_ERROR(
        DropChunksFrom(txn, ino, in_chunk == 0 ? boundary : boundary + 1, old, freed, &dropped));
    if (attr.allocated != kAllocatedUnknown) attr.allocated -= std::min(dropped, attr.allocated);
    bool boundary_records = false;
    if (in_chunk != 0) {
      ASSIGN_OR_RETURN(auto chunk, txn.Get(keys::Chunk(ino, static_cast<uint32_t>(boundary))));
      uint64_t stop = std::min(old, (boundary + 1) * kChunkSize);
      boundary_records = chunk.has_value();
      if (chunk) RETURN_IF_ERROR(AppendHoles(txn, ino, &attr, old, length, stop));
    }
    // What is left of a file within its first chunk holds no record: nothing
    // is stored (this also gives a file from before the field its count).
    if (boundary == 0 && !boundary_records) attr.allocated = 0;
  }
  attr.mtime = attr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
  return attr;
}

Status DoFallocate(kv::Txn& txn, const Context& ctx, const OpEnv& env, Ino ino, int mode,
                   uint64_t offset, uint64_t length) {
  if (length == 0) return Status(Code::kInvalid, "fallocate of length 0");
  if (mode & ~(kFallocKeepSize | kFallocPunchHole | kFallocZeroRange)) {
    return Status(Code::kNotSupported, "fallocate mode " + std::to_string(mode));
  }
  bool punch = mode & kFallocPunchHole;
  bool zero = mode & kFallocZeroRange;
  bool keep = mode & kFallocKeepSize;
  if (punch && !keep) return Status(Code::kInvalid, "PUNCH_HOLE needs KEEP_SIZE");
  if (punch && zero) return Status(Code::kInvalid, "PUNCH_HOLE with ZERO_RANGE");
  if (offset > kMaxFileSize || length > kMaxFileSize - offset) {
    return Status(Code::kTooBig, "fallocate past the maximum file size");
  }
  uint64_t end = offset + length;
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  RETURN_IF_ERROR(CheckWritableFile(txn, ctx, attr, ino));
  if (punch || zero) {
    // Past the current length the file reads as zeros already.
    uint64_t stop = std::min(end, attr.length);
    if (offset < stop) RETURN_IF_ERROR(AppendHoles(txn, ino, &attr, attr.length, offset, stop));
  }
  if (!keep && end > attr.length) RETURN_IF_ERROR(UpdateLength(txn, env, &attr, end));
  attr.mtime = attr.ctime = env.now;
  return StoreAttr(txn, ino, attr);
}

Status DoWriteSlices(kv::Txn& txn, const OpEnv& env, Ino ino, uint32_t index,
                     std::span<const Slice> slices, Timespec mtime, uint32_t* records) {
  uint32_t end_in_chunk = 0;
  for (const Slice& slice : slices) {
    if (static_cast<uint64_t>(slice.pos) + slice.len > kChunkSize) {
      return Status(Code::kInvalid, "slice record past the end of its chunk");
    }
    end_in_chunk = std::max(end_in_chunk, slice.pos + slice.len);
  }
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  if (attr.IsDir()) return Status(Code::kIsDir, "write to a directory");
  if (!attr.IsFile()) return Status(Code::kInvalid, "write to a non-regular file");
  const uint64_t old_length = attr.length;
  uint64_t end = static_cast<uint64_t>(index) * kChunkSize + end_in_chunk;
  if (end > attr.length) RETURN_IF_ERROR(UpdateLength(txn, env, &attr, end));
  RETURN_IF_ERROR(AppendSlices(txn, ino, &attr, old_length, index, slices, records));
  // A slice named by several of the records (small writes packed into one
  // slice) holds a reference for each.
  std::map<std::pair<uint64_t, uint32_t>, int64_t> extra;
  for (const Slice& slice : slices) {
    if (slice.id != 0 && !extra.try_emplace({slice.id, slice.size}, 0).second) {
      ++extra[{slice.id, slice.size}];
    }
  }
  std::erase_if(extra, [](const auto& e) { return e.second == 0; });
  RETURN_IF_ERROR(AddSliceRefs(txn, extra));
  attr.mtime = attr.ctime = mtime;
  return StoreAttr(txn, ino, attr);
}

Result<std::vector<Slice>> DoReadChunk(kv::Txn& txn, Ino ino, uint32_t index) {
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Chunk(ino, index)));
  if (!v) return std::vector<Slice>();
  bool ok = true;
  std::vector<Slice> slices = DecodeSliceRecords(*v, &ok);
  if (!ok) {
    return Err(Code::kCorrupt, "chunk " + std::to_string(index) + " of inode " +
                                   std::to_string(ino) + ": " + std::to_string(v->size()) +
                                   " bytes is not a whole number of slice records");
  }
  return slices;
}

Result<std::vector<uint32_t>> DoChunkIndexes(kv::Txn& txn, Ino ino, uint32_t first, size_t limit) {
  std::string prefix = keys::ChunkPrefix(ino);
  ASSIGN_OR_RETURN(auto kvs, txn.Scan(keys::Chunk(ino, first), kv::PrefixEnd(prefix), limit));
  std::vector<uint32_t> out;
  out.reserve(kvs.size());
  for (const auto& kv : kvs) {
    auto index = keys::ParseChunkIndex(kv.first);
    if (!index) return Err(Code::kCorrupt, "malformed chunk key");
    out.push_back(*index);
  }
  return out;
}

Result<uint64_t> DoCopyRange(kv::Txn& txn, const OpEnv& env, Ino src, uint64_t src_off, Ino dst,
                             uint64_t dst_off, uint64_t len) {
  ASSIGN_OR_RETURN(Attr sattr, LoadAttr(txn, src));
  ASSIGN_OR_RETURN(Attr dattr, LoadAttr(txn, dst));
  for (const Attr* a : {&sattr, &dattr}) {
    if (a->IsDir()) return Err(Code::kIsDir, "copy_file_range of a directory");
    if (!a->IsFile()) return Err(Code::kInvalid, "copy_file_range of a non-regular file");
  }
  if (src_off >= sattr.length || len == 0) return uint64_t{0};
  // One piece: inside one chunk of each file.
  uint64_t n = std::min({len, sattr.length - src_off, kChunkSize - src_off % kChunkSize,
                         kChunkSize - dst_off % kChunkSize});
  if (dst_off > kMaxFileSize || n > kMaxFileSize - dst_off) {
    return Err(Code::kTooBig, "copy past the maximum file size");
  }
  const uint32_t s = static_cast<uint32_t>(src_off % kChunkSize);
  const uint32_t d = static_cast<uint32_t>(dst_off % kChunkSize);
  const uint32_t dst_index = static_cast<uint32_t>(dst_off / kChunkSize);
  ASSIGN_OR_RETURN(auto records,
                   DoReadChunk(txn, src, static_cast<uint32_t>(src_off / kChunkSize)));
  // A hole first, so that what the source does not cover reads as zeros;
  // then the source's records in their order, clipped and shifted: later
  // records still win where they overlap, exactly as in the source.
  // A piece that shares many slices is halved until it shares few: each
  // shared slice is a key written in this transaction, and engines bound
  // how many one may write (etcd: 128 operations).
  std::vector<Slice> appended;
  std::map<std::pair<uint64_t, uint32_t>, int64_t> added;  // slice -> new records
  for (;;) {
    appended.clear();
    added.clear();
    Slice hole;
    hole.pos = d;
    hole.len = static_cast<uint32_t>(n);
    appended.push_back(hole);
    const uint64_t end = s + n;
    for (const Slice& r : records) {
      uint64_t from = std::max<uint64_t>(r.pos, s);
      uint64_t to = std::min<uint64_t>(uint64_t{r.pos} + r.len, end);
      if (from >= to) continue;
      Slice piece = r;
      piece.pos = static_cast<uint32_t>(d + (from - s));
      piece.off = static_cast<uint32_t>(r.off + (from - r.pos));
      piece.len = static_cast<uint32_t>(to - from);
      appended.push_back(piece);
      if (piece.id != 0) ++added[{piece.id, piece.size}];
    }
    if (added.size() <= kCopySharedSlices || n <= 4096) break;
    n /= 2;
  }
  const uint64_t old_length = dattr.length;
  if (dst_off + n > dattr.length) RETURN_IF_ERROR(UpdateLength(txn, env, &dattr, dst_off + n));
  RETURN_IF_ERROR(AppendSlices(txn, dst, &dattr, old_length, dst_index, appended));
  RETURN_IF_ERROR(AddSliceRefs(txn, added));
  dattr.mtime = dattr.ctime = env.now;
  RETURN_IF_ERROR(StoreAttr(txn, dst, dattr));
  return n;
}

Status DoCleanupFile(kv::Txn& txn, std::string_view del_key, Ino ino, std::vector<Slice>* freed,
                     bool* done) {
  freed->clear();
  *done = true;
  ASSIGN_OR_RETURN(auto queued, txn.Get(del_key));
  if (!queued) return Status::Ok();  // another client got here first
  // A bounded batch of chunks per transaction: engines limit how many keys
  // one transaction may touch (etcd: 128 operations).
  std::string prefix = keys::ChunkPrefix(ino);
  ASSIGN_OR_RETURN(auto kvs, txn.Scan(prefix, kv::PrefixEnd(prefix), kCleanupChunks));
  std::vector<Slice> slices;
  size_t taken = 0;
  for (; taken < kvs.size() && (taken == 0 || slices.size() < kCleanupSlices); ++taken) {
    auto records = DecodeSliceRecords(kvs[taken].second);
    slices.insert(slices.end(), records.begin(), records.end());
    RETURN_IF_ERROR(txn.Delete(kvs[taken].first));
  }
  RETURN_IF_ERROR(DerefSlices(txn, slices, freed));
  if (taken < kvs.size() || kvs.size() == kCleanupChunks) {
    *done = false;  // more chunks left: the D key stays for the next batch
    return Status::Ok();
  }
  return txn.Delete(del_key);
}

Status DoReleaseInode(kv::Txn& txn, const OpEnv& env, Ino ino) {
  RETURN_IF_ERROR(txn.Delete(keys::Sustained(env.sid, ino)));
  ASSIGN_OR_RETURN(auto v, txn.Get(keys::Attr(ino)));
  if (!v) return Status::Ok();
  ASSIGN_OR_RETURN(Attr attr, DecodeAttr(*v));
  if (attr.nlink > 0) return Status::Ok();
  return DestroyInode(txn, env, ino, attr);
}

}  // namespace tessera::meta
