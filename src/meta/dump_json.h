// Internal to meta/: the JSON pieces shared by Dump (dump.cc) and Load
// (load.cc) — byte strings, base64, file types and attribute records — so
// that what one writes the other reads. See docs/formats.md, "Dump format".
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "meta/meta.h"

namespace tessera::meta::dump {

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), i.e. what a JSON parser accepts.
bool IsUtf8(std::string_view s);

// Appends `s` (valid UTF-8) as a JSON string literal.
void AppendString(std::string* out, std::string_view s);

// Appends arbitrary bytes losslessly: a JSON string when they are valid
// UTF-8, else {"base64":"..."}.
void AppendBytes(std::string* out, std::string_view bytes);
// The bytes of a value written by AppendBytes; kCorrupt naming `what` otherwise.
Result<std::string> BytesFromJson(const nlohmann::json& j, std::string_view what);

std::string Base64Encode(std::string_view data);
// Strict: standard alphabet, '=' padding, no whitespace.
std::optional<std::string> Base64Decode(std::string_view text);

// "file", "dir", "symlink", "fifo", "char", "block", "socket" for the S_IFMT
// bits of a mode; nullptr for anything else.
const char* TypeName(uint32_t mode);
// The S_IFMT bits of a type name; nullopt when unknown.
std::optional<uint32_t> TypeBits(std::string_view name);

// {"type":..,"mode":"0644",...}; kCorrupt when the mode has no known type or
// bits outside S_IFMT|07777.
Result<std::string> AttrToJson(const Attr& attr);
Result<Attr> AttrFromJson(const nlohmann::json& j);

// The fields of the settings object `settings` that hold secrets, i.e. those
// that Settings::ToJson(redact=true) replaces, each with the value it puts
// in their place ("removed").
std::vector<std::pair<std::string, nlohmann::json>> SecretFields(const nlohmann::json& settings);

// The key as text for messages: printable ASCII as is, other bytes as \xHH.
std::string Printable(std::string_view key);

}  // namespace tessera::meta::dump
