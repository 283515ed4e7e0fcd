#include "core/schedule.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

Time At(std::string_view rfc3339) {
  auto t = ParseTime(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(Time{});
}

// A window from day names ("mon", "weekdays") and "HH:MM" times.
ScheduleWindow W(std::initializer_list<std::string_view> days, std::string_view from,
                 std::string_view to) {
  ScheduleWindow w;
  for (auto d : days) w.days |= ParseDays(d).value();
  w.from_minute = ParseTimeOfDay(from, false).value();
  w.to_minute = ParseTimeOfDay(to, true).value();
  return w;
}

Schedule S(std::string zone, std::vector<ScheduleWindow> windows) {
  return Schedule{std::move(zone), std::move(windows)};
}

std::string Span(const std::optional<WindowSpan>& w) {
  if (!w) return "closed";
  return FormatTime(w->start) + " - " + FormatTime(w->end);
}

std::string Opening(const std::optional<Time>& t) { return t ? FormatTime(*t) : "never"; }

void ExpectInvalid(const Schedule& s, std::string_view message) {
  Status st = ValidateSchedule(s);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
  EXPECT_EQ(st.reason(), "invalid_schedule");
  EXPECT_EQ(st.message(), message);
}

// --- text forms ---

TEST(ScheduleTextTest, DayNamesAndShorthands) {
  EXPECT_EQ(ParseDays("sun"), uint8_t{1});
  EXPECT_EQ(ParseDays("mon"), uint8_t{2});
  EXPECT_EQ(ParseDays("Sat"), uint8_t{64});
  EXPECT_EQ(ParseDays("weekdays"), uint8_t{0b0111110});
  EXPECT_EQ(ParseDays("weekend"), uint8_t{0b1000001});
  EXPECT_EQ(ParseDays("daily"), uint8_t{0x7f});
  for (auto bad : {"", "monday", "mo", "sun ", "7", "wednesday"}) {
    EXPECT_FALSE(ParseDays(bad)) << bad;
  }
  // Listed Monday first, whatever the bit order.
  EXPECT_EQ(DayNames(0x7f),
            (std::vector<std::string>{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}));
  EXPECT_EQ(DayNames(*ParseDays("weekend")), (std::vector<std::string>{"sat", "sun"}));
  EXPECT_TRUE(DayNames(0).empty());
}

TEST(ScheduleTextTest, TimesOfDay) {
  EXPECT_EQ(ParseTimeOfDay("00:00", false), 0);
  EXPECT_EQ(ParseTimeOfDay("08:30", false), 8 * 60 + 30);
  EXPECT_EQ(ParseTimeOfDay("8:30", false), 8 * 60 + 30);
  EXPECT_EQ(ParseTimeOfDay("23:59", false), 1439);
  EXPECT_EQ(ParseTimeOfDay("24:00", true), 1440);
  EXPECT_FALSE(ParseTimeOfDay("24:00", false));
  for (auto bad : {"", "8", "800", "08:0", "08:000", "24:01", "25:00", "08:60", "-1:00", "+8:00",
                   " 8:00", "08:00 ", "08.00", "008:00", "ab:cd", "08:5x"}) {
    EXPECT_FALSE(ParseTimeOfDay(bad, true)) << bad;
  }
  EXPECT_EQ(FormatTimeOfDay(0), "00:00");
  EXPECT_EQ(FormatTimeOfDay(8 * 60 + 5), "08:05");
  EXPECT_EQ(FormatTimeOfDay(1440), "24:00");
}

// --- validation ---

TEST(ScheduleValidateTest, AcceptsOrdinarySchedules) {
  EXPECT_TRUE(ValidateSchedule(S("Europe/Berlin", {W({"weekdays"}, "08:00", "18:00")})).ok());
  // Touching windows, a 24:00 end, and a window crossing midnight into the
  // next day's window's start are not overlaps.
  EXPECT_TRUE(ValidateSchedule(S("America/New_York",
                                 {W({"mon"}, "20:00", "24:00"), W({"tue"}, "00:00", "06:00"),
                                  W({"fri"}, "22:00", "02:00"), W({"sat"}, "02:00", "05:00")}))
                  .ok());
  // Around the clock.
  EXPECT_TRUE(ValidateSchedule(S("UTC", {W({"daily"}, "00:00", "24:00")})).ok());
  // Saturday night into Sunday morning, next to a Sunday window.
  EXPECT_TRUE(
      ValidateSchedule(S("UTC", {W({"sat"}, "22:00", "03:00"), W({"sun"}, "03:00", "04:00")}))
          .ok());
}

TEST(ScheduleValidateTest, RefusesUnknownTimeZones) {
  ExpectInvalid(S("Mars/Base", {W({"mon"}, "08:00", "18:00")}), "unknown time zone \"Mars/Base\"");
  // Names are looked up in the database, never as paths.
  const std::string zones[] = {"",
                               "../../etc/passwd",
                               "/etc/localtime",
                               "/usr/share/zoneinfo/UTC",
                               "Europe",
                               "europe/berlin",
                               "Europe/Berlin ",
                               "Europe/Berlin\n",
                               "right/Europe/Berlin",
                               std::string(100, 'A')};
  for (const auto& zone : zones) {
    Status st = ValidateSchedule(S(zone, {W({"mon"}, "08:00", "18:00")}));
    EXPECT_EQ(st.reason(), "invalid_schedule") << zone;
    EXPECT_NE(st.message().find("unknown time zone"), std::string::npos) << zone;
  }
}

TEST(ScheduleValidateTest, RefusesEmptyAndTooManyWindows) {
  ExpectInvalid(S("UTC", {}), "a schedule needs at least one window; omit it for always");
  std::vector<ScheduleWindow> many;
  for (int i = 0; i < kMaxScheduleWindows; ++i) {
    ScheduleWindow w;
    w.days = 1u << (i % 7);
    w.from_minute = (i / 7) * 60;
    w.to_minute = w.from_minute + 30;
    many.push_back(w);
  }
  EXPECT_TRUE(ValidateSchedule(S("UTC", many)).ok());
  many.push_back(W({"sun"}, "23:00", "23:30"));
  ExpectInvalid(S("UTC", many), "a schedule has at most 50 windows, not 51");
}

TEST(ScheduleValidateTest, RefusesBadWindows) {
  ScheduleWindow no_days = W({"mon"}, "08:00", "18:00");
  no_days.days = 0;
  ExpectInvalid(S("UTC", {W({"tue"}, "08:00", "09:00"), no_days}), "window 2 has no days");
  ExpectInvalid(S("UTC", {W({"mon"}, "08:00", "08:00")}),
                "window 1 is empty: \"from\" and \"to\" are both 08:00 (use 00:00 to 24:00 for a "
                "whole day)");
  ScheduleWindow w = W({"mon"}, "08:00", "18:00");
  w.from_minute = 1440;
  ExpectInvalid(S("UTC", {w}), "window 1: \"from\" must be between 00:00 and 23:59");
  w.from_minute = -1;
  ExpectInvalid(S("UTC", {w}), "window 1: \"from\" must be between 00:00 and 23:59");
  w = W({"mon"}, "08:00", "18:00");
  w.to_minute = 0;
  ExpectInvalid(S("UTC", {w}), "window 1: \"to\" must be between 00:01 and 24:00");
  w.to_minute = 1441;
  ExpectInvalid(S("UTC", {w}), "window 1: \"to\" must be between 00:01 and 24:00");
  w = W({"mon"}, "08:00", "18:00");
  w.days = 0x80;
  ExpectInvalid(S("UTC", {w}), "window 1 has an unknown day");
}

TEST(ScheduleValidateTest, RefusesOverlaps) {
  ExpectInvalid(S("UTC", {W({"weekdays"}, "08:00", "12:00"), W({"wed"}, "11:00", "13:00")}),
                "windows 1 and 2 overlap (both open on wed 11:00)");
  // The same window given twice.
  ExpectInvalid(S("UTC", {W({"mon"}, "08:00", "12:00"), W({"mon"}, "08:00", "12:00")}),
                "windows 1 and 2 overlap (both open on mon 08:00)");
  // Friday night runs into Saturday's window.
  ExpectInvalid(S("UTC", {W({"sat"}, "01:00", "05:00"), W({"fri"}, "22:00", "02:00")}),
                "windows 1 and 2 overlap (both open on sat 01:00)");
  // Saturday night wraps into the start of the week.
  ExpectInvalid(S("UTC", {W({"sun"}, "02:00", "04:00"), W({"sat"}, "22:00", "03:00")}),
                "windows 1 and 2 overlap (both open on sun 02:00)");
  // A whole day and anything else on that day.
  ExpectInvalid(S("UTC", {W({"daily"}, "00:00", "24:00"), W({"thu"}, "12:00", "13:00")}),
                "windows 1 and 2 overlap (both open on thu 12:00)");
}

// --- evaluation ---

TEST(ScheduleTest, OfficeHoursInBerlinWinter) {
  Schedule office = S("Europe/Berlin", {W({"weekdays"}, "08:00", "18:00")});
  // Monday 2026-11-23 10:00 CET (UTC+1).
  EXPECT_EQ(Span(CurrentWindow(office, At("2026-11-23T09:00:00Z"))),
            "2026-11-23T07:00:00Z - 2026-11-23T17:00:00Z");
  EXPECT_EQ(Opening(NextOpening(office, At("2026-11-23T09:00:00Z"))), "2026-11-24T07:00:00Z");
  // The start is inside, the end is not.
  EXPECT_NE(Span(CurrentWindow(office, At("2026-11-23T07:00:00Z"))), "closed");
  EXPECT_EQ(Span(CurrentWindow(office, At("2026-11-23T06:59:59.999Z"))), "closed");
  EXPECT_EQ(Span(CurrentWindow(office, At("2026-11-23T17:00:00Z"))), "closed");
  // Friday evening: the next opening is across the weekend.
  Time friday_evening = At("2026-11-20T19:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(office, friday_evening)), "closed");
  EXPECT_EQ(Opening(NextOpening(office, friday_evening)), "2026-11-23T07:00:00Z");
  EXPECT_EQ(Opening(NextOpening(office, At("2026-11-22T23:59:00Z"))), "2026-11-23T07:00:00Z");
  EXPECT_EQ(FormatLocalTime(office, At("2026-11-23T07:00:00Z")),
            "Mon 2026-11-23 08:00 CET (07:00 UTC)");
}

TEST(ScheduleTest, OfficeHoursInBerlinSummer) {
  Schedule office = S("Europe/Berlin", {W({"weekdays"}, "08:00", "18:00")});
  EXPECT_EQ(Span(CurrentWindow(office, At("2026-07-06T12:00:00Z"))),
            "2026-07-06T06:00:00Z - 2026-07-06T16:00:00Z");
  EXPECT_EQ(FormatLocalTime(office, At("2026-07-06T06:00:00Z")),
            "Mon 2026-07-06 08:00 CEST (06:00 UTC)");
}

TEST(ScheduleTest, BerlinSpringForward) {
  // 2026-03-29 (Sunday): 02:00 CET becomes 03:00 CEST at 01:00 UTC.
  Schedule across = S("Europe/Berlin", {W({"sun"}, "01:00", "03:00")});
  // 01:00 CET to 03:00 CEST: one real hour.
  EXPECT_EQ(Span(CurrentWindow(across, At("2026-03-29T00:30:00Z"))),
            "2026-03-29T00:00:00Z - 2026-03-29T01:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(across, At("2026-03-29T01:00:00Z"))), "closed");

  // A start in the skipped hour opens at the change.
  Schedule gap_start = S("Europe/Berlin", {W({"sun"}, "02:30", "04:00")});
  EXPECT_EQ(Span(CurrentWindow(gap_start, At("2026-03-29T00:59:00Z"))), "closed");
  EXPECT_EQ(Opening(NextOpening(gap_start, At("2026-03-29T00:00:00Z"))), "2026-03-29T01:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(gap_start, At("2026-03-29T01:00:00Z"))),
            "2026-03-29T01:00:00Z - 2026-03-29T02:00:00Z");
  EXPECT_EQ(FormatLocalTime(gap_start, At("2026-03-29T01:00:00Z")),
            "Sun 2026-03-29 03:00 CEST (01:00 UTC)");

  // An end in the skipped hour closes at the change.
  Schedule gap_end = S("Europe/Berlin", {W({"sun"}, "01:00", "02:30")});
  EXPECT_EQ(Span(CurrentWindow(gap_end, At("2026-03-29T00:10:00Z"))),
            "2026-03-29T00:00:00Z - 2026-03-29T01:00:00Z");

  // A window wholly inside the skipped hour does not happen that day; the
  // next opening is a week later.
  Schedule inside = S("Europe/Berlin", {W({"sun"}, "02:00", "02:30")});
  EXPECT_EQ(Span(CurrentWindow(inside, At("2026-03-29T01:00:00Z"))), "closed");
  EXPECT_EQ(Opening(NextOpening(inside, At("2026-03-28T12:00:00Z"))), "2026-04-05T00:00:00Z");
  EXPECT_EQ(Opening(NextOpening(inside, At("2026-03-22T00:00:00Z"))), "2026-03-22T01:00:00Z");
  // Just after the previous Sunday's window: skipped once, so two weeks ahead.
  EXPECT_EQ(Opening(NextOpening(inside, At("2026-03-22T02:00:00Z"))), "2026-04-05T00:00:00Z");
}

TEST(ScheduleTest, BerlinFallBack) {
  // 2026-10-25 (Sunday): 03:00 CEST becomes 02:00 CET at 01:00 UTC; local
  // 02:00-03:00 happens twice.
  Schedule twice = S("Europe/Berlin", {W({"sun"}, "02:00", "03:00")});
  // Starts at the first 02:00 (CEST), ends at the second 03:00 (CET): two hours.
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-10-25T00:00:00Z"))),
            "2026-10-25T00:00:00Z - 2026-10-25T02:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-10-25T01:30:00Z"))),
            "2026-10-25T00:00:00Z - 2026-10-25T02:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-10-24T23:59:00Z"))), "closed");
  EXPECT_EQ(Opening(NextOpening(twice, At("2026-10-24T12:00:00Z"))), "2026-10-25T00:00:00Z");

  // An end in the repeated hour takes its later occurrence.
  Schedule end_twice = S("Europe/Berlin", {W({"sun"}, "01:00", "02:30")});
  EXPECT_EQ(Span(CurrentWindow(end_twice, At("2026-10-25T01:15:00Z"))),
            "2026-10-24T23:00:00Z - 2026-10-25T01:30:00Z");
  EXPECT_EQ(FormatLocalTime(end_twice, At("2026-10-24T23:00:00Z")),
            "Sun 2026-10-25 01:00 CEST (Sat 2026-10-24 23:00 UTC)");
  EXPECT_EQ(FormatLocalTime(end_twice, At("2026-10-25T01:30:00Z")),
            "Sun 2026-10-25 02:30 CET (01:30 UTC)");
}

