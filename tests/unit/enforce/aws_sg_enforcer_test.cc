// The aws-sg enforcer against an in-memory EC2 (fake_ec2.h) and a manual
// clock: placement and quotas, batching, idempotence, ownership, reconcile,
// throttling and back-off, auth hold-off and degradation.
#include "enforce/aws/aws_sg_enforcer.h"

#include <gtest/gtest.h>

#include "enforce/aws/rule_naming.h"
#include "enforce/fake_ec2.h"

namespace pinhole::aws {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kRegion[] = "us-east-1";
constexpr char kG1[] = "sg-00000001";
constexpr char kG2[] = "sg-00000002";
constexpr char kG3[] = "sg-00000003";

Service SshService(std::string name = "ssh", std::string target = "") {
  Service s;
  s.name = std::move(name);
  s.backend = "aws-sg";
  s.protocol = Protocol::kTcp;
  s.ports = PortRange{22, 22};
  s.target_json = target.empty() ? std::string(R"({"region":"us-east-1","security_groups":[")") +
                                       kG1 + "\",\"" + kG2 + "\"]}"
                                 : target;
  return s;
}

HoleKey Key(const std::string& cidr, const std::string& service = "ssh") {
  return HoleKey{service, *Cidr::Parse(cidr)};
}

IngressRule HandMade(const std::string& cidr, int port = 443) {
  IngressRule r;
  r.protocol = "tcp";
  r.from_port = port;
  r.to_port = port;
  r.cidr = cidr;
  r.description = "office";
  return r;
}

class AwsSgEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_->AddGroup(kRegion, kG1);
    fake_->AddGroup(kRegion, kG2);
    fake_->AddGroup(kRegion, kG3);
  }

  void Make(AwsSgOptions o = {}) {
    auto api = std::unique_ptr<Ec2Api>(owned_.release());
    auto e = NewAwsSgEnforcer(
        o, std::move(api), &clock_,
        [this](Millis d) {
          slept_ += d;
          clock_.Advance(d);
        },
        /*seed=*/42);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    enforcer_ = std::move(e).value();
    ASSERT_TRUE(enforcer_->SyncServices({SshService()}).ok());
  }

  Time In(Millis d) { return clock_.Now() + d; }

  std::vector<IngressRule> Ours(const char* group) {
    std::vector<IngressRule> out;
    for (auto& r : fake_->Rules(kRegion, group)) {
      if (r.tags.count(kTagOwner)) out.push_back(r);
    }
    return out;
  }

  ManualClock clock_;
  std::unique_ptr<FakeEc2> owned_ = std::make_unique<FakeEc2>();
  FakeEc2* fake_ = owned_.get();
  std::unique_ptr<Enforcer> enforcer_;
  Millis slept_{0};
};

TEST_F(AwsSgEnforcerTest, AddsOneTaggedRuleAndListsItBack) {
  Make();
  Time until = In(hours(1));
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), until, 42}}, {}}).ok());
  auto rules = fake_->Rules(kRegion, kG1);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].protocol, "tcp");
  EXPECT_EQ(rules[0].from_port, 22);
  EXPECT_EQ(rules[0].to_port, 22);
  EXPECT_EQ(rules[0].cidr, "198.51.100.7/32");
  EXPECT_EQ(rules[0].tags.at(kTagOwner), "pinhole");
  EXPECT_EQ(rules[0].tags.at(kTagLease), "42");
  EXPECT_EQ(rules[0].tags.at(kTagExpires), FormatTime(until));
  EXPECT_TRUE(IsValidDescription(rules[0].description)) << rules[0].description;
  EXPECT_EQ(ParseDescription(rules[0].description), (RuleLabel{"ssh", 42, until}));
  EXPECT_TRUE(fake_->Rules(kRegion, kG2).empty());

  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok()) << holes.status().ToString();
  ASSERT_EQ(holes->size(), 1u);
  EXPECT_EQ(holes->at(Key("198.51.100.7")), until);
}

