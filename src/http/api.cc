#include "http/api.h"

#include <spdlog/spdlog.h>

#include "auth/credentials.h"
#include "auth/tokens.h"
#include "http/api_oidc.h"
#include "http/client_ip.h"
#include "http/tunnel/tunnel_service.h"

namespace pinhole {
namespace {

constexpr std::string_view kSessionCookie = "pinhole_session";

bool IsWrite(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

}  // namespace

const std::string& Call::actor() const {
  static const std::string kAnonymous = "anonymous";
  return caller ? caller->user.email : kAnonymous;
}

AuditEntry Call::Audit(std::string action, std::string object,
                       const nlohmann::json& details) const {
  AuditEntry a;
  a.time = now;
  a.actor = actor();
  a.action = std::move(action);
  a.object = std::move(object);
  a.client_ip = client_ip.ToString();
  a.details_json = details.dump();
  return a;
}

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  if (status != 204) r.body = body.dump();
  return r;
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return status.reason() == "malformed_json" ? 400 : 422;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      // Links that worked once but no longer do are gone, not in conflict.
      return status.reason() == "link_expired" || status.reason() == "link_used" ||
                     status.reason() == "invitation_gone"
                 ? 410
                 : 409;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kResourceExhausted:
      return 429;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse ErrorResponse(const Status& status) {
  if (status.code() == Code::kInternal) spdlog::error("internal error: {}", status.message());
  return JsonError(HttpStatusFor(status), status.reason(), status.message());
}

Api::Api(ApiContext ctx)
    : ctx_(ctx),
      sigv4_(SigV4Options{.service = ctx.config.sigv4_service}),
      htpasswd_(ctx.config.htpasswd_file.empty()
                    ? nullptr
                    : std::make_unique<HtpasswdDirectory>(ctx.config.htpasswd_file,
                                                          ctx.config.htpasswd_group_file,
                                                          ctx.clock)),
      account_throttle_(ctx.clock, ThrottleOptions{.max_failures = 5}),
      address_throttle_(ctx.clock, ThrottleOptions{.max_failures = 30}) {
  // A store that cannot keep a secret cannot sign links either; links then
  // fail verification rather than being signed with a guessable key.
  if (auto key = ctx_.store.GetOrCreateSecret("link_key"); key.ok()) link_key_ = *key;
  using A = Access;
  Route("GET", "/healthz", A::kPublic, &Api::Healthz);
  Route("GET", "/readyz", A::kPublic, &Api::Readyz);
  Route("GET", "/metrics", A::kPublic, &Api::Metrics);

  Route("POST", "/api/v1/session", A::kPublic, &Api::CreateSession);
  Route("DELETE", "/api/v1/session", A::kSignedIn, &Api::DeleteSession);
  Route("GET", "/api/v1/info", A::kPublic, &Api::Info);
  InitOidc();
  Route("GET", "/api/v1/oidc/{name}/login", A::kPublic, &Api::OidcLogin);
  Route("GET", "/api/v1/oidc/{name}/callback", A::kPublic, &Api::OidcCallback);
  Route("GET", "/api/v1/me", A::kSignedIn, &Api::GetMe);
  Route("GET", "/api/v1/me/grants", A::kSignedIn, &Api::GetMyGrants);
  Route("POST", "/api/v1/me/password", A::kSignedIn, &Api::ChangePassword);

  Route("POST", "/api/v1/users", A::kAdmin, &Api::CreateUser);
  Route("GET", "/api/v1/users", A::kAdmin, &Api::ListUsers);
  Route("GET", "/api/v1/users/{id}", A::kAdmin, &Api::GetUser);
  Route("PATCH", "/api/v1/users/{id}", A::kAdmin, &Api::UpdateUser);
  Route("DELETE", "/api/v1/users/{id}", A::kAdmin, &Api::DeleteUser);
  Route("POST", "/api/v1/groups", A::kAdmin, &Api::CreateGroup);
  Route("GET", "/api/v1/groups", A::kAdmin, &Api::ListGroups);
  Route("GET", "/api/v1/groups/{id}", A::kAdmin, &Api::GetGroup);
  Route("PATCH", "/api/v1/groups/{id}", A::kAdmin, &Api::UpdateGroup);
  Route("DELETE", "/api/v1/groups/{id}", A::kAdmin, &Api::DeleteGroup);
  Route("POST", "/api/v1/services", A::kAdmin, &Api::CreateService);
  Route("GET", "/api/v1/services", A::kAdmin, &Api::ListServices);
  Route("GET", "/api/v1/services/{id}", A::kAdmin, &Api::GetService);
  Route("PATCH", "/api/v1/services/{id}", A::kAdmin, &Api::UpdateService);
  Route("DELETE", "/api/v1/services/{id}", A::kAdmin, &Api::DeleteService);
  Route("POST", "/api/v1/access-groups", A::kAdmin, &Api::CreateAccessGroup);
  Route("GET", "/api/v1/access-groups", A::kAdmin, &Api::ListAccessGroups);
  Route("GET", "/api/v1/access-groups/{id}", A::kAdmin, &Api::GetAccessGroup);
  Route("PATCH", "/api/v1/access-groups/{id}", A::kAdmin, &Api::UpdateAccessGroup);
  Route("DELETE", "/api/v1/access-groups/{id}", A::kAdmin, &Api::DeleteAccessGroup);
  Route("POST", "/api/v1/policies", A::kAdmin, &Api::CreatePolicy);
  Route("GET", "/api/v1/policies", A::kAdmin, &Api::ListPolicies);
  Route("GET", "/api/v1/policies/{id}", A::kAdmin, &Api::GetPolicy);
  Route("PATCH", "/api/v1/policies/{id}", A::kAdmin, &Api::UpdatePolicy);
  Route("DELETE", "/api/v1/policies/{id}", A::kAdmin, &Api::DeletePolicy);

  Route("POST", "/api/v1/leases", A::kSignedIn, &Api::CreateLease);
  Route("GET", "/api/v1/leases", A::kSignedIn, &Api::ListLeases);
  Route("GET", "/api/v1/leases/{id}", A::kSignedIn, &Api::GetLease);
  Route("DELETE", "/api/v1/leases/{id}", A::kSignedIn, &Api::TerminateLease);
  Route("POST", "/api/v1/leases/{id}/renew", A::kSignedIn, &Api::RenewLease);
  Route("POST", "/api/v1/leases/{id}/approve", A::kAdmin, &Api::ApproveLease);
  Route("POST", "/api/v1/leases/{id}/deny", A::kAdmin, &Api::DenyLease);
  // The token is the credential of these, so they are public.
  Route("GET", "/api/v1/approval-links/{token}", A::kPublic, &Api::GetApprovalLink);
  Route("POST", "/api/v1/approval-links/{token}", A::kPublic, &Api::UseApprovalLink);
  Route("GET", "/api/v1/invitations/{token}", A::kPublic, &Api::GetInvitation);
  Route("POST", "/api/v1/invitations/{token}/activate", A::kPublic, &Api::ActivateInvitation);
  Route("GET", "/api/v1/password-links/{token}", A::kPublic, &Api::GetPasswordLink);
  Route("POST", "/api/v1/password-links/{token}", A::kPublic, &Api::UsePasswordLink);
  Route("GET", "/api/v1/outbox", A::kAdmin, &Api::ListOutbox);

  Route("GET", "/api/v1/me/mfa", A::kSignedIn, &Api::GetMyMfa);
  Route("DELETE", "/api/v1/me/mfa", A::kSignedIn, &Api::DeleteMyMfa);
  Route("POST", "/api/v1/me/mfa/totp", A::kSignedIn, &Api::StartTotpEnrolment);
  Route("POST", "/api/v1/me/mfa/totp/confirm", A::kSignedIn, &Api::ConfirmTotpEnrolment);
  Route("POST", "/api/v1/me/mfa/recovery-codes", A::kSignedIn, &Api::RegenerateRecoveryCodes);
  Route("DELETE", "/api/v1/users/{id}/mfa", A::kAdmin, &Api::ResetUserMfa);
  Route("POST", "/api/v1/users/{id}/unlock", A::kAdmin, &Api::UnlockUser);
  Route("GET", "/api/v1/identity/htpasswd", A::kAdmin, &Api::GetHtpasswdStatus);
  Route("GET", "/api/v1/settings/mfa", A::kAdmin, &Api::GetMfaSettings);
  Route("PUT", "/api/v1/settings/mfa", A::kAdmin, &Api::PutMfaSettings);
  Route("POST", "/api/v1/me/tokens", A::kSignedIn, &Api::CreateToken);
  Route("GET", "/api/v1/me/tokens", A::kSignedIn, &Api::ListMyCredentials);
  Route("DELETE", "/api/v1/me/tokens/{id}", A::kSignedIn, &Api::DeleteMyCredential);
  Route("POST", "/api/v1/me/access-keys", A::kSignedIn, &Api::CreateAccessKey);
  Route("GET", "/api/v1/me/access-keys", A::kSignedIn, &Api::ListMyCredentials);
  Route("DELETE", "/api/v1/me/access-keys/{id}", A::kSignedIn, &Api::DeleteMyCredential);
  Route("GET", "/api/v1/credentials", A::kAdmin, &Api::ListAllCredentials);
  Route("DELETE", "/api/v1/credentials/{id}", A::kAdmin, &Api::DeleteAnyCredential);
  // The compatibility endpoint of scripts written for AWS-style gateways.
  Route("POST", "/connection", A::kSignedIn, &Api::OpenConnection);
  Route("DELETE", "/connection", A::kSignedIn, &Api::CloseConnection);

  Route("GET", "/api/v1/audit", A::kAdmin, &Api::ListAudit);
  // Tunnels arrive as WebSocket upgrades (TunnelService); a plain GET gets a hint.
  Route("GET", "/api/v1/tunnel", A::kPublic, &Api::TunnelWithoutUpgrade);
}

HttpResponse Api::TunnelWithoutUpgrade(Call& call) { return TunnelService::WebSocketRequired(); }

Result<Caller> Api::AuthenticateRequest(const HttpRequest& request) {
  return Authenticate(request, ctx_.clock.Now());
}

void Api::LeaseEndedEarly(const Lease& lease) {
  (void)ctx_.controller.LeaseEnded(lease);
  if (ctx_.tunnels != nullptr) ctx_.tunnels->CloseLease(lease.id);
}

void Api::Route(const char* method, const char* pattern, Access access, Handler handler) {
  router_.Add(method, pattern,
              [this, access, handler](const HttpRequest& req, const PathParams& params) {
                Call call{req, params,
                          ClientAddress(req.peer, req.Header("x-forwarded-for"),
                                        req.Header("forwarded"), ctx_.config.trusted_proxies),
                          std::nullopt, ctx_.clock.Now()};
                if (access != Access::kPublic) {
                  auto caller = Authenticate(req, call.now);
                  if (!caller.ok()) return ErrorResponse(caller.status());
                  call.caller = std::move(caller).value();
                  if (access == Access::kAdmin && !call.caller->is_admin()) {
                    return JsonError(403, "forbidden", "this needs the admin role");
                  }
                  // Until the password is changed, the session is good for little else.
                  bool password_route = req.path == "/api/v1/me/password" ||
                                        req.path == "/api/v1/me" || req.path == "/api/v1/session";
                  if (call.caller->user.must_change_password && !password_route) {
                    return JsonError(403, "password_change_required",
                                     "change your password first (POST /api/v1/me/password)");
                  }
                  // Likewise a session that must first set up a second factor.
                  bool mfa_route = req.path == "/api/v1/me" || req.path == "/api/v1/session" ||
                                   req.path.rfind("/api/v1/me/mfa", 0) == 0;
                  if (call.caller->session.mfa_enrolment_only && !mfa_route) {
                    return JsonError(403, "mfa_enrolment_required",
                                     "set up a second factor first (POST /api/v1/me/mfa/totp)");
                  }
                }
                return (this->*handler)(call);
              });
}

Result<Caller> Api::Authenticate(const HttpRequest& request, Time now) {
  const Status unauthenticated(Code::kUnauthenticated, "unauthenticated",
                               "sign in first: no valid session or token");
  Caller caller;
  std::string token;
  std::string auth = request.Header("authorization");
  if (IsSigV4Authorization(auth)) {
    ASSIGN_OR_RETURN(caller, AuthenticateCredential(request, now, ""));
  } else {
    if (!auth.empty()) {
      if (auth.size() < 8 || strncasecmp(auth.c_str(), "Bearer ", 7) != 0) return unauthenticated;
      token = auth.substr(7);
    } else {
      token = request.Cookie(kSessionCookie);
      caller.via_cookie = true;
    }
    if (token.empty() || token.size() > 256) return unauthenticated;
    if (!caller.via_cookie && IsApiToken(token)) {
      ASSIGN_OR_RETURN(caller, AuthenticateCredential(request, now, token));
    } else {
      auto session = ctx_.store.FindSession(HashToken(token));
      if (!session.ok() || session->expires_at <= now) return unauthenticated;
      auto user = ctx_.store.GetUser(session->user_id);
      if (!user.ok() || user->disabled) return unauthenticated;
      if (caller.via_cookie && IsWrite(request.method) &&
          !ConstantTimeEquals(request.Header("x-csrf-token"), session->csrf_token)) {
        return Status::Denied("csrf_token_invalid",
                              "cookie-authenticated writes need the X-CSRF-Token header from sign-in");
      }
      caller.user = std::move(user).value();
      caller.session = std::move(session).value();
    }
  }
  // The file is the authority for its users: one removed from it is out.
  if (caller.user.source == "htpasswd" &&
      (htpasswd_ == nullptr || !htpasswd_->Find(caller.user.subject))) {
    return unauthenticated;
  }
  AddIdentityGroups(caller.user);
  return caller;
}

HttpResponse Api::Handle(const HttpRequest& request) {
  HttpResponse response = router_.Dispatch(request);
  int cls = std::clamp(response.status / 100, 1, 5);
  ++requests_[cls];
  return response;
}

Catalog Api::LoadCatalog() {
  return Catalog{ctx_.store.ListServices(), ctx_.store.ListAccessGroups(),
                 ctx_.store.ListPolicies()};
}

}  // namespace pinhole
