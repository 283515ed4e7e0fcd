// TOTP enrolment and sign-in, recovery codes, MFA requirements, admin reset,
// and account lockout, through Api::Handle with a manual clock.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "auth/totp.h"

namespace pinhole {
namespace {

class MfaApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    admin_ = Login("admin@example.com", kAdminPassword)["token"];
    bob_ = Login("bob@example.com", kUserPassword)["token"];
  }
  HttpResponse SignIn(const json& extra = json::object()) {
    json body = {{"email", "bob@example.com"}, {"password", kUserPassword}};
    body.update(extra);
    return Call("POST", "/api/v1/session", body);
  }
  // Enrols bob; returns the secret and fills `codes`.
  std::string Enrol(std::vector<std::string>* codes = nullptr) {
    auto start = Call("POST", "/api/v1/me/mfa/totp", nullptr, bob_);
    EXPECT_EQ(start.status, 200) << start.body;
    std::string secret = Body(start)["secret"];
    auto ok = Call("POST", "/api/v1/me/mfa/totp/confirm", {{"code", *TotpCode(secret, clock_.Now())}},
                   bob_);
    EXPECT_EQ(ok.status, 200) << ok.body;
    if (codes) *codes = Body(ok)["recovery_codes"].get<std::vector<std::string>>();
    clock_.Advance(Seconds(30));  // the confirming code's step is used
    return secret;
  }
  std::string admin_, bob_;
};

TEST_F(MfaApiTest, EnrolmentShowsUriAndQrAndNeedsAGoodCode) {
  auto start = Call("POST", "/api/v1/me/mfa/totp", nullptr, bob_);
  ASSERT_EQ(start.status, 200) << start.body;
  EXPECT_EQ(Body(start)["otpauth_uri"].get<std::string>().rfind("otpauth://totp/Pinhole:bob@example.com?secret=", 0), 0u);
  EXPECT_EQ(Body(start)["qr_svg"].get<std::string>().rfind("<svg", 0), 0u);
  EXPECT_FALSE(store_->GetUser(2)->mfa_enabled);
  auto bad = Call("POST", "/api/v1/me/mfa/totp/confirm", {{"code", "000000"}}, bob_);
  EXPECT_EQ(bad.status, 422);
  EXPECT_FALSE(store_->FindUser("bob@example.com")->mfa_enabled);
  std::string secret = Body(start)["secret"];
  auto ok = Call("POST", "/api/v1/me/mfa/totp/confirm", {{"code", *TotpCode(secret, clock_.Now())}}, bob_);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["recovery_codes"].size(), 10u);
  EXPECT_TRUE(store_->FindUser("bob@example.com")->mfa_enabled);
  auto again = Call("POST", "/api/v1/me/mfa/totp", nullptr, bob_);
  EXPECT_EQ(again.status, 409);
  auto status = Body(Call("GET", "/api/v1/me/mfa", nullptr, bob_));
  EXPECT_TRUE(status["enabled"]);
  EXPECT_EQ(status["recovery_codes_left"], 10);
}

TEST_F(MfaApiTest, SignInNeedsAFreshCode) {
  std::string secret = Enrol();
  size_t sessions_before = AuditCount();
  auto none = SignIn();
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Code(none), "mfa_required");
  auto wrong = SignIn({{"totp", "123456"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Code(wrong), "invalid_totp");
  EXPECT_EQ(AuditCount(), sessions_before + 2);  // two login_failed events, no session
  std::string code = *TotpCode(secret, clock_.Now());
  auto good = SignIn({{"totp", code}});
  ASSERT_EQ(good.status, 200) << good.body;
  auto reused = SignIn({{"totp", code}});
  EXPECT_EQ(reused.status, 401);
  EXPECT_EQ(Code(reused), "totp_reused");
  // One step earlier is within tolerance but older than the used one.
  auto older = SignIn({{"totp", *TotpCode(secret, clock_.Now() - Seconds(30))}});
  EXPECT_EQ(older.status, 401);
  // The next step works; two steps ahead does not.
  EXPECT_EQ(SignIn({{"totp", *TotpCode(secret, clock_.Now() + Seconds(60))}}).status, 401);
  EXPECT_EQ(SignIn({{"totp", *TotpCode(secret, clock_.Now() + Seconds(30))}}).status, 200);
}

TEST_F(MfaApiTest, RecoveryCodesWorkOnce) {
  std::vector<std::string> codes;
  Enrol(&codes);
  auto r = SignIn({{"recovery_code", codes[3]}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto again = SignIn({{"recovery_code", codes[3]}});
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(Code(again), "invalid_recovery_code");
  EXPECT_EQ(Body(Call("GET", "/api/v1/me/mfa", nullptr, bob_))["recovery_codes_left"], 9);
}

TEST_F(MfaApiTest, RequiredByGroupGivesAnEnrolmentOnlySession) {
  ASSERT_EQ(Call("POST", "/api/v1/groups", {{"name", "ops"}, {"members", {"bob@example.com"}}}, admin_)
                .status,
            201);
  EXPECT_EQ(Call("PUT", "/api/v1/settings/mfa", {{"required_groups", {"ops"}}}, bob_).status, 403);
  auto bad = Call("PUT", "/api/v1/settings/mfa", {{"required_for_all", "yes"}}, admin_);
  EXPECT_EQ(bad.status, 422);
  ASSERT_EQ(Call("PUT", "/api/v1/settings/mfa", {{"required_groups", {"ops"}}}, admin_).status, 200);
  auto r = SignIn();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Body(r)["mfa_enrolment_required"]);
  std::string limited = Body(r)["token"];
  auto leases = Call("GET", "/api/v1/leases", nullptr, limited);
  EXPECT_EQ(leases.status, 403);
  EXPECT_EQ(Code(leases), "mfa_enrolment_required");
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, limited).status, 200);
  auto start = Call("POST", "/api/v1/me/mfa/totp", nullptr, limited);
  ASSERT_EQ(start.status, 200);
  std::string secret = Body(start)["secret"];
  ASSERT_EQ(Call("POST", "/api/v1/me/mfa/totp/confirm", {{"code", *TotpCode(secret, clock_.Now())}},
                 limited)
                .status,
            200);
  EXPECT_EQ(Call("GET", "/api/v1/leases", nullptr, limited).status, 200);
  // Required: it cannot be removed by its owner.
  clock_.Advance(Seconds(30));
  auto remove = Call("DELETE", "/api/v1/me/mfa", {{"code", *TotpCode(secret, clock_.Now())}}, limited);
  EXPECT_EQ(remove.status, 403);
  EXPECT_TRUE(store_->FindUser("bob@example.com")->mfa_enabled);
}

