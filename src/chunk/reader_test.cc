// BuildView and ChunkReader checked against a byte-array model of a chunk:
// apply every slice record, in order, to an array, and compare.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "chunk/chunk.h"

namespace tessera::chunk {
namespace {

const Layout kLayout{.volume = "vol", .block_size = 4096};

// Where one chunk byte comes from: slice `id` (0: zero) at slice offset `off`.
struct Source {
  uint64_t id = 0;
  uint32_t off = 0;
  bool operator==(const Source&) const = default;
};

std::vector<Source> ModelOf(const std::vector<Slice>& records) {
  std::vector<Source> model;
  for (const Slice& r : records) {
    if (r.len == 0) continue;
    if (model.size() < r.pos + r.len) model.resize(r.pos + r.len);
    for (uint32_t i = 0; i < r.len; ++i) {
      model[r.pos + i] = r.id == 0 ? Source{} : Source{r.id, r.off + i};
    }
  }
  return model;
}

// Checks the view's shape and that it says, byte by byte, what the model says.
void ExpectViewMatches(const std::vector<Slice>& records) {
  std::vector<Segment> view = BuildView(records);
  std::vector<Source> model = ModelOf(records);
  std::vector<Source> seen;
  seen.reserve(model.size());
  for (const Segment& seg : view) {
    ASSERT_EQ(seg.pos, seen.size()) << "segments must be adjacent and ascending";
    ASSERT_GT(seg.len, 0u);
    for (uint32_t i = 0; i < seg.len; ++i) {
      seen.push_back(seg.id == 0 ? Source{} : Source{seg.id, seg.off + i});
    }
    if (seg.id != 0) {
      // The slice's size travels with its segments.
      auto rec = std::find_if(records.begin(), records.end(),
                              [&](const Slice& r) { return r.id == seg.id; });
      ASSERT_EQ(seg.size, rec->size);
    }
  }
  ASSERT_EQ(seen.size(), model.size()) << "the view covers up to the last byte any record covers";
  auto diff = std::mismatch(seen.begin(), seen.end(), model.begin());
  ASSERT_TRUE(diff.first == seen.end()) << "chunk byte " << diff.first - seen.begin();
}

TEST(BuildViewTest, Basics) {
  EXPECT_TRUE(BuildView({}).empty());
  EXPECT_TRUE(BuildView({Slice{.pos = 10, .id = 1, .size = 5, .off = 0, .len = 0}}).empty());
  // A later slice inside an earlier one splits it in three.
  std::vector<Slice> recs = {{.pos = 0, .id = 1, .size = 100, .off = 0, .len = 100},
                             {.pos = 40, .id = 2, .size = 10, .off = 0, .len = 10}};
  EXPECT_EQ(BuildView(recs),
            (std::vector<Segment>{{.pos = 0, .len = 40, .id = 1, .size = 100, .off = 0},
                                  {.pos = 40, .len = 10, .id = 2, .size = 10, .off = 0},
                                  {.pos = 50, .len = 50, .id = 1, .size = 100, .off = 50}}));
  // A gap before the first slice, and a hole record punched into it.
  recs = {{.pos = 10, .id = 3, .size = 20, .off = 0, .len = 20},
          {.pos = 15, .id = 0, .size = 0, .off = 0, .len = 5}};
  EXPECT_EQ(BuildView(recs),
            (std::vector<Segment>{{.pos = 0, .len = 10},
                                  {.pos = 10, .len = 5, .id = 3, .size = 20, .off = 0},
                                  {.pos = 15, .len = 5},
                                  {.pos = 20, .len = 10, .id = 3, .size = 20, .off = 10}}));
}

TEST(BuildViewTest, RandomRecordsMatchModel) {
  std::mt19937_64 rng(20240611);
  for (int iter = 0; iter < 3000; ++iter) {
    // Small spans give dense overlaps; now and then a wide one.
    const bool wide = iter % 100 == 0;
    const uint32_t span = wide ? (1u << 20) : 1u << (8 + iter % 8);
    const int count = 1 + static_cast<int>(rng() % (wide ? 40 : iter % 10 == 0 ? 200 : 20));
    std::vector<Slice> recs;
    for (int i = 0; i < count; ++i) {
      Slice s;
      s.id = rng() % 8 == 0 ? 0 : static_cast<uint64_t>(i + 1);
      s.pos = static_cast<uint32_t>(rng() % span);
      s.len = static_cast<uint32_t>(rng() % (span / (wide ? 8 : 4) + 1));
      s.size = s.id == 0 ? 0 : s.len + static_cast<uint32_t>(rng() % 50);
      s.off = s.id == 0 ? 0 : static_cast<uint32_t>(rng() % (s.size - s.len + 1));
      recs.push_back(s);
    }
    ExpectViewMatches(recs);
    if (HasFatalFailure()) {
      ADD_FAILURE() << "iteration " << iter;
      return;
    }
  }
}

TEST(BuildViewTest, ManySlicesIsFast) {
  // 20,000 small appends then overwrites, like a log file rewritten in place.
  std::vector<Slice> recs;
  for (uint32_t i = 0; i < 20000; ++i) {
    recs.push_back({.pos = i * 100, .id = i + 1, .size = 100, .off = 0, .len = 100});
  }
  for (uint32_t i = 0; i < 20000; ++i) {
    recs.push_back({.pos = i * 100 + 50, .id = 30000 + i, .size = 100, .off = 0, .len = 100});
  }
  auto view = BuildView(recs);
  EXPECT_EQ(view.size(), 20001u);
}

// A chunk built by real SliceWriters over a mem store, with its byte model.
class ChunkModel {
 public:
  explicit ChunkModel(uint64_t seed) : rng_(seed), store_(object::NewMemStore()) {}

