#include "http/api_codec.h"

#include <algorithm>

#include "core/duration.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

using nlohmann::json;

Status CheckName(const std::string& name, const char* what) {
  if (!IsValidName(name)) {
    return Status::Invalid("invalid_field", std::string(what) +
                                                " must be 1-64 letters, digits, '.', '_' or '-', "
                                                "starting with a letter or digit");
  }
  return Status::Ok();
}

Status CheckEmails(std::vector<std::string>& emails, const char* key) {
  for (auto& e : emails) {
    auto normal = NormalizeEmail(e);
    if (!normal) return Status::Invalid("invalid_field", std::string(key) + ": not an email: " + e);
    e = *normal;
  }
  // Lower-casing can make two entries equal; keep the list a sorted set.
  std::sort(emails.begin(), emails.end());
  emails.erase(std::unique(emails.begin(), emails.end()), emails.end());
  return Status::Ok();
}

Status CheckNames(const std::vector<std::string>& names, const char* key) {
  for (const auto& n : names) {
    if (!IsValidName(n))
      return Status::Invalid("invalid_field", std::string(key) + ": bad name: " + n);
  }
  return Status::Ok();
}

}  // namespace

json ToJson(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"role", ToString(u.role)},
          {"must_change_password", u.must_change_password},
          {"disabled", u.disabled},
          {"groups", u.groups},
          {"created_at", FormatTime(u.created_at)}};
}

json ToJson(const Group& g) { return {{"id", g.id}, {"name", g.name}, {"members", g.members}}; }

json ToJson(const Service& s) {
  return {{"id", s.id},
          {"name", s.name},
          {"description", s.description},
          {"backend", s.backend},
          {"protocol", ToString(s.protocol)},
          {"ports", s.ports ? json(ToString(*s.ports)) : json(nullptr)},
          {"target", json::parse(s.target_json, nullptr, false)},
          {"keep_established", s.keep_established}};
}

json ToJson(const AccessGroup& g) {
  return {{"id", g.id}, {"name", g.name}, {"services", g.services}, {"public", g.is_public}};
}

json ToJson(const Policy& p) {
  json recipients = json::array();
  for (auto r : p.recipients) recipients.push_back(ToString(r));
  return {{"id", p.id},
          {"name", p.name},
          {"users", p.users},
          {"groups", p.groups},
          {"services", p.services},
          {"access_groups", p.access_groups},
          {"default_duration", FormatDuration(p.default_duration)},
          {"max_duration", FormatDuration(p.max_duration)},
          {"recipients", recipients},
          {"min_prefix", {{"ipv4", p.min_prefix_v4}, {"ipv6", p.min_prefix_v6}}},
          {"approval", "auto"},
          {"notify_admins", false}};
}

Status ApplyUserFields(const json& body, User& out) {
  RETURN_IF_ERROR(CheckKeys(body,
                            {"email", "password", "role", "must_change_password", "groups",
                             "disabled", "generate_password"},
                            {"send_welcome", "include_password"}));
  User u = out;
  RETURN_IF_ERROR(ReadString(body, "email", u.email, u.id == 0));
  auto email = NormalizeEmail(u.email);
  if (!email) return Status::Invalid("invalid_field", "email: not a valid address");
  u.email = *email;
  std::string role = std::string(ToString(u.role));
  RETURN_IF_ERROR(ReadString(body, "role", role));
  auto parsed_role = ParseRole(role);
  if (!parsed_role) return Status::Invalid("invalid_field", "role: must be \"admin\" or \"user\"");
  u.role = *parsed_role;
  RETURN_IF_ERROR(ReadBool(body, "must_change_password", u.must_change_password));
  RETURN_IF_ERROR(ReadBool(body, "disabled", u.disabled));
  RETURN_IF_ERROR(ReadStringList(body, "groups", u.groups));
  RETURN_IF_ERROR(CheckNames(u.groups, "groups"));
  out = std::move(u);
  return Status::Ok();
}

Status ApplyGroupFields(const json& body, Group& out) {
  RETURN_IF_ERROR(CheckKeys(body, {"name", "members"}));
  Group g = out;
  RETURN_IF_ERROR(ReadString(body, "name", g.name, g.id == 0));
  RETURN_IF_ERROR(CheckName(g.name, "name"));
  RETURN_IF_ERROR(ReadStringList(body, "members", g.members));
  RETURN_IF_ERROR(CheckEmails(g.members, "members"));
  out = std::move(g);
  return Status::Ok();
}

