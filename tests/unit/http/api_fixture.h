// The fixture of the API tests: the handlers end to end in memory (memory
// store, fake enforcer, manual clock); requests go through Api::Handle as the
// server would send them.
#pragma once

#include <gtest/gtest.h>

#include "auth/password.h"
#include "enforce/fake/fake_enforcer.h"
#include "http/api.h"
#include "notify/notifier.h"

namespace pinhole {

using nlohmann::json;

constexpr char kAdminPassword[] = "admin-password-1";
constexpr char kUserPassword[] = "user-password-1";

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewMemoryStore();
    AddUser("admin@example.com", kAdminPassword, Role::kAdmin, false);
    AddUser("bob@example.com", kUserPassword, Role::kUser, false);
    auto fake = std::make_unique<FakeEnforcer>("nftables", &clock_);
    fake_ = fake.get();
    std::map<std::string, std::unique_ptr<Enforcer>> enforcers;
    enforcers["nftables"] = std::move(fake);
    controller_ = std::make_unique<Controller>(*store_, clock_, std::move(enforcers));
    ASSERT_TRUE(controller_->Start().ok());
    config_.trusted_proxies = {*Cidr::Parse("10.0.0.0/8")};
    MakeApi();
  }
  // (Re)creates the Api from config_ and, if set, notifier_.
  void MakeApi() {
    ApiContext ctx{*store_, *controller_, clock_, config_};
    ctx.notifier = notifier_.get();
    api_ = std::make_unique<Api>(ctx);
  }
  void TearDown() override { controller_->Stop(); }

  void AddUser(const std::string& email, const std::string& password, Role role, bool must_change) {
    User u;
    u.email = email;
    u.role = role;
    u.must_change_password = must_change;
    u.password_hash = *HashPassword(password);
    ASSERT_TRUE(
        store_->CreateUser(u, AuditEntry{clock_.Now(), "test", "user.create", "u", "", "{}"}).ok());
  }

  HttpResponse Call(const std::string& method, const std::string& path, const json& body = nullptr,
                    const std::string& token = "",
                    std::vector<std::pair<std::string, std::string>> headers = {},
                    const std::string& peer = "198.51.100.7") {
    HttpRequest r;
    r.method = method;
    r.target = path;
    auto q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) {
      std::string query = path.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        size_t amp = std::min(query.find('&', start), query.size());
        std::string pair = query.substr(start, amp - start);
        auto eq = pair.find('=');
        r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        start = amp + 1;
      }
    }
    if (!body.is_null()) r.body = body.dump();
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    for (auto& [k, v] : headers) r.headers[k] = v;
    r.peer = *IpAddress::Parse(peer);
    return api_->Handle(r);
  }

  json Body(const HttpResponse& r) { return json::parse(r.body); }
  std::string Code(const HttpResponse& r) { return Body(r)["error"]["code"]; }

  json Login(const std::string& email, const std::string& password) {
    auto r = Call("POST", "/api/v1/session", {{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Body(r);
  }

  void SeedServiceAndPolicy(const std::string& admin) {
    ASSERT_EQ(Call("POST", "/api/v1/services",
                   {{"name", "ssh"}, {"protocol", "tcp"}, {"ports", "22"}}, admin)
                  .status,
              201);
    ASSERT_EQ(Call("POST", "/api/v1/policies",
                   {{"name", "p"},
                    {"users", {"bob@example.com"}},
                    {"services", {"ssh"}},
                    {"max_duration", "2h"},
                    {"default_duration", "1h"},
                    {"recipients", {"self", "cidr"}},
                    {"min_prefix", {{"ipv4", 28}, {"ipv6", 64}}}},
                   admin)
                  .status,
              201);
  }

  size_t AuditCount() { return store_->ListAudit(0, 100000).size(); }

  ManualClock clock_;
  Config config_;
  std::unique_ptr<Store> store_;
  FakeEnforcer* fake_ = nullptr;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<Api> api_;
};

}  // namespace pinhole
