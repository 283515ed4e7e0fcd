// /api/v1/leases: request, list, get, terminate, renew.
#include "core/duration.h"
#include "core/lease_state.h"
#include "core/policy.h"
#include "enforce/tunnel/tunnel_enforcer.h"
#include "http/api.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<Time>& t) { return t ? json(FormatTime(*t)) : json(nullptr); }

const std::vector<LeaseState> kLiveStates = {LeaseState::kActive, LeaseState::kPendingApproval,
                                             LeaseState::kInvited};
const std::vector<LeaseState> kEndedStates = {LeaseState::kExpired, LeaseState::kTerminated,
                                              LeaseState::kRevoked, LeaseState::kDenied,
                                              LeaseState::kCancelled};

Status ReadRecipient(const json& body, LeaseRequest& request) {
  auto it = body.find("recipient");
  if (it == body.end()) return Status::Ok();
  if (!it->is_object()) return Status::Invalid("invalid_field", "recipient: must be an object");
  RETURN_IF_ERROR(CheckKeys(*it, {"kind", "cidr", "email"}));
  std::string kind_name, cidr;
  RETURN_IF_ERROR(ReadString(*it, "kind", kind_name, true, 16));
  auto kind = ParseRecipientKind(kind_name);
  if (!kind)
    return Status::Invalid("invalid_field", "recipient.kind: must be self, cidr or invite");
  if (*kind == RecipientKind::kInvite) {
    return Status::Invalid("not_supported", "invitations are not supported by this server yet");
  }
  request.recipient = *kind;
  RETURN_IF_ERROR(ReadString(*it, "cidr", cidr, *kind == RecipientKind::kCidr, 64));
  if (*kind == RecipientKind::kCidr) {
    auto parsed = Cidr::Parse(cidr);
    if (!parsed.ok()) return parsed.status();
    request.cidr = *parsed;
  } else if (!cidr.empty()) {
    return Status::Invalid("invalid_field", "recipient.cidr: only with kind cidr");
  }
  return Status::Ok();
}

}  // namespace

json Api::LeaseJson(const Lease& l) const {
  json rules = json::array();
  for (const auto& r : ctx_.controller.RulesFor(l)) {
    json rule = {{"service", r.service}, {"backend", r.backend}, {"status", r.status}};
    if (!r.error.empty()) rule["error"] = r.error;
    rules.push_back(std::move(rule));
  }
  json recipient = {{"kind", ToString(l.recipient)}};
  if (l.recipient == RecipientKind::kCidr) recipient["cidr"] = l.source.ToString();
  if (l.recipient == RecipientKind::kInvite) recipient["email"] = l.invite_email;
  return {{"id", l.id},
          {"owner", l.owner},
          {"services", l.services},
          {"recipient", recipient},
          {"source_cidr", l.source.ToString()},
          {"state", ToString(l.state)},
          {"reason", l.reason},
          {"policy", l.policy},
          {"created_at", FormatTime(l.created_at)},
          {"activated_at", TimeOrNull(l.activated_at)},
          {"expires_at", FormatTime(l.expires_at)},
          {"ended_at", TimeOrNull(l.ended_at)},
          {"ended_by", l.ended_by.empty() ? json(nullptr) : json(l.ended_by)},
          {"approved_by", l.approved_by.empty() ? json(nullptr) : json(l.approved_by)},
          {"rules", rules}};
}

