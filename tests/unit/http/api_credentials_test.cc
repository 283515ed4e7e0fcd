// API tokens, access keys and /connection through Api::Handle.
#include <gtest/gtest.h>

#include "auth/tokens.h"
#include "api_fixture.h"
#include "sigv4/sigv4.h"

namespace pinhole {
namespace {

class CredentialsApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    admin_ = Login("admin@example.com", kAdminPassword)["token"];
    bob_ = Login("bob@example.com", kUserPassword)["token"];
    SeedServiceAndPolicy(admin_);
  }
  // A bearer token made by bob.
  std::string BobToken(const std::string& name = "ci", json extra = json::object()) {
    json body = {{"name", name}};
    body.update(extra);
    auto r = Call("POST", "/api/v1/me/tokens", body, bob_);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r)["token"];
  }
  // Headers of a SigV4-signed POST/DELETE /connection at `when`.
  std::vector<std::pair<std::string, std::string>> SigV4(const std::string& method,
                                                         const std::string& key_id,
                                                         const std::string& secret, Time when) {
    aws::SigningRequest req;
    req.method = method;
    req.path = "/connection";
    req.headers = {{"Host", "pinhole.example.com"}};
    req.payload_hash = aws::Sha256Hex("");
    auto signed_ = aws::SignRequest(req, {key_id, secret, ""},
                                    {.region = "us-west-2", .service = "execute-api", .time = when});
    std::vector<std::pair<std::string, std::string>> h = {{"host", "pinhole.example.com"}};
    for (auto& [k, v] : signed_.headers_to_add) {
      h.emplace_back(k == "Authorization" ? "authorization" : "x-amz-date", v);
    }
    return h;
  }
  std::string admin_, bob_;
};

TEST_F(CredentialsApiTest, TokenIsShownOnceStoredHashedAndWorks) {
  auto r = Call("POST", "/api/v1/me/tokens", {{"name", "ci"}, {"expires_in", "1d"}}, bob_);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string token = Body(r)["token"];
  EXPECT_EQ(token.rfind("pht_", 0), 0u);
  EXPECT_EQ(Body(r)["expires_at"], FormatTime(clock_.Now() + Seconds(86400)));
  auto stored = store_->ListCredentials(std::nullopt);
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].lookup, HashToken(token));
  EXPECT_EQ(stored[0].secret, "");
  // It authenticates, and its use is recorded.
  auto me = Call("GET", "/api/v1/me", nullptr, token);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Body(me)["user"]["email"], "bob@example.com");
  auto list = Body(Call("GET", "/api/v1/me/tokens", nullptr, bob_))["items"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "ci");
  EXPECT_EQ(list[0]["last_used_ip"], "198.51.100.7");
  EXPECT_FALSE(list[0].contains("token"));
  // Expired: refused and audited.
  clock_.Advance(Seconds(86401));
  size_t events = AuditCount();
  auto late = Call("GET", "/api/v1/me", nullptr, token);
  EXPECT_EQ(late.status, 401);
  EXPECT_EQ(Code(late), "invalid_token");
  EXPECT_EQ(AuditCount(), events + 1);
  EXPECT_EQ(store_->ListAudit(0, 100000).back().action, "auth.token_failed");
}

TEST_F(CredentialsApiTest, BadRequestsChangeNothing) {
  size_t events = AuditCount();
  for (const json& body : {json{{"name", ""}}, json{{"name", std::string(65, 'a')}},
                           json{{"name", "x/y"}}, json{{"name", "ok"}, {"expires_in", "0s"}},
                           json{{"name", "ok"}, {"expires_in", "400d"}},
                           json{{"name", "ok"}, {"extra", 1}}, json{{"expires_in", "1d"}}}) {
    auto r = Call("POST", "/api/v1/me/tokens", body, bob_);
    EXPECT_EQ(r.status, 422) << body.dump() << r.body;
  }
  EXPECT_EQ(AuditCount(), events);
  EXPECT_TRUE(store_->ListCredentials(std::nullopt).empty());
  BobToken("dup");
  auto dup = Call("POST", "/api/v1/me/tokens", {{"name", "dup"}}, bob_);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(store_->ListCredentials(std::nullopt).size(), 1u);
}

TEST_F(CredentialsApiTest, ATokenCannotMakeMoreOrChangeThePassword) {
  std::string token = BobToken();
  auto r = Call("POST", "/api/v1/me/tokens", {{"name", "more"}}, token);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "session_required");
  auto pw = Call("POST", "/api/v1/me/password",
                 {{"current", kUserPassword}, {"new", "another-password-123"}}, token);
  EXPECT_EQ(pw.status, 403);
  EXPECT_EQ(store_->ListCredentials(std::nullopt).size(), 1u);
}

