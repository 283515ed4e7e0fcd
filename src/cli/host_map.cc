#include "cli/host_map.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli/config_files.h"

namespace pinhole::cli {
namespace {

namespace fs = std::filesystem;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Host names, IP literals (v6 with or without brackets, with a zone) and `*`.
bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == ':' || c == '*' || c == '%' || c == '[' || c == ']';
}

// Whatever a service is called on the server, it prints and has no spaces.
bool IsServiceChar(char c) { return c > 0x20 && c < 0x7f && c != '#'; }

std::string Describe(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  return buf;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Greedy match that, on a mismatch, lets the most recent `*` swallow one
  // more character. Each `*` only ever moves forward, so there is no
  // exponential backtracking on patterns like "*a*a*a*b".
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && Lower(pattern[p]) == Lower(text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Result<HostMap> HostMap::Parse(std::string_view text, std::string_view source) {
  auto bad = [&](int line, const std::string& why) {
    std::string where = std::string(source);
    if (line > 0) where += ":" + std::to_string(line);
    return Status::Invalid("bad_hosts_file", where + ": " + why);
  };
  if (text.size() > kMaxHostMapBytes) {
    return bad(0, "file is larger than " + std::to_string(kMaxHostMapBytes) + " bytes");
  }
  HostMap map;
  int number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    for (char c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
        return bad(number, "unexpected " + Describe(c));
      }
    }
    std::vector<std::string_view> fields = Fields(line);
    if (fields.empty()) continue;
    if (fields.size() != 2) {
      return bad(number, "expected `HOST SERVICE`, found " + std::to_string(fields.size()) +
                             (fields.size() == 1 ? " field" : " fields"));
    }
    std::string_view host = fields[0];
    std::string_view service = fields[1];
    if (host.size() > kMaxHostMapToken) {
      return bad(number,
                 "host pattern longer than " + std::to_string(kMaxHostMapToken) + " characters");
    }
    if (service.size() > kMaxHostMapToken) {
      return bad(number,
                 "service name longer than " + std::to_string(kMaxHostMapToken) + " characters");
    }
    for (char c : host) {
      if (!IsHostChar(c)) return bad(number, "invalid " + Describe(c) + " in host pattern");
    }
    for (char c : service) {
      if (!IsServiceChar(c)) return bad(number, "invalid " + Describe(c) + " in service name");
    }
    HostMapEntry entry;
    entry.pattern.reserve(host.size());
    for (char c : host) entry.pattern += Lower(c);
    entry.service = std::string(service);
    entry.line = number;
    map.entries_.push_back(std::move(entry));
  }
  return map;
}

std::optional<std::string> HostMap::Lookup(std::string_view host) const {
  for (const HostMapEntry& entry : entries_) {
    if (GlobMatch(entry.pattern, host)) return entry.service;
  }
  return std::nullopt;
}

Result<fs::path> HostMapPath(const char* xdg_config_home, const char* home) {
  return ConfigFilePath("hosts", "the hosts file", xdg_config_home, home);
}

Result<HostMap> LoadHostMap(const fs::path& file) {
  Result<std::string> text = ReadConfigFile(file, kMaxHostMapBytes);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return text.status();
    return Status::Invalid("bad_hosts_file", text.status().message());
  }
  return HostMap::Parse(*text, file.string());  // Parse reports a file that is too large
}

std::string ServiceForHost(const HostMap& map, std::string_view host) {
  std::optional<std::string> service = map.Lookup(host);
  return service ? *service : std::string(host);
}

}  // namespace pinhole::cli