TEST_F(AwsSgEnforcerTest, CoalescesManyHolesIntoOneCallPerGroup) {
  Make();
  ChangeSet cs;
  for (int i = 1; i <= 50; ++i) {
    cs.upsert.push_back(Hole{Key("203.0.113." + std::to_string(i)), In(minutes(i)), i});
  }
  ASSERT_TRUE(enforcer_->Apply(cs).ok());
  EXPECT_EQ(fake_->calls("Authorize"), 1);
  EXPECT_EQ(fake_->authorize_sizes(), std::vector<size_t>{50});
  auto rules = Ours(kG1);
  ASSERT_EQ(rules.size(), 50u);
  // Tags are shared by a call: "multiple" and the latest expiry, an upper
  // bound; the description carries each rule's own.
  EXPECT_EQ(rules[0].tags.at(kTagLease), "multiple");
  EXPECT_EQ(rules[0].tags.at(kTagExpires), FormatTime(In(minutes(50))));
  for (const auto& r : rules) {
    auto label = ParseDescription(r.description);
    ASSERT_TRUE(label);
    EXPECT_EQ(r.cidr, "203.0.113." + std::to_string(label->lease) + "/32");
    EXPECT_EQ(label->expires_at, In(minutes(label->lease)));
  }

  ChangeSet rm;
  for (int i = 1; i <= 50; ++i) rm.remove.push_back(Key("203.0.113." + std::to_string(i)));
  ASSERT_TRUE(enforcer_->Apply(rm).ok());
  EXPECT_EQ(fake_->calls("Revoke"), 1);
  EXPECT_TRUE(fake_->Rules(kRegion, kG1).empty());
}

TEST_F(AwsSgEnforcerTest, OneCallPerRuleWhenBatchingIsOff) {
  AwsSgOptions o;
  o.max_rules_per_call = 1;
  Make(o);
  ChangeSet cs;
  for (int i = 1; i <= 5; ++i)
    cs.upsert.push_back(Hole{Key("203.0.113." + std::to_string(i)), In(hours(1)), i});
  ASSERT_TRUE(enforcer_->Apply(cs).ok());
  EXPECT_EQ(fake_->calls("Authorize"), 5);
  EXPECT_EQ(Ours(kG1)[0].tags.at(kTagLease), "1");
}

TEST_F(AwsSgEnforcerTest, HandMadeRulesAreNeverTouched) {
  std::string office = fake_->AddHandMade(kRegion, kG1, HandMade("192.0.2.0/24"));
  // Same permission as a hole, made by hand: it is not ours either.
  std::string same = fake_->AddHandMade(kRegion, kG1, HandMade("198.51.100.9/32", 22));
  Make();
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.9"), In(hours(1)), 1}}, {}}).ok());
  ASSERT_TRUE(enforcer_->Apply({{}, {Key("198.51.100.9")}}).ok());
  clock_.Advance(hours(2));
  ASSERT_TRUE(enforcer_->ListHoles().ok());
  auto rules = fake_->Rules(kRegion, kG1);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].rule_id, office);
  EXPECT_EQ(rules[1].rule_id, same);
  EXPECT_EQ(rules[1].description, "office");
}

TEST_F(AwsSgEnforcerTest, DuplicateOnAddIsSuccessAndTheRuleIsAdopted) {
  Make();
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  // A new process (restart) that has not listed yet adds the same hole again.
  auto second = NewAwsSgEnforcer(
      {}, std::make_unique<ForwardingEc2>(fake_), &clock_, [this](Millis d) { clock_.Advance(d); },
      1);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->SyncServices({SshService()}).ok());
  ASSERT_TRUE((*second)
                  ->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1},
                            Hole{Key("198.51.100.8"), In(hours(1)), 2}},
                           {}})
                  .ok());
  EXPECT_EQ(Ours(kG1).size(), 2u);
  // It learnt the existing rule's id: removing revokes it.
  ASSERT_TRUE((*second)->Apply({{}, {Key("198.51.100.7"), Key("198.51.100.8")}}).ok());
  EXPECT_TRUE(fake_->Rules(kRegion, kG1).empty());
}

TEST_F(AwsSgEnforcerTest, RevokingARuleDeletedBehindOurBackSucceeds) {
  Make();
  ASSERT_TRUE(enforcer_
                  ->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1},
                            Hole{Key("198.51.100.8"), In(hours(1)), 2}},
                           {}})
                  .ok());
  fake_->Delete(kRegion, kG1, Ours(kG1)[0].rule_id);
  ASSERT_TRUE(enforcer_->Apply({{}, {Key("198.51.100.7"), Key("198.51.100.8")}}).ok());
  EXPECT_TRUE(fake_->Rules(kRegion, kG1).empty());
  // Removing what is not there at all is a no-op without calls.
  int before = fake_->total_calls();
  ASSERT_TRUE(enforcer_->Apply({{}, {Key("198.51.100.99")}}).ok());
  EXPECT_EQ(fake_->total_calls(), before);
}

