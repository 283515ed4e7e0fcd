#include "notify/smtp_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "notify/notifier.h"
#include "notify/smtp_sink.h"

namespace pinhole {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr Time kNow = Time(Millis(1'795'253'400'000));

// The body as sent, from the sink's printout: soft line breaks joined and
// =XX escapes decoded (headers pass through unchanged).
std::string Decoded(const std::string& printed) {
  std::string out;
  for (size_t i = 0; i < printed.size(); ++i) {
    if (printed[i] == '=' && i + 1 < printed.size() && printed[i + 1] == '\n') {
      ++i;
    } else if (printed[i] == '=' && i + 2 < printed.size() && std::isxdigit(printed[i + 1]) &&
               std::isxdigit(printed[i + 2])) {
      out += static_cast<char>(std::stoi(printed.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += printed[i];
    }
  }
  return out;
}

OutboxMessage Mail(std::string to, std::string subject, std::string text, std::string html = "") {
  OutboxMessage m;
  m.id = 5;
  m.channel = "email";
  m.target = std::move(to);
  m.event = "lease.invited";
  m.subject = std::move(subject);
  m.text = std::move(text);
  m.html = std::move(html);
  m.created_at = kNow;
  return m;
}

class SmtpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    sink_ = test_support::SmtpSink::Start(why);
    if (!sink_) GTEST_SKIP() << why;
  }

  std::unique_ptr<SmtpTransport> Make(SmtpOptions o) {
    auto t = SmtpTransport::Create(std::move(o));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  SmtpOptions Plain() {
    return {.url = sink_->url(),
            .from = "Pinhole Gateway <pinhole@example.com>",
            .starttls = false,
            .timeout = Seconds(10)};
  }

  std::unique_ptr<test_support::SmtpSink> sink_;
};

TEST_F(SmtpTransportTest, DeliversANotifierEmail) {
  NotifyOptions options{.public_url = "https://pinhole.example.com", .email_enabled = true};
  Lease l;
  l.id = 12;
  l.owner = "root@example.com";
  l.services = {"ssh-prod"};
  l.recipient = RecipientKind::kInvite;
  l.invite_email = "guest@partner.example";
  l.state = LeaseState::kInvited;
  l.duration = Seconds(7200);
  l.created_at = kNow;
  l.expires_at = kNow + Seconds(7 * 86400);
  auto messages =
      Notifier(options).Invitation(l, "https://pinhole.example.com/invite/tok_ABCdef-123", kNow);
  ASSERT_EQ(messages.size(), 1u);
  OutboxMessage m = messages[0];
  m.id = 31;

  auto t = Make(Plain());
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(m, kNow);
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto got = sink_->WaitForMessages(1);
  ASSERT_EQ(got.size(), 1u);
  const std::string& raw = got[0];
  EXPECT_THAT(raw, HasSubstr("\nTo: guest@partner.example\n"));
  EXPECT_THAT(raw, HasSubstr("From: Pinhole Gateway <pinhole@example.com>\n"));
  EXPECT_THAT(raw, HasSubstr("Subject: root@example.com invited you to access ssh-prod\n"));
  EXPECT_THAT(raw, HasSubstr("Message-ID: <outbox.31.1795253400000@example.com>\n"));
  EXPECT_THAT(raw, HasSubstr("Date: Sat, 21 Nov 2026 09:30:00 +0000\n"));
  EXPECT_THAT(raw, HasSubstr("Content-Type: multipart/alternative"));
  std::string body = Decoded(raw);
  EXPECT_THAT(body, HasSubstr("https://pinhole.example.com/invite/tok_ABCdef-123"));
  EXPECT_THAT(body, HasSubstr("<a href=\"https://pinhole.example.com/invite/tok_ABCdef-123\">"));
  EXPECT_THAT(body, HasSubstr("2 hours"));
}

TEST_F(SmtpTransportTest, DotsNonAsciiAndLongLinesArriveIntact) {
  auto t = Make(Plain());
  ASSERT_NE(t, nullptr);
  std::string text =
      "first line\n.\n..two dots\nGrüße aus München\n" + std::string(200, 'x') + "\nlast line";
  Status st = t->Deliver(Mail("alice@example.com", "Grüße: ssh", text), kNow);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto got = sink_->WaitForMessages(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0], HasSubstr("Subject: =?UTF-8?B?R3LDvMOfZTogc3No?=\n"));
  std::string body = Decoded(got[0]);
  EXPECT_THAT(body, HasSubstr("first line\n.\n..two dots\nGrüße aus München\n" +
                              std::string(200, 'x') + "\nlast line"));
}

TEST_F(SmtpTransportTest, AuthWithTheRightPasswordSends) {
  SmtpOptions o = Plain();
  o.username = "pinhole";
  o.password = "right-password";
  auto t = Make(o);
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(Mail("alice@example.com", "hi", "hello"), kNow);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(sink_->WaitForMessages(1).size(), 1u);
}

TEST_F(SmtpTransportTest, WrongPasswordIsRetriedAndNeverShown) {
  SmtpOptions o = Plain();
  o.username = "pinhole";
  o.password = "wrong-password-xyz";
  auto t = Make(o);
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(Mail("alice@example.com", "hi", "hello"), kNow);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr(sink_->url()));
  EXPECT_THAT(st.message(), Not(HasSubstr("wrong-password")));
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST_F(SmtpTransportTest, RejectedRecipientFailsTemporaryRefusalRetries) {
  auto t = Make(Plain());
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(Mail("reject@example.com", "hi", "hello"), kNow);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_EQ(st.reason(), "rejected");
  EXPECT_THAT(st.message(), HasSubstr("550"));

  st = t->Deliver(Mail("later@example.com", "hi", "hello"), kNow);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("451"));
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST_F(SmtpTransportTest, RequiredStarttlsIsNotSkipped) {
  SmtpOptions o = Plain();
  o.starttls = true;  // aiosmtpd here offers no STARTTLS
  auto t = Make(o);
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(Mail("alice@example.com", "hi", "hello"), kNow);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("STARTTLS"));
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST_F(SmtpTransportTest, ServerDownIsRetried) {
  std::string url = sink_->url();
  sink_->Kill();
  SmtpOptions o = Plain();
  o.url = url;
  auto t = Make(o);
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(Mail("alice@example.com", "hi", "hello"), kNow);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
}

TEST_F(SmtpTransportTest, BadTargetFailsWithoutTalkingToTheServer) {
  auto t = Make(Plain());
  ASSERT_NE(t, nullptr);
  for (const char* to : {"", "not-an-address", "a@b\r\nRCPT TO:<x@y>", "Alice <a@b.example>"}) {
    Status st = t->Deliver(Mail(to, "hi", "hello"), kNow);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << to;
    EXPECT_EQ(st.reason(), "rejected") << to;
  }
  EXPECT_TRUE(sink_->Messages().empty());
}

TEST(SmtpTransportCreateTest, RejectsBadOptions) {
  auto bad = [](SmtpOptions o, std::string_view what) {
    auto t = SmtpTransport::Create(o);
    ASSERT_FALSE(t.ok()) << o.url;
    EXPECT_EQ(t.status().reason(), "invalid_smtp");
    EXPECT_THAT(t.status().message(), HasSubstr(what));
    EXPECT_THAT(t.status().message(), Not(HasSubstr("pw123")));
  };
  bad({.url = "http://mail.example.com"}, "smtp:// or smtps://");
  bad({.url = "smtp://"}, "no host");
  bad({.url = "smtp://user:pw123@mail.example.com"}, "credentials");
  bad({.url = "smtp://mail example.com"}, "spaces");
  bad({.url = "smtp://mail.example.com", .from = "nobody"}, "from");
  bad({.url = "smtp://mail.example.com", .timeout = Seconds(0)}, "timeout");
  EXPECT_TRUE(SmtpTransport::Create({.url = "smtps://mail.example.com:465"}).ok());
}

}  // namespace
}  // namespace pinhole
