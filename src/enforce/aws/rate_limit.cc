#include "enforce/aws/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace pinhole::aws {

TokenBucket::TokenBucket(double capacity, double refill_per_second, Time now)
    : capacity_(std::max(1.0, capacity)),
      rate_per_ms_(std::max(1e-6, refill_per_second) / 1000.0),
      tokens_(capacity_),
      last_(now) {}

void TokenBucket::Refill(Time now) {
  if (now > last_) {
    tokens_ =
        std::min(capacity_, tokens_ + static_cast<double>((now - last_).count()) * rate_per_ms_);
    last_ = now;
  }
}

Millis TokenBucket::Take(Time now, Millis max_wait) {
  Refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return Millis(0);
  }
  Millis wait(static_cast<int64_t>(std::ceil((1.0 - tokens_) / rate_per_ms_)));
  if (wait > max_wait) return wait;
  tokens_ -= 1.0;  // a debt that the refill pays before the next caller's turn
  return wait;
}

Millis TokenBucket::WaitTime(Time now) {
  Refill(now);
  if (tokens_ >= 1.0) return Millis(0);
  return Millis(static_cast<int64_t>(std::ceil((1.0 - tokens_) / rate_per_ms_)));
}

void TokenBucket::Drain(Time now) {
  Refill(now);
  tokens_ = std::min(tokens_, 0.0);
}

double TokenBucket::tokens(Time now) {
  Refill(now);
  return tokens_;
}

Backoff::Backoff(Millis base, Millis cap, uint64_t seed) : base_(base), cap_(cap), rng_(seed) {}

Millis Backoff::Delay(int attempt) {
  int shift = std::clamp(attempt - 1, 0, 30);
  double ceiling = std::min(static_cast<double>(cap_.count()),
                            static_cast<double>(base_.count()) * std::pow(2.0, shift));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return Millis(static_cast<int64_t>(unit(rng_) * ceiling));
}

}  // namespace pinhole::aws
