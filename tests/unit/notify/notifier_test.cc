#include "notify/notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify/events.h"

namespace pinhole {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// 2026-11-21T09:30:00Z, a Saturday.
constexpr Time kNow = Time(Millis(1'795'253'400'000));

Lease SampleLease() {
  Lease l;
  l.id = 42;
  l.owner_id = 7;
  l.owner = "alice@example.com";
  l.services = {"ssh-prod", "db"};
  l.recipient = RecipientKind::kSelf;
  l.source = *Cidr::Parse("203.0.113.7");
  l.state = LeaseState::kPendingApproval;
  l.duration = Seconds(5400);
  l.reason = "deploy hotfix";
  l.policy = "ops";
  l.created_at = kNow;
  l.expires_at = kNow + Seconds(86400);
  return l;
}

NotifyOptions Options(bool email = true) {
  NotifyOptions o;
  o.public_url = "https://pinhole.example.com/";
  o.email_enabled = email;
  o.webhooks = {{"all", "https://hooks.example.com/a", "0123456789abcdef", {}},
                {"approvals", "https://hooks.example.com/b", "", {"lease.approval_requested"}}};
  return o;
}

std::vector<OutboxMessage> Channel(const std::vector<OutboxMessage>& all, std::string_view ch) {
  std::vector<OutboxMessage> out;
  for (const auto& m : all) {
    if (m.channel == ch) out.push_back(m);
  }
  return out;
}

void ExpectPending(const std::vector<OutboxMessage>& all, std::string_view event) {
  for (const auto& m : all) {
    EXPECT_EQ(m.event, event);
    EXPECT_EQ(m.state, "pending");
    EXPECT_EQ(m.id, 0);
    EXPECT_EQ(m.attempts, 0);
    EXPECT_EQ(m.created_at, kNow);
    EXPECT_EQ(m.next_attempt_at, kNow);
    if (m.channel == "email") {
      EXPECT_FALSE(m.subject.empty());
      EXPECT_FALSE(m.html.empty());
      EXPECT_EQ(m.subject.find_first_of("\r\n"), std::string::npos) << m.subject;
    } else {
      EXPECT_EQ(m.channel, "webhook");
      EXPECT_TRUE(m.subject.empty());
      EXPECT_TRUE(m.html.empty());
      json body = json::parse(m.text);  // throws (fails the test) if not JSON
      EXPECT_EQ(body["event"], event);
      EXPECT_TRUE(body["text"].is_string());
      EXPECT_EQ(body["time"], "2026-11-21T09:30:00Z");
    }
  }
}

TEST(DescribeTest, TimesAndDurations) {
  EXPECT_EQ(DescribeTime(kNow), "2026-11-21T09:30:00Z (Sat 21 Nov 2026 09:30 UTC)");
  EXPECT_EQ(DescribeTime(Time(Millis(951'782'400'000))),  // leap day 2000
            "2000-02-29T00:00:00Z (Tue 29 Feb 2000 00:00 UTC)");
  EXPECT_EQ(DescribeDuration(Seconds(0)), "0 seconds");
  EXPECT_EQ(DescribeDuration(Seconds(1)), "1 second");
  EXPECT_EQ(DescribeDuration(Seconds(45 * 60)), "45 minutes");
  EXPECT_EQ(DescribeDuration(Seconds(5400)), "1 hour 30 minutes");
  EXPECT_EQ(DescribeDuration(Seconds(86400)), "1 day");
  EXPECT_EQ(DescribeDuration(Seconds(2 * 86400 + 3 * 3600 + 59)), "2 days 3 hours");
  EXPECT_EQ(DescribeDuration(Seconds(86400 + 30)), "1 day");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(NotifierTest, ApprovalRequestedGivesEachAdminTheirOwnLinks) {
  Notifier n(Options());
  std::vector<AdminLinks> admins = {
      {"root@example.com", "https://pinhole.example.com/approve/AAA",
       "https://pinhole.example.com/deny/AAA"},
      {"ops@example.com", "https://pinhole.example.com/approve/BBB",
       "https://pinhole.example.com/deny/BBB"},
  };
  auto out = n.ApprovalRequested(SampleLease(), admins, kNow);
  ExpectPending(out, "lease.approval_requested");
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 2u);
  EXPECT_EQ(emails[0].target, "root@example.com");
  EXPECT_EQ(emails[1].target, "ops@example.com");
  EXPECT_EQ(emails[0].subject, "Approval needed: alice@example.com asks for ssh-prod, db");
  for (const auto& needle :
       {"alice@example.com", "ssh-prod, db", "203.0.113.7/32", "1 hour 30 minutes", "deploy hotfix",
        "ops", "#42", "2026-11-21T09:30:00Z (Sat 21 Nov 2026 09:30 UTC)", "2026-11-22T09:30:00Z",
        "https://pinhole.example.com/approve/AAA", "https://pinhole.example.com/deny/AAA",
        "https://pinhole.example.com/admin/leases"}) {
    EXPECT_THAT(emails[0].text, HasSubstr(needle));
    EXPECT_THAT(emails[0].html, HasSubstr(needle));
  }
  EXPECT_THAT(emails[0].text, Not(HasSubstr("BBB")));
  EXPECT_THAT(emails[1].text, HasSubstr("/approve/BBB"));
  EXPECT_THAT(emails[1].text, Not(HasSubstr("AAA")));
  EXPECT_THAT(emails[0].html, HasSubstr("<a href=\"https://pinhole.example.com/approve/AAA\">"));

  // Both webhooks want this event; neither gets anyone's one-click link.
  auto hooks = Channel(out, "webhook");
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].target, "all");
  EXPECT_EQ(hooks[1].target, "approvals");
  json body = json::parse(hooks[0].text);
  EXPECT_EQ(body["lease"]["id"], 42);
  EXPECT_EQ(body["lease"]["owner"], "alice@example.com");
  EXPECT_EQ(body["lease"]["services"], json({"ssh-prod", "db"}));
  EXPECT_EQ(body["lease"]["source_cidr"], "203.0.113.7/32");
  EXPECT_EQ(body["lease"]["state"], "pending_approval");
  EXPECT_EQ(body["lease"]["duration"], "1h30m");
  EXPECT_EQ(body["lease"]["expires_at"], "2026-11-22T09:30:00Z");
  EXPECT_EQ(body["review_url"], "https://pinhole.example.com/admin/leases");
  EXPECT_THAT(body["text"].get<std::string>(), HasSubstr("alice@example.com requests approval"));
  EXPECT_THAT(hooks[0].text, Not(HasSubstr("approve/")));
  EXPECT_THAT(hooks[0].text, Not(HasSubstr("deny/")));
}

TEST(NotifierTest, WebhookEventFilterAndEmailSwitch) {
  Notifier n(Options(/*email=*/false));
  Lease l = SampleLease();
  l.state = LeaseState::kActive;
  l.activated_at = kNow;
  auto out = n.AccessOpened(l, {"root@example.com"}, kNow);
  ExpectPending(out, "lease.opened");
  // No email when email is off; only the unfiltered webhook wants lease.opened.
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].channel, "webhook");
  EXPECT_EQ(out[0].target, "all");

