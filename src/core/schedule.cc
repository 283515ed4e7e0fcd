#include "core/schedule.h"

#include <date/tz.h>

#include <algorithm>
#include <cctype>

namespace pinhole {
namespace {

using std::chrono::minutes;

constexpr int kMinutesPerWeek = 7 * kMinutesPerDay;
constexpr size_t kMaxZoneNameLength = 64;
// Days of local time scanned on each side of `now`. A schedule with any gap
// in its week shows that gap within every 7 days, so 8 days either way always
// reach past the span containing `now`.
constexpr int kScanDays = 8;
// Days scanned ahead for the next opening: a week, plus a week more for a
// window that a DST change (or a skipped calendar day) removes once.
constexpr int kScanDaysAhead = 15;
// A merged span longer than this can only come from a schedule that is open
// around the clock (with a gap, no span exceeds a week plus a DST hour).
constexpr auto kAlwaysOpenSpan = std::chrono::hours(24 * kScanDays);
// Instants outside these years are not evaluated (chrono arithmetic on the
// extremes of Time would overflow); a schedule counts as closed there.
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 9000;

// The only place that touches the time zone database (and so the file
// system): the date library reads /usr/share/zoneinfo once, on first use,
// and keeps it for the life of the process. nullptr when the name is unknown
// or the database cannot be read; the library's exceptions stop here.
const date::time_zone* FindZone(std::string_view name) {
  // Only names that look like IANA names reach the library, so that a
  // request cannot steer it toward other paths.
  if (name.empty() || name.size() > kMaxZoneNameLength || name.front() == '/' ||
      name.find("..") != std::string_view::npos) {
    return nullptr;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return nullptr;
    }
  }
  try {
    return date::locate_zone(name);
  } catch (...) {
    return nullptr;
  }
}

bool InEvaluatedRange(Time t) {
  static const Time kFirst = date::sys_days(date::year(kFirstYear) / 1 / 1);
  static const Time kLast = date::sys_days(date::year(kLastYear) / 1 / 1);
  return t >= kFirst && t < kLast;
}

// A window is usable for computing occurrences; ValidateSchedule says why not.
bool Usable(const ScheduleWindow& w) {
  return w.days != 0 && w.days < 0x80 && w.from_minute >= 0 && w.from_minute < kMinutesPerDay &&
         w.to_minute > 0 && w.to_minute <= kMinutesPerDay && w.from_minute != w.to_minute;
}

// Minutes from the start of the window's day to its end: past midnight when
// the window crosses it.
int EndMinute(const ScheduleWindow& w) {
  return w.to_minute > w.from_minute ? w.to_minute : w.to_minute + kMinutesPerDay;
}

Time ToTime(date::sys_seconds t) { return std::chrono::time_point_cast<Millis>(t); }

// Local wall-clock time to UTC. A time skipped by a DST change maps to the
// instant of the change; a time that happens twice maps to its first
// occurrence for a start and its second for an end.
Time ToInstant(const date::time_zone* zone, date::local_seconds local, bool is_end) {
  date::local_info info = zone->get_info(local);
  switch (info.result) {
    case date::local_info::nonexistent:
      return ToTime(info.first.end);
    case date::local_info::ambiguous:
      if (is_end) return ToTime(date::sys_seconds(local.time_since_epoch() - info.second.offset));
      [[fallthrough]];
    default:
      return ToTime(date::sys_seconds(local.time_since_epoch() - info.first.offset));
  }
}

// The schedule's open spans that start on the local days around `now`
// (kScanDays before, `days_ahead` after), merged and in order.
std::vector<WindowSpan> SpansAround(const Schedule& schedule, const date::time_zone* zone, Time now,
                                    int days_ahead) {
  date::local_days today = date::floor<date::days>(zone->to_local(now));
  std::vector<WindowSpan> spans;
  for (int i = -kScanDays; i <= days_ahead; ++i) {
    date::local_days day = today + date::days(i);
    unsigned weekday = date::weekday(day).c_encoding();  // 0 = Sunday, as in ScheduleWindow
    for (const ScheduleWindow& w : schedule.windows) {
      if (!Usable(w) || (w.days & (1u << weekday)) == 0) continue;
      Time start = ToInstant(zone, day + minutes(w.from_minute), false);
      Time end = ToInstant(zone, day + minutes(EndMinute(w)), true);
      // A window lying wholly inside a skipped hour does not happen that day.
      if (end > start) spans.push_back({start, end});
    }
  }
  std::sort(spans.begin(), spans.end(),
            [](const WindowSpan& a, const WindowSpan& b) { return a.start < b.start; });
  std::vector<WindowSpan> merged;
  for (const WindowSpan& s : spans) {
    if (!merged.empty() && s.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
    } else {
      merged.push_back(s);
    }
  }
  return merged;
}

std::string WindowName(size_t index) { return "window " + std::to_string(index + 1); }

// Minutes of a week starting Sunday 00:00 (the ScheduleWindow day numbering).
std::string WeekMinuteText(int week_minute) {
  static constexpr std::string_view kSundayFirst[] = {"sun", "mon", "tue", "wed",
                                                      "thu", "fri", "sat"};
  return std::string(kSundayFirst[week_minute / kMinutesPerDay]) + " " +
         FormatTimeOfDay(week_minute % kMinutesPerDay);
}

Status Bad(std::string message) { return Status::Invalid("invalid_schedule", std::move(message)); }

}  // namespace

