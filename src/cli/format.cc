// tessera format: write a volume's settings into a metadata engine after
// proving that the object store works.
#include <fstream>
#include <regex>

#include "cli/commands.h"
#include "common/status.h"
#include "kv/engine.h"
#include "meta/meta.h"
#include "object/store.h"

namespace tessera::cli {
namespace {

struct FormatFlags {
  std::string meta_url;
  std::string name;
  std::string storage = "file";
  std::string bucket = "~/.tessera/local";
  uint32_t block_size_kib = 4096;
  uint64_t capacity_gib = 0;
  uint64_t inodes = 0;
  bool force = false;
};

std::string NewUuid() {
  std::ifstream in("/proc/sys/kernel/random/uuid");
  std::string uuid;
  std::getline(in, uuid);
  return uuid;
}

// Puts, reads back and deletes a probe object, so that a wrong bucket fails here.
Status ProbeStore(object::ObjectStore& store, const std::string& name) {
  RETURN_IF_ERROR(store.Create());
  std::string key = name + "/probe-" + NewUuid();
  std::string data = "tessera storage probe";
  RETURN_IF_ERROR(store.Put(key, data));
  ASSIGN_OR_RETURN(std::string back, store.Get(key));
  if (back != data) return Err(Code::kCorrupt, "the probe object read back different bytes");
  return store.Delete(key);
}

void RunFormat(const FormatFlags& f) {
  if (!std::regex_match(f.name, std::regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"))) {
    Die("bad volume name '" + f.name +
        "': use 3-63 characters of a-z, 0-9 and '-', not starting or ending with '-'");
  }
  uint32_t bs = f.block_size_kib;
  if (bs < 64 || bs > 16384 || (bs & (bs - 1)) != 0) {
    Die("--block-size must be a power of two between 64 and 16384 (KiB), got " +
        std::to_string(bs));
  }
  auto engine = kv::OpenEngine(AbsoluteMetaUrl(f.meta_url));
  if (!engine.has_value()) Die(engine.error().ToString());
  auto m = meta::NewMeta(std::move(*engine));
  if (!f.force) {
    auto existing = m->Load();
    if (existing.has_value()) {
      Die("volume '" + existing->name + "' is already formatted in " + f.meta_url +
          "; use --force to overwrite it (its data becomes unreachable)");
    }
    if (existing.error().code() != Code::kNotFound) Die(existing.error().ToString());
  }
  meta::Settings s;
  s.name = f.name;
  s.uuid = NewUuid();
  s.storage = f.storage;
  s.bucket = f.storage == "file" ? ExpandHome(f.bucket) : f.bucket;
  s.block_size = bs << 10;
  s.capacity = f.capacity_gib << 30;
  s.inodes = f.inodes;
  auto store = object::OpenStore(s.storage, s.bucket);
  if (!store.has_value()) Die(store.error().ToString());
  Status probe = ProbeStore(**store, s.name);
  if (!probe.ok()) {
    Die("storage " + (*store)->Describe() + " is not usable: " + probe.ToString());
  }
  Status st = m->Format(s, f.force);
  if (!st.ok()) Die(st.ToString());
  std::printf("formatted volume '%s' (uuid %s): metadata %s, storage %s\n", s.name.c_str(),
              s.uuid.c_str(), f.meta_url.c_str(), (*store)->Describe().c_str());
}

}  // namespace

void AddFormatCommand(CLI::App& app) {
  auto f = std::make_shared<FormatFlags>();
  CLI::App* cmd = app.add_subcommand("format", "create a volume: settings in META_URL, blocks in "
                                               "the object store");
  cmd->add_option("META_URL", f->meta_url,
                  "metadata engine, e.g. sqlite3:///var/lib/tessera/meta.db")
      ->required();
  cmd->add_option("NAME", f->name, "volume name (3-63 of a-z 0-9 -); prefixes its objects")
      ->required();
  cmd->add_option("--storage", f->storage, "object store type: file or mem")
      ->capture_default_str();
  cmd->add_option("--bucket", f->bucket, "where blocks go: a directory for 'file'")
      ->capture_default_str();
  cmd->add_option("--block-size", f->block_size_kib,
                  "block size in KiB: a power of two, 64..16384")
      ->capture_default_str();
  cmd->add_option("--capacity", f->capacity_gib, "space quota in GiB (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--inodes", f->inodes, "inode quota (0: unlimited)")->capture_default_str();
  cmd->add_flag("--force", f->force, "overwrite an existing volume's settings");
  cmd->callback([f] { RunFormat(*f); });
}

}  // namespace tessera::cli