TEST(ScheduleTest, NewYorkSpringForward) {
  // 2026-03-08 (Sunday): 02:00 EST becomes 03:00 EDT at 07:00 UTC.
  Schedule early = S("America/New_York", {W({"daily"}, "01:00", "03:00")});
  EXPECT_EQ(Span(CurrentWindow(early, At("2026-03-08T06:30:00Z"))),
            "2026-03-08T06:00:00Z - 2026-03-08T07:00:00Z");
  // The day before (EST) and after (EDT): two hours each.
  EXPECT_EQ(Span(CurrentWindow(early, At("2026-03-07T06:30:00Z"))),
            "2026-03-07T06:00:00Z - 2026-03-07T08:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(early, At("2026-03-09T05:30:00Z"))),
            "2026-03-09T05:00:00Z - 2026-03-09T07:00:00Z");
  EXPECT_EQ(Opening(NextOpening(early, At("2026-03-08T07:00:00Z"))), "2026-03-09T05:00:00Z");

  // Wholly skipped: the next Sunday, now in EDT.
  Schedule inside = S("America/New_York", {W({"sun"}, "02:00", "03:00")});
  EXPECT_EQ(Opening(NextOpening(inside, At("2026-03-08T00:00:00Z"))), "2026-03-15T06:00:00Z");
}

