// Compaction's side of the namespace: swapping a chunk's leading records for
// the one slice that a compactor wrote with the same bytes, and dropping the
// references of the slices it replaced.
//
// The swap checks the chunk's value, not a version: the chunk must still
// start with the very records the compactor read. Appends made meanwhile (by
// this mount or another) only add records after them, so they do not stop the
// swap and stay after the new record, where they keep winning; anything that
// rewrote the front (a truncate that dropped the chunk, another compaction)
// does, with kBusy. The transaction reads the chunk key, so a concurrent
// writer and the swap serialize on it like any two writers.
//
// The new record may show more data than the old ones did: it spans from the
// first byte they showed to the last, so holes between become stored zeros.
// The swap recounts the chunk for attr.allocated (AccountChunk) and stores
// the attr when that moved; times stay.
//
// The old slices lose their references after the swap, in bounded batches:
// a chunk may hold thousands of records and an engine bounds how many keys one
// transaction may touch (etcd: 128). The swap queues them on R<id> in the same
// transaction, so nothing is lost if the client stops between batches; any
// client's CleanupDeletedFiles finishes the queue.
#include <algorithm>
#include <set>

#include "meta/keys.h"
#include "meta/ops.h"

namespace tessera::meta {

Status DoCompactChunk(kv::Txn& txn, Ino ino, uint32_t index, const std::vector<Slice>& old,
                      const Slice& compacted, uint64_t release_id) {
  if (old.empty()) return Status(Code::kInvalid, "compaction of no records");
  if (uint64_t{compacted.pos} + compacted.len > kChunkSize) {
    return Status(Code::kInvalid, "compacted record past the end of its chunk");
  }
  ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
  if (!attr.IsFile()) return Status(Code::kInvalid, "compaction of a non-regular file");
  const std::string key = keys::Chunk(ino, index);
  ASSIGN_OR_RETURN(auto value, txn.Get(key));
  std::string expected;
  expected.reserve(old.size() * kSliceRecordSize);
  for (const Slice& s : old) AppendSliceRecord(&expected, s);
  if (!value || !std::string_view(*value).starts_with(expected)) {
    return Status(Code::kBusy, "chunk " + std::to_string(index) + " of inode " +
                                   std::to_string(ino) + " changed while it was compacted");
  }
  std::string next;
  if (compacted.len > 0) AppendSliceRecord(&next, compacted);
  next.append(std::string_view(*value).substr(expected.size()));
  if (next.empty()) {
    RETURN_IF_ERROR(txn.Delete(key));
  } else {
    RETURN_IF_ERROR(txn.Set(key, next));
  }
  const uint64_t allocated = attr.allocated;
  AccountChunk(&attr, index, DecodeSliceRecords(*value), attr.length, DecodeSliceRecords(next));
  if (attr.allocated != allocated) RETURN_IF_ERROR(StoreAttr(txn, ino, attr));
  std::string queued;
  for (const Slice& s : old) {
    if (s.id != 0) AppendSliceRecord(&queued, s);
  }
  if (queued.empty()) return Status::Ok();
  return txn.Set(keys::Release(release_id), queued);
}

Status DoReleaseSlices(kv::Txn& txn, std::string_view release_key, std::vector<Slice>* freed,
                       bool* done) {
  freed->clear();
  *done = true;
  ASSIGN_OR_RETURN(auto queued, txn.Get(release_key));
  if (!queued) return Status::Ok();  // finished, here or by another client
  bool ok = true;
  std::vector<Slice> slices = DecodeSliceRecords(*queued, &ok);
  if (!ok) return Status(Code::kCorrupt, "release queue is not a whole number of records");
  // A batch ends at kCleanupSlices distinct slices (each costs a count's
  // read and write), however many records name them.
  std::set<std::pair<uint64_t, uint32_t>> distinct;
  size_t take = 0;
  while (take < slices.size()) {
    distinct.insert({slices[take].id, slices[take].size});
    if (distinct.size() > kCleanupSlices) break;
    ++take;
  }
  std::vector<Slice> batch(slices.begin(), slices.begin() + static_cast<ptrdiff_t>(take));
  RETURN_IF_ERROR(DerefSlices(txn, batch, freed));
  if (take == slices.size()) return txn.Delete(release_key);
  *done = false;
  return txn.Set(release_key, queued->substr(take * kSliceRecordSize));
}

}  // namespace tessera::meta
