// Approvals, invitations, set-password links and the housekeeper's expiries
// and reminders, through the API with a notifier that renders emails into
// the (memory) store's outbox.
#include <regex>

#include "api_fixture.h"
#include "control/housekeeper.h"

namespace pinhole {
namespace {

class WorkflowTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    config_.public_url = "https://pinhole.example.com";
    notifier_ = std::make_unique<Notifier>(
        NotifyOptions{.public_url = config_.public_url, .email_enabled = true});
    MakeApi();
    admin_ = Login("admin@example.com", kAdminPassword)["token"];
    bob_ = Login("bob@example.com", kUserPassword)["token"];
    ASSERT_EQ(Call("POST", "/api/v1/services",
                   {{"name", "ssh"}, {"protocol", "tcp"}, {"ports", "22"}}, admin_)
                  .status,
              201);
  }

  void AddPolicy(json extra = json::object()) {
    json p = {{"name", "p"},
              {"users", {"bob@example.com"}},
              {"services", {"ssh"}},
              {"max_duration", "2h"},
              {"default_duration", "1h"},
              {"recipients", {"self", "invite"}}};
    p.update(extra);
    auto r = Call("POST", "/api/v1/policies", p, admin_);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Emails in the outbox to `to` (newest first).
  std::vector<OutboxMessage> MailTo(const std::string& to) {
    std::vector<OutboxMessage> out;
    auto all = store_->ListOutbox("", 1000);
    for (auto& m : *all) {
      if (m.channel == "email" && m.target == to) out.push_back(m);
    }
    return out;
  }

  // The token of the first `<public_url>/<kind>/<token>` link in `text`.
  static std::string LinkToken(const std::string& text, const std::string& kind) {
    std::smatch m;
    std::regex re("https://pinhole\\.example\\.com/" + kind + "/([A-Za-z0-9._-]+)");
    return std::regex_search(text, m, re) ? m[1].str() : "";
  }

  int64_t Request(const std::string& peer = "198.51.100.7") {
    auto r = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}, {"reason", "deploy"}}, bob_,
                  {}, peer);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r)["id"];
  }

  json Lease(int64_t id) { return Body(Call("GET", "/api/v1/leases/" + std::to_string(id), nullptr, admin_)); }

  std::string admin_, bob_;
};

TEST_F(WorkflowTest, ApprovalRequestWaitsThenOpensForTheRecordedAddress) {
  AddPolicy({{"approval", "admin"}});
  const int64_t id = Request("198.51.100.7");
  json lease = Lease(id);
  EXPECT_EQ(lease["state"], "pending_approval");
  EXPECT_EQ(lease["source_cidr"], "198.51.100.7/32");
  EXPECT_TRUE(fake_->holes().empty());
  // The admin is told, with links of their own.
  auto mails = MailTo("admin@example.com");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].event, "lease.approval_requested");
  EXPECT_FALSE(LinkToken(mails[0].text, "approve").empty());

  // A non-admin cannot decide, and nothing changes.
  const size_t events = AuditCount();
  EXPECT_EQ(Call("POST", "/api/v1/leases/" + std::to_string(id) + "/approve", json::object(), bob_).status,
            403);
  EXPECT_EQ(AuditCount(), events);
  EXPECT_EQ(Lease(id)["state"], "pending_approval");

  auto r = Call("POST", "/api/v1/leases/" + std::to_string(id) + "/approve",
                {{"reason", "ok for today"}}, admin_, {}, "203.0.113.99");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["state"], "active");
  EXPECT_EQ(Body(r)["approved_by"], "admin@example.com");
  // For bob's recorded address, not the approving admin's.
  EXPECT_EQ(Body(r)["source_cidr"], "198.51.100.7/32");
  EXPECT_EQ(fake_->holes().size(), 1u);
  auto told = MailTo("bob@example.com");
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told[0].event, "lease.approved");
  // Deciding twice is a conflict.
  EXPECT_EQ(Call("POST", "/api/v1/leases/" + std::to_string(id) + "/deny", json::object(), admin_).status,
            409);
}

