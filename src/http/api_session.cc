// POST/DELETE /api/v1/session, GET /api/v1/me, POST /api/v1/me/password.
#include "auth/link_tokens.h"
#include "auth/password.h"
#include "auth/tokens.h"
#include "core/duration.h"
#include "core/policy.h"
#include "core/schedule.h"
#include "http/api.h"
#include "http/api_codec.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

HttpResponse TooManyAttempts(Millis retry_after) {
  auto r = JsonError(429, "too_many_attempts", "too many failed sign-in attempts; try again later");
  auto secs = std::chrono::ceil<Seconds>(retry_after).count();
  r.headers.emplace_back("Retry-After", std::to_string(std::max<int64_t>(secs, 1)));
  return r;
}

}  // namespace

HttpResponse Api::CreateSession(Call& call) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string email, password, totp, recovery_code;
  Status st = CheckKeys(*body, {"email", "password", "totp", "recovery_code"});
  if (st.ok()) st = ReadString(*body, "email", email, true, 254);
  if (st.ok()) st = ReadString(*body, "password", password, true);
  if (st.ok()) st = ReadString(*body, "totp", totp, false, 16);
  if (st.ok()) st = ReadString(*body, "recovery_code", recovery_code, false, 32);
  if (!st.ok()) return ErrorResponse(st);
  auto normal = NormalizeEmail(email);
  if (ctx_.config.local_passwords == LocalPasswords::kNone) {
    (void)ctx_.store.AppendAudit(call.Audit("session.login_failed", "user/" + normal.value_or("?"),
                                            {{"method", "password"},
                                             {"reason", "local_passwords_disabled"}}));
    return JsonError(403, "local_passwords_disabled",
                     "password sign-in is turned off; use single sign-on");
  }
  std::string account_key = "account:" + normal.value_or(email);
  std::string address_key = "address:" + call.client_ip.ToString();

  Millis wait = std::max(address_throttle_.RetryAfter(address_key),
                         account_throttle_.RetryAfter(account_key));
  if (wait > Millis(0)) return TooManyAttempts(wait);

  // A name in the htpasswd file signs in against the file, unless Pinhole
  // has its own (local or SSO) account of that address: a file entry never
  // shadows or takes over one.
  Result<User> user = normal ? ctx_.store.FindUser(*normal) : Result<User>(Status::NotFound(""));
  std::optional<HtpasswdEntry> file_entry =
      htpasswd_ != nullptr && !(user.ok() && user->source != "htpasswd") ? htpasswd_->Find(email)
                                                                         : std::nullopt;
  if (file_entry) user = ctx_.store.FindUserBySubject("htpasswd", email);
  // A failed attempt counts against the address, the account name and (for
  // an existing account) its lockout; it is audited with why it failed.
  auto refuse = [&](const std::string& reason, HttpResponse response) {
    ++logins_failed_;
    account_throttle_.RecordFailure(account_key);
    address_throttle_.RecordFailure(address_key);
    (void)ctx_.store.AppendAudit(call.Audit("session.login_failed", "user/" + normal.value_or("?"),
                                            {{"email", email.substr(0, 254)},
                                             {"method", "password"},
                                             {"reason", reason}}));
    if (user.ok() && reason != "locked" && ctx_.config.lockout_after > 0) {
      auto after = ctx_.store.RecordLoginFailure(user->id, call.now, ctx_.config.lockout_after,
                                                 ctx_.config.lockout_for);
      if (after.ok() && after->failed_logins == ctx_.config.lockout_after) {
        (void)ctx_.store.AppendAudit(
            call.Audit("user.locked", "user/" + user->email,
                       {{"failed_logins", after->failed_logins},
                        {"until", FormatTime(*after->locked_until)}}));
      }
    }
    return response;
  };
  if (user.ok() && user->locked_until && *user->locked_until > call.now) {
    return refuse("locked",
                  JsonError(403, "account_locked",
                            "this account is locked after too many failed sign-ins until " +
                                FormatTime(*user->locked_until) + "; an admin can unlock it"));
  }
  // Verify against a fixed hash when the user is unknown, so that timing does
  // not tell which emails exist.
  static const std::string kDecoyHash = HashPassword("decoy password").value();
  bool good;
  if (file_entry) {
    good = VerifyHtpasswdPassword(password, file_entry->hash);
    if (good && !user.ok()) {
      user = HtpasswdUser(call, *file_entry);
      if (!user.ok()) {
        return refuse(user.status().reason(),
                      JsonError(403, user.status().reason(), user.status().message()));
      }
    }
    good = good && user.ok() && !user->disabled;
  } else {
    good = VerifyPassword(password, user.ok() ? user->password_hash : kDecoyHash) && user.ok() &&
           !user->disabled;
  }
  if (!good) {
    std::string reason = !user.ok() ? "unknown_user" : user->disabled ? "disabled" : "bad_password";
    return refuse(reason, JsonError(401, "invalid_credentials", "wrong email or password"));
  }
  auto method = SecondFactor(call, *user, totp, recovery_code);
  if (!method.ok()) {
    return refuse(method.status().reason(),
                  JsonError(401, method.status().reason(), method.status().message()));
  }
  account_throttle_.RecordSuccess(account_key);
  if (user->failed_logins > 0) (void)ctx_.store.ResetLoginFailures(user->id, nullptr);
  if (ctx_.config.local_passwords == LocalPasswords::kAdminsOnly && user->role != Role::kAdmin) {
    (void)ctx_.store.AppendAudit(call.Audit("session.login_failed", "user/" + user->email,
                                            {{"method", "password"},
                                             {"reason", "local_passwords_disabled"}}));
    return JsonError(403, "local_passwords_disabled",
                     "password sign-in is turned off; use single sign-on");
  }

  // Required to have a second factor but without one yet: the session is
  // good for setting it up and nothing else.
  const bool enrol = *method == "password" && MfaRequired(*user);
  auto token = StartSession(call, *user, *method, nlohmann::json::object(), enrol);
  if (!token.ok()) return ErrorResponse(token.status());
  const Session& session = call.caller->session;
  auto r = JsonResponse(200, {{"token", *token},
                              {"csrf_token", session.csrf_token},
                              {"user", ToJson(*user)},
                              {"must_change_password", user->must_change_password},
                              {"mfa_enrolment_required", enrol},
                              {"expires_at", FormatTime(session.expires_at)}});
  r.headers.emplace_back("Set-Cookie", SessionCookie(call, *token));
  return r;
}

