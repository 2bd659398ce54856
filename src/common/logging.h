// Logging: one line per event, to stderr by default or to a file (for a
// mount running in the background). Safe for concurrent use; each line is
// written with one write(2) so lines from threads never interleave.
//
//   TLOG(kWarn) << "block " << key << " failed its checksum";
#pragma once

#include <sstream>
#include <string>

#include "common/status.h"

namespace tessera::log {

enum Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
// Sends further lines to `path` (appending). Returns an error if it cannot be opened.
Status SetFile(const std::string& path);

class Line {
 public:
  Line(Level level, const char* file, int line);
  ~Line();
  template <typename T>
  Line& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Level level_;
  std::ostringstream stream_;
};

// Turns the streamed Line into void so TLOG works as one expression.
struct Voidify {
  void operator&(const Line&) {}
};

}  // namespace tessera::log

#define TLOG(level)                                                 \
  (::tessera::log::level < ::tessera::log::GetLevel())             \
      ? (void)0                                                     \
      : ::tessera::log::Voidify() &                                 \
            ::tessera::log::Line(::tessera::log::level, __FILE__, __LINE__)
