// Ending a session: its own at unmount, or a dead client's found stale by
// any live one (CleanStaleSessions).
#include "meta/keys.h"
#include "meta/ops.h"

namespace tessera::meta {
namespace {

// The inode numbers of `sid`'s keys under `prefix` (SS or SL), parsed by `parse`.
template <typename Parse>
Result<std::vector<Ino>> ScanSessionInodes(kv::Engine& engine, const std::string& prefix,
                                           Parse parse) {
  std::vector<Ino> inos;
  RETURN_IF_ERROR(kv::RunTxn(engine, [&](kv::Txn& txn) -> Status {
    inos.clear();
    ASSIGN_OR_RETURN(auto kvs, txn.Scan(prefix, kv::PrefixEnd(prefix)));
    for (auto& kv : kvs) {
      if (auto k = parse(kv.first)) inos.push_back(k->ino);
    }
    return Status::Ok();
  }, {.read_only = true}));
  return inos;
}

// Session `sid` no longer keeps `ino` alive: it is destroyed if it has no
// links, unless this client (another session) has it open and takes it over.
Status DoReleaseSustained(kv::Txn& txn, const OpEnv& env, uint64_t sid, Ino ino) {
  RETURN_IF_ERROR(txn.Delete(keys::Sustained(sid, ino)));
  if (sid != env.sid && env.sid != 0 && env.IsOpen(ino)) {
    return txn.Set(keys::Sustained(env.sid, ino), "");
  }
  OpEnv as_owner = env;
  as_owner.sid = sid;
  return DoReleaseInode(txn, as_owner, ino);
}

}  // namespace

Status ReleaseSession(kv::Engine& engine, const OpEnv& env, uint64_t sid) {
  if (sid == 0) return Status::Ok();
  ASSIGN_OR_RETURN(auto locked, ScanSessionInodes(engine, keys::LockedPrefix(sid), keys::ParseLocked));
  for (Ino ino : locked) {
    RETURN_IF_ERROR(kv::RunTxn(engine, [&](kv::Txn& txn) {
      return DoReleaseSessionLocks(txn, sid, ino);
    }));
  }
  ASSIGN_OR_RETURN(auto sustained,
                   ScanSessionInodes(engine, keys::SustainedPrefix(sid), keys::ParseSustained));
  for (Ino ino : sustained) {
    RETURN_IF_ERROR(kv::RunTxn(engine, [&](kv::Txn& txn) {
      return DoReleaseSustained(txn, env, sid, ino);
    }));
  }
  return kv::RunTxn(engine, [&](kv::Txn& txn) { return txn.Delete(keys::Session(sid)); });
}

}  // namespace tessera::meta
