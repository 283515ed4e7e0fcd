// Test helpers: keys generated with OpenSSL, their JWKs, and signed tokens.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "auth/oidc/base64url.h"

namespace pinhole::oidc::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  bool ec = false;
  std::string kid;

  static TestKey Rsa(std::string kid, unsigned bits = 2048) {
    EVP_PKEY* k = EVP_RSA_gen(bits);
    return TestKey{std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free), false, std::move(kid)};
  }
  static TestKey Ec(std::string kid) {
    EVP_PKEY* k = EVP_EC_gen("P-256");
    return TestKey{std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free), true, std::move(kid)};
  }

  static std::string Bn(EVP_PKEY* k, const char* name, int pad = 0) {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(k, name, &bn);
    std::string out(std::max(BN_num_bytes(bn), pad), '\0');
    if (pad > 0) {
      BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), pad);
    } else {
      BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    }
    BN_free(bn);
    return out;
  }

  nlohmann::json Jwk() const {
    if (ec) {
      return {{"kty", "EC"},
              {"crv", "P-256"},
              {"kid", kid},
              {"use", "sig"},
              {"x", Base64UrlEncode(Bn(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
              {"y", Base64UrlEncode(Bn(pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
    }
    return {{"kty", "RSA"},
            {"kid", kid},
            {"use", "sig"},
            {"n", Base64UrlEncode(Bn(pkey.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", Base64UrlEncode(Bn(pkey.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }

  std::string Sign(const std::string& input) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get());
    size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    if (!ec) return sig;
    // DER -> r||s as JWS wants.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(es);
    return raw;
  }

  // A compact JWS of `claims`; `alg` defaults to the key's own.
  std::string Token(const nlohmann::json& claims, std::string alg = "") const {
    if (alg.empty()) alg = ec ? "ES256" : "RS256";
    nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}, {"kid", kid}};
    std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());
    return input + "." + Base64UrlEncode(Sign(input));
  }
};

inline std::string Jwks(std::initializer_list<const TestKey*> keys) {
  nlohmann::json set = {{"keys", nlohmann::json::array()}};
  for (const TestKey* k : keys) set["keys"].push_back(k->Jwk());
  return set.dump();
}

}  // namespace pinhole::oidc::testing
