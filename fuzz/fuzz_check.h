// Invariant checks for the fuzz targets. A violated invariant prints what
// broke and aborts, so that libFuzzer reports a crash and saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// `message` is any expression convertible to std::string; it is only
// evaluated when the check fails.
#define FUZZ_CHECK(cond, message)                                                              \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n  %s\n", __FILE__, __LINE__, #cond, \
                   std::string(message).c_str());                                              \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace pinhole::fuzz {

// Makes bytes printable in a failure message.
inline std::string Escape(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

}  // namespace pinhole::fuzz
