#include "http/client_ip.h"

#include <optional>
#include <string>

namespace pinhole {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigits(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoul(std::string(s)) <= 65535;
}

// RFC 7239 obfport: "_" followed by ALPHA / DIGIT / "." / "_" / "-".
bool IsObfuscatedPort(std::string_view s) {
  if (s.size() < 2 || s.front() != '_') return false;
  for (char c : s.substr(1)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:80".
std::optional<IpAddress> ParseNode(std::string_view s) {
  s = Trim(s);
  std::string_view host;
  if (s.starts_with('[')) {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      rest.remove_prefix(1);
      if (!IsDigits(rest) && !IsObfuscatedPort(rest)) return std::nullopt;
    }
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // "[192.0.2.1]"
  } else {
    size_t first = s.find(':');
    if (first != std::string_view::npos && first == s.rfind(':')) {
      // Exactly one colon: IPv4 with a port. (Bare IPv6 has at least two.)
      std::string_view port = s.substr(first + 1);
      if (!IsDigits(port) && !IsObfuscatedPort(port)) return std::nullopt;
      host = s.substr(0, first);
    } else {
      host = s;
    }
  }
  if (host.empty() || host.find('%') != std::string_view::npos) return std::nullopt;
  Result<IpAddress> ip = IpAddress::Parse(host);
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

// Splits on `sep` outside quoted-strings. Returns false on an unterminated quote.
bool SplitOutsideQuotes(std::string_view s, char sep, std::vector<std::string_view>& out) {
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) return false;
  out.push_back(s.substr(start));
  return true;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The node of one Forwarded element's "for" parameter, or nullopt if the
// element is malformed, has no (or two) "for", or names no IP address.
std::optional<IpAddress> ForwardedFor(std::string_view element) {
  std::vector<std::string_view> pairs;
  if (!SplitOutsideQuotes(element, ';', pairs)) return std::nullopt;
  std::optional<std::string> value;
  for (std::string_view pair : pairs) {
    pair = Trim(pair);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view name = Trim(pair.substr(0, eq));
    std::string_view raw = Trim(pair.substr(eq + 1));
    if (!IEquals(name, "for")) continue;
    if (value.has_value()) return std::nullopt;
    std::string v;
    if (raw.starts_with('"')) {
      if (raw.size() < 2 || !raw.ends_with('"')) return std::nullopt;
      raw = raw.substr(1, raw.size() - 2);
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\') {
          if (++i == raw.size()) return std::nullopt;
        } else if (raw[i] == '"') {
          return std::nullopt;
        }
        v += raw[i];
      }
    } else {
      v = std::string(raw);
    }
    value = std::move(v);
  }
  if (!value.has_value()) return std::nullopt;
  return ParseNode(*value);
}

bool Trusted(const IpAddress& a, const std::vector<Cidr>& trusted) {
  for (const Cidr& c : trusted) {
    if (c.Contains(a)) return true;
  }
  return false;
}

}  // namespace

IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for,
                        std::string_view forwarded, const std::vector<Cidr>& trusted_proxies) {
  if (!Trusted(peer, trusted_proxies)) return peer;

  const bool use_xff = !Trim(forwarded_for).empty();
  std::string_view header = use_xff ? forwarded_for : forwarded;
  if (Trim(header).empty()) return peer;

  std::vector<std::string_view> entries;
  if (use_xff) {
    // No quoting in X-Forwarded-For: a quote just makes its entry malformed.
    size_t start = 0;
    for (size_t comma; (comma = header.find(',', start)) != std::string_view::npos;
         start = comma + 1) {
      entries.push_back(header.substr(start, comma - start));
    }
    entries.push_back(header.substr(start));
  } else if (!SplitOutsideQuotes(header, ',', entries)) {
    // An unterminated quote leaves the right-most element unreadable.
    return peer;
  }

  IpAddress hop = peer;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::optional<IpAddress> next = use_xff ? ParseNode(*it) : ForwardedFor(*it);
    if (!next.has_value()) return hop;
    hop = *next;
    if (!Trusted(hop, trusted_proxies)) return hop;
  }
  return hop;
}

}  // namespace pinhole