TEST(ScheduleTest, NewYorkFallBack) {
  // 2026-11-01 (Sunday): 02:00 EDT becomes 01:00 EST at 06:00 UTC; local
  // 01:00-02:00 happens twice.
  Schedule twice = S("America/New_York", {W({"sun"}, "01:00", "02:00")});
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-11-01T05:10:00Z"))),
            "2026-11-01T05:00:00Z - 2026-11-01T07:00:00Z");
  // 01:30 for the second time (EST) is still inside.
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-11-01T06:30:00Z"))),
            "2026-11-01T05:00:00Z - 2026-11-01T07:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-11-01T07:00:00Z"))), "closed");
  // A week later: an ordinary hour in EST.
  EXPECT_EQ(Opening(NextOpening(twice, At("2026-11-01T07:00:00Z"))), "2026-11-08T06:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(twice, At("2026-11-08T06:00:00Z"))),
            "2026-11-08T06:00:00Z - 2026-11-08T07:00:00Z");
}

TEST(ScheduleTest, WindowsCrossingMidnight) {
  Schedule late = S("Europe/Berlin", {W({"fri"}, "22:00", "02:00")});
  // Friday 2026-11-20 22:00 CET to Saturday 02:00 CET.
  EXPECT_EQ(Span(CurrentWindow(late, At("2026-11-20T23:30:00Z"))),  // Sat 00:30 local
            "2026-11-20T21:00:00Z - 2026-11-21T01:00:00Z");
  EXPECT_EQ(Span(CurrentWindow(late, At("2026-11-21T01:00:00Z"))), "closed");
  // Saturday is not a listed day, so nothing opens Saturday night.
  EXPECT_EQ(Opening(NextOpening(late, At("2026-11-21T01:00:00Z"))), "2026-11-27T21:00:00Z");

  // Saturday night wraps into Sunday (the week's end into its start).
  Schedule weekend = S("UTC", {W({"sat"}, "22:00", "03:00")});
  EXPECT_EQ(Span(CurrentWindow(weekend, At("2026-11-22T02:59:00Z"))),
            "2026-11-21T22:00:00Z - 2026-11-22T03:00:00Z");
}

