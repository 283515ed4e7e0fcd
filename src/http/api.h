// The HTTP API v1 of ../shared/API.md: authentication, CSRF and client-address
// middleware in front of thin handlers that call the store and the
// controller. Handlers never apply enforcement themselves: they commit to the
// store, then ask the controller to converge and wait for it.
//
// Thread-safety: Handle() is called concurrently from the server's threads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "auth/htpasswd.h"
#include "auth/sigv4_verify.h"
#include "auth/throttle.h"
#include "config/config.h"
#include "control/controller.h"
#include "core/policy.h"
#include "http/router.h"
#include "http/server.h"
#include "store/store.h"

namespace pinhole {

class Notifier;
class OutboxSender;
namespace oidc {
class HttpFetcher;
}
struct OidcState;
class TunnelService;
struct AdminLinks;

struct ApiContext {
  Store& store;
  Controller& controller;
  const Clock& clock;
  const Config& config;
  // Optional: tunnels to close when their lease ends early, and to count in
  // /metrics. Must outlive the Api's last request.
  TunnelService* tunnels = nullptr;
  // Optional: renders the emails and webhooks that state changes commit to
  // the outbox (none without it), and the sender to wake after such a commit
  // and to count in /metrics.
  const Notifier* notifier = nullptr;
  OutboxSender* outbox = nullptr;
  // Optional: how the OIDC client reaches providers (tests inject one); by
  // default libcurl.
  oidc::HttpFetcher* oidc_fetcher = nullptr;
};

// The signed-in principal of a request.
struct Caller {
  User user;
  Session session;  // for an API token or access key: an empty stand-in
  bool via_cookie = false;
  // Set when the request was made with an API token or a SigV4 access key
  // rather than a sign-in session.
  std::optional<Credential> credential;
  bool is_admin() const { return user.role == Role::kAdmin; }
};

// One request as a handler sees it.
struct Call {
  const HttpRequest& http;
  const PathParams& params;
  IpAddress client_ip;
  std::optional<Caller> caller;
  Time now;

  const std::string& Param(const std::string& name) const { return params.at(name); }
  const std::string& actor() const;
  // An audit entry for this request: time, actor, client address filled in.
  AuditEntry Audit(std::string action, std::string object,
                   const nlohmann::json& details = nlohmann::json::object()) const;
};

HttpResponse JsonResponse(int status, const nlohmann::json& body);
HttpResponse ErrorResponse(const Status& status);
int HttpStatusFor(const Status& status);

class Api {
 public:
  explicit Api(ApiContext ctx);
  ~Api();
  HttpResponse Handle(const HttpRequest& request);
  // The caller of a request by its bearer token or session cookie (with the
  // CSRF check on writes), as every signed-in route sees it.
  Result<Caller> AuthenticateRequest(const HttpRequest& request);

 private:
  using Handler = HttpResponse (Api::*)(Call&);
  enum class Access { kPublic, kSignedIn, kAdmin };
  void Route(const char* method, const char* pattern, Access access, Handler handler);
  // Resolves the caller from a bearer token or the session cookie (+ CSRF on writes).
  Result<Caller> Authenticate(const HttpRequest& request, Time now);