TEST_F(CredentialsApiTest, OwnersAndAdminsRevoke) {
  std::string token = BobToken();
  Id id = store_->ListCredentials(std::nullopt)[0].id;
  // Someone else's id is unknown to the admin's own list route.
  auto foreign = Call("DELETE", "/api/v1/me/tokens/" + std::to_string(id), nullptr, admin_);
  EXPECT_EQ(foreign.status, 404);
  // Non-admins do not see everyone's.
  EXPECT_EQ(Call("GET", "/api/v1/credentials", nullptr, bob_).status, 403);
  auto all = Body(Call("GET", "/api/v1/credentials", nullptr, admin_))["items"];
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["owner"], "bob@example.com");
  EXPECT_EQ(Call("DELETE", "/api/v1/credentials/" + std::to_string(id), nullptr, bob_).status, 403);
  EXPECT_EQ(Call("DELETE", "/api/v1/credentials/" + std::to_string(id), nullptr, admin_).status,
            204);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, token).status, 401);
  EXPECT_EQ(Call("DELETE", "/api/v1/credentials/" + std::to_string(id), nullptr, admin_).status,
            404);
  // The owner revokes their own.
  std::string second = BobToken("second");
  Id id2 = store_->ListCredentials(std::nullopt)[0].id;
  EXPECT_EQ(Call("DELETE", "/api/v1/me/tokens/" + std::to_string(id2), nullptr, bob_).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, second).status, 401);
}

TEST_F(CredentialsApiTest, AccessKeySignsConnectionRequests) {
  auto r = Call("POST", "/api/v1/me/access-keys", {{"name", "laptop"}}, bob_);
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string key_id = Body(r)["access_key_id"], secret = Body(r)["secret_access_key"];
  EXPECT_EQ(key_id.rfind("PHK", 0), 0u);
  EXPECT_EQ(secret.size(), 40u);
  // bob's only policy is his default grant.
  auto open = Call("POST", "/connection", nullptr, "", SigV4("POST", key_id, secret, clock_.Now()));
  ASSERT_EQ(open.status, 201) << open.body;
  EXPECT_EQ(Body(open)["services"], json({"ssh"}));
  EXPECT_EQ(Body(open)["source_cidr"], "198.51.100.7/32");
  EXPECT_EQ(fake_->holes().size(), 1u);
  clock_.Advance(Seconds(60));
  auto again = Call("POST", "/connection", nullptr, "", SigV4("POST", key_id, secret, clock_.Now()));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Body(again)["id"], Body(open)["id"]);
  EXPECT_EQ(Body(again)["expires_at"], FormatTime(clock_.Now() + Seconds(3600)));
  auto close = Call("DELETE", "/connection", nullptr, "", SigV4("DELETE", key_id, secret, clock_.Now()));
  ASSERT_EQ(close.status, 200) << close.body;
  EXPECT_TRUE(fake_->holes().empty());
  clock_.Advance(Seconds(1));
  auto none = Call("DELETE", "/connection", nullptr, "", SigV4("DELETE", key_id, secret, clock_.Now()));
  EXPECT_EQ(none.status, 404);
  // A wrong secret changes nothing and is audited.
  size_t events = AuditCount();
  auto wrong = Call("POST", "/connection", nullptr, "",
                    SigV4("POST", key_id, std::string(40, 'x'), clock_.Now()));
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(Code(wrong), "signature_mismatch");
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(AuditCount(), events + 1);
  EXPECT_EQ(store_->ListAudit(0, 100000).back().action, "auth.sigv4_failed");
}

TEST_F(CredentialsApiTest, ConnectionNeedsADefaultGrant) {
  // A second policy for bob, neither marked default: which to open is unclear.
  ASSERT_EQ(Call("POST", "/api/v1/services", {{"name", "rdp"}, {"protocol", "tcp"}, {"ports", "3389"}},
                 admin_)
                .status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/policies",
                 {{"name", "q"}, {"users", {"bob@example.com"}}, {"services", {"rdp"}}}, admin_)
                .status,
            201);
  auto r = Call("POST", "/connection", nullptr, bob_);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "no_default_grant");
  EXPECT_TRUE(fake_->holes().empty());
  // Marking one as the default settles it.
  ASSERT_EQ(Call("PATCH", "/api/v1/policies/q", {{"default", true}}, admin_).status, 200);
  auto open = Call("POST", "/connection", nullptr, bob_);
  ASSERT_EQ(open.status, 201) << open.body;
  EXPECT_EQ(Body(open)["services"], json({"rdp"}));
  // Admin has no policy at all.
  auto admin = Call("POST", "/connection", nullptr, admin_);
  EXPECT_EQ(admin.status, 403);
  EXPECT_EQ(Code(admin), "no_default_grant");
}

}  // namespace
}  // namespace pinhole
