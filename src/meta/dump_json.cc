// Byte strings, base64, file types and attributes in the dump's JSON.
#include "meta/dump_json.h"

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

namespace tessera::meta::dump {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBase64Chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct TypeInfo {
  uint32_t bits;
  const char* name;
};
constexpr std::array<TypeInfo, 7> kTypes = {{{S_IFREG, "file"},
                                             {S_IFDIR, "dir"},
                                             {S_IFLNK, "symlink"},
                                             {S_IFIFO, "fifo"},
                                             {S_IFCHR, "char"},
                                             {S_IFBLK, "block"},
                                             {S_IFSOCK, "socket"}}};

Status Bad(std::string_view what, std::string_view want) {
  return Status(Code::kCorrupt, std::string(what) + " must be " + std::string(want));
}

Result<uint64_t> Unsigned(const Json& j, std::string_view what, uint64_t max) {
  if (!j.is_number_unsigned()) return Err(Bad(what, "a non-negative integer"));
  uint64_t v = j.get<uint64_t>();
  if (v > max) return Err(Bad(what, "at most " + std::to_string(max)));
  return v;
}

Result<int64_t> Signed(const Json& j, std::string_view what) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Err(Bad(what, "a 64-bit signed integer"));
    }
    return static_cast<int64_t>(v);
  }
  if (!j.is_number_integer()) return Err(Bad(what, "an integer"));
  return j.get<int64_t>();
}

Result<Timespec> TimeFromJson(const Json& j, std::string_view what) {
  if (!j.is_array() || j.size() != 2) return Err(Bad(what, "[seconds, nanoseconds]"));
  Timespec t;
  ASSIGN_OR_RETURN(t.sec, Signed(j[0], what));
  ASSIGN_OR_RETURN(uint64_t nsec, Unsigned(j[1], what, std::numeric_limits<uint32_t>::max()));
  t.nsec = static_cast<uint32_t>(nsec);
  return t;
}

void AppendTime(std::string* out, const Timespec& t) {
  *out += '[';
  *out += std::to_string(t.sec);
  *out += ',';
  *out += std::to_string(t.nsec);
  *out += ']';
}

}  // namespace

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t min = 0, cp = 0;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

void AppendString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    switch (ch) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

void AppendBytes(std::string* out, std::string_view bytes) {
  if (IsUtf8(bytes)) {
    AppendString(out, bytes);
    return;
  }
  *out += "{\"base64\":\"";
  *out += Base64Encode(bytes);
  *out += "\"}";
}

