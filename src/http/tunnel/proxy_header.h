// The PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section
// 2.2) that tells a tunnel target who the real client is. Encoder only:
// pinholed never reads these headers.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "core/cidr.h"

namespace pinhole {

// The binary header for a proxied TCP connection from `source` to
// `destination`: the 12-byte signature, version 2 / command PROXY, family
// TCP over IPv4 (0x11) or IPv6 (0x21), the address block length, then source
// address, destination address, source port, destination port (network
// order). When the families differ, the IPv4 one is written as IPv4-mapped
// IPv6 (::ffff:a.b.c.d) and the header is IPv6.
std::string ProxyV2Header(const IpAddress& source, uint16_t source_port,
                          const IpAddress& destination, uint16_t destination_port);

}  // namespace pinhole