  NotifyOptions none;
  none.public_url = "https://p.example";
  EXPECT_TRUE(Notifier(none).AccessOpened(l, {"root@example.com"}, kNow).empty());
}

TEST(NotifierTest, UserTextIsEscapedInHtmlAndForSlack) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.state = LeaseState::kActive;
  l.activated_at = kNow;
  l.reason = "<script>alert(1)</script> & <!channel>";
  auto out = n.AccessOpened(l, {"root@example.com"}, kNow);
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_THAT(emails[0].html, Not(HasSubstr("<script>")));
  EXPECT_THAT(emails[0].html,
              HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;"));
  // Plain text stays as typed.
  EXPECT_THAT(emails[0].text, HasSubstr("<script>alert(1)</script> & <!channel>"));

  auto hooks = Channel(out, "webhook");
  ASSERT_EQ(hooks.size(), 1u);
  json body = json::parse(hooks[0].text);
  // The structured field is raw; the Slack text cannot carry markup.
  EXPECT_EQ(body["lease"]["reason"], "<script>alert(1)</script> & <!channel>");
  EXPECT_THAT(body["text"].get<std::string>(), Not(HasSubstr("<")));
}

TEST(NotifierTest, SubjectIsOneLineEvenWithHostileData) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.owner = "alice@example.com";
  l.services = {"ssh\r\nBcc: victim@example.com", std::string(300, 'x')};
  auto out = Channel(n.ApprovalRequested(l, {{"root@example.com", "u1", "u2"}}, kNow), "email");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subject.find_first_of("\r\n"), std::string::npos);
  EXPECT_LE(out[0].subject.size(), 160u);
  EXPECT_TRUE(out[0].subject.ends_with("...")) << out[0].subject;
}

