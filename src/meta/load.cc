// Load: reads a dump with nlohmann::json's SAX interface and writes its keys
// in small transactions (see dump.h for the design, docs/formats.md for the
// format).
//
// The parser reports events; the Loader keeps a stack of the containers it
// walks through without materialising them (the document, "inodes", one
// inode, its "chunks"/"entries"/"xattrs", the other sections) and builds
// only the values at record positions (the version, the settings, an
// inode's "ino"/"attr"/"symlink", one chunk, one entry, one xattr, one
// counter, one deleted file, one slice reference) as nlohmann::json, which
// it checks, turns into a key and value, and queues for the next batch.
//
// A file's attr.allocated is not in the dump: it is counted from the chunks
// loaded with it (the same count meta keeps, see allocated.cc), so the attr
// key is written when the inode's record ends. Chunks come after "attr" but
// for files with very many (see dump.cc's hold budget); when some came
// before it, the chunks are read back from the engine a page at a time once
// the length is known, so memory stays bounded.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/encoding.h"
#include "common/slice.h"
#include "meta/dump.h"
#include "meta/dump_json.h"
#include "meta/keys.h"
#include "meta/ops.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxRecordValues = 1 << 22;  // values inside one record (a chunk's slices)

Status Bad(std::string what) { return Status(Code::kCorrupt, std::move(what)); }

std::string LE64(uint64_t v) {
  std::string s;
  PutLE64(&s, v);
  return s;
}

// Where the parser is, in the containers that are walked, not built.
enum class Frame {
  kTop,
  kInodes,
  kInode,
  kChunks,
  kEntries,
  kXattrs,
  kCounters,
  kDeleted,
  kSliceRefs
};

// What the value after a key (or the next element) is.
enum class Slot { kRecord, kTopObject, kInodeObject, kArrayFrame, kObjectFrame };

class Loader final : public nlohmann::json_sax<Json> {
 public:
  Loader(kv::Engine& engine, std::istream& in, const LoadOptions& options, Progress* progress,
         LoadReport* report)
      : engine_(engine), in_(in), options_(options), progress_(progress), report_(report) {}

  const Status& status() const { return status_; }
  uint64_t written() const { return written_; }

  // After the parser accepted the whole input: checks what needs all of it,
  // writes the last batch and then the settings.
  Status Finish() {
    if (!done_) return Status(Code::kInvalid, "the dump ends early (truncated?)");
    for (const char* section : {"inodes", "deleted", "slice_refs", "counters"}) {
      if (!sections_.contains(section)) {
        return Bad(std::string("the dump has no \"") + section + "\" section");
      }
    }
    if (next_inode_ <= max_ino_) {
      return Bad("counter nextInode (" + std::to_string(next_inode_) +
                 ") must exceed every inode number in the dump (up to " + std::to_string(max_ino_) +
                 ")");
    }
    if (max_slice_ != 0 && next_slice_ <= max_slice_) {
      return Bad("counter nextSlice (" + std::to_string(next_slice_) +
                 ") must exceed every slice id in the dump (up to " + std::to_string(max_slice_) +
                 ")");
    }
    RETURN_IF_ERROR(Flush());
    RETURN_IF_ERROR(
        kv::RunTxn(engine_, [&](kv::Txn& txn) { return txn.Set(keys::kSetting, settings_); }));
    ++written_;
    ++report_->stats.keys;
    if (progress_) progress_->Update(report_->stats);
    return Status::Ok();
  }

  // --- SAX events ---

