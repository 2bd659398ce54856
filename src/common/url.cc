#include "common/url.h"

#include <algorithm>
#include <cctype>

namespace tessera {
namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ", ";
    s += x + "://";
  }
  return s;
}

std::string PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

std::string Url::Redacted() const {
  if (password.empty()) return original;
  std::string out = original;
  // The authority's last '@', where ParseUrl splits it: a raw '@' may be in the password.
  size_t at = out.rfind('@', out.find_first_of("/?", scheme.size() + 3));
  size_t colon = out.find(':', scheme.size() + 3);
  if (at != std::string::npos && colon != std::string::npos && colon < at) {
    out.replace(colon + 1, at - colon - 1, "****");
  }
  return out;
}

Result<Url> ParseUrl(const std::string& text, const std::vector<std::string>& supported) {
  Url u;
  u.original = text;
  size_t sep = text.find("://");
  if (sep == std::string::npos || sep == 0) {
    return Err(Code::kInvalid, "'" + text + "' is not a URL; expected one of: " + Join(supported));
  }
  u.scheme = text.substr(0, sep);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (std::find(supported.begin(), supported.end(), u.scheme) == supported.end()) {
    return Err(Code::kInvalid, "unsupported URL scheme '" + u.scheme + "://' in '" + text +
                                   "'; supported: " + Join(supported));
  }
  std::string rest = text.substr(sep + 3);
  size_t q = rest.find('?');
  if (q != std::string::npos) {
    u.query = rest.substr(q + 1);
    rest.resize(q);
  }
  if (u.scheme == "sqlite3" || u.scheme == "file" || u.scheme == "mem") {
    // No authority: everything is the path ("sqlite3:///abs" or "sqlite3://rel").
    u.path = rest;
    if (u.path.empty()) return Err(Code::kInvalid, "'" + text + "' has no path");
    return u;
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "" : rest.substr(slash);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string cred = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = cred.find(':');
    u.user = PercentDecode(cred.substr(0, colon));
    if (colon != std::string::npos) u.password = PercentDecode(cred.substr(colon + 1));
  }
  u.host = authority;
  if (authority.find(',') == std::string::npos) {
    size_t colon = authority.rfind(':');
    if (colon != std::string::npos && authority.find(']') == std::string::npos) {
      std::string port = authority.substr(colon + 1);
      if (port.empty() || !std::all_of(port.begin(), port.end(), ::isdigit) || port.size() > 5) {
        return Err(Code::kInvalid, "bad port '" + port + "' in '" + u.Redacted() + "'");
      }
      u.port = std::stoi(port);
      u.host = authority.substr(0, colon);
    }
  }
  if (u.host.empty()) return Err(Code::kInvalid, "'" + u.Redacted() + "' has no host");
  return u;
}

}  // namespace tessera
