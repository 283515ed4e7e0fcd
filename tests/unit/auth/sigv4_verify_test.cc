// The SigV4 verifier against requests signed by the (AWS-suite-tested)
// signer: every way a request can be wrong is refused with its own reason.
#include "auth/sigv4_verify.h"

#include <gtest/gtest.h>

#include "sigv4/sigv4.h"

namespace pinhole {
namespace {

const Time kNow = Time(std::chrono::duration_cast<Millis>(Seconds(1'795'000'000)));  // 2026-11-18
constexpr char kKeyId[] = "PHKABCDEFGHIJKLMNOPQ";
constexpr char kSecret[] = "s3cretS3cretS3cretS3cretS3cretS3cretS3cr";

Credential Key(std::optional<Time> expires = std::nullopt) {
  Credential c;
  c.id = 7;
  c.user_id = 3;
  c.kind = "access_key";
  c.lookup = kKeyId;
  c.secret = kSecret;
  c.expires_at = expires;
  return c;
}

struct Signed {
  std::map<std::string, std::string> headers;
  std::string method = "POST";
  std::string target = "/connection";
  std::string body;
};

Signed Sign(Time when, std::string service = "execute-api", std::string body = "",
            std::string target = "/connection", bool content_sha = false,
            std::string secret = kSecret) {
  aws::SigningRequest req;
  req.method = "POST";
  auto q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    auto eq = query.find('=');
    req.query = {{query.substr(0, eq), query.substr(eq + 1)}};
  }
  req.headers = {{"Host", "gw.example.com:8080"}};
  req.payload_hash = aws::Sha256Hex(body);
  aws::SigningOptions opt{.region = "eu-central-1", .service = service, .time = when,
                          .add_content_sha256 = content_sha};
  auto result = aws::SignRequest(req, {kKeyId, secret, ""}, opt);
  Signed s;
  s.headers["host"] = "gw.example.com:8080";
  for (auto& [k, v] : result.headers_to_add) {
    std::string lower = k;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s.headers[lower] = v;
  }
  s.body = body;
  s.target = target;
  return s;
}

Result<Credential> Verify(SigV4Verifier& v, const Signed& s, Time now = kNow,
                          Credential key = Key()) {
  SignedRequest r{s.method, s.target, &s.headers, s.body};
  return v.Verify(
      r,
      [key](std::string_view id) -> Result<Credential> {
        if (id != key.lookup) return Status::NotFound("no key");
        return key;
      },
      now);
}

std::string Reason(const Result<Credential>& r) { return r.ok() ? "ok" : r.status().reason(); }

TEST(SigV4VerifyTest, AcceptsAGoodRequestOnce) {
  SigV4Verifier v({});
  Signed s = Sign(kNow, "execute-api", R"({"a":1})", "/connection?x=1", true);
  auto r = Verify(v, s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->user_id, 3);
  EXPECT_EQ(Reason(Verify(v, s)), "request_replayed");
}

TEST(SigV4VerifyTest, AnyRegionIsFine) {
  SigV4Verifier v({});
  EXPECT_TRUE(Verify(v, Sign(kNow)).ok());  // eu-central-1; the scope names the region
}

TEST(SigV4VerifyTest, RefusesTampering) {
  SigV4Verifier v({});
  Signed body = Sign(kNow);
  body.body = "{}";
  EXPECT_EQ(Reason(Verify(v, body)), "signature_mismatch");
  Signed path = Sign(kNow);
  path.target = "/connection2";
  EXPECT_EQ(Reason(Verify(v, path)), "signature_mismatch");
  Signed method = Sign(kNow);
  method.method = "DELETE";
  EXPECT_EQ(Reason(Verify(v, method)), "signature_mismatch");
  Signed host = Sign(kNow);
  host.headers["host"] = "evil.example.com";
  EXPECT_EQ(Reason(Verify(v, host)), "signature_mismatch");
  Signed query = Sign(kNow, "execute-api", "", "/connection?x=1");
  query.target = "/connection?x=2";
  EXPECT_EQ(Reason(Verify(v, query)), "signature_mismatch");
  Signed claimed = Sign(kNow, "execute-api", "", "/connection", true);
  claimed.body = "x";
  EXPECT_EQ(Reason(Verify(v, claimed)), "signature_mismatch");
  EXPECT_EQ(Reason(Verify(v, Sign(kNow, "execute-api", "", "/connection", false,
                                  "wrong-secret-wrong-secret-wrong-secret!"))),
            "signature_mismatch");
  // A refused request is not remembered: the genuine one still works.
  EXPECT_TRUE(Verify(v, Sign(kNow)).ok());
}

TEST(SigV4VerifyTest, RefusesClockSkewBeyondFiveMinutes) {
  SigV4Verifier v({});
  EXPECT_TRUE(Verify(v, Sign(kNow - Seconds(299))).ok());
  EXPECT_TRUE(Verify(v, Sign(kNow + Seconds(299))).ok());
  EXPECT_EQ(Reason(Verify(v, Sign(kNow - Seconds(301)))), "request_expired");
  EXPECT_EQ(Reason(Verify(v, Sign(kNow + Seconds(301)))), "request_expired");
  // A captured request replayed after the window: refused by its age.
  Signed s = Sign(kNow);
  ASSERT_TRUE(Verify(v, s).ok());
  EXPECT_EQ(Reason(Verify(v, s, kNow + Seconds(301))), "request_expired");
}

TEST(SigV4VerifyTest, RefusesWrongServiceScopeAndUnsignedHost) {
  SigV4Verifier v({});
  EXPECT_EQ(Reason(Verify(v, Sign(kNow, "s3"))), "wrong_service");
  SigV4Verifier custom({.service = "pinhole"});
  EXPECT_TRUE(Verify(custom, Sign(kNow, "pinhole")).ok());
  Signed day = Sign(kNow);
  std::string& auth = day.headers["authorization"];
  auto at = auth.find("/2026");
  auth.replace(at + 1, 8, "20261117");
  EXPECT_EQ(Reason(Verify(v, day)), "wrong_scope");
  Signed nohost = Sign(kNow);
  std::string& a2 = nohost.headers["authorization"];
  a2.replace(a2.find("SignedHeaders=host;"), 19, "SignedHeaders=");
  EXPECT_EQ(Reason(Verify(v, nohost)), "unsigned_headers");
}

TEST(SigV4VerifyTest, RefusesUnknownAndExpiredKeys) {
  SigV4Verifier v({});
  Credential other = Key();
  other.lookup = "PHKOTHER";
  EXPECT_EQ(Reason(Verify(v, Sign(kNow), kNow, other)), "unknown_access_key");
  EXPECT_EQ(Reason(Verify(v, Sign(kNow), kNow, Key(kNow))), "unknown_access_key");
  Credential token = Key();
  token.kind = "api_token";
  EXPECT_EQ(Reason(Verify(v, Sign(kNow), kNow, token)), "unknown_access_key");
}

TEST(SigV4VerifyTest, MissingDateIsMalformed) {
  SigV4Verifier v({});
  Signed s = Sign(kNow);
  s.headers.erase("x-amz-date");
  EXPECT_EQ(Reason(Verify(v, s)), "invalid_authorization");
  s.headers["x-amz-date"] = "2026-11-18T00:00:00Z";
  EXPECT_EQ(Reason(Verify(v, s)), "invalid_authorization");
}

TEST(SigV4VerifyTest, ReplayMemoryIsBounded) {
  SigV4Verifier v({.max_remembered = 2});
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(Verify(v, Sign(kNow + Seconds(i))).ok());
}

TEST(SigV4AuthorizationTest, ParsesTheHeader) {
  auto a = ParseSigV4Authorization(
      "AWS4-HMAC-SHA256 Credential=PHKABC/20261121/us-east-1/execute-api/aws4_request, "
      "SignedHeaders=host;x-amz-date,Signature=" +
      std::string(64, 'a'));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->access_key_id, "PHKABC");
  EXPECT_EQ(a->day, "20261121");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "execute-api");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  EXPECT_TRUE(IsSigV4Authorization("AWS4-HMAC-SHA256 x"));
  EXPECT_FALSE(IsSigV4Authorization("Bearer x"));
}

TEST(SigV4AuthorizationTest, RefusesMalformedHeaders) {
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string cred = "Credential=K/20261121/r/execute-api/aws4_request";
  for (const std::string& bad : std::vector<std::string>{
           "Bearer abc",
           "AWS4-HMAC-SHA256 ",
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
           "AWS4-HMAC-SHA256 " + cred + ", " + sig,
           "AWS4-HMAC-SHA256 Credential=K/2026112/r/s/aws4_request, SignedHeaders=host, " + sig,
           "AWS4-HMAC-SHA256 Credential=K/20261121/r/s/aws5_request, SignedHeaders=host, " + sig,
           "AWS4-HMAC-SHA256 Credential=K/20261121/r/s, SignedHeaders=host, " + sig,
           "AWS4-HMAC-SHA256 Credential=K!/20261121/r/s/aws4_request, SignedHeaders=host, " + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host, " + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, " + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=ABC",
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", " + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", Extra=1",
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", garbage",
       }) {
    auto r = ParseSigV4Authorization(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "invalid_authorization") << bad;
    }
  }
}

}  // namespace
}  // namespace pinhole