  object::ObjectStore& store() { return *store_; }
  const std::vector<Slice>& records() const { return records_; }

  // Writes one slice at a random place with random appends and tail rewrites,
  // then commits its record (sometimes only part of it, sometimes a hole).
  void AddRandomSlice(uint32_t span) {
    uint64_t id = next_id_++;
    uint32_t pos = static_cast<uint32_t>(rng_() % span);
    SliceWriter w(*store_, kLayout, id, pos);
    std::string& data = data_[id];
    int writes = 1 + static_cast<int>(rng_() % 12);
    for (int i = 0; i < writes; ++i) {
      uint32_t lo = pos + static_cast<uint32_t>(w.length() - w.buffered());
      uint32_t hi = pos + w.length();
      uint32_t at = rng_() % 3 == 0 ? lo + static_cast<uint32_t>(rng_() % (hi - lo + 1)) : hi;
      std::string bytes(1 + rng_() % 9000, '\0');
      for (char& c : bytes) c = static_cast<char>(rng_());
      ASSERT_TRUE(w.CanWrite(at, bytes.size()));
      ASSERT_TRUE(w.Write(at, bytes).ok());
      size_t rel = at - pos;
      if (data.size() < rel + bytes.size()) data.resize(rel + bytes.size());
      data.replace(rel, bytes.size(), bytes);
    }
    auto rec = w.Finish();
    ASSERT_TRUE(rec.has_value());
    ASSERT_EQ(rec->size, data.size());
    Slice r = *rec;
    if (rng_() % 4 == 0) {  // a truncated or trimmed view of the slice
      r.off = static_cast<uint32_t>(rng_() % (r.size / 2 + 1));
      r.len = static_cast<uint32_t>(rng_() % (r.size - r.off + 1));
      r.pos += r.off;
    }
    records_.push_back(r);
    if (rng_() % 6 == 0) {  // a hole punched somewhere
      uint32_t len = static_cast<uint32_t>(rng_() % 20000);
      records_.push_back({.pos = static_cast<uint32_t>(rng_() % span), .len = len});
    }
  }