TEST_F(WorkflowTest, OneClickLinksDecideOnPostOnlyAndOnce) {
  AddPolicy({{"approval", "admin"}});
  const int64_t id = Request();
  const std::string text = MailTo("admin@example.com")[0].text;
  std::string approve, deny;
  const std::regex link("/approve/([A-Za-z0-9._-]+)");
  for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
    std::string token = (*it)[1].str();
    if (token.starts_with("a.")) approve = token;
    if (token.starts_with("d.")) deny = token;
  }
  ASSERT_FALSE(approve.empty());
  ASSERT_FALSE(deny.empty());

  // GET shows the request and changes nothing.
  auto shown = Call("GET", "/api/v1/approval-links/" + approve);
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(Body(shown)["action"], "approve");
  EXPECT_EQ(Body(shown)["lease"]["owner"], "bob@example.com");
  EXPECT_EQ(Lease(id)["state"], "pending_approval");

  // A forged or altered token is refused without a trace.
  std::string forged = approve;
  forged[5] = forged[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("POST", "/api/v1/approval-links/" + forged, json::object()).status, 404);
  EXPECT_EQ(Call("POST", "/api/v1/approval-links/x.y.z", json::object()).status, 404);
  EXPECT_EQ(Lease(id)["state"], "pending_approval");

  auto used = Call("POST", "/api/v1/approval-links/" + approve, json::object());
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_EQ(Body(used)["state"], "active");
  EXPECT_EQ(Body(used)["approved_by"], "admin@example.com");
  // Once only; and the deny link of the same email is now moot.
  EXPECT_EQ(Call("POST", "/api/v1/approval-links/" + approve, json::object()).status, 410);
  EXPECT_EQ(Call("POST", "/api/v1/approval-links/" + deny, json::object()).status, 410);
  EXPECT_EQ(Lease(id)["state"], "active");
}

TEST_F(WorkflowTest, ExpiredLinksAreGone) {
  AddPolicy({{"approval", "admin"}});
  Request();
  const std::string token = LinkToken(MailTo("admin@example.com")[0].text, "approve");
  clock_.Advance(config_.approval_link_ttl + Seconds(1));
  auto r = Call("GET", "/api/v1/approval-links/" + token);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(Code(r), "link_expired");
}

TEST_F(WorkflowTest, AnAdminCannotApproveTheirOwnRequest) {
  AddPolicy({{"approval", "admin"}, {"users", {"bob@example.com", "admin@example.com"}}});
  auto r = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, admin_);
  ASSERT_EQ(r.status, 201);
  const std::string id = std::to_string(Body(r)["id"].get<int64_t>());
  auto self = Call("POST", "/api/v1/leases/" + id + "/approve", json::object(), admin_);
  EXPECT_EQ(self.status, 403);
  EXPECT_EQ(Code(self), "own_request");
  // They may withdraw it, though.
  EXPECT_EQ(Call("DELETE", "/api/v1/leases/" + id, nullptr, admin_).status, 200);
  EXPECT_EQ(Lease(std::stoll(id))["state"], "cancelled");
}

TEST_F(WorkflowTest, DeniedRequestTellsTheRequester) {
  AddPolicy({{"approval", "admin"}});
  const int64_t id = Request();
  auto r = Call("POST", "/api/v1/leases/" + std::to_string(id) + "/deny",
                {{"reason", "not during the freeze"}}, admin_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["state"], "denied");
  EXPECT_TRUE(fake_->holes().empty());
  auto told = MailTo("bob@example.com");
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told[0].event, "lease.denied");
  EXPECT_NE(told[0].text.find("not during the freeze"), std::string::npos);
}

TEST_F(WorkflowTest, NextLoginApprovalOpensForTheSignInAddress) {
  AddPolicy({{"approval", "admin"}, {"activate_on", "next_login"}});
  const int64_t id = Request("198.51.100.7");
  auto r = Call("POST", "/api/v1/leases/" + std::to_string(id) + "/approve", json::object(), admin_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["state"], "approved");
  EXPECT_TRUE(fake_->holes().empty());
  auto login = Call("POST", "/api/v1/session",
                    {{"email", "bob@example.com"}, {"password", kUserPassword}}, "", {},
                    "203.0.113.20");
  ASSERT_EQ(login.status, 200);
  json lease = Lease(id);
  EXPECT_EQ(lease["state"], "active");
  EXPECT_EQ(lease["source_cidr"], "203.0.113.20/32");
  EXPECT_EQ(fake_->holes().size(), 1u);
}

