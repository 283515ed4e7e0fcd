#include "core/policy.h"

#include <gtest/gtest.h>

#include "core/schedule.h"

namespace pinhole {
namespace {

using std::chrono::hours;

Cidr C(std::string_view s) { return *Cidr::Parse(s); }
IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s); }

class PolicyTest : public ::testing::Test {
 protected:
  PolicyTest() {
    for (const char* name : {"ssh", "rdp", "db", "web"}) {
      Service s;
      s.name = name;
      catalog_.services.push_back(s);
    }
    AccessGroup bundle;
    bundle.name = "ops-bundle";
    bundle.services = {"ssh", "db"};
    catalog_.access_groups.push_back(bundle);

    Policy devs;
    devs.name = "devs";
    devs.groups = {"developers"};
    devs.services = {"ssh"};
    devs.default_duration = hours(1);
    devs.max_duration = hours(8);
    catalog_.policies.push_back(devs);

    Policy alice;
    alice.name = "alice-db";
    alice.users = {"Alice@Example.com"};
    alice.access_groups = {"ops-bundle"};
    alice.default_duration = hours(2);
    alice.max_duration = hours(4);
    alice.recipients = {RecipientKind::kSelf, RecipientKind::kCidr, RecipientKind::kInvite};
    alice.min_prefix_v4 = 24;
    alice.min_prefix_v6 = 56;
    catalog_.policies.push_back(alice);

    alice_.email = "alice@example.com";
    bob_.email = "bob@example.com";
    bob_.groups = {"developers"};
    carol_.email = "carol@example.com";
    carol_.groups = {"finance"};
  }

  LeaseRequest Self(std::vector<std::string> services) {
    LeaseRequest r;
    r.services = std::move(services);
    r.client_ip = Ip("203.0.113.7");
    return r;
  }

  static void ExpectError(const Result<Grant>& g, Code code, std::string_view reason) {
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.status().code(), code) << g.status().ToString();
    EXPECT_EQ(g.status().reason(), reason) << g.status().ToString();
  }

  Catalog catalog_;
  User alice_, bob_, carol_;
};

TEST_F(PolicyTest, CatalogLookups) {
  ASSERT_NE(catalog_.FindService("db"), nullptr);
  EXPECT_EQ(catalog_.FindService("db")->name, "db");
  EXPECT_EQ(catalog_.FindService("nope"), nullptr);
  ASSERT_NE(catalog_.FindAccessGroup("ops-bundle"), nullptr);
  EXPECT_EQ(catalog_.FindAccessGroup("ssh"), nullptr);
}

TEST_F(PolicyTest, SubjectsByEmailAndGroup) {
  EXPECT_TRUE(IsSubject(catalog_.policies[1], alice_));  // email, case-insensitive
  EXPECT_FALSE(IsSubject(catalog_.policies[1], bob_));
  EXPECT_TRUE(IsSubject(catalog_.policies[0], bob_));  // through "developers"
  EXPECT_FALSE(IsSubject(catalog_.policies[0], carol_));
  EXPECT_FALSE(IsSubject(catalog_.policies[0], alice_));
}

TEST_F(PolicyTest, GrantedServicesIncludeAccessGroups) {
  EXPECT_EQ(GrantedServices(catalog_.policies[1], catalog_),
            (std::vector<std::string>{"db", "ssh"}));
  Policy p;
  p.services = {"web", "ssh"};
  p.access_groups = {"ops-bundle", "deleted-bundle"};
  EXPECT_EQ(GrantedServices(p, catalog_), (std::vector<std::string>{"db", "ssh", "web"}));
}

TEST_F(PolicyTest, SelfGrantUsesClientAddressAndDefaultDuration) {
  auto g = Decide(bob_, Self({"ssh"}), catalog_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->services, (std::vector<std::string>{"ssh"}));
  EXPECT_EQ(g->duration, hours(1));
  EXPECT_EQ(g->source, C("203.0.113.7/32"));
  EXPECT_EQ(g->policy, "devs");

  LeaseRequest v6 = Self({"ssh"});
  v6.client_ip = Ip("2001:db8::42");
  g = Decide(bob_, v6, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->source, C("2001:db8::42/128"));
}

