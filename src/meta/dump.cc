// Dump: scans the engine in pages and writes one JSON document, record by
// record (see dump.h for the design, docs/formats.md for the format).
//
// The engine's keys sort as A… (inodes) < C… (counters) < D… (deleted files)
// < K… (slice references) < S… (sessions) < setting, so one pass in key order
// writes "inodes", then "deleted" and "slice_refs"; counters are read again
// at the end so that they cover everything the pass saw.
#include "meta/dump.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "common/encoding.h"
#include "common/slice.h"
#include "meta/dump_json.h"
#include "meta/keys.h"
#include "meta/meta.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

using dump::AppendBytes;
using dump::AppendString;
using dump::Printable;

// An inode's chunks and entries are held back until its attribute arrives
// (so that "attr" comes first) up to this much; past it they are written as
// they come and "attr" follows them.
constexpr size_t kHoldKeys = 1000;
constexpr size_t kHoldBytes = 4 << 20;

Status KeyError(std::string_view key, std::string_view what) {
  return Status(Code::kCorrupt, "key '" + Printable(key) + "': " + std::string(what));
}

// The settings as they go into the dump: the stored JSON, with the fields
// that Settings::ToJson(redact) hides replaced by their redacted values
// unless secrets are kept. Unknown fields pass through.
Result<std::string> DumpedSettings(const std::string& stored, bool keep_secret) {
  ASSIGN_OR_RETURN(Settings settings, Settings::FromJson(stored));
  if (settings.format_version > kFormatVersion) {
    return Err(Code::kNotSupported,
               "volume format version " + std::to_string(settings.format_version) +
                   " is newer than this build can dump (" + std::to_string(kFormatVersion) + ")");
  }
  auto j = nlohmann::json::parse(stored);  // valid: FromJson parsed it
  if (!keep_secret) {
    for (const auto& [field, redacted] : dump::SecretFields(j)) {
      if (j.contains(field) && j[field] != "") j[field] = redacted;
    }
  }
  return j.dump();
}

// Writes the document. Add() takes the engine's keys in ascending order.
class DumpWriter {
 public:
  DumpWriter(std::ostream& out, DumpStats* stats) : out_(out), stats_(stats) {}

  void Begin(const std::string& settings_json) {
    buf_ = "{\"tessera_dump\": " + std::to_string(kDumpVersion) + ",\n\"setting\": ";
    buf_ += settings_json;
    buf_ += ",\n\"inodes\": [";
    section_ = Section::kInodes;
  }

  Status Add(std::string_view key, std::string_view value) {
    ++stats_->keys;
    switch (key.empty() ? '\0' : key[0]) {
      case 'A':
        return AddInodeKey(key, value);
      case 'C':
        return Status::Ok();  // counters: written by End()
      case 'D':
        return AddDeleted(key, value);
      case 'K':
        return AddSliceRef(key, value);
      case 'R':
        // References a compaction has still to drop (for a moment, or after a
        // crash until any client's cleanup): a loaded volume keeps them, so
        // the old blocks stay for gc to find, and no data is lost.
        return Status::Ok();
      default:
        break;
    }
    if (key.starts_with("SE") || key.starts_with("SS") || key.starts_with("SL")) {
      return Status::Ok();  // session state
    }
    if (key == keys::kSetting) return Status::Ok();  // written by Begin()
    return KeyError(key, "unknown to this build, which cannot dump it (upgrade tessera?)");
  }

  Status End(const std::vector<kv::KeyValue>& counters) {
    RETURN_IF_ERROR(FinishInode());
    Enter(Section::kCounters);
    buf_ += "\n\"counters\": {";
    bool first = true;
    for (const auto& [key, value] : counters) {
      std::string_view name = std::string_view(key).substr(1);
      if (value.size() != 8) return KeyError(key, "a counter must hold 8 bytes");
      if (!dump::IsUtf8(name)) return KeyError(key, "counter name is not UTF-8");
      buf_ += first ? "" : ", ";
      first = false;
      AppendString(&buf_, name);
      buf_ += ": " + std::to_string(static_cast<int64_t>(GetLE64(value.data())));
    }
    buf_ += "}\n}\n";
    return Flush();
  }

