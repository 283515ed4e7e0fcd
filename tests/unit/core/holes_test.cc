#include "core/holes.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Cidr C(std::string_view s) { return *Cidr::Parse(s); }

class HolesTest : public ::testing::Test {
 protected:
  Lease MakeLease(std::vector<std::string> services, std::string_view source, Millis ttl,
                  LeaseState state = LeaseState::kActive) {
    Lease l;
    l.id = ++next_id_;
    l.services = std::move(services);
    l.source = C(source);
    l.state = state;
    l.expires_at = clock_.Now() + ttl;
    return l;
  }
  ManualClock clock_;
  Id next_id_ = 0;
};

TEST_F(HolesTest, OneHolePerServiceAndSource) {
  auto l = MakeLease({"ssh", "db"}, "203.0.113.7", hours(1));
  HoleMap holes = DesiredHoles({l}, clock_.Now());
  ASSERT_EQ(holes.size(), 2u);
  EXPECT_EQ(holes.at(HoleKey{"ssh", C("203.0.113.7/32")}), l.expires_at);
  EXPECT_EQ(holes.at(HoleKey{"db", C("203.0.113.7/32")}), l.expires_at);
}

TEST_F(HolesTest, SharedHoleTakesLatestExpiry) {
  auto a = MakeLease({"ssh"}, "203.0.113.7", hours(1));
  auto b = MakeLease({"ssh"}, "203.0.113.7", hours(3));
  auto c = MakeLease({"ssh"}, "203.0.113.7", hours(2));
  HoleMap holes = DesiredHoles({a, b, c}, clock_.Now());
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes.begin()->second, b.expires_at);
}

TEST_F(HolesTest, OverlappingPrefixesAreDistinctHoles) {
  auto host = MakeLease({"ssh"}, "198.51.100.7/32", hours(1));
  auto net = MakeLease({"ssh"}, "198.51.100.0/28", hours(2));
  HoleMap holes = DesiredHoles({host, net}, clock_.Now());
  ASSERT_EQ(holes.size(), 2u);
  EXPECT_EQ(holes.at(HoleKey{"ssh", C("198.51.100.7/32")}), host.expires_at);
  EXPECT_EQ(holes.at(HoleKey{"ssh", C("198.51.100.0/28")}), net.expires_at);
}

TEST_F(HolesTest, OnlyActiveUnexpiredLeasesCount) {
  std::vector<Lease> leases = {
      MakeLease({"a"}, "192.0.2.1", hours(1), LeaseState::kPendingApproval),
      MakeLease({"b"}, "192.0.2.2", hours(1), LeaseState::kInvited),
      MakeLease({"c"}, "192.0.2.3", hours(1), LeaseState::kTerminated),
      MakeLease({"d"}, "192.0.2.4", hours(1), LeaseState::kRevoked),
      MakeLease({"e"}, "192.0.2.5", Millis(0)),  // expires exactly now
      MakeLease({"f"}, "192.0.2.6", -minutes(1)),
      MakeLease({"g"}, "192.0.2.7", Millis(1)),
  };
  HoleMap holes = DesiredHoles(leases, clock_.Now());
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes.begin()->first.service, "g");
  clock_.Advance(Millis(1));
  EXPECT_TRUE(DesiredHoles(leases, clock_.Now()).empty());
}

TEST_F(HolesTest, AddLeaseHolesExtendsButNeverShortens) {
  HoleMap holes;
  auto longer = MakeLease({"ssh"}, "192.0.2.1", hours(5));
  auto shorter = MakeLease({"ssh"}, "192.0.2.1", hours(1));
  AddLeaseHoles(holes, longer);
  AddLeaseHoles(holes, shorter);
  EXPECT_EQ(holes.at(HoleKey{"ssh", C("192.0.2.1/32")}), longer.expires_at);
}

TEST_F(HolesTest, DiffAddsRemovesAndRefreshes) {
  Time t = clock_.Now() + hours(1);
  HoleKey keep{"ssh", C("192.0.2.1/32")};
  HoleKey drift{"ssh", C("192.0.2.2/32")};
  HoleKey close_enough{"db", C("192.0.2.1/32")};
  HoleKey missing{"web", C("2001:db8::/64")};
  HoleKey stale{"rdp", C("192.0.2.9/32")};
  HoleMap desired = {{keep, t}, {drift, t}, {close_enough, t}, {missing, t}};
  HoleMap actual = {
      {keep, t}, {drift, t - minutes(10)}, {close_enough, t - Millis(900)}, {stale, t}};
  HoleDiff d = Diff(desired, actual, Millis(1000));
  ASSERT_EQ(d.upsert.size(), 2u);
  EXPECT_EQ(d.upsert[0], (Hole{drift, t}));
  EXPECT_EQ(d.upsert[1], (Hole{missing, t}));
  ASSERT_EQ(d.remove.size(), 1u);
  EXPECT_EQ(d.remove[0], stale);
  EXPECT_FALSE(d.empty());

  // Later-than-desired by more than the tolerance is drift as well.
  HoleMap ahead = {{keep, t + minutes(1)}};
  HoleDiff d2 = Diff({{keep, t}}, ahead, Millis(1000));
  ASSERT_EQ(d2.upsert.size(), 1u);
}

TEST_F(HolesTest, DiffOfEqualStatesIsEmpty) {
  auto l = MakeLease({"ssh", "db"}, "192.0.2.1", hours(1));
  HoleMap m = DesiredHoles({l}, clock_.Now());
  EXPECT_TRUE(Diff(m, m, Millis(0)).empty());
  EXPECT_TRUE(Diff({}, {}, Millis(0)).empty());
}

}  // namespace
}  // namespace pinhole
