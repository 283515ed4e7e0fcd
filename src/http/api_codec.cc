#include "http/api_codec.h"

#include <algorithm>

#include "core/duration.h"
#include "core/policy.h"
#include "core/schedule.h"
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

json ScheduleJson(const Schedule& s) {
  json windows = json::array();
  for (const auto& w : s.windows) {
    windows.push_back({{"days", DayNames(w.days)},
                       {"from", FormatTimeOfDay(w.from_minute)},
                       {"to", FormatTimeOfDay(w.to_minute)}});
  }
  return {{"timezone", s.timezone}, {"windows", windows}};
}

Status BadSchedule(std::string message) {
  return Status::Invalid("invalid_schedule", std::move(message));
}

// Reads {"timezone", "windows":[{"days", "from", "to"}]} and validates it as
// a whole (ValidateSchedule). Every error is "invalid_schedule".
Result<Schedule> ReadSchedule(const json& j) {
  if (!j.is_object()) {
    return BadSchedule("schedule: must be an object with timezone and windows, or null for always");
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "timezone" && key != "windows") {
      return BadSchedule("schedule: unknown field \"" + key + "\"");
    }
  }
  Schedule s;
  auto tz = j.find("timezone");
  if (tz == j.end() || !tz->is_string() || tz->get_ref<const std::string&>().empty()) {
    return BadSchedule(
        "schedule: \"timezone\" must be an IANA time zone name such as "
        "\"Europe/Berlin\"");
  }
  s.timezone = tz->get<std::string>();
  if (s.timezone.size() > 64) return BadSchedule("schedule: \"timezone\" is too long");
  auto windows = j.find("windows");
  if (windows == j.end() || windows->is_null() || (windows->is_array() && windows->empty())) {
    return BadSchedule("a schedule needs at least one window; omit it for always");
  }
  if (!windows->is_array()) return BadSchedule("schedule: \"windows\" must be a list");
  if (windows->size() > kMaxScheduleWindows) {
    return BadSchedule("a schedule has at most " + std::to_string(kMaxScheduleWindows) +
                       " windows, not " + std::to_string(windows->size()));
  }
  for (size_t i = 0; i < windows->size(); ++i) {
    const json& jw = (*windows)[i];
    std::string name = "window " + std::to_string(i + 1);
    if (!jw.is_object()) return BadSchedule(name + ": must be an object with days, from and to");
    for (const auto& [key, value] : jw.items()) {
      if (key != "days" && key != "from" && key != "to") {
        return BadSchedule(name + ": unknown field \"" + key + "\"");
      }
    }
    ScheduleWindow w;
    auto days = jw.find("days");
    if (days == jw.end()) return BadSchedule(name + " has no days");
    // One name may stand alone ("weekdays"); otherwise a list of names.
    json day_list = days->is_string() ? json::array({*days}) : *days;
    if (!day_list.is_array() || day_list.size() > 14) {
      return BadSchedule(name + ": \"days\" must be a list of day names");
    }
    for (const auto& d : day_list) {
      std::optional<uint8_t> bits;
      if (d.is_string() && d.get_ref<const std::string&>().size() <= 16) {
        bits = ParseDays(d.get_ref<const std::string&>());
      }
      if (!bits) {
        return BadSchedule(name + ": unknown day " + d.dump() +
                           " (use mon, tue, wed, thu, fri, sat, sun, weekdays, weekend or daily)");
      }
      w.days |= *bits;
    }
    if (w.days == 0) return BadSchedule(name + " has no days");
    for (const char* key : {"from", "to"}) {
      bool is_to = key[0] == 't';
      auto it = jw.find(key);
      std::optional<int> minute;
      if (it != jw.end() && it->is_string() && it->get_ref<const std::string&>().size() <= 16) {
        minute = ParseTimeOfDay(it->get_ref<const std::string&>(), is_to);
      }
      if (!minute) {
        std::string given = it == jw.end() ? "nothing" : it->dump();
        if (given.size() > 40) given = given.substr(0, 40) + "...";
        return BadSchedule(name + ": \"" + key + "\" must be a time of day as HH:MM" +
                           (is_to ? " (up to 24:00)" : "") + ", not " + given);
      }
      (is_to ? w.to_minute : w.from_minute) = *minute;
    }
    s.windows.push_back(w);
  }
  RETURN_IF_ERROR(ValidateSchedule(s));
  return s;
}

}  // namespace

json ToJson(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"role", ToString(u.role)},
          {"must_change_password", u.must_change_password},
          {"disabled", u.disabled},
          {"groups", u.groups},
          {"source", u.source},
          {"external_groups", u.external_groups},
          {"mfa_enabled", u.mfa_enabled},
          {"failed_logins", u.failed_logins},
          {"locked_until", u.locked_until ? json(FormatTime(*u.locked_until)) : json(nullptr)},
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
          {"approval", ToString(p.approval)},
          {"activate_on", ToString(p.activate_on)},
          {"notify_admins", p.notify_admins},
          {"schedule", p.schedule ? ScheduleJson(*p.schedule) : json(nullptr)},
          {"may_outlive_window", p.may_outlive_window},
          {"default", p.is_default}};
}

Status ApplyUserFields(const json& body, User& out) {
  RETURN_IF_ERROR(
      CheckKeys(body, {"email", "password", "role", "must_change_password", "groups", "disabled",
                       "generate_password", "send_welcome", "include_password"}));
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
  RETURN_IF_ERROR(
      CheckKeys(body, {"name", "users", "groups", "services", "access_groups", "default_duration",
                       "max_duration", "recipients", "min_prefix", "approval", "activate_on",
                       "notify_admins", "schedule", "may_outlive_window", "default"}));
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
  if (body.contains("approval")) {
    std::string mode;
    RETURN_IF_ERROR(ReadString(body, "approval", mode, false, 32));
    auto parsed = ParseApprovalMode(mode);
    if (!parsed) return Status::Invalid("invalid_field", "approval: must be \"auto\" or \"admin\"");
    p.approval = *parsed;
  }
  // Kept with automatic approval too (it matters only with "admin"), so that
  // switching approval back and forth does not lose it.
  if (body.contains("activate_on")) {
    std::string on;
    RETURN_IF_ERROR(ReadString(body, "activate_on", on, false, 32));
    auto parsed = ParseActivateOn(on);
    if (!parsed) {
      return Status::Invalid("invalid_field",
                             "activate_on: must be \"request_address\" or \"next_login\"");
    }
    p.activate_on = *parsed;
  }
  RETURN_IF_ERROR(ReadBool(body, "notify_admins", p.notify_admins));
  RETURN_IF_ERROR(ReadBool(body, "may_outlive_window", p.may_outlive_window));
  RETURN_IF_ERROR(ReadBool(body, "default", p.is_default));
  if (auto it = body.find("schedule"); it != body.end()) {
    if (it->is_null()) {
      p.schedule.reset();
    } else {
      ASSIGN_OR_RETURN(p.schedule, ReadSchedule(*it));
    }
  }
  out = std::move(p);
  return Status::Ok();
}

}  // namespace pinhole
