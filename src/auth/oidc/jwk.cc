#include "auth/oidc/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <nlohmann/json.hpp>

#include "auth/oidc/base64url.h"

namespace pinhole::oidc {

void PkeyDeleter::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

namespace {

using json = nlohmann::json;

Status Bad(std::string message) {
  return Status::Invalid("invalid_jwk", "JWK: " + std::move(message));
}

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

Result<std::string> Member(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return Bad(std::string("missing member \"") + name + "\"");
  auto bytes = Base64UrlDecode(it->get<std::string>());
  if (!bytes || bytes->empty()) return Bad(std::string("\"") + name + "\" is not base64url");
  return *bytes;
}

Result<Pkey> FromData(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) {
    return Status::Internal("OpenSSL could not prepare a key import");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || !raw) {
    return Bad("OpenSSL refused the key parameters");
  }
  Pkey key(raw, PkeyDeleter{});
  // fromdata does not check that an EC point lies on the curve; an invalid
  // point is a classic way to attack ECDSA verification.
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return Bad("the public key is not valid");
  return key;
}

Result<Pkey> RsaKey(const json& j) {
  auto n = Member(j, "n");
  if (!n.ok()) return n.status();
  auto e = Member(j, "e");
  if (!e.ok()) return e.status();
  std::unique_ptr<BIGNUM, BnFree> bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()),
                                                 static_cast<int>(n->size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()),
                                                 static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) return Status::Internal("OpenSSL could not allocate a number");
  if (BN_num_bits(bn_n.get()) < 2048) return Bad("RSA modulus shorter than 2048 bits");
  if (BN_num_bits(bn_n.get()) > 8192) return Bad("RSA modulus longer than 8192 bits");
  if (BN_num_bits(bn_e.get()) > 64 || !BN_is_odd(bn_e.get())) return Bad("RSA exponent not valid");
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return Status::Internal("OpenSSL could not build RSA parameters");
  }
  return FromData("RSA", bld.get());
}

Result<Pkey> EcKey(const json& j) {
  auto crv = j.find("crv");
  if (crv == j.end() || !crv->is_string()) return Bad("missing member \"crv\"");
  if (*crv != "P-256") return Bad("unsupported curve " + crv->dump());
  auto x = Member(j, "x");
  if (!x.ok()) return x.status();
  auto y = Member(j, "y");
  if (!y.ok()) return y.status();
  if (x->size() != 32 || y->size() != 32) return Bad("P-256 coordinates must be 32 bytes");
  std::string point = "\x04" + *x + *y;  // SEC1 uncompressed
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return Status::Internal("OpenSSL could not build EC parameters");
  }
  return FromData("EC", bld.get());
}

Result<Jwk> FromJson(const json& j) {
  if (!j.is_object()) return Bad("not a JSON object");
  auto kty = j.find("kty");
  if (kty == j.end() || !kty->is_string()) return Bad("missing member \"kty\"");
  // A private member means someone published a private key; refuse to use it.
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k"}) {
    if (j.contains(priv)) return Bad(std::string("holds private member \"") + priv + "\"");
  }
  Jwk out;
  if (auto kid = j.find("kid"); kid != j.end()) {
    if (!kid->is_string()) return Bad("\"kid\" is not a string");
    out.kid = kid->get<std::string>();
  }
  if (auto alg = j.find("alg"); alg != j.end()) {
    if (!alg->is_string()) return Bad("\"alg\" is not a string");
    out.alg = alg->get<std::string>();
  }
  Result<Pkey> key = Bad("unsupported kty " + kty->dump());
  if (*kty == "RSA") {
    out.type = KeyType::kRsa;
    key = RsaKey(j);
  } else if (*kty == "EC") {
    out.type = KeyType::kEcP256;
    key = EcKey(j);
  }
  if (!key.ok()) return key.status();
  out.key = std::move(key).value();
  return out;
}

}  // namespace

Result<Jwk> ParseJwk(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded()) return Bad("not valid JSON");
  return FromJson(j);
}

Result<std::vector<Jwk>> ParseJwks(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("keys") || !j["keys"].is_array()) {
    return Status::Invalid("invalid_jwks", "JWKS: expected a JSON object with a \"keys\" array");
  }
  std::vector<Jwk> keys;
  for (const json& k : j["keys"]) {
    if (k.is_object()) {
      auto use = k.find("use");
      if (use != k.end() && *use != "sig") continue;
    }
    auto key = FromJson(k);
    if (key.ok()) keys.push_back(std::move(key).value());
  }
  return keys;
}

}  // namespace pinhole::oidc