TEST(ScheduleTest, AdjacentWindowsMerge) {
  Schedule s = S("Europe/Berlin", {W({"fri"}, "22:00", "24:00"), W({"sat"}, "00:00", "02:00"),
                                   W({"sat"}, "02:00", "03:00")});
  EXPECT_EQ(Span(CurrentWindow(s, At("2026-11-20T21:30:00Z"))),
            "2026-11-20T21:00:00Z - 2026-11-21T02:00:00Z");
  // The next opening is the next span, not the touching window's start.
  EXPECT_EQ(Opening(NextOpening(s, At("2026-11-20T21:30:00Z"))), "2026-11-27T21:00:00Z");
}

TEST(ScheduleTest, EndOfDay) {
  Schedule evening = S("America/New_York", {W({"mon"}, "20:00", "24:00")});
  // Monday 2026-11-23 20:00 EST to Tuesday 00:00 EST.
  EXPECT_EQ(Span(CurrentWindow(evening, At("2026-11-24T04:59:00Z"))),
            "2026-11-24T01:00:00Z - 2026-11-24T05:00:00Z");
}

TEST(ScheduleTest, LeapDay) {
  // 2028-02-29 is a Tuesday.
  Schedule s = S("Europe/Berlin", {W({"tue"}, "09:00", "17:00"), W({"mon"}, "22:00", "02:00")});
  ASSERT_TRUE(ValidateSchedule(s).ok());
  EXPECT_EQ(Span(CurrentWindow(s, At("2028-02-29T10:00:00Z"))),
            "2028-02-29T08:00:00Z - 2028-02-29T16:00:00Z");
  // Monday night runs into the leap day.
  EXPECT_EQ(Span(CurrentWindow(s, At("2028-02-29T00:30:00Z"))),
            "2028-02-28T21:00:00Z - 2028-02-29T01:00:00Z");
  EXPECT_EQ(Opening(NextOpening(s, At("2028-02-29T01:00:00Z"))), "2028-02-29T08:00:00Z");
  EXPECT_EQ(Opening(NextOpening(s, At("2028-02-29T16:00:00Z"))), "2028-03-06T21:00:00Z");
  EXPECT_EQ(FormatLocalTime(s, At("2028-02-29T08:00:00Z")), "Tue 2028-02-29 09:00 CET (08:00 UTC)");
}