  // Session and self (api_session.cc)
  HttpResponse CreateSession(Call& call);
  // Creates a session for `user` signed in by `method` ("password", "oidc",
  // ...), audits session.create (with `details`), sets call.caller and
  // opens leases waiting for this sign-in. Returns the bearer token.
  Result<std::string> StartSession(Call& call, const User& user, const std::string& method,
                                   nlohmann::json details = nlohmann::json::object(),
                                   bool mfa_enrolment_only = false);
  // The Set-Cookie value carrying a session token.
  std::string SessionCookie(const Call& call, const std::string& token) const;
  // OIDC single sign-on (api_oidc.cc).
  void InitOidc();
  HttpResponse OidcLogin(Call& call);
  HttpResponse OidcCallback(Call& call);
  nlohmann::json SsoFeatures() const;
  HttpResponse DeleteSession(Call& call);
  HttpResponse GetMe(Call& call);
  HttpResponse GetMyGrants(Call& call);
  HttpResponse ChangePassword(Call& call);
  // Second factors (api_mfa.cc).
  bool MfaRequired(const User& user);
  // After a good password: the session method ("password", "password+totp",
  // "password+recovery"), or 401 mfa_required / invalid_totp / totp_reused /
  // invalid_recovery_code.
  Result<std::string> SecondFactor(Call& call, const User& user, const std::string& totp,
                                   const std::string& recovery_code);
  HttpResponse GetMyMfa(Call& call);
  HttpResponse StartTotpEnrolment(Call& call);
  HttpResponse ConfirmTotpEnrolment(Call& call);
  HttpResponse DeleteMyMfa(Call& call);
  HttpResponse RegenerateRecoveryCodes(Call& call);
  HttpResponse ResetUserMfa(Call& call);
  HttpResponse GetMfaSettings(Call& call);
  HttpResponse PutMfaSettings(Call& call);
  // The user named by the {id} parameter (id or email).
  Result<User> FindUserParam(const Call& call);
  HttpResponse UnlockUser(Call& call);
  // htpasswd (api_htpasswd.cc): the store user of a file entry whose
  // password was just verified (found by subject, or provisioned), and the
  // groups an identity source adds to a user (OIDC claim, group file).
  Result<User> HtpasswdUser(Call& call, const HtpasswdEntry& entry);
  void AddIdentityGroups(User& user);
  HttpResponse GetHtpasswdStatus(Call& call);
  // Admin objects (api_admin.cc)
  HttpResponse CreateUser(Call& call);
  HttpResponse ListUsers(Call& call);
  HttpResponse GetUser(Call& call);
  HttpResponse UpdateUser(Call& call);
  HttpResponse DeleteUser(Call& call);
  HttpResponse CreateGroup(Call& call);
  HttpResponse ListGroups(Call& call);
  HttpResponse GetGroup(Call& call);
  HttpResponse UpdateGroup(Call& call);
  HttpResponse DeleteGroup(Call& call);
  HttpResponse CreateService(Call& call);
  HttpResponse ListServices(Call& call);
  HttpResponse GetService(Call& call);
  HttpResponse UpdateService(Call& call);
  HttpResponse DeleteService(Call& call);
  HttpResponse CreateAccessGroup(Call& call);
  HttpResponse ListAccessGroups(Call& call);
  HttpResponse GetAccessGroup(Call& call);
  HttpResponse UpdateAccessGroup(Call& call);
  HttpResponse DeleteAccessGroup(Call& call);
  HttpResponse CreatePolicy(Call& call);
  HttpResponse ListPolicies(Call& call);
  HttpResponse GetPolicy(Call& call);
  HttpResponse UpdatePolicy(Call& call);
  HttpResponse DeletePolicy(Call& call);
  // Leases (api_leases.cc)
  HttpResponse CreateLease(Call& call);
  HttpResponse ListLeases(Call& call);
  HttpResponse GetLease(Call& call);
  HttpResponse TerminateLease(Call& call);
  HttpResponse RenewLease(Call& call);
  nlohmann::json LeaseJson(const Lease& lease) const;
  // Approvals (api_approvals.cc): by an admin's session, or by the signed
  // single-use link from their email (the change happens on POST only).
  HttpResponse ApproveLease(Call& call);
  HttpResponse DenyLease(Call& call);
  HttpResponse GetApprovalLink(Call& call);
  HttpResponse UseApprovalLink(Call& call);
  // Decides a pending request as `call.caller`; `consume` are link tokens
  // used up by the same commit.
  Result<Lease> DecideRequest(Call& call, const Lease& lease, bool approve,
                              const std::string& note, std::vector<std::string> consume);
  // Activates a lease waiting for approval, sign-in or an invitee: the
  // schedule is checked now, the expiry set from now, the holes applied.
  Result<Lease> ActivateLease(Call& call, const Lease& lease, std::optional<Cidr> source,
                              AuditEntry audit);
  // One approve and one deny link per admin (other than the requester),
  // their tokens added to `audit` (api_leases.cc).
  Result<std::vector<AdminLinks>> ApprovalLinks(const Call& call, AuditEntry& audit,
                                                Time decide_by);
  // Makes `lease` an invitation: state, link expiry and token (into
  // `audit`). Returns the link, for the reply and the invitee's email.
  Result<std::string> AttachInvitation(const Call& call, Lease& lease, AuditEntry& audit,
                                       std::optional<Seconds> expires_in);
  // Whether the enforcement points have room for `lease`'s rules (409
  // capacity_exhausted otherwise), asked before a lease is committed active.
  Status CheckCapacity(const Lease& lease);
  // Leases approved to open at the owner's next sign-in (api_approvals.cc).
  void ActivateOnSignIn(Call& call);
  // Invitations (api_invitations.cc).
  HttpResponse GetInvitation(Call& call);
  HttpResponse ActivateInvitation(Call& call);
  // Set-password links from welcome emails (api_session.cc).
  HttpResponse GetPasswordLink(Call& call);
  HttpResponse UsePasswordLink(Call& call);
  // A link token's record and lease, after its signature, expiry and use
  // are checked; errors are 404 invalid_link or 410 link_expired/link_used.
  Result<ActionToken> ResolveLink(std::string_view token, std::string_view purpose, Time now);
  // Active admins, who hear about requests.
  std::vector<User> Admins();
  // After a commit that added outbox messages.
  void KickOutbox();
  // Ends the owner's active self leases from other addresses that `fresh` covers.
  void SupersedeOlderAddresses(const Call& call, const Lease& fresh);
  // After a lease ended early (terminated, superseded, revoked): its holes
  // close and its tunnels are cut.
  void LeaseEndedEarly(const Lease& lease);
  // Ends every live lease matching `match` (user deleted/disabled, policy deleted).
  void RevokeLeases(const Call& call, const std::function<bool(const Lease&)>& match,
                    const std::string& why);
  // API tokens and access keys (api_credentials.cc).
  HttpResponse CreateToken(Call& call);
  HttpResponse CreateAccessKey(Call& call);
  HttpResponse ListMyCredentials(Call& call);
  HttpResponse DeleteMyCredential(Call& call);
  HttpResponse ListAllCredentials(Call& call);
  HttpResponse DeleteAnyCredential(Call& call);
  HttpResponse CreateCredential(Call& call, std::string_view kind);
  // The caller of a request with an API token or a SigV4 signature.
  Result<Caller> AuthenticateCredential(const HttpRequest& request, Time now,
                                        const std::string& bearer);
  // POST/DELETE /connection (api_connection.cc).
  HttpResponse OpenConnection(Call& call);
  HttpResponse CloseConnection(Call& call);
  // System (api_system.cc)
  HttpResponse Healthz(Call& call);
  HttpResponse Info(Call& call);
  HttpResponse Readyz(Call& call);
  HttpResponse Metrics(Call& call);
  HttpResponse ListAudit(Call& call);
  HttpResponse ListOutbox(Call& call);
  HttpResponse TunnelWithoutUpgrade(Call& call);

  Catalog LoadCatalog();

  ApiContext ctx_;
  std::string link_key_;  // signs emailed links (Store secret "link_key")
  Router router_;
  SigV4Verifier sigv4_;
  std::unique_ptr<HtpasswdDirectory> htpasswd_;  // null without [auth.htpasswd]
  LoginThrottle account_throttle_;
  LoginThrottle address_throttle_;
  std::unique_ptr<OidcState> oidc_;
  std::atomic<int64_t> requests_[6] = {};  // by status class 1xx..5xx, index 0 unused
  std::atomic<int64_t> logins_failed_ = 0;
  std::atomic<int64_t> leases_created_ = 0;
};

}  // namespace pinhole