TEST_F(WorkflowTest, UndecidedRequestsExpireAndTheRequesterIsTold) {
  AddPolicy({{"approval", "admin"}});
  const int64_t id = Request();
  Housekeeper housekeeper(*store_, clock_,
                          {.ended = [this](const pinhole::Lease& l, Time now) {
                            return notifier_->LeaseEnded(l, now);
                          }});
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  EXPECT_EQ(Lease(id)["state"], "pending_approval");
  clock_.Advance(config_.approval_pending_timeout);
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  admin_ = Login("admin@example.com", kAdminPassword)["token"];  // a day later
  EXPECT_EQ(Lease(id)["state"], "expired");
  EXPECT_EQ(MailTo("bob@example.com")[0].event, "lease.ended");
  EXPECT_EQ(Call("POST", "/api/v1/leases/" + std::to_string(id) + "/approve", json::object(), admin_).status,
            409);
}

TEST_F(WorkflowTest, InvitationOpensForTheConfirmingAddressOnce) {
  AddPolicy();
  auto r = Call("POST", "/api/v1/leases",
                {{"services", {"ssh"}},
                 {"duration", "30m"},
                 {"recipient", {{"kind", "invite"}, {"email", "Carol@Example.com"}}}},
                bob_);
  ASSERT_EQ(r.status, 201) << r.body;
  json lease = Body(r);
  EXPECT_EQ(lease["state"], "invited");
  EXPECT_TRUE(lease["source_cidr"].is_null());
  EXPECT_EQ(lease["recipient"]["email"], "carol@example.com");
  const std::string url = lease["invitation"]["url"];
  const std::string token = LinkToken(url, "invite");
  ASSERT_FALSE(token.empty());
  // The email carries the same link.
  auto mails = MailTo("carol@example.com");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(LinkToken(mails[0].text, "invite"), token);
  EXPECT_TRUE(fake_->holes().empty());

  auto shown = Call("GET", "/api/v1/invitations/" + token, nullptr, "", {}, "203.0.113.50");
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(Body(shown)["invited_by"], "bob@example.com");
  EXPECT_EQ(Body(shown)["duration"], "30m");

  auto used = Call("POST", "/api/v1/invitations/" + token + "/activate", json::object(), "", {},
                   "203.0.113.50");
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_EQ(Body(used)["source_cidr"], "203.0.113.50/32");
  ASSERT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(fake_->holes().begin()->first.source.ToString(), "203.0.113.50/32");
  json active = Lease(lease["id"]);
  EXPECT_EQ(active["state"], "active");
  EXPECT_EQ(active["expires_at"], FormatTime(clock_.Now() + Seconds(1800)));

  auto again = Call("POST", "/api/v1/invitations/" + token + "/activate", json::object(), "", {},
                    "203.0.113.51");
  EXPECT_EQ(again.status, 410);
  EXPECT_EQ(Call("GET", "/api/v1/invitations/" + token).status, 410);
  EXPECT_EQ(fake_->holes().size(), 1u);
}

