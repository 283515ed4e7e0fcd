#include "core/lease_state.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace pinhole {
namespace {

using S = LeaseState;
constexpr S kAll[] = {S::kPendingApproval, S::kInvited, S::kActive, S::kExpired,
                      S::kTerminated,      S::kRevoked, S::kDenied, S::kCancelled, S::kApproved};

class LeaseStateTest : public ::testing::Test {
 protected:
  Lease MakeLease(S state) {
    Lease l;
    l.id = 7;
    l.owner = "bob@example.com";
    l.services = {"ssh"};
    l.state = state;
    l.created_at = clock_.Now();
    l.expires_at = clock_.Now() + std::chrono::hours(1);
    return l;
  }
  ManualClock clock_;
};

TEST_F(LeaseStateTest, TransitionTable) {
  const std::set<std::pair<S, S>> allowed = {
      {S::kPendingApproval, S::kActive},
      {S::kPendingApproval, S::kApproved},   // opens at the next sign-in
      {S::kPendingApproval, S::kInvited},    // an approved invitation goes out
      {S::kPendingApproval, S::kDenied},
      {S::kPendingApproval, S::kCancelled},  // withdrawn
      {S::kPendingApproval, S::kExpired},    // nobody decided in time
      {S::kPendingApproval, S::kRevoked},    // its owner or policy was removed
      {S::kApproved, S::kActive},
      {S::kApproved, S::kCancelled},
      {S::kApproved, S::kExpired},
      {S::kApproved, S::kRevoked},
      {S::kInvited, S::kActive},
      {S::kInvited, S::kCancelled},
      {S::kInvited, S::kExpired},
      {S::kInvited, S::kRevoked},
      {S::kActive, S::kExpired},
      {S::kActive, S::kTerminated},
      {S::kActive, S::kRevoked},
  };
  for (S from : kAll) {
    for (S to : kAll) {
      EXPECT_EQ(CanTransition(from, to), allowed.count({from, to}) == 1)
          << ToString(from) << " -> " << ToString(to);
    }
  }
}

TEST_F(LeaseStateTest, ActivationSetsActivatedAt) {
  for (S from : {S::kPendingApproval, S::kInvited}) {
    Lease l = MakeLease(from);
    clock_.Advance(Millis(1500));
    ASSERT_TRUE(Transition(l, S::kActive, clock_.Now(), "admin@example.com").ok());
    EXPECT_EQ(l.state, S::kActive);
    ASSERT_TRUE(l.activated_at);
    EXPECT_EQ(*l.activated_at, clock_.Now());
    EXPECT_FALSE(l.ended_at);
    EXPECT_TRUE(l.ended_by.empty());
  }
}

TEST_F(LeaseStateTest, EndingSetsEndedAtAndBy) {
  for (S to : {S::kExpired, S::kTerminated, S::kRevoked}) {
    Lease l = MakeLease(S::kActive);
    ASSERT_TRUE(Transition(l, to, clock_.Now(), "carol@example.com").ok());
    EXPECT_EQ(l.state, to);
    ASSERT_TRUE(l.ended_at);
    EXPECT_EQ(*l.ended_at, clock_.Now());
    EXPECT_EQ(l.ended_by, "carol@example.com");
  }
  Lease pending = MakeLease(S::kPendingApproval);
  ASSERT_TRUE(Transition(pending, S::kDenied, clock_.Now(), "admin@example.com").ok());
  EXPECT_EQ(pending.ended_by, "admin@example.com");
  EXPECT_FALSE(pending.activated_at);
}

TEST_F(LeaseStateTest, EndedLeasesDoNotMove) {
  for (S from : {S::kExpired, S::kTerminated, S::kRevoked, S::kDenied, S::kCancelled}) {
    for (S to : kAll) {
      Lease l = MakeLease(from);
      Lease before = l;
      Status st = Transition(l, to, clock_.Now(), "x");
      EXPECT_EQ(st.code(), Code::kConflict);
      EXPECT_EQ(st.reason(), "lease_not_live");
      EXPECT_EQ(l.state, before.state);
      EXPECT_EQ(l.ended_at, before.ended_at);
    }
  }
}

TEST_F(LeaseStateTest, RefusedLiveTransitionsLeaveLeaseUnchanged) {
  struct Case {
    S from, to;
  } cases[] = {{S::kActive, S::kActive},           {S::kActive, S::kPendingApproval},
               {S::kActive, S::kDenied},           {S::kActive, S::kCancelled},
               {S::kInvited, S::kDenied},          {S::kInvited, S::kTerminated},
               {S::kPendingApproval, S::kTerminated}, {S::kApproved, S::kDenied},
               {S::kApproved, S::kPendingApproval}};
  for (const auto& c : cases) {
    Lease l = MakeLease(c.from);
    Status st = Transition(l, c.to, clock_.Now(), "x");
    EXPECT_EQ(st.code(), Code::kConflict) << ToString(c.from) << " -> " << ToString(c.to);
    EXPECT_EQ(st.reason(), "invalid_transition");
    EXPECT_EQ(l.state, c.from);
    EXPECT_FALSE(l.ended_at);
    EXPECT_FALSE(l.activated_at);
    EXPECT_TRUE(l.ended_by.empty());
  }
}

TEST_F(LeaseStateTest, RenewExtendsFromNow) {
  Lease l = MakeLease(S::kActive);
  clock_.Advance(std::chrono::minutes(50));
  ASSERT_TRUE(Renew(l, std::chrono::hours(2), clock_.Now()).ok());
  EXPECT_EQ(l.expires_at, clock_.Now() + std::chrono::hours(2));
  // Shortening is a renewal too.
  ASSERT_TRUE(Renew(l, std::chrono::minutes(5), clock_.Now()).ok());
  EXPECT_EQ(l.expires_at, clock_.Now() + std::chrono::minutes(5));
}

TEST_F(LeaseStateTest, RenewAfterExpiryRefused) {
  Lease l = MakeLease(S::kActive);
  Time expiry = l.expires_at;
  clock_.Set(expiry);  // exactly at expiry counts as expired
  Status st = Renew(l, std::chrono::hours(1), clock_.Now());
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(l.expires_at, expiry);
  clock_.Advance(Millis(1));
  EXPECT_EQ(Renew(l, std::chrono::hours(1), clock_.Now()).code(), Code::kConflict);
  EXPECT_EQ(l.expires_at, expiry);
}

TEST_F(LeaseStateTest, RenewOnlyActive) {
  for (S s : kAll) {
    if (s == S::kActive) continue;
    Lease l = MakeLease(s);
    Time expiry = l.expires_at;
    EXPECT_EQ(Renew(l, std::chrono::hours(1), clock_.Now()).code(), Code::kConflict) << ToString(s);
    EXPECT_EQ(l.expires_at, expiry);
  }
}

TEST_F(LeaseStateTest, RenewNeedsPositiveDuration) {
  Lease l = MakeLease(S::kActive);
  Time expiry = l.expires_at;
  EXPECT_EQ(Renew(l, Seconds(0), clock_.Now()).reason(), "invalid_duration");
  EXPECT_EQ(l.expires_at, expiry);
}

}  // namespace
}  // namespace pinhole
