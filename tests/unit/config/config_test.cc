#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace pinhole {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

Config MustParse(std::string_view text) {
  Result<Config> c = ParseConfig(text, "test.toml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? *c : Config{};
}

std::string ErrorOf(std::string_view text) {
  Result<Config> c = ParseConfig(text, "test.toml");
  EXPECT_FALSE(c.ok()) << "accepted:\n" << text;
  if (c.ok()) return "";
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c.status().reason(), "invalid_config");
  return c.status().message();
}

TEST(ConfigTest, EmptyTextGivesDefaults) {
  Config c = MustParse("");
  EXPECT_EQ(c.listen, (std::vector<std::string>{"127.0.0.1:8080", "[::1]:8080"}));
  EXPECT_EQ(c.public_url, "http://127.0.0.1:8080");
  EXPECT_TRUE(c.trusted_proxies.empty());
  EXPECT_EQ(c.sqlite_path, "pinhole.db");
  EXPECT_FALSE(c.tls());
  EXPECT_EQ(c.nftables_table, "pinhole");
  EXPECT_EQ(c.resync_interval, Seconds(30));
  EXPECT_EQ(c.session_ttl, Seconds(12 * 3600));
  EXPECT_EQ(c.tunnel_dial_timeout, Seconds(5));
  EXPECT_EQ(c.tunnel_idle_timeout, Seconds(3600));
  EXPECT_EQ(c.tunnel_max_per_user, 16);
  EXPECT_EQ(c.tunnel_max_total, 1000);
  EXPECT_FALSE(c.tunnel_proxy_protocol);
}

TEST(ConfigTest, EveryKey) {
  Config c = MustParse(R"(
# a comment
[server]
listen = ["0.0.0.0:443", "[::]:443"]
public_url = "https://pinhole.example.com/"
trusted_proxies = ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]

[store]
sqlite = "/var/lib/pinhole/pinhole.db"

[tls]
cert = "/etc/pinhole/cert.pem"
key = "/etc/pinhole/key.pem"

[nftables]
table = "pinhole_2"

[controller]
resync_interval = "2m"

[auth]
session_ttl = "1d"

[tunnel]
dial_timeout = "3s"
idle_timeout = "30m"
max_per_user = 4
max_total = 50
proxy_protocol = true
)");
  EXPECT_EQ(c.listen, (std::vector<std::string>{"0.0.0.0:443", "[::]:443"}));
  EXPECT_EQ(c.public_url, "https://pinhole.example.com");
  ASSERT_EQ(c.trusted_proxies.size(), 3u);
  EXPECT_EQ(c.trusted_proxies[0].ToString(), "10.0.0.0/8");
  EXPECT_EQ(c.trusted_proxies[1].ToString(), "2001:db8::/32");
  EXPECT_EQ(c.trusted_proxies[2].ToString(), "192.0.2.1/32");
  EXPECT_EQ(c.sqlite_path, "/var/lib/pinhole/pinhole.db");
  EXPECT_TRUE(c.tls());
  EXPECT_EQ(c.tls_cert, "/etc/pinhole/cert.pem");
  EXPECT_EQ(c.tls_key, "/etc/pinhole/key.pem");
  EXPECT_EQ(c.nftables_table, "pinhole_2");
  EXPECT_EQ(c.resync_interval, Seconds(120));
  EXPECT_EQ(c.session_ttl, Seconds(86400));
  EXPECT_EQ(c.tunnel_dial_timeout, Seconds(3));
  EXPECT_EQ(c.tunnel_idle_timeout, Seconds(1800));
  EXPECT_EQ(c.tunnel_max_per_user, 4);
  EXPECT_EQ(c.tunnel_max_total, 50);
  EXPECT_TRUE(c.tunnel_proxy_protocol);
}