TEST_F(MfaApiTest, AdminResetsAndOwnerRemoves) {
  std::string secret = Enrol();
  EXPECT_EQ(Call("DELETE", "/api/v1/users/bob@example.com/mfa", nullptr, bob_).status, 403);
  EXPECT_TRUE(store_->FindUser("bob@example.com")->mfa_enabled);
  ASSERT_EQ(Call("DELETE", "/api/v1/users/bob@example.com/mfa", nullptr, admin_).status, 204);
  EXPECT_FALSE(store_->FindUser("bob@example.com")->mfa_enabled);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, bob_).status, 401);  // sessions ended
  EXPECT_EQ(SignIn().status, 200);
  bob_ = Body(SignIn())["token"];
  secret = Enrol();
  auto wrong = Call("DELETE", "/api/v1/me/mfa", {{"code", "000000"}}, bob_);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_TRUE(store_->FindUser("bob@example.com")->mfa_enabled);
  EXPECT_EQ(Call("DELETE", "/api/v1/me/mfa", {{"code", *TotpCode(secret, clock_.Now())}}, bob_).status,
            204);
  EXPECT_FALSE(store_->FindUser("bob@example.com")->mfa_enabled);
}

TEST_F(MfaApiTest, LockoutAfterRepeatedFailuresAndAdminUnlock) {
  config_.lockout_after = 3;
  config_.lockout_for = Seconds(600);
  MakeApi();
  for (int i = 0; i < 3; ++i) {
    auto r = Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", "wrong"}},
                  "", {}, "198.51.100." + std::to_string(20 + i));
    EXPECT_EQ(r.status, 401);
  }
  auto locked = Call("POST", "/api/v1/session",
                     {{"email", "bob@example.com"}, {"password", kUserPassword}}, "", {},
                     "198.51.100.30");
  EXPECT_EQ(locked.status, 403);
  EXPECT_EQ(Code(locked), "account_locked");
  auto users = Body(Call("GET", "/api/v1/users/bob@example.com", nullptr, admin_));
  EXPECT_FALSE(users["locked_until"].is_null());
  EXPECT_EQ(Call("POST", "/api/v1/users/bob@example.com/unlock", nullptr, bob_).status, 403);
  ASSERT_EQ(Call("POST", "/api/v1/users/bob@example.com/unlock", nullptr, admin_).status, 200);
  auto ok = Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", kUserPassword}},
                 "", {}, "198.51.100.31");
  EXPECT_EQ(ok.status, 200) << ok.body;
  // Or the lock simply runs out.
  for (int i = 0; i < 3; ++i) {
    Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", "wrong"}}, "", {},
         "198.51.100." + std::to_string(40 + i));
  }
  EXPECT_EQ(Call("POST", "/api/v1/session",
                 {{"email", "bob@example.com"}, {"password", kUserPassword}}, "", {}, "198.51.100.50")
                .status,
            403);
  clock_.Advance(Seconds(601));
  EXPECT_EQ(Call("POST", "/api/v1/session",
                 {{"email", "bob@example.com"}, {"password", kUserPassword}}, "", {}, "198.51.100.51")
                .status,
            200);
  bool locked_event = false;
  for (const auto& e : store_->ListAudit(0, 0)) locked_event |= e.action == "user.locked";
  EXPECT_TRUE(locked_event);
}

}  // namespace
}  // namespace pinhole
