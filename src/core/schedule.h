// Weekly access schedules: whether a policy's windows are open at an instant,
// when they close, and when they next open; plus the text forms ("mon",
// "08:00") that the API and the store share.
//
// Windows are defined in local wall-clock time of an IANA time zone and are
// turned into UTC instants with Howard Hinnant's date library, which reads the
// system zoneinfo (/usr/share/zoneinfo). Local times that do not exist (the
// hour skipped when clocks go forward) map to the instant of the change;
// local times that happen twice (clocks go back) make a window start at the
// earlier and end at the later instant, so a window never shrinks.
//
// Reading the zoneinfo is the only I/O in core; it happens once per process
// (the library caches the database) inside FindZone in schedule.cc. All
// functions are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"

namespace pinhole {

inline constexpr int kMaxScheduleWindows = 50;
inline constexpr int kMinutesPerDay = 24 * 60;

// Checks everything a stored schedule must satisfy: a time zone this server
// knows, 1..kMaxScheduleWindows windows, each with at least one day, times in
// range, not empty (from == to), and no two windows overlapping anywhere in
// the week (a window crossing midnight runs into the next day). Errors are
// InvalidArgument with reason "invalid_schedule" and a message naming the
// window (1-based) and the problem.
Status ValidateSchedule(const Schedule& schedule);

// A stretch of time during which a schedule is open, in UTC; adjacent or
// overlapping window occurrences are merged into one span.
struct WindowSpan {
  Time start;
  Time end;  // exclusive
  bool operator==(const WindowSpan&) const = default;
};

// The span containing `now`, or nullopt when the schedule is closed at `now`.
// A schedule open around the clock returns {Time::min(), Time::max()}. An
// unknown time zone counts as closed (fail closed).
std::optional<WindowSpan> CurrentWindow(const Schedule& schedule, Time now);

// The first instant after `now` at which the schedule opens (the start of the
// next span that does not contain `now`); nullopt when it never closes, when
// nothing opens within 15 days (impossible for a valid schedule: a window
// skipped by a DST change happens the week after), or when the time zone is
// unknown.
std::optional<Time> NextOpening(const Schedule& schedule, Time now);

// `t` in the schedule's zone, for people: "Mon 2026-11-23 08:00 CET (07:00
// UTC)"; the UTC part gets its own weekday and date when they differ. Falls
// back to UTC alone when the zone is unknown.
std::string FormatLocalTime(const Schedule& schedule, Time t);

// --- Text forms -----------------------------------------------------------

// Day names in week order Monday..Sunday as written in the API.
inline constexpr std::string_view kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// The ScheduleWindow::days bits for a day name ("mon".."sun", case-insensitive)
// or a shorthand ("weekdays", "weekend", "daily"); nullopt for anything else.
std::optional<uint8_t> ParseDays(std::string_view name);
// The day names set in `days`, Monday first.
std::vector<std::string> DayNames(uint8_t days);

// "HH:MM" (or "H:MM") to minutes after midnight; "24:00" only when
// `allow_end_of_day`. nullopt for anything else.
std::optional<int> ParseTimeOfDay(std::string_view text, bool allow_end_of_day);
// Minutes after midnight to "HH:MM" (1440 -> "24:00").
std::string FormatTimeOfDay(int minutes);

}  // namespace pinhole
