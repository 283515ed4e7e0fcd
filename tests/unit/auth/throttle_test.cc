#include "auth/throttle.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace pinhole {
namespace {

using std::chrono::minutes;

class ThrottleTest : public ::testing::Test {
 protected:
  ManualClock clock_;
  ThrottleOptions Options(int max, Millis window, size_t max_keys = 1000) {
    ThrottleOptions o;
    o.max_failures = max;
    o.window = window;
    o.max_keys = max_keys;
    return o;
  }
};

TEST_F(ThrottleTest, AllowsUntilMaxFailures) {
  LoginThrottle t(clock_, Options(3, minutes(15)));
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
  t.RecordFailure("bob");
  t.RecordFailure("bob");
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
  t.RecordFailure("bob");
  EXPECT_EQ(t.RetryAfter("bob"), minutes(15));
  clock_.Advance(minutes(5));
  EXPECT_EQ(t.RetryAfter("bob"), minutes(10));
}

TEST_F(ThrottleTest, WindowSlidesFromOldestCountedFailure) {
  LoginThrottle t(clock_, Options(3, minutes(15)));
  t.RecordFailure("bob");  // t=0
  clock_.Advance(minutes(5));
  t.RecordFailure("bob");  // t=5
  clock_.Advance(minutes(5));
  t.RecordFailure("bob");  // t=10
  EXPECT_EQ(t.RetryAfter("bob"), minutes(5));
  clock_.Advance(minutes(5));  // t=15: the first failure ages out
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
  t.RecordFailure("bob");  // t=15; counted: 5, 10, 15
  EXPECT_EQ(t.RetryAfter("bob"), minutes(5));
  clock_.Advance(minutes(5) - Millis(1));
  EXPECT_EQ(t.RetryAfter("bob"), Millis(1));
  clock_.Advance(Millis(1));
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
}

TEST_F(ThrottleTest, SuccessResets) {
  LoginThrottle t(clock_, Options(2, minutes(15)));
  t.RecordFailure("bob");
  t.RecordSuccess("bob");
  t.RecordFailure("bob");
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
  t.RecordFailure("bob");
  EXPECT_GT(t.RetryAfter("bob"), Millis(0));
  t.RecordSuccess("bob");
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
  t.RecordSuccess("never-seen");  // harmless
}

TEST_F(ThrottleTest, KeysAreIsolated) {
  LoginThrottle t(clock_, Options(2, minutes(15)));
  t.RecordFailure("bob");
  t.RecordFailure("bob");
  EXPECT_GT(t.RetryAfter("bob"), Millis(0));
  EXPECT_EQ(t.RetryAfter("alice"), Millis(0));
  EXPECT_EQ(t.RetryAfter("ip:203.0.113.7"), Millis(0));
  t.RecordSuccess("alice");
  EXPECT_GT(t.RetryAfter("bob"), Millis(0));
}

TEST_F(ThrottleTest, FailuresWhileLockedExtendTheLock) {
  LoginThrottle t(clock_, Options(2, minutes(10)));
  t.RecordFailure("bob");
  t.RecordFailure("bob");
  clock_.Advance(minutes(4));
  // Only the newest max_failures count: the second failure at t=0 and this one.
  t.RecordFailure("bob");
  EXPECT_EQ(t.RetryAfter("bob"), minutes(6));
  clock_.Advance(minutes(6));
  EXPECT_EQ(t.RetryAfter("bob"), Millis(0));
}

TEST_F(ThrottleTest, KeyCountIsBounded) {
  LoginThrottle t(clock_, Options(1, minutes(15), 3));
  t.RecordFailure("a");
  clock_.Advance(Millis(1));
  t.RecordFailure("b");
  clock_.Advance(Millis(1));
  t.RecordFailure("c");
  clock_.Advance(Millis(1));
  t.RecordFailure("d");  // evicts "a", the key with the oldest failure
  EXPECT_EQ(t.RetryAfter("a"), Millis(0));
  EXPECT_GT(t.RetryAfter("b"), Millis(0));
  EXPECT_GT(t.RetryAfter("c"), Millis(0));
  EXPECT_GT(t.RetryAfter("d"), Millis(0));
}

TEST_F(ThrottleTest, ExpiredKeysAreDroppedBeforeLiveOnes) {
  LoginThrottle t(clock_, Options(1, minutes(15), 2));
  t.RecordFailure("old");
  clock_.Advance(minutes(10));
  t.RecordFailure("live");
  clock_.Advance(minutes(6));  // "old" has aged out, "live" has not
  t.RecordFailure("new");
  EXPECT_GT(t.RetryAfter("live"), Millis(0));
  EXPECT_GT(t.RetryAfter("new"), Millis(0));
}

TEST_F(ThrottleTest, ConcurrentUseIsSafe) {
  LoginThrottle t(clock_, Options(1000000, minutes(15), 50));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&t, i] {
      for (int j = 0; j < 2000; ++j) {
        std::string key = "k" + std::to_string((i * 7 + j) % 100);
        t.RecordFailure(key);
        (void)t.RetryAfter(key);
        if (j % 10 == 0) t.RecordSuccess(key);
      }
    });
  }
  for (auto& th : threads) th.join();
  SUCCEED();
}

}  // namespace
}  // namespace pinhole