TEST_F(PolicyTest, DefaultDurationIsCappedAtMax) {
  catalog_.policies[0].default_duration = hours(20);
  auto g = Decide(bob_, Self({"ssh"}), catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->duration, hours(8));
}

TEST_F(PolicyTest, ExplicitDurationWithinMax) {
  LeaseRequest r = Self({"ssh"});
  r.duration = hours(8);
  auto g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->duration, hours(8));
}

TEST_F(PolicyTest, DurationAboveMaxIsRefused) {
  LeaseRequest r = Self({"ssh"});
  r.duration = hours(8) + Seconds(1);
  auto g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kInvalidArgument, "duration_exceeds_max");
  EXPECT_NE(g.status().message().find("8h"), std::string::npos) << g.status().message();
}

TEST_F(PolicyTest, NonPositiveDurationIsRefused) {
  LeaseRequest r = Self({"ssh"});
  r.duration = Seconds(0);
  ExpectError(Decide(bob_, r, catalog_), Code::kInvalidArgument, "invalid_duration");
  r.duration = Seconds(-5);
  ExpectError(Decide(bob_, r, catalog_), Code::kInvalidArgument, "invalid_duration");
}

TEST_F(PolicyTest, UnknownServiceOrAccessGroup) {
  auto g = Decide(bob_, Self({"ssh", "telnet"}), catalog_);
  ExpectError(g, Code::kInvalidArgument, "unknown_service");
  EXPECT_NE(g.status().message().find("telnet"), std::string::npos);

  LeaseRequest r = Self({});
  r.access_group = "nope";
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "unknown_service");
}

TEST_F(PolicyTest, EmptyRequestIsRefused) {
  ExpectError(Decide(bob_, Self({}), catalog_), Code::kInvalidArgument, "invalid_request");
}

TEST_F(PolicyTest, NotASubject) {
  auto g = Decide(carol_, Self({"ssh"}), catalog_);
  ExpectError(g, Code::kPermissionDenied, "not_permitted");
  EXPECT_NE(g.status().message().find("ssh"), std::string::npos);
}

TEST_F(PolicyTest, ServiceNotCovered) {
  auto g = Decide(bob_, Self({"ssh", "rdp"}), catalog_);
  ExpectError(g, Code::kPermissionDenied, "not_permitted");
  EXPECT_NE(g.status().message().find("rdp"), std::string::npos) << g.status().message();
}

TEST_F(PolicyTest, ServicesMustBeCoveredByOnePolicy) {
  Policy web;
  web.name = "bob-web";
  web.users = {"bob@example.com"};
  web.services = {"web"};
  catalog_.policies.push_back(web);
  EXPECT_TRUE(Decide(bob_, Self({"web"}), catalog_).ok());
  EXPECT_TRUE(Decide(bob_, Self({"ssh"}), catalog_).ok());
  ExpectError(Decide(bob_, Self({"ssh", "web"}), catalog_), Code::kPermissionDenied,
              "not_permitted");
}

TEST_F(PolicyTest, DisabledUserIsRefused) {
  bob_.disabled = true;
  ExpectError(Decide(bob_, Self({"ssh"}), catalog_), Code::kPermissionDenied, "not_permitted");
}

TEST_F(PolicyTest, AccessGroupRequest) {
  LeaseRequest r = Self({});
  r.access_group = "ops-bundle";
  auto g = Decide(alice_, r, catalog_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->services, (std::vector<std::string>{"db", "ssh"}));
  EXPECT_EQ(g->policy, "alice-db");
  EXPECT_EQ(g->duration, hours(2));
  // Bob's policy covers only ssh, not the whole bundle.
  ExpectError(Decide(bob_, r, catalog_), Code::kPermissionDenied, "not_permitted");
}

TEST_F(PolicyTest, DuplicateServicesCollapse) {
  auto g = Decide(alice_, Self({"ssh", "db", "ssh", "db"}), catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->services, (std::vector<std::string>{"db", "ssh"}));
}

