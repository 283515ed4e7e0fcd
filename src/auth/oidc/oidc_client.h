// An OpenID Connect relying party for one provider: the authorization code
// flow with PKCE (S256), discovery, the provider's keys (cached by kid and
// refetched, rate-limited, when a token names an unknown kid, so a rotated
// key is picked up without a restart), and ID token validation (jwt.h).
//
// I/O goes through an HttpFetcher; time is passed in. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/oidc/discovery.h"
#include "auth/oidc/http_fetch.h"
#include "auth/oidc/jwk.h"
#include "auth/oidc/jwt.h"
#include "auth/oidc/pending_logins.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"

namespace pinhole::oidc {

// RFC 7636 4.2: BASE64URL(SHA256(ASCII(code_verifier))).
std::string PkceChallenge(std::string_view code_verifier);
// RFC 3986 unreserved characters kept, everything else %XX.
std::string PercentEncode(std::string_view s);

// Who the provider says signed in.
struct Identity {
  std::string subject;  // "<iss> <sub>": unique across providers
  std::string email;    // as the claim says ("" if none)
  std::optional<bool> email_verified;
  std::vector<std::string> groups;  // mapped to Pinhole group names (MapGroups)
};

// The provider's groups claim (an array of strings, or one string) mapped
// through `group_map`; values not in the map are dropped, so a provider
// cannot name an arbitrary Pinhole group (e.g. one that policies trust).
std::vector<std::string> MapGroups(const nlohmann::json& claims, const OidcProviderConfig& cfg);

class OidcClient {
 public:
  // `fetcher` must outlive the client.
  OidcClient(OidcProviderConfig config, HttpFetcher& fetcher);

  const OidcProviderConfig& config() const { return config_; }

  // Starts a sign-in: a fresh state, nonce and PKCE verifier remembered in
  // `pending`, and the authorization URL to send the browser to. Fails
  // (Unavailable, "provider_unavailable") if discovery fails.
  Result<std::string> BeginLogin(const std::string& redirect_uri, const std::string& return_to,
                                 PendingLogins& pending, Time now);

  // Exchanges `code` (for a login taken from PendingLogins) at the token
  // endpoint and validates the ID token. Errors are Unauthenticated with
  // the reasons of jwt.h plus "token_exchange_failed", "unknown_kid";
  // Unavailable "provider_unavailable" when the provider cannot be reached.
  Result<Identity> FinishLogin(const std::string& code, const PendingLogin& login,
                               const std::string& redirect_uri, Time now);

  // How long to wait before refetching the keys for an unknown kid.
  static constexpr Seconds kJwksRefetchInterval{10};

 private:
  Result<ProviderMetadata> Metadata();
  Result<Jwk> KeyFor(const Jwt& jwt, Time now);
  Status FetchKeys(const std::string& jwks_uri, Time now);

  const OidcProviderConfig config_;
  HttpFetcher& fetcher_;
  std::mutex mu_;
  std::optional<ProviderMetadata> metadata_;
  std::vector<Jwk> keys_;
  std::optional<Time> keys_fetched_at_;
};

}  // namespace pinhole::oidc