  // The chunk bytes [off, off + n) as the records say.
  std::string Expected(uint32_t off, size_t n) const {
    std::string out(n, '\0');
    const uint64_t end = uint64_t{off} + n;
    for (const Slice& r : records_) {
      uint64_t from = std::max<uint64_t>(r.pos, off);
      uint64_t to = std::min<uint64_t>(uint64_t{r.pos} + r.len, end);
      for (uint64_t at = from; at < to; ++at) {
        out[at - off] = r.id == 0 ? '\0' : data_.at(r.id)[r.off + (at - r.pos)];
      }
    }
    return out;
  }

  uint32_t Random(uint32_t below) { return static_cast<uint32_t>(rng_() % below); }

 private:
  std::mt19937_64 rng_;
  std::unique_ptr<object::ObjectStore> store_;
  std::vector<Slice> records_;
  std::map<uint64_t, std::string> data_;
  uint64_t next_id_ = 1;
};

void ReadAndCompare(ChunkReader& reader, ChunkModel& model, int reads, uint32_t span) {
  for (int i = 0; i < reads; ++i) {
    uint32_t off = model.Random(span);
    size_t n = model.Random(i % 5 == 0 ? 70000 : 9000);
    std::string got(n, 'x');
    Status st = reader.Read(model.records(), off, n, got.data());
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(got, model.Expected(off, n)) << "read of " << n << " at " << off;
  }
}

TEST(ChunkReaderTest, RandomReadsMatchModel) {
  constexpr uint32_t kSpan = 300 << 10;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    ChunkModel model(seed);
    BlockCache cache(64 << 10);
    ChunkReader cached(model.store(), kLayout, &cache);
    ChunkReader uncached(model.store(), kLayout, nullptr);
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(model.AddRandomSlice(kSpan));
      ASSERT_NO_FATAL_FAILURE(ReadAndCompare(cached, model, 40, kSpan + 20000));
      ASSERT_NO_FATAL_FAILURE(ReadAndCompare(uncached, model, 10, kSpan + 20000));
    }
    EXPECT_LE(cache.size_bytes(), 64u << 10);
  }
}

TEST(ChunkReaderTest, ConcurrentReads) {
  constexpr uint32_t kSpan = 200 << 10;
  ChunkModel model(99);
  for (int i = 0; i < 30; ++i) ASSERT_NO_FATAL_FAILURE(model.AddRandomSlice(kSpan));
  BlockCache cache(32 << 10);
  ChunkReader reader(model.store(), kLayout, &cache);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int i = 0; i < 100; ++i) {
        uint32_t off = rng() % kSpan;
        size_t n = rng() % 20000;
        std::string got(n, 'x');
        EXPECT_TRUE(reader.Read(model.records(), off, n, got.data()).ok());
        EXPECT_EQ(got, model.Expected(off, n));
      }
    });
  }
  for (auto& th : threads) th.join();
}

TEST(ChunkReaderTest, HolesAndPastTheEndAreZeros) {
  auto store = object::NewMemStore();
  ChunkReader reader(*store, kLayout, nullptr);
  std::string got(100, 'x');
  ASSERT_TRUE(reader.Read(std::vector<Slice>{}, 1000, got.size(), got.data()).ok());
  EXPECT_EQ(got, std::string(100, '\0'));
  ASSERT_TRUE(reader.Read({{.pos = 0, .len = 5000}}, 4990, got.size(), got.data()).ok());
  EXPECT_EQ(got, std::string(100, '\0'));
}

