// Fuzzes ParseTime / FormatTime (core/clock.h): every time ParseTime accepts
// must print as RFC 3339 text that parses back to the same instant. Times
// from arbitrary bytes, within years 0000-9999, must round-trip too.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

std::string Count(Time t) { return std::to_string(t.time_since_epoch().count()) + " ms"; }

void CheckParsed(std::string_view text) {
  std::optional<Time> t = ParseTime(text);
  if (!t) return;
  std::string printed = FormatTime(*t);
  std::optional<Time> back = ParseTime(printed);
  FUZZ_CHECK(back.has_value(),
             Escape(text) + " (" + Count(*t) + ") printed as unparseable " + Escape(printed));
  FUZZ_CHECK(*back == *t, Escape(text) + " -> " + printed + " -> " + Count(*back));
}

void CheckFormatted(int64_t millis) {
  using std::chrono::sys_days;
  using std::chrono::year;
  constexpr int64_t kFirst =
      std::chrono::time_point_cast<Millis>(sys_days(year(0) / 1 / 1)).time_since_epoch().count();
  constexpr int64_t kEnd = std::chrono::time_point_cast<Millis>(sys_days(year(10000) / 1 / 1))
                               .time_since_epoch()
                               .count();
  uint64_t span = static_cast<uint64_t>(kEnd - kFirst);
  Time t{Millis(kFirst + static_cast<int64_t>(static_cast<uint64_t>(millis) % span))};
  std::string printed = FormatTime(t);
  std::optional<Time> back = ParseTime(printed);
  FUZZ_CHECK(back.has_value() && *back == t, Count(t) + " printed as " + Escape(printed));
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pinhole::CheckParsed(std::string_view(reinterpret_cast<const char*>(data), size));
  if (size >= sizeof(int64_t)) {
    int64_t millis;
    std::memcpy(&millis, data, sizeof millis);
    pinhole::CheckFormatted(millis);
  }
  return 0;
}