TEST(ScheduleTest, AroundTheClockNeverCloses) {
  Schedule always = S("Europe/Berlin", {W({"daily"}, "00:00", "24:00")});
  auto w = CurrentWindow(always, At("2026-10-25T01:30:00Z"));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->start, Time::min());
  EXPECT_EQ(w->end, Time::max());
  EXPECT_FALSE(NextOpening(always, At("2026-03-29T01:00:00Z")));
  // Split in pieces that touch, including across a DST change.
  Schedule pieces =
      S("Europe/Berlin", {W({"daily"}, "00:00", "02:30"), W({"daily"}, "02:30", "24:00")});
  ASSERT_TRUE(ValidateSchedule(pieces).ok());
  EXPECT_EQ(CurrentWindow(pieces, At("2026-03-29T01:00:00Z")),
            (WindowSpan{Time::min(), Time::max()}));
}

TEST(ScheduleTest, UnknownZoneOrExtremeTimesCountAsClosed) {
  Schedule mars = S("Mars/Base", {W({"daily"}, "00:00", "24:00")});
  EXPECT_FALSE(CurrentWindow(mars, At("2026-11-23T09:00:00Z")));
  EXPECT_FALSE(NextOpening(mars, At("2026-11-23T09:00:00Z")));
  EXPECT_EQ(FormatLocalTime(mars, At("2026-11-23T09:00:00Z")), "Mon 2026-11-23 09:00 UTC");
  Schedule always = S("UTC", {W({"daily"}, "00:00", "24:00")});
  EXPECT_FALSE(CurrentWindow(always, Time::max()));
  EXPECT_FALSE(CurrentWindow(always, Time::min()));
  EXPECT_FALSE(NextOpening(always, Time::max()));
}

}  // namespace
}  // namespace pinhole
