#include "auth/oidc/jwt.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include "auth/oidc/base64url.h"
#include "auth/oidc/jwk.h"
#include "oidc_test_keys.h"

namespace pinhole::oidc {
namespace {

using testing::TestKey;
using json = nlohmann::json;

const Time kNow = Time(Millis(1'800'000'000'000));
constexpr int64_t kNowSec = 1'800'000'000;

json Claims() {
  return {{"iss", "https://idp.example"}, {"sub", "u1"},        {"aud", "pinhole"},
          {"exp", kNowSec + 300},         {"iat", kNowSec - 5}, {"nonce", "n-1"},
          {"email", "a@example.com"}};
}

ClaimChecks Want() { return ClaimChecks{"https://idp.example", "pinhole", "n-1", kNow}; }

Jwk KeyOf(const TestKey& k) { return ParseJwk(k.Jwk().dump()).value(); }

// Parses, verifies and checks claims: the whole of what the client does
// with a token once it holds the key.
Status Verify(const std::string& token, const Jwk& key, const ClaimChecks& want = Want()) {
  auto jwt = ParseJwt(token);
  if (!jwt.ok()) return jwt.status();
  Status st = VerifySignature(*jwt, key);
  if (!st.ok()) return st;
  return CheckClaims(jwt->claims, want);
}

TEST(Base64UrlTest, RoundTripsAndRefusesBadInput) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlDecode("Zm9vYg"), "foob");
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg=="));  // padding is not base64url in JOSE
  EXPECT_FALSE(Base64UrlDecode("Zm9v+mFy"));  // '+' is plain base64
  EXPECT_FALSE(Base64UrlDecode("Z"));         // no encoder makes 1 char mod 4
  EXPECT_FALSE(Base64UrlDecode("Zh"));        // non-zero trailing bits
}

TEST(JwkTest, BuildsRsaAndEcKeys) {
  TestKey rsa = TestKey::Rsa("r1");
  TestKey ec = TestKey::Ec("e1");
  auto r = ParseJwk(rsa.Jwk().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, KeyType::kRsa);
  EXPECT_EQ(r->kid, "r1");
  EXPECT_EQ(EVP_PKEY_get_bits(r->key.get()), 2048);
  auto e = ParseJwk(ec.Jwk().dump());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, KeyType::kEcP256);
  // The imported public key equals the generated one.
  EXPECT_EQ(EVP_PKEY_eq(e->key.get(), ec.pkey.get()), 1);
  EXPECT_EQ(EVP_PKEY_eq(r->key.get(), rsa.pkey.get()), 1);
}

TEST(JwkTest, RefusesBadKeys) {
  TestKey ec = TestKey::Ec("e1");
  json j = ec.Jwk();
  j["y"] = Base64UrlEncode(std::string(32, '\x01'));  // not on the curve
  EXPECT_EQ(ParseJwk(j.dump()).status().reason(), "invalid_jwk");
  j = ec.Jwk();
  j["crv"] = "P-384";
  EXPECT_FALSE(ParseJwk(j.dump()).ok());
  j = ec.Jwk();
  j["d"] = "AAAA";  // a private key
  EXPECT_FALSE(ParseJwk(j.dump()).ok());
  TestKey small = TestKey::Rsa("s", 1024);
  EXPECT_FALSE(ParseJwk(small.Jwk().dump()).ok());
  EXPECT_FALSE(ParseJwk(R"({"kty":"oct","k":"c2VjcmV0"})").ok());
  EXPECT_FALSE(ParseJwk(R"({"kty":"RSA","n":"!!","e":"AQAB"})").ok());
  EXPECT_FALSE(ParseJwk("[]").ok());
  EXPECT_FALSE(ParseJwks(R"({"nokeys":1})").ok());
  // A set skips what it cannot use and keeps the rest.
  json set = {
      {"keys", {ec.Jwk(), {{"kty", "oct"}, {"k", "c2VjcmV0"}}, {{"kty", "RSA"}, {"use", "enc"}}}}};
  auto keys = ParseJwks(set.dump());
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u);
}

