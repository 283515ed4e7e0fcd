// Sign-ins between the redirect to the provider and its callback, keyed by
// the `state` parameter. Kept on the server (nothing secret travels in the
// browser), bounded, and single use.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole::oidc {

struct PendingLogin {
  std::string provider;
  std::string nonce;
  std::string code_verifier;  // PKCE (RFC 7636)
  std::string return_to;      // a local path
  Time expires_at{};
};

class PendingLogins {
 public:
  explicit PendingLogins(size_t capacity = 10000, Seconds ttl = Seconds(600))
      : capacity_(capacity), ttl_(ttl) {}

  // Remembers `login` under `state` until now + ttl. When full, expired and
  // used entries go first, then the oldest pending one.
  void Put(const std::string& state, PendingLogin login, Time now);

  // Takes the login for `state` once. Errors (Code::kUnauthenticated):
  // "state_unknown" (never issued, or forgotten), "state_used" (taken
  // before: a replayed callback), "state_expired".
  Result<PendingLogin> Take(const std::string& state, Time now);

  size_t size() const;
  Seconds ttl() const { return ttl_; }

 private:
  struct Entry {
    PendingLogin login;
    Time created{};
    bool used = false;
  };
  void MakeRoom(Time now);

  const size_t capacity_;
  const Seconds ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace pinhole::oidc