TEST_F(WorkflowTest, CancelledExpiredAndForgedInvitationsAreRefused) {
  AddPolicy();
  auto invite = [&](const std::string& email) {
    auto r = Call("POST", "/api/v1/leases",
                  {{"services", {"ssh"}},
                   {"recipient", {{"kind", "invite"}, {"email", email}, {"send_email", false}}}},
                  bob_);
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_FALSE(Body(r)["invitation"]["emailed"].get<bool>());
    return Body(r);
  };
  json cancelled = invite("a@example.com");
  EXPECT_TRUE(MailTo("a@example.com").empty());
  ASSERT_EQ(Call("DELETE", "/api/v1/leases/" + std::to_string(cancelled["id"].get<int64_t>()),
                 nullptr, bob_)
                .status,
            200);
  auto r = Call("POST",
                "/api/v1/invitations/" +
                    LinkToken(cancelled["invitation"]["url"], "invite") + "/activate",
                json::object());
  EXPECT_EQ(r.status, 410);
  EXPECT_NE(Body(r)["error"]["message"].get<std::string>().find("cancelled"), std::string::npos);

  json expiring = invite("b@example.com");
  clock_.Advance(config_.invitation_expiry + Seconds(1));
  bob_ = Login("bob@example.com", kUserPassword)["token"];
  EXPECT_EQ(Call("GET", "/api/v1/invitations/" +
                            LinkToken(expiring["invitation"]["url"], "invite"))
                .status,
            410);

  EXPECT_EQ(Call("GET", "/api/v1/invitations/i.nope.123.abc").status, 404);
  EXPECT_TRUE(fake_->holes().empty());
}

TEST_F(WorkflowTest, BadInvitationRequestsChangeNothing) {
  AddPolicy({{"recipients", {"self"}}});
  const size_t events = AuditCount();
  auto no_email = Call("POST", "/api/v1/leases",
                       {{"services", {"ssh"}}, {"recipient", {{"kind", "invite"}}}}, bob_);
  EXPECT_EQ(no_email.status, 422);
  EXPECT_EQ(Code(no_email), "invalid_recipient");
  auto not_allowed = Call(
      "POST", "/api/v1/leases",
      {{"services", {"ssh"}}, {"recipient", {{"kind", "invite"}, {"email", "c@example.com"}}}},
      bob_);
  EXPECT_EQ(not_allowed.status, 403);
  auto too_long = Call("POST", "/api/v1/leases",
                       {{"services", {"ssh"}},
                        {"recipient",
                         {{"kind", "invite"}, {"email", "c@example.com"}, {"expires_in", "400d"}}}},
                       bob_);
  EXPECT_EQ(too_long.status, 422);
  EXPECT_EQ(AuditCount(), events);
  EXPECT_TRUE(store_->ListOutbox("", 100)->empty());
}

TEST_F(WorkflowTest, WelcomeEmailSetsAPasswordThroughASingleUseLink) {
  auto r = Call("POST", "/api/v1/users",
                {{"email", "dave@example.com"}, {"send_welcome", true}}, admin_);
  ASSERT_EQ(r.status, 201) << r.body;
  auto mails = MailTo("dave@example.com");
  ASSERT_EQ(mails.size(), 1u);
  EXPECT_EQ(mails[0].event, "user.welcome");
  const std::string token = LinkToken(mails[0].text, "set-password");
  ASSERT_FALSE(token.empty());
  auto shown = Call("GET", "/api/v1/password-links/" + token);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(Body(shown)["email"], "dave@example.com");
  EXPECT_EQ(Call("POST", "/api/v1/password-links/" + token, {{"new", "short"}}).status, 422);
  ASSERT_EQ(Call("POST", "/api/v1/password-links/" + token, {{"new", "dave-password-1"}}).status,
            204);
  Login("dave@example.com", "dave-password-1");
  EXPECT_EQ(Call("POST", "/api/v1/password-links/" + token, {{"new", "dave-password-2"}}).status,
            410);

  // With the password instead of a link, when asked.
  auto with = Call("POST", "/api/v1/users",
                   {{"email", "erin@example.com"},
                    {"password", "erin-password-1"},
                    {"send_welcome", true},
                    {"include_password", true}},
                   admin_);
  ASSERT_EQ(with.status, 201) << with.body;
  EXPECT_NE(MailTo("erin@example.com")[0].text.find("erin-password-1"), std::string::npos);
  EXPECT_TRUE(LinkToken(MailTo("erin@example.com")[0].text, "set-password").empty());
}

