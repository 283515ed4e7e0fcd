// Client-side pacing of EC2 calls: a token bucket shaped like EC2's own
// (so that Pinhole spends its budget instead of being throttled), and the
// jittered exponential back-off used after throttling and transient errors.
//
// Both take times from the caller (no clock inside), so tests drive them
// with a manual clock. Not thread-safe: the owner serialises access.
#pragma once

#include <cstdint>
#include <random>

#include "core/clock.h"

namespace pinhole::aws {

class TokenBucket {
 public:
  // Starts full. `capacity` >= 1, `refill_per_second` > 0.
  TokenBucket(double capacity, double refill_per_second, Time now);

  // Takes one token. Returns how long the caller must wait before making the
  // call (0 when a token was there); the token is spent either way, so
  // concurrent users queue up behind each other. If the wait would exceed
  // `max_wait`, nothing is taken and the wait is returned anyway (> max_wait).
  Millis Take(Time now, Millis max_wait);

  // How long a Take now would wait, without taking anything.
  Millis WaitTime(Time now);

  // EC2 said we are throttled: its bucket is empty, so is ours.
  void Drain(Time now);

  double tokens(Time now);  // for tests and metrics

 private:
  void Refill(Time now);

  double capacity_;
  double rate_per_ms_;
  double tokens_;
  Time last_;
};

// Delay before retry number `attempt` (1 = the first retry):
// random(0,1) * min(base * 2^(attempt-1), cap), "full jitter".
class Backoff {
 public:
  Backoff(Millis base, Millis cap, uint64_t seed);
  Millis Delay(int attempt);

 private:
  Millis base_;
  Millis cap_;
  std::mt19937_64 rng_;
};

}  // namespace pinhole::aws