TEST_F(AwsSgEnforcerTest, RefreshingAnExpiryModifiesInPlace) {
  Make();
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  std::string id = Ours(kG1)[0].rule_id;
  Time later = In(hours(3));
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), later, 5}}, {}}).ok());
  EXPECT_EQ(fake_->calls("Update"), 1);
  EXPECT_EQ(fake_->calls("Revoke"), 0);
  auto rules = Ours(kG1);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].rule_id, id);  // no gap: same rule
  EXPECT_EQ(ParseDescription(rules[0].description)->expires_at, later);
  EXPECT_EQ(rules[0].tags.at(kTagLease), "5");
  // Same again: nothing to do.
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), later, 5}}, {}}).ok());
  EXPECT_EQ(fake_->calls("Update"), 1);
}

TEST_F(AwsSgEnforcerTest, SpillsIntoTheNextGroupOfThePool) {
  for (int i = 0; i < 59; ++i) {
    fake_->AddHandMade(kRegion, kG1, HandMade("10.0." + std::to_string(i) + ".0/24"));
  }
  Make();
  ASSERT_TRUE(enforcer_->ListHoles().ok());  // learns the counts
  ASSERT_TRUE(enforcer_
                  ->Apply({{Hole{Key("198.51.100.1"), In(hours(1)), 1},
                            Hole{Key("198.51.100.2"), In(hours(1)), 2},
                            Hole{Key("198.51.100.3"), In(hours(1)), 3}},
                           {}})
                  .ok());
  EXPECT_EQ(Ours(kG1).size(), 1u);
  EXPECT_EQ(Ours(kG2).size(), 2u);
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(holes->size(), 3u);
}

TEST_F(AwsSgEnforcerTest, SpillsWhenEc2SaysTheGroupIsFull) {
  Make();
  ASSERT_TRUE(enforcer_->ListHoles().ok());  // counts: empty
  // Someone fills group 1 by hand after our last look.
  for (int i = 0; i < 60; ++i) {
    fake_->AddHandMade(kRegion, kG1, HandMade("10.0." + std::to_string(i) + ".0/24"));
  }
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.1"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(Ours(kG1).size(), 0u);
  EXPECT_EQ(Ours(kG2).size(), 1u);
}

TEST_F(AwsSgEnforcerTest, CapacityCheckRefusesWhenThePoolIsFullAndChangesNothing) {
  for (const char* g : {kG1, kG2}) {
    for (int i = 0; i < 60; ++i) {
      fake_->AddHandMade(kRegion, g, HandMade("10.0." + std::to_string(i) + ".0/24"));
    }
  }
  Make();
  ASSERT_TRUE(enforcer_->ListHoles().ok());
  int before = fake_->total_calls();
  Status st = enforcer_->CheckCapacity({Hole{Key("198.51.100.1"), In(hours(1)), 1}});
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.reason(), "capacity_exhausted");
  EXPECT_NE(st.message().find(kG1), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(kG2), std::string::npos) << st.message();
  EXPECT_EQ(fake_->total_calls(), before);  // decided locally, nothing applied
  // IPv6 is counted separately: still room.
  EXPECT_TRUE(enforcer_->CheckCapacity({Hole{Key("2001:db8::7"), In(hours(1)), 1}}).ok());
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("2001:db8::7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(Ours(kG1).size(), 1u);
  EXPECT_EQ(Ours(kG1)[0].cidr, "2001:db8::7/128");
  // An Apply that cannot place a hole says so.
  Status full = enforcer_->Apply({{Hole{Key("198.51.100.1"), In(hours(1)), 1}}, {}});
  EXPECT_EQ(full.reason(), "capacity_exhausted");
}

