// IPv4/IPv6 addresses and CIDR prefixes, as the source of a lease.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole {

enum class Family { kV4, kV6 };

// An address, stored as 16 bytes (IPv4 in the first 4).
struct IpAddress {
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};

  // Accepts dotted IPv4 and any RFC 4291 IPv6 text. IPv4-mapped IPv6
  // (::ffff:a.b.c.d) is returned as IPv4, because that is how a dual-stack
  // socket reports an IPv4 peer.
  static Result<IpAddress> Parse(std::string_view text);
  std::string ToString() const;  // canonical (RFC 5952 for IPv6)
  int bits() const { return family == Family::kV4 ? 32 : 128; }
  auto operator<=>(const IpAddress&) const = default;
};

// A network prefix; the address is always masked to the prefix length.
struct Cidr {
  IpAddress address;
  int prefix = 32;

  // "198.51.100.0/28", "2001:db8::/56", or a bare address (host prefix).
  // Host bits set ("198.51.100.7/28") are an error (reason "invalid_cidr"),
  // so that what a user typed is never silently widened.
  static Result<Cidr> Parse(std::string_view text);
  static Cidr Host(const IpAddress& a) { return Cidr{a, a.bits()}; }

  Family family() const { return address.family; }
  bool is_host() const { return prefix == address.bits(); }
  bool Contains(const IpAddress& a) const;
  bool Contains(const Cidr& other) const;  // other is equal or narrower and inside
  std::string ToString() const;            // always "addr/prefix"
  auto operator<=>(const Cidr&) const = default;
};

}  // namespace pinhole
