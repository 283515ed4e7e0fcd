#include "cli/request_body.h"

#include <gtest/gtest.h>

namespace pinhole::cli {
namespace {

std::string Reason(const Result<Json>& r) { return r.ok() ? "ok" : r.status().reason(); }

TEST(ListFlagTest, AbsentEmptyAndValues) {
  EXPECT_FALSE(MakeListFlag({}, 0).has_value());
  EXPECT_EQ(MakeListFlag({""}, 1), std::vector<std::string>{});
  EXPECT_EQ(MakeListFlag({"a", "", "b"}, 3), (std::vector<std::string>{"a", "b"}));
}

TEST(LeaseBodyTest, ServicesWithDurationReasonAndSelf) {
  LeaseFlags f;
  f.services = {"ssh", "db"};
  f.duration = "1h30m";
  f.reason = "deploy";
  auto body = LeaseRequestBody(f);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body,
            Json::parse(R"({"services":["ssh","db"],"duration":"1h30m","reason":"deploy"})"));
}

TEST(LeaseBodyTest, MinimalRequestLeavesDefaultsToTheServer) {
  LeaseFlags f;
  f.services = {"ssh"};
  EXPECT_EQ(*LeaseRequestBody(f), Json::parse(R"({"services":["ssh"]})"));
}

TEST(LeaseBodyTest, AccessGroupInsteadOfServices) {
  LeaseFlags f;
  f.access_group = "bastions";
  EXPECT_EQ(*LeaseRequestBody(f), Json::parse(R"({"access_group":"bastions"})"));
}

TEST(LeaseBodyTest, NeedsExactlyOneOfServicesAndAccessGroup) {
  LeaseFlags none;
  EXPECT_EQ(Reason(LeaseRequestBody(none)), "usage");
  LeaseFlags both;
  both.services = {"ssh"};
  both.access_group = "x";
  EXPECT_EQ(Reason(LeaseRequestBody(both)), "usage");
  LeaseFlags empty_name;
  empty_name.services = {""};
  EXPECT_EQ(Reason(LeaseRequestBody(empty_name)), "usage");
}

TEST(LeaseBodyTest, RejectsBadAndZeroDurations) {
  LeaseFlags f;
  f.services = {"ssh"};
  for (const char* bad : {"", "2x", "-1h", "0", "0s", "h"}) {
    f.duration = bad;
    auto body = LeaseRequestBody(f);
    EXPECT_FALSE(body.ok()) << bad;
    EXPECT_EQ(body.status().code(), Code::kInvalidArgument) << bad;
  }
  f.duration = "90";
  EXPECT_TRUE(LeaseRequestBody(f).ok());
}

TEST(LeaseBodyTest, CidrRecipientIsCanonicalAndNeverWidened) {
  LeaseFlags f;
  f.services = {"ssh"};
  f.cidr = "198.51.100.0/28";
  EXPECT_EQ((*LeaseRequestBody(f))["recipient"],
            Json::parse(R"({"kind":"cidr","cidr":"198.51.100.0/28"})"));
  f.cidr = "2001:db8::1";  // a bare address becomes a host prefix
  EXPECT_EQ((*LeaseRequestBody(f))["recipient"]["cidr"], "2001:db8::1/128");
  f.cidr = "198.51.100.7/28";  // host bits set: refuse rather than widen
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "invalid_cidr");
  f.cidr = "not-an-ip";
  EXPECT_FALSE(LeaseRequestBody(f).ok());
}

TEST(LeaseBodyTest, InviteRecipient) {
  LeaseFlags f;
  f.services = {"ssh"};
  f.invite_email = "guest@example.com";
  EXPECT_EQ((*LeaseRequestBody(f))["recipient"],
            Json::parse(R"({"kind":"invite","email":"guest@example.com"})"));
  f.invite_email = "guest";
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "invalid_value");
  f.invite_email = "guest@example.com";
  f.cidr = "198.51.100.0/28";
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "usage");
}

TEST(RenewBodyTest, DurationOptional) {
  EXPECT_EQ(*RenewRequestBody(std::nullopt), Json::object());
  EXPECT_EQ(*RenewRequestBody("2h"), Json::parse(R"({"duration":"2h"})"));
  EXPECT_EQ(Reason(RenewRequestBody("forever")), "invalid_duration");
}