HttpResponse Api::CreateLease(Call& call) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  LeaseRequest request;
  request.client_ip = call.client_ip;
  std::string reason;
  Status st = CheckKeys(*body, {"services", "access_group", "duration", "reason", "recipient"});
  if (st.ok()) st = ReadStringList(*body, "services", request.services);
  if (st.ok()) st = ReadString(*body, "access_group", request.access_group, false, 64);
  if (st.ok()) st = ReadDuration(*body, "duration", request.duration);
  if (st.ok()) st = ReadString(*body, "reason", reason);
  if (st.ok()) st = ReadRecipient(*body, request);
  if (st.ok() && request.services.empty() == request.access_group.empty()) {
    st = Status::Invalid("invalid_field", "give either services or access_group");
  }
  if (!st.ok()) return ErrorResponse(st);

  auto grant = Decide(call.caller->user, request, LoadCatalog());
  if (!grant.ok()) return ErrorResponse(grant.status());

  Lease lease;
  lease.owner_id = call.caller->user.id;
  lease.owner = call.caller->user.email;
  lease.services = grant->services;
  lease.recipient = request.recipient;
  lease.source = grant->source;
  lease.state = LeaseState::kActive;
  lease.reason = reason;
  lease.policy = grant->policy;
  lease.created_at = call.now;
  lease.activated_at = call.now;
  lease.expires_at = call.now + grant->duration;
  // Quotas (a Security Group's rule limit) are checked before the commit, so
  // that a lease is refused whole rather than half applied.
  std::vector<Service> services;
  Catalog catalog = LoadCatalog();
  for (const auto& name : lease.services) {
    if (const Service* s = catalog.FindService(name)) services.push_back(*s);
  }
  st = ctx_.controller.CheckCapacity(services, lease.source, lease.expires_at);
  if (!st.ok()) return ErrorResponse(st);
  auto created = ctx_.store.CreateLease(
      lease, call.Audit("lease.create", "" /* the store names it lease/<id> */,
                        {{"services", lease.services},
                         {"source", lease.source.ToString()},
                         {"duration", FormatDuration(grant->duration)},
                         {"policy", lease.policy},
                         {"reason", reason}}));
  if (!created.ok()) return ErrorResponse(created.status());
  ++leases_created_;
  // The lease is committed; the reply waits until its holes are in place. If
  // enforcement fails, the lease stays and its rules say why (retried).
  (void)ctx_.controller.LeaseActivated(*created);
  if (created->recipient == RecipientKind::kSelf) SupersedeOlderAddresses(call, *created);
  return JsonResponse(201, LeaseJson(*created));
}

HttpResponse Api::ListLeases(Call& call) {
  LeaseFilter filter;
  const auto& q = call.http.query;
  if (auto it = q.find("state"); it != q.end() && !it->second.empty()) {
    if (it->second == "ended") {
      filter.states = kEndedStates;
    } else if (it->second == "live") {
      filter.states = kLiveStates;
    } else if (auto s = ParseLeaseState(it->second)) {
      filter.states = std::vector<LeaseState>{*s};
    } else {
      return JsonError(422, "invalid_field",
                       "state: must be active, pending_approval, invited, live or ended");
    }
  }
  bool mine = q.count("mine") && q.at("mine") != "false" && q.at("mine") != "0";
  if (mine || !call.caller->is_admin()) filter.owner_id = call.caller->user.id;
  if (auto it = q.find("limit"); it != q.end()) {
    auto limit = ParseInteger(it->second, 1, 1000);
    if (!limit) return JsonError(422, "invalid_field", "limit: must be 1..1000");
    filter.limit = static_cast<int>(*limit);
  } else {
    filter.limit = 1000;
  }
  json items = json::array();
  for (const auto& l : ctx_.store.ListLeases(filter)) items.push_back(LeaseJson(l));
  return JsonResponse(200, {{"items", items}});
}

namespace {

// The lease `id` if the caller may see it (owner or admin); NotFound otherwise,
// so that others' lease ids are not confirmed.
Result<Lease> VisibleLease(Store& store, const Call& call) {
  const auto& key = call.Param("id");
  auto id = ParseInteger(key, 1, std::numeric_limits<Id>::max());
  if (!id) return Status::NotFound("no lease " + key);
  auto lease = store.GetLease(*id);
  if (!lease.ok() || (lease->owner_id != call.caller->user.id && !call.caller->is_admin())) {
    return Status::NotFound("no lease " + key);
  }
  return lease;
}

}  // namespace

HttpResponse Api::GetLease(Call& call) {
  auto lease = VisibleLease(ctx_.store, call);
  if (!lease.ok()) return ErrorResponse(lease.status());
  return JsonResponse(200, LeaseJson(*lease));
}

HttpResponse Api::TerminateLease(Call& call) {
  auto lease = VisibleLease(ctx_.store, call);
  if (!lease.ok()) return ErrorResponse(lease.status());
  Lease ended = *lease;
  Status st = Transition(ended, LeaseState::kTerminated, call.now, call.actor());
  if (!st.ok()) return ErrorResponse(st);
  auto updated = ctx_.store.UpdateLease(
      ended, lease->state,
      call.Audit("lease.terminate", "lease/" + std::to_string(ended.id),
                 {{"owner", ended.owner}, {"source", ended.source.ToString()}}));
  if (!updated.ok()) return ErrorResponse(updated.status());
  LeaseEndedEarly(*updated);
  return JsonResponse(200, LeaseJson(*updated));
}

