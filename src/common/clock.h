// Time as tessera sees it: wall-clock timestamps with nanoseconds for file
// attributes, behind an interface so tests can use a fake clock. Safe for
// concurrent use.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace tessera {

struct Timespec {
  int64_t sec = 0;
  uint32_t nsec = 0;
  bool operator==(const Timespec&) const = default;
  auto operator<=>(const Timespec&) const = default;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timespec Now() const = 0;
};

class RealClock : public Clock {
 public:
  Timespec Now() const override {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return {ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
  }
};

// A clock that only moves when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_sec = 1700000000) : ns_(start_sec * 1000000000LL) {}
  Timespec Now() const override {
    int64_t ns = ns_.load();
    return {ns / 1000000000LL, static_cast<uint32_t>(ns % 1000000000LL)};
  }
  void Advance(int64_t ns) { ns_ += ns; }

 private:
  std::atomic<int64_t> ns_;
};

// The process-wide real clock.
const Clock& SystemClock();

}  // namespace tessera