TEST_F(AwsSgEnforcerTest, CapacityCheckReservesRoomForAcceptedLeases) {
  for (int i = 0; i < 59; ++i) {
    fake_->AddHandMade(kRegion, kG1, HandMade("10.0." + std::to_string(i) + ".0/24"));
    fake_->AddHandMade(kRegion, kG2, HandMade("10.0." + std::to_string(i) + ".0/24"));
  }
  Make();
  ASSERT_TRUE(enforcer_->ListHoles().ok());
  EXPECT_TRUE(enforcer_->CheckCapacity({Hole{Key("198.51.100.1"), In(hours(1)), 1}}).ok());
  EXPECT_TRUE(enforcer_->CheckCapacity({Hole{Key("198.51.100.2"), In(hours(1)), 2}}).ok());
  // Two slots (one per group) are promised; a third lease is refused.
  EXPECT_EQ(enforcer_->CheckCapacity({Hole{Key("198.51.100.3"), In(hours(1)), 3}}).reason(),
            "capacity_exhausted");
  // Asking again for an accepted hole does not take a second slot.
  EXPECT_TRUE(enforcer_->CheckCapacity({Hole{Key("198.51.100.1"), In(hours(1)), 1}}).ok());
  ASSERT_TRUE(enforcer_
                  ->Apply({{Hole{Key("198.51.100.1"), In(hours(1)), 1},
                            Hole{Key("198.51.100.2"), In(hours(1)), 2}},
                           {}})
                  .ok());
  EXPECT_EQ(Ours(kG1).size(), 1u);
  EXPECT_EQ(Ours(kG2).size(), 1u);
}

TEST_F(AwsSgEnforcerTest, ReconcileRevokesExpiredAndOrphanedRulesOnly) {
  Make();
  ASSERT_TRUE(enforcer_
                  ->Apply({{Hole{Key("198.51.100.1"), In(minutes(5)), 1},
                            Hole{Key("198.51.100.2"), In(hours(5)), 2}},
                           {}})
                  .ok());
  // A rule of ours for a service this Pinhole no longer has.
  IngressRule orphan = HandMade("198.51.100.3/32", 22);
  orphan.description = FormatDescription({"gone", 3, In(hours(5))});
  orphan.tags = {{kTagOwner, "pinhole"}};
  fake_->AddHandMade(kRegion, kG2, orphan);
  // Another installation's rule (different owner) and a hand-made one.
  IngressRule other = orphan;
  other.tags = {{kTagOwner, "other-pinhole"}};
  other.cidr = "198.51.100.4/32";
  fake_->AddHandMade(kRegion, kG2, other);
  fake_->AddHandMade(kRegion, kG2, HandMade("192.0.2.0/24"));

  clock_.Advance(minutes(10));  // the first hole's lease ended while we were away
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok()) << holes.status().ToString();
  EXPECT_EQ(holes->size(), 1u);
  EXPECT_TRUE(holes->count(Key("198.51.100.2")));
  std::vector<std::string> left;
  for (const char* g : {kG1, kG2}) {
    for (auto& r : fake_->Rules(kRegion, g)) left.push_back(r.cidr);
  }
  EXPECT_EQ(left, (std::vector<std::string>{"198.51.100.2/32", "198.51.100.4/32", "192.0.2.0/24"}));
}

TEST_F(AwsSgEnforcerTest, ServicesInSeveralRegionsGetARulePerRegion) {
  fake_->AddGroup("eu-west-1", "sg-0000000e");
  Make();
  Service multi =
      SshService("ssh", R"({"regions":[{"region":"us-east-1","security_groups":["sg-00000003"]},)"
                        R"({"region":"eu-west-1","security_groups":["sg-0000000e"]}]})");
  ASSERT_TRUE(enforcer_->ValidateService(multi).ok());
  ASSERT_TRUE(enforcer_->SyncServices({multi}).ok());
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(Ours(kG3).size(), 1u);
  EXPECT_EQ(fake_->Rules("eu-west-1", "sg-0000000e").size(), 1u);
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(holes->size(), 1u);
  // One region losing its rule makes the hole missing (the controller re-adds it).
  fake_->Delete("eu-west-1", "sg-0000000e", fake_->Rules("eu-west-1", "sg-0000000e")[0].rule_id);
  holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_TRUE(holes->empty());
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(fake_->Rules("eu-west-1", "sg-0000000e").size(), 1u);
  EXPECT_EQ(Ours(kG3).size(), 1u);
}

