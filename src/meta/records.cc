// Attribute and directory entry records (see records.h for the layout).
#include "meta/records.h"

#include "common/encoding.h"

namespace tessera::meta {
namespace {

void PutTime(std::string* out, const Timespec& t) {
  PutBE64(out, static_cast<uint64_t>(t.sec));
  PutBE32(out, t.nsec);
}

Timespec GetTime(Decoder& d) {
  Timespec t;
  t.sec = static_cast<int64_t>(d.BE64());
  t.nsec = d.BE32();
  return t;
}

}  // namespace

std::string EncodeAttr(const Attr& a) {
  std::string out;
  out.reserve(kAttrRecordSize);
  PutU8(&out, a.flags);
  PutBE32(&out, a.mode);
  PutBE32(&out, a.uid);
  PutBE32(&out, a.gid);
  PutTime(&out, a.atime);
  PutTime(&out, a.mtime);
  PutTime(&out, a.ctime);
  PutBE32(&out, a.nlink);
  PutBE64(&out, a.length);
  PutBE32(&out, a.rdev);
  PutBE64(&out, a.parent);
  PutBE64(&out, a.allocated);
  return out;
}

Result<Attr> DecodeAttr(std::string_view data) {
  if (data.size() < kAttrRecordSizeNoAllocated) {
    return Err(Code::kCorrupt, "attribute record of " + std::to_string(data.size()) +
                                   " bytes, expected " + std::to_string(kAttrRecordSize));
  }
  Decoder d(data);
  Attr a;
  a.flags = d.U8();
  a.mode = d.BE32();
  a.uid = d.BE32();
  a.gid = d.BE32();
  a.atime = GetTime(d);
  a.mtime = GetTime(d);
  a.ctime = GetTime(d);
  a.nlink = d.BE32();
  a.length = d.BE64();
  a.rdev = d.BE32();
  a.parent = d.BE64();
  if (data.size() >= kAttrRecordSize) {
    a.allocated = d.BE64();
  } else if (a.IsFile()) {
    a.allocated = kAllocatedUnknown;  // a record from before the field
  }
  return a;
}

std::string EncodeDentry(uint32_t mode, Ino ino) {
  std::string out;
  PutU8(&out, static_cast<uint8_t>((mode & S_IFMT) >> 12));
  PutBE64(&out, ino);
  return out;
}

Result<DentryValue> DecodeDentry(std::string_view data) {
  if (data.size() != 9) {
    return Err(Code::kCorrupt, "directory entry of " + std::to_string(data.size()) +
                                   " bytes, expected 9");
  }
  DentryValue v;
  v.type = static_cast<uint8_t>(data[0]);
  v.ino = GetBE64(data.data() + 1);
  return v;
}

}  // namespace tessera::meta
