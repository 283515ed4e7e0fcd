#include "core/holes.h"

#include <algorithm>

namespace pinhole {

HoleMap DesiredHoles(const std::vector<Lease>& leases, Time now) {
  HoleMap holes;
  for (const auto& lease : leases) {
    if (lease.state == LeaseState::kActive && lease.expires_at > now) AddLeaseHoles(holes, lease);
  }
  return holes;
}

void AddLeaseHoles(HoleMap& holes, const Lease& lease) {
  for (const auto& service : lease.services) {
    auto [it, inserted] = holes.try_emplace(HoleKey{service, lease.source}, lease.expires_at);
    if (!inserted) it->second = std::max(it->second, lease.expires_at);
  }
}

HoleDiff Diff(const HoleMap& desired, const HoleMap& actual, Millis tolerance) {
  HoleDiff diff;
  for (const auto& [key, expiry] : desired) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      diff.upsert.push_back(Hole{key, expiry});
      continue;
    }
    Millis delta = expiry > it->second ? expiry - it->second : it->second - expiry;
    if (delta > tolerance) diff.upsert.push_back(Hole{key, expiry});
  }
  for (const auto& [key, expiry] : actual) {
    if (desired.find(key) == desired.end()) diff.remove.push_back(key);
  }
  return diff;
}

}  // namespace pinhole
