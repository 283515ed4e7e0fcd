// The single sign-on endpoints and [auth] local_passwords, through Api::Handle
// with a provider faked behind oidc::HttpFetcher.
#include <map>

#include "api_fixture.h"
#include "auth/oidc/http_fetch.h"
#include "auth/oidc/oidc_test_keys.h"

namespace pinhole {
namespace {

const std::string kIssuer = "https://idp.example";

class Provider : public oidc::HttpFetcher {
 public:
  oidc::testing::TestKey key = oidc::testing::TestKey::Ec("k1");
  json claims;  // of the next ID token; "nonce" is filled in from the request
  std::string nonce;

  Result<oidc::FetchReply> Get(const std::string& url) override {
    if (url == kIssuer + "/.well-known/openid-configuration") {
      return oidc::FetchReply{200, json{{"issuer", kIssuer},
                                        {"authorization_endpoint", kIssuer + "/auth"},
                                        {"token_endpoint", kIssuer + "/token"},
                                        {"jwks_uri", kIssuer + "/jwks"}}
                                       .dump()};
    }
    if (url == kIssuer + "/jwks") return oidc::FetchReply{200, oidc::testing::Jwks({&key})};
    return oidc::FetchReply{404, ""};
  }
  Result<oidc::FetchReply> PostForm(
      const std::string&, const std::string&,
      const std::vector<std::pair<std::string, std::string>>&) override {
    json c = claims;
    if (!c.contains("nonce")) c["nonce"] = nonce;
    return oidc::FetchReply{200, json{{"id_token", key.Token(c)}}.dump()};
  }
};

class ApiOidcTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    OidcProviderConfig p;
    p.name = "corp";
    p.display_name = "Corp";
    p.issuer = kIssuer;
    p.client_id = "pinhole";
    p.client_secret = "secret";
    p.group_map = {{"eng", "engineers"}};
    config_.oidc = {p};
    config_.public_url = "https://pinhole.example";
    MakeOidcApi();
  }
  void MakeOidcApi() {
    ApiContext ctx{*store_, *controller_, clock_, config_};
    ctx.oidc_fetcher = &provider_;
    api_ = std::make_unique<Api>(ctx);
  }
  std::string Header(const HttpResponse& r, const std::string& name, int nth = 0) {
    for (const auto& [k, v] : r.headers) {
      if (k == name && nth-- == 0) return v;
    }
    return "";
  }
  static std::string Query(const std::string& url, const std::string& key) {
    auto pos = url.find("&" + key + "=");
    pos += key.size() + 2;
    return url.substr(pos, url.find('&', pos) - pos);
  }
  // Runs login then callback for a user with `claims`; returns the callback's reply.
  HttpResponse SignIn(json claims, const std::string& return_to = "/leases") {
    auto login = Call("GET", "/api/v1/oidc/corp/login?return_to=" + return_to);
    EXPECT_EQ(login.status, 302);
    std::string location = Header(login, "Location");
    std::string state = Query(location, "state");
    provider_.nonce = Query(location, "nonce");
    int64_t now = std::chrono::duration_cast<Seconds>(clock_.Now().time_since_epoch()).count();
    json base = {{"iss", kIssuer}, {"aud", "pinhole"}, {"iat", now}, {"exp", now + 300}};
    base.update(claims);
    provider_.claims = base;
    return Call("GET", "/api/v1/oidc/corp/callback?code=c1&state=" + state, nullptr, "",
                {{"cookie", "pinhole_oidc_state=" + state}});
  }
  std::string SessionToken(const HttpResponse& r) {
    std::string cookie = Header(r, "Set-Cookie");
    if (cookie.rfind("pinhole_session=", 0) != 0) return "";
    return cookie.substr(16, cookie.find(';') - 16);
  }

  Provider provider_;
};

TEST_F(ApiOidcTest, InfoListsProviders) {
  auto info = Body(Call("GET", "/api/v1/info"));
  EXPECT_EQ(info["features"]["sso"], json::array({{{"name", "corp"},
                                                   {"display_name", "Corp"},
                                                   {"login_url", "/api/v1/oidc/corp/login"}}}));
  EXPECT_EQ(info["features"]["local_passwords"], "all");
  EXPECT_EQ(Call("GET", "/api/v1/oidc/other/login").status, 404);
}

