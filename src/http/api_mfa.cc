// TOTP second factors: enrolment (secret, otpauth URI and QR code, confirmed
// by a first code), one-time recovery codes, the second step of password
// sign-in, admins' reset and the MFA requirement (everyone, or members of
// named groups). Sessions from single sign-on skip TOTP: the identity
// provider is where those users prove a second factor.
#include "auth/totp.h"
#include "http/api.h"
#include "http/api_codec.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

using nlohmann::json;

constexpr char kMfaPolicy[] = "mfa_policy";

struct MfaPolicy {
  bool required_for_all = false;
  std::vector<std::string> required_groups;
};

MfaPolicy LoadMfaPolicy(Store& store) {
  MfaPolicy p;
  auto text = store.GetSetting(kMfaPolicy);
  if (!text.ok()) return p;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return p;
  p.required_for_all = j.value("required_for_all", false);
  if (auto it = j.find("required_groups"); it != j.end() && it->is_array()) {
    for (const auto& g : *it) {
      if (g.is_string()) p.required_groups.push_back(g.get<std::string>());
    }
  }
  return p;
}

json MfaPolicyJson(const MfaPolicy& p) {
  return {{"required_for_all", p.required_for_all}, {"required_groups", p.required_groups}};
}

// The {"code": "123456"} body of the calls that prove the second factor.
Result<std::string> ReadCode(const Call& call) {
  ASSIGN_OR_RETURN(json body, ParseJsonObject(call.http.body));
  std::string code;
  RETURN_IF_ERROR(CheckKeys(body, {"code"}));
  RETURN_IF_ERROR(ReadString(body, "code", code, true, 16));
  return code;
}

std::vector<std::string> HashRecoveryCodes(const std::vector<std::string>& codes) {
  std::vector<std::string> hashes;
  for (const auto& c : codes) hashes.push_back(HashRecoveryCode(c));
  return hashes;
}

HttpResponse SessionRequired() {
  return JsonError(403, "session_required",
                   "second factors are managed from a signed-in session, not with a token or key");
}

}  // namespace

bool Api::MfaRequired(const User& user) {
  if (user.source == "oidc") return false;
  MfaPolicy p = LoadMfaPolicy(ctx_.store);
  if (p.required_for_all) return true;
  auto in = [&user](const std::string& g) {
    return std::find(user.groups.begin(), user.groups.end(), g) != user.groups.end() ||
           std::find(user.external_groups.begin(), user.external_groups.end(), g) !=
               user.external_groups.end();
  };
  return std::any_of(p.required_groups.begin(), p.required_groups.end(), in);
}

Result<std::string> Api::SecondFactor(Call& call, const User& user, const std::string& totp,
                                      const std::string& recovery_code) {
  auto mfa = ctx_.store.GetMfa(user.id);
  if (!mfa.ok() || !mfa->confirmed) return std::string("password");
  if (!recovery_code.empty()) {
    Status st = ctx_.store.UseRecoveryCode(
        user.id, HashRecoveryCode(recovery_code),
        call.Audit("mfa.recovery_used", "user/" + user.email,
                   {{"left", mfa->recovery_hashes.empty() ? 0 : mfa->recovery_hashes.size() - 1}}));
    if (!st.ok()) {
      return Status(Code::kUnauthenticated, "invalid_recovery_code",
                    "this recovery code is not valid or was already used");
    }
    return std::string("password+recovery");
  }
  if (totp.empty()) {
    return Status(Code::kUnauthenticated, "mfa_required",
                  "this account has a second factor: send the 6-digit code as \"totp\" (or a "
                  "recovery code as \"recovery_code\")");
  }
  auto step = VerifyTotp(mfa->secret, totp, call.now);
  if (!step.ok()) {
    return Status(Code::kUnauthenticated, "invalid_totp", "the one-time code is not valid");
  }
  Status used = ctx_.store.UseTotpStep(user.id, *step);
  if (!used.ok()) {
    return Status(Code::kUnauthenticated, "totp_reused",
                  "this one-time code was already used; wait for the next one");
  }
  return std::string("password+totp");
}

HttpResponse Api::GetMyMfa(Call& call) {
  auto mfa = ctx_.store.GetMfa(call.caller->user.id);
  bool enabled = mfa.ok() && mfa->confirmed;
  return JsonResponse(200, {{"enabled", enabled},
                            {"enrolment_pending", mfa.ok() && !mfa->confirmed},
                            {"required", MfaRequired(call.caller->user)},
                            {"recovery_codes_left",
                             enabled ? static_cast<int64_t>(mfa->recovery_hashes.size()) : 0}});
}

HttpResponse Api::StartTotpEnrolment(Call& call) {
  if (call.caller->credential) return SessionRequired();
  const User& user = call.caller->user;
  if (auto mfa = ctx_.store.GetMfa(user.id); mfa.ok() && mfa->confirmed) {
    return JsonError(409, "mfa_already_enabled",
                     "a second factor is already set up; remove it first to start again");
  }
  MfaRecord record;
  record.user_id = user.id;
  record.secret = NewTotpSecret();
  record.created_at = call.now;
  const std::string uri = TotpUri(record.secret, user.email);
  auto svg = QrSvg(uri);
  if (!svg.ok()) return ErrorResponse(svg.status());
  Status st = ctx_.store.PutMfa(record, call.Audit("mfa.enrol_start", "user/" + user.email));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, {{"secret", record.secret}, {"otpauth_uri", uri}, {"qr_svg", *svg}});
}

