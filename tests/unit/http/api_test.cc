// The API handlers end to end in memory: memory store, fake enforcer,
// manual clock; requests go through Api::Handle as the server would send them.
#include "api_fixture.h"

namespace pinhole {
namespace {

using nlohmann::json;

class ApiTest : public ApiFixture {};

std::string Header(const HttpResponse& r, const std::string& name) {
  for (auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST_F(ApiTest, LoginSetsStrictHttpOnlyCookie) {
  auto r =
      Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", kUserPassword}});
  ASSERT_EQ(r.status, 200);
  std::string cookie = Header(r, "Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP here
  EXPECT_FALSE(Body(r)["csrf_token"].get<std::string>().empty());
}

TEST_F(ApiTest, WrongPasswordAndUnknownUserLookTheSame) {
  auto a = Call("POST", "/api/v1/session",
                {{"email", "bob@example.com"}, {"password", "nope-nope-nope"}});
  auto b = Call("POST", "/api/v1/session",
                {{"email", "who@example.com"}, {"password", "nope-nope-nope"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, b.body);
}

TEST_F(ApiTest, LoginThrottledPerAccount) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(
        Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", "bad-bad-bad"}})
            .status,
        401);
  }
  auto r =
      Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", kUserPassword}});
  EXPECT_EQ(r.status, 429);
  EXPECT_FALSE(Header(r, "Retry-After").empty());
  clock_.Advance(std::chrono::minutes(16));
  EXPECT_EQ(
      Call("POST", "/api/v1/session", {{"email", "bob@example.com"}, {"password", kUserPassword}})
          .status,
      200);
}

TEST_F(ApiTest, CookieWritesNeedTheCsrfToken) {
  json admin = Login("admin@example.com", kAdminPassword);
  std::string cookie = "pinhole_session=" + admin["token"].get<std::string>();
  json group = {{"name", "ops"}};
  auto before = store_->ListGroups().size();
  auto refused = Call("POST", "/api/v1/groups", group, "", {{"cookie", cookie}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Code(refused), "csrf_token_invalid");
  EXPECT_EQ(store_->ListGroups().size(), before);
  auto wrong =
      Call("POST", "/api/v1/groups", group, "", {{"cookie", cookie}, {"x-csrf-token", "nope"}});
  EXPECT_EQ(wrong.status, 403);
  // Reads with the cookie alone are fine; writes with the token too.
  EXPECT_EQ(Call("GET", "/api/v1/groups", nullptr, "", {{"cookie", cookie}}).status, 200);
  auto ok = Call("POST", "/api/v1/groups", group, "",
                 {{"cookie", cookie}, {"x-csrf-token", admin["csrf_token"].get<std::string>()}});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(ApiTest, RolesAndAuthentication) {
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  EXPECT_EQ(Call("GET", "/api/v1/users").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/users", nullptr, "garbage").status, 401);
  auto r = Call("GET", "/api/v1/users", nullptr, bob);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/audit", nullptr, bob).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, bob).status, 200);
}

TEST_F(ApiTest, ForcedPasswordChangeGatesEverythingElse) {
  AddUser("new@example.com", "initial-password", Role::kUser, true);
  json s = Login("new@example.com", "initial-password");
  EXPECT_TRUE(s["must_change_password"].get<bool>());
  std::string tok = s["token"];
  auto blocked = Call("GET", "/api/v1/leases", nullptr, tok);
  EXPECT_EQ(blocked.status, 403);
  EXPECT_EQ(Code(blocked), "password_change_required");
  EXPECT_EQ(Call("POST", "/api/v1/me/password", {{"current", "wrong-password"}, {"new", "x"}}, tok)
                .status,
            403);
  EXPECT_EQ(
      Call("POST", "/api/v1/me/password", {{"current", "initial-password"}, {"new", "short"}}, tok)
          .status,
      422);
  EXPECT_EQ(Call("POST", "/api/v1/me/password",
                 {{"current", "initial-password"}, {"new", "a-much-better-password"}}, tok)
                .status,
            204);
  EXPECT_EQ(Call("GET", "/api/v1/leases", nullptr, tok).status, 200);
}

TEST_F(ApiTest, ClientAddressFromTrustedProxyOnly) {
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  auto direct =
      Call("GET", "/api/v1/me", nullptr, bob, {{"x-forwarded-for", "203.0.113.5"}}, "198.51.100.7");
  EXPECT_EQ(Body(direct)["client_ip"], "198.51.100.7");
  auto proxied =
      Call("GET", "/api/v1/me", nullptr, bob, {{"x-forwarded-for", "203.0.113.5"}}, "10.1.2.3");
  EXPECT_EQ(Body(proxied)["client_ip"], "203.0.113.5");
}

TEST_F(ApiTest, LeaseLifecycleAppliesAndRemovesHoles) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  auto created = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}, {"duration", "90m"}}, bob);
  ASSERT_EQ(created.status, 201) << created.body;
  json lease = Body(created);
  EXPECT_EQ(lease["state"], "active");
  EXPECT_EQ(lease["source_cidr"], "198.51.100.7/32");
  EXPECT_EQ(lease["rules"][0]["status"], "applied");
  EXPECT_EQ(fake_->holes().size(), 1u);
  std::string id = std::to_string(lease["id"].get<int64_t>());
  // Another user cannot see or end it; the admin can see it.
  AddUser("eve@example.com", "eve-password-1", Role::kUser, false);
  std::string eve = Login("eve@example.com", "eve-password-1")["token"];
  EXPECT_EQ(Call("GET", "/api/v1/leases/" + id, nullptr, eve).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/leases/" + id, nullptr, eve).status, 404);
  EXPECT_EQ(Body(Call("GET", "/api/v1/leases", nullptr, eve))["items"].size(), 0u);
  EXPECT_EQ(Call("GET", "/api/v1/leases/" + id, nullptr, admin).status, 200);
  // Renew within the max, then not beyond it.
  EXPECT_EQ(Call("POST", "/api/v1/leases/" + id + "/renew", {{"duration", "2h"}}, bob).status, 200);
  EXPECT_EQ(Code(Call("POST", "/api/v1/leases/" + id + "/renew", {{"duration", "3h"}}, bob)),
            "duration_exceeds_max");
  auto ended = Call("DELETE", "/api/v1/leases/" + id, nullptr, bob);
  ASSERT_EQ(ended.status, 200);
  EXPECT_EQ(Body(ended)["state"], "terminated");
  EXPECT_EQ(Body(ended)["rules"][0]["status"], "removed");
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(Call("DELETE", "/api/v1/leases/" + id, nullptr, bob).status, 409);
}

TEST_F(ApiTest, RefusedLeaseRequestsChangeNothing) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  auto audit_before = AuditCount();
  struct Case {
    json body;
    int status;
    std::string code;
  } cases[] = {
      {{{"services", {"ssh"}}, {"duration", "3h"}}, 422, "duration_exceeds_max"},
      {{{"services", {"ssh"}}, {"duration", "0s"}}, 422, "invalid_duration"},
      {{{"services", {"nope"}}}, 422, "unknown_service"},
      {{{"services", {"ssh"}}, {"recipient", {{"kind", "cidr"}, {"cidr", "198.51.100.0/24"}}}},
       422,
       "cidr_too_wide"},
      {{{"services", {"ssh"}}, {"recipient", {{"kind", "cidr"}, {"cidr", "::/0"}}}},
       422,
       "cidr_too_wide"},
      {{{"services", {"ssh"}}, {"recipient", {{"kind", "cidr"}, {"cidr", "nonsense"}}}},
       422,
       "invalid_cidr"},
      // The seeded policy allows self and cidr, not invitations.
      {{{"services", {"ssh"}}, {"recipient", {{"kind", "invite"}, {"email", "x@example.com"}}}},
       403,
       "not_permitted"},
      {{{"services", {"ssh"}}, {"recipient", {{"kind", "invite"}}}}, 422, "invalid_recipient"},
      {{{"services", {"ssh"}}, {"colour", "blue"}}, 422, "unknown_field"},
      {{{"services", "ssh"}}, 422, "invalid_field"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/v1/leases", c.body, bob);
    EXPECT_EQ(r.status, c.status) << c.body.dump() << " -> " << r.body;
    EXPECT_EQ(Code(r), c.code) << c.body.dump();
  }
  HttpRequest raw;
  raw.method = "POST";
  raw.path = raw.target = "/api/v1/leases";
  raw.body = "{\"services\": [";
  raw.headers["authorization"] = "Bearer " + bob;
  raw.peer = *IpAddress::Parse("198.51.100.7");
  EXPECT_EQ(api_->Handle(raw).status, 400);
  EXPECT_EQ(AuditCount(), audit_before);
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(store_->ListLeases({}).size(), 0u);
}

TEST_F(ApiTest, PolicyApprovalAndScheduleAreValidated) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  // Each refusal is a 422 that names the problem and stores nothing.
  auto refused = [&](const json& body, const std::string& code, const std::string& message) {
    auto r = Call("POST", "/api/v1/policies", body, admin);
    EXPECT_EQ(r.status, 422) << body.dump();
    EXPECT_EQ(Code(r), code) << body.dump();
    if (!message.empty()) EXPECT_EQ(Body(r)["error"]["message"], message) << body.dump();
  };
  size_t audit_before = AuditCount();
  refused({{"name", "a"}, {"approval", "sometimes"}}, "invalid_field",
          "approval: must be \"auto\" or \"admin\"");
  refused({{"name", "b"},
           {"schedule",
            {{"timezone", "Mars/Base"},
             {"windows", {{{"days", {"mon"}}, {"from", "08:00"}, {"to", "18:00"}}}}}}},
          "invalid_schedule", "unknown time zone \"Mars/Base\"");
  refused({{"name", "b"}, {"schedule", {{"timezone", "UTC"}, {"windows", json::array()}}}},
          "invalid_schedule", "a schedule needs at least one window; omit it for always");
  refused({{"name", "b"},
           {"schedule",
            {{"timezone", "UTC"},
             {"windows",
              {{{"days", {"weekdays"}}, {"from", "08:00"}, {"to", "12:00"}},
               {{"days", {"wed"}}, {"from", "11:00"}, {"to", "13:00"}}}}}}},
          "invalid_schedule", "windows 1 and 2 overlap (both open on wed 11:00)");
  refused({{"name", "b"},
           {"schedule",
            {{"timezone", "UTC"},
             {"windows", {{{"days", {"mon"}}, {"from", "8am"}, {"to", "18:00"}}}}}}},
          "invalid_schedule", "");
  refused({{"name", "d"}, {"min_prefix", {{"ipv4", 0}}}}, "invalid_field", "");
  EXPECT_EQ(store_->ListPolicies().size(), 0u);
  EXPECT_EQ(AuditCount(), audit_before);

  // A valid one comes back in the canonical form, and GET shows the same.
  auto r = Call("POST", "/api/v1/policies",
                {{"name", "office"},
                 {"approval", "admin"},
                 {"activate_on", "next_login"},
                 {"notify_admins", true},
                 {"recipients", {"self", "invite"}},
                 {"schedule",
                  {{"timezone", "Europe/Berlin"},
                   {"windows",
                    {{{"days", {"fri", "weekdays"}}, {"from", "8:00"}, {"to", "18:00"}},
                     {{"days", {"sat"}}, {"from", "22:00"}, {"to", "24:00"}}}}}}},
                admin);
  ASSERT_EQ(r.status, 201) << r.body;
  json created = Body(r);
  EXPECT_EQ(created["approval"], "admin");
  EXPECT_EQ(created["activate_on"], "next_login");
  EXPECT_EQ(created["notify_admins"], true);
  EXPECT_EQ(created["may_outlive_window"], false);
  EXPECT_EQ(created["schedule"], json::parse(R"({"timezone":"Europe/Berlin","windows":[
              {"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"},
              {"days":["sat"],"from":"22:00","to":"24:00"}]})"));
  auto got = Call("GET", "/api/v1/policies/office", nullptr, admin);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Body(got)["schedule"], created["schedule"]);

  // PATCH: null removes the schedule; absent fields stay.
  auto patched = Call("PATCH", "/api/v1/policies/office", {{"schedule", nullptr}}, admin);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(Body(patched)["schedule"].is_null());
  EXPECT_EQ(Body(patched)["approval"], "admin");
}

TEST_F(ApiTest, DeletingAUserRevokesTheirLeases) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  json lease = Body(Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob));
  ASSERT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(Call("DELETE", "/api/v1/users/bob@example.com", nullptr, admin).status, 204);
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(store_->GetLease(lease["id"].get<Id>())->state, LeaseState::kRevoked);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, bob).status, 401);
  EXPECT_EQ(Code(Call("DELETE", "/api/v1/users/admin@example.com", nullptr, admin)),
            "self_lockout");
}

