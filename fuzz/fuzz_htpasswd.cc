// Fuzzes the htpasswd and group file parsers (auth/htpasswd.h), which read
// files an operator (or a tool) wrote: arbitrary bytes never crash, and what
// parses keeps the parsers' promises.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/htpasswd.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto users = ParseHtpasswd(text); users.ok()) {
    for (const auto& [name, e] : *users) {
      FUZZ_CHECK(!name.empty() && name == e.user, fuzz::Escape(text));
      FUZZ_CHECK(HtpasswdScheme(e.hash) == e.scheme && !e.scheme.empty(), fuzz::Escape(text));
      FUZZ_CHECK(e.weak == (e.scheme != "bcrypt"), fuzz::Escape(text));
    }
  } else {
    FUZZ_CHECK(users.status().reason() == "invalid_htpasswd", users.status().ToString());
  }
  if (auto groups = ParseGroupFile(text); groups.ok()) {
    for (const auto& [user, gs] : *groups) {
      FUZZ_CHECK(!user.empty() && !gs.empty(), fuzz::Escape(text));
    }
  } else {
    FUZZ_CHECK(groups.status().reason() == "invalid_group_file", groups.status().ToString());
  }
  return 0;
}
