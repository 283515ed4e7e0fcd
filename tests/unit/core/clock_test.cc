#include "core/clock.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

Time At(int64_t ms) { return Time(Millis(ms)); }

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(At(1000));
  EXPECT_EQ(clock.Now(), At(1000));
  clock.Advance(Millis(250));
  EXPECT_EQ(clock.Now(), At(1250));
  clock.Set(At(5));
  EXPECT_EQ(clock.Now(), At(5));
}

TEST(FormatTimeTest, Rfc3339Utc) {
  EXPECT_EQ(FormatTime(At(0)), "1970-01-01T00:00:00Z");
  // 2026-11-21T09:30:00Z
  Time t = std::chrono::sys_days(std::chrono::year(2026) / 11 / 21) + std::chrono::hours(9) +
           std::chrono::minutes(30);
  EXPECT_EQ(FormatTime(t), "2026-11-21T09:30:00Z");
  EXPECT_EQ(FormatTime(t + Millis(5)), "2026-11-21T09:30:00.005Z");
  EXPECT_EQ(FormatTime(t + Millis(120)), "2026-11-21T09:30:00.120Z");
  EXPECT_EQ(FormatTime(At(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(std::chrono::sys_days(std::chrono::year(2024) / 2 / 29)),
            "2024-02-29T00:00:00Z");
}

TEST(ParseTimeTest, AcceptsZuluFractionsAndOffsets) {
  auto t = ParseTime("2026-11-21T09:30:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTime(*t), "2026-11-21T09:30:00Z");
  EXPECT_EQ(FormatTime(*ParseTime("2026-11-21T09:30:00.5Z")), "2026-11-21T09:30:00.500Z");
  EXPECT_EQ(FormatTime(*ParseTime("2026-11-21T09:30:00.123456Z")), "2026-11-21T09:30:00.123Z");
  EXPECT_EQ(*ParseTime("2026-11-21T11:30:00+02:00"), *t);
  EXPECT_EQ(*ParseTime("2026-11-21T04:00:00-05:30"), *t);
  EXPECT_EQ(*ParseTime("2026-11-21t09:30:00z"), *t);
  EXPECT_EQ(*ParseTime("2026-11-21T09:30:00+00:00"), *t);
  // Offsets can cross a day boundary.
  EXPECT_EQ(FormatTime(*ParseTime("2027-01-01T00:30:00+01:00")), "2026-12-31T23:30:00Z");
}

TEST(ParseTimeTest, RoundTrips) {
  for (int64_t ms : {0LL, 1LL, 999LL, 1'795'000'000'000LL, 1'795'000'000'123LL, -86'400'001LL}) {
    auto t = ParseTime(FormatTime(At(ms)));
    ASSERT_TRUE(t) << ms;
    EXPECT_EQ(*t, At(ms));
  }
}

TEST(ParseTimeTest, RejectsMalformed) {
  for (std::string_view bad : {"",
                               "2026-11-21",
                               "2026-11-21T09:30:00",
                               "2026-11-21 09:30:00Z",
                               "2026-13-01T00:00:00Z",
                               "2026-02-29T00:00:00Z",
                               "2026-11-31T00:00:00Z",
                               "2026-11-21T24:00:00Z",
                               "2026-11-21T09:60:00Z",
                               "2026-11-21T09:30:60Z",
                               "2026-11-21T09:30:00.Z",
                               "2026-11-21T09:30:00.1234567890Z",
                               "2026-11-21T09:30:00+2:00",
                               "2026-11-21T09:30:00+0200",
                               "2026-11-21T09:30:00+24:00",
                               "2026-11-21T09:30:00Zjunk",
                               "26-11-21T09:30:00Z",
                               "2026-1-21T09:30:00Z",
                               "2026-11-21T9:30:00Z",
                               "x026-11-21T09:30:00Z",
                               "2026-11-21T09:30:00UTC"}) {
    EXPECT_FALSE(ParseTime(bad)) << bad;
  }
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TEST(ParseTimeRange, OffsetsCannotLeaveFourDigitYears) {
  EXPECT_FALSE(ParseTime("0000-01-01T00:00:00+00:01").has_value());
  EXPECT_FALSE(ParseTime("9999-12-31T23:59:59-00:01").has_value());
  ASSERT_TRUE(ParseTime("9999-12-31T23:59:59Z").has_value());
  EXPECT_EQ(FormatTime(*ParseTime("9999-12-31T23:59:59Z")), "9999-12-31T23:59:59Z");
}

}  // namespace
}  // namespace pinhole