TEST_F(WorkflowTest, RemindersComeOnceBeforeExpiryAndAgainAfterRenewal) {
  AddPolicy();
  const int64_t id = Request();
  Housekeeper housekeeper(*store_, clock_,
                          {.reminder_before = Seconds(900),
                           .reminder = [this](const pinhole::Lease& l, Time now) {
                             return notifier_->ExpiryReminder(l, now);
                           }});
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  EXPECT_TRUE(MailTo("bob@example.com").empty());
  clock_.Advance(Seconds(3600 - 900));
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  ASSERT_EQ(MailTo("bob@example.com").size(), 1u);
  EXPECT_EQ(MailTo("bob@example.com")[0].event, "lease.expiring");
  ASSERT_EQ(Call("POST", "/api/v1/leases/" + std::to_string(id) + "/renew", {{"duration", "1h"}},
                 bob_)
                .status,
            200);
  clock_.Advance(Seconds(3600 - 899));
  ASSERT_TRUE(housekeeper.RunOnce().ok());
  EXPECT_EQ(MailTo("bob@example.com").size(), 2u);
}

TEST_F(WorkflowTest, TerminationBySomeoneElseTellsTheOwner) {
  AddPolicy();
  const int64_t id = Request();
  ASSERT_EQ(Call("DELETE", "/api/v1/leases/" + std::to_string(id), nullptr, admin_).status, 200);
  auto told = MailTo("bob@example.com");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].event, "lease.ended");
  // Their own termination needs no email.
  const int64_t own = Request();
  ASSERT_EQ(Call("DELETE", "/api/v1/leases/" + std::to_string(own), nullptr, bob_).status, 200);
  EXPECT_EQ(MailTo("bob@example.com").size(), 1u);
}

TEST_F(WorkflowTest, OutboxIsListedForAdminsWithoutBodies) {
  AddPolicy({{"approval", "admin"}});
  Request();
  auto r = Call("GET", "/api/v1/outbox?state=pending", nullptr, admin_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(Body(r)["items"].size(), 1u);
  EXPECT_FALSE(Body(r)["items"][0].contains("text"));
  EXPECT_EQ(Call("GET", "/api/v1/outbox", nullptr, bob_).status, 403);
  EXPECT_EQ(Call("GET", "/api/v1/outbox?state=bogus", nullptr, admin_).status, 422);
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

// "HH:MM" (UTC) of `clock` now plus `minutes`, wrapped to the day.
std::string ClockTime(const Clock& clock, int minutes) {
  auto since_midnight = std::chrono::duration_cast<std::chrono::minutes>(
      clock.Now().time_since_epoch() % std::chrono::days(1));
  int m = static_cast<int>((since_midnight.count() + minutes + 24 * 60) % (24 * 60));
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
  return buf;
}

TEST_F(WorkflowTest, ScheduleRefusesOutsideAndCapsInsideAWindow) {
  // Open daily from 2 to 3 hours from now: closed now.
  AddPolicy({{"schedule",
              {{"timezone", "UTC"},
               {"windows",
                {{{"days", {"daily"}}, {"from", ClockTime(clock_, 120)}, {"to", ClockTime(clock_, 180)}}}}}}});
  const size_t events = AuditCount();
  auto closed = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob_);
  EXPECT_EQ(closed.status, 403);
  EXPECT_EQ(Code(closed), "outside_schedule");
  EXPECT_NE(Body(closed)["error"]["message"].get<std::string>().find("next opens"), std::string::npos)
      << closed.body;
  EXPECT_EQ(AuditCount(), events);
  EXPECT_TRUE(fake_->holes().empty());

  // Open from 10 minutes ago to 30 minutes from now: a 1 h lease ends with the window.
  auto patched = Call("PATCH", "/api/v1/policies/p",
                      {{"schedule",
                        {{"timezone", "UTC"},
                         {"windows",
                          {{{"days", {"daily"}},
                            {"from", ClockTime(clock_, -10)},
                            {"to", ClockTime(clock_, 30)}}}}}}},
                      admin_);
  ASSERT_EQ(patched.status, 200) << patched.body;
  auto open = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, bob_);
  ASSERT_EQ(open.status, 201) << open.body;
  const Time window_end =
      std::chrono::floor<std::chrono::minutes>(clock_.Now()) + std::chrono::minutes(30);
  EXPECT_EQ(Body(open)["expires_at"], FormatTime(window_end));
}

}  // namespace
}  // namespace pinhole