TEST(UserBodyTest, SendsOnlyWhatWasGiven) {
  UserFlags f;
  EXPECT_EQ(*UserBody(f), Json::object());
  f.role = "admin";
  f.disabled = false;
  f.groups = std::vector<std::string>{};
  EXPECT_EQ(*UserBody(f), Json::parse(R"({"role":"admin","disabled":false,"groups":[]})"));
}

TEST(UserBodyTest, FullCreate) {
  UserFlags f{
      "bob@example.com", "user", "pw", true, std::nullopt, std::vector<std::string>{"ops", "dev"}};
  EXPECT_EQ(*UserBody(f), Json::parse(R"({"email":"bob@example.com","role":"user","password":"pw",
                                         "must_change_password":true,"groups":["ops","dev"]})"));
}

TEST(UserBodyTest, RejectsBadValues) {
  UserFlags f;
  f.role = "root";
  EXPECT_EQ(Reason(UserBody(f)), "invalid_value");
  f = {};
  f.email = "bob";
  EXPECT_EQ(Reason(UserBody(f)), "invalid_value");
  f = {};
  f.password = "";
  EXPECT_EQ(Reason(UserBody(f)), "invalid_value");
}

TEST(GroupBodyTest, RenameAndMembers) {
  EXPECT_EQ(*GroupBody({"ops2", std::vector<std::string>{"a@x"}}),
            Json::parse(R"({"name":"ops2","members":["a@x"]})"));
  EXPECT_EQ(Reason(GroupBody({"", std::nullopt})), "invalid_value");
}

TEST(ServiceBodyTest, CreateMapsFlagsToFields) {
  ServiceFlags f;
  f.protocol = "tcp";
  f.ports = "8000-8100";
  f.backend = "aws-sg";
  f.target_json = R"({"region":"eu-west-1","security_groups":["sg-1"]})";
  f.description = "web";
  f.keep_established = true;
  auto body = ServiceBody(f, /*creating=*/true);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, Json::parse(R"({"protocol":"tcp","ports":"8000-8100","backend":"aws-sg",
      "target":{"region":"eu-west-1","security_groups":["sg-1"]},"description":"web",
      "keep_established":true})"));
}

TEST(ServiceBodyTest, CreateNeedsProtocolAndPortsForTcpUdp) {
  ServiceFlags f;
  EXPECT_EQ(Reason(ServiceBody(f, true)), "usage");
  f.protocol = "udp";
  EXPECT_EQ(Reason(ServiceBody(f, true)), "usage");
  f.protocol = "icmp";
  EXPECT_TRUE(ServiceBody(f, true).ok());
  f.protocol = "sctp";
  EXPECT_EQ(Reason(ServiceBody(f, true)), "invalid_value");
}

TEST(ServiceBodyTest, UpdateSendsOnlyGivenFields) {
  ServiceFlags f;
  f.ports = "2222";
  EXPECT_EQ(*ServiceBody(f, false), Json::parse(R"({"ports":"2222"})"));
  f = {};
  f.keep_established = false;
  EXPECT_EQ(*ServiceBody(f, false), Json::parse(R"({"keep_established":false})"));
}

TEST(ServiceBodyTest, TargetMustBeAJsonObject) {
  ServiceFlags f;
  for (const char* bad : {"[1]", "\"x\"", "{", "host=db1", ""}) {
    f.target_json = bad;
    EXPECT_EQ(Reason(ServiceBody(f, false)), "invalid_target") << bad;
  }
}

TEST(AccessGroupBodyTest, Fields) {
  EXPECT_EQ(*AccessGroupBody({"b", std::vector<std::string>{"ssh", "db"}, true}),
            Json::parse(R"({"name":"b","services":["ssh","db"],"public":true})"));
  EXPECT_EQ(*AccessGroupBody({std::nullopt, std::nullopt, false}),
            Json::parse(R"({"public":false})"));
}

TEST(PolicyBodyTest, FullCreate) {
  PolicyFlags f;
  f.users = std::vector<std::string>{"a@x"};
  f.groups = std::vector<std::string>{"ops"};
  f.services = std::vector<std::string>{"ssh"};
  f.access_groups = std::vector<std::string>{"web"};
  f.default_duration = "1h";
  f.max_duration = "10h";
  f.recipients = std::vector<std::string>{"self", "cidr"};
  f.min_prefix_v4 = 24;
  f.min_prefix_v6 = 56;
  f.approval = "admin";
  f.notify_admins = true;
  auto body = PolicyBody(f);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, Json::parse(R"({"users":["a@x"],"groups":["ops"],"services":["ssh"],
      "access_groups":["web"],"default_duration":"1h","max_duration":"10h",
      "recipients":["self","cidr"],"min_prefix":{"ipv4":24,"ipv6":56},"approval":"admin",
      "notify_admins":true})"));
}

