// Vfs file I/O: handles, per-inode write sessions, reads through the chunk
// reader, and the commit of finished slices to meta.
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "common/logging.h"
#include "vfs/vfs.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {

uint64_t Vfs::AddHandle(std::shared_ptr<Handle> h) {
  std::lock_guard lock(handles_mu_);
  uint64_t fh = next_fh_++;
  handles_[fh] = std::move(h);
  return fh;
}

Result<std::shared_ptr<Vfs::Handle>> Vfs::GetHandle(uint64_t fh) {
  std::lock_guard lock(handles_mu_);
  auto it = handles_.find(fh);
  if (it == handles_.end()) return Err(Code::kBadHandle, "unknown file handle");
  return it->second;
}

std::shared_ptr<Vfs::FileState> Vfs::FindFile(Ino ino) {
  std::lock_guard lock(files_mu_);
  auto it = files_.find(ino);
  return it == files_.end() ? nullptr : it->second;
}

std::shared_ptr<Vfs::FileState> Vfs::AcquireFile(Ino ino, const Attr& attr) {
  std::shared_ptr<FileState> f;
  {
    std::lock_guard lock(files_mu_);
    auto& slot = files_[ino];
    if (!slot) slot = std::make_shared<FileState>();
    f = slot;
    f->refs++;
  }
  std::lock_guard lock(f->mu);
  if (f->writers.empty()) {
    // Close-to-open: what another client closed is visible on this open.
    f->length = attr.length;
    f->chunks.clear();
  }
  return f;
}

void Vfs::ReleaseFile(Ino ino) {
  std::lock_guard lock(files_mu_);
  auto it = files_.find(ino);
  if (it != files_.end() && --it->second->refs == 0) files_.erase(it);
}

Status Vfs::CommitChunkLocked(Ino ino, FileState& f, uint32_t index) {
  auto node = f.writers.extract(index);
  if (node.empty()) return {};
  auto& sessions = node.mapped();
  f.pending_slices -= sessions.size();
  // Small sessions still wholly in memory (random writes) are packed into one
  // slice, each becoming a record that names its piece: one upload for all
  // of them instead of one each.
  struct Packed {
    uint32_t pos = 0, off = 0, len = 0;
  };
  std::vector<std::optional<Packed>> packed_as(sessions.size());
  std::unique_ptr<chunk::SliceWriter> packed;
  const size_t pack_limit = layout_.block_size / 4;
  auto packable = [&](const chunk::SliceWriter& w) {
    return w.InMemory() && w.length() > 0 && w.length() <= pack_limit;
  };
  Status s;
  if (std::count_if(sessions.begin(), sessions.end(), [&](auto& w) { return packable(*w); }) > 1) {
    if (auto id = meta_->NewSliceId(); id.has_value()) {
      packed = std::make_unique<chunk::SliceWriter>(*store_, layout_, *id, 0, uploads_.get(),
                                                    options_.max_uploads, &buffer_);
      for (size_t i = 0; i < sessions.size() && s.ok(); ++i) {
        // A slice lives in one chunk: what does not fit stays its own slice.
        if (!packable(*sessions[i]) ||
            uint64_t{packed->length()} + sessions[i]->length() > kChunkSize) {
          continue;
        }
        Packed p{sessions[i]->pos(), packed->length(), sessions[i]->length()};
        s = packed->Write(p.off, sessions[i]->Bytes());
        packed_as[i] = p;
        sessions[i].reset();  // its buffer goes back now
      }
    }
  }
  // Every session's last block starts uploading before any is waited for.
  if (packed) (void)packed->Seal();
  for (auto& w : sessions) {
    if (w) (void)w->Seal();
  }
  std::optional<Slice> whole;
  if (packed && s.ok()) {
    auto r = packed->Finish();
    if (r.has_value()) whole = *r;
    else s = r.error();
  }
  std::vector<Slice> slices;
  slices.reserve(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    if (packed_as[i]) {
      if (whole) {
        slices.push_back(Slice{.pos = packed_as[i]->pos, .id = whole->id, .size = whole->size,
                               .off = packed_as[i]->off, .len = packed_as[i]->len});
      }
      continue;
    }
    auto slice = sessions[i]->Finish();
    if (!slice.has_value()) {
      if (s.ok()) s = slice.error();
    } else if (slice->len > 0) {
      slices.push_back(*slice);
    }
  }
  if (s.ok() && !slices.empty()) {
    uint32_t records = 0;
    s = meta_->WriteSlices(ino, index, slices, SystemClock().Now(), &records);
    auto cached = f.chunks.find(index);
    if (s.ok() && cached != f.chunks.end()) {
      std::vector<Slice> records = cached->second->records;
      records.insert(records.end(), slices.begin(), slices.end());
      cached->second = std::make_shared<const CachedChunk>(std::move(records));
    }
    if (s.ok() && options_.compact_threshold > 0 && records > options_.compact_threshold) {
      DeferCompaction(ino, index, records);
    }
  }
  if (s.ok()) return s;
  TLOG(kError) << "inode " << ino << " chunk " << index
               << ": write could not be committed: " << s.ToString();
  f.chunks.erase(index);
  return Status(Code::kIO, s.message());
}