Status ValidateSchedule(const Schedule& schedule) {
  if (FindZone(schedule.timezone) == nullptr) {
    return Bad("unknown time zone \"" + schedule.timezone + "\"");
  }
  if (schedule.windows.empty()) {
    return Bad("a schedule needs at least one window; omit it for always");
  }
  if (schedule.windows.size() > kMaxScheduleWindows) {
    return Bad("a schedule has at most " + std::to_string(kMaxScheduleWindows) + " windows, not " +
               std::to_string(schedule.windows.size()));
  }
  struct Piece {
    int start, end;  // minutes of the week, Sunday 00:00 = 0
    size_t window;
  };
  std::vector<Piece> pieces;
  for (size_t i = 0; i < schedule.windows.size(); ++i) {
    const ScheduleWindow& w = schedule.windows[i];
    if (w.days == 0) return Bad(WindowName(i) + " has no days");
    if (w.days >= 0x80) return Bad(WindowName(i) + " has an unknown day");
    if (w.from_minute < 0 || w.from_minute >= kMinutesPerDay) {
      return Bad(WindowName(i) + ": \"from\" must be between 00:00 and 23:59");
    }
    if (w.to_minute <= 0 || w.to_minute > kMinutesPerDay) {
      return Bad(WindowName(i) + ": \"to\" must be between 00:01 and 24:00");
    }
    if (w.from_minute == w.to_minute) {
      return Bad(WindowName(i) + " is empty: \"from\" and \"to\" are both " +
                 FormatTimeOfDay(w.from_minute) + " (use 00:00 to 24:00 for a whole day)");
    }
    for (int d = 0; d < 7; ++d) {
      if ((w.days & (1u << d)) == 0) continue;
      int start = d * kMinutesPerDay + w.from_minute;
      int end = d * kMinutesPerDay + EndMinute(w);
      if (end <= kMinutesPerWeek) {
        pieces.push_back({start, end, i});
      } else {  // Saturday night into Sunday morning wraps to the week's start.
        pieces.push_back({start, kMinutesPerWeek, i});
        pieces.push_back({0, end - kMinutesPerWeek, i});
      }
    }
  }
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& b) { return a.start < b.start; });
  const Piece* reach = nullptr;  // the piece seen so far that ends last
  for (const Piece& p : pieces) {
    if (reach != nullptr && p.start < reach->end) {
      size_t a = std::min(reach->window, p.window), b = std::max(reach->window, p.window);
      return Bad("windows " + std::to_string(a + 1) + " and " + std::to_string(b + 1) +
                 " overlap (both open on " + WeekMinuteText(p.start) + ")");
    }
    if (reach == nullptr || p.end > reach->end) reach = &p;
  }
  return Status::Ok();
}

