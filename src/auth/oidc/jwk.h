// JSON Web Keys (RFC 7517) as OpenSSL 3 public keys: RSA (n, e) and EC P-256
// (crv, x, y), the two key types behind the ID token algorithms Pinhole
// accepts (RS256, ES256). Pure: parsing only, no I/O; thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace pinhole::oidc {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const;
};
using Pkey = std::shared_ptr<EVP_PKEY>;

enum class KeyType { kRsa, kEcP256 };

struct Jwk {
  std::string kid;  // may be empty (a set with one key need not name it)
  std::string alg;  // optional in the JWK; if present it binds the key to one alg
  KeyType type = KeyType::kRsa;
  Pkey key;
};

// One JWK object (JSON text of an object). Errors are InvalidArgument with
// reason "invalid_jwk" naming what is wrong: an unsupported kty or crv, a
// private key, a missing or badly encoded member, an RSA modulus under 2048
// bits, an EC point not on the curve.
Result<Jwk> ParseJwk(std::string_view json_text);

// A JWK Set ({"keys":[...]}). Keys Pinhole cannot use for signatures (use
// other than "sig", unsupported kty/crv, malformed) are skipped, so one odd
// key at the provider does not lock everyone out; the text itself must be a
// JSON object with a "keys" array (else InvalidArgument "invalid_jwks").
Result<std::vector<Jwk>> ParseJwks(std::string_view json_text);

}  // namespace pinhole::oidc
