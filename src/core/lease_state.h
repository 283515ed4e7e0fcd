// The lease state machine of DESIGN.md section 5.
#pragma once

#include "core/model.h"
#include "core/result.h"

namespace pinhole {

// Is the move from -> to allowed? (e.g. active -> expired yes; expired -> active never.)
bool CanTransition(LeaseState from, LeaseState to);

// Moves `lease` to `to` at `now` by `actor`, setting activated_at/ended_at/ended_by
// as appropriate. Conflict ("lease_not_live" or "invalid_transition") if not allowed;
// the lease is unchanged on error.
Status Transition(Lease& lease, LeaseState to, Time now, std::string_view actor);

// Sets a new expiry for an active lease: now + duration. Conflict if the lease
// is not active or already past its expiry (a lease is one-shot); the lease
// is unchanged on error.
Status Renew(Lease& lease, Seconds duration, Time now);

}  // namespace pinhole
