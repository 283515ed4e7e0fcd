#include "core/policy.h"

#include <algorithm>
#include <cctype>

#include "core/duration.h"
#include "core/schedule.h"

namespace pinhole {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool Covers(const std::vector<std::string>& granted, const std::vector<std::string>& wanted) {
  // Both sorted and unique.
  return std::includes(granted.begin(), granted.end(), wanted.begin(), wanted.end());
}

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Decide's preference among policies that cover a request: one that needs
// no admin, then the longest maximum, then the name, so that the choice does
// not depend on catalog order.
bool Preferred(const Policy* a, const Policy* b) {
  if (a->approval != b->approval) return a->approval == ApprovalMode::kAuto;
  if (a->max_duration != b->max_duration) return a->max_duration > b->max_duration;
  return a->name < b->name;
}

// Why none of `closed` (non-empty, each with a schedule closed at `now`) may
// grant now, naming the one that opens first.
Status OutsideSchedule(const std::vector<const Policy*>& closed, Time now) {
  const Policy* first = nullptr;
  std::optional<Time> opens;
  for (const Policy* p : closed) {
    std::optional<Time> t = NextOpening(*p->schedule, now);
    if (t && (!opens || *t < *opens)) {
      first = p;
      opens = t;
    }
  }
  if (first == nullptr) {
    // Only a time zone the server no longer knows gets here; closed is safe.
    const Policy& p = *closed.front();
    return Status::Denied("outside_schedule", "the access schedule of policy \"" + p.name +
                                                  "\" names a time zone this server does not "
                                                  "know (\"" +
                                                  p.schedule->timezone + "\")");
  }
  return Status::Denied("outside_schedule", "outside the access schedule of policy \"" +
                                                first->name + "\" (" + first->schedule->timezone +
                                                "); it next opens " +
                                                FormatLocalTime(*first->schedule, *opens));
}

// The end of the window a lease granted at `now` must end with, if any.
std::optional<Time> WindowEnd(const Policy& p, Time now) {
  if (!p.schedule || p.may_outlive_window) return std::nullopt;
  std::optional<WindowSpan> w = CurrentWindow(*p.schedule, now);
  if (!w) return now;  // closed: nothing may outlive it
  if (w->end == Time::max()) return std::nullopt;
  return w->end;
}

// Where one policy stopped short of allowing a request.
enum class Shortfall { kNone, kDuration, kCidr };

}  // namespace