TEST_F(AwsSgEnforcerTest, RetriesThrottlingWithBackoff) {
  Make();
  fake_->FailNext("Authorize",
                  Status(Code::kResourceExhausted, "RequestLimitExceeded",
                         "Request limit exceeded. (HTTP 503)"),
                  2);
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(fake_->calls("Authorize"), 3);
  EXPECT_EQ(Ours(kG1).size(), 1u);
  EXPECT_GT(slept_, Millis(0));
  auto health = enforcer_->Health();
  EXPECT_FALSE(health.degraded);
  bool found = false;
  for (auto& c : health.counters) {
    if (c.name == "pinhole_aws_throttled_total") {
      EXPECT_EQ(c.value, 2);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AwsSgEnforcerTest, GivesUpWithinTheBudgetAndLeavesTheRestForARetry) {
  AwsSgOptions o;
  o.apply_budget = seconds(2);
  o.max_attempts = 100;
  Make(o);
  fake_->FailNext("Authorize", Status(Code::kUnavailable, "aws_http_500", "HTTP 500"), 50);
  Status st = enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}});
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_LE(slept_, seconds(2));
  EXPECT_LT(fake_->calls("Authorize"), 50);
  // Drain the rest of the injected failures, then the retry converges.
  while (fake_->calls("Authorize") < 50) {
    (void)enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}});
  }
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(Ours(kG1).size(), 1u);
}

TEST_F(AwsSgEnforcerTest, TokenBucketPacesCalls) {
  AwsSgOptions o;
  o.bucket_size = 2;
  o.bucket_refill_per_second = 1;
  o.apply_budget = seconds(60);
  Make(o);
  Service wide =
      SshService("ssh", R"({"regions":[{"region":"us-east-1","security_groups":["sg-00000001"]},)"
                        R"({"region":"eu-west-1","security_groups":["sg-0000000a"]},)"
                        R"({"region":"eu-west-2","security_groups":["sg-0000000b"]},)"
                        R"({"region":"eu-west-3","security_groups":["sg-0000000c"]}]})");
  for (auto [r, g] : {std::pair{"eu-west-1", "sg-0000000a"}, std::pair{"eu-west-2", "sg-0000000b"},
                      std::pair{"eu-west-3", "sg-0000000c"}}) {
    fake_->AddGroup(r, g);
  }
  ASSERT_TRUE(enforcer_->SyncServices({wide}).ok());
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  EXPECT_EQ(fake_->calls("Authorize"), 4);
  // Two calls from the bucket, two more at 1 per second.
  EXPECT_GE(slept_, Millis(1900));
  EXPECT_LE(slept_, Millis(2100));
}

TEST_F(AwsSgEnforcerTest, AuthFailureIsNotRetriedAndDegrades) {
  AwsSgOptions o;
  o.degraded_after = seconds(30);
  Make(o);
  fake_->FailNext("*",
                  Status(Code::kPermissionDenied, "AuthFailure",
                         "AWS was not able to validate the provided access credentials"),
                  100);
  Status st = enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}});
  EXPECT_EQ(st.reason(), "AuthFailure");
  EXPECT_EQ(fake_->total_calls(), 1);
  // Within the hold-off, no call at all.
  st = enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}});
  EXPECT_EQ(st.reason(), "AuthFailure");
  EXPECT_EQ(fake_->total_calls(), 1);
  EXPECT_FALSE(enforcer_->Health().degraded);
  // Calls every 2 s for a minute (the controller's retry) reach EC2 rarely.
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(seconds(2));
    (void)enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}});
  }
  EXPECT_LE(fake_->total_calls(), 5);
  auto health = enforcer_->Health();
  EXPECT_TRUE(health.degraded);
  EXPECT_NE(health.reason.find("AuthFailure"), std::string::npos) << health.reason;
}

TEST_F(AwsSgEnforcerTest, MissingPermissionNamesTheAction) {
  Make();
  fake_->FailNext("Revoke", Status(Code::kPermissionDenied, "UnauthorizedOperation",
                                   "You are not authorized to perform this operation."));
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(hours(1)), 1}}, {}}).ok());
  Status st = enforcer_->Apply({{}, {Key("198.51.100.7")}});
  EXPECT_EQ(st.reason(), "UnauthorizedOperation");
  EXPECT_NE(st.message().find("ec2:RevokeSecurityGroupIngress"), std::string::npos) << st.message();
  // Other actions are not held off by one missing permission.
  EXPECT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.8"), In(hours(1)), 2}}, {}}).ok());
}

