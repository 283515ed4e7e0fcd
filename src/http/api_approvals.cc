// Approvals: POST /api/v1/leases/{id}/approve|deny by an admin's session,
// the one-click links from admins' emails (/api/v1/approval-links/{token}:
// GET shows the request, POST decides it), and leases approved to open at
// their owner's next sign-in.
#include "auth/link_tokens.h"
#include "auth/tokens.h"
#include "core/duration.h"
#include "core/lease_state.h"
#include "core/policy.h"
#include "http/api.h"
#include "http/json_fields.h"
#include "notify/notifier.h"
#include "notify/outbox_sender.h"

namespace pinhole {
namespace {

using nlohmann::json;

Result<Lease> PathLease(Store& store, const Call& call) {
  const auto& key = call.Param("id");
  auto id = ParseInteger(key, 1, std::numeric_limits<Id>::max());
  if (!id) return Status::NotFound("no lease " + key);
  auto lease = store.GetLease(*id);
  if (!lease.ok()) return Status::NotFound("no lease " + key);
  return lease;
}

Result<std::string> ReadNote(const HttpRequest& http) {
  auto body = ParseJsonObject(http.body, /*empty_ok=*/true);
  if (!body.ok()) return body.status();
  std::string note;
  RETURN_IF_ERROR(CheckKeys(*body, {"reason"}));
  RETURN_IF_ERROR(ReadString(*body, "reason", note, false, 500));
  return note;
}

}  // namespace

std::vector<User> Api::Admins() {
  std::vector<User> admins;
  for (auto& u : ctx_.store.ListUsers()) {
    if (u.role == Role::kAdmin && !u.disabled) admins.push_back(std::move(u));
  }
  return admins;
}

void Api::KickOutbox() {
  if (ctx_.outbox) ctx_.outbox->Kick();
}

Result<ActionToken> Api::ResolveLink(std::string_view token, std::string_view purpose, Time now) {
  if (link_key_.empty()) return Status::Unavailable("links cannot be checked: no signing key");
  RETURN_IF_ERROR(VerifyLinkToken(link_key_, token, purpose, now));
  auto record = ctx_.store.FindActionToken(HashToken(token));
  if (!record.ok() || record->purpose != purpose) {
    return Status(Code::kNotFound, "invalid_link", "this link is not valid");
  }
  if (record->used_at) return Status::Conflict("link_used", "this link was already used");
  return record;
}

Result<Lease> Api::ActivateLease(Call& call, const Lease& lease, std::optional<Cidr> source,
                                 AuditEntry audit) {
  auto owner = ctx_.store.GetUser(lease.owner_id);
  if (!owner.ok() || owner->disabled) {
    return Status::Conflict("owner_gone", "the lease's owner no longer exists or is disabled");
  }
  AddIdentityGroups(*owner);
  auto policy = ctx_.store.FindPolicy(lease.policy);
  if (!policy.ok()) {
    return Status::Conflict("policy_gone", "the policy \"" + lease.policy + "\" no longer exists");
  }
  // The schedule is about when holes are open, so it is checked when the
  // hole opens, not only when it was asked for.
  RETURN_IF_ERROR(CheckSchedule(*policy, call.now));
  Lease active = lease;
  RETURN_IF_ERROR(Transition(active, LeaseState::kActive, call.now, call.actor()));
  if (source) active.source = *source;
  active.expires_at = CapToWindow(*policy, call.now, call.now + active.duration);
  RETURN_IF_ERROR(CheckCapacity(active));
  auto details = json::parse(audit.details_json, nullptr, false);
  if (details.is_object()) {
    details["source"] = active.source.ToString();
    details["expires_at"] = FormatTime(active.expires_at);
    audit.details_json = details.dump();
  }
  ASSIGN_OR_RETURN(Lease updated, ctx_.store.UpdateLease(active, lease.state, audit));
  ++leases_created_;
  (void)ctx_.controller.LeaseActivated(updated);
  if (updated.recipient == RecipientKind::kSelf) SupersedeOlderAddresses(call, updated);
  KickOutbox();
  return updated;
}

Result<Lease> Api::DecideRequest(Call& call, const Lease& lease, bool approve,
                                 const std::string& note, std::vector<std::string> consume) {
  if (lease.state != LeaseState::kPendingApproval) {
    return Status::Conflict("not_pending", "lease " + std::to_string(lease.id) + " is " +
                                               std::string(ToString(lease.state)) +
                                               ", not waiting for approval");
  }
  const User& admin = call.caller->user;
  if (approve && admin.id == lease.owner_id) {
    return Status::Denied("own_request", "an admin cannot approve their own request");
  }
  const std::string object = "lease/" + std::to_string(lease.id);
  const json details = {{"owner", lease.owner}, {"services", lease.services}, {"note", note}};
  if (!approve) {
    Lease denied = lease;
    RETURN_IF_ERROR(Transition(denied, LeaseState::kDenied, call.now, admin.email));
    AuditEntry audit = call.Audit("lease.deny", object, details);
    audit.consume_tokens = std::move(consume);
    if (ctx_.notifier) audit.outbox = ctx_.notifier->RequestDecided(denied, false, admin.email, note, call.now);
    ASSIGN_OR_RETURN(Lease updated, ctx_.store.UpdateLease(denied, lease.state, audit));
    KickOutbox();
    return updated;
  }

  auto policy = ctx_.store.FindPolicy(lease.policy);
  if (!policy.ok()) {
    return Status::Conflict("policy_gone", "the policy \"" + lease.policy + "\" no longer exists");
  }
  Lease approved = lease;
  approved.approved_by = admin.email;
  if (lease.recipient == RecipientKind::kInvite) {
    // An approved invitation goes out now; the invitee's address opens it.
    AuditEntry audit = call.Audit("lease.approve", object, details);
    audit.consume_tokens = std::move(consume);
    ASSIGN_OR_RETURN(std::string url, AttachInvitation(call, approved, audit, std::nullopt));
    if (ctx_.notifier) {
      audit.outbox = ctx_.notifier->Invitation(approved, url, call.now);
      auto told = ctx_.notifier->RequestDecided(approved, true, admin.email, note, call.now);
      audit.outbox.insert(audit.outbox.end(), told.begin(), told.end());
    }
    ASSIGN_OR_RETURN(Lease updated, ctx_.store.UpdateLease(approved, lease.state, audit));
    KickOutbox();
    return updated;
  }
  if (policy->activate_on == ActivateOn::kNextLogin && lease.recipient == RecipientKind::kSelf) {
    // Opens for wherever the requester signs in next; until then it waits,
    // but not forever.
    RETURN_IF_ERROR(Transition(approved, LeaseState::kApproved, call.now, admin.email));
    approved.expires_at = call.now + ctx_.config.approval_pending_timeout;
    AuditEntry audit = call.Audit("lease.approve", object, details);
    audit.consume_tokens = std::move(consume);
    if (ctx_.notifier) {
      audit.outbox = ctx_.notifier->RequestDecided(approved, true, admin.email, note, call.now);
    }
    ASSIGN_OR_RETURN(Lease updated, ctx_.store.UpdateLease(approved, lease.state, audit));
    KickOutbox();
    return updated;
  }
  AuditEntry audit = call.Audit("lease.approve", object, details);
  audit.consume_tokens = std::move(consume);
  if (ctx_.notifier) {
    // Rendered for the lease as it will be; ActivateLease sets the times.
    Lease preview = approved;
    preview.state = LeaseState::kActive;
    preview.activated_at = call.now;
    preview.expires_at = CapToWindow(*policy, call.now, call.now + approved.duration);
    audit.outbox = ctx_.notifier->RequestDecided(preview, true, admin.email, note, call.now);
  }
  return ActivateLease(call, approved, std::nullopt, std::move(audit));
}

HttpResponse Api::ApproveLease(Call& call) {
  auto lease = PathLease(ctx_.store, call);
  if (!lease.ok()) return ErrorResponse(lease.status());
  auto note = ReadNote(call.http);
  if (!note.ok()) return ErrorResponse(note.status());
  auto decided = DecideRequest(call, *lease, true, *note, {});
  if (!decided.ok()) return ErrorResponse(decided.status());
  return JsonResponse(200, LeaseJson(*decided));
}

HttpResponse Api::DenyLease(Call& call) {
  auto lease = PathLease(ctx_.store, call);
  if (!lease.ok()) return ErrorResponse(lease.status());
  auto note = ReadNote(call.http);
  if (!note.ok()) return ErrorResponse(note.status());
  auto decided = DecideRequest(call, *lease, false, *note, {});
  if (!decided.ok()) return ErrorResponse(decided.status());
  return JsonResponse(200, LeaseJson(*decided));
}

namespace {

// An approval link names its purpose in its first letter; both kinds share
// one endpoint.
std::string_view LinkPurpose(std::string_view token) {
  if (token.starts_with("a.")) return "approve";
  if (token.starts_with("d.")) return "deny";
  return "";
}

}  // namespace

HttpResponse Api::GetApprovalLink(Call& call) {
  const std::string& token = call.Param("token");
  std::string_view purpose = LinkPurpose(token);
  if (purpose.empty()) return JsonError(404, "invalid_link", "this link is not valid");
  auto record = ResolveLink(token, purpose, call.now);
  if (!record.ok()) return ErrorResponse(record.status());
  auto lease = ctx_.store.GetLease(record->lease_id);
  auto admin = ctx_.store.GetUser(record->user_id);
  if (!lease.ok() || !admin.ok()) return JsonError(404, "invalid_link", "this link is not valid");
  json j = {{"action", purpose},
            {"admin", admin->email},
            {"link_expires_at", FormatTime(record->expires_at)},
            {"lease",
             {{"id", lease->id},
              {"owner", lease->owner},
              {"services", lease->services},
              {"source_cidr", lease->source.ToString()},
              {"duration", FormatDuration(lease->duration)},
              {"reason", lease->reason},
              {"state", ToString(lease->state)},
              {"created_at", FormatTime(lease->created_at)}}}};
  return JsonResponse(200, j);
}

HttpResponse Api::UseApprovalLink(Call& call) {
  const std::string& token = call.Param("token");
  std::string_view purpose = LinkPurpose(token);
  if (purpose.empty()) return JsonError(404, "invalid_link", "this link is not valid");
  auto note = ReadNote(call.http);
  if (!note.ok()) return ErrorResponse(note.status());
  auto record = ResolveLink(token, purpose, call.now);
  if (!record.ok()) return ErrorResponse(record.status());
  auto lease = ctx_.store.GetLease(record->lease_id);
  auto admin = ctx_.store.GetUser(record->user_id);
  if (!lease.ok() || !admin.ok()) return JsonError(404, "invalid_link", "this link is not valid");
  // The link stands in for the admin's session, so it is only as good as
  // the admin still is.
  if (admin->role != Role::kAdmin || admin->disabled) {
    return JsonError(403, "not_admin", admin->email + " is no longer an active admin");
  }
  call.caller = Caller{*admin, Session{}, false};
  auto decided =
      DecideRequest(call, *lease, purpose == "approve", *note, {HashToken(token)});
  if (!decided.ok()) {
    if (decided.status().reason() == "not_pending") {
      return JsonError(410, "already_decided", decided.status().message());
    }
    return ErrorResponse(decided.status());
  }
  return JsonResponse(200, LeaseJson(*decided));
}

void Api::ActivateOnSignIn(Call& call) {
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kApproved};
  filter.owner_id = call.caller->user.id;
  const Cidr here = Cidr::Host(call.client_ip);
  for (const Lease& lease : ctx_.store.ListLeases(filter)) {
    if (lease.expires_at <= call.now) continue;  // the housekeeper expires it
    (void)ActivateLease(call, lease, here,
                        call.Audit("lease.activate", "lease/" + std::to_string(lease.id),
                                   {{"on", "sign_in"}}));
  }
}

}  // namespace pinhole
