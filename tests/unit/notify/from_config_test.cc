#include "notify/from_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinhole {
namespace {

using ::testing::HasSubstr;

TEST(FromConfigTest, EverythingOffByDefault) {
  Config c;
  NotifyOptions o = NotifyOptionsFromConfig(c);
  EXPECT_EQ(o.public_url, "http://127.0.0.1:8080");
  EXPECT_FALSE(o.email_enabled);
  EXPECT_TRUE(o.webhooks.empty());
  auto transports = TransportsFromConfig(c);
  ASSERT_TRUE(transports.ok()) << transports.status().ToString();
  EXPECT_TRUE(transports->empty());
  OutboxSenderOptions s = SenderOptionsFromConfig(c);
  EXPECT_EQ(s.retry_base, Seconds(5));
  EXPECT_EQ(s.retry_max, Seconds(600));
  EXPECT_EQ(s.give_up_after, Seconds(3 * 86400));
}

TEST(FromConfigTest, ParsedConfigWiresBothChannels) {
  Result<Config> c = ParseConfig(R"(
[server]
public_url = "https://pinhole.example.com/"
[smtp]
url = "smtp://127.0.0.1:2525"
starttls = false
[notify]
retry_base = "1s"
retry_max = "1m"
give_up_after = "2h"
[[webhooks]]
name = "ops"
url = "https://hooks.example.com/x"
secret = "0123456789abcdef"
events = ["lease.opened"]
)",
                                 "test.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  NotifyOptions o = NotifyOptionsFromConfig(*c);
  EXPECT_EQ(o.public_url, "https://pinhole.example.com");
  EXPECT_TRUE(o.email_enabled);
  ASSERT_EQ(o.webhooks.size(), 1u);
  EXPECT_EQ(o.webhooks[0].name, "ops");
  EXPECT_EQ(o.webhooks[0].url, "https://hooks.example.com/x");
  EXPECT_EQ(o.webhooks[0].secret, "0123456789abcdef");
  EXPECT_EQ(o.webhooks[0].events, std::vector<std::string>{"lease.opened"});

  auto transports = TransportsFromConfig(*c);
  ASSERT_TRUE(transports.ok()) << transports.status().ToString();
  EXPECT_EQ(transports->size(), 2u);
  EXPECT_TRUE(transports->contains("email"));
  EXPECT_TRUE(transports->contains("webhook"));

  OutboxSenderOptions s = SenderOptionsFromConfig(*c);
  EXPECT_EQ(s.retry_base, Seconds(1));
  EXPECT_EQ(s.retry_max, Seconds(60));
  EXPECT_EQ(s.give_up_after, Seconds(7200));
}

TEST(FromConfigTest, AConfigBuiltByHandIsStillChecked) {
  Config c;
  c.smtp_url = "smtp://mail.example.com";
  c.smtp_from = "not an address";
  auto transports = TransportsFromConfig(c);
  ASSERT_FALSE(transports.ok());
  EXPECT_EQ(transports.status().reason(), "invalid_config");
  EXPECT_THAT(transports.status().message(), HasSubstr("smtp from"));
}

}  // namespace
}  // namespace pinhole