TEST(ConfigTest, ListenAsSingleStringAndDurationsAsIntegers) {
  Config c = MustParse(R"(
[server]
listen = "127.0.0.1:0"
[controller]
resync_interval = 45
[auth]
session_ttl = 3600
)");
  EXPECT_EQ(c.listen, std::vector<std::string>{"127.0.0.1:0"});
  EXPECT_EQ(c.resync_interval, Seconds(45));
  EXPECT_EQ(c.session_ttl, Seconds(3600));
}

TEST(ConfigTest, DottedKeysAndInlineTablesWork) {
  Config c = MustParse("store.sqlite = \"a.db\"\nauth = { session_ttl = \"1h30m\" }\n");
  EXPECT_EQ(c.sqlite_path, "a.db");
  EXPECT_EQ(c.session_ttl, Seconds(5400));
}

struct ErrorCase {
  const char* name;
  const char* toml;
  const char* expected_prefix;  // "test.toml:<line>: <section>.<key>: "
  const char* expected_detail;  // a substring of the rest
};

class ConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, NamesKeyAndLine) {
  const ErrorCase& e = GetParam();
  std::string msg = ErrorOf(e.toml);
  EXPECT_THAT(msg, StartsWith(e.expected_prefix));
  EXPECT_THAT(msg, HasSubstr(e.expected_detail));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ConfigErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownSection", "[server]\nlisten = \"127.0.0.1:1\"\n\n[bogus]\nx = 1\n",
                  "test.toml:4: bogus: ", "unknown section"},
        ErrorCase{"UnknownTopLevelKey", "\n\ntitle = \"x\"\n",
                  "test.toml:3: title: ", "unknown section"},
        ErrorCase{"SectionNotTable", "server = 5\n", "test.toml:1: server: ", "expected a table"},
        ErrorCase{"UnknownKeyServer", "[server]\n\nlisen = \"127.0.0.1:1\"\n",
                  "test.toml:3: server.lisen: ", "unknown key"},
        ErrorCase{"UnknownKeyStore", "[store]\npath = \"x\"\n",
                  "test.toml:2: store.path: ", "unknown key"},
        ErrorCase{"TunnelLimitZero", "[tunnel]\nmax_per_user = 0\n",
                  "test.toml:2: tunnel.max_per_user: ", "must be 1..100000"},
        ErrorCase{"TunnelLimitNotInteger", "[tunnel]\nmax_total = \"10\"\n",
                  "test.toml:2: tunnel.max_total: ", "expected an integer"},
        ErrorCase{"TunnelProxyNotBool", "[tunnel]\nproxy_protocol = \"yes\"\n",
                  "test.toml:2: tunnel.proxy_protocol: ", "expected true or false"},
        ErrorCase{"TunnelBadTimeout", "[tunnel]\n\ndial_timeout = \"soon\"\n",
                  "test.toml:3: tunnel.dial_timeout: ", "invalid duration"},
        ErrorCase{"TunnelUnknownKey", "[tunnel]\nmax = 1\n",
                  "test.toml:2: tunnel.max: ", "unknown key"},
        ErrorCase{"UnknownKeyTls", "[tls]\nca = \"x\"\n", "test.toml:2: tls.ca: ", "unknown key"},
        ErrorCase{"UnknownKeyNft", "[nftables]\nfamily = \"inet\"\n",
                  "test.toml:2: nftables.family: ", "unknown key"},
        ErrorCase{"UnknownKeyController", "[controller]\nx = 1\n",
                  "test.toml:2: controller.x: ", "unknown key"},
        ErrorCase{"UnknownKeyAuth", "[auth]\nx = 1\n", "test.toml:2: auth.x: ", "unknown key"},
        ErrorCase{"ListenWrongType", "[server]\nlisten = 8080\n",
                  "test.toml:2: server.listen: ", "expected a string or an array of strings"},
        ErrorCase{"ListenEmptyArray", "[server]\nlisten = []\n",
                  "test.toml:2: server.listen: ", "at least one"},
        ErrorCase{"ListenArrayOfInts", "[server]\nlisten = [\n  \"127.0.0.1:1\",\n  2,\n]\n",
                  "test.toml:4: server.listen: ", "expected an array of strings"},
        ErrorCase{"ListenNoPort", "[server]\nlisten = \"127.0.0.1\"\n",
                  "test.toml:2: server.listen: ", "ADDR:PORT"},
        ErrorCase{"ListenBadPort", "[server]\nlisten = [\"127.0.0.1:1\",\n \"[::1]:99999\"]\n",
                  "test.toml:3: server.listen: ", "invalid port"},
        ErrorCase{"ListenUnbracketedV6", "[server]\nlisten = \"::1:80\"\n",
                  "test.toml:2: server.listen: ", "brackets"},
        ErrorCase{"ListenHostName", "[server]\nlisten = \"localhost:80\"\n",
                  "test.toml:2: server.listen: ", "not an IP address"},
        ErrorCase{"ListenDuplicate", "[server]\nlisten = [\"127.0.0.1:80\", \"127.0.0.1:80\"]\n",
                  "test.toml:2: server.listen: ", "duplicate"},
        ErrorCase{"PublicUrlWrongType", "[server]\npublic_url = 1\n",
                  "test.toml:2: server.public_url: ", "expected a string"},
        ErrorCase{"PublicUrlNoScheme", "[server]\npublic_url = \"pinhole.example.com\"\n",
                  "test.toml:2: server.public_url: ", "http:// or https://"},
        ErrorCase{"PublicUrlNoHost", "[server]\npublic_url = \"https:///x\"\n",
                  "test.toml:2: server.public_url: ", "no host"},
        ErrorCase{"PublicUrlSpace", "[server]\npublic_url = \"https://a b\"\n",
                  "test.toml:2: server.public_url: ", "spaces"},
        ErrorCase{"ProxiesNotArray", "[server]\ntrusted_proxies = \"10.0.0.0/8\"\n",
                  "test.toml:2: server.trusted_proxies: ", "expected an array of strings"},
        ErrorCase{"ProxiesBadCidr",
                  "[server]\ntrusted_proxies = [\n \"10.0.0.0/8\",\n \"10.0.0.1/8\",\n]\n",
                  "test.toml:4: server.trusted_proxies: ", "10.0.0.1/8"},
        ErrorCase{"ProxiesGarbage", "[server]\ntrusted_proxies = [\"nope\"]\n",
                  "test.toml:2: server.trusted_proxies: ", "invalid CIDR"},
        ErrorCase{"SqliteWrongType", "[store]\nsqlite = true\n",
                  "test.toml:2: store.sqlite: ", "expected a string"},
        ErrorCase{"SqliteEmpty", "[store]\nsqlite = \"\"\n",
                  "test.toml:2: store.sqlite: ", "must not be empty"},
        ErrorCase{"TlsCertOnly", "[tls]\ncert = \"c.pem\"\n", "test.toml:2: tls.key: ", "together"},
        ErrorCase{"TlsKeyOnly", "[tls]\n\nkey = \"k.pem\"\n",
                  "test.toml:3: tls.cert: ", "together"},
        ErrorCase{"TlsCertWrongType", "[tls]\ncert = [\"c.pem\"]\nkey = \"k\"\n",
                  "test.toml:2: tls.cert: ", "expected a string"},
        ErrorCase{"TableBadChars", "[nftables]\ntable = \"pin-hole\"\n",
                  "test.toml:2: nftables.table: ", "A-Z"},
        ErrorCase{"TableTooLong", "[nftables]\ntable = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
                  "test.toml:2: nftables.table: ", "1-32"},
        ErrorCase{"TableEmpty", "[nftables]\ntable = \"\"\n",
                  "test.toml:2: nftables.table: ", "1-32"},
        ErrorCase{"TableWrongType", "[nftables]\ntable = 3\n",
                  "test.toml:2: nftables.table: ", "expected a string"},
        ErrorCase{"ResyncBadUnit", "[controller]\nresync_interval = \"5 parsecs\"\n",
                  "test.toml:2: controller.resync_interval: ", "invalid duration"},
        ErrorCase{"ResyncZero", "[controller]\nresync_interval = 0\n",
                  "test.toml:2: controller.resync_interval: ", "positive"},
        ErrorCase{"ResyncZeroString", "[controller]\nresync_interval = \"0s\"\n",
                  "test.toml:2: controller.resync_interval: ", "positive"},
        ErrorCase{"ResyncNegative", "[controller]\nresync_interval = -5\n",
                  "test.toml:2: controller.resync_interval: ", "positive"},
        ErrorCase{"ResyncFloat", "[controller]\nresync_interval = 1.5\n",
                  "test.toml:2: controller.resync_interval: ", "integer seconds"},
        ErrorCase{"ResyncHuge", "[controller]\nresync_interval = 9999999999\n",
                  "test.toml:2: controller.resync_interval: ", "too long"},
        ErrorCase{"SessionTtlBad", "[auth]\nsession_ttl = \"forever\"\n",
                  "test.toml:2: auth.session_ttl: ", "invalid duration"},
        ErrorCase{"SessionTtlWrongType", "[auth]\nsession_ttl = true\n",
                  "test.toml:2: auth.session_ttl: ", "duration"},
        ErrorCase{"SyntaxError", "[server]\nlisten = \n", "test.toml:2: ", ""},
        ErrorCase{"DuplicateKey", "[store]\nsqlite = \"a\"\nsqlite = \"b\"\n",
                  "test.toml:3: ", ""}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(ConfigTest, NotificationDefaults) {
  Config c = MustParse("");
  EXPECT_EQ(c.smtp_url, "");
  EXPECT_FALSE(c.email_enabled());
  EXPECT_EQ(c.smtp_from, "Pinhole <pinhole@localhost>");
  EXPECT_EQ(c.smtp_username, "");
  EXPECT_EQ(c.smtp_password, "");
  EXPECT_TRUE(c.smtp_starttls);
  EXPECT_EQ(c.smtp_timeout, Seconds(30));
  EXPECT_EQ(c.reminder_before, Seconds(900));
  EXPECT_EQ(c.notify_retry_base, Seconds(5));
  EXPECT_EQ(c.notify_retry_max, Seconds(600));
  EXPECT_EQ(c.notify_give_up_after, Seconds(3 * 86400));
  EXPECT_EQ(c.webhook_timeout, Seconds(10));
  EXPECT_TRUE(c.webhooks.empty());
  EXPECT_EQ(c.approval_pending_timeout, Seconds(86400));
  EXPECT_EQ(c.approval_link_ttl, Seconds(86400));
  EXPECT_EQ(c.invitation_expiry, Seconds(7 * 86400));
  EXPECT_EQ(c.invitation_max_expiry, Seconds(30 * 86400));
  EXPECT_EQ(c.set_password_ttl, Seconds(3 * 86400));
}

