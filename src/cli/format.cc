// tessera format: write a volume's settings into a metadata engine after
// proving that the object store works.
#include <fstream>
#include <regex>

#include "cli/commands.h"
#include "cli/volume.h"
#include "common/status.h"
#include "kv/engine.h"
#include "meta/meta.h"
#include "object/stack.h"
#include "object/wrappers.h"

namespace tessera::cli {
namespace {

struct FormatFlags {
  std::string meta_url;
  std::string name;
  std::string storage = "file";
  std::string bucket = "~/.tessera/local";
  std::string access_key;
  std::string secret_key;
  std::string compression = "none";
  std::string rsa_key_file;
  uint32_t block_size_kib = 4096;
  uint64_t capacity_gib = 0;
  uint64_t inodes = 0;
  int trash_days = 1;
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
  if (f.trash_days < 0) {
    Die("--trash-days must be 0 (off) or more, got " + std::to_string(f.trash_days));
  }
  s.trash_days = f.trash_days;
  if (s.storage == "s3" && f.bucket == FormatFlags().bucket) {
    Die("--bucket is required for storage s3, e.g. --bucket http://127.0.0.1:9000/mybucket");
  }
  s.checksum = "xxh3";
  if (f.compression != "none" && f.compression != "lz4" && f.compression != "zstd") {
    Die("--compress must be none, lz4 or zstd, got '" + f.compression + "'");
  }
  s.compression = f.compression;
  if (!f.rsa_key_file.empty()) {
    std::ifstream in(ExpandHome(f.rsa_key_file));
    if (!in) Die("cannot read the RSA key " + f.rsa_key_file);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto wrapped = object::NewWrappedDataKey(pem, Env(kPassphraseEnv));
    if (!wrapped.has_value()) {
      Die("--encrypt-rsa-key " + f.rsa_key_file + ": " + wrapped.error().ToString() +
          " (its passphrase comes from " + kPassphraseEnv + ")");
    }
    s.encrypt_key_wrapped = wrapped->wrapped_base64;
    s.encrypt_private_pem = wrapped->private_pem;
  }
  if (s.storage == "s3") {
    s.access_key = f.access_key.empty() ? Env("AWS_ACCESS_KEY_ID") : f.access_key;
    std::string secret = f.secret_key.empty() ? Env("AWS_SECRET_ACCESS_KEY") : f.secret_key;
    if (!secret.empty()) {
      auto sealed = SealSecret(s, secret);
      if (!sealed.has_value()) Die(sealed.error().ToString());
      s.secret_key_sealed = *sealed;
    }
  }
  auto config = StoreConfigFor(s);
  if (!config.has_value()) Die(config.error().ToString());
  config->retry_options.max_attempts = 3;  // a wrong endpoint should fail fast here
  auto store = object::OpenVolumeStore(*config);
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
  cmd->add_option("--storage", f->storage, "object store type: file, s3 or mem")
      ->capture_default_str();
  cmd->add_option("--bucket", f->bucket,
                  "where blocks go: a directory for 'file'; for 's3' a URL such as "
                  "http://127.0.0.1:9000/mybucket or https://mybucket.s3.us-east-1.amazonaws.com")
      ->capture_default_str();
  cmd->add_option("--access-key", f->access_key,
                  "S3 access key (default: $AWS_ACCESS_KEY_ID); stored in the settings");
  cmd->add_option("--secret-key", f->secret_key,
                  "S3 secret key (default: $AWS_SECRET_ACCESS_KEY); stored sealed, never in "
                  "plain text; $AWS_SECRET_ACCESS_KEY at mount overrides it");
  cmd->add_option("--compress", f->compression, "compress blocks: none, lz4 or zstd")
      ->capture_default_str();
  cmd->add_option("--encrypt-rsa-key", f->rsa_key_file,
                  "PEM RSA private key: encrypt every block with AES-256-GCM under a data key "
                  "wrapped by it; its passphrase comes from $TESSERA_RSA_PASSPHRASE at format "
                  "and mount");
  cmd->add_option("--block-size", f->block_size_kib,
                  "block size in KiB: a power of two, 64..16384")
      ->capture_default_str();
  cmd->add_option("--capacity", f->capacity_gib, "space quota in GiB (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--inodes", f->inodes, "inode quota (0: unlimited)")->capture_default_str();
  cmd->add_option("--trash-days", f->trash_days,
                  "days a removed file stays in the hidden /.trash (root only) before it is "
                  "freed; `tessera restore` puts files back (0: off, freed at once)")
      ->capture_default_str();
  cmd->add_flag("--force", f->force, "overwrite an existing volume's settings");
  cmd->callback([f] { RunFormat(*f); });
}

}  // namespace tessera::cli