TEST_F(PolicyTest, RecipientKindMustBeAllowed) {
  LeaseRequest r = Self({"ssh"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("198.51.100.0/28");
  auto g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kPermissionDenied, "not_permitted");
  EXPECT_NE(g.status().message().find("cidr"), std::string::npos) << g.status().message();

  r.recipient = RecipientKind::kInvite;
  r.cidr.reset();
  ExpectError(Decide(bob_, r, catalog_), Code::kPermissionDenied, "not_permitted");
  EXPECT_TRUE(Decide(alice_, r, catalog_).ok());
}

TEST_F(PolicyTest, CidrRecipient) {
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("198.51.100.0/24");
  auto g = Decide(alice_, r, catalog_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->source, C("198.51.100.0/24"));
  r.cidr = C("198.51.100.16/28");
  EXPECT_TRUE(Decide(alice_, r, catalog_).ok());
}

TEST_F(PolicyTest, CidrRecipientNeedsCidr) {
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "invalid_cidr");
}

TEST_F(PolicyTest, CidrMinPrefixV4AndV6) {
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("198.51.0.0/23");
  auto g = Decide(alice_, r, catalog_);
  ExpectError(g, Code::kInvalidArgument, "cidr_too_wide");
  EXPECT_NE(g.status().message().find("/24"), std::string::npos) << g.status().message();

  r.cidr = C("2001:db8:0:100::/56");
  EXPECT_TRUE(Decide(alice_, r, catalog_).ok());
  r.cidr = C("2001:db8::/55");
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "cidr_too_wide");
  // The v4 limit applies to v4 sources.
  r.cidr = C("10.0.0.0/8");
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "cidr_too_wide");
}

TEST_F(PolicyTest, SlashZeroIsAlwaysTooWide) {
  catalog_.policies[1].min_prefix_v4 = 0;
  catalog_.policies[1].min_prefix_v6 = 0;
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("0.0.0.0/0");
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "cidr_too_wide");
  r.cidr = C("::/0");
  ExpectError(Decide(alice_, r, catalog_), Code::kInvalidArgument, "cidr_too_wide");
  r.cidr = C("0.0.0.0/1");
  EXPECT_TRUE(Decide(alice_, r, catalog_).ok());
}

TEST_F(PolicyTest, PicksPolicyWithLargestMax) {
  Policy big;
  big.name = "zz-long";
  big.groups = {"developers"};
  big.services = {"ssh"};
  big.default_duration = hours(3);
  big.max_duration = hours(24);
  catalog_.policies.push_back(big);
  auto g = Decide(bob_, Self({"ssh"}), catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "zz-long");
  EXPECT_EQ(g->duration, hours(3));  // the chosen policy's default

  // Ties go to the first name.
  catalog_.policies.back().max_duration = hours(8);
  catalog_.policies.back().name = "aa-same";
  g = Decide(bob_, Self({"ssh"}), catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "aa-same");
}

TEST_F(PolicyTest, FallsBackToAPolicyThatAllowsTheRequest) {
  // The most generous policy does not allow CIDRs; a narrower one does.
  Policy wide;
  wide.name = "wide";
  wide.users = {"alice@example.com"};
  wide.services = {"db"};
  wide.max_duration = hours(48);
  catalog_.policies.push_back(wide);
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("198.51.100.0/24");
  auto g = Decide(alice_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "alice-db");

  // For a long self lease only "wide" allows the duration.
  LeaseRequest s = Self({"db"});
  s.duration = hours(20);
  g = Decide(alice_, s, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "wide");
}

TEST_F(PolicyTest, RenewalChecks) {
  Lease lease;
  lease.owner = "bob@example.com";
  lease.services = {"ssh"};
  lease.policy = "devs";
  EXPECT_TRUE(CheckRenewal(bob_, lease, hours(8), catalog_).ok());

  Status st = CheckRenewal(bob_, lease, hours(9), catalog_);
  EXPECT_EQ(st.reason(), "duration_exceeds_max");
  EXPECT_EQ(CheckRenewal(bob_, lease, Seconds(0), catalog_).reason(), "invalid_duration");

  // User left the group.
  User moved = bob_;
  moved.groups.clear();
  st = CheckRenewal(moved, lease, hours(1), catalog_);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.reason(), "not_permitted");

  // Policy no longer covers the service.
  Lease other = lease;
  other.services = {"ssh", "rdp"};
  EXPECT_EQ(CheckRenewal(bob_, other, hours(1), catalog_).reason(), "not_permitted");

  // Policy deleted.
  other = lease;
  other.policy = "gone";
  EXPECT_EQ(CheckRenewal(bob_, other, hours(1), catalog_).reason(), "not_permitted");

  User disabled = bob_;
  disabled.disabled = true;
  EXPECT_EQ(CheckRenewal(disabled, lease, hours(1), catalog_).reason(), "not_permitted");
}

