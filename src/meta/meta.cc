// MetaImpl: runs the operations of ops_*.cc in transactions and keeps the
// per-client state that does not belong in the engine: the session id, the
// open-file counts, and the batches of inode numbers and slice ids.
//
// Lock order: mu_ (state) and id_mu_ (id batches) are never held together,
// and neither is held while a transaction that calls back into them runs
// (is_open takes mu_ from inside a transaction, so mu_ is never held while
// starting one). The SliceFreer is called after the transaction commits.
#include <fcntl.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>

#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

constexpr uint64_t kInodeBatch = 1024;
constexpr uint64_t kSliceBatch = 4096;
constexpr uint64_t kUnlimitedSpace = 1ull << 50;   // 1 PiB reported when no capacity is set
constexpr uint64_t kUnlimitedInodes = 10ull << 20;  // free inodes reported without a quota

std::string LE64(uint64_t v) {
  std::string s;
  PutLE64(&s, v);
  return s;
}

std::string SessionToJson(const SessionInfo& s) {
  nlohmann::json j = {{"id", s.id},           {"host", s.host},
                      {"pid", s.pid},         {"mountpoint", s.mountpoint},
                      {"version", s.version}, {"start_time", s.start_time},
                      {"heartbeat", s.heartbeat}};
  return j.dump();
}

Result<SessionInfo> SessionFromJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Err(Code::kCorrupt, "session: bad JSON");
  SessionInfo s;
  s.id = j.value("id", uint64_t{0});
  s.host = j.value("host", std::string());
  s.pid = j.value("pid", uint32_t{0});
  s.mountpoint = j.value("mountpoint", std::string());
  s.version = j.value("version", std::string());
  s.start_time = j.value("start_time", int64_t{0});
  s.heartbeat = j.value("heartbeat", int64_t{0});
  return s;
}

class MetaImpl final : public Meta {
 public:
  MetaImpl(std::unique_ptr<kv::Engine> engine, const Clock& clock)
      : engine_(std::move(engine)), clock_(clock) {}

  void SetSliceFreer(SliceFreer freer) override {
    std::lock_guard lock(mu_);
    freer_ = std::move(freer);
  }

  // --- Volume ---