TEST(ConfigTest, NotificationKeys) {
  Config c = MustParse(R"(
[smtp]
url = "smtps://mail.example.com:465"
from = "Pinhole Gateway <gate@example.com>"
username = "gate"
password = "s3cret pass"
starttls = false
timeout = "1m"

[notify]
reminder_before = "30m"
retry_base = "2s"
retry_max = "1h"
give_up_after = "1d"
webhook_timeout = 5

[[webhooks]]
name = "chatops"
url = "https://hooks.example.com/T000/B000/XXXX"
secret = "0123456789abcdef0123"
events = ["lease.approval_requested", "lease.opened"]

[[webhooks]]
name = "audit-sink.v2"
url = "http://127.0.0.1:9000/hook"

[approval]
pending_timeout = "4h"
link_ttl = "2h"

[invitations]
expiry = "2d"
max_expiry = "14d"
set_password_ttl = "12h"
)");
  EXPECT_EQ(c.smtp_url, "smtps://mail.example.com:465");
  EXPECT_TRUE(c.email_enabled());
  EXPECT_EQ(c.smtp_from, "Pinhole Gateway <gate@example.com>");
  EXPECT_EQ(c.smtp_username, "gate");
  EXPECT_EQ(c.smtp_password, "s3cret pass");
  EXPECT_FALSE(c.smtp_starttls);
  EXPECT_EQ(c.smtp_timeout, Seconds(60));
  EXPECT_EQ(c.reminder_before, Seconds(1800));
  EXPECT_EQ(c.notify_retry_base, Seconds(2));
  EXPECT_EQ(c.notify_retry_max, Seconds(3600));
  EXPECT_EQ(c.notify_give_up_after, Seconds(86400));
  EXPECT_EQ(c.webhook_timeout, Seconds(5));
  ASSERT_EQ(c.webhooks.size(), 2u);
  EXPECT_EQ(c.webhooks[0].name, "chatops");
  EXPECT_EQ(c.webhooks[0].url, "https://hooks.example.com/T000/B000/XXXX");
  EXPECT_EQ(c.webhooks[0].secret, "0123456789abcdef0123");
  EXPECT_EQ(c.webhooks[0].events,
            (std::vector<std::string>{"lease.approval_requested", "lease.opened"}));
  EXPECT_EQ(c.webhooks[1].name, "audit-sink.v2");
  EXPECT_EQ(c.webhooks[1].secret, "");
  EXPECT_TRUE(c.webhooks[1].events.empty());
  EXPECT_EQ(c.approval_pending_timeout, Seconds(4 * 3600));
  EXPECT_EQ(c.approval_link_ttl, Seconds(2 * 3600));
  EXPECT_EQ(c.invitation_expiry, Seconds(2 * 86400));
  EXPECT_EQ(c.invitation_max_expiry, Seconds(14 * 86400));
  EXPECT_EQ(c.set_password_ttl, Seconds(12 * 3600));
}