std::optional<WindowSpan> CurrentWindow(const Schedule& schedule, Time now) {
  const date::time_zone* zone = FindZone(schedule.timezone);
  if (zone == nullptr || !InEvaluatedRange(now)) return std::nullopt;
  for (const WindowSpan& s : SpansAround(schedule, zone, now, kScanDays)) {
    if (s.start <= now && now < s.end) {
      if (s.end - s.start > kAlwaysOpenSpan) return WindowSpan{Time::min(), Time::max()};
      return s;
    }
  }
  return std::nullopt;
}

std::optional<Time> NextOpening(const Schedule& schedule, Time now) {
  const date::time_zone* zone = FindZone(schedule.timezone);
  if (zone == nullptr || !InEvaluatedRange(now)) return std::nullopt;
  for (const WindowSpan& s : SpansAround(schedule, zone, now, kScanDaysAhead)) {
    if (s.start > now) return s.start;
    // A span containing `now` that long never closes, so nothing opens.
    if (s.end > now && s.end - s.start > kAlwaysOpenSpan) return std::nullopt;
  }
  return std::nullopt;
}

std::string FormatLocalTime(const Schedule& schedule, Time t) {
  auto utc = date::floor<std::chrono::seconds>(t);
  const date::time_zone* zone = FindZone(schedule.timezone);
  if (zone == nullptr || !InEvaluatedRange(t)) return date::format("%a %F %R UTC", utc);
  date::zoned_seconds local(zone, utc);
  std::string out = date::format("%a %F %R %Z", local);
  bool same_day = date::floor<date::days>(local.get_local_time()).time_since_epoch() ==
                  date::floor<date::days>(utc).time_since_epoch();
  out += same_day ? date::format(" (%R UTC)", utc) : date::format(" (%a %F %R UTC)", utc);
  return out;
}

std::optional<uint8_t> ParseDays(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < std::size(kDayNames); ++i) {
    if (lower == kDayNames[i]) return static_cast<uint8_t>(1u << ((i + 1) % 7));
  }
  if (lower == "weekdays") return static_cast<uint8_t>(0b0111110);
  if (lower == "weekend") return static_cast<uint8_t>(0b1000001);
  if (lower == "daily") return static_cast<uint8_t>(0b1111111);
  return std::nullopt;
}

std::vector<std::string> DayNames(uint8_t days) {
  std::vector<std::string> out;
  for (size_t i = 0; i < std::size(kDayNames); ++i) {
    if (days & (1u << ((i + 1) % 7))) out.emplace_back(kDayNames[i]);
  }
  return out;
}

std::optional<int> ParseTimeOfDay(std::string_view text, bool allow_end_of_day) {
  size_t colon = text.find(':');
  if (colon != 1 && colon != 2) return std::nullopt;
  if (text.size() != colon + 3) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != colon && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  int hours = 0;
  for (size_t i = 0; i < colon; ++i) hours = hours * 10 + (text[i] - '0');
  int mins = (text[colon + 1] - '0') * 10 + (text[colon + 2] - '0');
  if (mins > 59) return std::nullopt;
  if (hours == 24 && mins == 0 && allow_end_of_day) return kMinutesPerDay;
  if (hours > 23) return std::nullopt;
  return hours * 60 + mins;
}

std::string FormatTimeOfDay(int minutes) {
  char buf[8];
  int h = minutes / 60, m = minutes % 60;
  buf[0] = static_cast<char>('0' + h / 10 % 10);
  buf[1] = static_cast<char>('0' + h % 10);
  buf[2] = ':';
  buf[3] = static_cast<char>('0' + m / 10);
  buf[4] = static_cast<char>('0' + m % 10);
  return std::string(buf, 5);
}

}  // namespace pinhole
