// Dump and load: a namespace built through Meta survives dump + load into a
// fresh engine key for key; bad input fails without writing settings; secrets
// are redacted unless kept. Runs over every kv engine (the source side).
#include "meta/dump.h"

#include <fcntl.h>
#include <sys/xattr.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "meta/dump_json.h"
#include "meta/meta_test_util.h"
#include "meta/records.h"

namespace tessera::meta {
namespace {

using testing::MetaTest;

class DumpTest : public MetaTest {};
TESSERA_META_INSTANTIATE(DumpTest);

constexpr uint32_t kMiB = 1 << 20;

bool IsSessionKey(std::string_view key) {
  return key.starts_with("SE") || key.starts_with("SS") || key.starts_with("SL");
}

// Every key of `engine`, read in one transaction.
std::vector<kv::KeyValue> AllKeys(kv::Engine& engine) {
  std::vector<kv::KeyValue> out;
  Status st = kv::RunTxn(engine,
                         [&](kv::Txn& txn) -> Status {
                           ASSIGN_OR_RETURN(out, txn.Scan("", ""));
                           return Status::Ok();
                         },
                         {.read_only = true});
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::vector<kv::KeyValue> WithoutSessions(std::vector<kv::KeyValue> kvs) {
  std::erase_if(kvs, [](const kv::KeyValue& kv) { return IsSessionKey(kv.first); });
  return kvs;
}

std::string LE64(uint64_t v) {
  std::string s;
  PutLE64(&s, v);
  return s;
}

Result<DumpStats> DumpToString(kv::Engine& engine, std::string* text,
                               DumpOptions options = {.keep_secret_key = true}) {
  std::ostringstream out;
  auto stats = Dump(engine, out, options, nullptr);
  *text = out.str();
  return stats;
}

Result<LoadReport> LoadString(kv::Engine& engine, const std::string& text,
                              LoadOptions options = {}) {
  std::istringstream in(text);
  return Load(engine, in, options, nullptr);
}

SessionInfo Host() {
  SessionInfo s;
  s.host = "h";
  return s;
}

class CountingProgress final : public Progress {
 public:
  void Update(const DumpStats& stats) override {
    ++calls;
    last = stats;
  }
  int calls = 0;
  DumpStats last;
};

// The names that need care in JSON.
const std::string kBadUtf8Name = "bad\xff\xfe-name";
const std::string kQuotedName = "q\"uote\\back\nline\ttab\x01";

class DumpNamespaceTest : public DumpTest {
 protected:
  // Directories, files with several chunks and slices (overlapping, a hole, a
  // punched range), a symlink, a hard link, special files, xattrs with binary
  // values, awkward names, a shared slice, a pending deletion and a file that
  // is unlinked while open.
  void Build() {
    Ino dir = MkDir(kRootIno, "dir");
    MkDir(dir, "private", 0700);
    Ino file = MkFile(dir, "file", 0640);
    shared_ = Write(file, 0, 0, kMiB);
    Write(file, 0, 4096, 8192);  // overlaps the first slice
    Write(file, 2, 100, 5000);   // chunk 1 is a hole
    ASSERT_OK(meta_->Fallocate(root_, file, kFallocPunchHole | kFallocKeepSize, 16384, 4096));
    ASSERT_OK(meta_->Link(root_, file, kRootIno, "hard"));
    ASSERT_TRUE(meta_->Symlink(root_, dir, "link", "../hard").has_value());
    ASSERT_TRUE(meta_->Symlink(root_, dir, "odd-link", "target\xff").has_value());
    ASSERT_TRUE(meta_->Mknod(root_, dir, "fifo", S_IFIFO | 0600, 0).has_value());
    ASSERT_TRUE(meta_->Mknod(root_, dir, "tty", S_IFCHR | 0620, 0x0401).has_value());
    MkFile(dir, kBadUtf8Name);
    MkFile(dir, kQuotedName);
    MkFile(dir, "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93");  // valid UTF-8
    ASSERT_OK(meta_->SetXattr(root_, file, "user.bin", std::string("\0\x01\xff\xfe", 4), 0));
    ASSERT_OK(meta_->SetXattr(root_, file, "user.empty", "", 0));
    ASSERT_OK(meta_->SetXattr(root_, dir, "user.\xff", "x", 0));
    SetAttrRequest req;
    req.mask = kSetMode | kSetUid | kSetGid | kSetAtime | kSetMtime;
    req.mode = 04755;
    req.uid = 1000;
    req.gid = 100;
    req.atime = {.sec = -5, .nsec = 1};
    req.mtime = {.sec = 1700000000, .nsec = 999999999};
    ASSERT_TRUE(meta_->SetAttr(root_, file, req).has_value());

    // Another file shares the first slice; its reference count says so.
    Ino copy = MkFile(dir, "copy");
    ASSERT_OK(meta_->WriteSlice(
        copy, 0, {.pos = 0, .id = shared_, .size = kMiB, .off = 0, .len = kMiB}, clock_.Now()));
    RawSet(keys::SliceRef(shared_, kMiB), LE64(2));

    // A deleted file waiting for its data to be freed.
    Ino gone = MkFile(dir, "gone");
    Write(gone, 0, 0, 8192);
    ASSERT_OK(meta_->Unlink(root_, dir, "gone"));
    ASSERT_FALSE(RawScan("D").empty());

    // A file unlinked while open: its session keeps it (SS, not dumped).
    ASSERT_TRUE(meta_->NewSession(Host()).has_value());
    Ino open = MkFile(dir, "open");
    Write(open, 0, 0, 4096);
    ASSERT_TRUE(meta_->Open(root_, open, O_RDONLY).has_value());
    ASSERT_OK(meta_->Unlink(root_, dir, "open"));
    ASSERT_FALSE(RawScan("SS").empty());

    // Enough entries in one directory to pass a page and the hold budget.
    Ino big = MkDir(kRootIno, "big");
    for (int i = 0; i < 1100; ++i) MkFile(big, "f" + std::to_string(i));
  }

  uint64_t shared_ = 0;
};
TESSERA_META_INSTANTIATE(DumpNamespaceTest);

TEST_P(DumpNamespaceTest, RoundTripKeepsEveryKey) {
  Build();
  std::string text;
  CountingProgress progress;
  std::ostringstream out;
  auto stats = Dump(*engine_, out, {.keep_secret_key = true, .page_keys = 7}, &progress);
  ASSERT_OK(stats);
  text = out.str();
  EXPECT_GT(progress.calls, 100);  // one per page of 7 keys
  EXPECT_EQ(stats->entries, 1100u + 13u);
  EXPECT_EQ(stats->inodes, 1100u + 14u);  // with the root and the open unlinked file
  EXPECT_EQ(stats->xattrs, 3u);
  // file: 2 + a punched hole in chunk 0, 1 in chunk 2; copy, open, and gone (queued)
  EXPECT_EQ(stats->slices, 7u);
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded()) << text;
  EXPECT_NE(text.find("{\"base64\":"), std::string::npos);

  auto fresh = kv::NewMemEngine();
  auto report = LoadString(*fresh, text, {.batch_keys = 100});
  ASSERT_OK(report);
  EXPECT_TRUE(report->redacted.empty());
  EXPECT_EQ(report->stats.inodes, stats->inodes);
  EXPECT_EQ(report->stats.entries, stats->entries);
  EXPECT_EQ(report->stats.slices, stats->slices);

  auto want = WithoutSessions(AllKeys(*engine_));
  auto got = AllKeys(*fresh);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(dump::Printable(got[i].first), dump::Printable(want[i].first));
    EXPECT_EQ(got[i].second, want[i].second) << dump::Printable(want[i].first);
  }
  EXPECT_EQ(report->stats.keys, want.size());

