// Policy evaluation: may this user get this lease? Pure; the caller supplies
// the catalog it read from the store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace pinhole {

// Everything a decision may look at, read once from the store.
struct Catalog {
  std::vector<Service> services;
  std::vector<AccessGroup> access_groups;
  std::vector<Policy> policies;

  const Service* FindService(std::string_view name) const;
  const AccessGroup* FindAccessGroup(std::string_view name) const;
};

struct LeaseRequest {
  std::vector<std::string> services;  // either services...
  std::string access_group;           // ...or one access group
  std::optional<Seconds> duration;    // policy default when absent
  RecipientKind recipient = RecipientKind::kSelf;
  std::optional<Cidr> cidr;  // for kCidr
  IpAddress client_ip;       // the requester's address (for kSelf)
  Time now{};                // when it is asked; schedules are judged at this instant
};

struct Grant {
  std::vector<std::string> services;  // resolved, sorted, unique
  Seconds duration{};
  Cidr source;
  std::string policy;                           // name of the deciding policy
  ApprovalMode approval = ApprovalMode::kAuto;  // kAdmin: the lease waits for an admin
  ActivateOn activate_on = ActivateOn::kRequestAddress;
  bool notify_admins = false;
  // When the schedule window the grant was made in closes, if the lease must
  // end with it (the policy has a schedule and may_outlive_window is false).
  // The caller caps expires_at to it. Absent for invitations, which are
  // judged when they are used (CheckSchedule, CapToWindow).
  std::optional<Time> window_end;
};

std::string_view ToString(ApprovalMode m);
std::string_view ToString(ActivateOn a);
std::optional<ApprovalMode> ParseApprovalMode(std::string_view s);
std::optional<ActivateOn> ParseActivateOn(std::string_view s);

// Does `user` fall under `policy` (directly or through a group)?
bool IsSubject(const Policy& policy, const User& user);

// All service names a policy grants (direct + through access groups).
std::vector<std::string> GrantedServices(const Policy& policy, const Catalog& catalog);

// Something a user may ask for, with the policy whose limits would apply.
struct Offer {
  enum class Kind { kService, kAccessGroup };
  Kind kind = Kind::kService;
  std::string name;
  std::vector<std::string> services;  // sorted
  // The policy Decide prefers when every schedule is open (automatic approval
  // first, then the longest maximum); nullptr for a public access group that
  // no policy of this user covers.
  const Policy* policy = nullptr;
};

// What `user` may request: each existing service some policy grants them, and
// each access group that one of their policies covers wholly or that is
// public. Services first, then access groups, each by name. The pointers
// point into `catalog`.
std::vector<Offer> Offers(const User& user, const Catalog& catalog);

// Decides a request. One policy must cover every requested service and allow
// the recipient kind, be open at request.now (its schedule; invitations are
// judged when used instead), and allow the prefix and the duration. Among the
// policies that would allow it, automatic approval wins over admin approval,
// then the longest maximum, then the name. Errors carry the API reasons:
// unknown_service (422), not_permitted (403), outside_schedule (403, naming
// the earliest next opening), invalid_duration (422), duration_exceeds_max
// (422), cidr_too_wide (422), invalid_cidr (422). A prefix of /0 is refused
// whatever a policy says.
Result<Grant> Decide(const User& user, const LeaseRequest& request, const Catalog& catalog);

// Whether `policy`'s schedule is open at `now` (always, without one). Else
// PermissionDenied "outside_schedule" with the next opening in the message.
// For activations that happen after the decision (approval, invitation).
Status CheckSchedule(const Policy& policy, Time now);

// `expires`, or the end of the window open at `now` if that is earlier and
// the policy does not let leases outlive their window. Returns `now` when the
// policy's schedule is closed at `now` (call CheckSchedule first).
Time CapToWindow(const Policy& policy, Time now, Time expires);

// Checks a renewal: the lease's policy (if it still exists and still names
// this user) must allow `duration`. Returns the policy's max on success.
Status CheckRenewal(const User& user, const Lease& lease, Seconds duration, const Catalog& catalog);

// CheckRenewal, and then the lease's policy's schedule at `now`: the new
// expiry (now + duration, capped to the open window unless the policy lets
// leases outlive it), or outside_schedule (403) when the window is closed.
Result<Time> RenewalExpiry(const User& user, const Lease& lease, Seconds duration,
                           const Catalog& catalog, Time now);

}  // namespace pinhole
