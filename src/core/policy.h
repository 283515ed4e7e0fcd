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
};

struct Grant {
  std::vector<std::string> services;  // resolved, sorted, unique
  Seconds duration{};
  Cidr source;
  std::string policy;  // name of the deciding policy
};

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
  // The most generous policy covering it (the one Decide prefers); nullptr for
  // a public access group that no policy of this user covers.
  const Policy* policy = nullptr;
};

// What `user` may request: each existing service some policy grants them, and
// each access group that one of their policies covers wholly or that is
// public. Services first, then access groups, each by name. The pointers
// point into `catalog`.
std::vector<Offer> Offers(const User& user, const Catalog& catalog);

// Decides a request. One policy must cover every requested service and allow
// the recipient kind, the prefix and the duration. Errors carry the API
// reasons: unknown_service (422), not_permitted (403), invalid_duration
// (422), duration_exceeds_max (422), cidr_too_wide (422), invalid_cidr (422).
// A prefix of /0 is refused whatever a policy says.
Result<Grant> Decide(const User& user, const LeaseRequest& request, const Catalog& catalog);

// Checks a renewal: the lease's policy (if it still exists and still names
// this user) must allow `duration`. Returns the policy's max on success.
Status CheckRenewal(const User& user, const Lease& lease, Seconds duration, const Catalog& catalog);

}  // namespace pinhole