  bool null() override { return Value(Json(nullptr)); }
  bool boolean(bool v) override { return Value(Json(v)); }
  bool number_integer(number_integer_t v) override { return Value(Json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Value(Json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Value(Json(v)); }
  bool string(string_t& v) override { return Value(Json(std::move(v))); }
  bool binary(binary_t&) override { return Fail(Bad("binary values are not JSON")); }

  bool start_object(std::size_t) override { return Start(/*object=*/true); }
  bool start_array(std::size_t) override { return Start(/*object=*/false); }

  bool key(string_t& k) override {
    if (!built_.empty()) {
      build_key_ = std::move(k);
      return true;
    }
    if (frames_.back() == Frame::kTop) return TopKey(std::move(k));
    if (frames_.back() == Frame::kInode) return InodeKey(std::move(k));
    key_ = std::move(k);  // a chunk index or a counter name
    return true;
  }

  bool end_object() override { return End(); }
  bool end_array() override { return End(); }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // The parser stopped at the end of the input: whatever it expected
    // there, the dump was cut short.
    if (in_.eof()) {
      return Fail(Status(Code::kInvalid, position <= 1 ? "the dump is empty"
                                                       : "the dump ends early, after " +
                                                             std::to_string(position - 1) +
                                                             " bytes (truncated?)"));
    }
    std::string what = ex.what();
    size_t colon = what.find("] ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Fail(Status(Code::kInvalid, "not a tessera dump: invalid JSON at byte " +
                                           std::to_string(position) + ": " + what));
  }

 private:
  bool Fail(Status st) {
    if (status_.ok()) status_ = std::move(st);
    return false;
  }

  // --- walking the containers ---

  Slot SlotHere() const {
    if (frames_.empty()) return Slot::kTopObject;
    switch (frames_.back()) {
      case Frame::kTop:
        if (key_ == "tessera_dump" || key_ == "setting") return Slot::kRecord;
        return key_ == "counters" ? Slot::kObjectFrame : Slot::kArrayFrame;
      case Frame::kInodes:
        return Slot::kInodeObject;
      case Frame::kInode:
        if (key_ == "ino" || key_ == "attr" || key_ == "symlink") return Slot::kRecord;
        return key_ == "chunks" ? Slot::kObjectFrame : Slot::kArrayFrame;
      default:
        return Slot::kRecord;
    }
  }

  // The frame a section or inode field opens.
  Frame FrameFor(const std::string& k) const {
    if (k == "inodes") return Frame::kInodes;
    if (k == "deleted") return Frame::kDeleted;
    if (k == "slice_refs") return Frame::kSliceRefs;
    if (k == "counters") return Frame::kCounters;
    if (k == "chunks") return Frame::kChunks;
    if (k == "entries") return Frame::kEntries;
    return Frame::kXattrs;
  }

  bool Start(bool object) {
    if (frames_.size() + built_.size() >= kMaxDepth) return Fail(Bad("the dump nests too deeply"));
    if (!built_.empty()) return Build(object ? Json::object() : Json::array());
    switch (SlotHere()) {
      case Slot::kTopObject:
        if (!object) return Fail(Status(Code::kInvalid, "not a tessera dump (not a JSON object)"));
        frames_.push_back(Frame::kTop);
        return true;
      case Slot::kInodeObject:
        if (!object) return Fail(Bad("\"inodes\" must hold objects"));
        frames_.push_back(Frame::kInode);
        ino_ = 0;
        fields_.clear();
        attr_.reset();
        covered_ = 0;
        chunks_first_ = false;
        return true;
      case Slot::kArrayFrame:
      case Slot::kObjectFrame: {
        bool want_object = SlotHere() == Slot::kObjectFrame;
        if (object != want_object) {
          return Fail(Bad(Where() + "\"" + key_ + "\" must be " +
                          (want_object ? "an object" : "an array")));
        }
        frames_.push_back(FrameFor(key_));
        return true;
      }
      case Slot::kRecord:
        return Build(object ? Json::object() : Json::array());
    }
    return true;
  }

  bool End() {
    if (!built_.empty()) {
      built_.pop_back();
      if (built_.empty()) return Dispatch(std::move(record_));
      return true;
    }
    Frame frame = frames_.back();
    frames_.pop_back();
    if (frame == Frame::kTop) done_ = true;
    if (frame == Frame::kInode) {
      if (ino_ == 0) return Fail(Bad("an inode record has no \"ino\""));
      if (attr_) {
        Status st = PutAttr();
        if (!st.ok()) return Fail(std::move(st));
        attr_.reset();
      }
      ino_ = 0;
    }
    return true;
  }

