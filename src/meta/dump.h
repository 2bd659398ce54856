// Dump and load: the whole namespace of a volume as one streaming JSON
// document (the format is in docs/formats.md, "Dump format").
//
// Both work at the level of the key schema (keys.h), through kv::Txn, never
// through Meta: what is dumped is exactly what the engine holds, and a load
// writes back the same keys and values, so a loaded volume has the same inode
// numbers, attributes, entries, slices, counters, slice reference counts and
// pending deletions. Session state (SE, SS, SL keys) and lock tables
// (A<ino>F, A<ino>L) are not dumped; any other key that this build does not
// know makes Dump fail with a message naming it, so no data is dropped
// silently.
//
// Memory stays bounded whatever the size of the volume:
//  - Dump scans the engine in pages (DumpOptions::page_keys keys per read-only
//    transaction, continuing after the last key of the previous page) and
//    writes each record as soon as it is complete. An inode's keys are
//    contiguous in the engine, so only one inode is open at a time; its
//    chunks and entries are held back (up to a small budget) only so that
//    "attr" comes first in its record.
//  - Load parses with nlohmann::json's SAX interface and materialises one
//    record at a time (an attribute, one chunk, one entry, one xattr), writing
//    keys in transactions of at most LoadOptions::batch_keys keys.
//
// Consistency: the pages come from separate transactions, so a dump of a
// mounted volume that is changing is NOT a point-in-time snapshot (as in
// JuiceFS): a file created or renamed during the dump may be missing, seen
// twice or seen half-written. Dump an idle volume (unmounted, or with no
// writers) or accept that. Counters are read last, so they are at least as
// large as any inode number or slice id in the dump.
//
// Load refuses an engine that holds any key. It writes the settings key
// last, so an interrupted or failed load leaves keys but no settings: not a
// mountable volume, and one that must be removed before loading again.
//
// Thread-safety: the functions are reentrant; each uses its engine and stream
// from the calling thread only.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "kv/engine.h"

namespace tessera::meta {

// The version written in "tessera_dump" and the only one Load reads.
constexpr int kDumpVersion = 1;

// What a dump or a load has gone through so far.
struct DumpStats {
  uint64_t inodes = 0;   // inode records
  uint64_t entries = 0;  // directory entries
  uint64_t slices = 0;   // slice records of all chunks (holes included)
  uint64_t xattrs = 0;
  uint64_t keys = 0;          // keys read (dump) or written (load)
  uint64_t total_inodes = 0;  // dump: inodes the volume counts (for a percentage); load: 0
};

// Told of the progress now and then (after every page or batch). Called from
// the thread running Dump or Load.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void Update(const DumpStats& stats) = 0;
};

struct DumpOptions {
  // Keep the settings fields that hold secrets (the sealed S3 secret key, the
  // encryption key material); by default they are replaced by "removed".
  bool keep_secret_key = false;
  // Keys per read-only transaction.
  size_t page_keys = 1000;
};

// Writes the namespace of the volume in `engine` to `out`. kNotFound when the
// engine holds no volume; kCorrupt naming the key when a key is unknown or a
// value cannot be represented; kIO when `out` fails. `progress` may be null.
Result<DumpStats> Dump(kv::Engine& engine, std::ostream& out, const DumpOptions& options,
                       Progress* progress);

struct LoadOptions {
  // Keys per write transaction (etcd allows 128 operations in one).
  size_t batch_keys = 100;
};

struct LoadReport {
  DumpStats stats;
  // Settings fields that the dump carries redacted ("removed"), e.g.
  // "secret_key_sealed": the loaded volume needs those secrets again.
  std::vector<std::string> redacted;
};

// Loads a dump read from `in` into the empty `engine`. Errors, one line each:
// kExists when the engine holds any key (nothing written); kInvalid when the
// input is not JSON or ends early, kNotSupported for another dump version,
// kCorrupt for a malformed record. A failure after keys were written says so:
// the engine then holds a partial load without settings, to be removed.
Result<LoadReport> Load(kv::Engine& engine, std::istream& in, const LoadOptions& options,
                        Progress* progress);

}  // namespace tessera::meta