TEST(PolicyBodyTest, RejectsBadValues) {
  auto with = [](auto set) {
    PolicyFlags f;
    set(f);
    return Reason(PolicyBody(f));
  };
  EXPECT_EQ(with([](PolicyFlags& f) { f.recipients = std::vector<std::string>{"everyone"}; }),
            "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.min_prefix_v4 = 33; }), "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.min_prefix_v4 = -1; }), "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.min_prefix_v6 = 129; }), "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.approval = "maybe"; }), "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.max_duration = "10y"; }), "invalid_duration");
  EXPECT_EQ(with([](PolicyFlags& f) {
              f.default_duration = "2h";
              f.max_duration = "1h";
            }),
            "invalid_value");
  EXPECT_EQ(with([](PolicyFlags& f) { f.min_prefix_v6 = 128; }), "ok");
}

TEST(PolicyBodyTest, PartialMinPrefixIsCompletedFromTheCurrentPolicy) {
  PolicyFlags f;
  f.min_prefix_v4 = 28;
  Json patch = *PolicyBody(f);
  EXPECT_EQ(patch, Json::parse(R"({"min_prefix":{"ipv4":28}})"));
  CompleteMinPrefix(patch, Json::parse(R"({"name":"p","min_prefix":{"ipv4":24,"ipv6":56}})"));
  EXPECT_EQ(patch, Json::parse(R"({"min_prefix":{"ipv4":28,"ipv6":56}})"));
}

TEST(PolicyBodyTest, CompleteMinPrefixLeavesOtherPatchesAlone) {
  Json patch = Json::parse(R"({"approval":"auto"})");
  CompleteMinPrefix(patch, Json::parse(R"({"min_prefix":{"ipv4":24,"ipv6":56}})"));
  EXPECT_EQ(patch, Json::parse(R"({"approval":"auto"})"));
  patch = Json::parse(R"({"min_prefix":{"ipv6":64}})");
  CompleteMinPrefix(patch, Json::parse(R"("not an object")"));
  EXPECT_EQ(patch, Json::parse(R"({"min_prefix":{"ipv6":64}})"));
}

// ---- issue 4: invitations, welcome emails, approval and schedule flags ----

TEST(LeaseBodyTest, InviteWithoutEmailAndWithExpiry) {
  LeaseFlags f;
  f.services = {"ssh"};
  f.invite_email = "guest@example.com";
  f.send_email = false;
  f.invite_expires = "3d";
  auto body = LeaseRequestBody(f);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, Json::parse(R"({"services":["ssh"],"recipient":{"kind":"invite",
      "email":"guest@example.com","send_email":false,"expires_in":"3d"}})"));
}

TEST(LeaseBodyTest, InviteOptionsNeedAnInvite) {
  LeaseFlags f;
  f.services = {"ssh"};
  f.send_email = false;
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "usage");
  f.send_email.reset();
  f.invite_expires = "3d";
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "usage");
  f.invite_email = "guest@example.com";
  f.invite_expires = "3x";
  EXPECT_EQ(Reason(LeaseRequestBody(f)), "invalid_duration");
}

TEST(UserBodyTest, WelcomeEmailFlags) {
  UserFlags f;
  f.email = "bob@example.com";
  f.send_welcome = true;
  EXPECT_EQ(*UserBody(f), Json::parse(R"({"email":"bob@example.com","send_welcome":true})"));
  f.include_password = true;
  EXPECT_EQ(Reason(UserBody(f)), "usage");  // no password to include
  f.password = "correct horse battery";
  EXPECT_EQ(*UserBody(f), Json::parse(R"({"email":"bob@example.com","password":
      "correct horse battery","send_welcome":true,"include_password":true})"));
  f.send_welcome.reset();
  EXPECT_EQ(Reason(UserBody(f)), "usage");  // include_password without the email
}

