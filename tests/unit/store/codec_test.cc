#include "store/codec.h"

#include <gtest/gtest.h>

namespace pinhole::store {
namespace {

TEST(CodecTest, StringListsRoundTrip) {
  for (const std::vector<std::string>& list : std::vector<std::vector<std::string>>{
           {}, {"ssh"}, {"ssh", "rdp"}, {"quote\"d", "back\\slash", "new\nline", "ünï"}, {""}}) {
    auto r = DecodeStringList(EncodeStringList(list));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, list);
  }
}

TEST(CodecTest, StringListAcceptsWhitespaceAndEscapes) {
  EXPECT_EQ(*DecodeStringList(" [ \"a\" , \"b\" ] "), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*DecodeStringList(R"(["\u0041"])"), (std::vector<std::string>{"A"}));
}

TEST(CodecTest, BadStringListsAreInternal) {
  for (const char* bad :
       {"", "{", "[", "[\"a\"", "[\"a\",]", "[1]", "{\"a\":1}", "\"a\"", "[\"a\"] x", "null"}) {
    auto r = DecodeStringList(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kInternal) << bad;
    }
  }
}

TEST(CodecTest, PolicySpecRoundTrip) {
  Policy p;
  p.id = 3;
  p.name = "ops";
  p.users = {"a@example.com"};
  p.groups = {"g"};
  p.services = {"ssh"};
  p.access_groups = {"ag"};
  p.default_duration = Seconds(60);
  p.max_duration = Seconds(120);
  p.recipients = {RecipientKind::kCidr, RecipientKind::kInvite};
  p.min_prefix_v4 = 20;
  p.min_prefix_v6 = 48;
  Policy out;
  out.id = 3;
  out.name = "ops";
  ASSERT_TRUE(DecodePolicySpec(EncodePolicySpec(p), out).ok());
  EXPECT_EQ(out.id, 3);
  EXPECT_EQ(out.name, "ops");
  EXPECT_EQ(out.users, p.users);
  EXPECT_EQ(out.groups, p.groups);
  EXPECT_EQ(out.services, p.services);
  EXPECT_EQ(out.access_groups, p.access_groups);
  EXPECT_EQ(out.default_duration, p.default_duration);
  EXPECT_EQ(out.max_duration, p.max_duration);
  EXPECT_EQ(out.recipients, p.recipients);
  EXPECT_EQ(out.min_prefix_v4, 20);
  EXPECT_EQ(out.min_prefix_v6, 48);
}

TEST(CodecTest, PolicySpecFillsDefaultsAndIgnoresUnknownKeys) {
  Policy out;
  out.users = {"stale"};
  ASSERT_TRUE(DecodePolicySpec(R"({"services":["ssh"],"future_field":{"x":1}})", out).ok());
  const Policy d;
  EXPECT_TRUE(out.users.empty());
  EXPECT_EQ(out.services, (std::vector<std::string>{"ssh"}));
  EXPECT_EQ(out.max_duration, d.max_duration);
  EXPECT_EQ(out.recipients, d.recipients);
}

TEST(CodecTest, BadPolicySpecIsInternalAndLeavesPolicyAlone) {
  for (const char* bad : {"", "[]", "{\"recipients\":[\"carrier-pigeon\"]}",
                          "{\"users\":\"not a list\"}", "{\"max_duration_s\":\"x\"}"}) {
    Policy p;
    p.name = "keep";
    p.users = {"keep@example.com"};
    Status st = DecodePolicySpec(bad, p);
    EXPECT_EQ(st.code(), Code::kInternal) << bad;
    EXPECT_EQ(p.users, (std::vector<std::string>{"keep@example.com"})) << bad;
    EXPECT_EQ(p.name, "keep");
  }
}

TEST(CodecTest, Millis) {
  const Time t = Time(Millis(1'795'000'000'123));
  EXPECT_EQ(ToMillis(t), 1'795'000'000'123);
  EXPECT_EQ(FromMillis(ToMillis(t)), t);
}

}  // namespace
}  // namespace pinhole::store