Result<std::string> BytesFromJson(const Json& j, std::string_view what) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
    auto bytes = Base64Decode(j["base64"].get_ref<const std::string&>());
    if (!bytes) return Err(Bad(what, "valid base64 in {\"base64\": ...}"));
    return std::move(*bytes);
  }
  return Err(Bad(what, "a string or {\"base64\": \"...\"}"));
}

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8) |
                 static_cast<uint8_t>(data[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kBase64Chars[(v >> shift) & 63]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    if (rest == 2) v |= static_cast<uint8_t>(data[i + 1]) << 8;
    out.push_back(kBase64Chars[(v >> 18) & 63]);
    out.push_back(kBase64Chars[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Chars[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      uint32_t d = 0;
      if (c == '=') {
        // Padding only at the end, in the last one or two places.
        if (i + 4 != text.size() || k < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        size_t pos = kBase64Chars.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        d = static_cast<uint32_t>(pos);
      }
      v = (v << 6) | d;
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

const char* TypeName(uint32_t mode) {
  for (const auto& t : kTypes) {
    if ((mode & S_IFMT) == t.bits) return t.name;
  }
  return nullptr;
}

std::optional<uint32_t> TypeBits(std::string_view name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.bits;
  }
  return std::nullopt;
}

Result<std::string> AttrToJson(const Attr& a) {
  const char* type = TypeName(a.mode);
  if (type == nullptr || (a.mode & ~(S_IFMT | 07777)) != 0) {
    return Err(Code::kCorrupt, "mode " + std::to_string(a.mode) + " has no known file type");
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", a.mode & 07777);
  std::string out = "{\"type\":\"";
  out += type;
  out += "\",\"mode\":\"";
  out += mode;
  out += "\",\"uid\":" + std::to_string(a.uid);
  out += ",\"gid\":" + std::to_string(a.gid);
  out += ",\"atime\":";
  AppendTime(&out, a.atime);
  out += ",\"mtime\":";
  AppendTime(&out, a.mtime);
  out += ",\"ctime\":";
  AppendTime(&out, a.ctime);
  out += ",\"nlink\":" + std::to_string(a.nlink);
  out += ",\"length\":" + std::to_string(a.length);
  out += ",\"rdev\":" + std::to_string(a.rdev);
  out += ",\"parent\":" + std::to_string(a.parent);
  out += ",\"flags\":" + std::to_string(a.flags);
  out += '}';
  return out;
}

Result<Attr> AttrFromJson(const Json& j) {
  if (!j.is_object()) return Err(Bad("attr", "an object"));
  static constexpr std::array<std::string_view, 12> kFields = {
      "type",  "mode",  "uid",    "gid",  "atime",  "mtime",
      "ctime", "nlink", "length", "rdev", "parent", "flags"};
  for (const auto& [key, value] : j.items()) {
    bool known = false;
    for (auto f : kFields) known = known || key == f;
    if (!known) return Err(Code::kCorrupt, "attr has an unknown field \"" + key + "\"");
  }
  for (auto f : kFields) {
    if (!j.contains(f)) return Err(Code::kCorrupt, "attr lacks \"" + std::string(f) + "\"");
  }
  constexpr uint64_t k32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t k64 = std::numeric_limits<uint64_t>::max();
  Attr a;
  const Json& type = j["type"];
  auto bits = type.is_string() ? TypeBits(type.get_ref<const std::string&>()) : std::nullopt;
  if (!bits) return Err(Bad("attr.type", "file, dir, symlink, fifo, char, block or socket"));
  const Json& mode = j["mode"];
  uint32_t perm = 0;
  bool mode_ok = mode.is_string() && !mode.get_ref<const std::string&>().empty() &&
                 mode.get_ref<const std::string&>().size() <= 4;
  if (mode_ok) {
    for (char c : mode.get_ref<const std::string&>()) {
      mode_ok = mode_ok && c >= '0' && c <= '7';
      perm = perm * 8 + static_cast<uint32_t>(c - '0');
    }
  }
  if (!mode_ok) return Err(Bad("attr.mode", "an octal string such as \"0644\""));
  a.mode = *bits | perm;
  ASSIGN_OR_RETURN(uint64_t uid, Unsigned(j["uid"], "attr.uid", k32));
  ASSIGN_OR_RETURN(uint64_t gid, Unsigned(j["gid"], "attr.gid", k32));
  ASSIGN_OR_RETURN(a.atime, TimeFromJson(j["atime"], "attr.atime"));
  ASSIGN_OR_RETURN(a.mtime, TimeFromJson(j["mtime"], "attr.mtime"));
  ASSIGN_OR_RETURN(a.ctime, TimeFromJson(j["ctime"], "attr.ctime"));
  ASSIGN_OR_RETURN(uint64_t nlink, Unsigned(j["nlink"], "attr.nlink", k32));
  ASSIGN_OR_RETURN(a.length, Unsigned(j["length"], "attr.length", k64));
  ASSIGN_OR_RETURN(uint64_t rdev, Unsigned(j["rdev"], "attr.rdev", k32));
  ASSIGN_OR_RETURN(a.parent, Unsigned(j["parent"], "attr.parent", k64));
  ASSIGN_OR_RETURN(uint64_t flags, Unsigned(j["flags"], "attr.flags", 255));
  a.uid = static_cast<uint32_t>(uid);
  a.gid = static_cast<uint32_t>(gid);
  a.nlink = static_cast<uint32_t>(nlink);
  a.rdev = static_cast<uint32_t>(rdev);
  a.flags = static_cast<uint8_t>(flags);
  return a;
}

std::vector<std::pair<std::string, Json>> SecretFields(const Json& settings) {
  // Give every string field a value, so that ToJson writes every field it
  // would hide, and see which ones come out differently when redacting.
  Json probe = settings.is_object() ? settings : Json::object();
  for (auto& [field, value] : probe.items()) {
    if (value.is_string()) value = "probe";
  }
  std::vector<std::pair<std::string, Json>> out;
  auto parsed = Settings::FromJson(probe.dump());
  if (!parsed) return out;
  auto full = Json::parse(parsed->ToJson(/*redact=*/false));
  auto redacted = Json::parse(parsed->ToJson(/*redact=*/true));
  for (const auto& [field, value] : redacted.items()) {
    if (full[field] != value) out.emplace_back(field, value);
  }
  return out;
}

std::string Printable(std::string_view key) {
  std::string out;
  for (char ch : key) {
    auto c = static_cast<uint8_t>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(ch);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace tessera::meta::dump
