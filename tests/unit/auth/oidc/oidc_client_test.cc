#include "auth/oidc/oidc_client.h"

#include <gtest/gtest.h>

#include <map>

#include "auth/oidc/discovery.h"
#include "auth/oidc/pending_logins.h"
#include "oidc_test_keys.h"

namespace pinhole::oidc {
namespace {

using testing::TestKey;
using json = nlohmann::json;

const Time kNow = Time(Millis(1'800'000'000'000));
constexpr int64_t kNowSec = 1'800'000'000;
const std::string kIssuer = "https://idp.example";
const std::string kRedirect = "https://pinhole.example/api/v1/oidc/corp/callback";

// Serves fixed documents by URL and answers the token endpoint with
// whatever token the test sets; records requests.
class FakeFetcher : public HttpFetcher {
 public:
  std::map<std::string, std::string> docs;
  std::string id_token;
  int token_status = 200;
  std::vector<std::string> gets;
  std::string last_form;
  std::vector<std::pair<std::string, std::string>> last_headers;

  Result<FetchReply> Get(const std::string& url) override {
    gets.push_back(url);
    auto it = docs.find(url);
    if (it == docs.end()) return FetchReply{404, "{}"};
    return FetchReply{200, it->second};
  }
  Result<FetchReply> PostForm(
      const std::string& url, const std::string& form,
      const std::vector<std::pair<std::string, std::string>>& headers) override {
    last_form = form;
    last_headers = headers;
    if (url != kIssuer + "/token") return FetchReply{404, "{}"};
    if (token_status != 200) return FetchReply{token_status, R"({"error":"invalid_grant"})"};
    return FetchReply{200, json{{"id_token", id_token}, {"token_type", "Bearer"}}.dump()};
  }
  int CountGets(const std::string& url) const {
    return static_cast<int>(std::count(gets.begin(), gets.end(), url));
  }
};

std::string Discovery(const std::string& issuer = kIssuer) {
  return json{{"issuer", issuer},
              {"authorization_endpoint", kIssuer + "/auth"},
              {"token_endpoint", kIssuer + "/token"},
              {"jwks_uri", kIssuer + "/jwks"},
              {"code_challenge_methods_supported", {"S256"}}}
      .dump();
}

OidcProviderConfig Provider() {
  OidcProviderConfig p;
  p.name = "corp";
  p.issuer = kIssuer;
  p.client_id = "pinhole";
  p.client_secret = "s3cret";
  p.groups_claim = "groups";
  p.group_map = {{"eng", "engineers"}, {"ops", "operators"}};
  return p;
}

std::string QueryValue(const std::string& url, const std::string& key) {
  auto pos = url.find("&" + key + "=");
  if (pos == std::string::npos) pos = url.find("?" + key + "=");
  if (pos == std::string::npos) return "";
  pos += key.size() + 2;
  return url.substr(pos, url.find('&', pos) - pos);
}

class OidcClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fetcher.docs[kIssuer + "/.well-known/openid-configuration"] = Discovery();
    fetcher.docs[kIssuer + "/jwks"] = testing::Jwks({&key1});
  }

  // Starts a sign-in and returns the login it left pending.
  PendingLogin Begin(std::string* state_out = nullptr) {
    auto url = client.BeginLogin(kRedirect, "/leases", pending, kNow);
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    std::string state = QueryValue(*url, "state");
    if (state_out) *state_out = state;
    return pending.Take(state, kNow).value();
  }

  json Claims(const PendingLogin& login) {
    return {{"iss", kIssuer},
            {"sub", "u-42"},
            {"aud", "pinhole"},
            {"exp", kNowSec + 300},
            {"iat", kNowSec},
            {"nonce", login.nonce},
            {"email", "Ann@Example.com"},
            {"email_verified", true},
            {"groups", {"eng", "finance", "ops", "eng"}}};
  }

  TestKey key1 = TestKey::Rsa("k1");
  FakeFetcher fetcher;
  PendingLogins pending;
  OidcClient client{Provider(), fetcher};
};

