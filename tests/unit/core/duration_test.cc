#include "core/duration.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

int64_t Secs(std::string_view text) {
  auto d = ParseDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status().ToString();
  return d.ok() ? d->count() : -1;
}

TEST(DurationTest, ParsesUnitsAndCombinations) {
  EXPECT_EQ(Secs("90s"), 90);
  EXPECT_EQ(Secs("45m"), 2700);
  EXPECT_EQ(Secs("2h"), 7200);
  EXPECT_EQ(Secs("1d"), 86400);
  EXPECT_EQ(Secs("1h30m"), 5400);
  EXPECT_EQ(Secs("1d2h3m4s"), 86400 + 7200 + 180 + 4);
  EXPECT_EQ(Secs("3600"), 3600);
  EXPECT_EQ(Secs("0"), 0);
  EXPECT_EQ(Secs("0s"), 0);
  EXPECT_EQ(Secs("90m"), 5400);  // units need not be normalised
  EXPECT_EQ(Secs("3650d"), 3650LL * 86400);
}

TEST(DurationTest, RejectsBadInput) {
  for (std::string_view bad : {"",         "-5",
                               "-1h",      "1x",
                               "h",        "1h30",
                               "30m1h",    "1h1h",
                               "1.5h",     " 1h",
                               "1h ",      "1H",
                               "+5",       "1 h",
                               "1w",       "1hm",
                               "s",        "99999999999999999999999",
                               "3651d",    "315360001",
                               "87600h1s", "9223372036854775807s"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << "accepted \"" << bad << "\"";
    if (!d.ok()) {
      EXPECT_EQ(d.status().reason(), "invalid_duration") << bad;
    }
  }
}

TEST(DurationTest, FormatsShortestForm) {
  EXPECT_EQ(FormatDuration(Seconds(0)), "0s");
  EXPECT_EQ(FormatDuration(Seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(Seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(Seconds(86400)), "1d");
  EXPECT_EQ(FormatDuration(Seconds(36000)), "10h");
  EXPECT_EQ(FormatDuration(Seconds(86400 + 1)), "1d1s");
  EXPECT_EQ(FormatDuration(Seconds(-90)), "-1m30s");
}

TEST(DurationTest, FormatRoundTrips) {
  for (int64_t s :
       {1LL, 59LL, 60LL, 61LL, 3599LL, 3600LL, 86399LL, 86400LL, 90061LL, 3650LL * 86400}) {
    EXPECT_EQ(Secs(FormatDuration(Seconds(s))), s);
  }
}

}  // namespace
}  // namespace pinhole
