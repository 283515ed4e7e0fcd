// The "tunnel" backend: services reached through pinholed's WebSocket tunnel
// (GET /api/v1/tunnel) instead of through a hole in a firewall. A lease on
// such a service opens nothing; it authorizes tunnels, which the tunnel
// endpoint checks against the store for every connection. So this enforcer
// only validates targets and remembers the holes it is given, which lets the
// controller treat tunnel services like any other (rule status "applied").
//
// Thread-safety: used from the controller's thread only, like every Enforcer.
#pragma once

#include <memory>
#include <string>

#include "enforce/enforcer.h"

namespace pinhole {

inline constexpr std::string_view kTunnelBackend = "tunnel";

// Where a tunnel service's connections go, read from its target_json:
// {"address": "10.0.0.5" | "db.internal", "port": 22}.
struct TunnelTarget {
  std::string address;  // IP literal or host name, as configured
  uint16_t port = 0;
  // "10.0.0.5:22", "[2001:db8::5]:22", "db.internal:5432".
  std::string ToString() const;
};

// InvalidArgument "invalid_target" with a message naming the service and
// the problem: not an object, unknown keys, a missing or malformed address,
// a port outside 1..65535.
Result<TunnelTarget> ParseTunnelTarget(const Service& service);

std::unique_ptr<Enforcer> NewTunnelEnforcer();

}  // namespace pinhole