Status ApplyServiceFields(const json& body, Service& out) {
  RETURN_IF_ERROR(CheckKeys(
      body, {"name", "description", "backend", "protocol", "ports", "target", "keep_established"}));
  Service s = out;
  RETURN_IF_ERROR(ReadString(body, "name", s.name, s.id == 0));
  RETURN_IF_ERROR(CheckName(s.name, "name"));
  RETURN_IF_ERROR(ReadString(body, "description", s.description));
  RETURN_IF_ERROR(ReadString(body, "backend", s.backend, false, 64));
  std::string protocol = std::string(ToString(s.protocol));
  RETURN_IF_ERROR(ReadString(body, "protocol", protocol));
  auto p = ParseProtocol(protocol);
  if (!p) return Status::Invalid("invalid_field", "protocol: must be tcp, udp, icmp or all");
  s.protocol = *p;
  if (auto it = body.find("ports"); it != body.end()) {
    if (it->is_null()) {
      s.ports.reset();
    } else {
      std::string ports;
      if (it->is_number_integer()) {
        ports = std::to_string(it->get<int64_t>());
      } else {
        RETURN_IF_ERROR(ReadString(body, "ports", ports, false, 16));
      }
      auto range = ParsePortRange(ports);
      if (!range.ok()) return range.status();
      s.ports = *range;
    }
  }
  bool needs_ports = s.protocol == Protocol::kTcp || s.protocol == Protocol::kUdp;
  if (needs_ports && !s.ports) {
    return Status::Invalid("invalid_ports", "ports: required for tcp and udp services");
  }
  if (!needs_ports) s.ports.reset();
  if (auto it = body.find("target"); it != body.end()) {
    if (!it->is_object()) return Status::Invalid("invalid_target", "target: must be an object");
    s.target_json = it->dump();
    if (s.target_json.size() > 4096) return Status::Invalid("invalid_target", "target: too large");
  }
  RETURN_IF_ERROR(ReadBool(body, "keep_established", s.keep_established));
  out = std::move(s);
  return Status::Ok();
}

Status ApplyAccessGroupFields(const json& body, AccessGroup& out) {
  RETURN_IF_ERROR(CheckKeys(body, {"name", "services", "public"}));
  AccessGroup g = out;
  RETURN_IF_ERROR(ReadString(body, "name", g.name, g.id == 0));
  RETURN_IF_ERROR(CheckName(g.name, "name"));
  RETURN_IF_ERROR(ReadStringList(body, "services", g.services));
  RETURN_IF_ERROR(CheckNames(g.services, "services"));
  RETURN_IF_ERROR(ReadBool(body, "public", g.is_public));
  out = std::move(g);
  return Status::Ok();
}

Status ApplyPolicyFields(const json& body, Policy& out) {
  RETURN_IF_ERROR(CheckKeys(
      body,
      {"name", "users", "groups", "services", "access_groups", "default_duration", "max_duration",
       "recipients", "min_prefix", "approval", "notify_admins", "schedule"},
      {"activate_on", "may_outlive_window"}));
  // Approval, notifications and schedules arrive with later work; accept only
  // the values that mean "not used".
  if (auto it = body.find("approval"); it != body.end() && *it != "auto") {
    return Status::Invalid("not_supported", "approval: only \"auto\" is supported by this server");
  }
  if (auto it = body.find("notify_admins"); it != body.end() && *it != false) {
    return Status::Invalid("not_supported", "notify_admins is not supported by this server yet");
  }
  if (auto it = body.find("schedule");
      it != body.end() && !it->is_null() &&
      !(it->is_object() && it->value("windows", json::array()).empty())) {
    return Status::Invalid("not_supported", "schedule is not supported by this server yet");
  }
  Policy p = out;
  RETURN_IF_ERROR(ReadString(body, "name", p.name, p.id == 0));
  RETURN_IF_ERROR(CheckName(p.name, "name"));
  RETURN_IF_ERROR(ReadStringList(body, "users", p.users));
  RETURN_IF_ERROR(CheckEmails(p.users, "users"));
  RETURN_IF_ERROR(ReadStringList(body, "groups", p.groups));
  RETURN_IF_ERROR(CheckNames(p.groups, "groups"));
  RETURN_IF_ERROR(ReadStringList(body, "services", p.services));
  RETURN_IF_ERROR(CheckNames(p.services, "services"));
  RETURN_IF_ERROR(ReadStringList(body, "access_groups", p.access_groups));
  RETURN_IF_ERROR(CheckNames(p.access_groups, "access_groups"));
  std::optional<Seconds> def, max;
  RETURN_IF_ERROR(ReadDuration(body, "default_duration", def));
  RETURN_IF_ERROR(ReadDuration(body, "max_duration", max));
  if (def) p.default_duration = *def;
  if (max) p.max_duration = *max;
  if (p.default_duration <= Seconds(0) || p.max_duration <= Seconds(0)) {
    return Status::Invalid("invalid_duration", "durations must be positive");
  }
  if (p.default_duration > p.max_duration) {
    return Status::Invalid("invalid_duration", "default_duration is longer than max_duration");
  }
  if (body.contains("recipients")) {
    std::vector<std::string> names;
    RETURN_IF_ERROR(ReadStringList(body, "recipients", names));
    std::set<RecipientKind> kinds;
    for (const auto& n : names) {
      auto k = ParseRecipientKind(n);
      if (!k) return Status::Invalid("invalid_field", "recipients: unknown kind " + n);
      if (*k == RecipientKind::kInvite) {
        return Status::Invalid("not_supported", "recipients: invite is not supported yet");
      }
      kinds.insert(*k);
    }
    if (kinds.empty()) return Status::Invalid("invalid_field", "recipients: must not be empty");
    p.recipients = kinds;
  }
  if (auto it = body.find("min_prefix"); it != body.end()) {
    if (!it->is_object()) return Status::Invalid("invalid_field", "min_prefix: must be an object");
    RETURN_IF_ERROR(CheckKeys(*it, {"ipv4", "ipv6"}));
    // A policy may never allow the whole Internet (/0).
    RETURN_IF_ERROR(ReadInt(*it, "ipv4", p.min_prefix_v4, 1, 32));
    RETURN_IF_ERROR(ReadInt(*it, "ipv6", p.min_prefix_v6, 1, 128));
  }
  out = std::move(p);
  return Status::Ok();
}

}  // namespace pinhole
