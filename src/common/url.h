// Parsing of metadata and storage URLs.
//
//   sqlite3:///abs/path/meta.db   sqlite3://relative/meta.db   mem://name
//   redis://user:pass@host:6379/1   (later engines share this parser)
//
// Parse() only splits; each engine decides which parts it needs and says
// clearly what is wrong with a URL it cannot use.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace tessera {

struct Url {
  std::string scheme;    // lower-case, without "://"
  std::string user;      // percent-decoded
  std::string password;  // percent-decoded
  std::string host;      // may hold several "h1:p1,h2:p2"
  int port = 0;          // 0 when absent
  std::string path;      // everything after the authority, query removed
  std::string query;     // text after '?', raw
  std::string original;

  // The URL with any password replaced by "****", for logs and status output.
  std::string Redacted() const;
};

// Splits `text`. A URL without "scheme://" is an error that names the
// supported schemes passed in `supported` (e.g. {"sqlite3", "mem"}).
Result<Url> ParseUrl(const std::string& text, const std::vector<std::string>& supported);

}  // namespace tessera
