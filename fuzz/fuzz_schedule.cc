// Fuzzes policy schedules (core/schedule.h): the day and time-of-day parsers,
// ValidateSchedule, and the evaluation of windows in real time zones.
//
// Input is text, one item per line:
//   line 1: a time zone name ("Europe/Berlin")
//   line 2: an instant, RFC 3339 ("2026-03-29T01:00:00Z"); other text means a
//           fixed instant
//   then one window per line: "<day>[,<day>...] <from> <to>" ("fri 22:00 02:00")
// Lines that do not parse are skipped, so that mutations keep most windows.
//
// Invariants: what parses prints back to the same value; validation fails
// only with "invalid_schedule"; for a valid schedule the span around an
// instant contains it, is bounded by closed instants, and the next opening
// is open and preceded by a closed instant. Invalid schedules are evaluated
// too, for crashes only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/schedule.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

constexpr size_t kMaxWindowLines = 64;

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::optional<uint8_t> CheckedDays(std::string_view name) {
  std::optional<uint8_t> bits = ParseDays(name);
  if (!bits) return std::nullopt;
  FUZZ_CHECK(*bits != 0 && *bits < 0x80, Escape(name) + " gave bits " + std::to_string(*bits));
  uint8_t back = 0;
  for (const auto& n : DayNames(*bits)) back |= ParseDays(n).value_or(0);
  FUZZ_CHECK(back == *bits, Escape(name) + " does not print back");
  return bits;
}

std::optional<int> CheckedTime(std::string_view text, bool is_to) {
  std::optional<int> m = ParseTimeOfDay(text, is_to);
  if (!m) return std::nullopt;
  FUZZ_CHECK(*m >= 0 && *m <= (is_to ? kMinutesPerDay : kMinutesPerDay - 1),
             Escape(text) + " gave " + std::to_string(*m));
  FUZZ_CHECK(ParseTimeOfDay(FormatTimeOfDay(*m), is_to) == m,
             Escape(text) + " printed as " + FormatTimeOfDay(*m));
  return m;
}

std::optional<ScheduleWindow> ParseWindowLine(std::string_view line) {
  std::vector<std::string_view> parts = Split(line, ' ');
  if (parts.size() != 3) return std::nullopt;
  ScheduleWindow w;
  for (std::string_view day : Split(parts[0], ',')) {
    std::optional<uint8_t> bits = CheckedDays(day);
    if (!bits) return std::nullopt;
    w.days |= *bits;
  }
  std::optional<int> from = CheckedTime(parts[1], false);
  std::optional<int> to = CheckedTime(parts[2], true);
  if (!from || !to) return std::nullopt;
  w.from_minute = *from;
  w.to_minute = *to;
  return w;
}

std::string Show(Time t) {
  if (t == Time::min()) return "-inf";
  if (t == Time::max()) return "+inf";
  return FormatTime(t);
}

void CheckValid(const Schedule& s, Time now) {
  constexpr Millis kTick(1);
  // No merged span of a schedule with a gap is longer than a week and the
  // DST hours it may gain (two, for the odd zone with double summer time).
  constexpr auto kLongestSpan = std::chrono::hours(7 * 24 + 2);
  std::string where = s.timezone + " at " + Show(now);

  std::optional<WindowSpan> current = CurrentWindow(s, now);
  std::optional<Time> next = NextOpening(s, now);
  FUZZ_CHECK(!FormatLocalTime(s, now).empty(), where);
  if (current) {
    FUZZ_CHECK(current->start <= now && now < current->end,
               where + ": span " + Show(current->start) + " - " + Show(current->end));
    if (current->start == Time::min()) {
      FUZZ_CHECK(current->end == Time::max(), where + ": half-infinite span");
      FUZZ_CHECK(!next, where + ": always open, yet opens at " + Show(*next));
      return;
    }
    FUZZ_CHECK(current->end - current->start <= kLongestSpan,
               where + ": span too long " + Show(current->start) + " - " + Show(current->end));
    FUZZ_CHECK(!CurrentWindow(s, current->end), where + ": open at its span's end");
    FUZZ_CHECK(!CurrentWindow(s, current->start - kTick), where + ": open before its span");
    FUZZ_CHECK(CurrentWindow(s, current->start) == current, where + ": span differs at its start");
    FUZZ_CHECK(CurrentWindow(s, current->end - kTick) == current,
               where + ": span differs at its end");
    FUZZ_CHECK(next && *next > current->end,
               where + ": next opening " + (next ? Show(*next) : "none") + " not after the span");
  } else {
    FUZZ_CHECK(next.has_value(), where + ": closed and never opens");
    FUZZ_CHECK(*next > now, where + ": next opening " + Show(*next) + " not after now");
    FUZZ_CHECK(*next - now <= std::chrono::hours(16 * 24), where + ": opens late " + Show(*next));
    std::optional<WindowSpan> then = CurrentWindow(s, *next);
    FUZZ_CHECK(then && then->start == *next, where + ": not open at next opening " + Show(*next));
    FUZZ_CHECK(!CurrentWindow(s, *next - kTick), where + ": open before next opening");
    Time mid = now + (*next - now) / 2;
    FUZZ_CHECK(!CurrentWindow(s, mid), where + ": open at " + Show(mid) + " before next opening");
  }
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines = Split(text, '\n');
  if (lines.size() > kMaxWindowLines + 2) return -1;  // -1: keep out of the corpus

  Schedule s;
  s.timezone = std::string(lines[0]);
  Time now = ParseTime("2026-11-23T09:00:00Z").value();
  if (lines.size() > 1) {
    if (auto t = ParseTime(lines[1])) now = *t;
  }
  for (size_t i = 2; i < lines.size(); ++i) {
    if (auto w = ParseWindowLine(lines[i])) s.windows.push_back(*w);
  }

  // Instants near the ends of the evaluated years (schedule.cc) have their
  // spans or next openings cut off; they are evaluated for crashes only.
  static const Time kFirst = ParseTime("1901-01-01T00:00:00Z").value();
  static const Time kLast = ParseTime("8990-01-01T00:00:00Z").value();
  const bool checkable = now >= kFirst && now < kLast;

  Status st = ValidateSchedule(s);
  if (st.ok() && checkable) {
    CheckValid(s, now);
  } else {
    FUZZ_CHECK(
        st.ok() || (st.code() == Code::kInvalidArgument && st.reason() == "invalid_schedule"),
        st.ToString());
    FUZZ_CHECK(st.ok() || !st.message().empty(), "empty message");
    // Overlapping or unknown-zone schedules may be stored by older versions;
    // evaluating them must not crash.
    (void)CurrentWindow(s, now);
    (void)NextOpening(s, now);
    (void)FormatLocalTime(s, now);
  }
  return 0;
}
