#include "core/duration.h"

#include <cstdint>

namespace pinhole {
namespace {

// Longer than any lease or session anyone means; also keeps arithmetic on
// Time far from overflow.
constexpr int64_t kMaxSeconds = int64_t{3650} * 86400;

Status Bad(std::string_view text, std::string_view why) {
  return Status::Invalid(
      "invalid_duration",
      "invalid duration \"" + std::string(text.substr(0, 64)) + "\": " + std::string(why));
}

int64_t UnitSeconds(char unit) {
  switch (unit) {
    case 'd':
      return 86400;
    case 'h':
      return 3600;
    case 'm':
      return 60;
    case 's':
      return 1;
    default:
      return 0;
  }
}

}  // namespace

Result<Seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Bad(text, "empty");
  int64_t total = 0;
  size_t pos = 0;
  // Units must come in this order, each at most once ("1h30m", not "30m1h").
  int64_t last_unit = INT64_MAX;
  bool bare_number = false;
  while (pos < text.size()) {
    int64_t value = 0;
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + (text[pos] - '0');
      if (value > kMaxSeconds) return Bad(text, "longer than 10 years");
      ++pos;
    }
    if (pos == start) {
      if (text[pos] == '-') return Bad(text, "negative");
      return Bad(text, "expected a number");
    }
    if (pos == text.size()) {
      // Plain seconds are only valid as the whole text ("3600"), not as a
      // trailing unit-less part ("1h30").
      if (start != 0) return Bad(text, "missing unit after the last number");
      total = value;
      bare_number = true;
      break;
    }
    int64_t unit = UnitSeconds(text[pos]);
    if (unit == 0) return Bad(text, "unknown unit (use d, h, m or s)");
    if (unit >= last_unit) return Bad(text, "units must be in order d, h, m, s, each once");
    last_unit = unit;
    ++pos;
    if (value > kMaxSeconds / unit) return Bad(text, "longer than 10 years");
    total += value * unit;
    if (total > kMaxSeconds) return Bad(text, "longer than 10 years");
  }
  if (bare_number && total > kMaxSeconds) return Bad(text, "longer than 10 years");
  return Seconds(total);
}

std::string FormatDuration(Seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  uint64_t u;
  if (s < 0) {
    out = "-";
    u = static_cast<uint64_t>(-(s + 1)) + 1;  // safe for INT64_MIN
  } else {
    u = static_cast<uint64_t>(s);
  }
  constexpr std::pair<uint64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [secs, unit] : kUnits) {
    if (u >= secs) {
      out += std::to_string(u / secs);
      out += unit;
      u %= secs;
    }
  }
  return out;
}

}  // namespace pinhole
