// Admin collections: users, groups, services, access groups, policies.
// All five share one shape (create, list, get by id or name, patch, delete);
// ObjectKind<T> says how each kind reads and writes the store.
#include "auth/link_tokens.h"
#include "auth/password.h"
#include "http/api.h"
#include "http/api_codec.h"
#include "http/json_fields.h"
#include "notify/notifier.h"

namespace pinhole {
namespace {

using nlohmann::json;

std::optional<Id> AsId(const std::string& key) {
  return ParseInteger(key, 1, std::numeric_limits<Id>::max());
}

template <typename T>
struct ObjectKind;

#define PINHOLE_OBJECT_KIND(Type, kind_name, Plural, key_field, apply_fn)                        \
  template <>                                                                                    \
  struct ObjectKind<Type> {                                                                      \
    static constexpr const char* kName = kind_name;                                              \
    static Result<Type> Get(Store& s, Id id) { return s.Get##Type(id); }                         \
    static Result<Type> Find(Store& s, std::string_view key) { return s.Find##Type(key); }       \
    static std::vector<Type> List(Store& s) { return s.List##Plural(); }                         \
    static Result<Type> Create(Store& s, const Type& v, const AuditEntry& a) {                   \
      return s.Create##Type(v, a);                                                               \
    }                                                                                            \
    static Result<Type> Update(Store& s, const Type& v, const AuditEntry& a) {                   \
      return s.Update##Type(v, a);                                                               \
    }                                                                                            \
    static Status Delete(Store& s, Id id, const AuditEntry& a) { return s.Delete##Type(id, a); } \
    static Status Apply(const json& body, Type& v) { return apply_fn(body, v); }                 \
    static const std::string& Key(const Type& v) { return v.key_field; }                         \
  };

PINHOLE_OBJECT_KIND(User, "user", Users, email, ApplyUserFields)
PINHOLE_OBJECT_KIND(Group, "group", Groups, name, ApplyGroupFields)
PINHOLE_OBJECT_KIND(Service, "service", Services, name, ApplyServiceFields)
PINHOLE_OBJECT_KIND(AccessGroup, "access_group", AccessGroups, name, ApplyAccessGroupFields)
PINHOLE_OBJECT_KIND(Policy, "policy", Policies, name, ApplyPolicyFields)
#undef PINHOLE_OBJECT_KIND

template <typename T>
std::string ObjectRef(const T& v) {
  return std::string(ObjectKind<T>::kName) + "/" + ObjectKind<T>::Key(v);
}

// Looks an object up by numeric id or by its unique name/email.
template <typename T>
Result<T> Lookup(Store& store, const std::string& key) {
  if (auto id = AsId(key)) {
    auto r = ObjectKind<T>::Get(store, *id);
    if (r.ok()) return r;
  }
  auto r = ObjectKind<T>::Find(store, key);
  if (!r.ok() && r.status().code() == Code::kNotFound) {
    return Status::NotFound(std::string("no ") + ObjectKind<T>::kName + " named " + key);
  }
  return r;
}

// `prepare` may check or complete the object before it is written (nullptr: nothing to do).
template <typename T>
using Prepare = std::function<Status(const json& body, T& object)>;

// `effects` may add side effects (outbox messages, tokens) to the audit entry
// of the creation, so that they commit with it.
template <typename T>
HttpResponse CreateObject(Store& store, const Call& call, const Prepare<T>& prepare,
                          const std::function<void(const T&, AuditEntry&)>& effects = nullptr) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  T object;
  Status st = ObjectKind<T>::Apply(*body, object);
  if (st.ok() && prepare) st = prepare(*body, object);
  if (!st.ok()) return ErrorResponse(st);
  AuditEntry audit =
      call.Audit(std::string(ObjectKind<T>::kName) + ".create", ObjectRef(object), ToJson(object));
  if (effects) effects(object, audit);
  auto created = ObjectKind<T>::Create(store, object, audit);
  if (!created.ok()) return ErrorResponse(created.status());
  return JsonResponse(201, ToJson(*created));
}

template <typename T>
HttpResponse UpdateObject(Store& store, const Call& call, const Prepare<T>& prepare) {
  auto body = ParseJsonObject(call.http.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto current = Lookup<T>(store, call.Param("id"));
  if (!current.ok()) return ErrorResponse(current.status());
  T object = *current;
  Status st = ObjectKind<T>::Apply(*body, object);
  if (st.ok() && prepare) st = prepare(*body, object);
  if (!st.ok()) return ErrorResponse(st);
  auto updated = ObjectKind<T>::Update(
      store, object,
      call.Audit(std::string(ObjectKind<T>::kName) + ".update", ObjectRef(object), *body));
  if (!updated.ok()) return ErrorResponse(updated.status());
  return JsonResponse(200, ToJson(*updated));
}

template <typename T>
HttpResponse ListObjects(Store& store) {
  json items = json::array();
  for (const auto& v : ObjectKind<T>::List(store)) items.push_back(ToJson(v));
  return JsonResponse(200, {{"items", items}});
}

template <typename T>
HttpResponse GetObject(Store& store, const Call& call) {
  auto v = Lookup<T>(store, call.Param("id"));
  if (!v.ok()) return ErrorResponse(v.status());
  return JsonResponse(200, ToJson(*v));
}

// Deletes and returns what was deleted (for follow-up work), or an error response.
template <typename T>
std::variant<T, HttpResponse> DeleteObject(Store& store, const Call& call) {
  auto v = Lookup<T>(store, call.Param("id"));
  if (!v.ok()) return ErrorResponse(v.status());
  Status st = ObjectKind<T>::Delete(
      store, v->id, call.Audit(std::string(ObjectKind<T>::kName) + ".delete", ObjectRef(*v)));
  if (!st.ok()) return ErrorResponse(st);
  return *v;
}

template <typename T>
HttpResponse DeleteObjectOnly(Store& store, const Call& call) {
  auto r = DeleteObject<T>(store, call);
  if (auto* resp = std::get_if<HttpResponse>(&r)) return *resp;
  return JsonResponse(204, nullptr);
}

// Passwords: given, generated (returned once in the reply), or none (SSO later).
Status PreparePassword(const json& body, User& user, std::string& generated) {
  std::string password;
  RETURN_IF_ERROR(ReadString(body, "password", password));
  bool generate = false;
  RETURN_IF_ERROR(ReadBool(body, "generate_password", generate));
  if (generate && !password.empty()) {
    return Status::Invalid("invalid_field", "give either password or generate_password, not both");
  }
  if (generate) password = generated = GeneratePassword();
  if (password.empty()) return Status::Ok();
  RETURN_IF_ERROR(CheckPasswordPolicy(password));
  ASSIGN_OR_RETURN(user.password_hash, HashPassword(password));
  return Status::Ok();
}

// Users' "groups" is a view of group membership: make `email` a member of
// exactly `groups` (all of which exist; checked before anything is written).
Status CheckGroupsExist(Store& store, const std::vector<std::string>& groups) {
  for (const auto& g : groups) {
    if (!store.FindGroup(g).ok())
      return Status::Invalid("unknown_group", "groups: no group named " + g);
  }
  return Status::Ok();
}

void SetMembership(Store& store, const Call& call, const std::string& email,
                   const std::vector<std::string>& groups) {
  for (auto group : store.ListGroups()) {
    bool want = std::find(groups.begin(), groups.end(), group.name) != groups.end();
    auto it = std::find(group.members.begin(), group.members.end(), email);
    bool has = it != group.members.end();
    if (want == has) continue;
    if (want) {
      group.members.push_back(email);
    } else {
      group.members.erase(it);
    }
    (void)store.UpdateGroup(group, call.Audit("group.update", "group/" + group.name,
                                              {{want ? "added" : "removed", email}}));
  }
}

}  // namespace

// --- users ---

HttpResponse Api::CreateUser(Call& call) {
  std::string generated;
  std::vector<std::string> groups;
  bool send_welcome = false;
  bool include_password = false;
  std::string password;  // as given or generated, for a welcome email that includes it
  auto prepare = [&](const json& body, User& u) -> Status {
    u.created_at = call.now;
    groups = u.groups;
    RETURN_IF_ERROR(CheckGroupsExist(ctx_.store, groups));
    RETURN_IF_ERROR(ReadBool(body, "send_welcome", send_welcome));
    RETURN_IF_ERROR(ReadBool(body, "include_password", include_password));
    RETURN_IF_ERROR(ReadString(body, "password", password));
    if (include_password && !send_welcome) {
      return Status::Invalid("invalid_field", "include_password: only with send_welcome");
    }
    if (send_welcome && (!ctx_.notifier || !ctx_.notifier->options().email_enabled)) {
      return Status::Invalid("email_disabled",
                             "send_welcome: email is not configured ([smtp] url)");
    }
    RETURN_IF_ERROR(PreparePassword(body, u, generated));
    if (!generated.empty()) password = generated;
    if (include_password && password.empty()) {
      return Status::Invalid("invalid_field",
                             "include_password: give a password or generate_password");
    }
    return Status::Ok();
  };
  std::string link_error;
  auto welcome = [&](const User& u, AuditEntry& audit) {
    if (!send_welcome) return;
    std::optional<std::string> url;
    const Time link_expires = call.now + ctx_.config.set_password_ttl;
    if (!include_password) {
      // A link to choose a password; the token names the user being created.
      auto token = IssueLinkToken(link_key_, "set_password", 0, 0, call.now, link_expires);
      url = ctx_.config.public_url + "/set-password/" + token.token;
      audit.tokens.push_back(std::move(token.record));
    }
    audit.outbox = ctx_.notifier->Welcome(
        u, include_password ? std::optional<std::string>(password) : std::nullopt, url,
        link_expires, call.now);
  };
  if (link_key_.empty()) return ErrorResponse(Status::Unavailable("no link signing key"));
  auto r = CreateObject<User>(ctx_.store, call, prepare, welcome);
  if (r.status != 201) return r;
  KickOutbox();
  auto j = json::parse(r.body);
  if (!groups.empty()) {
    SetMembership(ctx_.store, call, j["email"], groups);
    j["groups"] = groups;
  }
  if (!generated.empty()) j["generated_password"] = generated;
  r.body = j.dump();
  return r;
}

HttpResponse Api::ListUsers(Call& call) { return ListObjects<User>(ctx_.store); }
HttpResponse Api::GetUser(Call& call) { return GetObject<User>(ctx_.store, call); }

Result<User> Api::FindUserParam(const Call& call) {
  return Lookup<User>(ctx_.store, call.Param("id"));
}

HttpResponse Api::UnlockUser(Call& call) {
  auto user = FindUserParam(call);
  if (!user.ok()) return ErrorResponse(user.status());
  AuditEntry audit = call.Audit("user.unlock", "user/" + user->email,
                                {{"failed_logins", user->failed_logins}});
  Status st = ctx_.store.ResetLoginFailures(user->id, &audit);
  if (!st.ok()) return ErrorResponse(st);
  return JsonResponse(200, ToJson(*ctx_.store.GetUser(user->id)));
}

HttpResponse Api::UpdateUser(Call& call) {
  std::string generated;
  std::optional<std::vector<std::string>> groups;
  auto r = UpdateObject<User>(ctx_.store, call, [&](const json& body, User& u) -> Status {
    if (body.contains("send_welcome") || body.contains("include_password")) {
      return Status::Invalid("invalid_field",
                             "send_welcome and include_password: only when creating a user");
    }
    if (u.id == call.caller->user.id && (u.disabled || u.role != Role::kAdmin)) {
      return Status::Conflict("self_lockout",
                              "you cannot disable yourself or drop your own admin role");
    }
    if (body.contains("groups")) {
      groups = u.groups;
      RETURN_IF_ERROR(CheckGroupsExist(ctx_.store, *groups));
    }
    return PreparePassword(body, u, generated);
  });
  if (r.status != 200) return r;
  auto j = json::parse(r.body);
  if (groups) {
    SetMembership(ctx_.store, call, j["email"], *groups);
    j["groups"] = *groups;
  }
  if (j["disabled"].get<bool>()) {
    std::string email = j["email"];
    (void)ctx_.store.DeleteUserSessions(j["id"].get<Id>());
    RevokeLeases(
        call, [&](const Lease& l) { return l.owner == email; }, "user disabled");
  }
  // A password set by an admin ends the sessions made with the old one.
  if (call.http.body.find("\"password\"") != std::string::npos ||
      call.http.body.find("\"generate_password\"") != std::string::npos) {
    (void)ctx_.store.DeleteUserSessions(j["id"].get<Id>());
  }
  if (!generated.empty()) j["generated_password"] = generated;
  r.body = j.dump();
  return r;
}

HttpResponse Api::DeleteUser(Call& call) {
  auto target = Lookup<User>(ctx_.store, call.Param("id"));
  if (target.ok() && target->id == call.caller->user.id) {
    return JsonError(409, "self_lockout", "you cannot delete your own account");
  }
  auto r = DeleteObject<User>(ctx_.store, call);
  if (auto* resp = std::get_if<HttpResponse>(&r)) return *resp;
  std::string email = std::get<User>(r).email;
  RevokeLeases(
      call, [&](const Lease& l) { return l.owner == email; }, "user deleted");
  return JsonResponse(204, nullptr);
}

// --- groups ---

HttpResponse Api::CreateGroup(Call& call) { return CreateObject<Group>(ctx_.store, call, nullptr); }
HttpResponse Api::ListGroups(Call& call) { return ListObjects<Group>(ctx_.store); }
HttpResponse Api::GetGroup(Call& call) { return GetObject<Group>(ctx_.store, call); }
HttpResponse Api::UpdateGroup(Call& call) { return UpdateObject<Group>(ctx_.store, call, nullptr); }
HttpResponse Api::DeleteGroup(Call& call) { return DeleteObjectOnly<Group>(ctx_.store, call); }

namespace {

Status ValidateWithBackend(const Controller& controller, const Service& s) {
  const Enforcer* e = controller.FindEnforcer(s.backend);
  if (!e) return Status::Invalid("unknown_backend", "backend: no backend named " + s.backend);
  return e->ValidateService(s);
}

bool ServiceInUse(Store& store, const std::string& name) {
  LeaseFilter live;
  live.states = std::vector<LeaseState>{LeaseState::kActive, LeaseState::kPendingApproval,
                                        LeaseState::kInvited};
  live.limit = std::numeric_limits<int>::max();
  for (const auto& l : store.ListLeases(live)) {
    if (std::find(l.services.begin(), l.services.end(), name) != l.services.end()) return true;
  }
  return false;
}

}  // namespace

// --- services: validated by their backend; the controller re-syncs after a change ---

HttpResponse Api::CreateService(Call& call) {
  auto validate = [this](const json&, Service& s) {
    return ValidateWithBackend(ctx_.controller, s);
  };
  auto r = CreateObject<Service>(ctx_.store, call, validate);
  if (r.status == 201) (void)ctx_.controller.ServicesChanged();
  return r;
}

HttpResponse Api::ListServices(Call& call) { return ListObjects<Service>(ctx_.store); }
HttpResponse Api::GetService(Call& call) { return GetObject<Service>(ctx_.store, call); }

HttpResponse Api::UpdateService(Call& call) {
  auto current = Lookup<Service>(ctx_.store, call.Param("id"));
  if (!current.ok()) return ErrorResponse(current.status());
  auto validate = [&](const json&, Service& s) -> Status {
    // Leases name their services, so a name stays fixed while leases use it.
    if (s.name != current->name && ServiceInUse(ctx_.store, current->name)) {
      return Status::Conflict(
          "service_in_use", "service " + current->name + " has live leases; it cannot be renamed");
    }
    return ValidateWithBackend(ctx_.controller, s);
  };
  auto r = UpdateObject<Service>(ctx_.store, call, validate);
  if (r.status == 200) (void)ctx_.controller.ServicesChanged();
  return r;
}

HttpResponse Api::DeleteService(Call& call) {
  auto current = Lookup<Service>(ctx_.store, call.Param("id"));
  if (current.ok() && ServiceInUse(ctx_.store, current->name)) {
    return JsonError(409, "service_in_use",
                     "service " + current->name + " has live leases; end them first");
  }
  auto r = DeleteObject<Service>(ctx_.store, call);
  if (auto* resp = std::get_if<HttpResponse>(&r)) return *resp;
  (void)ctx_.controller.ServicesChanged();
  return JsonResponse(204, nullptr);
}

// --- access groups ---

HttpResponse Api::CreateAccessGroup(Call& call) {
  return CreateObject<AccessGroup>(ctx_.store, call, nullptr);
}
HttpResponse Api::ListAccessGroups(Call& call) { return ListObjects<AccessGroup>(ctx_.store); }
HttpResponse Api::GetAccessGroup(Call& call) { return GetObject<AccessGroup>(ctx_.store, call); }
HttpResponse Api::UpdateAccessGroup(Call& call) {
  return UpdateObject<AccessGroup>(ctx_.store, call, nullptr);
}
HttpResponse Api::DeleteAccessGroup(Call& call) {
  return DeleteObjectOnly<AccessGroup>(ctx_.store, call);
}

// --- policies: deleting one revokes the leases it granted ---

HttpResponse Api::CreatePolicy(Call& call) {
  return CreateObject<Policy>(ctx_.store, call, nullptr);
}
HttpResponse Api::ListPolicies(Call& call) { return ListObjects<Policy>(ctx_.store); }
HttpResponse Api::GetPolicy(Call& call) { return GetObject<Policy>(ctx_.store, call); }
HttpResponse Api::UpdatePolicy(Call& call) {
  return UpdateObject<Policy>(ctx_.store, call, nullptr);
}

HttpResponse Api::DeletePolicy(Call& call) {
  auto r = DeleteObject<Policy>(ctx_.store, call);
  if (auto* resp = std::get_if<HttpResponse>(&r)) return *resp;
  std::string name = std::get<Policy>(r).name;
  RevokeLeases(
      call, [&](const Lease& l) { return l.policy == name; }, "policy deleted");
  return JsonResponse(204, nullptr);
}

}  // namespace pinhole
