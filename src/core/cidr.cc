#include "core/cidr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace pinhole {
namespace {

// Longest textual IPv6 address with an embedded IPv4 tail is 45 characters.
constexpr size_t kMaxAddressText = 64;

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

Status BadAddress(std::string_view text) {
  return Status::Invalid(
      "invalid_address",
      "not an IP address: \"" + std::string(text.substr(0, kMaxAddressText)) + "\"");
}

Status BadCidr(std::string_view text, std::string_view why) {
  return Status::Invalid("invalid_cidr", "invalid CIDR \"" +
                                             std::string(text.substr(0, kMaxAddressText + 4)) +
                                             "\": " + std::string(why));
}

// True if the bits of `a` after the first `prefix` are all zero.
bool HostBitsClear(const IpAddress& a, int prefix) {
  for (int i = 0; i < a.bits() / 8; ++i) {
    int keep = std::min(8, std::max(0, prefix - i * 8));
    uint8_t mask = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
    if ((a.bytes[i] & ~mask) != 0) return false;
  }
  return true;
}

bool PrefixMatches(const IpAddress& net, int prefix, const IpAddress& a) {
  if (net.family != a.family) return false;
  int full = prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (net.bytes[i] != a.bytes[i]) return false;
  }
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (net.bytes[full] & mask) == (a.bytes[full] & mask);
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) return BadAddress(text);
  // inet_pton needs a NUL-terminated string; an embedded NUL must not
  // truncate what is checked.
  if (text.find('\0') != std::string_view::npos) return BadAddress(text);
  std::string z(text);
  IpAddress a;
  if (z.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, z.c_str(), a.bytes.data()) != 1) return BadAddress(text);
    a.family = Family::kV4;
    return a;
  }
  if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) != 1) return BadAddress(text);
  a.family = Family::kV6;
  if (std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), a.bytes.begin())) {
    IpAddress v4;
    v4.family = Family::kV4;
    std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return a;
}

std::string IpAddress::ToString() const {
  char buf[64];
  if (family == Family::kV4) {
    int n = std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", bytes[0], bytes[1], bytes[2], bytes[3]);
    return std::string(buf, n);
  }
  uint16_t words[8];
  for (int i = 0; i < 8; ++i)
    words[i] = static_cast<uint16_t>(bytes[2 * i] << 8 | bytes[2 * i + 1]);
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the
  // first such run on a tie.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (words[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && words[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    int n = std::snprintf(buf, sizeof buf, "%x", words[i]);
    out.append(buf, n);
  }
  return out;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  auto addr = IpAddress::Parse(addr_text);
  if (!addr.ok()) return BadCidr(text, "bad address");
  bool was_v6_text = addr_text.find(':') != std::string_view::npos;
  bool mapped = was_v6_text && addr->family == Family::kV4;
  if (slash == std::string_view::npos) return Cidr::Host(*addr);

  std::string_view prefix_text = text.substr(slash + 1);
  if (prefix_text.empty() || prefix_text.size() > 3) return BadCidr(text, "bad prefix length");
  int prefix = -1;
  for (char c : prefix_text) {
    if (c < '0' || c > '9') return BadCidr(text, "bad prefix length");
  }
  std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
  // "/024" is ambiguous (is it octal?); people never mean it.
  if (prefix_text.size() > 1 && prefix_text[0] == '0') return BadCidr(text, "bad prefix length");
  if (mapped) {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8; a shorter prefix would reach beyond
    // the mapped range, which has no IPv4 meaning.
    if (prefix < 96 || prefix > 128) return BadCidr(text, "prefix length out of range");
    prefix -= 96;
  }
  if (prefix < 0 || prefix > addr->bits()) return BadCidr(text, "prefix length out of range");
  if (!HostBitsClear(*addr, prefix)) {
    return BadCidr(text, "address has bits set beyond the prefix length");
  }
  return Cidr{*addr, prefix};
}

bool Cidr::Contains(const IpAddress& a) const { return PrefixMatches(address, prefix, a); }

bool Cidr::Contains(const Cidr& other) const {
  return other.family() == family() && other.prefix >= prefix && Contains(other.address);
}

std::string Cidr::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

}  // namespace pinhole