TEST(JwtTest, AcceptsGoodRs256AndEs256) {
  TestKey rsa = TestKey::Rsa("r1");
  TestKey ec = TestKey::Ec("e1");
  EXPECT_TRUE(Verify(rsa.Token(Claims()), KeyOf(rsa)).ok());
  Status st = Verify(ec.Token(Claims()), KeyOf(ec));
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST(JwtTest, RefusesBadSignature) {
  TestKey rsa = TestKey::Rsa("r1");
  TestKey other = TestKey::Rsa("r1");
  EXPECT_EQ(Verify(rsa.Token(Claims()), KeyOf(other)).reason(), "bad_signature");
  TestKey ec = TestKey::Ec("e1");
  std::string token = ec.Token(Claims());
  // Changing the payload breaks the signature.
  json changed = Claims();
  changed["sub"] = "admin";
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  std::string forged =
      token.substr(0, dot1 + 1) + Base64UrlEncode(changed.dump()) + token.substr(dot2);
  EXPECT_EQ(Verify(forged, KeyOf(ec)).reason(), "bad_signature");
  EXPECT_EQ(Verify(token.substr(0, dot2 + 1) + "AAAA", KeyOf(ec)).reason(), "bad_signature");
}

TEST(JwtTest, RefusesAlgorithmsOutsideTheAllowList) {
  TestKey rsa = TestKey::Rsa("r1");
  TestKey ec = TestKey::Ec("e1");
  // alg none, with an empty signature.
  json header = {{"alg", "none"}, {"kid", "r1"}};
  std::string none = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump()) + ".";
  EXPECT_EQ(Verify(none, KeyOf(rsa)).reason(), "alg_not_allowed");
  // HS256 "signed" with the public key as the HMAC secret.
  header = {{"alg", "HS256"}, {"kid", "r1"}};
  std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(Claims().dump());
  std::string secret = rsa.Jwk().dump();
  unsigned char mac[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  std::string hs = input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), len));
  EXPECT_EQ(Verify(hs, KeyOf(rsa)).reason(), "alg_not_allowed");
  EXPECT_EQ(Verify(rsa.Token(Claims(), "PS256"), KeyOf(rsa)).reason(), "alg_not_allowed");
  // An alg that does not fit the key's type, or the JWK's own alg.
  EXPECT_EQ(Verify(rsa.Token(Claims(), "ES256"), KeyOf(rsa)).reason(), "key_mismatch");
  EXPECT_EQ(Verify(ec.Token(Claims(), "RS256"), KeyOf(ec)).reason(), "key_mismatch");
  json bound = rsa.Jwk();
  bound["alg"] = "RS384";
  EXPECT_EQ(Verify(rsa.Token(Claims()), ParseJwk(bound.dump()).value()).reason(), "key_mismatch");
}

TEST(JwtTest, ChecksClaims) {
  TestKey k = TestKey::Ec("e1");
  Jwk key = KeyOf(k);
  auto with = [&](const char* name, json value) {
    json c = Claims();
    if (value.is_null())
      c.erase(name);
    else
      c[name] = value;
    return Verify(k.Token(c), key).reason();
  };
  EXPECT_EQ(with("aud", "someone-else"), "bad_audience");
  EXPECT_EQ(with("aud", json::array({"x", "y"})), "bad_audience");
  EXPECT_EQ(with("aud", nullptr), "bad_audience");
  EXPECT_EQ(with("iss", "https://idp.example/"), "bad_issuer");
  EXPECT_EQ(with("iss", "https://evil.example"), "bad_issuer");
  EXPECT_EQ(with("exp", kNowSec - 61), "token_expired");
  EXPECT_EQ(with("exp", kNowSec - 30), "");  // within the leeway
  EXPECT_EQ(with("exp", nullptr), "missing_claim");
  EXPECT_EQ(with("iat", kNowSec + 120), "token_issued_in_future");
  EXPECT_EQ(with("iat", kNowSec + 30), "");
  EXPECT_EQ(with("nonce", "n-2"), "bad_nonce");
  EXPECT_EQ(with("nonce", nullptr), "bad_nonce");
  EXPECT_EQ(with("sub", ""), "missing_claim");
  // Several audiences: azp must name this client.
  json c = Claims();
  c["aud"] = {"pinhole", "other"};
  EXPECT_EQ(Verify(k.Token(c), key).reason(), "bad_azp");
  c["azp"] = "pinhole";
  EXPECT_TRUE(Verify(k.Token(c), key).ok());
  c["azp"] = "other";
  EXPECT_EQ(Verify(k.Token(c), key).reason(), "bad_azp");
}

TEST(JwtTest, RefusesMalformedTokens) {
  for (std::string bad :
       std::vector<std::string>{"", "a", "a.b", "a.b.c.d", "..", "e30.e30.", "W10.e30.", "e30.W10.",
                                "e30.e30.!!", std::string(17000, 'a')}) {
    auto jwt = ParseJwt(bad);
    EXPECT_FALSE(jwt.ok()) << bad;
    if (!jwt.ok()) EXPECT_EQ(jwt.status().reason(), "token_malformed") << bad;
  }
  // No alg; a crit header.
  EXPECT_FALSE(ParseJwt(Base64UrlEncode(R"({"kid":"x"})") + ".e30.").ok());
  EXPECT_FALSE(ParseJwt(Base64UrlEncode(R"({"alg":"RS256","crit":["b64"]})") + ".e30.").ok());
}

}  // namespace
}  // namespace pinhole::oidc