  bool TopKey(std::string k) {
    if (header_ == 0 && k != "tessera_dump") {
      return Fail(
          Status(Code::kInvalid, "not a tessera dump (it does not start with \"tessera_dump\")"));
    }
    if (header_ == 1 && k != "setting") {
      return Fail(Status(Code::kInvalid, "the dump has no \"setting\" after its version"));
    }
    if (header_ == 2) {
      if (k != "inodes" && k != "deleted" && k != "slice_refs" && k != "counters") {
        return Fail(Bad("unknown section \"" + k + "\""));
      }
      if (!sections_.insert(k).second) return Fail(Bad("section \"" + k + "\" appears twice"));
    }
    key_ = std::move(k);
    return true;
  }

  bool InodeKey(std::string k) {
    if (ino_ == 0 && k != "ino") {
      return Fail(Bad("an inode record must start with \"ino\", not \"" + k + "\""));
    }
    if (k != "ino" && k != "attr" && k != "symlink" && k != "chunks" && k != "entries" &&
        k != "xattrs") {
      return Fail(Bad(Where() + "unknown field \"" + k + "\""));
    }
    if (!fields_.insert(k).second) return Fail(Bad(Where() + "\"" + k + "\" appears twice"));
    key_ = std::move(k);
    return true;
  }

  std::string Where() const {
    return ino_ == 0 ? std::string() : "inode " + std::to_string(ino_) + ": ";
  }

  // --- building one record ---

  bool Value(Json v) {
    if (built_.empty()) {
      if (frames_.empty())
        return Fail(Status(Code::kInvalid, "not a tessera dump (not an object)"));
      Slot slot = SlotHere();
      if (slot != Slot::kRecord) {
        return Fail(Bad(Where() + "\"" + key_ + "\" must be " +
                        (slot == Slot::kObjectFrame ? "an object" : "an array")));
      }
      record_values_ = 0;
      return Dispatch(std::move(v));
    }
    return Build(std::move(v));
  }

  // Adds a value to the record being built; containers become the new innermost.
  bool Build(Json v) {
    if (++record_values_ > kMaxRecordValues) return Fail(Bad(Where() + "a record is too large"));
    bool container = v.is_structured();
    if (built_.empty()) {
      record_values_ = 1;
      record_ = std::move(v);
      built_.push_back(&record_);
      return true;
    }
    Json* parent = built_.back();
    Json* slot = nullptr;
    if (parent->is_object()) {
      slot = &(*parent)[build_key_];
      *slot = std::move(v);
    } else {
      parent->push_back(std::move(v));
      slot = &parent->back();
    }
    if (container) built_.push_back(slot);
    return true;
  }

  // A whole record: check it and queue its key.
  bool Dispatch(Json j) {
    Status st = Record(frames_.back(), j);
    if (!st.ok()) return Fail(std::move(st));
    return true;
  }

  Status Record(Frame frame, const Json& j) {
    switch (frame) {
      case Frame::kTop:
        return key_ == "tessera_dump" ? Version(j) : Setting(j);
      case Frame::kInode:
        return InodeField(j);
      case Frame::kChunks:
        return Chunk(j);
      case Frame::kEntries:
        return Entry(j);
      case Frame::kXattrs:
        return Xattr(j);
      case Frame::kCounters:
        return Counter(j);
      case Frame::kDeleted:
        return Deleted(j);
      case Frame::kSliceRefs:
        return SliceRef(j);
      case Frame::kInodes:
        break;
    }
    return Bad("unexpected value");
  }

  Status Version(const Json& j) {
    if (!j.is_number_unsigned()) {
      return Status(Code::kInvalid, "not a tessera dump (\"tessera_dump\" is not a version)");
    }
    if (j.get<uint64_t>() != static_cast<uint64_t>(kDumpVersion)) {
      return Status(Code::kNotSupported, "dump format version " + j.dump() +
                                             " is not one this build reads (" +
                                             std::to_string(kDumpVersion) + ")");
    }
    header_ = 1;
    return Status::Ok();
  }

  Status Setting(const Json& j) {
    if (!j.is_object()) return Bad("\"setting\" must be an object");
    settings_ = j.dump();
    auto parsed = Settings::FromJson(settings_);
    if (!parsed) return Bad("\"setting\": " + parsed.error().message());
    if (parsed->format_version > kFormatVersion) {
      return Status(Code::kNotSupported, "the dumped volume has format version " +
                                             std::to_string(parsed->format_version) +
                                             ", newer than this build (" +
                                             std::to_string(kFormatVersion) + ")");
    }
    for (const auto& [field, redacted] : dump::SecretFields(j)) {
      if (j.contains(field) && j[field] == redacted) report_->redacted.push_back(field);
    }
    header_ = 2;
    return Status::Ok();
  }

