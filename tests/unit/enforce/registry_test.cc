#include "enforce/registry.h"

#include <gtest/gtest.h>

#include "enforce/fake/fake_enforcer.h"

namespace pinhole {
namespace {

TEST(EnforcerRegistryTest, DefaultHasNftablesTunnelAndAwsSg) {
  EnforcerRegistry r = DefaultEnforcerRegistry();
  EXPECT_EQ(r.Names(), (std::vector<std::string>{"aws-sg", "nftables", "tunnel"}));
  // Created without credentials or network: those are needed at the first call only.
  auto a = r.Create("aws-sg", EnforcerOptions{});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->backend(), "aws-sg");
  EXPECT_TRUE((*a)->remote());
  EnforcerOptions bad;
  bad.aws.rule_quota = 0;
  EXPECT_EQ(r.Create("aws-sg", bad).status().reason(), "invalid_config");
  auto t = r.Create("tunnel", EnforcerOptions{});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->backend(), "tunnel");
  auto e = r.Create("nftables", EnforcerOptions{});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->backend(), "nftables");
}

TEST(EnforcerRegistryTest, FactoryErrorsComeThrough) {
  EnforcerOptions o;
  o.nftables_table = "bad name";
  auto e = DefaultEnforcerRegistry().Create("nftables", o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().reason(), "invalid_config");
}

TEST(EnforcerRegistryTest, UnknownBackendIsNotFound) {
  auto e = DefaultEnforcerRegistry().Create("aws-sg-typo", EnforcerOptions{});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kNotFound);
}

TEST(EnforcerRegistryTest, RegisteringANameTwiceIsAConflict) {
  EnforcerRegistry r;
  auto fake = [](const EnforcerOptions&) -> Result<std::unique_ptr<Enforcer>> {
    return std::unique_ptr<Enforcer>(std::make_unique<FakeEnforcer>("fake"));
  };
  ASSERT_TRUE(r.Register("fake", fake).ok());
  Status st = r.Register("fake", fake);
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.reason(), "duplicate_backend");
  EXPECT_FALSE(r.Register("", fake).ok());
  EXPECT_FALSE(r.Register("empty", nullptr).ok());
  EXPECT_EQ(r.Names(), std::vector<std::string>{"fake"});
  auto e = r.Create("fake", EnforcerOptions{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->backend(), "fake");
}

}  // namespace
}  // namespace pinhole