HttpResponse Api::ConfirmTotpEnrolment(Call& call) {
  if (call.caller->credential) return SessionRequired();
  auto code = ReadCode(call);
  if (!code.ok()) return ErrorResponse(code.status());
  const User& user = call.caller->user;
  auto mfa = ctx_.store.GetMfa(user.id);
  if (!mfa.ok()) {
    return JsonError(409, "no_enrolment", "start with POST /api/v1/me/mfa/totp");
  }
  if (mfa->confirmed) return JsonError(409, "mfa_already_enabled", "already set up");
  auto step = VerifyTotp(mfa->secret, *code, call.now);
  if (!step.ok()) {
    (void)ctx_.store.AppendAudit(call.Audit("mfa.enrol_failed", "user/" + user.email,
                                            {{"reason", "invalid_totp"}}));
    return JsonError(422, "invalid_totp",
                     "that code does not match; check the phone's clock and try the next code");
  }
  std::vector<std::string> codes = NewRecoveryCodes();
  MfaRecord confirmed = *mfa;
  confirmed.confirmed = true;
  confirmed.last_step = *step;
  confirmed.recovery_hashes = HashRecoveryCodes(codes);
  Status st = ctx_.store.PutMfa(confirmed, call.Audit("mfa.enabled", "user/" + user.email));
  if (!st.ok()) return ErrorResponse(st);
  // A session limited to enrolment becomes a full one.
  if (call.caller->session.mfa_enrolment_only) {
    Session full = call.caller->session;
    full.mfa_enrolment_only = false;
    full.method += "+totp";
    if (ctx_.store.DeleteSession(full.token_hash).ok()) (void)ctx_.store.CreateSession(full);
  }
  return JsonResponse(200, {{"recovery_codes", codes},
                            {"note", "each recovery code works once; they are shown only now"}});
}

HttpResponse Api::DeleteMyMfa(Call& call) {
  if (call.caller->credential) return SessionRequired();
  auto code = ReadCode(call);
  if (!code.ok()) return ErrorResponse(code.status());
  const User& user = call.caller->user;
  if (MfaRequired(user)) {
    return JsonError(403, "mfa_required_by_policy",
                     "an admin requires a second factor for this account");
  }
  auto mfa = ctx_.store.GetMfa(user.id);
  if (!mfa.ok()) return JsonError(404, "not_found", "no second factor is set up");
  if (mfa->confirmed) {
    auto step = VerifyTotp(mfa->secret, *code, call.now);
    if (!step.ok() || !ctx_.store.UseTotpStep(user.id, *step).ok()) {
      return JsonError(403, "invalid_totp", "give a current code from the app to remove it");
    }
  }
  Status st = ctx_.store.DeleteMfa(user.id, call.Audit("mfa.disabled", "user/" + user.email));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(204, nullptr);
}

HttpResponse Api::RegenerateRecoveryCodes(Call& call) {
  if (call.caller->credential) return SessionRequired();
  auto code = ReadCode(call);
  if (!code.ok()) return ErrorResponse(code.status());
  const User& user = call.caller->user;
  auto mfa = ctx_.store.GetMfa(user.id);
  if (!mfa.ok() || !mfa->confirmed) return JsonError(404, "not_found", "no second factor is set up");
  auto step = VerifyTotp(mfa->secret, *code, call.now);
  if (!step.ok() || !ctx_.store.UseTotpStep(user.id, *step).ok()) {
    return JsonError(403, "invalid_totp", "give a current code from the app");
  }
  std::vector<std::string> codes = NewRecoveryCodes();
  MfaRecord fresh = *ctx_.store.GetMfa(user.id);
  fresh.recovery_hashes = HashRecoveryCodes(codes);
  Status st = ctx_.store.PutMfa(fresh, call.Audit("mfa.recovery_regenerated", "user/" + user.email));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, {{"recovery_codes", codes}});
}

HttpResponse Api::ResetUserMfa(Call& call) {
  auto user = FindUserParam(call);
  if (!user.ok()) return ErrorResponse(user.status());
  Status st = ctx_.store.DeleteMfa(user->id, call.Audit("mfa.reset", "user/" + user->email));
  if (!st.ok()) return ErrorResponse(st);
  // Whoever holds the old factor's sessions starts over.
  (void)ctx_.store.DeleteUserSessions(user->id);
  return JsonResponse(204, nullptr);
}

HttpResponse Api::GetMfaSettings(Call& call) {
  return JsonResponse(200, MfaPolicyJson(LoadMfaPolicy(ctx_.store)));
}

HttpResponse Api::PutMfaSettings(Call& call) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  MfaPolicy p;
  Status st = CheckKeys(*body, {"required_for_all", "required_groups"});
  if (st.ok()) st = ReadBool(*body, "required_for_all", p.required_for_all);
  if (st.ok()) st = ReadStringList(*body, "required_groups", p.required_groups);
  if (st.ok() && p.required_groups.size() > 100) {
    st = Status::Invalid("invalid_field", "required_groups: at most 100");
  }
  for (const auto& g : p.required_groups) {
    if (st.ok() && (g.empty() || g.size() > 64)) {
      st = Status::Invalid("invalid_field", "required_groups: names of 1 to 64 characters");
    }
  }
  if (!st.ok()) return ErrorResponse(st);
  json j = MfaPolicyJson(p);
  st = ctx_.store.PutSetting(kMfaPolicy, j.dump(), call.Audit("settings.mfa", "settings/mfa", j));
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, j);
}

}  // namespace pinhole
