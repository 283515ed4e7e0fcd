#include "enforce/tunnel/tunnel_enforcer.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

Service TunnelService(std::string target, std::optional<PortRange> ports = PortRange{22, 22}) {
  Service s;
  s.name = "bastion";
  s.backend = "tunnel";
  s.protocol = Protocol::kTcp;
  s.ports = ports;
  s.target_json = std::move(target);
  return s;
}

Time At(int64_t s) { return Time(std::chrono::seconds(s)); }

TEST(TunnelEnforcerTest, ParsesTargets) {
  auto t = ParseTunnelTarget(TunnelService(R"({"address":"10.0.0.5","port":22})"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->address, "10.0.0.5");
  EXPECT_EQ(t->port, 22);
  EXPECT_EQ(t->ToString(), "10.0.0.5:22");
  EXPECT_EQ(ParseTunnelTarget(TunnelService(R"({"address":"2001:db8::5","port":22})"))->ToString(),
            "[2001:db8::5]:22");
  EXPECT_EQ(ParseTunnelTarget(TunnelService(R"({"address":"2001:db8::5","port":443})"))->port, 443);
  EXPECT_EQ(ParseTunnelTarget(TunnelService(R"({"address":"db-1.internal","port":5432})"))->address,
            "db-1.internal");
}

TEST(TunnelEnforcerTest, RefusesBadTargetsClearly) {
  for (const char* bad :
       {R"([])", R"("10.0.0.5:22")", R"({})", R"({"address":"10.0.0.5"})", R"({"port":22})",
        R"({"address":"10.0.0.5","port":0})", R"({"address":"10.0.0.5","port":65536})",
        R"({"address":"10.0.0.5","port":"22"})", R"({"address":"","port":22})",
        R"({"address":"bad host","port":22})", R"({"address":"-x.example","port":22})",
        R"({"address":"a..b","port":22})", R"({"address":"10.0.0.5","port":22,"extra":1})",
        "not json"}) {
    auto t = ParseTunnelTarget(TunnelService(bad));
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.status().reason(), "invalid_target") << bad;
    EXPECT_NE(t.status().message().find("bastion"), std::string::npos) << bad;
  }
}

TEST(TunnelEnforcerTest, ValidatesProtocolAndPorts) {
  auto e = NewTunnelEnforcer();
  EXPECT_TRUE(e->ValidateService(TunnelService(R"({"address":"10.0.0.5","port":22})")).ok());
  // Ports, when given, must be the target's port.
  auto wrong = TunnelService(R"({"address":"10.0.0.5","port":22})", PortRange{2222, 2222});
  EXPECT_EQ(e->ValidateService(wrong).reason(), "invalid_target");
  auto udp = TunnelService(R"({"address":"10.0.0.5","port":22})");
  udp.protocol = Protocol::kUdp;
  EXPECT_EQ(e->ValidateService(udp).reason(), "invalid_target");
  auto kept = TunnelService(R"({"address":"10.0.0.5","port":22})");
  kept.keep_established = true;
  EXPECT_EQ(e->ValidateService(kept).reason(), "invalid_target");
  auto other = TunnelService(R"({"address":"10.0.0.5","port":22})");
  other.backend = "nftables";
  EXPECT_EQ(e->ValidateService(other).reason(), "invalid_target");
}

TEST(TunnelEnforcerTest, RemembersHolesWithoutAnyFirewall) {
  auto e = NewTunnelEnforcer();
  Service s = TunnelService(R"({"address":"10.0.0.5","port":22})");
  ASSERT_TRUE(e->SyncServices({s}).ok());
  HoleKey k{"bastion", *Cidr::Parse("198.51.100.2/32")};
  ASSERT_TRUE(e->Apply(ChangeSet{{Hole{k, At(100)}}, {}}).ok());
  ASSERT_TRUE(e->Apply(ChangeSet{{Hole{k, At(200)}}, {}}).ok());  // idempotent, new expiry
  EXPECT_EQ(e->ListHoles()->at(k), At(200));
  HoleKey unknown{"nope", k.source};
  EXPECT_EQ(e->Apply(ChangeSet{{Hole{unknown, At(1)}}, {}}).code(), Code::kNotFound);
  EXPECT_EQ(e->ListHoles()->size(), 1u);  // the failed apply changed nothing
  ASSERT_TRUE(e->Apply(ChangeSet{{}, {k}}).ok());
  ASSERT_TRUE(e->Apply(ChangeSet{{}, {k}}).ok());  // removing a missing hole is fine
  EXPECT_TRUE(e->ListHoles()->empty());
  // A service that goes away takes its holes with it.
  ASSERT_TRUE(e->Apply(ChangeSet{{Hole{k, At(100)}}, {}}).ok());
  ASSERT_TRUE(e->SyncServices({}).ok());
  EXPECT_TRUE(e->ListHoles()->empty());
}

}  // namespace
}  // namespace pinhole
