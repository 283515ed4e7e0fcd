#include "enforce/fake/fake_enforcer.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

Service Svc(std::string name, std::string backend = "fake") {
  Service s;
  s.id = 1;
  s.name = std::move(name);
  s.backend = std::move(backend);
  s.ports = PortRange{22, 22};
  return s;
}

HoleKey Key(std::string service, std::string_view cidr) {
  return HoleKey{std::move(service), *Cidr::Parse(cidr)};
}

class FakeEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fake_.SyncServices({Svc("ssh"), Svc("web")}).ok()); }
  ManualClock clock_;
  FakeEnforcer fake_{"fake", &clock_};
  Time later_ = clock_.Now() + Seconds(60);
};

TEST_F(FakeEnforcerTest, AppliesAndListsHoles) {
  ASSERT_TRUE(fake_.Apply({{{Key("ssh", "198.51.100.7"), later_}}, {}}).ok());
  ASSERT_TRUE(
      fake_.Apply({{{Key("web", "198.51.100.0/28"), later_}}, {Key("ssh", "198.51.100.7")}}).ok());
  auto holes = fake_.ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(*holes, (HoleMap{{Key("web", "198.51.100.0/28"), later_}}));
  EXPECT_EQ(fake_.applies().size(), 2u);
  EXPECT_EQ(fake_.list_calls(), 1);
  // Removing what is not there is fine.
  EXPECT_TRUE(fake_.Apply({{}, {Key("ssh", "192.0.2.1")}}).ok());
}

TEST_F(FakeEnforcerTest, UnknownServiceIsNotFoundAndChangesNothing) {
  Status st = fake_.Apply(
      {{{Key("ssh", "198.51.100.7"), later_}, {Key("db", "198.51.100.7"), later_}}, {}});
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_TRUE(fake_.holes().empty());
}

TEST_F(FakeEnforcerTest, FailsTheNthApply) {
  fake_.FailApply(2, Status::Unavailable("down"));
  EXPECT_TRUE(fake_.Apply({{{Key("ssh", "198.51.100.1"), later_}}, {}}).ok());
  Status st = fake_.Apply({{{Key("ssh", "198.51.100.2"), later_}}, {}});
  EXPECT_EQ(st.message(), "down");
  EXPECT_TRUE(fake_.Apply({{{Key("ssh", "198.51.100.3"), later_}}, {}}).ok());
  EXPECT_EQ(fake_.holes().size(), 2u);  // the failed one changed nothing
  EXPECT_EQ(fake_.applies().size(), 3u);
}

TEST_F(FakeEnforcerTest, StickyFailureLastsUntilCleared) {
  fake_.FailApply(1, Status::Unavailable("down"), /*sticky=*/true);
  EXPECT_FALSE(fake_.Apply({{{Key("ssh", "198.51.100.1"), later_}}, {}}).ok());
  EXPECT_FALSE(fake_.Apply({{{Key("ssh", "198.51.100.1"), later_}}, {}}).ok());
  fake_.ClearFailures();
  EXPECT_TRUE(fake_.Apply({{{Key("ssh", "198.51.100.1"), later_}}, {}}).ok());
  fake_.FailListHoles();
  EXPECT_FALSE(fake_.ListHoles().ok());
  fake_.ClearFailures();
  EXPECT_TRUE(fake_.ListHoles().ok());
}

TEST_F(FakeEnforcerTest, DriftAndInjection) {
  ASSERT_TRUE(
      fake_
          .Apply({{{Key("ssh", "198.51.100.1"), later_}, {Key("ssh", "198.51.100.2"), later_}}, {}})
          .ok());
  EXPECT_TRUE(fake_.Drift(Key("ssh", "198.51.100.1")));
  EXPECT_FALSE(fake_.Drift(Key("ssh", "198.51.100.1")));
  EXPECT_EQ(fake_.ListHoles()->size(), 1u);
  fake_.Inject({Key("web", "203.0.113.5"), later_});
  EXPECT_EQ(fake_.ListHoles()->size(), 2u);
  fake_.DriftAll();
  EXPECT_TRUE(fake_.ListHoles()->empty());
}

TEST_F(FakeEnforcerTest, HolesExpireWithTheClock) {
  ASSERT_TRUE(fake_
                  .Apply({{{Key("ssh", "198.51.100.1"), clock_.Now() + Seconds(5)},
                           {Key("ssh", "198.51.100.2"), later_}},
                          {}})
                  .ok());
  clock_.Advance(Seconds(5));
  EXPECT_EQ(*fake_.ListHoles(), (HoleMap{{Key("ssh", "198.51.100.2"), later_}}));
  // An upsert that is already expired opens nothing.
  ASSERT_TRUE(fake_.Apply({{{Key("ssh", "198.51.100.3"), clock_.Now()}}, {}}).ok());
  EXPECT_EQ(fake_.holes().size(), 1u);
}

TEST_F(FakeEnforcerTest, SyncDropsHolesOfRemovedServices) {
  ASSERT_TRUE(
      fake_
          .Apply({{{Key("ssh", "198.51.100.1"), later_}, {Key("web", "198.51.100.1"), later_}}, {}})
          .ok());
  ASSERT_TRUE(fake_.SyncServices({Svc("web"), Svc("other", "nftables")}).ok());
  EXPECT_EQ(fake_.holes(), (HoleMap{{Key("web", "198.51.100.1"), later_}}));
  EXPECT_EQ(fake_.services().size(), 1u);  // the nftables one is not ours
  EXPECT_EQ(fake_.syncs().size(), 2u);
}

TEST_F(FakeEnforcerTest, ValidatesServices) {
  Service s = Svc("ssh");
  EXPECT_TRUE(fake_.ValidateService(s).ok());
  s.target_json = R"({"x":1})";
  EXPECT_EQ(fake_.ValidateService(s).reason(), "invalid_target");
  s.target_json = "[]";
  EXPECT_FALSE(fake_.ValidateService(s).ok());
  s = Svc("ssh", "nftables");
  EXPECT_FALSE(fake_.ValidateService(s).ok());
  s = Svc("ssh");
  s.ports.reset();
  EXPECT_FALSE(fake_.ValidateService(s).ok());
  EXPECT_FALSE(fake_.SyncServices({s}).ok());

  FakeEnforcer aws("aws-sg");
  EXPECT_EQ(aws.backend(), "aws-sg");
  EXPECT_TRUE(aws.ValidateService(Svc("db", "aws-sg")).ok());
}

}  // namespace
}  // namespace pinhole