Status Vfs::CommitLocked(Ino ino, FileState& f) {
  Status first;
  while (!f.writers.empty()) {
    Status s = CommitChunkLocked(ino, f, f.writers.begin()->first);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

chunk::SliceWriter* Vfs::WritableLocked(FileState& f, uint32_t index, uint32_t in_chunk,
                                        size_t n) {
  auto it = f.writers.find(index);
  if (it == f.writers.end()) return nullptr;
  const uint64_t begin = in_chunk, end = begin + n;
  for (auto w = it->second.rbegin(); w != it->second.rend(); ++w) {
    if ((*w)->CanWrite(in_chunk, n)) return w->get();
    const uint64_t wb = (*w)->pos(), we = wb + (*w)->length();
    if (begin < we && wb < end) return nullptr;  // a newer session must win here
  }
  return nullptr;
}

Result<std::shared_ptr<const Vfs::CachedChunk>> Vfs::ChunkLocked(Ino ino, FileState& f,
                                                                 uint32_t index) {
  auto it = f.chunks.find(index);
  if (it == f.chunks.end()) {
    ASSIGN_OR_RETURN(auto slices, meta_->ReadChunk(ino, index));
    // Left fragmented by another mount, or by one that stopped before its
    // compaction ran: every read would pay for it.
    if (options_.compact_threshold > 0 && slices.size() > options_.compact_threshold) {
      ScheduleCompaction(ino, index);
    }
    it = f.chunks.emplace(index, std::make_shared<const CachedChunk>(std::move(slices))).first;
  }
  return it->second;
}

Result<std::pair<Entry, uint64_t>> Vfs::Create(const Context& ctx, Ino parent,
                                               const std::string& name, uint32_t mode,
                                               int flags) {
  auto made = meta_->Mknod(ctx, parent, name, S_IFREG | (mode & 07777), 0);
  Entry entry;
  if (made.has_value()) {
    entry = *made;
    // The creator may open what it created whatever the new mode says.
    ASSIGN_OR_RETURN(entry.attr, meta_->Open(Context{}, entry.ino, flags & ~O_TRUNC));
  } else if (made.error().code() == Code::kExists && !(flags & O_EXCL)) {
    ASSIGN_OR_RETURN(entry, meta_->Lookup(ctx, parent, name));
    if (entry.attr.IsDir()) return Err(Code::kIsDir, name + " is a directory");
    ASSIGN_OR_RETURN(uint64_t fh, Open(ctx, entry.ino, flags));
    ASSIGN_OR_RETURN(entry.attr, GetAttr(entry.ino));
    return std::make_pair(entry, fh);
  } else {
    return Err(made.error());
  }
  auto h = std::make_shared<Handle>();
  h->ino = entry.ino;
  h->flags = flags;
  h->readahead = NewReadahead();
  h->attr = entry.attr;
  h->atime_done = true;  // just created: atime is now
  h->file = AcquireFile(entry.ino, entry.attr);
  return std::make_pair(entry, AddHandle(std::move(h)));
}

Result<uint64_t> Vfs::Open(const Context& ctx, Ino ino, int flags) {
  ASSIGN_OR_RETURN(Attr attr, meta_->Open(ctx, ino, flags));
  auto h = std::make_shared<Handle>();
  h->ino = ino;
  h->flags = flags;
  h->readahead = NewReadahead();
  if (attr.IsFile()) {
    // Linux truncates on O_TRUNC even with O_RDONLY (meta checked write access).
    if (flags & O_TRUNC) {
      Status s;
      if (auto f = FindFile(ino)) {
        std::lock_guard lock(f->mu);
        s = CommitLocked(ino, *f);
      }
      auto truncated = s.ok() ? meta_->Truncate(ctx, ino, 0) : Result<Attr>(Err(s));
      if (!truncated.has_value()) {
        (void)meta_->Close(ino);
        return Err(truncated.error());
      }
      attr = *truncated;
      Kick();
    }
    h->file = AcquireFile(ino, attr);
  }
  h->attr = attr;
  h->atime_done = (flags & O_NOATIME) != 0;
  return AddHandle(std::move(h));
}

Readahead Vfs::NewReadahead() const {
  return Readahead(layout_.block_size, uint64_t{options_.max_readahead_blocks} * layout_.block_size,
                   options_.readahead_ratio);
}

namespace {

// Calls fn(index, in_chunk, len) for the piece of each chunk that file bytes
// [from, to) cover, in order, until fn returns false.
template <typename F>
void ForEachChunkPiece(uint64_t from, uint64_t to, F&& fn) {
  for (uint64_t pos = from; pos < to;) {
    const uint32_t index = static_cast<uint32_t>(pos / kChunkSize);
    const uint32_t in_chunk = static_cast<uint32_t>(pos % kChunkSize);
    const uint64_t len = std::min<uint64_t>(to - pos, kChunkSize - in_chunk);
    if (!fn(index, in_chunk, len)) return;
    pos += len;
  }
}

}  // namespace

// Starts background fetches of the blocks of [from, from + window) that the
// cache lacks, across chunk boundaries, so that a sequential reader finds the
// next chunk's first blocks already on their way. Failures are left to the
// read that needs the data.
void Vfs::ReadAheadLocked(Ino ino, FileState& f, uint64_t from, uint64_t window) {
  ForEachChunkPiece(from, std::min(f.length, from + window),
                    [&](uint32_t index, uint32_t in_chunk, uint64_t len) {
                      auto cached = ChunkLocked(ino, f, index);
                      if (!cached.has_value()) return false;
                      reader_.Prefetch((*cached)->view, in_chunk, len, *downloads_);
                      return true;
                    });
}

// Demotes the blocks of [from, to) in the block cache: a sequential stream
// of the handle has read past them. Only chunks whose records are cached
// (the stream read them) are looked at.
void Vfs::PassedLocked(FileState& f, uint64_t from, uint64_t to) {
  ForEachChunkPiece(from, to, [&](uint32_t index, uint32_t in_chunk, uint64_t len) {
    if (auto it = f.chunks.find(index); it != f.chunks.end()) {
      reader_.Passed(it->second->view, in_chunk, len);
    }
    return true;
  });
}

Result<size_t> Vfs::Read(uint64_t fh, uint64_t offset, size_t size, char* out) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return Err(Code::kIsDir, "not a regular file");
  FileState& f = *h->file;
  uint64_t window = 0;
  Readahead::Range passed;
  {
    std::lock_guard lock(h->mu);
    window = h->readahead.OnRead(offset, size);
    passed = h->readahead.passed();
    if (!h->atime_done) {
      h->atime_done = true;
      TouchAtimeLocked(*h);
    }
  }
  size_t done = 0;
  while (done < size) {
    uint64_t pos = offset + done;
    uint32_t index = static_cast<uint32_t>(pos / kChunkSize);
    uint32_t in_chunk = static_cast<uint32_t>(pos % kChunkSize);
    std::shared_ptr<const CachedChunk> chunk;
    size_t n;
    {
      std::lock_guard lock(f.mu);
      // A read sees this mount's own writes: commit them first.
      RETURN_IF_ERROR(CommitLocked(h->ino, f));
      if (pos >= f.length) break;
      n = std::min<uint64_t>({size - done, kChunkSize - in_chunk, f.length - pos});
      ASSIGN_OR_RETURN(chunk, ChunkLocked(h->ino, f, index));
      if (window > 0 && done == 0) ReadAheadLocked(h->ino, f, offset + size, window);
      if (!passed.empty() && done == 0) PassedLocked(f, passed.begin, passed.end);
    }
    // A read with no readahead behind it is random (or a stream's start):
    // it may take just its bytes from the disk cache.
    Status s = reader_.Read(chunk->view, in_chunk, n, out + done, window == 0);
    if (s.code() == Code::kIO || s.code() == Code::kNotFound) {
      // The cached records may name slices that a compaction (here or on
      // another mount) has replaced and freed since: read them again, and
      // retry once if they changed.
      std::shared_ptr<const CachedChunk> fresh;
      {
        std::lock_guard lock(f.mu);
        f.chunks.erase(index);
        ASSIGN_OR_RETURN(fresh, ChunkLocked(h->ino, f, index));
      }
      if (fresh->records != chunk->records) {
        TLOG(kDebug) << "inode " << h->ino << " chunk " << index
                     << " changed under a read; retrying: " << s.ToString();
        s = reader_.Read(fresh->view, in_chunk, n, out + done);
      }
    }
    if (s.code() == Code::kNotFound) {
      s = WaitForMissingBlock(h->ino, chunk->records, in_chunk, n, out + done, s);
    }
    if (!s.ok()) {
      TLOG(kError) << "read of inode " << h->ino << " at " << pos << " failed: " << s.ToString();
      return Err(Code::kIO, s.message());
    }
    done += n;
  }
  return done;
}

// A block named by committed records and absent from the store is, on a
// healthy volume, one that a --writeback mount elsewhere has committed and
// not uploaded yet: read again, backing off, for up to missing_block_wait_s
// before giving up with the error.
Status Vfs::WaitForMissingBlock(Ino ino, const std::vector<Slice>& slices, uint32_t in_chunk,
                                size_t n, char* out, Status first) {
  if (options_.missing_block_wait_s <= 0) return first;
  TLOG(kWarn) << "inode " << ino << ": " << first.message() << "; waiting up to "
              << options_.missing_block_wait_s
              << " s for it (a --writeback mount may still be uploading it)";
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options_.missing_block_wait_s));
  auto pause = std::chrono::milliseconds(50);
  Status s = first;
  while (s.code() == Code::kNotFound && std::chrono::steady_clock::now() < deadline &&
         !Stopping()) {
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    s = reader_.Read(slices, in_chunk, n, out);
  }
  if (s.ok()) TLOG(kInfo) << "inode " << ino << ": the missing block arrived";
  return s;
}