// "kind:name<-policy" for each offer, so a whole list compares at once.
std::vector<std::string> Describe(const std::vector<Offer>& offers) {
  std::vector<std::string> out;
  for (const auto& o : offers) {
    std::string s = o.kind == Offer::Kind::kService ? "service:" : "group:";
    s += o.name + "<-" + (o.policy ? o.policy->name : "none");
    out.push_back(s);
  }
  return out;
}

TEST_F(PolicyTest, OffersListWhatEachUserMayRequest) {
  using V = std::vector<std::string>;
  // alice: ssh and db through the bundle, and the bundle itself.
  EXPECT_EQ(Describe(Offers(alice_, catalog_)),
            (V{"service:db<-alice-db", "service:ssh<-alice-db", "group:ops-bundle<-alice-db"}));
  // bob: ssh only; the bundle needs db too, so it is not offered.
  EXPECT_EQ(Describe(Offers(bob_, catalog_)), (V{"service:ssh<-devs"}));
  EXPECT_EQ(Describe(Offers(carol_, catalog_)), V{});

  // A public access group is listed to everyone, with no policy when none covers it.
  catalog_.access_groups.push_back(AccessGroup{0, "lobby", {"web"}, true});
  EXPECT_EQ(Describe(Offers(carol_, catalog_)), (V{"group:lobby<-none"}));

  // A second policy for bob with a longer maximum wins ssh (as Decide would).
  Policy longer;
  longer.name = "bob-long";
  longer.users = {"bob@example.com"};
  longer.services = {"ssh", "gone"};  // "gone" was deleted: not offered
  longer.max_duration = hours(20);
  catalog_.policies.push_back(longer);
  auto offers = Offers(bob_, catalog_);
  EXPECT_EQ(Describe(offers), (V{"service:ssh<-bob-long", "group:lobby<-none"}));
  EXPECT_EQ(offers[1].services, (V{"web"}));
  auto grant = Decide(bob_, Self({"ssh"}), catalog_);
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(grant->policy, offers[0].policy->name);

  // A disabled user is offered nothing they could get.
  bob_.disabled = true;
  EXPECT_EQ(Describe(Offers(bob_, catalog_)), (V{"group:lobby<-none"}));
}

// --- schedules and approval ---

Time At(std::string_view rfc3339) { return ParseTime(rfc3339).value(); }

Schedule BerlinOfficeHours() {
  ScheduleWindow w;
  w.days = *ParseDays("weekdays");
  w.from_minute = 8 * 60;
  w.to_minute = 18 * 60;
  return Schedule{"Europe/Berlin", {w}};
}

constexpr std::string_view kMondayMorning = "2026-11-23T09:00:00Z";  // 10:00 CET
constexpr std::string_view kFridayEvening = "2026-11-20T19:00:00Z";  // 20:00 CET

TEST_F(PolicyTest, OutsideTheScheduleIsRefusedWithTheNextOpening) {
  catalog_.policies[0].schedule = BerlinOfficeHours();
  LeaseRequest r = Self({"ssh"});
  r.now = At(kFridayEvening);
  auto g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kPermissionDenied, "outside_schedule");
  EXPECT_EQ(g.status().message(),
            "outside the access schedule of policy \"devs\" (Europe/Berlin); it next opens Mon "
            "2026-11-23 08:00 CET (07:00 UTC)");

  // Inside the window the lease is granted and ends with the window.
  r.now = At(kMondayMorning);
  r.duration = hours(8);
  g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->duration, hours(8));  // the caller caps expires_at, not the duration
  ASSERT_TRUE(g->window_end.has_value());
  EXPECT_EQ(*g->window_end, At("2026-11-23T17:00:00Z"));

  // Unless the policy lets leases outlive their window.
  catalog_.policies[0].may_outlive_window = true;
  g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->window_end.has_value());

  // No schedule: no window end, whatever the time.
  catalog_.policies[0].schedule.reset();
  catalog_.policies[0].may_outlive_window = false;
  r.now = At(kFridayEvening);
  g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->window_end.has_value());
}