  // Ordinary inode numbers must stay below nextInode; the trash's
  // (kTrashIno and up, numbered by nextTrash) are apart from them.
  void SeeInode(uint64_t ino) {
    if (ino < kTrashIno) max_ino_ = std::max(max_ino_, ino);
  }

  Status InodeField(const Json& j) {
    if (key_ == "ino") {
      if (!j.is_number_unsigned() || j.get<uint64_t>() == 0) {
        return Bad("\"ino\" must be a positive integer, not " + j.dump());
      }
      ino_ = j.get<uint64_t>();
      SeeInode(ino_);
      return Status::Ok();
    }
    if (key_ == "attr") {
      auto attr = dump::AttrFromJson(j);
      if (!attr) return Bad(Where() + attr.error().message());
      ++report_->stats.inodes;
      SeeInode(attr->parent);
      attr_ = *attr;  // written when the record ends, with its allocated bytes
      return Status::Ok();
    }
    auto target = dump::BytesFromJson(j, Where() + "symlink");
    if (!target) return target.error();
    if (target->empty() || target->size() > kMaxSymlink) {
      return Bad(Where() + "a symlink target must have 1 to " + std::to_string(kMaxSymlink) +
                 " bytes");
    }
    return Put(keys::Symlink(ino_), *target);
  }