HttpResponse Api::RenewLease(Call& call) {
  auto lease = VisibleLease(ctx_.store, call);
  if (!lease.ok()) return ErrorResponse(lease.status());
  auto body = ParseJsonObject(call.http.body, /*empty_ok=*/true);
  if (!body.ok()) return ErrorResponse(body.status());
  std::optional<Seconds> duration;
  Status st = CheckKeys(*body, {"duration"});
  if (st.ok()) st = ReadDuration(*body, "duration", duration);
  if (!st.ok()) return ErrorResponse(st);
  auto owner = ctx_.store.GetUser(lease->owner_id);
  if (!owner.ok()) return JsonError(409, "lease_not_live", "the lease's owner no longer exists");
  Catalog catalog = LoadCatalog();
  if (!duration) {
    auto policy = ctx_.store.FindPolicy(lease->policy);
    if (!policy.ok()) return JsonError(403, "not_permitted", "the lease's policy no longer exists");
    duration = policy->default_duration;
  }
  st = CheckRenewal(*owner, *lease, *duration, catalog);
  if (!st.ok()) return ErrorResponse(st);
  Lease renewed = *lease;
  st = Renew(renewed, *duration, call.now);
  if (!st.ok()) return ErrorResponse(st);
  auto updated =
      ctx_.store.UpdateLease(renewed, LeaseState::kActive,
                             call.Audit("lease.renew", "lease/" + std::to_string(renewed.id),
                                        {{"duration", FormatDuration(*duration)},
                                         {"expires_at", FormatTime(renewed.expires_at)}}));
  if (!updated.ok()) return ErrorResponse(updated.status());
  (void)ctx_.controller.LeaseRenewed(*updated);
  return JsonResponse(200, LeaseJson(*updated));
}

void Api::SupersedeOlderAddresses(const Call& call, const Lease& fresh) {
  // A user whose address changed asks again; the hole for the old address
  // closes, so a dynamic IP does not leave a trail of open holes behind.
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kActive};
  filter.owner_id = fresh.owner_id;
  filter.recipient = RecipientKind::kSelf;
  filter.limit = std::numeric_limits<int>::max();
  for (const auto& old : ctx_.store.ListLeases(filter)) {
    if (old.id == fresh.id || old.source == fresh.source) {
      continue;
    }
    // Tunnels do not depend on the address, so a new address supersedes
    // nothing there: ending the old lease would only cut live sessions.
    bool tunnels_only = std::all_of(old.services.begin(), old.services.end(), [&](const auto& s) {
      return ctx_.controller.BackendOf(s) == kTunnelBackend;
    });
    if (tunnels_only) continue;
    bool covered = std::all_of(old.services.begin(), old.services.end(), [&](const auto& s) {
      return std::find(fresh.services.begin(), fresh.services.end(), s) != fresh.services.end();
    });
    if (!covered) continue;
    Lease ended = old;
    if (!Transition(ended, LeaseState::kTerminated, call.now, "system").ok()) continue;
    auto updated =
        ctx_.store.UpdateLease(ended, LeaseState::kActive,
                               call.Audit("lease.supersede", "lease/" + std::to_string(old.id),
                                          {{"old_source", old.source.ToString()},
                                           {"new_source", fresh.source.ToString()},
                                           {"by_lease", fresh.id}}));
    if (updated.ok()) LeaseEndedEarly(*updated);
  }
}

void Api::RevokeLeases(const Call& call, const std::function<bool(const Lease&)>& match,
                       const std::string& why) {
  LeaseFilter filter;
  filter.states = kLiveStates;
  filter.limit = std::numeric_limits<int>::max();
  for (const auto& lease : ctx_.store.ListLeases(filter)) {
    if (!match(lease)) continue;
    Lease ended = lease;
    if (!Transition(ended, LeaseState::kRevoked, call.now, call.actor()).ok()) continue;
    auto updated = ctx_.store.UpdateLease(
        ended, lease.state,
        call.Audit("lease.revoke", "lease/" + std::to_string(lease.id), {{"why", why}}));
    if (updated.ok()) LeaseEndedEarly(*updated);
  }
}

}  // namespace pinhole
