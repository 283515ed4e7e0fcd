// The client address (DESIGN.md invariant 6): the TCP peer, unless the peer
// is a trusted proxy; then the right-most address of X-Forwarded-For (or
// Forwarded: for=...) that is not itself a trusted proxy. Security-critical:
// an untrusted peer can never choose its address by sending headers.
#pragma once

#include <string_view>
#include <vector>

#include "core/cidr.h"

namespace pinhole {

// `forwarded_for` is the X-Forwarded-For value (may be a comma-joined list of
// repeated headers); `forwarded` the RFC 7239 Forwarded value. X-Forwarded-For
// is used when it is non-blank, Forwarded otherwise (never both: a proxy
// writes one of them, and mixing lists from two headers has no order).
//
// The exact rule. Let `hop` = peer. If `hop` is not inside a trusted_proxies
// CIDR, return it: the headers are ignored. Otherwise walk the list from the
// right (the entry appended by `hop`) to the left; for each entry:
//   - if it does not parse, stop and return `hop` (the last trusted hop: we
//     know who it is, but not whom it was talking to);
//   - else `hop` = the entry; if it is not trusted, return it.
// If the list is empty or every entry is trusted, return `hop` (the left-most
// entry, or the peer for an empty list).
//
// An X-Forwarded-For entry is an IPv4 or IPv6 address, optionally with a port
// ("203.0.113.7:5000", "[2001:db8::1]:443") or brackets ("[2001:db8::1]").
// A Forwarded element uses its `for=` parameter (name case-insensitive,
// token or quoted-string, IPv6 in brackets, optional port). An empty entry,
// "unknown", an obfuscated "_name", an element with no `for=`, or a zone id
// count as unparseable. IPv4-mapped IPv6 entries are treated as IPv4.
IpAddress ClientAddress(const IpAddress& peer, std::string_view forwarded_for,
                        std::string_view forwarded, const std::vector<Cidr>& trusted_proxies);

}  // namespace pinhole
