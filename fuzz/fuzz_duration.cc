// Fuzzes ParseDuration / FormatDuration (core/duration.h) and ParsePortRange
// (core/model.h): what parses is in range and prints to text that parses
// back to the same value. FormatDuration also gets arbitrary 64-bit counts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/duration.h"
#include "core/model.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

constexpr int64_t kMaxSeconds = int64_t{3650} * 86400;  // the documented cap

void CheckDuration(std::string_view text) {
  Result<Seconds> d = ParseDuration(text);
  if (!d.ok()) {
    FUZZ_CHECK(d.status().reason() == "invalid_duration", d.status().ToString());
    return;
  }
  FUZZ_CHECK(d->count() >= 0 && d->count() <= kMaxSeconds,
             Escape(text) + " gave " + std::to_string(d->count()));
  std::string printed = FormatDuration(*d);
  Result<Seconds> back = ParseDuration(printed);
  FUZZ_CHECK(back.ok(), Escape(text) + " printed as unparseable " + Escape(printed));
  FUZZ_CHECK(*back == *d, Escape(text) + " -> " + printed + " -> " + std::to_string(back->count()));
}

void CheckFormat(int64_t count) {
  std::string printed = FormatDuration(Seconds(count));
  FUZZ_CHECK(!printed.empty(), "empty text for " + std::to_string(count));
  if (count < 0 || count > kMaxSeconds) return;
  Result<Seconds> back = ParseDuration(printed);
  FUZZ_CHECK(back.ok() && back->count() == count,
             std::to_string(count) + " printed as " + Escape(printed));
}

void CheckPorts(std::string_view text) {
  Result<PortRange> r = ParsePortRange(text);
  if (!r.ok()) return;
  FUZZ_CHECK(r->first >= 1 && r->first <= r->last,
             Escape(text) + " gave " + std::to_string(r->first) + "-" + std::to_string(r->last));
  std::string printed = ToString(*r);
  Result<PortRange> back = ParsePortRange(printed);
  FUZZ_CHECK(back.ok() && *back == *r, Escape(text) + " printed as " + Escape(printed));
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pinhole::CheckDuration(text);
  pinhole::CheckPorts(text);
  if (size >= sizeof(int64_t)) {
    int64_t count;
    std::memcpy(&count, data, sizeof count);
    pinhole::CheckFormat(count);
    // Also a value inside the valid range, which arbitrary bytes rarely hit.
    pinhole::CheckFormat(
        static_cast<int64_t>(static_cast<uint64_t>(count) % (pinhole::kMaxSeconds + 1)));
  }
  return 0;
}
