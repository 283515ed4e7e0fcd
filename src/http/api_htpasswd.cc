// Users from an Apache htpasswd file: provisioned into the store on their
// first sign-in (so leases and the audit log can name them), signing in
// against the file every time, and out as soon as the file drops them.
// Groups from the group file, and those an OIDC provider asserted, count
// like store groups wherever policy is decided for a caller.
#include "http/api.h"
#include "http/api_codec.h"

namespace pinhole {

void Api::AddIdentityGroups(User& user) {
  auto add = [&user](const std::string& g) {
    if (std::find(user.groups.begin(), user.groups.end(), g) == user.groups.end()) {
      user.groups.push_back(g);
    }
  };
  for (const auto& g : user.external_groups) add(g);
  if (htpasswd_ != nullptr && user.source == "htpasswd") {
    for (const auto& g : htpasswd_->GroupsOf(user.subject)) add(g);
  }
}

Result<User> Api::HtpasswdUser(Call& call, const HtpasswdEntry& entry) {
  if (auto known = ctx_.store.FindUserBySubject("htpasswd", entry.user); known.ok()) return known;
  User u;
  u.email = entry.user.find('@') != std::string::npos
                ? entry.user
                : entry.user + "@" + ctx_.config.htpasswd_email_domain;
  for (char& c : u.email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // An account of that address that Pinhole (or SSO) already has is not
  // taken over by a file entry of the same name.
  if (ctx_.store.FindUser(u.email).ok()) {
    return Status::Conflict("account_conflict",
                            "a different account already uses " + u.email);
  }
  u.source = "htpasswd";
  u.subject = entry.user;
  u.role = Role::kUser;
  u.created_at = call.now;
  AuditEntry audit = call.Audit("user.create", "user/" + u.email,
                                {{"source", "htpasswd"}, {"subject", entry.user}});
  audit.actor = "system";
  return ctx_.store.CreateUser(u, audit);
}

HttpResponse Api::GetHtpasswdStatus(Call& call) {
  if (htpasswd_ == nullptr) {
    return JsonError(404, "not_configured", "no [auth.htpasswd] file is configured");
  }
  HtpasswdStatus s = htpasswd_->status();
  nlohmann::json weak = nlohmann::json::array();
  for (const auto& name : s.weak_users) {
    auto e = htpasswd_->Find(name);
    weak.push_back({{"user", name}, {"scheme", e ? e->scheme : ""}});
  }
  return JsonResponse(200, {{"file", s.file},
                            {"group_file", s.group_file.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(s.group_file)},
                            {"loaded_at", FormatTime(s.loaded_at)},
                            {"users", s.users},
                            {"groups", s.groups},
                            {"weak_password_schemes", weak},
                            {"last_error", s.last_error.empty() ? nlohmann::json(nullptr)
                                                                : nlohmann::json(s.last_error)}});
}

}  // namespace pinhole