  // Writes what is buffered; kIO when the stream fails.
  Status Flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    buf_.clear();
    if (!out_) return Status(Code::kIO, "writing the dump failed");
    return Status::Ok();
  }

 private:
  enum class Section { kNone, kInodes, kDeleted, kSliceRefs, kCounters };

  // Moves on to `next`, closing the sections before it and opening those
  // after (empty ones included, so that every dump has every section).
  void Enter(Section next) {
    while (section_ < next) {
      buf_ += first_item_ ? "]" : "\n]";
      section_ = static_cast<Section>(static_cast<int>(section_) + 1);
      first_item_ = true;
      if (section_ == Section::kDeleted) buf_ += ",\n\"deleted\": [";
      if (section_ == Section::kSliceRefs) buf_ += ",\n\"slice_refs\": [";
      if (section_ == Section::kCounters) buf_ += ",";
    }
  }

  void NextItem() {
    buf_ += first_item_ ? "\n" : ",\n";
    first_item_ = false;
  }

  // --- inodes ---

  Status AddInodeKey(std::string_view key, std::string_view value) {
    if (key.size() < 10) return KeyError(key, "too short for an inode key");
    Ino ino = GetLE64(key.data() + 1);
    char kind = key[9];
    if (kind == 'F' || kind == 'L') return Status::Ok();  // lock tables
    if (kind != 'C' && kind != 'D' && kind != 'I' && kind != 'S' && kind != 'X') {
      return KeyError(key, std::string("inode key of unknown kind '") + Printable({&kind, 1}) +
                               "', which this build cannot dump (upgrade tessera?)");
    }
    if (ino == 0) return KeyError(key, "inode 0");
    if (!open_ || ino != ino_) {
      RETURN_IF_ERROR(FinishInode());
      StartInode(ino);
    }
    if (kind == 'I') {
      RETURN_IF_ERROR(Emit(kind, key, value));
      holding_ = false;
      return FlushHeld();
    }
    if (holding_ && held_.size() < kHoldKeys && held_bytes_ < kHoldBytes) {
      held_bytes_ += key.size() + value.size();
      held_.emplace_back(key, value);
      return Status::Ok();
    }
    holding_ = false;  // past the budget: "attr" will follow what is written now
    RETURN_IF_ERROR(FlushHeld());
    return Emit(kind, key, value);
  }

  void StartInode(Ino ino) {
    NextItem();
    buf_ += "{\"ino\": " + std::to_string(ino);
    open_ = true;
    ino_ = ino;
    holding_ = true;
    part_ = 0;
  }

  Status FinishInode() {
    if (!open_) return Status::Ok();
    RETURN_IF_ERROR(FlushHeld());
    ClosePart();
    buf_ += "}";
    open_ = false;
    return Status::Ok();
  }

  Status FlushHeld() {
    for (const auto& [k, v] : held_) RETURN_IF_ERROR(Emit(k[9], k, v));
    held_.clear();
    held_bytes_ = 0;
    return Status::Ok();
  }

  // Closes the list of chunks, entries or xattrs being written.
  void ClosePart() {
    if (part_ == 'C') buf_ += "}";
    if (part_ == 'D' || part_ == 'X') buf_ += "]";
    part_ = 0;
  }

  // Starts the next element of part `kind` (opening it when it is new).
  void PartItem(char kind) {
    if (part_ == kind) {
      buf_ += ",\n  ";
      return;
    }
    ClosePart();
    part_ = kind;
    if (kind == 'C') buf_ += ",\n \"chunks\": {\n  ";
    if (kind == 'D') buf_ += ",\n \"entries\": [\n  ";
    if (kind == 'X') buf_ += ",\n \"xattrs\": [\n  ";
  }

  Status Emit(char kind, std::string_view key, std::string_view value) {
    switch (kind) {
      case 'I': {
        // allocated (the last 8 bytes) is not dumped: load counts it again.
        if (value.size() != kAttrRecordSize && value.size() != kAttrRecordSizeNoAllocated) {
          return KeyError(key, "attribute record of " + std::to_string(value.size()) +
                                   " bytes; this build dumps " + std::to_string(kAttrRecordSize) +
                                   "-byte records (and " +
                                   std::to_string(kAttrRecordSizeNoAllocated) +
                                   "-byte older ones)");
        }
        ASSIGN_OR_RETURN(Attr attr, DecodeAttr(value));
        auto json = dump::AttrToJson(attr);
        if (!json) return KeyError(key, json.error().message());
        ClosePart();
        buf_ += ", \"attr\": " + *json;
        ++stats_->inodes;
        return Status::Ok();
      }
      case 'S':
        ClosePart();
        buf_ += ", \"symlink\": ";
        AppendBytes(&buf_, value);
        return Status::Ok();
      case 'C': {
        auto index = keys::ParseChunkIndex(key);
        if (!index) return KeyError(key, "malformed chunk key");
        bool whole = false;
        auto slices = DecodeSliceRecords(value, &whole);
        if (!whole) return KeyError(key, "chunk value is not a whole number of slice records");
        PartItem('C');
        buf_ += "\"" + std::to_string(*index) + "\": [";
        for (size_t i = 0; i < slices.size(); ++i) {
          const Slice& s = slices[i];
          buf_ += i == 0 ? "[" : ", [";
          buf_ += std::to_string(s.pos) + "," + std::to_string(s.id) + "," +
                  std::to_string(s.size) + "," + std::to_string(s.off) + "," +
                  std::to_string(s.len) + "]";
        }
        buf_ += "]";
        stats_->slices += slices.size();
        return Status::Ok();
      }
      case 'D': {
        std::string_view name = key.substr(10);
        auto entry = DecodeDentry(value);
        if (!entry) return KeyError(key, entry.error().message());
        const char* type = dump::TypeName(entry->TypeMode());
        if (type == nullptr) {
          return KeyError(key, "entry of unknown type " + std::to_string(entry->type));
        }
        PartItem('D');
        buf_ += "[";
        AppendBytes(&buf_, name);
        buf_ += ", " + std::to_string(entry->ino) + ", \"" + type + "\"]";
        ++stats_->entries;
        return Status::Ok();
      }
      case 'X':
        PartItem('X');
        buf_ += "[";
        AppendBytes(&buf_, key.substr(10));
        buf_ += ", \"" + dump::Base64Encode(value) + "\"]";
        ++stats_->xattrs;
        return Status::Ok();
    }
    return KeyError(key, "unexpected kind");
  }

  // --- deleted files and slice references ---

  Status AddDeleted(std::string_view key, std::string_view value) {
    auto del = keys::ParseDelFile(key);
    if (!del) return KeyError(key, "malformed deleted-file key");
    if (!value.empty()) return KeyError(key, "a deleted-file key must have an empty value");
    RETURN_IF_ERROR(FinishInode());
    Enter(Section::kDeleted);
    NextItem();
    buf_ += "[" + std::to_string(del->ino) + ", " + std::to_string(del->length) + "]";
    return Status::Ok();
  }

  Status AddSliceRef(std::string_view key, std::string_view value) {
    auto ref = keys::ParseSliceRef(key);
    if (!ref) return KeyError(key, "malformed slice reference key");
    if (value.size() != 8) return KeyError(key, "a slice reference count must hold 8 bytes");
    RETURN_IF_ERROR(FinishInode());
    Enter(Section::kSliceRefs);
    NextItem();
    buf_ += "[" + std::to_string(ref->id) + ", " + std::to_string(ref->size) + ", " +
            std::to_string(static_cast<int64_t>(GetLE64(value.data()))) + "]";
    return Status::Ok();
  }

  std::ostream& out_;
  DumpStats* stats_;
  std::string buf_;
  Section section_ = Section::kNone;
  bool first_item_ = true;
  // The inode being written.
  bool open_ = false;
  Ino ino_ = 0;
  bool holding_ = false;  // holding back keys until the attribute comes
  char part_ = 0;         // 'C', 'D', 'X' while its list is open
  std::vector<kv::KeyValue> held_;
  size_t held_bytes_ = 0;
};