TEST_F(ApiOidcTest, ProvisionsMapsGroupsAndStartsASession) {
  auto r = SignIn({{"sub", "s1"}, {"email", "Eve@Example.com"}, {"groups", {"eng", "hr"}}});
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/leases");
  std::string token = SessionToken(r);
  ASSERT_FALSE(token.empty());
  auto me = Body(Call("GET", "/api/v1/me", nullptr, token));
  EXPECT_EQ(me["user"]["email"], "eve@example.com");
  EXPECT_EQ(me["user"]["source"], "oidc");
  EXPECT_EQ(me["user"]["external_groups"], json::array({"engineers"}));
  EXPECT_EQ(me["user"]["groups"], json::array({"engineers"}));
  auto user = store_->FindUserBySubject("oidc", kIssuer + " s1");
  ASSERT_TRUE(user.ok());
  // Groups follow the provider at the next sign-in.
  r = SignIn({{"sub", "s1"}, {"email", "eve@example.com"}, {"groups", json::array()}});
  ASSERT_EQ(r.status, 302);
  EXPECT_TRUE(store_->GetUser(user->id)->external_groups.empty());
  EXPECT_EQ(store_->ListUsers().size(), 3u);
}

TEST_F(ApiOidcTest, RefusalsChangeNothing) {
  size_t users = store_->ListUsers().size();
  // No open redirect: another origin becomes "/".
  auto r =
      SignIn({{"sub", "s1"}, {"email", "eve@example.com"}, {"aud", "other"}}, "//evil.example");
  EXPECT_EQ(Header(r, "Location"), "/signin?sso_error=bad_audience");
  // Linking a local account needs email_verified true.
  r = SignIn({{"sub", "s2"}, {"email", "bob@example.com"}});
  EXPECT_EQ(Header(r, "Location").rfind("/signin?sso_error=email_not_verified", 0), 0u);
  EXPECT_EQ(store_->FindUser("bob@example.com")->source, "local");
  r = SignIn({{"sub", "s2"}, {"email", "new@example.com"}, {"email_verified", false}});
  EXPECT_EQ(Header(r, "Location").rfind("/signin?sso_error=email_not_verified", 0), 0u);
  r = SignIn({{"sub", "s3"}});
  EXPECT_EQ(Header(r, "Location").rfind("/signin?sso_error=no_email", 0), 0u);
  EXPECT_EQ(store_->ListUsers().size(), users);
  int failed = 0;
  for (const auto& e : store_->ListAudit(0, 1000)) failed += e.action == "session.login_failed";
  EXPECT_EQ(failed, 4);
  // JSON for API callers.
  auto j = Call("GET", "/api/v1/oidc/corp/callback?code=x&state=nope", nullptr, "",
                {{"accept", "application/json"}});
  EXPECT_EQ(j.status, 400);
  EXPECT_EQ(Code(j), "state_unknown");
}

TEST_F(ApiOidcTest, LinksAVerifiedLocalAccount) {
  auto r = SignIn({{"sub", "s9"}, {"email", "bob@example.com"}, {"email_verified", true}});
  ASSERT_EQ(r.status, 302);
  EXPECT_EQ(Header(r, "Location"), "/leases");
  auto bob = store_->FindUser("bob@example.com");
  EXPECT_EQ(bob->source, "oidc");
  EXPECT_EQ(bob->subject, kIssuer + " s9");
}

TEST_F(ApiOidcTest, LocalPasswordsSwitch) {
  config_.local_passwords = LocalPasswords::kAdminsOnly;
  MakeOidcApi();
  auto r =
      Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", kUserPassword}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "local_passwords_disabled");
  EXPECT_EQ(Call("POST", "/api/v1/session",
                 {{"email", "admin@example.com"}, {"password", kAdminPassword}})
                .status,
            200);
  config_.local_passwords = LocalPasswords::kNone;
  MakeOidcApi();
  r = Call("POST", "/api/v1/session",
           {{"email", "admin@example.com"}, {"password", kAdminPassword}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Body(Call("GET", "/api/v1/info"))["features"]["local_passwords"], "none");
}

}  // namespace
}  // namespace pinhole
