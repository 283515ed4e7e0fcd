// Durations as written by people: "90s", "45m", "2h", "1d", "1h30m", or
// integer seconds ("3600").
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

// Parses a duration. Errors (reason "invalid_duration") on empty input, unknown
// units, negative values, or overflow past 10 years. Zero is accepted here;
// callers that need a positive duration check it.
Result<Seconds> ParseDuration(std::string_view text);

// Shortest human form: 5400s -> "1h30m", 86400s -> "1d", 0 -> "0s".
std::string FormatDuration(Seconds d);

}  // namespace pinhole