TEST_F(ApiTest, AdminCrudByIdOrName) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  auto created = Call("POST", "/api/v1/users",
                      {{"email", "Carol@Example.com"}, {"generate_password", true}}, admin);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Body(created)["email"], "carol@example.com");
  EXPECT_GE(Body(created)["generated_password"].get<std::string>().size(), 16u);
  EXPECT_EQ(Call("POST", "/api/v1/users", {{"email", "carol@example.com"}}, admin).status, 409);
  EXPECT_EQ(
      Call("POST", "/api/v1/groups", {{"name", "ops"}, {"members", {"carol@example.com"}}}, admin)
          .status,
      201);
  auto carol = Body(Call("GET", "/api/v1/users/carol@example.com", nullptr, admin));
  EXPECT_EQ(carol["groups"], json({"ops"}));
  auto patched = Call("PATCH", "/api/v1/groups/ops", {{"members", json::array()}}, admin);
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Call("GET", "/api/v1/groups/nope", nullptr, admin).status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/groups/ops", nullptr, admin).status, 204);
  EXPECT_EQ(Call("POST", "/api/v1/services", {{"name", "x"}, {"protocol", "tcp"}}, admin).status,
            422);
  EXPECT_EQ(
      Code(
          Call("POST", "/api/v1/services",
               {{"name", "x"}, {"protocol", "tcp"}, {"ports", "22"}, {"backend", "carrier-pigeon"}},
               admin)),
      "unknown_backend");
}