Result<size_t> Vfs::Write(uint64_t fh, uint64_t offset, std::string_view data) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return Err(Code::kIsDir, "not a regular file");
  if ((h->flags & O_ACCMODE) == O_RDONLY) return Err(Code::kBadHandle, "file not open for writing");
  FileState& f = *h->file;
  std::lock_guard lock(f.mu);
  if (h->flags & O_APPEND) offset = f.length;
  if (offset + data.size() > (1ull << 57)) return Err(Code::kTooBig, "file too large");
  size_t done = 0;
  while (done < data.size()) {
    uint64_t pos = offset + done;
    uint32_t index = static_cast<uint32_t>(pos / kChunkSize);
    uint32_t in_chunk = static_cast<uint32_t>(pos % kChunkSize);
    size_t n = std::min<uint64_t>(data.size() - done, kChunkSize - in_chunk);
    chunk::SliceWriter* w = WritableLocked(f, index, in_chunk, n);
    if (w == nullptr) {
      auto sessions = f.writers.find(index);
      if (sessions != f.writers.end() && sessions->second.size() >= kMaxChunkSessions) {
        RETURN_IF_ERROR(CommitChunkLocked(h->ino, f, index));
      }
      if (f.pending_slices >= kMaxFileSessions) RETURN_IF_ERROR(CommitLocked(h->ino, f));
      ASSIGN_OR_RETURN(uint64_t id, meta_->NewSliceId());
      auto& list = f.writers[index];
      list.push_back(std::make_unique<chunk::SliceWriter>(
          *store_, layout_, id, in_chunk, uploads_.get(), options_.max_uploads, &buffer_));
      f.pending_slices++;
      w = list.back().get();
    }
    Status s = w->Write(in_chunk, data.substr(done, n));
    if (!s.ok()) {
      TLOG(kError) << "write of inode " << h->ino << " at " << pos << " failed: " << s.ToString();
      if (auto node = f.writers.extract(index); !node.empty()) {
        f.pending_slices -= node.mapped().size();
      }
      return Err(Code::kIO, s.message());
    }
    done += n;
    f.length = std::max<uint64_t>(f.length, pos + n);
  }
  return done;
}