TEST_F(PolicyTest, AnOpenPolicyIsPreferredOverAMoreGenerousClosedOne) {
  catalog_.policies[0].schedule = BerlinOfficeHours();  // devs: 8h max, office hours
  Policy oncall;
  oncall.name = "oncall";
  oncall.users = {"bob@example.com"};
  oncall.services = {"ssh"};
  oncall.max_duration = hours(2);
  catalog_.policies.push_back(oncall);

  LeaseRequest r = Self({"ssh"});
  r.now = At(kMondayMorning);
  auto g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "devs");

  r.now = At(kFridayEvening);
  g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "oncall");
  EXPECT_FALSE(g->window_end.has_value());

  // What is open now sets the limit: the closed policy's longer max does not count.
  r.duration = hours(4);
  g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kInvalidArgument, "duration_exceeds_max");
  EXPECT_NE(g.status().message().find("is 2h"), std::string::npos) << g.status().message();
}

TEST_F(PolicyTest, TheEarliestNextOpeningIsNamed) {
  catalog_.policies[0].schedule = BerlinOfficeHours();
  Policy weekend;
  weekend.name = "weekend";
  weekend.groups = {"developers"};
  weekend.services = {"ssh"};
  ScheduleWindow w;
  w.days = *ParseDays("sat");
  w.from_minute = 10 * 60;
  w.to_minute = 12 * 60;
  weekend.schedule = Schedule{"America/New_York", {w}};
  catalog_.policies.push_back(weekend);

  LeaseRequest r = Self({"ssh"});
  r.now = At(kFridayEvening);
  auto g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kPermissionDenied, "outside_schedule");
  EXPECT_EQ(g.status().message(),
            "outside the access schedule of policy \"weekend\" (America/New_York); it next opens "
            "Sat 2026-11-21 10:00 EST (15:00 UTC)");
}

TEST_F(PolicyTest, TheRecipientKindIsCheckedBeforeTheSchedule) {
  // Only a closed policy allows CIDRs: the answer is about the schedule, not
  // about the recipient kind an open policy would refuse.
  catalog_.policies[1].schedule = BerlinOfficeHours();  // alice-db
  Policy self_only;
  self_only.name = "self-only";
  self_only.users = {"alice@example.com"};
  self_only.services = {"db"};
  catalog_.policies.push_back(self_only);
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kCidr;
  r.cidr = C("198.51.100.0/24");
  r.now = At(kFridayEvening);
  ExpectError(Decide(alice_, r, catalog_), Code::kPermissionDenied, "outside_schedule");
}

TEST_F(PolicyTest, InvitationsAreJudgedWhenUsedNotWhenSent) {
  catalog_.policies[1].schedule = BerlinOfficeHours();
  LeaseRequest r = Self({"db"});
  r.recipient = RecipientKind::kInvite;
  r.now = At(kFridayEvening);
  auto g = Decide(alice_, r, catalog_);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_FALSE(g->window_end.has_value());
  // Activation checks the schedule then.
  EXPECT_EQ(CheckSchedule(catalog_.policies[1], At(kFridayEvening)).reason(), "outside_schedule");
  EXPECT_TRUE(CheckSchedule(catalog_.policies[1], At(kMondayMorning)).ok());
}

TEST_F(PolicyTest, AutomaticApprovalIsPreferredOverAdminApproval) {
  Policy reviewed;
  reviewed.name = "reviewed";
  reviewed.groups = {"developers"};
  reviewed.services = {"ssh"};
  reviewed.max_duration = hours(24);
  reviewed.approval = ApprovalMode::kAdmin;
  reviewed.activate_on = ActivateOn::kNextLogin;
  reviewed.notify_admins = true;
  catalog_.policies.push_back(reviewed);

  // devs (auto, 8h) wins although "reviewed" allows longer.
  LeaseRequest r = Self({"ssh"});
  auto g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "devs");
  EXPECT_EQ(g->approval, ApprovalMode::kAuto);
  EXPECT_EQ(g->activate_on, ActivateOn::kRequestAddress);
  EXPECT_FALSE(g->notify_admins);
  // Offers name the same policy.
  auto offers = Offers(bob_, catalog_);
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].policy->name, "devs");

  // Beyond what devs allows, an admin must approve.
  r.duration = hours(12);
  g = Decide(bob_, r, catalog_);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->policy, "reviewed");
  EXPECT_EQ(g->approval, ApprovalMode::kAdmin);
  EXPECT_EQ(g->activate_on, ActivateOn::kNextLogin);
  EXPECT_TRUE(g->notify_admins);
}