TEST_F(ApiTest, LeaseRefusedWholeWhenABackendHasNoCapacity) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  fake_->RefuseCapacity(Status::Conflict(
      "capacity_exhausted", "no room for another IPv4 rule in security groups sg-1, sg-2"));
  auto refused = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(Body(refused)["error"]["code"], "capacity_exhausted");
  EXPECT_NE(Body(refused)["error"]["message"].get<std::string>().find("sg-2"), std::string::npos);
  // Nothing committed, nothing applied.
  EXPECT_EQ(Body(Call("GET", "/api/v1/leases", nullptr, bob))["items"].size(), 0u);
  EXPECT_TRUE(fake_->holes().empty());
  auto checks = fake_->capacity_checks();
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0][0].key.service, "ssh");
  EXPECT_EQ(checks[0][0].key.source.ToString(), "198.51.100.7/32");
  fake_->RefuseCapacity(Status::Ok());
  EXPECT_EQ(Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob).status, 201);
}

TEST_F(ApiTest, DegradedBackendMakesReadyzFailWithTheReason) {
  EnforcerHealth h;
  h.degraded = true;
  h.reason = "AWS calls failing since 2026-11-21T10:00:00Z: AuthFailure: bad key";
  h.counters.push_back({"pinhole_aws_calls_total", "counter", "EC2 calls", 7});
  fake_->SetHealth(h);
  auto r = Call("GET", "/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Body(r)["status"], "degraded");
  EXPECT_EQ(Body(r)["error"]["code"], "degraded");
  EXPECT_NE(Body(r)["degraded"]["nftables"].get<std::string>().find("AuthFailure"),
            std::string::npos);
  auto m = Call("GET", "/metrics");
  EXPECT_NE(m.body.find("pinhole_enforcer_degraded{backend=\"nftables\"} 1"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("pinhole_aws_calls_total 7"), std::string::npos);
  fake_->SetHealth({});
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}

TEST_F(ApiTest, HealthReadyMetrics) {
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  auto m = Call("GET", "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("pinhole_active_leases 0"), std::string::npos);
  EXPECT_EQ(Call("GET", "/nope").status, 404);
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TEST_F(ApiTest, UserGroupsAreGroupMembership) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  ASSERT_EQ(Call("POST", "/api/v1/groups", {{"name", "ops"}}, admin).status, 201);
  ASSERT_EQ(Call("POST", "/api/v1/groups", {{"name", "dev"}}, admin).status, 201);
  EXPECT_EQ(Code(Call("POST", "/api/v1/users", {{"email", "d@example.com"}, {"groups", {"nope"}}},
                      admin)),
            "unknown_group");
  EXPECT_FALSE(store_->FindUser("d@example.com").ok());
  ASSERT_EQ(Call("POST", "/api/v1/users", {{"email", "d@example.com"}, {"groups", {"ops"}}}, admin)
                .status,
            201);
  EXPECT_EQ(Body(Call("GET", "/api/v1/groups/ops", nullptr, admin))["members"],
            json({"d@example.com"}));
  ASSERT_EQ(Call("PATCH", "/api/v1/users/d@example.com", {{"groups", {"dev"}}}, admin).status, 200);
  EXPECT_EQ(Body(Call("GET", "/api/v1/users/d@example.com", nullptr, admin))["groups"],
            json({"dev"}));
  EXPECT_EQ(Body(Call("GET", "/api/v1/groups/ops", nullptr, admin))["members"], json::array());
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TEST_F(ApiTest, NewAddressSupersedesTheOldOnesHole) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  json first =
      Body(Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob, {}, "198.51.100.7"));
  json cidr = Body(
      Call("POST", "/api/v1/leases",
           {{"services", {"ssh"}}, {"recipient", {{"kind", "cidr"}, {"cidr", "203.0.113.0/28"}}}},
           bob, {}, "198.51.100.7"));
  json second =
      Body(Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob, {}, "198.51.100.8"));
  EXPECT_EQ(store_->GetLease(first["id"].get<Id>())->state, LeaseState::kTerminated);
  EXPECT_EQ(store_->GetLease(cidr["id"].get<Id>())->state,
            LeaseState::kActive);  // typed CIDRs stay
  EXPECT_EQ(store_->GetLease(second["id"].get<Id>())->state, LeaseState::kActive);
  HoleMap holes = fake_->holes();
  EXPECT_EQ(holes.size(), 2u);
  EXPECT_FALSE(holes.count(HoleKey{"ssh", *Cidr::Parse("198.51.100.7")}));
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TEST_F(ApiTest, NumbersInPathsAndQueriesAreWholeNumbers) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  EXPECT_EQ(Code(Call("GET", "/api/v1/leases?limit=10abc", nullptr, admin)), "invalid_field");
  EXPECT_EQ(Code(Call("GET", "/api/v1/leases?limit=0", nullptr, admin)), "invalid_field");
  EXPECT_EQ(Call("GET", "/api/v1/leases?limit=10", nullptr, admin).status, 200);
  EXPECT_EQ(Code(Call("GET", "/api/v1/audit?after=-1", nullptr, admin)), "invalid_field");
  EXPECT_EQ(Code(Call("GET", "/api/v1/audit?limit=1001", nullptr, admin)), "invalid_field");
  EXPECT_EQ(Call("GET", "/api/v1/leases/1x", nullptr, admin).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/leases/99999999999999999999", nullptr, admin).status, 404);
}

TEST_F(ApiTest, MeRepeatsTheCsrfTokenOnlyToCookieCallers) {
  json login = Login("bob@example.com", kUserPassword);
  std::string token = login["token"];
  auto by_cookie = Call("GET", "/api/v1/me", nullptr, "", {{"cookie", "pinhole_session=" + token}});
  ASSERT_EQ(by_cookie.status, 200);
  EXPECT_EQ(Body(by_cookie)["csrf_token"], login["csrf_token"]);
  EXPECT_EQ(Body(by_cookie)["client_ip"], "198.51.100.7");
  auto by_bearer = Call("GET", "/api/v1/me", nullptr, token);
  ASSERT_EQ(by_bearer.status, 200);
  EXPECT_FALSE(Body(by_bearer).contains("csrf_token"));
}

TEST_F(ApiTest, InfoIsPublicAndNamesFeaturesAndBackends) {
  auto r = Call("GET", "/api/v1/info");
  ASSERT_EQ(r.status, 200);
  json info = Body(r);
  EXPECT_EQ(info["backends"], json({"nftables"}));
  EXPECT_EQ(info["features"]["approval"], true);
  EXPECT_EQ(info["features"]["schedule"], true);
  EXPECT_EQ(info["features"]["invitations"], true);
  EXPECT_EQ(info["features"]["email"], false);  // no notifier here
  EXPECT_EQ(info["features"]["totp"], true);
  EXPECT_FALSE(info.contains("version"));
}

TEST_F(ApiTest, GrantsListWhatTheCallerMayRequestWithLimits) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  ASSERT_EQ(
      Call("POST", "/api/v1/services",
           {{"name", "db"}, {"protocol", "tcp"}, {"ports", "5432"}, {"description", "SQL"}}, admin)
          .status,
      201);
  ASSERT_EQ(Call("POST", "/api/v1/access-groups",
                 {{"name", "lobby"}, {"services", {"db"}}, {"public", true}}, admin)
                .status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/access-groups",
                 {{"name", "hidden"}, {"services", {"db"}}, {"public", false}}, admin)
                .status,
            201);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  auto r = Call("GET", "/api/v1/me/grants", nullptr, bob, {}, "203.0.113.9");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["client_ip"], "203.0.113.9");
  ASSERT_EQ(body["items"].size(), 2u) << body.dump();
  json ssh = body["items"][0];
  EXPECT_EQ(ssh["kind"], "service");
  EXPECT_EQ(ssh["name"], "ssh");
  EXPECT_EQ(ssh["requestable"], true);
  EXPECT_EQ(ssh["policy"], "p");
  EXPECT_EQ(ssh["default_duration"], "1h");
  EXPECT_EQ(ssh["max_duration"], "2h");
  EXPECT_EQ(ssh["default_seconds"], 3600);
  EXPECT_EQ(ssh["max_seconds"], 7200);
  EXPECT_EQ(ssh["recipients"], json({"self", "cidr"}));
  EXPECT_EQ(ssh["min_prefix"]["ipv4"], 28);
  EXPECT_EQ(ssh["services"][0]["ports"], "22");
  EXPECT_FALSE(ssh["services"][0].contains("target"));  // not a requester's business
  // The public group is listed, though no policy of bob's grants it.
  json lobby = body["items"][1];
  EXPECT_EQ(lobby["kind"], "access_group");
  EXPECT_EQ(lobby["name"], "lobby");
  EXPECT_EQ(lobby["public"], true);
  EXPECT_EQ(lobby["requestable"], false);
  EXPECT_TRUE(lobby["policy"].is_null());
  EXPECT_EQ(lobby["services"][0]["description"], "SQL");

  // Someone under no policy sees only the public group.
  AddUser("carol@example.com", kUserPassword, Role::kUser, false);
  std::string carol = Login("carol@example.com", kUserPassword)["token"];
  json carols = Body(Call("GET", "/api/v1/me/grants", nullptr, carol))["items"];
  ASSERT_EQ(carols.size(), 1u);
  EXPECT_EQ(carols[0]["name"], "lobby");
  EXPECT_EQ(Call("GET", "/api/v1/me/grants").status, 401);
}

