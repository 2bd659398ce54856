// Settings <-> JSON. Unknown fields are ignored (a newer build may add some);
// a field of the wrong type is an error naming the field.
#include <nlohmann/json.hpp>

#include "meta/meta.h"

namespace tessera::meta {
namespace {

using Json = nlohmann::json;

Status TypeError(std::string_view field, std::string_view want) {
  return Status(Code::kInvalid,
                "settings: field \"" + std::string(field) + "\" must be " + std::string(want));
}

Status ReadString(const Json& j, const char* field, std::string* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return TypeError(field, "a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

template <typename T>
Status ReadUnsigned(const Json& j, const char* field, T* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_unsigned()) return TypeError(field, "a non-negative integer");
  uint64_t v = it->get<uint64_t>();
  if (v > std::numeric_limits<T>::max()) return TypeError(field, "smaller");
  *out = static_cast<T>(v);
  return Status::Ok();
}

Status ReadInt(const Json& j, const char* field, int* out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return TypeError(field, "an integer");
  int64_t v = it->get<int64_t>();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    return TypeError(field, "a 32-bit integer");
  }
  *out = static_cast<int>(v);
  return Status::Ok();
}

}  // namespace

std::string Settings::ToJson(bool redact) const {
  Json j = {
      {"name", name},
      {"uuid", uuid},
      {"storage", storage},
      {"bucket", bucket},
      {"block_size", block_size},
      {"compression", compression},
      {"checksum", checksum},
      {"trash_days", trash_days},
      {"capacity", capacity},
      {"inodes", inodes},
      {"format_version", format_version},
  };
  if (!access_key.empty()) j["access_key"] = access_key;
  if (!secret_key_sealed.empty()) j["secret_key_sealed"] = redact ? "removed" : secret_key_sealed;
  if (!encrypt_key_wrapped.empty()) {
    j["encrypt_key_wrapped"] = redact ? "removed" : encrypt_key_wrapped;
    j["encrypt_private_pem"] = redact ? "removed" : encrypt_private_pem;
  }
  return j.dump();
}

Result<Settings> Settings::FromJson(std::string_view json) {
  Json j = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Err(Code::kInvalid, "settings: not valid JSON");
  if (!j.is_object()) return Err(Code::kInvalid, "settings: JSON is not an object");
  Settings s;
  RETURN_IF_ERROR(ReadString(j, "name", &s.name));
  RETURN_IF_ERROR(ReadString(j, "uuid", &s.uuid));
  RETURN_IF_ERROR(ReadString(j, "storage", &s.storage));
  RETURN_IF_ERROR(ReadString(j, "bucket", &s.bucket));
  RETURN_IF_ERROR(ReadUnsigned(j, "block_size", &s.block_size));
  RETURN_IF_ERROR(ReadString(j, "compression", &s.compression));
  RETURN_IF_ERROR(ReadString(j, "checksum", &s.checksum));
  RETURN_IF_ERROR(ReadString(j, "access_key", &s.access_key));
  RETURN_IF_ERROR(ReadString(j, "secret_key_sealed", &s.secret_key_sealed));
  RETURN_IF_ERROR(ReadString(j, "encrypt_key_wrapped", &s.encrypt_key_wrapped));
  RETURN_IF_ERROR(ReadString(j, "encrypt_private_pem", &s.encrypt_private_pem));
  RETURN_IF_ERROR(ReadInt(j, "trash_days", &s.trash_days));
  RETURN_IF_ERROR(ReadUnsigned(j, "capacity", &s.capacity));
  RETURN_IF_ERROR(ReadUnsigned(j, "inodes", &s.inodes));
  RETURN_IF_ERROR(ReadUnsigned(j, "format_version", &s.format_version));
  return s;
}

}  // namespace tessera::meta