TEST(ConfigTest, RemindersCanBeTurnedOffAndEmailStaysOffWithEmptyUrl) {
  Config c = MustParse("[notify]\nreminder_before = \"0s\"\n[smtp]\nurl = \"\"\n");
  EXPECT_EQ(c.reminder_before, Seconds(0));
  EXPECT_FALSE(c.email_enabled());
  c = MustParse("[notify]\nreminder_before = 0\n");
  EXPECT_EQ(c.reminder_before, Seconds(0));
}

TEST(ConfigTest, SmtpPasswordNeverAppearsInErrors) {
  std::string msg = ErrorOf("[smtp]\npassword = \"hunter2-secret\"\n");
  EXPECT_THAT(msg, StartsWith("test.toml:2: smtp.username: "));
  EXPECT_THAT(msg, Not(HasSubstr("hunter2")));
  msg = ErrorOf("[[webhooks]]\nname = \"x\"\nurl = \"https://h/\"\nsecret = \"short-secret\"\n");
  EXPECT_THAT(msg, StartsWith("test.toml:4: webhooks.secret: "));
  EXPECT_THAT(msg, Not(HasSubstr("short-secret")));
}

INSTANTIATE_TEST_SUITE_P(
    NotificationErrors, ConfigErrorTest,
    ::testing::Values(
        ErrorCase{"SmtpUrlScheme", "[smtp]\nurl = \"mail.example.com:25\"\n",
                  "test.toml:2: smtp.url: ", "smtp:// or smtps://"},
        ErrorCase{"SmtpUrlHttp", "[smtp]\nurl = \"http://mail.example.com\"\n",
                  "test.toml:2: smtp.url: ", "smtp:// or smtps://"},
        ErrorCase{"SmtpUrlNoHost", "[smtp]\nurl = \"smtp://\"\n",
                  "test.toml:2: smtp.url: ", "no host"},
        ErrorCase{"SmtpUrlCredentials", "[smtp]\nurl = \"smtp://u:p@mail.example.com\"\n",
                  "test.toml:2: smtp.url: ", "credentials"},
        ErrorCase{"SmtpUrlSpace", "[smtp]\nurl = \"smtp://mail example\"\n",
                  "test.toml:2: smtp.url: ", "spaces"},
        ErrorCase{"SmtpUrlWrongType", "[smtp]\nurl = 25\n",
                  "test.toml:2: smtp.url: ", "expected a string"},
        ErrorCase{"SmtpFromNoAt", "[smtp]\nfrom = \"Pinhole <pinhole>\"\n",
                  "test.toml:2: smtp.from: ", "expected an address"},
        ErrorCase{"SmtpFromUnclosed", "[smtp]\nfrom = \"Pinhole <p@example.com\"\n",
                  "test.toml:2: smtp.from: ", "Name <address>"},
        ErrorCase{"SmtpFromEmpty", "[smtp]\nfrom = \"\"\n",
                  "test.toml:2: smtp.from: ", "must not be empty"},
        ErrorCase{"SmtpFromNewline", "[smtp]\nfrom = \"a@b\\r\\nBcc: x@y\"\n",
                  "test.toml:2: smtp.from: ", "control character"},
        ErrorCase{"SmtpStarttlsNotBool", "[smtp]\nstarttls = \"yes\"\n",
                  "test.toml:2: smtp.starttls: ", "expected true or false"},
        ErrorCase{"SmtpTimeoutZero", "[smtp]\ntimeout = \"0s\"\n",
                  "test.toml:2: smtp.timeout: ", "positive"},
        ErrorCase{"SmtpUnknownKey", "[smtp]\nhost = \"x\"\n",
                  "test.toml:2: smtp.host: ", "unknown key"},
        ErrorCase{"NotifyReminderNegative", "[notify]\nreminder_before = -1\n",
                  "test.toml:2: notify.reminder_before: ", "positive"},
        ErrorCase{"NotifyReminderBad", "[notify]\nreminder_before = \"soon\"\n",
                  "test.toml:2: notify.reminder_before: ", "invalid duration"},
        ErrorCase{"NotifyRetryBaseZero", "[notify]\nretry_base = \"0s\"\n",
                  "test.toml:2: notify.retry_base: ", "positive"},
        ErrorCase{"NotifyRetryMaxBelowBase", "[notify]\nretry_base = \"1m\"\nretry_max = \"30s\"\n",
                  "test.toml:3: notify.retry_max: ", "at least notify.retry_base (1m)"},
        ErrorCase{"NotifyRetryBaseAboveDefaultMax", "[notify]\nretry_base = \"1h\"\n",
                  "test.toml:2: notify.retry_base: ", "must not exceed notify.retry_max (10m)"},
        ErrorCase{"NotifyGiveUpBad", "[notify]\ngive_up_after = true\n",
                  "test.toml:2: notify.give_up_after: ", "duration"},
        ErrorCase{"NotifyUnknownKey", "[notify]\nretries = 3\n",
                  "test.toml:2: notify.retries: ", "unknown key"},
        ErrorCase{"WebhooksAsTable", "[webhooks]\nname = \"x\"\n",
                  "test.toml:1: webhooks: ", "[[webhooks]]"},
        ErrorCase{"WebhooksAsString", "webhooks = \"x\"\n",
                  "test.toml:1: webhooks: ", "[[webhooks]]"},
        ErrorCase{"WebhookMissingName", "[[webhooks]]\nurl = \"https://h.example/x\"\n",
                  "test.toml:1: webhooks.name: ", "missing"},
        ErrorCase{"WebhookMissingUrl", "[[webhooks]]\nname = \"a\"\n",
                  "test.toml:1: webhooks.url: ", "missing"},
        ErrorCase{"WebhookBadName", "[[webhooks]]\nname = \"a b\"\nurl = \"https://h/\"\n",
                  "test.toml:2: webhooks.name: ", "1-64 characters"},
        ErrorCase{"WebhookDuplicateName",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\n"
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\n",
                  "test.toml:5: webhooks.name: ", "duplicate webhook name \"a\""},
        ErrorCase{"WebhookBadScheme", "[[webhooks]]\nname = \"a\"\nurl = \"ftp://h/x\"\n",
                  "test.toml:3: webhooks.url: ", "https:// or http://"},
        ErrorCase{"WebhookUrlCredentials",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://u:p@h/x\"\n",
                  "test.toml:3: webhooks.url: ", "credentials"},
        ErrorCase{"WebhookUnknownEvent",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\nevents = [\n"
                  "  \"lease.opened\",\n  \"lease.aproved\",\n]\n",
                  "test.toml:6: webhooks.events: ", "unknown event \"lease.aproved\" (known: "},
        ErrorCase{"WebhookDuplicateEvent",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\n"
                  "events = [\"lease.opened\", \"lease.opened\"]\n",
                  "test.toml:4: webhooks.events: ", "duplicate event"},
        ErrorCase{"WebhookEventsString",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\nevents = \"lease.opened\"\n",
                  "test.toml:4: webhooks.events: ", "expected an array of strings"},
        ErrorCase{"WebhookUnknownKey",
                  "[[webhooks]]\nname = \"a\"\nurl = \"https://h/\"\nheaders = {}\n",
                  "test.toml:4: webhooks.headers: ", "unknown key"},
        ErrorCase{"ApprovalTimeoutZero", "[approval]\npending_timeout = 0\n",
                  "test.toml:2: approval.pending_timeout: ", "positive"},
        ErrorCase{"ApprovalLinkBad", "[approval]\nlink_ttl = \"1 fortnight\"\n",
                  "test.toml:2: approval.link_ttl: ", "invalid duration"},
        ErrorCase{"ApprovalUnknownKey", "[approval]\nmode = \"admin\"\n",
                  "test.toml:2: approval.mode: ", "unknown key"},
        ErrorCase{
            "InvitationExpiryAboveMax", "[invitations]\nexpiry = \"40d\"\n",
            "test.toml:2: invitations.expiry: ", "must not exceed invitations.max_expiry (30d)"},
        ErrorCase{"InvitationMaxBelowDefault", "[invitations]\nmax_expiry = \"1d\"\n",
                  "test.toml:2: invitations.max_expiry: ", "invitations.expiry (7d)"},
        ErrorCase{"InvitationSetPasswordBad", "[invitations]\nset_password_ttl = \"\"\n",
                  "test.toml:2: invitations.set_password_ttl: ", "invalid duration"},
        ErrorCase{"InvitationUnknownKey", "[invitations]\nttl = \"1d\"\n",
                  "test.toml:2: invitations.ttl: ", "unknown key"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(ConfigTest, SyntaxErrorNamesLineAndSource) {
  Result<Config> c = ParseConfig("a = 1\nb = \"unterminated\n", "my.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), StartsWith("my.toml:2: "));
}

TEST(ListenAddressTest, Parses) {
  Result<ListenAddress> a = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_FALSE(a->v6);

  a = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 0);
  EXPECT_TRUE(a->v6);

  a = ParseListenAddress("[::]:65535");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 65535);
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:0").ok());
}

TEST(ListenAddressTest, RejectsGarbage) {
  for (const char* bad :
       {"", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
        "127.0.0.1:080808", "[::1]", "[::1]80", "[::1:80", "::1:80", "[127.0.0.1]:80",
        "host.example:80", "[fe80::1%eth0]:80", "1.2.3.4.5:80", " 127.0.0.1:80"}) {
    Result<ListenAddress> a = ParseListenAddress(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_EQ(a.status().reason(), "invalid_listen_address") << bad;
    }
  }
}

TEST(ConfigFileTest, LoadsAFileAndNamesItInErrors) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("pinhole_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::path good = dir / "good.toml";
  std::filesystem::path bad = dir / "bad.toml";
  std::ofstream(good) << "[store]\nsqlite = \"x.db\"\n";
  std::ofstream(bad) << "[store]\n\nsqlite = 7\n";

  Result<Config> c = LoadConfigFile(good.string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sqlite_path, "x.db");

  c = LoadConfigFile(bad.string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), bad.string() + ":3: store.sqlite: expected a string");

  c = LoadConfigFile((dir / "missing.toml").string());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("missing.toml"));

  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pinhole
