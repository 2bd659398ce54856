// POSIX ACLs: encoding, validation and the mode rules (see acl.h).
#include "meta/acl.h"

#include "common/encoding.h"

namespace tessera::meta {
namespace {

constexpr uint32_t kVersion = 2;
constexpr size_t kHeader = 4, kEntry = 8;

uint16_t Le16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) | static_cast<uint8_t>(p[1]) << 8);
}

void PutLe16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

Status Bad(const std::string& why) { return Status(Code::kInvalid, "invalid ACL: " + why); }

}  // namespace

Result<Acl> Acl::Decode(std::string_view value) {
  if (value.size() < kHeader || (value.size() - kHeader) % kEntry != 0) {
    return Err(Bad(std::to_string(value.size()) + " bytes"));
  }
  if (GetLE32(value.data()) != kVersion) return Err(Bad("version"));
  Acl acl;
  for (size_t off = kHeader; off < value.size(); off += kEntry) {
    Entry e;
    e.tag = Le16(value.data() + off);
    e.perm = Le16(value.data() + off + 2);
    e.id = GetLE32(value.data() + off + 4);
    acl.entries.push_back(e);
  }
  // posix_acl_valid: tags in order, one each of owner/group/other, a mask
  // when there are named entries, named ids ascending and unique.
  int state = 0;  // index into the tag order
  int named = 0, user_obj = 0, group_obj = 0, other = 0, mask = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : acl.entries) {
    if (e.perm & ~7u) return Err(Bad("permission bits"));
    static constexpr uint16_t kOrder[] = {kUserObj, kUser, kGroupObj, kGroup, kMask, kOther};
    int idx = -1;
    for (int i = 0; i < 6; ++i) {
      if (kOrder[i] == e.tag) idx = i;
    }
    if (idx < 0) return Err(Bad("tag " + std::to_string(e.tag)));
    if (idx < state) return Err(Bad("entries out of order"));
    if ((e.tag == kUser || e.tag == kGroup) && prev && prev->tag == e.tag && prev->id >= e.id) {
      return Err(Bad("named entries out of order or repeated"));
    }
    state = idx;
    switch (e.tag) {
      case kUserObj:
        ++user_obj;
        break;
      case kGroupObj:
        ++group_obj;
        break;
      case kOther:
        ++other;
        break;
      case kMask:
        ++mask;
        break;
      default:
        ++named;
        break;
    }
    prev = &e;
  }
  if (acl.entries.empty()) return acl;  // an empty ACL: "remove"
  if (user_obj != 1 || group_obj != 1 || other != 1 || mask > 1) {
    return Err(Bad("owner, group and other entries"));
  }
  if (named > 0 && mask == 0) return Err(Bad("named entries without a mask"));
  return acl;
}

std::string Acl::Encode() const {
  std::string out;
  PutLE32(&out, kVersion);
  for (const Entry& e : entries) {
    PutLe16(&out, e.tag);
    PutLe16(&out, e.perm);
    PutLE32(&out, (e.tag == kUser || e.tag == kGroup) ? e.id : 0xffffffff);
  }
  return out;
}

bool Acl::IsMinimal() const {
  for (const Entry& e : entries) {
    if (e.tag != kUserObj && e.tag != kGroupObj && e.tag != kOther) return false;
  }
  return true;
}

uint32_t Acl::Mode() const {
  uint32_t user = 0, group = 0, other = 0, mask = 0;
  bool has_mask = false;
  for (const Entry& e : entries) {
    switch (e.tag) {
      case kUserObj:
        user = e.perm;
        break;
      case kGroupObj:
        group = e.perm;
        break;
      case kOther:
        other = e.perm;
        break;
      case kMask:
        mask = e.perm, has_mask = true;
        break;
      default:
        break;
    }
  }
  return user << 6 | (has_mask ? mask : group) << 3 | other;
}

void Acl::Chmod(uint32_t mode) {
  bool has_mask = false;
  for (const Entry& e : entries) has_mask |= e.tag == kMask;
  for (Entry& e : entries) {
    switch (e.tag) {
      case kUserObj:
        e.perm = static_cast<uint16_t>((mode >> 6) & 7);
        break;
      case kMask:
        e.perm = static_cast<uint16_t>((mode >> 3) & 7);
        break;
      case kGroupObj:
        if (!has_mask) e.perm = static_cast<uint16_t>((mode >> 3) & 7);
        break;
      case kOther:
        e.perm = static_cast<uint16_t>(mode & 7);
        break;
      default:
        break;
    }
  }
}

bool Acl::Grants(const Context& ctx, uint32_t owner_uid, uint32_t gid, uint32_t want) const {
  auto masked = [&](size_t i) {
    for (size_t j = i + 1; j < entries.size(); ++j) {
      if (entries[j].tag == kMask) return (entries[i].perm & entries[j].perm & want) == want;
    }
    return (entries[i].perm & want) == want;
  };
  bool found = false;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    switch (e.tag) {
      case kUserObj:
        if (ctx.uid == owner_uid) return (e.perm & want) == want;
        break;
      case kUser:
        if (ctx.uid == e.id) return masked(i);
        break;
      case kGroupObj:
      case kGroup:
        if (ctx.InGroup(e.tag == kGroupObj ? gid : e.id)) {
          found = true;
          if ((e.perm & want) == want) return masked(i);
        }
        break;
      case kOther:
        return !found && (e.perm & want) == want;
      default:
        break;
    }
  }
  return false;
}

void Acl::CreateMask(uint32_t* mode) {
  bool has_mask = false;
  for (const Entry& e : entries) has_mask |= e.tag == kMask;
  for (Entry& e : entries) {
    switch (e.tag) {
      case kUserObj:
        e.perm &= static_cast<uint16_t>((*mode >> 6) & 7);
        break;
      case kMask:
        e.perm &= static_cast<uint16_t>((*mode >> 3) & 7);
        break;
      case kGroupObj:
        if (!has_mask) e.perm &= static_cast<uint16_t>((*mode >> 3) & 7);
        break;
      case kOther:
        e.perm &= static_cast<uint16_t>(*mode & 7);
        break;
      default:
        break;
    }
  }
  *mode = (*mode & ~0777u) | Mode();
}

}  // namespace tessera::meta