TEST_F(ApiTest, AuditFiltersAndPagesNewestFirst) {
  std::string admin = Login("admin@example.com", kAdminPassword)["token"];
  SeedServiceAndPolicy(admin);
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob).status, 201);
  }
  auto page = [&](const std::string& query) {
    auto r = Call("GET", "/api/v1/audit?" + query, nullptr, admin);
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  };
  json first = page("actor=bob@example.com&action=lease.create&order=desc&limit=2");
  ASSERT_EQ(first["items"].size(), 2u);
  int64_t newest = first["items"][0]["seq"];
  EXPECT_GT(newest, first["items"][1]["seq"].get<int64_t>());
  for (const auto& e : first["items"]) {
    EXPECT_EQ(e["actor"], "bob@example.com");
    EXPECT_EQ(e["action"], "lease.create");
  }
  json second = page("actor=bob@example.com&action=lease.create&order=desc&limit=2&before=" +
                     std::to_string(first["next_before"].get<int64_t>()));
  ASSERT_EQ(second["items"].size(), 1u);
  EXPECT_TRUE(second["next_before"].is_null());
  // A full page that happens to be the last has no cursor either.
  json exact = page("actor=bob@example.com&action=lease.create&order=desc&limit=3");
  EXPECT_EQ(exact["items"].size(), 3u);
  EXPECT_TRUE(exact["next_before"].is_null());

  // A time window after every event is empty; one around now has them all.
  EXPECT_TRUE(page("since=2099-01-01T00:00:00Z")["items"].empty());
  std::string now = FormatTime(clock_.Now());
  EXPECT_EQ(page("action=lease.&until=2099-01-01T00:00:00Z&since=" + now)["items"].size(), 3u);

  for (const char* bad : {"order=sideways", "since=yesterday", "until=2026-13-01T00:00:00Z",
                          "before=0", "before=x"}) {
    auto r = Call("GET", std::string("/api/v1/audit?") + bad, nullptr, admin);
    EXPECT_EQ(r.status, 422) << bad;
    EXPECT_EQ(Code(r), "invalid_field") << bad;
  }
}

}  // namespace
}  // namespace pinhole