void Vfs::TouchAtimeLocked(Handle& h) {
  // The attributes seen at open decide whether a transaction is needed at
  // all; meta applies the rule again against the current ones.
  if (!meta::NeedsAtimeUpdate(h.attr, SystemClock().Now())) return;
  meta::SetAttrRequest req;
  req.mask = meta::kSetAtimeRead;
  auto r = meta_->SetAttr(Context{}, h.ino, req);
  if (r.has_value()) {
    h.attr = *r;
  } else {
    TLOG(kDebug) << "atime of inode " << h.ino << " not updated: " << r.error().ToString();
  }
}

Status Vfs::Flush(uint64_t fh) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return {};
  std::lock_guard lock(h->file->mu);
  return CommitLocked(h->ino, *h->file);
}

Status Vfs::Fsync(uint64_t fh) {
  // Blocks are durable when Put returns; the slices are committed by Flush;
  // Sync makes the commits themselves survive power loss.
  RETURN_IF_ERROR(Flush(fh));
  return meta_->Sync();
}

Status Vfs::Release(uint64_t fh) {
  std::shared_ptr<Handle> h;
  {
    std::lock_guard lock(handles_mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return Err(Code::kBadHandle, "unknown file handle");
    h = it->second;
    handles_.erase(it);
  }
  Status first;
  if (h->file) {
    // The handle's writes were committed by its Flush (at close); what a
    // release still finds belongs to the file's other handles, if it has
    // any, and is theirs to commit. The kernel sends a release after close
    // has returned, so it may fall between the two WRITEs into which the
    // kernel cuts a write that starts inside a page: committing there would
    // split that write into two slices. The last handle commits whatever is
    // left (writes that came after the flush, as from mmap).
    bool last;
    {
      std::lock_guard lock(files_mu_);
      last = h->file->refs <= 1;
    }
    if (last) {
      std::lock_guard lock(h->file->mu);
      first = CommitLocked(h->ino, *h->file);
    }
    ReleaseFile(h->ino);
    Status s = meta_->Close(h->ino);
    if (!s.ok() && first.ok()) first = s;
    Kick();
  }
  return first;
}

Result<uint64_t> Vfs::Lseek(uint64_t fh, uint64_t offset, int whence) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return Err(Code::kInvalid, "not a regular file");
  if (whence != SEEK_DATA && whence != SEEK_HOLE) return Err(Code::kInvalid, "lseek whence");
  FileState& f = *h->file;
  std::lock_guard lock(f.mu);
  RETURN_IF_ERROR(CommitLocked(h->ino, f));
  const uint64_t length = f.length;
  if (offset >= length) return Err(Code::kNoAddress, "offset at or past the end of the file");
  const uint32_t first = static_cast<uint32_t>(offset / kChunkSize);
  ASSIGN_OR_RETURN(auto indexes, meta_->ChunkIndexes(h->ino, first, 0));
  auto view_of = [&](uint32_t index) -> Result<std::vector<chunk::Segment>> {
    ASSIGN_OR_RETURN(auto cached, ChunkLocked(h->ino, f, index));
    return cached->view;
  };
  if (whence == SEEK_DATA) {
    for (uint32_t index : indexes) {
      const uint64_t base = uint64_t{index} * kChunkSize;
      if (base >= length) break;
      ASSIGN_OR_RETURN(auto view, view_of(index));
      for (const chunk::Segment& seg : view) {
        if (seg.id == 0 || base + seg.pos + seg.len <= offset) continue;
        uint64_t at = std::max<uint64_t>(base + seg.pos, offset);
        if (at >= length) break;
        return at;
      }
    }
    return Err(Code::kNoAddress, "no data past the offset");
  }
  uint64_t pos = offset;
  size_t next = 0;  // into indexes
  while (pos < length) {
    const uint32_t index = static_cast<uint32_t>(pos / kChunkSize);
    while (next < indexes.size() && indexes[next] < index) ++next;
    if (next == indexes.size() || indexes[next] != index) return pos;  // a chunk with no records
    ASSIGN_OR_RETURN(auto view, view_of(index));
    const uint64_t base = uint64_t{index} * kChunkSize;
    const uint32_t in_chunk = static_cast<uint32_t>(pos - base);
    auto seg = std::find_if(view.begin(), view.end(), [&](const chunk::Segment& s) {
      return s.pos <= in_chunk && in_chunk < s.pos + s.len;
    });
    if (seg == view.end() || seg->id == 0) return pos;
    pos = base + seg->pos + seg->len;
  }
  return length;
}

