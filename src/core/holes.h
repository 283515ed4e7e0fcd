// From leases to holes: the desired state of every enforcement point.
//
// A hole is one allow entry: this source prefix may reach this service until
// this time. Many leases may need the same hole (DESIGN.md invariant 4); it
// lives until the last of them ends, so its expiry is the latest one.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model.h"

namespace pinhole {

struct HoleKey {
  std::string service;  // service name
  Cidr source;
  auto operator<=>(const HoleKey&) const = default;
};

struct Hole {
  HoleKey key;
  Time expires_at{};
  // The lease whose expiry this is (the latest of those sharing the hole), or
  // 0 when unknown. Backends that label their rules (aws-sg) record it so an
  // operator can tell which lease keeps a rule open.
  Id lease = 0;
  bool operator==(const Hole&) const = default;
};

using HoleMap = std::map<HoleKey, Time>;  // key -> expiry

// Holes needed by the leases that are active and unexpired at `now`.
HoleMap DesiredHoles(const std::vector<Lease>& leases, Time now);

// Adds (or extends) the holes of one lease into `holes`.
void AddLeaseHoles(HoleMap& holes, const Lease& lease);

// What to change to get from `actual` to `desired`: `upsert` holds holes that
// are missing or whose expiry differs by more than `tolerance`; `remove` holds
// holes present but not desired.
struct HoleDiff {
  std::vector<Hole> upsert;
  std::vector<HoleKey> remove;
  bool empty() const { return upsert.empty() && remove.empty(); }
};
HoleDiff Diff(const HoleMap& desired, const HoleMap& actual, Millis tolerance);

}  // namespace pinhole
