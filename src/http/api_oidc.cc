// OpenID Connect single sign-on: GET /api/v1/oidc/{name}/login and
// /api/v1/oidc/{name}/callback. The protocol lives in auth/oidc; this file
// turns an identity into a Pinhole user and a session.
#include "http/api_oidc.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "auth/oidc/oidc_client.h"
#include "auth/oidc/pending_logins.h"
#include "auth/tokens.h"
#include "http/api.h"
#include "http/api_codec.h"
#include "http/json_fields.h"

namespace pinhole {

namespace {

constexpr std::string_view kStateCookie = "pinhole_oidc_state";

// Where to land after sign-in: a path on this server only, never another
// origin ("//evil.example", "/\evil.example" and "https://..." are all
// refused), so the callback cannot serve as an open redirect.
std::string LocalPath(const std::string& want) {
  if (want.empty() || want.size() > 512 || want[0] != '/') return "/";
  if (want.size() > 1 && (want[1] == '/' || want[1] == '\\')) return "/";
  for (char c : want) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return want;
}

// Keeps a provider-sent value printable and short for the audit log.
std::string Printable(std::string_view s, size_t max = 64) {
  std::string out;
  for (char c : s.substr(0, max)) {
    out +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '?';
  }
  return out;
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse r;
  r.status = 302;
  r.content_type = "text/plain";
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

std::string ClearStateCookie(const Call& call) {
  return std::string(kStateCookie) + "=; Path=/api/v1/oidc/; HttpOnly; SameSite=Lax; Max-Age=0" +
         (call.http.tls ? "; Secure" : "");
}

// A browser navigated here and wants a page; a script asked for JSON.
bool WantsJson(const HttpRequest& req) {
  std::string accept = req.Header("accept");
  return accept.find("application/json") != std::string::npos &&
         accept.find("text/html") == std::string::npos;
}

}  // namespace

Api::~Api() = default;

void Api::InitOidc() {
  oidc_ = std::make_unique<OidcState>();
  oidc::HttpFetcher* fetcher = ctx_.oidc_fetcher;
  if (fetcher == nullptr && !ctx_.config.oidc.empty()) {
    oidc_->own_fetcher = oidc::MakeCurlHttpFetcher();
    fetcher = oidc_->own_fetcher.get();
  }
  for (const auto& p : ctx_.config.oidc) {
    oidc_->clients[p.name] = std::make_unique<oidc::OidcClient>(p, *fetcher);
  }
}

nlohmann::json Api::SsoFeatures() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : ctx_.config.oidc) {
    out.push_back({{"name", p.name},
                   {"display_name", p.display_name},
                   {"login_url", "/api/v1/oidc/" + p.name + "/login"}});
  }
  return out;
}

HttpResponse Api::OidcLogin(Call& call) {
  auto it = oidc_->clients.find(call.Param("name"));
  if (it == oidc_->clients.end()) {
    return JsonError(404, "not_found", "no single sign-on provider by that name");
  }
  std::string return_to = "/";
  if (auto q = call.http.query.find("return_to"); q != call.http.query.end()) {
    return_to = LocalPath(q->second);
  }
  std::string redirect_uri = ctx_.config.public_url + "/api/v1/oidc/" + it->first + "/callback";
  std::string state;
  auto url = it->second->BeginLogin(redirect_uri, return_to, oidc_->pending, call.now);
  if (!url.ok()) {
    spdlog::warn("oidc {}: {}", it->first, url.status().message());
    if (WantsJson(call.http)) return ErrorResponse(url.status());
    return Redirect("/signin?sso_error=provider_unavailable");
  }
  // The state also goes into a cookie that only this browser holds, so a
  // callback URL made by someone else (login CSRF) is refused.
  auto pos = url->find("&state=");
  state = url->substr(pos + 7, url->find('&', pos + 7) - pos - 7);
  HttpResponse r = Redirect(*url);
  r.headers.emplace_back("Set-Cookie",
                         std::string(kStateCookie) + "=" + state +
                             "; Path=/api/v1/oidc/; HttpOnly; SameSite=Lax; Max-Age=" +
                             std::to_string(oidc_->pending.ttl().count()) +
                             (call.http.tls ? "; Secure" : ""));
  return r;
}