Result<uint64_t> Vfs::CopyFileRange(uint64_t fh_in, uint64_t off_in, uint64_t fh_out,
                                    uint64_t off_out, uint64_t len) {
  ASSIGN_OR_RETURN(auto in, GetHandle(fh_in));
  ASSIGN_OR_RETURN(auto out, GetHandle(fh_out));
  if (!in->file || !out->file) return Err(Code::kInvalid, "not a regular file");
  if ((out->flags & O_ACCMODE) == O_RDONLY || (out->flags & O_APPEND)) {
    return Err(Code::kBadHandle, "destination not open for writing at an offset");
  }
  len = std::min<uint64_t>(len, 1ull << 30);
  if (in->ino == out->ino && off_in < off_out + len && off_out < off_in + len) {
    return Err(Code::kInvalid, "overlapping ranges of one file");
  }
  // Both files' pending writes must be in meta before their records are.
  std::unique_lock<std::mutex> lock_in(in->file->mu, std::defer_lock);
  std::unique_lock<std::mutex> lock_out(out->file->mu, std::defer_lock);
  if (in->file == out->file) {
    lock_in.lock();
  } else {
    std::lock(lock_in, lock_out);
    RETURN_IF_ERROR(CommitLocked(out->ino, *out->file));
  }
  RETURN_IF_ERROR(CommitLocked(in->ino, *in->file));
  uint64_t done = 0;
  Status failed;
  while (done < len) {
    auto n = meta_->CopyRange(in->ino, off_in + done, out->ino, off_out + done, len - done);
    if (!n.has_value()) {
      failed = n.error();
      break;
    }
    if (*n == 0) break;
    done += *n;
  }
  if (done > 0) {
    out->file->length = std::max(out->file->length, off_out + done);
    out->file->chunks.clear();
  }
  if (done == 0 && !failed.ok()) return Err(failed);
  return done;
}

Status Vfs::Fallocate(const Context& ctx, uint64_t fh, int mode, uint64_t offset,
                      uint64_t length) {
  ASSIGN_OR_RETURN(auto h, GetHandle(fh));
  if (!h->file) return Err(Code::kIsDir, "not a regular file");
  std::lock_guard lock(h->file->mu);
  RETURN_IF_ERROR(CommitLocked(h->ino, *h->file));
  RETURN_IF_ERROR(meta_->Fallocate(ctx, h->ino, mode, offset, length));
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(h->ino));
  h->file->length = attr.length;
  h->file->chunks.clear();
  return {};
}

}  // namespace tessera::vfs