// Keys in [begin, end) (end empty: no bound), at most `limit`, in one read-only transaction.
Result<std::vector<kv::KeyValue>> ReadPage(kv::Engine& engine, const std::string& begin,
                                           std::string_view end, size_t limit) {
  std::vector<kv::KeyValue> page;
  RETURN_IF_ERROR(kv::RunTxn(engine,
                             [&](kv::Txn& txn) -> Status {
                               ASSIGN_OR_RETURN(page, txn.Scan(begin, end, limit));
                               return Status::Ok();
                             },
                             {.read_only = true}));
  return page;
}

}  // namespace

Result<DumpStats> Dump(kv::Engine& engine, std::ostream& out, const DumpOptions& options,
                       Progress* progress) {
  size_t page_keys = std::max<size_t>(options.page_keys, 1);
  std::optional<std::string> stored;
  std::optional<std::string> total;
  RETURN_IF_ERROR(kv::RunTxn(engine,
                             [&](kv::Txn& txn) -> Status {
                               ASSIGN_OR_RETURN(stored, txn.Get(keys::kSetting));
                               ASSIGN_OR_RETURN(total, txn.Get(keys::Counter(keys::kTotalInodes)));
                               return Status::Ok();
                             },
                             {.read_only = true}));
  if (!stored) return Err(Code::kNotFound, "not a formatted volume (no settings key)");
  ASSIGN_OR_RETURN(std::string settings, DumpedSettings(*stored, options.keep_secret_key));

  DumpStats stats;
  if (total && total->size() == 8) stats.total_inodes = GetLE64(total->data()) + 1;  // + root
  DumpWriter writer(out, &stats);
  writer.Begin(settings);
  std::string begin;
  while (true) {
    ASSIGN_OR_RETURN(auto page, ReadPage(engine, begin, "", page_keys));
    for (const auto& [key, value] : page) RETURN_IF_ERROR(writer.Add(key, value));
    RETURN_IF_ERROR(writer.Flush());
    if (progress) progress->Update(stats);
    if (page.size() < page_keys) break;
    begin = page.back().first;
    begin.push_back('\0');  // the smallest key after the last one
  }
  std::string prefix = keys::Counter("");
  std::vector<kv::KeyValue> counters;
  for (std::string from = prefix;;) {
    ASSIGN_OR_RETURN(auto page, ReadPage(engine, from, kv::PrefixEnd(prefix), page_keys));
    for (auto& kv : page) counters.push_back(std::move(kv));
    if (page.size() < page_keys) break;
    from = counters.back().first + '\0';
  }
  RETURN_IF_ERROR(writer.End(counters));
  out.flush();
  if (!out) return Err(Code::kIO, "writing the dump failed");
  return stats;
}

}  // namespace tessera::meta