TEST(WindowTest, RangesListsAndNames) {
  EXPECT_EQ(*ParseWindow("mon-fri 08:00-18:00"),
            Json::parse(R"({"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"})"));
  EXPECT_EQ(*ParseWindow("Sat,sun 8:30-12:00"),
            Json::parse(R"({"days":["sat","sun"],"from":"08:30","to":"12:00"})"));
  // A range may wrap past Sunday; days come out in week order.
  EXPECT_EQ(*ParseWindow("fri-mon 22:00-02:00"),
            Json::parse(R"({"days":["mon","fri","sat","sun"],"from":"22:00","to":"02:00"})"));
  EXPECT_EQ(*ParseWindow("weekdays  00:00-24:00"),
            Json::parse(R"({"days":["mon","tue","wed","thu","fri"],"from":"00:00","to":"24:00"})"));
  EXPECT_EQ((*ParseWindow("daily 06:00-07:00"))["days"].size(), 7u);
  EXPECT_EQ(*ParseWindow("weekend,wed 10:00-11:00"),
            Json::parse(R"({"days":["wed","sat","sun"],"from":"10:00","to":"11:00"})"));
}

TEST(WindowTest, RejectsMalformedWindows) {
  for (const char* bad : {"", "mon-fri", "08:00-18:00", "mo-fr 08:00-18:00", "mon 8-18",
                          "mon 08:00-18:60", "mon 24:00-02:00", "mon 08:00-24:01",
                          "mon 08:00-08:00", "mon, 08:00-09:00", "mon 08:00–18:00",
                          "mon 0800-1800"}) {
    auto w = ParseWindow(bad);
    EXPECT_FALSE(w.ok()) << bad << " -> " << w->dump();
    if (!w.ok()) {
      EXPECT_EQ(w.status().reason(), "invalid_window") << bad;
    }
  }
}

TEST(PolicyBodyTest, ApprovalAndScheduleFields) {
  PolicyFlags f;
  f.approval = "admin";
  f.activate_on = "next_login";
  f.notify_admins = true;
  f.may_outlive_window = false;
  f.schedule_tz = "Europe/Berlin";
  f.windows = std::vector<std::string>{"mon-fri 08:00-18:00", "sat 10:00-12:00"};
  auto body = PolicyBody(f, /*creating=*/true);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, Json::parse(R"({"approval":"admin","activate_on":"next_login",
      "notify_admins":true,"may_outlive_window":false,"schedule":{"timezone":"Europe/Berlin",
      "windows":[{"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"},
                 {"days":["sat"],"from":"10:00","to":"12:00"}]}})"));
}

TEST(PolicyBodyTest, ScheduleHalvesAndClearing) {
  auto with = [](auto set, bool creating) {
    PolicyFlags f;
    set(f);
    return PolicyBody(f, creating);
  };
  auto tz_only = [](PolicyFlags& f) { f.schedule_tz = "UTC"; };
  auto windows_only = [](PolicyFlags& f) {
    f.windows = std::vector<std::string>{"mon 08:00-09:00"};
  };
  // Creating needs both halves; an update may send one, completed later.
  EXPECT_EQ(Reason(with(tz_only, true)), "usage");
  EXPECT_EQ(Reason(with(windows_only, true)), "usage");
  Json patch = *with(tz_only, false);
  EXPECT_TRUE(SchedulePartial(patch));
  EXPECT_TRUE(CompleteSchedule(patch, Json::parse(R"({"schedule":{"timezone":"Europe/Berlin",
      "windows":[{"days":["sun"],"from":"01:00","to":"02:00"}]}})")).ok());
  EXPECT_EQ(patch, Json::parse(R"({"schedule":{"timezone":"UTC",
      "windows":[{"days":["sun"],"from":"01:00","to":"02:00"}]}})"));
  EXPECT_FALSE(SchedulePartial(patch));
  // Nothing to complete from: the policy is always open.
  patch = *with(windows_only, false);
  EXPECT_EQ(CompleteSchedule(patch, Json::parse(R"({"schedule":null})")).reason(), "usage");
  // --window '' = always open.
  Json cleared = *with([](PolicyFlags& f) { f.windows = std::vector<std::string>{}; }, false);
  EXPECT_EQ(cleared, Json::parse(R"({"schedule":null})"));
  EXPECT_FALSE(SchedulePartial(cleared));
  EXPECT_EQ(Reason(with(
                [](PolicyFlags& f) {
                  f.windows = std::vector<std::string>{};
                  f.schedule_tz = "UTC";
                },
                false)),
            "usage");
  EXPECT_EQ(Reason(with([](PolicyFlags& f) { f.activate_on = "soon"; }, false)), "invalid_value");
  EXPECT_EQ(Reason(with(
                [](PolicyFlags& f) {
                  f.schedule_tz = "UTC";
                  f.windows = std::vector<std::string>{"someday 08:00-09:00"};
                },
                true)),
            "invalid_window");
}

}  // namespace
}  // namespace pinhole::cli
