// API tokens and access keys: created by their owner from a signed-in
// session, shown once, kept hashed (tokens) or as the secret SigV4 needs
// (access keys), listed with their last use, revoked by deleting them.
// Admins list and revoke anyone's. Also: authenticating a request by one.
#include <map>

#include "auth/credentials.h"
#include "auth/tokens.h"
#include "core/duration.h"
#include "http/api.h"
#include "http/api_codec.h"
#include "http/client_ip.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

using nlohmann::json;

constexpr Millis kTouchEvery = std::chrono::minutes(1);

std::string_view KindOfPath(const std::string& path) {
  return path.find("/access-keys") != std::string::npos ? "access_key" : "api_token";
}

json CredentialJson(const Credential& c, const std::string& owner, Time now) {
  json j = {{"id", c.id},
            {"kind", c.kind},
            {"name", c.name},
            {"owner", owner},
            {"created_at", FormatTime(c.created_at)},
            {"expires_at", c.expires_at ? json(FormatTime(*c.expires_at)) : json(nullptr)},
            {"expired", c.expires_at && *c.expires_at <= now},
            {"last_used_at", c.last_used_at ? json(FormatTime(*c.last_used_at)) : json(nullptr)},
            {"last_used_ip", c.last_used_ip.empty() ? json(nullptr) : json(c.last_used_ip)}};
  if (c.kind == "access_key") j["access_key_id"] = c.lookup;
  return j;
}

std::string EventPrefix(std::string_view kind) {
  return kind == "access_key" ? "access_key" : "api_token";
}

}  // namespace

Result<Caller> Api::AuthenticateCredential(const HttpRequest& request, Time now,
                                           const std::string& bearer) {
  Result<Credential> found = Status::NotFound("");
  std::string key_id;
  if (!bearer.empty()) {
    found = ctx_.store.FindCredential("api_token", HashToken(bearer));
    if (!found.ok() || (found->expires_at && *found->expires_at <= now)) {
      found = Status(Code::kUnauthenticated, "invalid_token",
                     "this API token is unknown, revoked or expired");
    }
  } else {
    SignedRequest signed_request{request.method, request.target, &request.headers, request.body};
    found = sigv4_.Verify(
        signed_request,
        [this](std::string_view id) { return ctx_.store.FindCredential("access_key", id); }, now,
        &key_id);
  }
  Result<User> user = Status::NotFound("");
  if (found.ok()) {
    user = ctx_.store.GetUser(found->user_id);
    if (!user.ok() || user->disabled) {
      found = Status(Code::kUnauthenticated, "unauthenticated", "this account is disabled");
    }
  }
  if (!found.ok()) {
    // Every refused credential is on the record, with what it claimed to be
    // (never a secret or a signature).
    AuditEntry audit;
    audit.time = now;
    audit.actor = "anonymous";
    audit.action = bearer.empty() ? "auth.sigv4_failed" : "auth.token_failed";
    audit.object = bearer.empty() ? "access_key/" + key_id.substr(0, 128) : "api_token";
    audit.client_ip = ClientAddress(request.peer, request.Header("x-forwarded-for"),
                                    request.Header("forwarded"), ctx_.config.trusted_proxies)
                          .ToString();
    audit.details_json = json{{"reason", found.status().reason()},
                              {"method", request.method},
                              {"path", request.path.substr(0, 200)}}
                             .dump();
    (void)ctx_.store.AppendAudit(audit);
    return found.status();
  }
  Caller caller;
  caller.user = std::move(user).value();
  caller.session.user_id = caller.user.id;
  caller.session.method = found->kind;
  // Last use is kept to the minute, so a busy script does not write on
  // every request.
  std::string ip = ClientAddress(request.peer, request.Header("x-forwarded-for"),
                                 request.Header("forwarded"), ctx_.config.trusted_proxies)
                       .ToString();
  if (!found->last_used_at || now - *found->last_used_at >= kTouchEvery ||
      found->last_used_ip != ip) {
    (void)ctx_.store.TouchCredential(found->id, now, ip);
    found->last_used_at = now;
    found->last_used_ip = ip;
  }
  caller.credential = std::move(found).value();
  return caller;
}

HttpResponse Api::CreateToken(Call& call) { return CreateCredential(call, "api_token"); }
HttpResponse Api::CreateAccessKey(Call& call) { return CreateCredential(call, "access_key"); }