  // The loaded engine is a volume that reads the same, and dumps the same.
  std::string again;
  ASSERT_OK(DumpToString(*fresh, &again));
  EXPECT_EQ(again, text);
  auto m = NewMeta(kv::ShareEngine(std::move(fresh)));
  ASSERT_OK(m->Load());
  auto dir = m->Lookup(root_, kRootIno, "dir");
  ASSERT_OK(dir);
  auto weird = m->Lookup(root_, dir->ino, kQuotedName);
  ASSERT_OK(weird);
  ASSERT_OK(m->Lookup(root_, dir->ino, kBadUtf8Name));
  auto link = m->Lookup(root_, dir->ino, "odd-link");
  ASSERT_OK(link);
  EXPECT_EQ(m->ReadLink(link->ino).value_or(""), "target\xff");
  auto hard = m->Lookup(root_, kRootIno, "hard");
  ASSERT_OK(hard);
  EXPECT_EQ(hard->attr.nlink, 2u);
  EXPECT_EQ(hard->attr.mode, S_IFREG | 04755u);
  EXPECT_EQ(hard->attr.atime, (Timespec{.sec = -5, .nsec = 1}));
  EXPECT_EQ(m->GetXattr(root_, hard->ino, "user.bin").value_or(""),
            std::string("\0\x01\xff\xfe", 4));
  EXPECT_EQ(m->ReadChunk(hard->ino, 0).value_or(std::vector<Slice>{}),
            meta_->ReadChunk(hard->ino, 0).value_or(std::vector<Slice>{}));
}

// The trash's inodes sit above every ordinary inode number (kTrashIno):
// a dump holding them loads, and the trash still restores.
TEST_P(DumpTest, TrashRoundTrip) {
  Settings s = DefaultSettings();
  s.trash_days = 1;
  ASSERT_OK(meta_->Format(s, /*force=*/true));
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  ASSERT_OK(meta_->Unlink(root_, kRootIno, "f"));
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  auto fresh = kv::NewMemEngine();
  ASSERT_OK(LoadString(*fresh, text));
  auto m = NewMeta(kv::ShareEngine(std::move(fresh)));
  ASSERT_OK(m->Load());
  auto hours = m->ListTrash();
  ASSERT_OK(hours);
  ASSERT_EQ(hours->size(), 1u);
  auto out = m->RestoreTrash(hours->front().name);
  ASSERT_OK(out);
  ASSERT_EQ(out->size(), 1u);
  EXPECT_TRUE(out->front().status.ok()) << out->front().status.ToString();
  EXPECT_EQ(m->Lookup(root_, kRootIno, "f").value_or(Entry{}).ino, f);
}

// allocated is not dumped: load counts it from the chunks, whether they come
// after the attr (as usual) or before it (a file of very many chunks), and
// also for a record from before the count.
TEST_P(DumpTest, LoadCountsAllocatedBytes) {
  Ino f = MkFile(kRootIno, "f");
  Write(f, 0, 0, 4096);
  Write(f, 2, kMiB, 8192);
  ASSERT_OK(
      meta_->Fallocate(root_, f, kFallocPunchHole | kFallocKeepSize, 2 * kChunkSize + kMiB, 100));
  const uint64_t want = 4096 + 8192 - 100;
  EXPECT_EQ(AttrOf(f).allocated, want);
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  EXPECT_EQ(text.find("allocated"), std::string::npos);
  std::string rec = *RawGet(keys::Attr(f));
  RawSet(keys::Attr(f), rec.substr(0, kAttrRecordSizeNoAllocated));
  std::string old;
  ASSERT_OK(DumpToString(*engine_, &old));
  EXPECT_EQ(old, text);
  auto doc = nlohmann::ordered_json::parse(text);
  for (auto& inode : doc["inodes"]) {
    if (inode["ino"] != f) continue;
    nlohmann::ordered_json moved;
    moved["ino"] = inode["ino"];
    moved["chunks"] = inode["chunks"];
    moved["attr"] = inode["attr"];
    inode = moved;
  }
  for (const std::string& input : {text, doc.dump()}) {
    auto fresh = kv::NewMemEngine();
    ASSERT_OK(LoadString(*fresh, input, {.batch_keys = 2}));
    auto m = NewMeta(kv::ShareEngine(std::move(fresh)));
    ASSERT_OK(m->Load());
    auto attr = m->GetAttr(f);
    ASSERT_OK(attr);
    EXPECT_EQ(attr->allocated, want);
    EXPECT_EQ(attr->length, 2 * kChunkSize + kMiB + 8192);
  }
}

TEST_P(DumpNamespaceTest, LoadRefusesANonEmptyEngineAndWritesNothing) {
  Build();
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  auto before = AllKeys(*engine_);
  auto report = LoadString(*engine_, text);
  EXPECT_CODE(report, Code::kExists);
  EXPECT_NE(report.error().message().find("already holds data"), std::string::npos);
  EXPECT_EQ(AllKeys(*engine_), before);

  auto other = kv::NewMemEngine();
  ASSERT_OK(kv::RunTxn(*other, [](kv::Txn& txn) { return txn.Set("zzz", "1"); }));
  EXPECT_CODE(LoadString(*other, text), Code::kExists);
  EXPECT_EQ(AllKeys(*other).size(), 1u);
}

TEST_P(DumpNamespaceTest, TruncatedDumpNeverWritesSettings) {
  Build();
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  size_t end = text.find_last_not_of("\n ") + 1;  // the closing brace
  for (size_t cut : {size_t{0}, size_t{1}, size_t{15}, size_t{40}, text.find("\"inodes\""), end / 3,
                     end / 2, end - 300, end - 30, end - 2, end - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(end));
    auto fresh = kv::NewMemEngine();
    auto report = LoadString(*fresh, text.substr(0, cut), {.batch_keys = 10});
    ASSERT_FALSE(report.has_value());
    EXPECT_TRUE(report.error().code() == Code::kInvalid || report.error().code() == Code::kCorrupt)
        << report.error().ToString();
    EXPECT_EQ(report.error().message().find('\n'), std::string::npos);
    auto keys = AllKeys(*fresh);
    for (const auto& [k, v] : keys) EXPECT_NE(k, keys::kSetting);
    if (keys.empty()) {
      EXPECT_NE(report.error().message().find("nothing was written"), std::string::npos);
    } else {
      EXPECT_NE(report.error().message().find("partial load"), std::string::npos)
          << report.error().message();
    }
    if (cut < text.find("\"inodes\"")) {
      EXPECT_TRUE(keys.empty()) << "header cut wrote keys";
    }
  }
  auto whole = kv::NewMemEngine();
  ASSERT_OK(LoadString(*whole, text.substr(0, end)));
}

TEST_P(DumpTest, GarbageFailsBeforeWriting) {
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  std::string body = text.substr(text.find(",\n\"setting\""));
  const std::vector<std::pair<std::string, Code>> cases = {
      {"", Code::kInvalid},
      {"hello", Code::kInvalid},
      {"[1, 2]", Code::kInvalid},
      {"{\"foo\": 1}", Code::kInvalid},
      {"{\"tessera_dump\": 2" + body, Code::kNotSupported},
      {"{\"tessera_dump\": \"1\"" + body, Code::kInvalid},
      {"{\"tessera_dump\": 1, \"inodes\": []}", Code::kInvalid},
      {text + "x", Code::kInvalid},
  };
  for (const auto& [input, code] : cases) {
    SCOPED_TRACE(input.substr(0, 40));
    auto fresh = kv::NewMemEngine();
    auto report = LoadString(*fresh, input);
    EXPECT_CODE(report, code);
    if (code != Code::kInvalid || input.size() < text.size()) {
      EXPECT_TRUE(AllKeys(*fresh).empty());
    }
    EXPECT_TRUE(kv::testing::Read(*fresh, keys::kSetting) == std::nullopt);
  }
}

// Each edit breaks one record of an otherwise good dump.
TEST_P(DumpTest, LoadVerifiesRecords) {
  Ino dir = MkDir(kRootIno, "d");
  Ino f = MkFile(dir, "f");
  Write(f, 0, 0, 4096);
  ASSERT_OK(meta_->SetXattr(root_, f, "user.a", "v", 0));
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  auto edit = [&](std::string from, std::string to) {
    size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from << " in " << text;
    std::string t = text;
    return at == std::string::npos ? t : t.replace(at, from.size(), to);
  };
  const std::vector<std::string> bad = {
      edit("{\"ino\": 1,", "{\"ino\": 0,"),
      edit("{\"ino\": 1,", "{\"inode\": 1,"),
      edit("\"type\":\"dir\"", "\"type\":\"door\""),
      edit("\"mode\":\"0755\"", "\"mode\":\"0855\""),
      edit("\"nlink\":", "\"nlinks\":"),
      edit("[\"d\", ", "[\"a/b\", "),
      edit("[\"d\", ", "[\"\", "),
      edit(", \"dir\"]", ", \"dire\"]"),
      edit("\"0\": [[0,", "\"0\": [[67108860,"),
      edit("\"0\": [[0,", "\"x\": [[0,"),
      edit("\"0\": [[0,", "\"01\": [[0,"),
      edit("[\"user.a\", \"dg==\"]", "[\"user.a\", \"d\"]"),
      edit("\"nextInode\": ", "\"nextInode\": 1, \"x\": "),
      edit("\"nextSlice\": ", "\"nextSlice\": 1, \"y\": "),
      edit("\"deleted\": []", "\"deleted\": [[0, 1]]"),
      edit("\"deleted\": []", "\"deleted\": {}"),
      edit("\"slice_refs\": []", "\"slice_refs\": [[1, 2]]"),
      edit("\"slice_refs\": []", "\"slice_refs\": [], \"extra\": []"),
  };
  for (const std::string& input : bad) {
    auto fresh = kv::NewMemEngine();
    auto report = LoadString(*fresh, input, {.batch_keys = 1});
    EXPECT_CODE(report, Code::kCorrupt);
    EXPECT_TRUE(kv::testing::Read(*fresh, keys::kSetting) == std::nullopt);
  }
  auto fresh = kv::NewMemEngine();
  ASSERT_OK(LoadString(*fresh, text));
}

TEST_P(DumpTest, SkipsSessionsAndLocksButNotUnknownKeys) {
  Ino f = MkFile(kRootIno, "f");
  RawSet(keys::InodeKey(f, 'F') + "owner", "lock");
  RawSet(keys::InodeKey(f, 'L') + "owner", "lock");
  RawSet("SL" + LE64(1), "session lock");
  ASSERT_TRUE(meta_->NewSession(Host()).has_value());
  std::string text;
  ASSERT_OK(DumpToString(*engine_, &text));
  auto fresh = kv::NewMemEngine();
  ASSERT_OK(LoadString(*fresh, text));
  auto got = AllKeys(*fresh);
  for (const auto& [k, v] : got) {
    EXPECT_NE(v, "lock");
    EXPECT_FALSE(IsSessionKey(k)) << dump::Printable(k);
  }
  EXPECT_EQ(got.size(), AllKeys(*engine_).size() - 4);

  RawSet(keys::InodeKey(f, 'Q'), "?");
  auto st = DumpToString(*engine_, &text);
  EXPECT_CODE(st, Code::kCorrupt);
  EXPECT_NE(st.error().message().find("unknown kind 'Q'"), std::string::npos);
  EXPECT_NE(st.error().message().find(dump::Printable(keys::InodeKey(f, 'Q'))), std::string::npos);
  ASSERT_OK(kv::RunTxn(*engine_, [&](kv::Txn& txn) { return txn.Delete(keys::InodeKey(f, 'Q')); }));

  RawSet("Zebra", "?");
  st = DumpToString(*engine_, &text);
  EXPECT_CODE(st, Code::kCorrupt);
  EXPECT_NE(st.error().message().find("'Zebra'"), std::string::npos);
}

TEST_P(DumpTest, DumpNeedsAVolume) {
  auto empty = kv::NewMemEngine();
  std::string text;
  EXPECT_CODE(DumpToString(*empty, &text), Code::kNotFound);
}

TEST(DumpSecretsTest, RedactedUnlessKept) {
  std::shared_ptr<kv::Engine> engine = kv::NewMemEngine();
  auto m = NewMeta(kv::ShareEngine(engine));
  Settings s;
  s.name = "secret";
  s.uuid = "u-1";
  s.storage = "s3";
  s.access_key = "AKID";
  s.secret_key_sealed = "SEALED-SECRET";
  s.encrypt_key_wrapped = "WRAPPED-KEY";
  s.encrypt_private_pem = "-----BEGIN PEM-----";
  ASSERT_OK(m->Format(s, false));

  std::string text;
  ASSERT_OK(DumpToString(*engine, &text, {}));
  EXPECT_EQ(text.find("SEALED-SECRET"), std::string::npos);
  EXPECT_EQ(text.find("WRAPPED-KEY"), std::string::npos);
  EXPECT_EQ(text.find("BEGIN PEM"), std::string::npos);
  EXPECT_NE(text.find("AKID"), std::string::npos);  // not a secret
  auto fresh = kv::NewMemEngine();
  auto report = LoadString(*fresh, text);
  ASSERT_OK(report);
  EXPECT_EQ(report->redacted,
            (std::vector<std::string>{"encrypt_key_wrapped", "encrypt_private_pem",
                                      "secret_key_sealed"}));
  auto loaded = Settings::FromJson(kv::testing::Read(*fresh, keys::kSetting).value_or(""));
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->secret_key_sealed, "removed");
  EXPECT_EQ(loaded->access_key, "AKID");

