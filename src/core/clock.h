// Time in Pinhole, and the Clock seam that lets tests move it by hand.
//
// Times are UTC with millisecond precision. Clock implementations are
// thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pinhole {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using Time = std::chrono::sys_time<Millis>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Time Now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

// A clock that only moves when told to; for unit tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start = Time(Millis(1'795'000'000'000)))
      : now_(start.time_since_epoch().count()) {}
  Time Now() const override { return Time(Millis(now_.load())); }
  void Advance(Millis d) { now_ += d.count(); }
  void Set(Time t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 in UTC, e.g. "2026-11-21T09:30:00Z" (milliseconds appended only when non-zero).
std::string FormatTime(Time t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)". nullopt when malformed.
std::optional<Time> ParseTime(std::string_view s);

}  // namespace pinhole
