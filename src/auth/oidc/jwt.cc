#include "auth/oidc/jwt.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "auth/oidc/base64url.h"

namespace pinhole::oidc {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxTokenBytes = 16 * 1024;

Status Fail(std::string reason, std::string message) {
  return Status(Code::kUnauthenticated, std::move(reason), "ID token: " + std::move(message));
}

Result<json> DecodeObject(std::string_view part, const char* what) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes) return Fail("token_malformed", std::string(what) + " is not base64url");
  json j = json::parse(*bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Fail("token_malformed", std::string(what) + " is not a JSON object");
  }
  return j;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// JWS carries ES256 signatures as r||s (32 bytes each); OpenSSL wants DER.
std::optional<std::string> RawEcdsaToDer(const std::string& raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool ClaimTime(const json& claims, const char* name, int64_t& out) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return false;
  double v = it->get<double>();
  if (!(v > -1e15 && v < 1e15)) return false;
  out = static_cast<int64_t>(v);
  return true;
}

}  // namespace

Result<Jwt> ParseJwt(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return Fail("token_malformed", "bad length");
  auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Fail("token_malformed", "not a compact JWS");
  auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail("token_malformed", "not a compact JWS (three parts)");
  }
  Jwt jwt;
  auto header = DecodeObject(token.substr(0, dot1), "header");
  if (!header.ok()) return header.status();
  auto claims = DecodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1), "payload");
  if (!claims.ok()) return claims.status();
  auto sig = Base64UrlDecode(token.substr(dot2 + 1));
  if (!sig) return Fail("token_malformed", "signature is not base64url");
  jwt.header = std::move(header).value();
  jwt.claims = std::move(claims).value();
  auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || !alg->is_string()) return Fail("token_malformed", "no \"alg\"");
  jwt.alg = alg->get<std::string>();
  if (auto kid = jwt.header.find("kid"); kid != jwt.header.end()) {
    if (!kid->is_string()) return Fail("token_malformed", "\"kid\" is not a string");
    jwt.kid = kid->get<std::string>();
  }
  if (jwt.header.contains("crit")) return Fail("token_malformed", "unsupported \"crit\" header");
  jwt.signing_input = std::string(token.substr(0, dot2));
  jwt.signature = std::move(*sig);
  return jwt;
}

Status VerifySignature(const Jwt& jwt, const Jwk& key) {
  const auto& allowed = AllowedAlgs();
  if (std::find(allowed.begin(), allowed.end(), jwt.alg) == allowed.end()) {
    return Fail("alg_not_allowed", "algorithm \"" + jwt.alg.substr(0, 32) + "\" is not accepted");
  }
  KeyType needs = jwt.alg == "RS256" ? KeyType::kRsa : KeyType::kEcP256;
  if (key.type != needs || (!key.alg.empty() && key.alg != jwt.alg) || !key.key) {
    return Fail("key_mismatch", "the key \"" + key.kid + "\" is not for " + jwt.alg);
  }
  std::string sig = jwt.signature;
  if (needs == KeyType::kEcP256) {
    auto der = RawEcdsaToDer(jwt.signature);
    if (!der) return Fail("bad_signature", "ES256 signature must be 64 bytes");
    sig = std::move(*der);
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.key.get()) != 1) {
    return Status::Internal("OpenSSL could not start a signature check");
  }
  int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(jwt.signing_input.data()), jwt.signing_input.size());
  if (rc != 1) return Fail("bad_signature", "the signature does not verify");
  return Status::Ok();
}

Status CheckClaims(const json& claims, const ClaimChecks& want) {
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || *iss != want.issuer) {
    return Fail("bad_issuer", "issuer is not " + want.issuer);
  }
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty() ||
      sub->get<std::string>().size() > 255) {
    return Fail("missing_claim", "no usable \"sub\"");
  }
  auto aud = claims.find("aud");
  std::vector<std::string> audiences;
  if (aud != claims.end() && aud->is_string()) {
    audiences.push_back(aud->get<std::string>());
  } else if (aud != claims.end() && aud->is_array()) {
    for (const auto& a : *aud) {
      if (a.is_string()) audiences.push_back(a.get<std::string>());
    }
  }
  if (std::find(audiences.begin(), audiences.end(), want.client_id) == audiences.end()) {
    return Fail("bad_audience", "not issued for this client");
  }
  auto azp = claims.find("azp");
  if (audiences.size() > 1 || azp != claims.end()) {
    if (azp == claims.end() || !azp->is_string() || *azp != want.client_id) {
      return Fail("bad_azp", "authorized party is not this client");
    }
  }
  int64_t now = std::chrono::duration_cast<Seconds>(want.now.time_since_epoch()).count();
  int64_t leeway = want.leeway.count();
  int64_t exp = 0, iat = 0;
  if (!ClaimTime(claims, "exp", exp)) return Fail("missing_claim", "no \"exp\"");
  if (now >= exp + leeway) return Fail("token_expired", "the token has expired");
  if (!ClaimTime(claims, "iat", iat)) return Fail("missing_claim", "no \"iat\"");
  if (iat > now + leeway) return Fail("token_issued_in_future", "\"iat\" is in the future");
  auto nonce = claims.find("nonce");
  if (nonce == claims.end() || !nonce->is_string() || want.nonce.empty() || *nonce != want.nonce) {
    return Fail("bad_nonce", "the nonce does not match this sign-in");
  }
  return Status::Ok();
}

}  // namespace pinhole::oidc
