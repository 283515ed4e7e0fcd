// The pure parts of the aws-sg backend: target parsing, rule labels and
// descriptions, the token bucket, back-off, and the IAM policy document.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "enforce/aws/iam_policy.h"
#include "enforce/aws/rate_limit.h"
#include "enforce/aws/rule_naming.h"
#include "enforce/aws/target.h"

namespace pinhole::aws {
namespace {

using std::chrono::seconds;

TEST(AwsSgTargetTest, ParsesBothForms) {
  auto one = ParseAwsTarget(R"({"region":"eu-west-1","security_groups":["sg-0123456789abcdef0"]})");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_EQ(one->pools.size(), 1u);
  EXPECT_EQ(one->pools[0].region, "eu-west-1");
  EXPECT_EQ(one->pools[0].groups, std::vector<std::string>{"sg-0123456789abcdef0"});
  auto two = ParseAwsTarget(
      R"({"regions":[{"region":"eu-west-1","security_groups":["sg-00000001","sg-00000002"]},)"
      R"({"region":"us-gov-west-1","security_groups":["sg-00000003"]}]})");
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->pools.size(), 2u);
  EXPECT_EQ(two->pools[0].groups.size(), 2u);
  EXPECT_EQ(two->pools[1].region, "us-gov-west-1");
}

TEST(AwsSgTargetTest, RejectsBadTargets) {
  for (const char* bad : {
           "",
           "nope",
           "[]",
           "{}",
           R"({"region":"eu-west-1"})",
           R"({"region":"eu-west-1","security_groups":"sg-00000001"})",
           R"({"region":"eu-west-1","security_groups":[1]})",
           R"({"region":"EU-WEST-1","security_groups":["sg-00000001"]})",
           R"({"region":"eu-west","security_groups":["sg-00000001"]})",
           R"({"region":"eu-west-1","security_groups":["sg-0000000G"]})",
           R"({"region":"eu-west-1","security_groups":["sg-000000001"]})",
           R"({"regions":[]})",
           R"({"regions":[{"region":"eu-west-1","security_groups":["sg-00000001"]}],"region":"x"})",
       }) {
    auto t = ParseAwsTarget(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) EXPECT_EQ(t.status().reason(), "invalid_target") << bad;
  }
  std::string many = R"({"region":"eu-west-1","security_groups":[)";
  for (int i = 0; i < 17; ++i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "\"sg-%08x\"", i);
    many += (i ? "," : "") + std::string(buf);
  }
  EXPECT_FALSE(ParseAwsTarget(many + "]}").ok());
}

TEST(AwsSgRuleNamingTest, DescriptionRoundTripsWithinTheAllowedCharacters) {
  Time t = *ParseTime("2026-11-21T15:00:00Z");
  RuleLabel label{"db-main.eu_1", 42, t};
  std::string d = FormatDescription(label);
  EXPECT_EQ(d, "pinhole svc db-main.eu_1 lease 42 until 2026-11-21T15:00:00Z");
  EXPECT_TRUE(IsValidDescription(d));
  EXPECT_EQ(ParseDescription(d), label);
  RuleLabel ms{"ssh", 0, t + std::chrono::milliseconds(250)};
  EXPECT_EQ(ParseDescription(FormatDescription(ms)), ms);
  // The longest service name still fits.
  RuleLabel longest{std::string(64, 'a'), 9'223'372'036'854'775'807, t};
  EXPECT_LE(FormatDescription(longest).size(), kMaxDescription);
}

TEST(AwsSgRuleNamingTest, HandMadeDescriptionsAreNotOurs) {
  for (const char* d :
       {"", "office", "pinhole", "pinhole svc", "pinhole svc ssh", "pinhole svc ssh until",
        "pinhole svc ssh until tomorrow", "pinhole svc ssh lease x until 2026-11-21T15:00:00Z",
        "pinhole svc ssh lease -1 until 2026-11-21T15:00:00Z",
        "pinhole svc s&h until 2026-11-21T15:00:00Z",
        "pinhole svc ssh until 2026-11-21T15:00:00Z extra",
        "Pinhole svc ssh until 2026-11-21T15:00:00Z"}) {
    EXPECT_FALSE(ParseDescription(d)) << d;
  }
  EXPECT_FALSE(IsValidDescription("a&b"));
  EXPECT_FALSE(IsValidDescription("tab\there"));
  EXPECT_FALSE(IsValidDescription(std::string(256, 'a')));
  EXPECT_TRUE(IsValidDescription("ok ._-:/()#,@[]+=;{}!$*"));
}