HttpResponse Api::OidcCallback(Call& call) {
  const std::string& name = call.Param("name");
  auto it = oidc_->clients.find(name);
  if (it == oidc_->clients.end()) {
    return JsonError(404, "not_found", "no single sign-on provider by that name");
  }
  const OidcProviderConfig& cfg = it->second->config();
  std::string return_to = "/";
  nlohmann::json seen = nlohmann::json::object();  // what we learnt, for the audit log

  auto fail = [&](int status, const std::string& reason, const std::string& message) {
    ++logins_failed_;
    nlohmann::json details = {{"method", "oidc"}, {"provider", name}, {"reason", reason}};
    details.update(seen);
    (void)ctx_.store.AppendAudit(call.Audit("session.login_failed", "oidc/" + name, details));
    spdlog::info("oidc {}: sign-in refused: {} ({})", name, reason, message);
    HttpResponse r;
    if (WantsJson(call.http)) {
      r = JsonError(status, reason, message);
    } else {
      r = Redirect("/signin?sso_error=" + oidc::PercentEncode(reason) +
                   (return_to == "/" ? "" : "&next=" + oidc::PercentEncode(return_to)));
    }
    r.headers.emplace_back("Set-Cookie", ClearStateCookie(call));
    return r;
  };
  auto param = [&call](const char* key) -> std::string {
    auto q = call.http.query.find(key);
    return q == call.http.query.end() ? "" : q->second;
  };

  std::string state = param("state");
  if (state.empty() || state.size() > 128) {
    return fail(400, "state_missing", "the callback carries no sign-in state");
  }
  // The state is used up by any callback, good or bad, so it cannot be
  // tried twice.
  auto login = oidc_->pending.Take(state, call.now);
  if (!login.ok()) return fail(400, login.status().reason(), login.status().message());
  return_to = login->return_to;
  if (login->provider != name) {
    return fail(400, "state_mismatch", "this sign-in was started with another provider");
  }
  if (!ConstantTimeEquals(call.http.Cookie(kStateCookie), state)) {
    return fail(400, "state_mismatch", "this sign-in was not started in this browser");
  }
  if (std::string error = param("error"); !error.empty()) {
    seen["provider_error"] = Printable(error);
    return fail(401, "provider_error", "the identity provider refused the sign-in");
  }
  std::string code = param("code");
  if (code.empty() || code.size() > 2048) {
    return fail(400, "code_missing", "the callback carries no authorization code");
  }
  std::string redirect_uri = ctx_.config.public_url + "/api/v1/oidc/" + name + "/callback";
  auto identity = it->second->FinishLogin(code, *login, redirect_uri, call.now);
  if (!identity.ok()) {
    const Status& st = identity.status();
    int status = st.code() == Code::kUnavailable ? 503 : 401;
    return fail(status, st.reason(), st.message());
  }
  seen["subject"] = identity->subject.substr(0, 300);

  // Find the user: by subject, then (carefully) by email, else create one.
  std::optional<std::string> email = NormalizeEmail(identity->email);
  if (email) seen["email"] = *email;
  bool verified_false = identity->email_verified.has_value() && !*identity->email_verified;
  bool verified_true = identity->email_verified.value_or(false);
  std::optional<User> user;
  auto by_subject = ctx_.store.FindUserBySubject("oidc", identity->subject);
  if (by_subject.ok()) {
    user = *by_subject;
  } else if (by_subject.status().code() != Code::kNotFound) {
    return fail(503, "store_unavailable", by_subject.status().message());
  }
  bool created = false;
  if (!user) {
    if (!email) return fail(403, "no_email", "the provider did not send a usable email address");
    if (cfg.require_verified_email && verified_false) {
      return fail(403, "email_not_verified", "the provider says this email is not verified");
    }
    auto by_email = ctx_.store.FindUser(*email);
    if (by_email.ok()) {
      // Linking hands the account to whoever the provider vouches for, so it
      // needs the provider to assert the address is verified; an account
      // already tied to another subject, or to the htpasswd file, is never
      // taken over.
      bool linkable =
          (by_email->source == "local" || by_email->source == "oidc") && by_email->subject.empty();
      if (!linkable) {
        return fail(409, "account_conflict", "an account with this email signs in another way");
      }
      if (!verified_true) {
        return fail(403, "email_not_verified",
                    "linking an existing account needs a verified email from the provider");
      }
      User linked = *by_email;
      linked.source = "oidc";
      linked.subject = identity->subject;
      linked.external_groups = identity->groups;
      AuditEntry audit = call.Audit("user.link", "user/" + linked.email,
                                    {{"provider", name}, {"subject", identity->subject}});
      audit.actor = linked.email;
      auto updated = ctx_.store.UpdateUser(linked, audit);
      if (!updated.ok()) return fail(503, "store_unavailable", updated.status().message());
      user = *updated;
    } else if (by_email.status().code() != Code::kNotFound) {
      return fail(503, "store_unavailable", by_email.status().message());
    } else {
      if (!cfg.provision) {
        return fail(403, "provisioning_disabled", "there is no Pinhole account for this email");
      }
      User fresh;
      fresh.email = *email;
      fresh.role = Role::kUser;
      fresh.source = "oidc";
      fresh.subject = identity->subject;
      fresh.external_groups = identity->groups;
      fresh.created_at = call.now;
      AuditEntry audit = call.Audit("user.create", "user/" + fresh.email,
                                    {{"source", "oidc"},
                                     {"provider", name},
                                     {"subject", identity->subject},
                                     {"external_groups", identity->groups}});
      audit.actor = fresh.email;
      auto made = ctx_.store.CreateUser(fresh, audit);
      if (!made.ok()) return fail(503, "store_unavailable", made.status().message());
      user = *made;
      created = true;
    }
  }
  if (user->disabled) return fail(403, "user_disabled", "this account is disabled");
  if (!created && user->external_groups != identity->groups) {
    User changed = *user;
    changed.external_groups = identity->groups;
    AuditEntry audit = call.Audit(
        "user.external_groups", "user/" + user->email,
        {{"provider", name}, {"before", user->external_groups}, {"after", identity->groups}});
    audit.actor = user->email;
    auto updated = ctx_.store.UpdateUser(changed, audit);
    if (!updated.ok()) return fail(503, "store_unavailable", updated.status().message());
    user = *updated;
  }
  auto token = StartSession(call, *user, "oidc", {{"provider", name}});
  if (!token.ok()) return fail(503, "store_unavailable", token.status().message());
  HttpResponse r = Redirect(return_to);
  r.headers.emplace_back("Set-Cookie", SessionCookie(call, *token));
  r.headers.emplace_back("Set-Cookie", ClearStateCookie(call));
  return r;
}

}  // namespace pinhole