TEST(ChunkReaderTest, MissingOrShortBlockIsAnErrorNamingIt) {
  auto store = object::NewMemStore();
  SliceWriter w(*store, kLayout, 42, 0);
  ASSERT_TRUE(w.Write(0, std::string(10000, 'z')).ok());
  auto rec = w.Finish();
  ASSERT_TRUE(rec.has_value());
  BlockCache cache(1 << 20);
  ChunkReader reader(*store, kLayout, &cache);
  std::string got(10000, '\0');

  const std::string missing = BlockKey(kLayout, 42, 1, 4096);
  ASSERT_TRUE(store->Delete(missing).ok());
  Status st = reader.Read({*rec}, 0, got.size(), got.data());
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_NE(st.message().find(missing), std::string::npos) << st.message();
  // Bytes of the blocks still present read fine.
  EXPECT_TRUE(reader.Read({*rec}, 100, 200, got.data()).ok());

  const std::string last = BlockKey(kLayout, 42, 2, 1808);
  ASSERT_TRUE(store->Put(last, std::string(1000, 'z')).ok());
  st = reader.Read({*rec}, 9000, 100, got.data());
  EXPECT_EQ(st.code(), Code::kCorrupt);
  EXPECT_NE(st.message().find(last), std::string::npos) << st.message();

  // A record that claims more of the slice than it holds.
  Slice bad = *rec;
  bad.len = rec->size + 10;
  st = reader.Read({bad}, 9990, 20, got.data());
  EXPECT_FALSE(st.ok());
}

// Random reads take just their bytes from a local copy of a block (the disk
// cache) when it has one, and never when the block is in memory or wanted whole.
TEST(ChunkReaderTest, RandomReadsTakeRangesFromTheLocalCopy) {
  constexpr uint32_t kSpan = 200 << 10;
  ChunkModel model(7);
  for (int i = 0; i < 12; ++i) ASSERT_NO_FATAL_FAILURE(model.AddRandomSlice(kSpan));
  // The "local copy": every block of the store, served in part, counted.
  int ranges = 0;
  auto local = [&](const std::string& key, uint32_t off, uint32_t len) -> std::optional<std::string> {
    auto block = model.store().Get(key);
    if (!block.has_value()) return std::nullopt;
    ++ranges;
    EXPECT_LT(len, block->size()) << "a whole block is fetched, not read in part";
    return block->substr(off, len);
  };
  BlockCache cache(1 << 20);
  ChunkReader reader(model.store(), kLayout, &cache);
  reader.SetLocalRange(local);
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    uint32_t off = rng() % kSpan;
    size_t n = 1 + rng() % 6000;
    std::string got(n, 'x');
    ASSERT_TRUE(reader.Read(BuildView(model.records()), off, n, got.data(), true).ok());
    ASSERT_EQ(got, model.Expected(off, n)) << "read of " << n << " at " << off;
  }
  EXPECT_GT(ranges, 100);
  const size_t in_memory = cache.size_bytes();
  // Reads that are not random fetch whole blocks into memory, and then even
  // random reads of those blocks come from memory, not the local copy.
  std::string all(kSpan, 'x');
  ASSERT_TRUE(reader.Read(BuildView(model.records()), 0, kSpan, all.data()).ok());
  EXPECT_EQ(all, model.Expected(0, kSpan));
  EXPECT_GT(cache.size_bytes(), in_memory);
  ranges = 0;
  for (int i = 0; i < 100; ++i) {
    uint32_t off = rng() % kSpan;
    std::string got(100, 'x');
    ASSERT_TRUE(reader.Read(BuildView(model.records()), off, 100, got.data(), true).ok());
    ASSERT_EQ(got, model.Expected(off, 100));
  }
  EXPECT_EQ(ranges, 0);
  // A local copy that lacks the block: the block is fetched whole.
  BlockCache empty(1 << 20);
  ChunkReader lacking(model.store(), kLayout, &empty);
  lacking.SetLocalRange([](const std::string&, uint32_t, uint32_t) { return std::nullopt; });
  std::vector<Segment> view = BuildView(model.records());
  auto data = std::find_if(view.begin(), view.end(), [](const Segment& s) { return s.id != 0; });
  ASSERT_NE(data, view.end());
  std::string got(1, 'x');
  ASSERT_TRUE(lacking.Read(view, data->pos, 1, got.data(), true).ok());
  EXPECT_EQ(got, model.Expected(data->pos, 1));
  EXPECT_GT(empty.size_bytes(), 0u);
}

}  // namespace
}  // namespace tessera::chunk
