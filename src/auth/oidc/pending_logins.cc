#include "auth/oidc/pending_logins.h"

#include <algorithm>

namespace pinhole::oidc {

void PendingLogins::MakeRoom(Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.login.expires_at <= now || it->second.used) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  while (entries_.size() >= capacity_ && !entries_.empty()) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
    entries_.erase(oldest);
  }
}

void PendingLogins::Put(const std::string& state, PendingLogin login, Time now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) MakeRoom(now);
  login.expires_at = now + ttl_;
  entries_[state] = Entry{std::move(login), now, false};
}

Result<PendingLogin> PendingLogins::Take(const std::string& state, Time now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(state);
  if (it == entries_.end() || state.empty()) {
    return Status(Code::kUnauthenticated, "state_unknown", "this sign-in was not started here");
  }
  if (it->second.used) {
    return Status(Code::kUnauthenticated, "state_used", "this sign-in was already completed");
  }
  // Used entries stay (until they expire or room is needed) so that a
  // replay is named as one in the audit log.
  it->second.used = true;
  if (it->second.login.expires_at <= now) {
    return Status(Code::kUnauthenticated, "state_expired", "this sign-in took too long");
  }
  return it->second.login;
}

size_t PendingLogins::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace pinhole::oidc
