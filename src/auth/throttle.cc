#include "auth/throttle.h"

#include <algorithm>

namespace pinhole {

LoginThrottle::LoginThrottle(const Clock& clock, ThrottleOptions options)
    : clock_(clock), options_(options) {
  options_.max_failures = std::max(options_.max_failures, 1);
  options_.max_keys = std::max<size_t>(options_.max_keys, 1);
}

void LoginThrottle::Prune(std::deque<Time>& failures, Time now) const {
  while (!failures.empty() && failures.front() + options_.window <= now) failures.pop_front();
}

Millis LoginThrottle::RetryAfter(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return Millis(0);
  Time now = clock_.Now();
  Prune(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return Millis(0);
  }
  if (it->second.size() < static_cast<size_t>(options_.max_failures)) return Millis(0);
  // The deque never holds more than max_failures entries, so the front is the
  // oldest failure that still counts.
  return it->second.front() + options_.window - now;
}

void LoginThrottle::RecordFailure(const std::string& key) {
  std::lock_guard lock(mu_);
  Time now = clock_.Now();
  auto it = failures_.find(key);
  if (it == failures_.end()) {
    if (failures_.size() >= options_.max_keys) {
      // Full: first drop what has aged out, then, if that was not enough,
      // the key whose latest failure is oldest. A sweep per new key once
      // full is O(keys) but only under a flood of distinct keys.
      for (auto e = failures_.begin(); e != failures_.end();) {
        Prune(e->second, now);
        e = e->second.empty() ? failures_.erase(e) : std::next(e);
      }
      if (failures_.size() >= options_.max_keys) {
        auto oldest = std::min_element(
            failures_.begin(), failures_.end(),
            [](const auto& a, const auto& b) { return a.second.back() < b.second.back(); });
        failures_.erase(oldest);
      }
    }
    it = failures_.emplace(key, std::deque<Time>{}).first;
  }
  auto& q = it->second;
  Prune(q, now);
  q.push_back(now);
  while (q.size() > static_cast<size_t>(options_.max_failures)) q.pop_front();
}

void LoginThrottle::RecordSuccess(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

}  // namespace pinhole
