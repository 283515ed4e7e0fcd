// Invitations: the page an invitation email links to reads
// GET /api/v1/invitations/{token} (what will be granted), and confirming it
// POSTs .../activate, which opens the lease for the address of that request.
// The token is the only credential: random, signed, stored hashed, single-use.
#include "auth/tokens.h"
#include "core/duration.h"
#include "http/api.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

// The invited lease behind a token, or why it cannot be used (404/410).
Result<Lease> InvitedLease(Store& store, const Result<ActionToken>& record, Time now) {
  if (!record.ok()) {
    if (record.status().reason() == "link_used") {
      return Status::Conflict("invitation_gone", "this invitation was already used");
    }
    if (record.status().reason() == "link_expired") {
      return Status::Conflict("invitation_gone", "this invitation has expired");
    }
    return Status(Code::kNotFound, "invalid_link", "this invitation link is not valid");
  }
  auto lease = store.GetLease(record->lease_id);
  if (!lease.ok()) return Status(Code::kNotFound, "invalid_link", "this invitation link is not valid");
  switch (lease->state) {
    case LeaseState::kInvited:
      if (lease->expires_at <= now) {
        return Status::Conflict("invitation_gone", "this invitation has expired");
      }
      return lease;
    case LeaseState::kCancelled:
    case LeaseState::kRevoked:
      return Status::Conflict("invitation_gone", "this invitation was cancelled");
    case LeaseState::kExpired:
      return Status::Conflict("invitation_gone", "this invitation has expired");
    default:
      return Status::Conflict("invitation_gone", "this invitation was already used");
  }
}

}  // namespace

HttpResponse Api::GetInvitation(Call& call) {
  const std::string& token = call.Param("token");
  auto lease = InvitedLease(ctx_.store, ResolveLink(token, "invite", call.now), call.now);
  if (!lease.ok()) return ErrorResponse(lease.status());
  return JsonResponse(200, {{"email", lease->invite_email},
                            {"invited_by", lease->owner},
                            {"services", lease->services},
                            {"duration", FormatDuration(lease->duration)},
                            {"reason", lease->reason},
                            {"expires_at", FormatTime(lease->expires_at)},
                            {"your_ip", call.client_ip.ToString()}});
}

HttpResponse Api::ActivateInvitation(Call& call) {
  auto body = ParseJsonObject(call.http.body, /*empty_ok=*/true);
  if (!body.ok()) return ErrorResponse(body.status());
  if (Status st = CheckKeys(*body, {}); !st.ok()) return ErrorResponse(st);
  const std::string& token = call.Param("token");
  auto lease = InvitedLease(ctx_.store, ResolveLink(token, "invite", call.now), call.now);
  if (!lease.ok()) return ErrorResponse(lease.status());
  AuditEntry audit = call.Audit("lease.invitation_accept", "lease/" + std::to_string(lease->id),
                                {{"email", lease->invite_email}});
  audit.actor = "invitee:" + lease->invite_email;
  audit.consume_tokens = {HashToken(token)};
  auto active = ActivateLease(call, *lease, Cidr::Host(call.client_ip), std::move(audit));
  if (!active.ok()) {
    if (active.status().reason() == "token_used") {
      return JsonError(410, "invitation_gone", "this invitation was already used");
    }
    return ErrorResponse(active.status());
  }
  return JsonResponse(200, {{"state", ToString(active->state)},
                            {"services", active->services},
                            {"source_cidr", active->source.ToString()},
                            {"expires_at", FormatTime(active->expires_at)}});
}

}  // namespace pinhole