TEST(AwsSgRuleNamingTest, BatchTagsShareTheLatestExpiry) {
  Time t = *ParseTime("2026-11-21T15:00:00Z");
  BatchTags single("pinhole");
  single.Add({"ssh", 7, t});
  EXPECT_EQ(single.tags(),
            (std::map<std::string, std::string>{
                {kTagOwner, "pinhole"}, {kTagLease, "7"}, {kTagExpires, "2026-11-21T15:00:00Z"}}));
  BatchTags mixed("pinhole");
  mixed.Add({"ssh", 7, t + seconds(60)});
  mixed.Add({"ssh", 8, t});
  EXPECT_EQ(mixed.tags().at(kTagLease), "multiple");
  EXPECT_EQ(mixed.tags().at(kTagExpires), "2026-11-21T15:01:00Z");
  EXPECT_TRUE(IsValidOwner("pinhole-prod.eu_1"));
  EXPECT_FALSE(IsValidOwner(""));
  EXPECT_FALSE(IsValidOwner("a b"));
  EXPECT_FALSE(IsValidOwner(std::string(65, 'a')));
}

TEST(AwsSgRateLimitTest, BucketStartsFullAndRefills) {
  Time t0 = *ParseTime("2026-11-21T15:00:00Z");
  TokenBucket bucket(3, 2, t0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Take(t0, seconds(10)), Millis(0));
  EXPECT_EQ(bucket.Take(t0, seconds(10)), Millis(500));   // 2 per second
  EXPECT_EQ(bucket.Take(t0, seconds(10)), Millis(1000));  // queued behind the previous
  // Too long a wait: nothing taken.
  EXPECT_EQ(bucket.Take(t0, Millis(100)), Millis(1500));
  EXPECT_EQ(bucket.Take(t0 + seconds(1), seconds(10)), Millis(0) + Millis(500));
  // Refill never exceeds the capacity.
  EXPECT_NEAR(bucket.tokens(t0 + seconds(100)), 3.0, 1e-9);
  bucket.Drain(t0 + seconds(100));
  EXPECT_NEAR(bucket.tokens(t0 + seconds(100)), 0.0, 1e-9);
}

TEST(AwsSgRateLimitTest, BackoffIsJitteredAndCapped) {
  Backoff b(Millis(100), Millis(1000), 7);
  Millis sum{0};
  for (int i = 0; i < 200; ++i) {
    Millis d1 = b.Delay(1);
    EXPECT_GE(d1, Millis(0));
    EXPECT_LE(d1, Millis(100));
    Millis d10 = b.Delay(10);
    EXPECT_LE(d10, Millis(1000));
    sum += d10;
  }
  // Full jitter: the average is about half the cap, not the cap.
  EXPECT_GT(sum / 200, Millis(300));
  EXPECT_LT(sum / 200, Millis(700));
}

TEST(AwsIamPolicyTest, ListsExactlyTheActionsTheClientCalls) {
  auto doc = nlohmann::json::parse(IamPolicyJson());
  EXPECT_EQ(doc["Version"], "2012-10-17");
  std::set<std::string> actions;
  for (const auto& st : doc["Statement"]) {
    EXPECT_EQ(st["Effect"], "Allow");
    for (const auto& a : st["Action"]) actions.insert(a.get<std::string>());
  }
  EXPECT_EQ(actions, (std::set<std::string>{
                         "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags",
                         "ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups",
                         "ec2:ModifySecurityGroupRules", "ec2:RevokeSecurityGroupIngress"}));
  auto scoped = nlohmann::json::parse(
      IamPolicyJson({"arn:aws:ec2:eu-west-1:123456789012:security-group/sg-00000001"}));
  EXPECT_EQ(scoped["Statement"][1]["Resource"][0],
            "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-00000001");
  EXPECT_EQ(scoped["Statement"][0]["Resource"], "*");
}

}  // namespace
}  // namespace pinhole::aws
