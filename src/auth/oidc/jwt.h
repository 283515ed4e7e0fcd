// Compact JWS ID tokens (RFC 7515/7519, OpenID Connect Core 3.1.3.7):
// parsing, signature verification with a JWK, and claim checks. Pure: no
// I/O, the time is passed in; thread-safe.
//
// Every failure is a Status with Code::kUnauthenticated and a reason the
// audit log records: token_malformed, alg_not_allowed, key_mismatch,
// bad_signature, bad_issuer, bad_audience, bad_azp, token_expired,
// token_issued_in_future, bad_nonce, missing_claim.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "auth/oidc/jwk.h"
#include "core/clock.h"
#include "core/result.h"

namespace pinhole::oidc {

// The only signature algorithms accepted. "none" and the HMAC family are
// never accepted: an HS256 token "signed" with the provider's public key
// would otherwise verify.
inline const std::vector<std::string>& AllowedAlgs() {
  static const std::vector<std::string> kAlgs = {"RS256", "ES256"};
  return kAlgs;
}

struct Jwt {
  nlohmann::json header;  // object
  nlohmann::json claims;  // object
  std::string alg;
  std::string kid;            // "" if the header has none
  std::string signing_input;  // base64url(header) "." base64url(payload)
  std::string signature;      // raw bytes
};

// Splits and decodes a compact JWS. Refuses more or fewer than three parts,
// bad base64url, non-object JSON, a missing or non-string alg, a "crit"
// header (no extensions are understood) and tokens over 16 KiB.
Result<Jwt> ParseJwt(std::string_view token);

// Checks the signature with `key`: alg in AllowedAlgs, the key's type fits
// the alg (RS256 needs RSA, ES256 needs P-256), the JWK's own alg (if any)
// equals the header's.
Status VerifySignature(const Jwt& jwt, const Jwk& key);

struct ClaimChecks {
  std::string issuer;     // exact match of "iss"
  std::string client_id;  // must be in "aud"; with several audiences, "azp" must equal it
  std::string nonce;      // exact match of "nonce"
  Time now{};
  Seconds leeway{60};  // clock skew allowed on exp and iat
};

// iss, aud/azp, exp (required, now < exp + leeway), iat (required, not after
// now + leeway), nonce, and a non-empty "sub".
Status CheckClaims(const nlohmann::json& claims, const ClaimChecks& want);

}  // namespace pinhole::oidc
