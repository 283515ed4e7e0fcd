// Fuzzes the ~/.config/pinhole/hosts parser and its glob matcher
// (cli/host_map.h). A file that parses holds only well-formed entries that
// print back to an equivalent file; one that does not fails with a message
// naming the source and a line that exists. GlobMatch is compared with a
// slow, obviously correct matcher.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/host_map.h"
#include "fuzz_check.h"

namespace pinhole::cli {
namespace {

using fuzz::Escape;

constexpr std::string_view kSource = "fuzz-hosts";

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Dynamic programming over (pattern prefix, text prefix): slow but plainly
// right.
bool ReferenceMatch(std::string_view p, std::string_view t) {
  std::vector<std::vector<char>> m(p.size() + 1, std::vector<char>(t.size() + 1, 0));
  m[0][0] = 1;
  for (size_t i = 1; i <= p.size(); ++i) {
    for (size_t j = 0; j <= t.size(); ++j) {
      if (p[i - 1] == '*') {
        m[i][j] = m[i - 1][j] || (j > 0 && m[i][j - 1]);
      } else {
        m[i][j] = j > 0 && m[i - 1][j - 1] && Lower(p[i - 1]) == Lower(t[j - 1]);
      }
    }
  }
  return m[p.size()][t.size()];
}

size_t CountLines(std::string_view text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (text.empty() || text.back() == '\n' ? 0 : 1);
}

void CheckParse(std::string_view text) {
  Result<HostMap> map = HostMap::Parse(text, kSource);
  if (!map.ok()) {
    FUZZ_CHECK(map.status().reason() == "bad_hosts_file", map.status().ToString());
    const std::string& message = map.status().message();
    FUZZ_CHECK(message.starts_with(std::string(kSource) + ":"), "source not named: " + message);
    // "fuzz-hosts:<line>: ..." unless the whole file was refused.
    std::string rest = message.substr(kSource.size() + 1);
    if (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
      size_t line = std::stoul(rest);
      FUZZ_CHECK(line >= 1 && line <= CountLines(text),
                 "line " + std::to_string(line) + " out of range for " + Escape(text));
    }
    return;
  }
  std::string printed;
  int previous_line = 0;
  for (const HostMapEntry& e : map->entries()) {
    FUZZ_CHECK(!e.pattern.empty() && !e.service.empty(), "empty field from " + Escape(text));
    FUZZ_CHECK(e.line > previous_line, "lines out of order in " + Escape(text));
    previous_line = e.line;
    for (char c : e.pattern) {
      FUZZ_CHECK(c == Lower(c) && c > ' ' && c < 0x7f && c != '#',
                 "bad pattern " + Escape(e.pattern) + " from " + Escape(text));
    }
    for (char c : e.service) {
      FUZZ_CHECK(c > ' ' && c < 0x7f && c != '#', "bad service " + Escape(e.service));
    }
    // With its stars removed, a pattern names a host it matches.
    std::string literal;
    for (char c : e.pattern) {
      if (c != '*') literal += c;
    }
    FUZZ_CHECK(map->Lookup(literal).has_value(),
               Escape(literal) + " not matched although " + Escape(e.pattern) + " is listed");
    printed += e.pattern + " " + e.service + "\n";
  }
  Result<HostMap> back = HostMap::Parse(printed, kSource);
  FUZZ_CHECK(back.ok(), Escape(text) + " printed as unparseable " + Escape(printed));
  FUZZ_CHECK(back->entries().size() == map->entries().size(), "entry count changed");
  for (size_t i = 0; i < back->entries().size(); ++i) {
    FUZZ_CHECK(back->entries()[i].pattern == map->entries()[i].pattern &&
                   back->entries()[i].service == map->entries()[i].service,
               "entry " + std::to_string(i) + " changed when printed: " + Escape(printed));
  }
}

void CheckGlob(std::string_view data) {
  size_t split = data.find('\n');
  if (split == std::string_view::npos) return;
  std::string_view pattern = data.substr(0, split);
  std::string_view text = data.substr(split + 1);
  if (pattern.size() > 200 || text.size() > 200) return;  // keep the reference cheap
  FUZZ_CHECK(GlobMatch(pattern, text) == ReferenceMatch(pattern, text),
             "GlobMatch(" + Escape(pattern) + ", " + Escape(text) + ") disagrees");
}

}  // namespace
}  // namespace pinhole::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pinhole::cli::CheckParse(text);
  pinhole::cli::CheckGlob(text);
  return 0;
}