TEST_F(AwsSgEnforcerTest, RecoversFromDegradedAndRevokesExpiredRules) {
  AwsSgOptions o;
  o.degraded_after = seconds(10);
  o.apply_budget = seconds(1);
  Make(o);
  ASSERT_TRUE(enforcer_->Apply({{Hole{Key("198.51.100.7"), In(seconds(30)), 1}}, {}}).ok());
  fake_->FailNext("*", Status(Code::kUnavailable, "aws_transport", "connection refused"), 1000);
  for (int i = 0; i < 20; ++i) {
    clock_.Advance(seconds(2));
    (void)enforcer_->ListHoles();
  }
  EXPECT_TRUE(enforcer_->Health().degraded);
  EXPECT_EQ(Ours(kG1).size(), 1u);  // could not revoke while EC2 was away
  // EC2 is back: the next reconcile revokes the expired rule.
  while (fake_->total_calls() < 1000 + 2) (void)enforcer_->ListHoles();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok()) << holes.status().ToString();
  EXPECT_TRUE(holes->empty());
  EXPECT_TRUE(Ours(kG1).empty());
  EXPECT_FALSE(enforcer_->Health().degraded);
}

TEST_F(AwsSgEnforcerTest, DuringAnOutageEachCallIsASingleProbe) {
  AwsSgOptions o;
  o.apply_budget = seconds(3);
  Make(o);
  fake_->FailNext("*", Status(Code::kUnavailable, "aws_transport", "connection refused"), 1000);
  Hole hole{Key("198.51.100.7"), In(hours(1)), 1};
  EXPECT_EQ(enforcer_->Apply({{hole}, {}}).code(), Code::kUnavailable);
  EXPECT_GT(fake_->total_calls(), 1);  // retried with back-off at first
  int calls = fake_->total_calls();
  Millis slept = slept_;
  // Once calls are known to fail, an Apply probes once and returns: the
  // worker is free to act the moment EC2 is back.
  EXPECT_EQ(enforcer_->Apply({{hole}, {}}).code(), Code::kUnavailable);
  EXPECT_EQ(fake_->total_calls(), calls + 1);
  EXPECT_EQ(slept_, slept);
}

TEST_F(AwsSgEnforcerTest, UnknownGroupIsAClearError) {
  Make();
  ASSERT_TRUE(enforcer_
                  ->SyncServices({SshService(
                      "ssh", R"({"region":"us-east-1","security_groups":["sg-0000000f"]})")})
                  .ok());
  auto holes = enforcer_->ListHoles();
  ASSERT_FALSE(holes.ok());
  EXPECT_EQ(holes.status().reason(), "InvalidGroup.NotFound");
  EXPECT_NE(holes.status().message().find("sg-0000000f"), std::string::npos);
}

TEST_F(AwsSgEnforcerTest, ValidatesServices) {
  Make();
  EXPECT_TRUE(enforcer_->ValidateService(SshService()).ok());
  for (const char* bad :
       {R"({})", R"([])", R"({"region":"us-east-1"})",
        R"({"region":"us-east-1","security_groups":[]})",
        R"({"region":"nowhere","security_groups":["sg-00000001"]})",
        R"({"region":"us-east-1","security_groups":["sg-xyz"]})",
        R"({"region":"us-east-1","security_groups":["sg-00000001","sg-00000001"]})",
        R"({"region":"us-east-1","security_groups":["sg-00000001"],"x":1})",
        R"({"regions":[{"region":"us-east-1","security_groups":["sg-00000001"]},)"
        R"({"region":"us-east-1","security_groups":["sg-00000002"]}]})"}) {
    Status st = enforcer_->ValidateService(SshService("ssh", bad));
    EXPECT_EQ(st.reason(), "invalid_target") << bad;
  }
  Service icmp = SshService();
  icmp.protocol = Protocol::kIcmp;
  EXPECT_FALSE(enforcer_->ValidateService(icmp).ok());  // ports given
  icmp.ports.reset();
  EXPECT_TRUE(enforcer_->ValidateService(icmp).ok());
}

TEST(AwsSgOptionsTest, RejectsBadOptions) {
  AwsSgOptions o;
  o.owner = "has space";
  EXPECT_FALSE(NewAwsSgEnforcer(o, std::make_unique<FakeEc2>()).ok());
  o = {};
  o.rule_quota = 0;
  EXPECT_FALSE(NewAwsSgEnforcer(o, std::make_unique<FakeEc2>()).ok());
  o = {};
  o.bucket_refill_per_second = 0;
  EXPECT_FALSE(NewAwsSgEnforcer(o, std::make_unique<FakeEc2>()).ok());
  EXPECT_FALSE(NewAwsSgEnforcer({}, nullptr).ok());
  EXPECT_TRUE(NewAwsSgEnforcer({}, std::make_unique<FakeEc2>()).ok());
}

}  // namespace
}  // namespace pinhole::aws