Result<std::string> Api::StartSession(Call& call, const User& user, const std::string& method,
                                      nlohmann::json details, bool mfa_enrolment_only) {
  std::string token = RandomToken(32);
  Session session{HashToken(token), RandomToken(24), user.id, call.now,
                  call.now + ctx_.config.session_ttl};
  session.method = method;
  session.mfa_enrolment_only = mfa_enrolment_only;
  if (mfa_enrolment_only) details["mfa_enrolment_only"] = true;
  Status st = ctx_.store.CreateSession(session);
  if (!st.ok()) return st;
  call.caller = Caller{user, session, false};
  details["method"] = method;
  (void)ctx_.store.AppendAudit(call.Audit("session.create", "user/" + user.email, details));
  ActivateOnSignIn(call);
  return token;
}

std::string Api::SessionCookie(const Call& call, const std::string& token) const {
  std::string cookie = std::string("pinhole_session=") + token +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                       std::to_string(ctx_.config.session_ttl.count());
  if (call.http.tls) cookie += "; Secure";
  return cookie;
}

HttpResponse Api::DeleteSession(Call& call) {
  Status st = ctx_.store.DeleteSession(call.caller->session.token_hash);
  if (!st.ok()) return ErrorResponse(st);
  (void)ctx_.store.AppendAudit(call.Audit("session.delete", "user/" + call.caller->user.email));
  auto r = JsonResponse(204, nullptr);
  r.headers.emplace_back("Set-Cookie",
                         "pinhole_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  return r;
}

HttpResponse Api::GetMe(Call& call) {
  nlohmann::json body = {{"user", ToJson(call.caller->user)},
                         {"client_ip", call.client_ip.ToString()},
                         {"must_change_password", call.caller->user.must_change_password}};
  // A page reloaded from the cookie needs the CSRF token again. Only a
  // same-origin script can read this reply (no CORS), which is the point.
  if (call.caller->via_cookie) body["csrf_token"] = call.caller->session.csrf_token;
  return JsonResponse(200, body);
}

HttpResponse Api::GetMyGrants(Call& call) {
  Catalog catalog = LoadCatalog();
  nlohmann::json items = nlohmann::json::array();
  for (const Offer& offer : Offers(call.caller->user, catalog)) {
    bool is_service = offer.kind == Offer::Kind::kService;
    nlohmann::json services = nlohmann::json::array();
    for (const auto& name : offer.services) {
      if (const Service* s = catalog.FindService(name)) {
        // What a requester may know of a service; not its target.
        nlohmann::json full = ToJson(*s);
        nlohmann::json brief;
        for (const char* key : {"name", "description", "protocol", "ports", "backend"}) {
          brief[key] = full.value(key, nlohmann::json());
        }
        services.push_back(std::move(brief));
      }
    }
    nlohmann::json item = {{"kind", is_service ? "service" : "access_group"},
                           {"name", offer.name},
                           {"services", services},
                           {"requestable", offer.policy != nullptr},
                           {"policy", nullptr}};
    if (is_service) {
      item["description"] = services.empty() ? "" : services[0]["description"];
    } else {
      const AccessGroup* g = catalog.FindAccessGroup(offer.name);
      item["description"] = "";
      item["public"] = g != nullptr && g->is_public;
    }
    if (const Policy* p = offer.policy) {
      nlohmann::json policy = ToJson(*p);
      Seconds by_default = std::min(p->default_duration, p->max_duration);
      item["policy"] = p->name;
      item["default_duration"] = FormatDuration(by_default);
      item["max_duration"] = policy["max_duration"];
      item["default_seconds"] = by_default.count();
      item["max_seconds"] = p->max_duration.count();
      item["recipients"] = policy["recipients"];
      item["min_prefix"] = policy["min_prefix"];
      item["approval"] = policy.value("approval", "auto");
      item["activate_on"] = policy["activate_on"];
      item["schedule"] = policy["schedule"];  // null: always
      item["open_now"] = true;
      if (p->schedule) {
        auto window = CurrentWindow(*p->schedule, call.now);
        item["open_now"] = window.has_value();
        if (window && window->end != Time::max()) item["window_end"] = FormatTime(window->end);
        if (!window) {
          if (auto next = NextOpening(*p->schedule, call.now)) {
            item["next_opening"] = FormatTime(*next);
          }
        }
      }
    }
    items.push_back(std::move(item));
  }
  return JsonResponse(200, {{"client_ip", call.client_ip.ToString()}, {"items", items}});
}

HttpResponse Api::ChangePassword(Call& call) {
  if (call.caller->credential) {
    return JsonError(403, "session_required",
                     "a password is changed from a signed-in session, not with a token or key");
  }
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string current, fresh;
  Status st = CheckKeys(*body, {"current", "new"});
  if (st.ok()) st = ReadString(*body, "current", current, true);
  if (st.ok()) st = ReadString(*body, "new", fresh, true);
  if (!st.ok()) return ErrorResponse(st);
  User user = call.caller->user;
  if (user.source != "local") {
    return JsonError(403, "password_managed_elsewhere",
                     "this account's password is kept by its " + user.source +
                         " source, not by Pinhole");
  }
  if (!VerifyPassword(current, user.password_hash)) {
    return JsonError(403, "invalid_credentials", "the current password is wrong");
  }
  if (current == fresh) {
    return JsonError(422, "weak_password", "the new password must differ from the current one");
  }
  st = CheckPasswordPolicy(fresh);
  if (!st.ok()) return ErrorResponse(st);
  auto hash = HashPassword(fresh);
  if (!hash.ok()) return ErrorResponse(hash.status());
  user.password_hash = *hash;
  user.must_change_password = false;
  auto updated =
      ctx_.store.UpdateUser(user, call.Audit("user.password_change", "user/" + user.email));
  if (!updated.ok()) return ErrorResponse(updated.status());
  // Other sessions of this user end; the one that made the change stays.
  (void)ctx_.store.DeleteUserSessions(user.id);
  (void)ctx_.store.CreateSession(call.caller->session);
  return JsonResponse(204, nullptr);
}

// A set-password link from a welcome email: GET names the account, POST
// sets the password (once), clears "must change" and ends other sessions.
HttpResponse Api::GetPasswordLink(Call& call) {
  auto record = ResolveLink(call.Param("token"), "set_password", call.now);
  if (!record.ok()) return ErrorResponse(record.status());
  auto user = ctx_.store.GetUser(record->user_id);
  if (!user.ok() || user->disabled) return JsonError(404, "invalid_link", "this link is not valid");
  return JsonResponse(200, {{"email", user->email},
                            {"link_expires_at", FormatTime(record->expires_at)}});
}

HttpResponse Api::UsePasswordLink(Call& call) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string password;
  Status st = CheckKeys(*body, {"new"});
  if (st.ok()) st = ReadString(*body, "new", password, true);
  if (st.ok()) st = CheckPasswordPolicy(password);
  if (!st.ok()) return ErrorResponse(st);
  const std::string& token = call.Param("token");
  auto record = ResolveLink(token, "set_password", call.now);
  if (!record.ok()) return ErrorResponse(record.status());
  auto user = ctx_.store.GetUser(record->user_id);
  if (!user.ok() || user->disabled) return JsonError(404, "invalid_link", "this link is not valid");
  auto hash = HashPassword(password);
  if (!hash.ok()) return ErrorResponse(hash.status());
  User changed = *user;
  changed.password_hash = *hash;
  changed.must_change_password = false;
  AuditEntry audit = call.Audit("user.password_set", "user/" + user->email, {{"via", "link"}});
  audit.actor = user->email;
  audit.consume_tokens = {HashToken(token)};
  auto updated = ctx_.store.UpdateUser(changed, audit);
  if (!updated.ok()) {
    if (updated.status().reason() == "token_used") {
      return JsonError(410, "link_used", "this link was already used");
    }
    return ErrorResponse(updated.status());
  }
  (void)ctx_.store.DeleteUserSessions(user->id);
  return JsonResponse(204, nullptr);
}

}  // namespace pinhole