  ASSERT_OK(DumpToString(*engine, &text, {.keep_secret_key = true}));
  EXPECT_NE(text.find("SEALED-SECRET"), std::string::npos);
  auto kept = kv::NewMemEngine();
  report = LoadString(*kept, text);
  ASSERT_OK(report);
  EXPECT_TRUE(report->redacted.empty());
  EXPECT_EQ(kv::testing::Read(*kept, keys::kSetting), kv::testing::Read(*engine, keys::kSetting));
}

TEST(DumpJsonTest, BytesRoundTrip) {
  for (std::string bytes : {std::string(""), std::string("plain"), std::string("\xff"),
                            std::string("a\0b", 3), std::string("\xed\xa0\x80"),  // surrogate
                            std::string("\xc0\xaf"), std::string("\xf4\x90\x80\x80"),
                            std::string("\xe2\x82\xac"), kQuotedName}) {
    std::string json;
    dump::AppendBytes(&json, bytes);
    auto j = nlohmann::json::parse(json, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << json;
    auto back = dump::BytesFromJson(j, "test");
    ASSERT_OK(back);
    EXPECT_EQ(*back, bytes) << json;
  }
  EXPECT_FALSE(dump::IsUtf8("\xe2\x82"));
  EXPECT_TRUE(dump::IsUtf8("\xf0\x9f\x98\x80"));
  EXPECT_EQ(dump::Base64Decode("AA=A"), std::nullopt);
  EXPECT_EQ(dump::Base64Decode("AAA"), std::nullopt);
  EXPECT_EQ(dump::Base64Decode(dump::Base64Encode("\x01\x02")), std::string("\x01\x02"));
}

}  // namespace
}  // namespace tessera::meta
