#include "store/codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

TEST(CodecTest, PolicyApprovalAndScheduleRoundTrip) {
  Policy p;
  p.name = "office";
  p.approval = ApprovalMode::kAdmin;
  p.activate_on = ActivateOn::kNextLogin;
  p.notify_admins = true;
  p.may_outlive_window = true;
  p.schedule = Schedule{"Europe/Berlin",
                        {ScheduleWindow{0b0111110, 8 * 60, 18 * 60},     // weekdays
                         ScheduleWindow{0b1000000, 22 * 60, 2 * 60},     // sat, crossing midnight
                         ScheduleWindow{0b0000001, 20 * 60, 24 * 60}}};  // sun, to 24:00
  std::string text = EncodePolicySpec(p);
  // Stored as an admin would write it.
  auto stored = nlohmann::json::parse(text)["schedule"];
  EXPECT_EQ(stored["windows"][0]["days"], nlohmann::json({"mon", "tue", "wed", "thu", "fri"}));
  EXPECT_EQ(stored["windows"][2]["to"], "24:00");
  Policy out;
  ASSERT_TRUE(DecodePolicySpec(text, out).ok());
  EXPECT_EQ(out.approval, ApprovalMode::kAdmin);
  EXPECT_EQ(out.activate_on, ActivateOn::kNextLogin);
  EXPECT_TRUE(out.notify_admins);
  EXPECT_TRUE(out.may_outlive_window);
  EXPECT_EQ(out.schedule, p.schedule);

  // Without a schedule, none comes back.
  p.schedule.reset();
  ASSERT_TRUE(DecodePolicySpec(EncodePolicySpec(p), out).ok());
  EXPECT_FALSE(out.schedule.has_value());
}

TEST(CodecTest, OlderPolicySpecsGetTheNewDefaults) {
  Policy out;
  out.schedule = Schedule{};
  out.approval = ApprovalMode::kAdmin;
  ASSERT_TRUE(DecodePolicySpec(R"({"services":["ssh"],"schedule":null})", out).ok());
  EXPECT_EQ(out.approval, ApprovalMode::kAuto);
  EXPECT_EQ(out.activate_on, ActivateOn::kRequestAddress);
  EXPECT_FALSE(out.notify_admins);
  EXPECT_FALSE(out.may_outlive_window);
  EXPECT_FALSE(out.schedule.has_value());
}

TEST(CodecTest, BadStoredSchedulesAreInternalAndLeavePolicyAlone) {
  for (
      const char* bad : {
          R"({"approval":"maybe"})",
          R"({"activate_on":"sometime"})",
          R"({"notify_admins":"yes"})",
          R"({"schedule":{"windows":[]}})",
          R"({"schedule":{"timezone":"UTC"}})",
          R"({"schedule":{"timezone":"UTC","windows":[{"days":["funday"],"from":"08:00","to":"09:00"}]}})",
          R"({"schedule":{"timezone":"UTC","windows":[{"days":["mon"],"from":"8am","to":"09:00"}]}})",
          R"({"schedule":{"timezone":"UTC","windows":[{"days":["mon"],"from":"24:00","to":"09:00"}]}})",
          R"({"schedule":{"timezone":"UTC","windows":[{"days":"mon","from":"08:00","to":"09:00"}]}})",
          R"({"schedule":[1]})",
      }) {
    Policy p;
    p.name = "keep";
    p.users = {"keep@example.com"};
    Status st = DecodePolicySpec(bad, p);
    EXPECT_EQ(st.code(), Code::kInternal) << bad;
    EXPECT_EQ(p.users, (std::vector<std::string>{"keep@example.com"})) << bad;
    EXPECT_FALSE(p.schedule.has_value()) << bad;
  }
}

TEST(CodecTest, Millis) {
  const Time t = Time(Millis(1'795'000'000'123));
  EXPECT_EQ(ToMillis(t), 1'795'000'000'123);
  EXPECT_EQ(FromMillis(ToMillis(t)), t);
}

}  // namespace
}  // namespace pinhole::store