  Status Format(const Settings& settings, bool force) override {
    uint32_t bs = settings.block_size;
    if (bs < (64u << 10) || bs > (16u << 20) || (bs & (bs - 1)) != 0) {
      return Status(Code::kInvalid, "block size must be a power of two from 64 KiB to 16 MiB");
    }
    if (force) RETURN_IF_ERROR(engine_->Reset());
    Timespec now = clock_.Now();
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(auto v, txn.Get(keys::kSetting));
      if (v) {
        std::string name = Settings::FromJson(*v).value_or(Settings{}).name;
        return Status(Code::kExists, "volume already formatted (name \"" + name +
                                         "\"); use --force to overwrite it");
      }
      RETURN_IF_ERROR(txn.Set(keys::kSetting, settings.ToJson()));
      Attr root;
      root.mode = S_IFDIR | 0777;
      root.atime = root.mtime = root.ctime = now;
      root.nlink = 2;
      root.parent = kRootIno;
      RETURN_IF_ERROR(StoreAttr(txn, kRootIno, root));
      RETURN_IF_ERROR(txn.Set(keys::Counter(keys::kNextInode), LE64(kRootIno + 1)));
      RETURN_IF_ERROR(txn.Set(keys::Counter(keys::kNextSlice), LE64(1)));
      RETURN_IF_ERROR(txn.Set(keys::Counter(keys::kUsedSpace), LE64(0)));
      return txn.Set(keys::Counter(keys::kTotalInodes), LE64(0));
    }));
    {
      std::lock_guard lock(id_mu_);
      next_ino_ = end_ino_ = 0;
      next_slice_ = end_slice_ = 0;
    }
    std::lock_guard lock(mu_);
    settings_ = settings;
    if (force) {
      open_.clear();
      sid_ = 0;
    }
    return Status::Ok();
  }

  Result<Settings> Load() override {
    std::optional<std::string> text;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(text, txn.Get(keys::kSetting));
      return Status::Ok();
    }, {.read_only = true}));
    if (!text) return Err(Code::kNotFound, "volume not formatted (no settings record)");
    ASSIGN_OR_RETURN(Settings s, Settings::FromJson(*text));
    if (s.format_version > kFormatVersion) {
      return Err(Code::kNotSupported, "volume format version " +
                                          std::to_string(s.format_version) +
                                          " is newer than this build supports (" +
                                          std::to_string(kFormatVersion) + ")");
    }
    std::lock_guard lock(mu_);
    settings_ = s;
    return s;
  }

  Result<FsStat> StatFs() override {
    int64_t space = 0, inodes = 0;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(auto values, txn.BatchGet({keys::Counter(keys::kUsedSpace),
                                                  keys::Counter(keys::kTotalInodes)}));
      space = values[0] && values[0]->size() == 8 ? GetLE64(values[0]->data()) : 0;
      inodes = values[1] && values[1]->size() == 8 ? GetLE64(values[1]->data()) : 0;
      return Status::Ok();
    }, {.read_only = true}));
    OpEnv env = Env();
    FsStat st;
    st.used_space = static_cast<uint64_t>(std::max<int64_t>(space, 0));
    st.used_inodes = static_cast<uint64_t>(std::max<int64_t>(inodes, 0));
    st.total_space = env.capacity ? env.capacity : kUnlimitedSpace;
    st.avail_space = st.total_space > st.used_space ? st.total_space - st.used_space : 0;
    if (env.max_inodes) {
      st.avail_inodes = env.max_inodes > st.used_inodes ? env.max_inodes - st.used_inodes : 0;
    } else {
      st.avail_inodes = kUnlimitedInodes;
    }
    return st;
  }

  // --- Sessions ---

  Result<uint64_t> NewSession(const SessionInfo& info) override {
    SessionInfo s = info;
    Timespec now = clock_.Now();
    if (s.start_time == 0) s.start_time = now.sec;
    s.heartbeat = now.sec;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(int64_t id, txn.Increment(keys::Counter(keys::kNextSession), 1));
      s.id = static_cast<uint64_t>(id);
      return txn.Set(keys::Session(s.id), SessionToJson(s));
    }));
    std::lock_guard lock(mu_);
    sid_ = s.id;
    return s.id;
  }

  Status Heartbeat() override {
    uint64_t sid = Sid();
    if (sid == 0) return Status(Code::kInvalid, "heartbeat without a session");
    int64_t now = clock_.Now().sec;
    return kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(auto v, txn.Get(keys::Session(sid)));
      if (!v) return Status(Code::kNotFound, "session " + std::to_string(sid) + " was removed");
      ASSIGN_OR_RETURN(SessionInfo s, SessionFromJson(*v));
      s.heartbeat = now;
      return txn.Set(keys::Session(sid), SessionToJson(s));
    });
  }

  Status CloseSession() override {
    OpEnv env = Env();
    RETURN_IF_ERROR(ReleaseSession(*engine_, env, env.sid));
    std::lock_guard lock(mu_);
    sid_ = 0;
    open_.clear();
    return Status::Ok();
  }

  Result<size_t> CleanStaleSessions(int64_t before) override {
    ASSIGN_OR_RETURN(auto sessions, ListSessions());
    OpEnv env = Env();
    size_t cleaned = 0;
    for (const SessionInfo& s : sessions) {
      if (s.id == env.sid || s.heartbeat >= before) continue;
      RETURN_IF_ERROR(ReleaseSession(*engine_, env, s.id));
      ++cleaned;
    }
    RETURN_IF_ERROR(DrainReleases());
    return cleaned;
  }

  Result<std::vector<SessionInfo>> ListSessions() override {
    std::vector<SessionInfo> out;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      out.clear();
      ASSIGN_OR_RETURN(auto kvs,
                       txn.Scan(keys::kSessionPrefix, kv::PrefixEnd(keys::kSessionPrefix)));
      for (auto& kv : kvs) {
        ASSIGN_OR_RETURN(SessionInfo s, SessionFromJson(kv.second));
        out.push_back(std::move(s));
      }
      return Status::Ok();
    }, {.read_only = true}));
    return out;
  }

  // --- Locks ---

  Status Flock(Ino ino, uint64_t owner, int type) override {
    uint64_t sid = Sid();
    return Run([&](kv::Txn& txn) { return DoFlock(txn, sid, ino, owner, type); });
  }

  Result<LockRange> GetLk(Ino ino, uint64_t owner, const LockRange& probe) override {
    uint64_t sid = Sid();
    return Read<LockRange>([&](kv::Txn& txn) { return DoGetLk(txn, sid, ino, owner, probe); });
  }

  Status SetLk(Ino ino, uint64_t owner, const LockRange& range) override {
    uint64_t sid = Sid();
    return Run([&](kv::Txn& txn) { return DoSetLk(txn, sid, ino, owner, range); });
  }

  // --- Namespace ---

  Result<Entry> Lookup(const Context& ctx, Ino parent, std::string_view name) override {
    return Read<Entry>([&](kv::Txn& txn) { return DoLookup(txn, ctx, parent, name); });
  }

  Result<Attr> GetAttr(Ino ino) override {
    return Read<Attr>([&](kv::Txn& txn) { return LoadAttr(txn, ino); });
  }

  Result<Attr> SetAttr(const Context& ctx, Ino ino, const SetAttrRequest& req) override {
    OpEnv env = Env();
    return Write<Attr>([&](kv::Txn& txn) { return DoSetAttr(txn, ctx, env, ino, req); });
  }

  Status Access(const Context& ctx, Ino ino, int mask) override {
    auto ok = Read<bool>([&](kv::Txn& txn) -> Result<bool> {
      ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
      RETURN_IF_ERROR(CheckAccess(txn, ctx, ino, attr, mask));
      return true;
    });
    return ok.has_value() ? Status::Ok() : ok.error();
  }

  Result<Entry> Mknod(const Context& ctx, Ino parent, std::string_view name, uint32_t mode,
                      uint32_t rdev) override {
    if (S_ISDIR(mode) || S_ISLNK(mode)) {
      return Err(Code::kInvalid, "mknod of a directory or symlink");
    }
    return Create(ctx, {.parent = parent, .name = name, .mode = mode, .rdev = rdev, .target = {}});
  }

  Result<Entry> Mkdir(const Context& ctx, Ino parent, std::string_view name,
                      uint32_t mode) override {
    return Create(ctx, {.parent = parent, .name = name, .mode = S_IFDIR | (mode & 07777), .rdev = 0,
                        .target = {}});
  }

  Result<Entry> Symlink(const Context& ctx, Ino parent, std::string_view name,
                        std::string_view target) override {
    return Create(ctx, {.parent = parent, .name = name, .mode = S_IFLNK | 0777, .target = target});
  }

  Result<std::string> ReadLink(Ino ino) override {
    return Read<std::string>([&](kv::Txn& txn) -> Result<std::string> {
      ASSIGN_OR_RETURN(Attr attr, LoadAttr(txn, ino));
      if (!attr.IsSymlink()) {
        return Err(Code::kInvalid, "inode " + std::to_string(ino) + " is not a symlink");
      }
      ASSIGN_OR_RETURN(auto v, txn.Get(keys::Symlink(ino)));
      if (!v) return Err(Code::kCorrupt, "symlink " + std::to_string(ino) + " has no target");
      return std::move(*v);
    });
  }

  Status Unlink(const Context& ctx, Ino parent, std::string_view name) override {
    OpEnv env = Env();
    bool sustained = false;
    Ino ino = 0;
    RETURN_IF_ERROR(Run([&](kv::Txn& txn) {
      return DoUnlink(txn, ctx, env, parent, name, &sustained, &ino);
    }));
    return AfterSustain(sustained, ino);
  }

  Status Rmdir(const Context& ctx, Ino parent, std::string_view name) override {
    OpEnv env = Env();
    return Run([&](kv::Txn& txn) { return DoRmdir(txn, ctx, env, parent, name); });
  }

  Status Rename(const Context& ctx, Ino parent, std::string_view name, Ino new_parent,
                std::string_view new_name, uint32_t flags) override {
    OpEnv env = Env();
    RenameResult result;
    RETURN_IF_ERROR(Run([&](kv::Txn& txn) {
      return DoRename(txn, ctx, env, parent, name, new_parent, new_name, flags, &result);
    }));
    return AfterSustain(result.sustained, result.replaced);
  }

  Result<Entry> Link(const Context& ctx, Ino ino, Ino new_parent,
                     std::string_view new_name) override {
    OpEnv env = Env();
    return Write<Entry>(
        [&](kv::Txn& txn) { return DoLink(txn, ctx, env, ino, new_parent, new_name); });
  }

  Result<std::vector<DirEntry>> ReadDir(const Context& ctx, Ino dir, bool with_attr,
                                        std::string_view start_after, size_t limit) override {
    return Read<std::vector<DirEntry>>([&](kv::Txn& txn) {
      return DoReadDir(txn, ctx, dir, with_attr, start_after, limit);
    });
  }

  // --- Extended attributes ---

  Result<std::string> GetXattr(const Context& ctx, Ino ino, std::string_view name) override {
    return Read<std::string>([&](kv::Txn& txn) { return DoGetXattr(txn, ctx, ino, name); });
  }

  Status SetXattr(const Context& ctx, Ino ino, std::string_view name, std::string_view value,
                  int flags) override {
    OpEnv env = Env();
    return Run([&](kv::Txn& txn) { return DoSetXattr(txn, ctx, env, ino, name, value, flags); });
  }

  Result<std::vector<std::string>> ListXattr(const Context& ctx, Ino ino) override {
    return Read<std::vector<std::string>>(
        [&](kv::Txn& txn) { return DoListXattr(txn, ctx, ino); });
  }

  Status RemoveXattr(const Context& ctx, Ino ino, std::string_view name) override {
    OpEnv env = Env();
    return Run([&](kv::Txn& txn) { return DoRemoveXattr(txn, ctx, env, ino, name); });
  }

  // --- Files ---

  Result<Attr> Open(const Context& ctx, Ino ino, int flags) override {
    int mask = 0;
    switch (flags & O_ACCMODE) {
      case O_RDONLY: mask = R_OK; break;
      case O_WRONLY: mask = W_OK; break;
      default: mask = R_OK | W_OK; break;
    }
    if (flags & O_TRUNC) mask |= W_OK;
    ASSIGN_OR_RETURN(Attr attr, Read<Attr>([&](kv::Txn& txn) -> Result<Attr> {
      ASSIGN_OR_RETURN(Attr a, LoadAttr(txn, ino));
      if (a.IsDir() && (mask & W_OK)) {
        return Err(Code::kIsDir, "inode " + std::to_string(ino) + " is a directory");
      }
      RETURN_IF_ERROR(CheckAccess(txn, ctx, ino, a, mask));
      return a;
    }));
    std::lock_guard lock(mu_);
    ++open_[ino];
    return attr;
  }

  Status Close(Ino ino) override {
    {
      std::lock_guard lock(mu_);
      auto it = open_.find(ino);
      if (it == open_.end()) {
        return Status(Code::kBadHandle, "inode " + std::to_string(ino) + " is not open");
      }
      if (--it->second > 0) return Status::Ok();
      open_.erase(it);
    }
    return Release(ino);
  }

  Result<Attr> Truncate(const Context& ctx, Ino ino, uint64_t length) override {
    OpEnv env = Env();
    std::vector<Slice> freed;
    ASSIGN_OR_RETURN(Attr attr, Write<Attr>([&](kv::Txn& txn) {
      return DoTruncate(txn, ctx, env, ino, length, &freed);
    }));
    Free(freed);
    return attr;
  }

  Status Fallocate(const Context& ctx, Ino ino, int mode, uint64_t offset,
                   uint64_t length) override {
    OpEnv env = Env();
    return Run(
        [&](kv::Txn& txn) { return DoFallocate(txn, ctx, env, ino, mode, offset, length); });
  }

  Result<uint64_t> NewSliceId() override {
    std::lock_guard lock(id_mu_);
    if (next_slice_ >= end_slice_) {
      ASSIGN_OR_RETURN(uint64_t end, IncrementCounter(keys::kNextSlice, kSliceBatch));
      next_slice_ = std::max<uint64_t>(end - kSliceBatch, 1);
      end_slice_ = end;
    }
    return next_slice_++;
  }

  Result<std::vector<Slice>> ReadChunk(Ino ino, uint32_t index) override {
    return Read<std::vector<Slice>>([&](kv::Txn& txn) { return DoReadChunk(txn, ino, index); });
  }

  Result<std::vector<uint32_t>> ChunkIndexes(Ino ino, uint32_t first, size_t limit) override {
    return Read<std::vector<uint32_t>>(
        [&](kv::Txn& txn) { return DoChunkIndexes(txn, ino, first, limit); });
  }

  Result<uint64_t> CopyRange(Ino src, uint64_t src_off, Ino dst, uint64_t dst_off,
                             uint64_t len) override {
    OpEnv env = Env();
    return Write<uint64_t>(
        [&](kv::Txn& txn) { return DoCopyRange(txn, env, src, src_off, dst, dst_off, len); });
  }

  Status WriteSlices(Ino ino, uint32_t index, std::span<const Slice> slices, Timespec mtime,
                     uint32_t* records) override {
    OpEnv env = Env();
    return Run([&](kv::Txn& txn) {
      return DoWriteSlices(txn, env, ino, index, slices, mtime, records);
    });
  }

  Status CompactChunk(Ino ino, uint32_t index, const std::vector<Slice>& old,
                      const Slice& compacted) override {
    if (old.empty()) return Status(Code::kInvalid, "compaction of no records");
    // The R key is named by a fresh id: the new slice's, else one of its own.
    uint64_t release_id = compacted.id;
    if (release_id == 0) {
      ASSIGN_OR_RETURN(release_id, NewSliceId());
    }
    RETURN_IF_ERROR(Run([&](kv::Txn& txn) {
      return DoCompactChunk(txn, ino, index, old, compacted, release_id);
    }));
    return ReleaseQueued(keys::Release(release_id));
  }

  // --- Background work ---

  Status Sync() override { return engine_->Sync(); }

  Result<uint64_t> CleanupDeletedFiles() override {
    ASSIGN_OR_RETURN(auto queue, KeysUnder(keys::kDelFilePrefix));
    uint64_t cleaned = 0;
    for (const std::string& key : queue) {
      auto parsed = keys::ParseDelFile(key);
      if (!parsed) continue;
      for (bool done = false; !done;) {
        std::vector<Slice> freed;
        RETURN_IF_ERROR(Run(
            [&](kv::Txn& txn) { return DoCleanupFile(txn, key, parsed->ino, &freed, &done); }));
        Free(freed);
      }
      ++cleaned;
    }
    RETURN_IF_ERROR(DrainReleases());
    return cleaned;
  }

  // --- Trash ---

  Result<uint64_t> PurgeTrash() override {
    ASSIGN_OR_RETURN(auto hours, ListTrash());
    OpEnv env = Env();
    int64_t keep = int64_t{std::max(env.trash_days, 0)} * 86400;
    uint64_t purged = 0;
    for (const DirEntry& hour : hours) {
      auto start = ParseTrashHour(hour.name);
      if (!start || *start + 3600 + keep > env.now.sec) continue;
      ASSIGN_OR_RETURN(auto entries, Entries(hour.ino));
      for (const std::string& entry : entries) {
        bool sustained = false;
        Ino ino = 0;
        RETURN_IF_ERROR(Run([&](kv::Txn& txn) {
          return DoPurgeEntry(txn, env, hour.ino, entry, &sustained, &ino);
        }));
        RETURN_IF_ERROR(AfterSustain(sustained, ino));
        if (ino != 0) ++purged;
      }
      RETURN_IF_ERROR(
          Run([&](kv::Txn& txn) { return DoRemoveHourDir(txn, env, hour.name, hour.ino); }));
    }
    return purged;
  }

  Result<std::vector<DirEntry>> ListTrash() override {
    return Read<std::vector<DirEntry>>([&](kv::Txn& txn) -> Result<std::vector<DirEntry>> {
      ASSIGN_OR_RETURN(auto v, txn.Get(keys::Attr(kTrashIno)));
      if (!v) return std::vector<DirEntry>();
      return DoReadDir(txn, Context{}, kTrashIno, /*with_attr=*/false, "", 0);
    });
  }

  Result<std::vector<RestoreOutcome>> RestoreTrash(std::string_view hour) override {
    auto entry =
        Read<Entry>([&](kv::Txn& txn) { return DoLookup(txn, Context{}, kTrashIno, hour); });
    if (!entry) {
      return Err(Code::kNotFound,
                 "no hour directory \"" + std::string(hour) + "\" in the trash");
    }
    ASSIGN_OR_RETURN(auto entries, Entries(entry->ino));
    OpEnv env = Env();
    std::vector<RestoreOutcome> out;
    for (const std::string& name : entries) {
      RestoreOutcome o;
      o.entry = name;
      if (auto parsed = ParseTrashEntry(name)) {
        o.path = std::to_string(parsed->parent) + "/" + parsed->name;
      }
      o.status = Run([&](kv::Txn& txn) { return DoRestoreEntry(txn, env, entry->ino, name); });
      out.push_back(std::move(o));
    }
    return out;
  }

 private:
  // The names in directory `dir`.
  Result<std::vector<std::string>> Entries(Ino dir) {
    ASSIGN_OR_RETURN(auto list, Read<std::vector<DirEntry>>([&](kv::Txn& txn) {
      return DoReadDir(txn, Context{}, dir, /*with_attr=*/false, "", 0);
    }));
    std::vector<std::string> names;
    for (DirEntry& e : list) names.push_back(std::move(e.name));
    return names;
  }

  OpEnv Env() {
    std::optional<Settings> settings;
    {
      std::lock_guard lock(mu_);
      settings = settings_;
    }
    if (!settings) {
      auto loaded = Load();  // volume quotas; harmless when not formatted yet
      if (loaded) settings = *loaded;
    }
    OpEnv env;
    env.now = clock_.Now();
    env.sid = Sid();
    if (settings) {
      env.capacity = settings->capacity;
      env.max_inodes = settings->inodes;
      env.trash_days = settings->trash_days;
    }
    env.is_open = [this](Ino ino) {
      std::lock_guard lock(mu_);
      return open_.contains(ino);
    };
    return env;
  }

  uint64_t Sid() {
    std::lock_guard lock(mu_);
    return sid_;
  }

  Status Run(const std::function<Status(kv::Txn&)>& fn) { return kv::RunTxn(*engine_, fn); }

  template <typename T, typename F>
  Result<T> Write(F&& fn, bool read_only = false) {
    std::optional<T> out;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      auto r = fn(txn);
      if (!r) return r.error();
      out = std::move(*r);
      return Status::Ok();
    }, {.read_only = read_only}));
    return std::move(*out);
  }

  template <typename T, typename F>
  Result<T> Read(F&& fn) {
    return Write<T>(std::forward<F>(fn), /*read_only=*/true);
  }

  // The keys under `prefix` (a queue: D, R), read in one transaction.
  Result<std::vector<std::string>> KeysUnder(std::string_view prefix) {
    return Read<std::vector<std::string>>([&](kv::Txn& txn) -> Result<std::vector<std::string>> {
      ASSIGN_OR_RETURN(auto kvs, txn.Scan(prefix, kv::PrefixEnd(prefix)));
      std::vector<std::string> out;
      out.reserve(kvs.size());
      for (auto& kv : kvs) out.push_back(std::move(kv.first));
      return out;
    });
  }

  Result<Entry> Create(const Context& ctx, const CreateRequest& req) {
    ASSIGN_OR_RETURN(Ino ino, NextInode());
    OpEnv env = Env();
    return Write<Entry>([&](kv::Txn& txn) { return DoCreate(txn, ctx, env, req, ino); });
  }

  Result<Ino> NextInode() {
    std::lock_guard lock(id_mu_);
    if (next_ino_ >= end_ino_) {
      ASSIGN_OR_RETURN(uint64_t end, IncrementCounter(keys::kNextInode, kInodeBatch));
      next_ino_ = std::max<uint64_t>(end - kInodeBatch, kRootIno + 1);
      end_ino_ = end;
    }
    return next_ino_++;
  }

  // Adds `n` to a counter in its own transaction; returns the new value.
  Result<uint64_t> IncrementCounter(std::string_view name, uint64_t n) {
    int64_t value = 0;
    RETURN_IF_ERROR(kv::RunTxn(*engine_, [&](kv::Txn& txn) -> Status {
      ASSIGN_OR_RETURN(value, txn.Increment(keys::Counter(name), static_cast<int64_t>(n)));
      return Status::Ok();
    }));
    return static_cast<uint64_t>(value);
  }

  // After an unlink or rename kept a file for an open handle: if the handle
  // was closed meanwhile, nobody else will release it.
  Status AfterSustain(bool sustained, Ino ino) {
    if (!sustained) return Status::Ok();
    {
      std::lock_guard lock(mu_);
      if (open_.contains(ino)) return Status::Ok();
    }
    return Release(ino);
  }

  // Destroys `ino` if it has no links left and is not open here.
  Status Release(Ino ino) {
    OpEnv env = Env();
    return Run([&](kv::Txn& txn) -> Status {
      if (env.IsOpen(ino)) return Status::Ok();
      return DoReleaseInode(txn, env, ino);
    });
  }

  // Drops the references queued on a compaction's R key, batch by batch.
  // Compactions whose client stopped before dropping every old reference.
  Status DrainReleases() {
    ASSIGN_OR_RETURN(auto releases, KeysUnder(keys::kReleasePrefix));
    for (const std::string& key : releases) RETURN_IF_ERROR(ReleaseQueued(key));
    return Status::Ok();
  }

  Status ReleaseQueued(const std::string& key) {
    for (bool done = false; !done;) {
      std::vector<Slice> freed;
      RETURN_IF_ERROR(Run([&](kv::Txn& txn) { return DoReleaseSlices(txn, key, &freed, &done); }));
      Free(freed);
    }
    return Status::Ok();
  }

  void Free(const std::vector<Slice>& slices) {
    if (slices.empty()) return;
    SliceFreer freer;
    {
      std::lock_guard lock(mu_);
      freer = freer_;
    }
    if (!freer) return;
    std::set<std::pair<uint64_t, uint32_t>> seen;
    for (const Slice& s : slices) {
      if (s.id != 0 && seen.emplace(s.id, s.size).second) freer(s.id, s.size);
    }
  }

  std::unique_ptr<kv::Engine> engine_;
  const Clock& clock_;

  std::mutex mu_;
  std::optional<Settings> settings_;       // GUARDED_BY(mu_)
  uint64_t sid_ = 0;                       // GUARDED_BY(mu_)
  std::unordered_map<Ino, uint32_t> open_;  // GUARDED_BY(mu_)
  SliceFreer freer_;                       // GUARDED_BY(mu_)

  std::mutex id_mu_;
  uint64_t next_ino_ = 0, end_ino_ = 0;      // GUARDED_BY(id_mu_)
  uint64_t next_slice_ = 0, end_slice_ = 0;  // GUARDED_BY(id_mu_)
};

}  // namespace

std::unique_ptr<Meta> NewMeta(std::unique_ptr<kv::Engine> engine, const Clock& clock) {
  return std::make_unique<MetaImpl>(std::move(engine), clock);
}

}  // namespace tessera::meta
