#include "core/model.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

TEST(ModelTest, EnumsRoundTrip) {
  for (Role r : {Role::kUser, Role::kAdmin}) EXPECT_EQ(ParseRole(ToString(r)), r);
  for (Protocol p : {Protocol::kTcp, Protocol::kUdp, Protocol::kIcmp, Protocol::kAll}) {
    EXPECT_EQ(ParseProtocol(ToString(p)), p);
  }
  for (RecipientKind k : {RecipientKind::kSelf, RecipientKind::kCidr, RecipientKind::kInvite}) {
    EXPECT_EQ(ParseRecipientKind(ToString(k)), k);
  }
  for (LeaseState s : {LeaseState::kPendingApproval, LeaseState::kInvited, LeaseState::kActive,
                       LeaseState::kExpired, LeaseState::kTerminated, LeaseState::kRevoked,
                       LeaseState::kDenied, LeaseState::kCancelled, LeaseState::kApproved}) {
    EXPECT_EQ(ParseLeaseState(ToString(s)), s);
  }
}

TEST(ModelTest, EnumNamesMatchTheApi) {
  EXPECT_EQ(ToString(Role::kAdmin), "admin");
  EXPECT_EQ(ToString(Protocol::kAll), "all");
  EXPECT_EQ(ToString(RecipientKind::kInvite), "invite");
  EXPECT_EQ(ToString(LeaseState::kPendingApproval), "pending_approval");
  EXPECT_EQ(ToString(LeaseState::kCancelled), "cancelled");
  EXPECT_EQ(ToString(LeaseState::kApproved), "approved");
}

TEST(ModelTest, UnknownNamesAreRejected) {
  EXPECT_FALSE(ParseRole("root"));
  EXPECT_FALSE(ParseRole("Admin"));
  EXPECT_FALSE(ParseProtocol("TCP"));
  EXPECT_FALSE(ParseProtocol(""));
  EXPECT_FALSE(ParseRecipientKind("everyone"));
  EXPECT_FALSE(ParseLeaseState("ended"));
}

TEST(ModelTest, PortRanges) {
  auto single = ParsePortRange("22");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(*single, (PortRange{22, 22}));
  EXPECT_EQ(ToString(*single), "22");
  auto range = ParsePortRange("8000-8100");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(*range, (PortRange{8000, 8100}));
  EXPECT_EQ(ToString(*range), "8000-8100");
  EXPECT_TRUE(ParsePortRange("1-65535").ok());
  EXPECT_TRUE(ParsePortRange("443-443").ok());
  for (std::string_view bad : {"", "0", "65536", "-1", "8100-8000", "22-", "-22", "a", "22 ", "+22",
                               "1-2-3", "99999999999", "22,23"}) {
    auto r = ParsePortRange(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "invalid_ports");
    }
  }
}

TEST(ModelTest, LiveStates) {
  EXPECT_TRUE(IsLive(LeaseState::kActive));
  EXPECT_TRUE(IsLive(LeaseState::kPendingApproval));
  EXPECT_TRUE(IsLive(LeaseState::kInvited));
  EXPECT_TRUE(IsLive(LeaseState::kApproved));
  for (LeaseState s : {LeaseState::kExpired, LeaseState::kTerminated, LeaseState::kRevoked,
                       LeaseState::kDenied, LeaseState::kCancelled}) {
    EXPECT_FALSE(IsLive(s));
  }
}

}  // namespace
}  // namespace pinhole
