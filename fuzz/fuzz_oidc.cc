// Fuzzes the OIDC parsers that read what an identity provider (or someone
// posing as one) sends: ID tokens (auth/oidc/jwt.h), JWKs and JWK sets
// (jwk.h), discovery documents (discovery.h) and base64url. Nothing may
// crash; base64url round-trips; and with no key the input can make, no
// arbitrary token verifies against the fixed key below.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/oidc/base64url.h"
#include "auth/oidc/discovery.h"
#include "auth/oidc/jwk.h"
#include "auth/oidc/jwt.h"
#include "fuzz_check.h"

namespace pinhole::oidc {
namespace {

using fuzz::Escape;

// A fixed P-256 public key whose private half was thrown away.
const Jwk& FixedKey() {
  static const Jwk key = ParseJwk(R"({"kty":"EC","crv":"P-256","kid":"k",)"
                                  R"("x":"45FOgOoFYkPJgqXppppG43zDpLtIpS1hSM9Erhjm2go",)"
                                  R"("y":"4DsKznWUDie0WARSNvZU1M75eFzqkUBfh71SHo2Q9rE"})")
                             .value();
  return key;
}

}  // namespace
}  // namespace pinhole::oidc

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole::oidc;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto bytes = Base64UrlDecode(text)) {
    FUZZ_CHECK(Base64UrlEncode(*bytes) == text, Escape(text));
  }
  FUZZ_CHECK(Base64UrlDecode(Base64UrlEncode(text)) == std::string(text), Escape(text));

  if (auto jwt = ParseJwt(text); jwt.ok()) {
    FUZZ_CHECK(jwt->header.is_object() && jwt->claims.is_object(), Escape(text));
    pinhole::Status st = VerifySignature(*jwt, FixedKey());
    FUZZ_CHECK(!st.ok(), "arbitrary token verified: " + Escape(text));
    (void)CheckClaims(jwt->claims, ClaimChecks{"https://idp.example", "c", "n"});
  } else {
    FUZZ_CHECK(jwt.status().reason() == "token_malformed", jwt.status().ToString());
  }

  if (auto key = ParseJwk(text); key.ok()) FUZZ_CHECK(key->key != nullptr, Escape(text));
  if (auto keys = ParseJwks(text); keys.ok()) {
    for (const auto& k : *keys) FUZZ_CHECK(k.key != nullptr, Escape(text));
  }
  if (auto meta = ParseDiscovery(text, "https://idp.example"); meta.ok()) {
    FUZZ_CHECK(meta->issuer == "https://idp.example", Escape(text));
    FUZZ_CHECK(IsAcceptableUrl(meta->token_endpoint, false), meta->token_endpoint);
  }
  return 0;
}