TEST(NotifierTest, RequestDecided) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.state = LeaseState::kActive;
  l.activated_at = kNow;
  l.expires_at = kNow + Seconds(5400);
  l.approved_by = "root@example.com";
  auto out = n.RequestDecided(l, true, "root@example.com", "ok, be careful", kNow);
  ExpectPending(out, "lease.approved");
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].target, "alice@example.com");
  EXPECT_EQ(emails[0].subject, "Approved: your access to ssh-prod, db");
  EXPECT_THAT(emails[0].text, HasSubstr("root@example.com approved your request"));
  EXPECT_THAT(emails[0].text, HasSubstr("open from 203.0.113.7/32 until 2026-11-21T11:00:00Z"));
  EXPECT_THAT(emails[0].text, HasSubstr("ok, be careful"));
  auto hooks = Channel(out, "webhook");
  ASSERT_EQ(hooks.size(), 1u);  // the "approvals" webhook only wants requests
  json body = json::parse(hooks[0].text);
  EXPECT_EQ(body["decision"],
            json({{"approved", true}, {"by", "root@example.com"}, {"note", "ok, be careful"}}));

  // Approved to open at the next sign-in: no address yet.
  l.state = LeaseState::kApproved;
  l.activated_at.reset();
  l.expires_at = kNow + Seconds(86400);
  emails = Channel(n.RequestDecided(l, true, "root@example.com", "", kNow), "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_THAT(emails[0].text, HasSubstr("next sign in"));
  EXPECT_THAT(emails[0].text, Not(HasSubstr("Note from")));

  l.state = LeaseState::kDenied;
  out = n.RequestDecided(l, false, "root@example.com", "not today", kNow);
  ExpectPending(out, "lease.denied");
  emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].subject, "Denied: your access to ssh-prod, db");
  EXPECT_THAT(emails[0].text, HasSubstr("root@example.com denied your request"));
  EXPECT_THAT(emails[0].text, HasSubstr("not today"));
  EXPECT_EQ(json::parse(Channel(out, "webhook")[0].text)["decision"]["approved"], false);
}

TEST(NotifierTest, Invitation) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.owner = "root@example.com";
  l.recipient = RecipientKind::kInvite;
  l.invite_email = "contractor@partner.example";
  l.state = LeaseState::kInvited;
  l.duration = Seconds(4 * 3600);
  l.expires_at = kNow + Seconds(7 * 86400);
  std::string url = "https://pinhole.example.com/invite/SECRETTOKEN";
  auto out = n.Invitation(l, url, kNow);
  ExpectPending(out, "lease.invited");
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].target, "contractor@partner.example");
  EXPECT_EQ(emails[0].subject, "root@example.com invited you to access ssh-prod, db");
  for (const auto& needle : {"root@example.com", "ssh-prod, db", "4 hours", url.c_str(),
                             "2026-11-28T09:30:00Z (Sat 28 Nov 2026 09:30 UTC)"}) {
    EXPECT_THAT(emails[0].text, HasSubstr(needle));
    EXPECT_THAT(emails[0].html, HasSubstr(needle));
  }
  // The link is for the invitee only.
  auto hooks = Channel(out, "webhook");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_THAT(hooks[0].text, Not(HasSubstr("SECRETTOKEN")));
  json body = json::parse(hooks[0].text);
  EXPECT_EQ(body["lease"]["recipient"],
            json({{"kind", "invite"}, {"email", "contractor@partner.example"}}));
  EXPECT_TRUE(body["lease"]["source_cidr"].is_null());
}

TEST(NotifierTest, WelcomeCarriesThePasswordOnlyByEmail) {
  Notifier n(Options());
  User u;
  u.id = 9;
  u.email = "bob@example.com";
  u.must_change_password = true;
  auto out = n.Welcome(u, std::string("Tr0ub4dor&3"), std::nullopt, kNow, kNow);
  ExpectPending(out, "user.welcome");
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].target, "bob@example.com");
  EXPECT_THAT(emails[0].text, HasSubstr("Tr0ub4dor&3"));
  EXPECT_THAT(emails[0].html, HasSubstr("Tr0ub4dor&amp;3"));
  EXPECT_THAT(emails[0].text, HasSubstr("https://pinhole.example.com/"));
  EXPECT_THAT(emails[0].text, HasSubstr("new password when you first sign in"));
  auto hooks = Channel(out, "webhook");
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_THAT(hooks[0].text, Not(HasSubstr("Tr0ub4dor")));
  json body = json::parse(hooks[0].text);
  EXPECT_EQ(body["user"]["email"], "bob@example.com");
  EXPECT_EQ(body["user"]["role"], "user");

  std::string link = "https://pinhole.example.com/set-password/LINKTOKEN";
  out = n.Welcome(u, std::nullopt, link, kNow + Seconds(3 * 86400), kNow);
  emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_THAT(emails[0].text, HasSubstr(link));
  EXPECT_THAT(emails[0].text, HasSubstr("2026-11-24T09:30:00Z"));
  EXPECT_THAT(emails[0].text, Not(HasSubstr("Password:")));
  EXPECT_THAT(Channel(out, "webhook")[0].text, Not(HasSubstr("LINKTOKEN")));

  emails = Channel(n.Welcome(u, std::nullopt, std::nullopt, kNow, kNow), "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_THAT(emails[0].text, HasSubstr("Ask your administrator"));
}