HttpResponse Api::CreateCredential(Call& call, std::string_view kind) {
  // A leaked token must not be able to mint more of itself.
  if (call.caller->credential) {
    return JsonError(403, "session_required",
                     "API tokens and access keys are made from a signed-in session, not with "
                     "another token or key");
  }
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string name;
  std::optional<Seconds> expires_in;
  Status st = CheckKeys(*body, {"name", "expires_in"});
  if (st.ok()) st = ReadString(*body, "name", name, true, 64);
  if (st.ok()) st = CheckCredentialName(name);
  if (st.ok()) st = ReadDuration(*body, "expires_in", expires_in);
  const Seconds max = ctx_.config.credential_max_ttl;
  if (st.ok() && expires_in && (*expires_in <= Seconds(0) || *expires_in > max)) {
    st = Status::Invalid("invalid_field",
                         "expires_in: must be between 1s and " + FormatDuration(max));
  }
  if (!st.ok()) return ErrorResponse(st);
  const Seconds ttl = expires_in.value_or(std::min(ctx_.config.credential_default_ttl, max));

  Credential c;
  c.user_id = call.caller->user.id;
  c.kind = std::string(kind);
  c.name = name;
  c.created_at = call.now;
  c.expires_at = call.now + ttl;
  std::string token;
  if (kind == "api_token") {
    token = NewApiToken();
    c.lookup = HashToken(token);
  } else {
    c.lookup = NewAccessKeyId();
    c.secret = NewSecretAccessKey();
  }
  auto created = ctx_.store.CreateCredential(
      c, call.Audit(EventPrefix(kind) + ".create", "user/" + call.caller->user.email,
                    {{"name", name},
                     {"expires_at", FormatTime(*c.expires_at)},
                     {"access_key_id", kind == "access_key" ? json(c.lookup) : json(nullptr)}}));
  if (!created.ok()) {
    if (created.status().reason() == "name_taken") {
      return JsonError(409, "name_taken", "you already have one named \"" + name + "\"");
    }
    return ErrorResponse(created.status());
  }
  json reply = CredentialJson(*created, call.caller->user.email, call.now);
  if (kind == "api_token") {
    reply["token"] = token;
  } else {
    reply["secret_access_key"] = created->secret;
  }
  reply["note"] = "this secret is shown once; Pinhole cannot show it again";
  return JsonResponse(201, reply);
}

HttpResponse Api::ListMyCredentials(Call& call) {
  const std::string_view kind = KindOfPath(call.http.path);
  json items = json::array();
  for (const Credential& c : ctx_.store.ListCredentials(call.caller->user.id)) {
    if (c.kind == kind) items.push_back(CredentialJson(c, call.caller->user.email, call.now));
  }
  return JsonResponse(200, {{"items", items}});
}

HttpResponse Api::DeleteMyCredential(Call& call) {
  const std::string_view kind = KindOfPath(call.http.path);
  const auto& key = call.Param("id");
  auto id = ParseInteger(key, 1, std::numeric_limits<Id>::max());
  auto c = id ? ctx_.store.GetCredential(*id) : Result<Credential>(Status::NotFound(""));
  // Someone else's credential is as unknown as a missing one.
  if (!c.ok() || c->user_id != call.caller->user.id || c->kind != kind) {
    return JsonError(404, "not_found", "you have no " + std::string(kind) + " " + key);
  }
  Status st = ctx_.store.DeleteCredential(
      c->id, call.Audit(EventPrefix(kind) + ".revoke", "user/" + call.caller->user.email,
                        {{"name", c->name}, {"id", c->id}}));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(204, nullptr);
}

HttpResponse Api::ListAllCredentials(Call& call) {
  std::optional<Id> only;
  if (auto it = call.http.query.find("user"); it != call.http.query.end()) {
    auto user = ctx_.store.FindUser(it->second);
    if (!user.ok()) return JsonError(404, "not_found", "no user " + it->second);
    only = user->id;
  }
  std::string kind;
  if (auto it = call.http.query.find("kind"); it != call.http.query.end()) {
    kind = it->second;
    if (kind != "api_token" && kind != "access_key") {
      return JsonError(422, "invalid_field", "kind: api_token or access_key");
    }
  }
  std::map<Id, std::string> emails;
  for (const User& u : ctx_.store.ListUsers()) emails[u.id] = u.email;
  json items = json::array();
  for (const Credential& c : ctx_.store.ListCredentials(only)) {
    if (kind.empty() || c.kind == kind) items.push_back(CredentialJson(c, emails[c.user_id], call.now));
  }
  return JsonResponse(200, {{"items", items}});
}

HttpResponse Api::DeleteAnyCredential(Call& call) {
  const auto& key = call.Param("id");
  auto id = ParseInteger(key, 1, std::numeric_limits<Id>::max());
  auto c = id ? ctx_.store.GetCredential(*id) : Result<Credential>(Status::NotFound(""));
  if (!c.ok()) return JsonError(404, "not_found", "no credential " + key);
  auto owner = ctx_.store.GetUser(c->user_id);
  Status st = ctx_.store.DeleteCredential(
      c->id, call.Audit(EventPrefix(c->kind) + ".revoke",
                        "user/" + (owner.ok() ? owner->email : std::to_string(c->user_id)),
                        {{"name", c->name}, {"id", c->id}, {"by_admin", true}}));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(204, nullptr);
}

}  // namespace pinhole
