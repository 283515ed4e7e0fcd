// POST/DELETE /connection: the endpoint of scripts written for AWS-style
// "open my address" gateways, which name no service. It opens (or refreshes)
// and closes the caller's own address for the services of their default
// grant, through the same lease code as POST /api/v1/leases, so every policy
// rule (schedule, approval, maximum, capacity) applies unchanged.
//
// The default grant: the services of the policies marked "default": true
// that apply to the caller; failing that, of the one policy that applies to
// them if there is exactly one.
#include <algorithm>

#include "core/policy.h"
#include "http/api.h"
#include "http/api_codec.h"

namespace pinhole {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> DefaultGrant(const User& user, const Catalog& catalog) {
  std::vector<const Policy*> mine, defaults;
  for (const Policy& p : catalog.policies) {
    if (user.disabled || !IsSubject(p, user)) continue;
    mine.push_back(&p);
    if (p.is_default) defaults.push_back(&p);
  }
  if (defaults.empty() && mine.size() == 1) defaults = mine;
  std::vector<std::string> services;
  for (const Policy* p : defaults) {
    for (auto& s : GrantedServices(*p, catalog)) services.push_back(std::move(s));
  }
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  if (services.empty()) {
    return Status::Denied("no_default_grant",
                          mine.empty()
                              ? "no policy grants you anything"
                              : "several policies apply to you and none is marked as the default; "
                                "an admin can set \"default\": true on one");
  }
  return services;
}

// The caller's active self leases from this address for exactly `services`.
std::vector<Lease> OpenFromHere(Store& store, const Call& call,
                                const std::vector<std::string>& services) {
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kActive};
  filter.owner_id = call.caller->user.id;
  filter.recipient = RecipientKind::kSelf;
  std::vector<Lease> out;
  const Cidr here = Cidr::Host(call.client_ip);
  for (Lease& l : store.ListLeases(filter)) {
    std::vector<std::string> got = l.services;
    std::sort(got.begin(), got.end());
    if (l.source == here && got == services) out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

HttpResponse Api::OpenConnection(Call& call) {
  auto services = DefaultGrant(call.caller->user, LoadCatalog());
  if (!services.ok()) return ErrorResponse(services.status());
  auto open = OpenFromHere(ctx_.store, call, *services);
  HttpRequest inner = call.http;
  if (!open.empty()) {
    // Refresh: the newest lease for this address runs for its policy's
    // default duration from now.
    const Lease& newest = *std::max_element(
        open.begin(), open.end(), [](const Lease& a, const Lease& b) { return a.id < b.id; });
    inner.body = "{}";
    PathParams params = {{"id", std::to_string(newest.id)}};
    Call renew{inner, params, call.client_ip, call.caller, call.now};
    HttpResponse r = RenewLease(renew);
    return r;
  }
  inner.body = json{{"services", *services}, {"reason", "POST /connection"}}.dump();
  Call create{inner, call.params, call.client_ip, call.caller, call.now};
  return CreateLease(create);  // 201 when created
}

HttpResponse Api::CloseConnection(Call& call) {
  auto services = DefaultGrant(call.caller->user, LoadCatalog());
  if (!services.ok()) return ErrorResponse(services.status());
  auto open = OpenFromHere(ctx_.store, call, *services);
  if (open.empty()) {
    return JsonError(404, "not_found",
                     "nothing is open for " + call.client_ip.ToString() + " through /connection");
  }
  HttpRequest inner = call.http;
  inner.body = "";
  json ended = json::array();
  for (const Lease& l : open) {
    PathParams params = {{"id", std::to_string(l.id)}};
    Call end{inner, params, call.client_ip, call.caller, call.now};
    HttpResponse r = TerminateLease(end);
    if (r.status != 200) return r;
    ended.push_back(json::parse(r.body));
  }
  return JsonResponse(200, {{"client_ip", call.client_ip.ToString()}, {"ended", ended}});
}

}  // namespace pinhole