TEST(NotifierTest, ExpiryReminder) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.state = LeaseState::kActive;
  l.activated_at = kNow - Seconds(3600);
  l.expires_at = kNow + Seconds(14 * 60 + 30);  // rounds up to 15 minutes
  auto out = n.ExpiryReminder(l, kNow);
  ExpectPending(out, "lease.expiring");
  auto emails = Channel(out, "email");
  ASSERT_EQ(emails.size(), 1u);
  EXPECT_EQ(emails[0].target, "alice@example.com");
  EXPECT_EQ(emails[0].subject, "Your access to ssh-prod, db ends in 15 minutes");
  EXPECT_THAT(emails[0].text, HasSubstr("2026-11-21T09:44:30Z"));
  EXPECT_THAT(emails[0].text, HasSubstr("request access again"));
}

struct EndCase {
  LeaseState state;
  bool was_active;
  RecipientKind recipient;
  std::string ended_by;
  std::string cause;
  std::string subject;
};

TEST(NotifierTest, LeaseEndedSaysWhy) {
  Notifier n(Options());
  const EndCase cases[] = {
      {LeaseState::kExpired, true, RecipientKind::kSelf, "system", "expired",
       "Your access to ssh-prod, db expired"},
      {LeaseState::kTerminated, true, RecipientKind::kSelf, "root@example.com", "terminated",
       "Your access to ssh-prod, db was ended early by root@example.com"},
      {LeaseState::kRevoked, true, RecipientKind::kSelf, "root@example.com", "revoked",
       "Your access to ssh-prod, db was revoked by root@example.com"},
      {LeaseState::kExpired, false, RecipientKind::kSelf, "system", "request_expired",
       "Your request for ssh-prod, db expired before an administrator decided on it"},
      {LeaseState::kExpired, false, RecipientKind::kInvite, "system", "invitation_expired",
       "Your invitation for guest@partner.example to ssh-prod, db expired unused"},
      {LeaseState::kCancelled, false, RecipientKind::kInvite, "root@example.com", "cancelled",
       "Your invitation for guest@partner.example to ssh-prod, db was cancelled by "
       "root@example.com"},
  };
  for (const auto& c : cases) {
    Lease l = SampleLease();
    l.state = c.state;
    l.recipient = c.recipient;
    l.invite_email = c.recipient == RecipientKind::kInvite ? "guest@partner.example" : "";
    if (c.was_active) l.activated_at = kNow - Seconds(3600);
    l.ended_at = kNow;
    l.ended_by = c.ended_by;
    auto out = n.LeaseEnded(l, kNow);
    ExpectPending(out, "lease.ended");
    auto emails = Channel(out, "email");
    ASSERT_EQ(emails.size(), 1u) << c.cause;
    EXPECT_EQ(emails[0].target, "alice@example.com");
    EXPECT_THAT(emails[0].subject, ::testing::StartsWith(c.subject));
    EXPECT_THAT(emails[0].text, HasSubstr(c.subject));
    json body = json::parse(Channel(out, "webhook")[0].text);
    EXPECT_EQ(body["ended"]["cause"], c.cause);
    EXPECT_EQ(body["ended"]["by"], c.ended_by);
  }
}

TEST(NotifierTest, InvalidUtf8InDataDoesNotBreakWebhookJson) {
  Notifier n(Options());
  Lease l = SampleLease();
  l.reason = "bad \xff\xfe bytes";
  auto hooks = Channel(n.ApprovalRequested(l, {}, kNow), "webhook");
  ASSERT_EQ(hooks.size(), 2u);
  json body = json::parse(hooks[0].text);
  EXPECT_THAT(body["lease"]["reason"].get<std::string>(), HasSubstr("bad"));
}

TEST(NotifierTest, EveryEventNameIsKnown) {
  for (std::string_view e : events::kAll) EXPECT_TRUE(events::IsKnown(e)) << e;
  EXPECT_FALSE(events::IsKnown("lease.aproved"));
  EXPECT_FALSE(events::IsKnown(""));
}

}  // namespace
}  // namespace pinhole
