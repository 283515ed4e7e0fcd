#include "core/lease_state.h"

#include <string>

namespace pinhole {

bool CanTransition(LeaseState from, LeaseState to) {
  using S = LeaseState;
  switch (from) {
    case S::kPendingApproval:
      return to == S::kActive || to == S::kApproved || to == S::kInvited || to == S::kDenied ||
             to == S::kCancelled || to == S::kExpired || to == S::kRevoked;
    case S::kApproved:
      return to == S::kActive || to == S::kCancelled || to == S::kExpired || to == S::kRevoked;
    case S::kInvited:
      return to == S::kActive || to == S::kCancelled || to == S::kExpired || to == S::kRevoked;
    case S::kActive:
      return to == S::kExpired || to == S::kTerminated || to == S::kRevoked;
    case S::kExpired:
    case S::kTerminated:
    case S::kRevoked:
    case S::kDenied:
    case S::kCancelled:
      return false;  // a lease is one-shot: nothing leaves an ended state
  }
  return false;
}

Status Transition(Lease& lease, LeaseState to, Time now, std::string_view actor) {
  if (!IsLive(lease.state)) {
    return Status::Conflict("lease_not_live",
                            "lease is already " + std::string(ToString(lease.state)));
  }
  if (!CanTransition(lease.state, to)) {
    return Status::Conflict("invalid_transition", "a lease cannot go from " +
                                                      std::string(ToString(lease.state)) + " to " +
                                                      std::string(ToString(to)));
  }
  lease.state = to;
  if (to == LeaseState::kActive) {
    lease.activated_at = now;
  } else if (!IsLive(to)) {
    lease.ended_at = now;
    lease.ended_by = std::string(actor);
  }
  return Status::Ok();
}

Status Renew(Lease& lease, Seconds duration, Time now) {
  if (lease.state != LeaseState::kActive) {
    return Status::Conflict(
        "lease_not_active",
        "only an active lease can be renewed; this one is " + std::string(ToString(lease.state)));
  }
  if (lease.expires_at <= now) {
    return Status::Conflict("lease_expired", "the lease has expired; request a new one");
  }
  if (duration.count() <= 0) {
    return Status::Invalid("invalid_duration", "the duration must be positive");
  }
  lease.expires_at = now + duration;
  lease.reminded = false;  // a new expiry earns a new reminder
  return Status::Ok();
}

}  // namespace pinhole
