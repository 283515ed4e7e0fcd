// Login throttling per account and per client address: after `max_failures`
// failures within `window`, further attempts are refused until the window
// has passed since the oldest counted failure. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"

namespace pinhole {

struct ThrottleOptions {
  int max_failures = 5;
  Millis window = std::chrono::minutes(15);
  size_t max_keys = 100000;  // bounded memory; the oldest keys are dropped first
};

class LoginThrottle {
 public:
  LoginThrottle(const Clock& clock, ThrottleOptions options);
  // Zero if `key` may try now; otherwise how long until it may.
  Millis RetryAfter(const std::string& key);
  void RecordFailure(const std::string& key);
  // A success clears the failures of `key`.
  void RecordSuccess(const std::string& key);

 private:
  void Prune(std::deque<Time>& failures, Time now) const;
  const Clock& clock_;
  ThrottleOptions options_;
  std::mutex mu_;
  std::map<std::string, std::deque<Time>> failures_;
};

}  // namespace pinhole