TEST(PkceTest, MatchesRfc7636AppendixB) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(PendingLoginsTest, SingleUseAndExpiry) {
  PendingLogins p(3, Seconds(600));
  p.Put("a", PendingLogin{"corp", "n", "v", "/"}, kNow);
  EXPECT_TRUE(p.Take("a", kNow + Seconds(10)).ok());
  EXPECT_EQ(p.Take("a", kNow + Seconds(11)).status().reason(), "state_used");
  EXPECT_EQ(p.Take("zzz", kNow).status().reason(), "state_unknown");
  EXPECT_EQ(p.Take("", kNow).status().reason(), "state_unknown");
  p.Put("b", PendingLogin{"corp", "n", "v", "/"}, kNow);
  EXPECT_EQ(p.Take("b", kNow + Seconds(600)).status().reason(), "state_expired");
  // Bounded: the oldest pending sign-in gives way.
  p.Put("c1", PendingLogin{}, kNow);
  p.Put("c2", PendingLogin{}, kNow + Seconds(1));
  p.Put("c3", PendingLogin{}, kNow + Seconds(2));
  p.Put("c4", PendingLogin{}, kNow + Seconds(3));
  EXPECT_LE(p.size(), 3u);
  EXPECT_EQ(p.Take("c1", kNow + Seconds(4)).status().reason(), "state_unknown");
  EXPECT_TRUE(p.Take("c4", kNow + Seconds(4)).ok());
}

TEST(DiscoveryTest, ChecksIssuerAndEndpoints) {
  EXPECT_TRUE(ParseDiscovery(Discovery(), kIssuer).ok());
  EXPECT_EQ(ParseDiscovery(Discovery("https://other.example"), kIssuer).status().reason(),
            "invalid_discovery");
  json d = json::parse(Discovery());
  d["token_endpoint"] = "http://idp.example/token";  // clear text off the host
  EXPECT_FALSE(ParseDiscovery(d.dump(), kIssuer).ok());
  d = json::parse(Discovery());
  d["code_challenge_methods_supported"] = {"plain"};
  EXPECT_FALSE(ParseDiscovery(d.dump(), kIssuer).ok());
  d = json::parse(Discovery());
  d.erase("jwks_uri");
  EXPECT_FALSE(ParseDiscovery(d.dump(), kIssuer).ok());
  EXPECT_FALSE(ParseDiscovery("[1]", kIssuer).ok());
  // A loopback issuer may use http endpoints on loopback.
  json local = {{"issuer", "http://127.0.0.1:9000"},
                {"authorization_endpoint", "http://127.0.0.1:9000/auth"},
                {"token_endpoint", "http://127.0.0.1:9000/token"},
                {"jwks_uri", "http://localhost:9000/jwks"}};
  EXPECT_TRUE(ParseDiscovery(local.dump(), "http://127.0.0.1:9000").ok());
  local["jwks_uri"] = "http://10.0.0.1/jwks";
  EXPECT_FALSE(ParseDiscovery(local.dump(), "http://127.0.0.1:9000").ok());
  EXPECT_FALSE(IsLoopbackHttpUrl("http://127.0.0.1.evil.example/"));
  EXPECT_FALSE(IsLoopbackHttpUrl("http://localhost.evil.example/"));
  EXPECT_FALSE(IsLoopbackHttpUrl("http://localhost@evil.example/"));
  EXPECT_TRUE(IsLoopbackHttpUrl("http://[::1]:8/x"));
}

TEST_F(OidcClientTest, AuthorizationUrlCarriesPkceStateAndNonce) {
  auto url = client.BeginLogin(kRedirect, "/leases", pending, kNow);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->rfind(kIssuer + "/auth?response_type=code&client_id=pinhole", 0), 0u) << *url;
  EXPECT_EQ(QueryValue(*url, "redirect_uri"), PercentEncode(kRedirect));
  EXPECT_EQ(QueryValue(*url, "scope"), "openid%20email%20profile");
  EXPECT_EQ(QueryValue(*url, "code_challenge_method"), "S256");
  std::string state = QueryValue(*url, "state");
  auto login = pending.Take(state, kNow);
  ASSERT_TRUE(login.ok());
  EXPECT_EQ(QueryValue(*url, "nonce"), login->nonce);
  EXPECT_EQ(QueryValue(*url, "code_challenge"), PkceChallenge(login->code_verifier));
  EXPECT_EQ(login->return_to, "/leases");
  EXPECT_GE(login->code_verifier.size(), 43u);
}