TEST_F(PolicyTest, CheckScheduleAndCapToWindow) {
  Policy p = catalog_.policies[0];
  EXPECT_TRUE(CheckSchedule(p, At(kFridayEvening)).ok());  // no schedule: always
  Time far = At("2026-11-30T00:00:00Z");
  EXPECT_EQ(CapToWindow(p, At(kFridayEvening), far), far);

  p.schedule = BerlinOfficeHours();
  Status st = CheckSchedule(p, At(kFridayEvening));
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.reason(), "outside_schedule");
  EXPECT_NE(st.message().find("Mon 2026-11-23 08:00 CET"), std::string::npos) << st.message();

  Time monday = At(kMondayMorning);
  EXPECT_EQ(CapToWindow(p, monday, far), At("2026-11-23T17:00:00Z"));
  EXPECT_EQ(CapToWindow(p, monday, monday + hours(1)), monday + hours(1));
  // Closed: nothing may be granted past now.
  EXPECT_EQ(CapToWindow(p, At(kFridayEvening), far), At(kFridayEvening));
  p.may_outlive_window = true;
  EXPECT_EQ(CapToWindow(p, monday, far), far);
}

TEST_F(PolicyTest, AnUnknownStoredTimeZoneFailsClosed) {
  catalog_.policies[0].schedule = Schedule{"Atlantis/Capital", BerlinOfficeHours().windows};
  LeaseRequest r = Self({"ssh"});
  r.now = At(kMondayMorning);
  auto g = Decide(bob_, r, catalog_);
  ExpectError(g, Code::kPermissionDenied, "outside_schedule");
  EXPECT_NE(g.status().message().find("\"Atlantis/Capital\""), std::string::npos);
}

TEST_F(PolicyTest, RenewalFollowsTheSchedule) {
  Lease lease;
  lease.owner = "bob@example.com";
  lease.services = {"ssh"};
  lease.policy = "devs";
  Time monday = At(kMondayMorning);
  // No schedule: now + duration.
  auto e = RenewalExpiry(bob_, lease, hours(2), catalog_, monday);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, monday + hours(2));
  // The ordinary checks come first.
  EXPECT_EQ(RenewalExpiry(bob_, lease, hours(9), catalog_, monday).status().reason(),
            "duration_exceeds_max");

  catalog_.policies[0].schedule = BerlinOfficeHours();
  e = RenewalExpiry(bob_, lease, hours(8), catalog_, monday);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, At("2026-11-23T17:00:00Z"));
  e = RenewalExpiry(bob_, lease, hours(8), catalog_, At(kFridayEvening));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().reason(), "outside_schedule");
}

TEST(PolicyNamesTest, ApprovalAndActivationNames) {
  EXPECT_EQ(ToString(ApprovalMode::kAuto), "auto");
  EXPECT_EQ(ToString(ApprovalMode::kAdmin), "admin");
  EXPECT_EQ(ToString(ActivateOn::kRequestAddress), "request_address");
  EXPECT_EQ(ToString(ActivateOn::kNextLogin), "next_login");
  EXPECT_EQ(ParseApprovalMode("admin"), ApprovalMode::kAdmin);
  EXPECT_EQ(ParseApprovalMode("auto"), ApprovalMode::kAuto);
  EXPECT_FALSE(ParseApprovalMode("Admin"));
  EXPECT_FALSE(ParseApprovalMode(""));
  EXPECT_EQ(ParseActivateOn("next_login"), ActivateOn::kNextLogin);
  EXPECT_EQ(ParseActivateOn("request_address"), ActivateOn::kRequestAddress);
  EXPECT_FALSE(ParseActivateOn("login"));
}

}  // namespace
}  // namespace pinhole
