// The host -> service mapping that lets `pinhole connect %h` serve as an
// OpenSSH ProxyCommand: ssh knows host names, pinholed knows service names.
// The file is $XDG_CONFIG_HOME/pinhole/hosts (or ~/.config/pinhole/hosts),
// one `HOST SERVICE` pair per line, `#` starts a comment, blank lines are
// ignored. HOST may contain `*` globs (`*.prod.example.com`); host names
// compare case-insensitively, as DNS does. The first matching line wins, as
// in ssh_config, so specific lines go above broad globs.
//
// Parsing is pure (text in, map or error out) so that it can be fuzzed; only
// LoadHostMap touches the file system.
//
// Thread-safety: a HostMap is immutable after parsing; free functions keep no
// state.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pinhole::cli {

struct HostMapEntry {
  std::string pattern;  // lower-cased
  std::string service;
  int line = 0;  // 1-based, for messages
};

// Limits that keep a hostile or mistaken file (a binary, a huge log) from
// costing more than a quick error.
inline constexpr size_t kMaxHostMapBytes = 1 << 20;
inline constexpr size_t kMaxHostMapToken = 253;  // the longest DNS name

class HostMap {
 public:
  HostMap() = default;

  // Parses the whole text. Errors (reason "bad_hosts_file") name the first
  // bad line: "<source>:<line>: <what is wrong>". `source` is the file name
  // used in messages.
  static Result<HostMap> Parse(std::string_view text, std::string_view source = "hosts");

  // The service of the first entry whose pattern matches `host`, or nullopt.
  std::optional<std::string> Lookup(std::string_view host) const;

  const std::vector<HostMapEntry>& entries() const { return entries_; }

 private:
  std::vector<HostMapEntry> entries_;
};

// True when `text` matches `pattern`, where `*` matches any run of
// characters (including none and including dots) and everything else matches
// itself, ignoring ASCII case. Linear in practice, never exponential.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Where the hosts file lives, from XDG_CONFIG_HOME and HOME (either may be
// null); same rules as CredentialsPath.
Result<std::filesystem::path> HostMapPath(const char* xdg_config_home, const char* home);

// Reads and parses `file`. NotFound when it does not exist; the parse errors
// above otherwise, with the path as the source name.
Result<HostMap> LoadHostMap(const std::filesystem::path& file);

// The service to ask pinholed for: the mapped one, else `host` itself.
std::string ServiceForHost(const HostMap& map, std::string_view host);

}  // namespace pinhole::cli