TEST_F(OidcClientTest, FinishesWithAGoodToken) {
  PendingLogin login = Begin();
  fetcher.id_token = key1.Token(Claims(login));
  auto id = client.FinishLogin("the-code", login, kRedirect, kNow);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->subject, kIssuer + " u-42");
  EXPECT_EQ(id->email, "Ann@Example.com");
  EXPECT_EQ(id->email_verified, true);
  // Mapped, deduplicated; "finance" is not in the map and is dropped.
  EXPECT_EQ(id->groups, (std::vector<std::string>{"engineers", "operators"}));
  EXPECT_NE(fetcher.last_form.find("code=the-code"), std::string::npos);
  EXPECT_NE(fetcher.last_form.find("code_verifier=" + login.code_verifier), std::string::npos);
  EXPECT_EQ(fetcher.last_form.find("client_secret"), std::string::npos);
  bool basic = false;
  for (const auto& [k, v] : fetcher.last_headers) basic |= k == "Authorization";
  EXPECT_TRUE(basic);
}

TEST_F(OidcClientTest, ClientSecretPost) {
  OidcProviderConfig p = Provider();
  p.token_auth = "post";
  OidcClient post_client(p, fetcher);
  auto url = post_client.BeginLogin(kRedirect, "/", pending, kNow);
  PendingLogin login = pending.Take(QueryValue(*url, "state"), kNow).value();
  fetcher.id_token = key1.Token(Claims(login));
  ASSERT_TRUE(post_client.FinishLogin("c", login, kRedirect, kNow).ok());
  EXPECT_NE(fetcher.last_form.find("client_secret=s3cret"), std::string::npos);
}

TEST_F(OidcClientTest, RefusesTokensThatDoNotCheckOut) {
  PendingLogin login = Begin();
  json c = Claims(login);
  c["nonce"] = "another";
  fetcher.id_token = key1.Token(c);
  EXPECT_EQ(client.FinishLogin("c", login, kRedirect, kNow).status().reason(), "bad_nonce");
  TestKey stranger = TestKey::Rsa("k1");
  fetcher.id_token = stranger.Token(Claims(login));
  EXPECT_EQ(client.FinishLogin("c", login, kRedirect, kNow).status().reason(), "bad_signature");
  fetcher.token_status = 400;
  EXPECT_EQ(client.FinishLogin("c", login, kRedirect, kNow).status().reason(),
            "token_exchange_failed");
}

TEST_F(OidcClientTest, UnknownKidRefetchesKeysRateLimited) {
  PendingLogin login = Begin();
  fetcher.id_token = key1.Token(Claims(login));
  ASSERT_TRUE(client.FinishLogin("c", login, kRedirect, kNow).ok());
  const std::string jwks = kIssuer + "/jwks";
  EXPECT_EQ(fetcher.CountGets(jwks), 1);

  // The provider rotates to k2 and drops k1.
  TestKey key2 = TestKey::Ec("k2");
  fetcher.docs[jwks] = testing::Jwks({&key2});
  fetcher.id_token = key2.Token(Claims(login));
  // Within the refetch interval the unknown kid is not fetched again.
  EXPECT_EQ(client.FinishLogin("c", login, kRedirect, kNow + Seconds(5)).status().reason(),
            "unknown_kid");
  EXPECT_EQ(fetcher.CountGets(jwks), 1);
  auto later = kNow + Seconds(11);
  auto id = client.FinishLogin("c", login, kRedirect, later);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(fetcher.CountGets(jwks), 2);
  // The retired key no longer verifies anything.
  fetcher.id_token = key1.Token(Claims(login));
  EXPECT_EQ(client.FinishLogin("c", login, kRedirect, later).status().reason(), "unknown_kid");
  // A kid nobody has: one more fetch at most per interval.
  EXPECT_EQ(fetcher.CountGets(jwks), 2);
}

TEST_F(OidcClientTest, DiscoveryFailureIsUnavailable) {
  fetcher.docs.clear();
  auto url = client.BeginLogin(kRedirect, "/", pending, kNow);
  EXPECT_EQ(url.status().code(), Code::kUnavailable);
  EXPECT_EQ(pending.size(), 0u);
}

TEST(MapGroupsTest, DropsUnmappedAndAcceptsOneString) {
  OidcProviderConfig p = Provider();
  EXPECT_EQ(MapGroups(json{{"groups", "ops"}}, p), std::vector<std::string>{"operators"});
  EXPECT_TRUE(MapGroups(json{{"groups", {"admins"}}}, p).empty());
  EXPECT_TRUE(MapGroups(json{{"groups", 5}}, p).empty());
  p.groups_claim = "";
  EXPECT_TRUE(MapGroups(json{{"groups", {"eng"}}}, p).empty());
}

}  // namespace
}  // namespace pinhole::oidc