  Status Chunk(const Json& j) {
    const std::string& k = key_;
    bool index_ok = !k.empty() && k.size() <= 10 && (k == "0" || k[0] != '0') &&
                    std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; });
    uint64_t index = index_ok ? std::stoull(k) : 0;
    if (!index_ok || index > UINT32_MAX) {
      return Bad(Where() + "chunk index \"" + k + "\" is not a 32-bit number");
    }
    std::string where = Where() + "chunk " + k + ": ";
    if (!j.is_array()) return Bad(where + "must be an array of slices");
    std::string value;
    std::vector<Slice> records;
    for (const Json& s : j) {
      if (!s.is_array() || s.size() != 5 ||
          !std::all_of(s.begin(), s.end(), [](const Json& v) { return v.is_number_unsigned(); })) {
        return Bad(where + "a slice must be [pos, id, size, off, len], not " + s.dump());
      }
      uint64_t f[5];
      for (size_t i = 0; i < 5; ++i) f[i] = s[i].get<uint64_t>();
      if (f[0] > UINT32_MAX || f[2] > UINT32_MAX || f[3] > UINT32_MAX || f[4] > UINT32_MAX ||
          f[0] + f[4] > kChunkSize || (f[1] != 0 && f[3] + f[4] > f[2])) {
        return Bad(where + "slice " + s.dump() + " does not fit its chunk or its slice");
      }
      Slice slice{.pos = static_cast<uint32_t>(f[0]),
                  .id = f[1],
                  .size = static_cast<uint32_t>(f[2]),
                  .off = static_cast<uint32_t>(f[3]),
                  .len = static_cast<uint32_t>(f[4])};
      AppendSliceRecord(&value, slice);
      records.push_back(slice);
      max_slice_ = std::max(max_slice_, slice.id);
      ++report_->stats.slices;
    }
    const auto chunk = static_cast<uint32_t>(index);
    if (attr_) {
      covered_ += ChunkCoverage(records, ChunkLimit(chunk, attr_->length));
    } else {
      chunks_first_ = true;
    }
    return Put(keys::Chunk(ino_, chunk), value);
  }

  Status Entry(const Json& j) {
    if (!j.is_array() || j.size() != 3 || !j[1].is_number_unsigned() || !j[2].is_string()) {
      return Bad(Where() + "an entry must be [name, inode, type], not " + j.dump());
    }
    ASSIGN_OR_RETURN(std::string name, dump::BytesFromJson(j[0], Where() + "an entry name"));
    Status name_ok = CheckName(name);
    if (!name_ok.ok()) return Bad(Where() + "entry " + j[0].dump() + ": " + name_ok.message());
    uint64_t child = j[1].get<uint64_t>();
    auto type = dump::TypeBits(j[2].get_ref<const std::string&>());
    if (child == 0 || !type) {
      return Bad(Where() + "entry " + j.dump() + " needs an inode > 0 and a known type");
    }
    SeeInode(child);
    ++report_->stats.entries;
    return Put(keys::Dentry(ino_, name), EncodeDentry(*type, child));
  }

  Status Xattr(const Json& j) {
    if (!j.is_array() || j.size() != 2 || !j[1].is_string()) {
      return Bad(Where() + "an xattr must be [name, base64 value], not " + j.dump());
    }
    ASSIGN_OR_RETURN(std::string name, dump::BytesFromJson(j[0], Where() + "an xattr name"));
    auto value = dump::Base64Decode(j[1].get_ref<const std::string&>());
    if (name.empty() || name.size() > kMaxXattrName || !value || value->size() > kMaxXattrValue) {
      return Bad(Where() + "xattr " + j[0].dump() + " needs a name of 1 to " +
                 std::to_string(kMaxXattrName) + " bytes and a base64 value of at most " +
                 std::to_string(kMaxXattrValue) + " bytes");
    }
    ++report_->stats.xattrs;
    return Put(keys::Xattr(ino_, name), *value);
  }

  Status Counter(const Json& j) {
    if (!j.is_number_integer()) return Bad("counter \"" + key_ + "\" must be an integer");
    uint64_t v =
        j.is_number_unsigned() ? j.get<uint64_t>() : static_cast<uint64_t>(j.get<int64_t>());
    if (key_ == keys::kNextInode) next_inode_ = v;
    if (key_ == keys::kNextSlice) next_slice_ = v;
    return Put(keys::Counter(key_), LE64(v));
  }

  Status Deleted(const Json& j) {
    if (!j.is_array() || j.size() != 2 || !j[0].is_number_unsigned() ||
        !j[1].is_number_unsigned() || j[0].get<uint64_t>() == 0) {
      return Bad("a deleted file must be [inode > 0, length], not " + j.dump());
    }
    SeeInode(j[0].get<uint64_t>());
    return Put(keys::DelFile(j[0].get<uint64_t>(), j[1].get<uint64_t>()), "");
  }

  Status SliceRef(const Json& j) {
    if (!j.is_array() || j.size() != 3 || !j[0].is_number_unsigned() ||
        !j[1].is_number_unsigned() || !j[2].is_number_integer() || j[0].get<uint64_t>() == 0 ||
        j[1].get<uint64_t>() > UINT32_MAX) {
      return Bad("a slice reference must be [id > 0, size, count], not " + j.dump());
    }
    uint64_t id = j[0].get<uint64_t>();
    uint64_t count = j[2].is_number_unsigned() ? j[2].get<uint64_t>()
                                               : static_cast<uint64_t>(j[2].get<int64_t>());
    max_slice_ = std::max(max_slice_, id);
    return Put(keys::SliceRef(id, static_cast<uint32_t>(j[1].get<uint64_t>())), LE64(count));
  }

  // --- writing ---

  // Writes the attribute of the inode whose record ends, a file's with the
  // bytes its chunks show.
  Status PutAttr() {
    if (attr_->IsFile()) {
      if (chunks_first_) {
        ASSIGN_OR_RETURN(covered_, CountLoadedChunks(attr_->length));
      }
      attr_->allocated = std::min(covered_, attr_->length);
    }
    return Put(keys::Attr(ino_), EncodeAttr(*attr_));
  }

  // The bytes the chunks of the current inode show under `length`, read back
  // from the engine (after writing the batch) a page at a time.
  Result<uint64_t> CountLoadedChunks(uint64_t length) {
    RETURN_IF_ERROR(Flush());
    constexpr size_t kPage = 1000;
    const std::string prefix = keys::ChunkPrefix(ino_);
    const std::string end = kv::PrefixEnd(prefix);
    std::string from = prefix;
    uint64_t n = 0;
    for (;;) {
      std::vector<kv::KeyValue> page;
      RETURN_IF_ERROR(kv::RunTxn(engine_,
                                 [&](kv::Txn& txn) -> Status {
                                   ASSIGN_OR_RETURN(page, txn.Scan(from, end, kPage));
                                   return Status::Ok();
                                 },
                                 {.read_only = true}));
      for (const auto& [key, value] : page) {
        auto index = keys::ParseChunkIndex(key);
        if (!index) return Err(Code::kCorrupt, "malformed chunk key");
        n += ChunkCoverage(DecodeSliceRecords(value), ChunkLimit(*index, length));
      }
      if (page.size() < kPage) return n;
      from = page.back().first + '\0';
    }
  }

  Status Put(std::string key, std::string value) {
    batch_.emplace_back(std::move(key), std::move(value));
    if (batch_.size() >= std::max<size_t>(options_.batch_keys, 1)) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    RETURN_IF_ERROR(kv::RunTxn(engine_, [&](kv::Txn& txn) -> Status {
      for (const auto& [k, v] : batch_) RETURN_IF_ERROR(txn.Set(k, v));
      return Status::Ok();
    }));
    written_ += batch_.size();
    report_->stats.keys += batch_.size();
    batch_.clear();
    if (progress_) progress_->Update(report_->stats);
    return Status::Ok();
  }

  kv::Engine& engine_;
  std::istream& in_;
  const LoadOptions& options_;
  Progress* progress_;
  LoadReport* report_;
  Status status_;

  std::vector<Frame> frames_;
  std::string key_;  // the last key of the innermost object
  int header_ = 0;   // 0: expect the version, 1: the settings, 2: sections
  std::set<std::string> sections_;
  bool done_ = false;             // the document's object has closed
  Ino ino_ = 0;                   // the inode record being read (0: before its "ino")
  std::set<std::string> fields_;  // of that record
  std::optional<Attr> attr_;      // its attribute, once read
  uint64_t covered_ = 0;          // bytes its chunks after the attribute show
  bool chunks_first_ = false;     // some of its chunks came before the attribute
  Json record_;                   // the record being built
  std::vector<Json*> built_;      // its open containers, innermost last
  std::string build_key_;         // the last key inside it
  size_t record_values_ = 0;

  std::string settings_;
  uint64_t max_ino_ = 0, max_slice_ = 0, next_inode_ = 0, next_slice_ = 0;
  std::vector<kv::KeyValue> batch_;
  uint64_t written_ = 0;
};

