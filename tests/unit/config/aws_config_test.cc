// The [aws] section of pinholed's configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace pinhole {
namespace {

using ::testing::HasSubstr;

TEST(AwsConfigTest, DefaultsMatchEc2) {
  auto c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->aws_rule_quota, 60);
  EXPECT_EQ(c->aws_bucket_size, 50);
  EXPECT_EQ(c->aws_bucket_refill, 5.0);
  EXPECT_EQ(c->aws_owner, "pinhole");
  EXPECT_EQ(c->aws_imds_endpoint, "http://169.254.169.254");
  EXPECT_TRUE(c->aws_endpoint.empty());
  EXPECT_FALSE(c->aws_reconcile_interval);
}

TEST(AwsConfigTest, EveryKey) {
  auto c = ParseConfig(R"(
[aws]
endpoint = "http://127.0.0.1:5000/{region}"
sts_endpoint = "http://127.0.0.1:5000"
imds_endpoint = "http://127.0.0.1:1338"
profile = "ops"
owner = "pinhole-prod"
rule_quota = 120
bucket_size = 20
bucket_refill = 2.5
max_rules_per_call = 1
call_timeout = "3s"
degraded_after = "2m"
apply_budget = 4
reconcile_interval = "15s"
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->aws_endpoint, "http://127.0.0.1:5000/{region}");
  EXPECT_EQ(c->aws_sts_endpoint, "http://127.0.0.1:5000");
  EXPECT_EQ(c->aws_imds_endpoint, "http://127.0.0.1:1338");
  EXPECT_EQ(c->aws_profile, "ops");
  EXPECT_EQ(c->aws_owner, "pinhole-prod");
  EXPECT_EQ(c->aws_rule_quota, 120);
  EXPECT_EQ(c->aws_bucket_size, 20);
  EXPECT_EQ(c->aws_bucket_refill, 2.5);
  EXPECT_EQ(c->aws_max_rules_per_call, 1);
  EXPECT_EQ(c->aws_call_timeout, Seconds(3));
  EXPECT_EQ(c->aws_degraded_after, Seconds(120));
  EXPECT_EQ(c->aws_apply_budget, Seconds(4));
  EXPECT_EQ(c->aws_reconcile_interval, Seconds(15));
}

TEST(AwsConfigTest, ServerThreads) {
  auto c = ParseConfig("[server]\nthreads = 64\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->server_threads, 64);
  EXPECT_EQ(ParseConfig("", "t.toml")->server_threads, 16);
  EXPECT_FALSE(ParseConfig("[server]\nthreads = 0\n", "t.toml").ok());
}

TEST(AwsConfigTest, BadValuesNameTheKey) {
  struct Case {
    const char* text;
    const char* want;
  } cases[] = {
      {"[aws]\nendpoint = \"ftp://x\"\n", "aws.endpoint"},
      {"[aws]\nendpoint = \"http://a b\"\n", "aws.endpoint"},
      {"[aws]\nowner = \"a b\"\n", "aws.owner"},
      {"[aws]\nrule_quota = 0\n", "aws.rule_quota"},
      {"[aws]\nbucket_refill = -1.0\n", "aws.bucket_refill"},
      {"[aws]\nmax_rules_per_call = 5000\n", "aws.max_rules_per_call"},
      {"[aws]\ndegraded_after = \"soon\"\n", "aws.degraded_after"},
      {"[aws]\nsecret_access_key = \"x\"\n", "aws.secret_access_key: unknown key"},
  };
  for (const auto& tc : cases) {
    auto c = ParseConfig(tc.text, "t.toml");
    ASSERT_FALSE(c.ok()) << tc.text;
    EXPECT_THAT(c.status().message(), HasSubstr(tc.want)) << tc.text;
    EXPECT_THAT(c.status().message(), HasSubstr("t.toml:2:")) << tc.text;
  }
}

}  // namespace
}  // namespace pinhole
