// /api/v1/leases: request, list, get, terminate, renew.
#include "auth/link_tokens.h"
#include "auth/password.h"
#include "core/duration.h"
#include "core/lease_state.h"
#include "core/policy.h"
#include "enforce/tunnel/tunnel_enforcer.h"
#include "http/api.h"
#include "http/json_fields.h"
#include "notify/notifier.h"

namespace pinhole {
namespace {

using nlohmann::json;

json TimeOrNull(const std::optional<Time>& t) { return t ? json(FormatTime(*t)) : json(nullptr); }

const std::vector<LeaseState> kLiveStates = {LeaseState::kActive, LeaseState::kPendingApproval,
                                             LeaseState::kApproved, LeaseState::kInvited};
const std::vector<LeaseState> kEndedStates = {LeaseState::kExpired, LeaseState::kTerminated,
                                              LeaseState::kRevoked, LeaseState::kDenied,
                                              LeaseState::kCancelled};

// What an invitation request adds to a lease request.
struct InviteOptions {
  std::string email;
  bool send_email = true;
  std::optional<Seconds> expires_in;  // how long the link stays usable
};

Status ReadRecipient(const json& body, LeaseRequest& request, InviteOptions& invite) {
  auto it = body.find("recipient");
  if (it == body.end()) return Status::Ok();
  if (!it->is_object()) return Status::Invalid("invalid_field", "recipient: must be an object");
  RETURN_IF_ERROR(CheckKeys(*it, {"kind", "cidr", "email", "send_email", "expires_in"}));
  std::string kind_name, cidr;
  RETURN_IF_ERROR(ReadString(*it, "kind", kind_name, true, 16));
  auto kind = ParseRecipientKind(kind_name);
  if (!kind)
    return Status::Invalid("invalid_field", "recipient.kind: must be self, cidr or invite");
  request.recipient = *kind;
  if (*kind == RecipientKind::kInvite) {
    std::string email;
    RETURN_IF_ERROR(ReadString(*it, "email", email, false, 254));
    if (email.empty()) {
      return Status::Invalid("invalid_recipient", "an invitation needs recipient.email");
    }
    auto normal = NormalizeEmail(email);
    if (!normal) return Status::Invalid("invalid_recipient", "recipient.email: not an email address");
    invite.email = *normal;
    RETURN_IF_ERROR(ReadBool(*it, "send_email", invite.send_email));
    RETURN_IF_ERROR(ReadDuration(*it, "expires_in", invite.expires_in));
  } else if (it->contains("email") || it->contains("send_email") || it->contains("expires_in")) {
    return Status::Invalid("invalid_field",
                           "recipient.email, send_email and expires_in: only with kind invite");
  }
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
  // An invitation has no address until someone opens it.
  const bool addressed = !(l.recipient == RecipientKind::kInvite && !l.activated_at);
  return {{"id", l.id},
          {"owner", l.owner},
          {"services", l.services},
          {"recipient", recipient},
          {"source_cidr", addressed ? json(l.source.ToString()) : json(nullptr)},
          {"state", ToString(l.state)},
          {"duration", FormatDuration(l.duration)},
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
  request.now = call.now;
  std::string reason;
  InviteOptions invite;
  Status st = CheckKeys(*body, {"services", "access_group", "duration", "reason", "recipient"});
  if (st.ok()) st = ReadStringList(*body, "services", request.services);
  if (st.ok()) st = ReadString(*body, "access_group", request.access_group, false, 64);
  if (st.ok()) st = ReadDuration(*body, "duration", request.duration);
  if (st.ok()) st = ReadString(*body, "reason", reason, false, 500);
  if (st.ok()) st = ReadRecipient(*body, request, invite);
  if (st.ok() && request.services.empty() == request.access_group.empty()) {
    st = Status::Invalid("invalid_field", "give either services or access_group");
  }
  if (st.ok() && invite.expires_in &&
      (*invite.expires_in <= Seconds(0) || *invite.expires_in > ctx_.config.invitation_max_expiry)) {
    st = Status::Invalid("invalid_field", "recipient.expires_in: must be between 1s and " +
                                              FormatDuration(ctx_.config.invitation_max_expiry));
  }
  if (!st.ok()) return ErrorResponse(st);

  auto grant = Decide(call.caller->user, request, LoadCatalog());
  if (!grant.ok()) return ErrorResponse(grant.status());

  Lease lease;
  lease.owner_id = call.caller->user.id;
  lease.owner = call.caller->user.email;
  lease.services = grant->services;
  lease.recipient = request.recipient;
  lease.invite_email = invite.email;
  lease.source = grant->source;
  lease.reason = reason;
  lease.policy = grant->policy;
  lease.created_at = call.now;
  lease.duration = grant->duration;
  AuditEntry audit = call.Audit("lease.create", "" /* the store names it lease/<id> */,
                                {{"services", lease.services},
                                 {"duration", FormatDuration(grant->duration)},
                                 {"policy", lease.policy},
                                 {"reason", reason}});
  std::optional<std::string> invite_url;
  // What to tell whom, rendered once the store has given the lease its id.
  std::function<std::vector<OutboxMessage>(const Lease&)> notices;
  if (grant->approval == ApprovalMode::kAdmin) {
    // The address is recorded now; the hole opens when an admin approves.
    lease.state = LeaseState::kPendingApproval;
    lease.expires_at = call.now + ctx_.config.approval_pending_timeout;
    audit.action = "lease.request";
    auto links = ApprovalLinks(call, audit, lease.expires_at);
    if (!links.ok()) return ErrorResponse(links.status());
    notices = [this, links = *links, now = call.now](const Lease& l) {
      return ctx_.notifier->ApprovalRequested(l, links, now);
    };
  } else if (lease.recipient == RecipientKind::kInvite) {
    auto url = AttachInvitation(call, lease, audit, invite.expires_in);
    if (!url.ok()) return ErrorResponse(url.status());
    invite_url = *url;
    if (invite.send_email) {
      notices = [this, url = *url, now = call.now](const Lease& l) {
        return ctx_.notifier->Invitation(l, url, now);
      };
    }
  } else {
    lease.state = LeaseState::kActive;
    lease.activated_at = call.now;
    lease.expires_at = call.now + grant->duration;
    if (grant->window_end && *grant->window_end < lease.expires_at) {
      lease.expires_at = *grant->window_end;
    }
    if (grant->notify_admins) {
      std::vector<std::string> emails;
      for (const User& a : Admins()) emails.push_back(a.email);
      notices = [this, emails, now = call.now](const Lease& l) {
        return ctx_.notifier->AccessOpened(l, emails, now);
      };
    }
  }
  {
    auto details = json::parse(audit.details_json);
    details["state"] = ToString(lease.state);
    if (lease.recipient != RecipientKind::kInvite) details["source"] = lease.source.ToString();
    if (lease.recipient == RecipientKind::kInvite) details["email"] = lease.invite_email;
    audit.details_json = details.dump();
  }
  // Quotas (a Security Group's rule limit) are checked before the commit, so
  // that a lease is refused whole rather than half applied.
  if (lease.state == LeaseState::kActive) {
    st = CheckCapacity(lease);
    if (!st.ok()) return ErrorResponse(st);
  }
  Store::LeaseEffects effects;
  if (notices && ctx_.notifier) {
    effects = [&notices](const Lease& created, AuditEntry& a) { a.outbox = notices(created); };
  }
  auto created = ctx_.store.CreateLease(lease, audit, effects);
  if (!created.ok()) return ErrorResponse(created.status());
  KickOutbox();
  json reply;
  if (created->state == LeaseState::kActive) {
    ++leases_created_;
    // The lease is committed; the reply waits until its holes are in place.
    // If enforcement fails, the lease stays and its rules say why (retried).
    (void)ctx_.controller.LeaseActivated(*created);
    if (created->recipient == RecipientKind::kSelf) SupersedeOlderAddresses(call, *created);
    reply = LeaseJson(*created);
  } else {
    reply = LeaseJson(*created);
    if (invite_url) {
      reply["invitation"] = {{"url", *invite_url},
                             {"expires_at", FormatTime(created->expires_at)},
                             {"emailed", invite.send_email && ctx_.notifier &&
                                             ctx_.notifier->options().email_enabled}};
    }
  }
  return JsonResponse(201, reply);
}

Result<std::vector<AdminLinks>> Api::ApprovalLinks(const Call& call, AuditEntry& audit,
                                                  Time decide_by) {
  if (link_key_.empty()) return Status::Unavailable("links cannot be signed: no signing key");
  const Time expires = std::min(decide_by, call.now + ctx_.config.approval_link_ttl);
  std::vector<AdminLinks> links;
  for (const User& admin : Admins()) {
    if (admin.id == call.caller->user.id) continue;  // nobody approves their own request
    auto approve = IssueLinkToken(link_key_, "approve", 0, admin.id, call.now, expires);
    auto deny = IssueLinkToken(link_key_, "deny", 0, admin.id, call.now, expires);
    links.push_back({admin.email, ctx_.config.public_url + "/approve/" + approve.token,
                     ctx_.config.public_url + "/approve/" + deny.token});
    audit.tokens.push_back(std::move(approve.record));
    audit.tokens.push_back(std::move(deny.record));
  }
  return links;
}

Result<std::string> Api::AttachInvitation(const Call& call, Lease& lease, AuditEntry& audit,
                                          std::optional<Seconds> expires_in) {
  if (link_key_.empty()) return Status::Unavailable("links cannot be signed: no signing key");
  lease.state = LeaseState::kInvited;
  lease.expires_at = call.now + expires_in.value_or(ctx_.config.invitation_expiry);
  // No address until the invitee opens the link; 0.0.0.0/32 is a
  // placeholder no hole is ever made for (the lease is not active).
  lease.source = Cidr::Host(IpAddress::Parse("0.0.0.0").value());
  auto token = IssueLinkToken(link_key_, "invite", lease.id, 0, call.now, lease.expires_at);
  audit.tokens.push_back(std::move(token.record));
  return ctx_.config.public_url + "/invite/" + token.token;
}

Status Api::CheckCapacity(const Lease& lease) {
  std::vector<Service> services;
  Catalog catalog = LoadCatalog();
  for (const auto& name : lease.services) {
    if (const Service* s = catalog.FindService(name)) services.push_back(*s);
  }
  return ctx_.controller.CheckCapacity(services, lease.source, lease.expires_at);
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
                       "state: must be active, pending_approval, approved, invited, live or "
                       "ended");
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
  // What never opened is cancelled (a request, an invitation); what is open
  // is terminated.
  const bool opened = lease->state == LeaseState::kActive;
  Status st = Transition(ended, opened ? LeaseState::kTerminated : LeaseState::kCancelled, call.now,
                         call.actor());
  if (!st.ok()) return ErrorResponse(st);
  AuditEntry audit =
      call.Audit(opened ? "lease.terminate" : "lease.cancel", "lease/" + std::to_string(ended.id),
                 {{"owner", ended.owner}, {"source", ended.source.ToString()}});
  // The owner hears about it when someone else ended their lease.
  if (ctx_.notifier && ended.owner_id != call.caller->user.id) {
    audit.outbox = ctx_.notifier->LeaseEnded(ended, call.now);
  }
  auto updated = ctx_.store.UpdateLease(ended, lease->state, audit);
  if (!updated.ok()) return ErrorResponse(updated.status());
  KickOutbox();
  if (opened) LeaseEndedEarly(*updated);
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
  AddIdentityGroups(*owner);
  Catalog catalog = LoadCatalog();
  if (!duration) {
    auto policy = ctx_.store.FindPolicy(lease->policy);
    if (!policy.ok()) return JsonError(403, "not_permitted", "the lease's policy no longer exists");
    duration = policy->default_duration;
  }
  // The policy's maximum, and its schedule: a renewal is a new grant in time.
  auto expires = RenewalExpiry(*owner, *lease, *duration, catalog, call.now);
  if (!expires.ok()) return ErrorResponse(expires.status());
  Lease renewed = *lease;
  st = Renew(renewed, *duration, call.now);
  if (!st.ok()) return ErrorResponse(st);
  renewed.expires_at = *expires;
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
    AuditEntry audit =
        call.Audit("lease.revoke", "lease/" + std::to_string(lease.id), {{"why", why}});
    if (ctx_.notifier) audit.outbox = ctx_.notifier->LeaseEnded(ended, call.now);
    auto updated = ctx_.store.UpdateLease(ended, lease.state, audit);
    if (updated.ok() && lease.state == LeaseState::kActive) LeaseEndedEarly(*updated);
  }
}

}  // namespace pinhole