// Whether the engine holds any key.
Result<bool> HoldsKeys(kv::Engine& engine) {
  bool any = false;
  RETURN_IF_ERROR(kv::RunTxn(engine,
                             [&](kv::Txn& txn) -> Status {
                               ASSIGN_OR_RETURN(auto first, txn.Scan("", "", 1));
                               any = !first.empty();
                               return Status::Ok();
                             },
                             {.read_only = true}));
  return any;
}

}  // namespace

Result<LoadReport> Load(kv::Engine& engine, std::istream& in, const LoadOptions& options,
                        Progress* progress) {
  ASSIGN_OR_RETURN(bool holds_keys, HoldsKeys(engine));
  if (holds_keys) {
    return Err(Code::kExists,
               "the engine already holds data (a formatted volume or other "
               "keys); load needs an empty engine; nothing was written");
  }
  LoadReport report;
  Loader loader(engine, in, options, progress, &report);
  Status st;
  try {
    bool parsed = Json::sax_parse(in, &loader);
    st = parsed ? loader.Finish() : loader.status();
    if (!parsed && st.ok()) st = Status(Code::kInvalid, "the dump could not be parsed");
  } catch (const std::exception& e) {
    st = Status(Code::kInvalid, std::string("reading the dump failed: ") + e.what());
  }
  if (!st.ok()) {
    std::string msg = st.message();
    if (loader.written() == 0) {
      msg += "; nothing was written";
    } else {
      msg += "; " + std::to_string(loader.written()) +
             " keys were written before that: the engine now holds a partial load without "
             "settings, which is not a volume; remove it before loading again";
    }
    return Err(st.code(), msg);
  }
  return report;
}

}  // namespace tessera::meta