const Service* Catalog::FindService(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const AccessGroup* Catalog::FindAccessGroup(std::string_view name) const {
  for (const auto& g : access_groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

bool IsSubject(const Policy& policy, const User& user) {
  // Emails are stored lower-cased, but a policy typed into a config file may
  // not be; an address's case does not make it another person.
  for (const auto& email : policy.users) {
    if (EqualsIgnoreCase(email, user.email)) return true;
  }
  for (const auto& g : policy.groups) {
    if (std::find(user.groups.begin(), user.groups.end(), g) != user.groups.end()) return true;
  }
  return false;
}

std::vector<std::string> GrantedServices(const Policy& policy, const Catalog& catalog) {
  std::vector<std::string> out = policy.services;
  for (const auto& name : policy.access_groups) {
    // A policy naming an access group that was since deleted grants nothing
    // through it, rather than failing every decision.
    if (const AccessGroup* g = catalog.FindAccessGroup(name)) {
      out.insert(out.end(), g->services.begin(), g->services.end());
    }
  }
  SortUnique(out);
  return out;
}

std::vector<Offer> Offers(const User& user, const Catalog& catalog) {
  std::vector<std::pair<const Policy*, std::vector<std::string>>> mine;
  for (const auto& p : catalog.policies) {
    if (!user.disabled && IsSubject(p, user)) mine.emplace_back(&p, GrantedServices(p, catalog));
  }
  auto best_covering = [&mine](const std::vector<std::string>& wanted) {
    const Policy* best = nullptr;
    for (const auto& [p, granted] : mine) {
      if (Covers(granted, wanted) && (best == nullptr || Preferred(p, best))) best = p;
    }
    return best;
  };

  std::vector<Offer> out;
  std::vector<std::string> services;
  for (const auto& [p, granted] : mine)
    services.insert(services.end(), granted.begin(), granted.end());
  SortUnique(services);
  for (const auto& name : services) {
    if (catalog.FindService(name) == nullptr) continue;  // named by a policy, since deleted
    out.push_back(Offer{Offer::Kind::kService, name, {name}, best_covering({name})});
  }
  std::vector<Offer> groups;
  for (const auto& g : catalog.access_groups) {
    std::vector<std::string> wanted = g.services;
    SortUnique(wanted);
    const Policy* p = wanted.empty() ? nullptr : best_covering(wanted);
    if (p != nullptr || g.is_public) {
      groups.push_back(Offer{Offer::Kind::kAccessGroup, g.name, std::move(wanted), p});
    }
  }
  std::sort(groups.begin(), groups.end(),
            [](const Offer& a, const Offer& b) { return a.name < b.name; });
  out.insert(out.end(), std::make_move_iterator(groups.begin()),
             std::make_move_iterator(groups.end()));
  return out;
}

Result<Grant> Decide(const User& user, const LeaseRequest& request, const Catalog& catalog) {
  if (user.disabled) return Status::Denied("not_permitted", "this account is disabled");

  // 1. What is asked for.
  std::vector<std::string> wanted = request.services;
  if (!request.access_group.empty()) {
    const AccessGroup* g = catalog.FindAccessGroup(request.access_group);
    if (g == nullptr) {
      return Status::Invalid("unknown_service",
                             "unknown access group \"" + request.access_group + "\"");
    }
    wanted.insert(wanted.end(), g->services.begin(), g->services.end());
  }
  SortUnique(wanted);
  if (wanted.empty()) return Status::Invalid("invalid_request", "the request names no service");
  for (const auto& name : wanted) {
    if (catalog.FindService(name) == nullptr) {
      return Status::Invalid("unknown_service", "unknown service \"" + name + "\"");
    }
  }
  if (request.duration && request.duration->count() <= 0) {
    return Status::Invalid("invalid_duration", "the duration must be positive");
  }

  // 2. Where the hole would open from; independent of any policy.
  Cidr source;
  if (request.recipient == RecipientKind::kSelf) {
    source = Cidr::Host(request.client_ip);
  } else if (request.recipient == RecipientKind::kCidr) {
    if (!request.cidr) return Status::Invalid("invalid_cidr", "a CIDR recipient needs a CIDR");
    source = *request.cidr;
    if (source.prefix <= 0) {
      return Status::Invalid("cidr_too_wide",
                             source.ToString() + " opens to the whole Internet; never allowed");
    }
  }
  // For an invitation the source is whoever opens the link, decided later.

  // 3. Policies that name this user and cover every service.
  std::vector<const Policy*> covering;
  std::vector<std::string> reachable;  // services some policy of this user grants
  for (const auto& p : catalog.policies) {
    if (!IsSubject(p, user)) continue;
    auto granted = GrantedServices(p, catalog);
    reachable.insert(reachable.end(), granted.begin(), granted.end());
    if (Covers(granted, wanted)) covering.push_back(&p);
  }
  if (covering.empty()) {
    SortUnique(reachable);
    std::vector<std::string> missing;
    std::set_difference(wanted.begin(), wanted.end(), reachable.begin(), reachable.end(),
                        std::back_inserter(missing));
    if (missing.empty()) {
      return Status::Denied("not_permitted", "no single policy allows you all of: " +
                                                 JoinNames(wanted) + "; request them separately");
    }
    return Status::Denied("not_permitted", "no policy allows you " + JoinNames(missing));
  }
  // The preferred policy decides, so its name is on the lease.
  std::sort(covering.begin(), covering.end(), Preferred);

  std::vector<const Policy*> recipient_ok;
  for (const Policy* p : covering) {
    if (p->recipients.count(request.recipient) != 0) recipient_ok.push_back(p);
  }
  if (recipient_ok.empty()) {
    return Status::Denied("not_permitted", "recipient kind \"" +
                                               std::string(ToString(request.recipient)) +
                                               "\" is not allowed for " + JoinNames(wanted));
  }

  // 4. Schedules: only a policy open now may grant. An invitation is used
  // later, by someone else; it is judged then (CheckSchedule, CapToWindow).
  const bool judged_now = request.recipient != RecipientKind::kInvite;
  std::vector<const Policy*> open, closed;
  for (const Policy* p : recipient_ok) {
    bool is_open = !judged_now || !p->schedule || CurrentWindow(*p->schedule, request.now);
    (is_open ? open : closed).push_back(p);
  }
  if (open.empty()) return OutsideSchedule(closed, request.now);

  // 5. Duration and prefix, policy by policy.
  Seconds largest_max{0};
  int narrowest_needed = -1;  // the widest prefix any duration-passing policy would allow
  bool any_duration_ok = false;
  for (const Policy* p : open) {
    Seconds d =
        request.duration ? *request.duration : std::min(p->default_duration, p->max_duration);
    largest_max = std::max(largest_max, p->max_duration);
    if (d.count() <= 0 || d > p->max_duration) continue;
    any_duration_ok = true;
    if (request.recipient == RecipientKind::kCidr) {
      int min_prefix = source.family() == Family::kV4 ? p->min_prefix_v4 : p->min_prefix_v6;
      if (source.prefix < min_prefix) {
        if (narrowest_needed < 0 || min_prefix < narrowest_needed) narrowest_needed = min_prefix;
        continue;
      }
    }
    Grant g;
    g.services = wanted;
    g.duration = d;
    g.source = source;
    g.policy = p->name;
    g.approval = p->approval;
    g.activate_on = p->activate_on;
    g.notify_admins = p->notify_admins;
    if (judged_now) g.window_end = WindowEnd(*p, request.now);
    return g;
  }
  if (!any_duration_ok) {
    if (!request.duration) {
      // Only a misconfigured default (zero) can get here.
      return Status::Invalid("invalid_duration", "the policy's default duration is not positive");
    }
    return Status::Invalid("duration_exceeds_max", "the maximum duration for " + JoinNames(wanted) +
                                                       " is " + FormatDuration(largest_max));
  }
  return Status::Invalid("cidr_too_wide", source.ToString() + " is too wide; the prefix must be /" +
                                              std::to_string(narrowest_needed) + " or narrower");
}

Status CheckSchedule(const Policy& policy, Time now) {
  if (!policy.schedule || CurrentWindow(*policy.schedule, now)) return Status::Ok();
  return OutsideSchedule({&policy}, now);
}

Time CapToWindow(const Policy& policy, Time now, Time expires) {
  std::optional<Time> end = WindowEnd(policy, now);
  return end ? std::min(expires, *end) : expires;
}

std::string_view ToString(ApprovalMode m) { return m == ApprovalMode::kAdmin ? "admin" : "auto"; }

std::string_view ToString(ActivateOn a) {
  return a == ActivateOn::kNextLogin ? "next_login" : "request_address";
}

std::optional<ApprovalMode> ParseApprovalMode(std::string_view s) {
  if (s == "auto") return ApprovalMode::kAuto;
  if (s == "admin") return ApprovalMode::kAdmin;
  return std::nullopt;
}

std::optional<ActivateOn> ParseActivateOn(std::string_view s) {
  if (s == "request_address") return ActivateOn::kRequestAddress;
  if (s == "next_login") return ActivateOn::kNextLogin;
  return std::nullopt;
}

Status CheckRenewal(const User& user, const Lease& lease, Seconds duration,
                    const Catalog& catalog) {
  if (user.disabled) return Status::Denied("not_permitted", "this account is disabled");
  if (duration.count() <= 0) {
    return Status::Invalid("invalid_duration", "the duration must be positive");
  }
  const Policy* policy = nullptr;
  for (const auto& p : catalog.policies) {
    if (p.name == lease.policy) {
      policy = &p;
      break;
    }
  }
  if (policy == nullptr) {
    return Status::Denied("not_permitted",
                          "the policy \"" + lease.policy + "\" that granted this lease is gone");
  }
  if (!IsSubject(*policy, user)) {
    return Status::Denied("not_permitted",
                          "the policy \"" + policy->name + "\" no longer applies to you");
  }
  std::vector<std::string> wanted = lease.services;
  SortUnique(wanted);
  if (!Covers(GrantedServices(*policy, catalog), wanted)) {
    return Status::Denied("not_permitted", "the policy \"" + policy->name + "\" no longer covers " +
                                               JoinNames(wanted));
  }
  if (duration > policy->max_duration) {
    return Status::Invalid("duration_exceeds_max",
                           "the maximum duration is " + FormatDuration(policy->max_duration));
  }
  return Status::Ok();
}

Result<Time> RenewalExpiry(const User& user, const Lease& lease, Seconds duration,
                           const Catalog& catalog, Time now) {
  RETURN_IF_ERROR(CheckRenewal(user, lease, duration, catalog));
  // CheckRenewal found the policy by this name.
  const Policy& policy = *std::find_if(catalog.policies.begin(), catalog.policies.end(),
                                       [&](const Policy& p) { return p.name == lease.policy; });
  RETURN_IF_ERROR(CheckSchedule(policy, now));
  return CapToWindow(policy, now, now + duration);
}

}  // namespace pinhole
