// The virtual xattr "tessera.info": an inode's attributes, chunks, slices and
// the object keys that hold them, as JSON. `tessera info PATH` reads it.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "vfs/vfs.h"
#include "vfs/vfs_internal.h"

namespace tessera::vfs {

Result<std::string> Vfs::InfoJson(Ino ino) {
  if (auto f = FindFile(ino)) {
    std::lock_guard lock(f->mu);
    RETURN_IF_ERROR(CommitLocked(ino, *f));
  }
  ASSIGN_OR_RETURN(Attr attr, meta_->GetAttr(ino));
  nlohmann::json j;
  j["inode"] = ino;
  j["pid"] = getpid();  // of the mount daemon: `tessera umount` waits for it
  j["mode"] = attr.mode;
  j["nlink"] = attr.nlink;
  j["length"] = attr.length;
  // Bytes that data records show (st_blocks counts them); null when the
  // record predates the count.
  if (attr.IsFile()) {
    j["allocated"] = attr.allocated == meta::kAllocatedUnknown ? nlohmann::json(nullptr)
                                                               : nlohmann::json(attr.allocated);
  }
  j["uid"] = attr.uid;
  j["gid"] = attr.gid;
  j["block_size"] = layout_.block_size;
  nlohmann::json chunks = nlohmann::json::array();
  uint64_t objects = 0;
  if (attr.IsFile()) {
    uint32_t count = static_cast<uint32_t>((attr.length + kChunkSize - 1) / kChunkSize);
    for (uint32_t index = 0; index < count; ++index) {
      ASSIGN_OR_RETURN(auto slices, meta_->ReadChunk(ino, index));
      if (slices.empty()) continue;
      nlohmann::json c;
      c["index"] = index;
      nlohmann::json js = nlohmann::json::array();
      for (const Slice& s : slices) {
        nlohmann::json one = {{"id", s.id}, {"pos", s.pos}, {"size", s.size},
                              {"off", s.off}, {"len", s.len}};
        nlohmann::json keys = nlohmann::json::array();
        if (s.id != 0) {
          for (uint32_t b = 0; b < chunk::BlockCount(layout_, s.size); ++b) {
            keys.push_back(
                chunk::BlockKey(layout_, s.id, b, chunk::BlockLength(layout_, s.size, b)));
            ++objects;
          }
        }
        one["objects"] = std::move(keys);
        js.push_back(std::move(one));
      }
      c["slices"] = std::move(js);
      chunks.push_back(std::move(c));
    }
  }
  j["chunks"] = std::move(chunks);
  j["objects"] = objects;
  return j.dump();
}

}  // namespace tessera::vfs
