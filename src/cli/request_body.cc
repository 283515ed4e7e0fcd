#include "cli/request_body.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "core/cidr.h"
#include "core/duration.h"

namespace pinhole::cli {
namespace {

Status Usage(std::string reason, std::string message) {
  return Status::Invalid(std::move(reason), std::move(message));
}

Status CheckDuration(const std::string& text, const std::string& flag) {
  Result<Seconds> d = ParseDuration(text);
  if (!d.ok()) return Usage(d.status().reason(), flag + ": " + d.status().message());
  if (d->count() <= 0) return Usage("invalid_duration", flag + ": must be longer than zero");
  return Status::Ok();
}

Status CheckOneOf(const std::string& value, std::initializer_list<const char*> allowed,
                  const std::string& flag) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return Status::Ok();
    list += list.empty() ? "" : ", ";
    list += a;
  }
  return Usage("invalid_value", flag + ": \"" + value + "\" is not one of " + list);
}

Status CheckNotEmpty(const std::optional<std::string>& value, const std::string& flag) {
  if (value && value->empty()) return Usage("invalid_value", flag + " must not be empty");
  return Status::Ok();
}

template <typename T>
void PutIf(Json& body, const char* key, const std::optional<T>& value) {
  if (value) body[key] = *value;
}

}  // namespace

ListFlag MakeListFlag(const std::vector<std::string>& values, size_t count) {
  if (count == 0) return std::nullopt;
  std::vector<std::string> kept;
  for (const std::string& v : values) {
    if (!v.empty()) kept.push_back(v);
  }
  return kept;
}

Result<Json> LeaseRequestBody(const LeaseFlags& flags) {
  Json body = Json::object();
  if (!flags.services.empty() && flags.access_group) {
    return Usage("usage", "give services or --access-group, not both");
  }
  if (flags.services.empty() && !flags.access_group) {
    return Usage("usage", "name at least one service, or an access group with --access-group");
  }
  if (flags.access_group) {
    RETURN_IF_ERROR(CheckNotEmpty(flags.access_group, "--access-group"));
    body["access_group"] = *flags.access_group;
  } else {
    for (const std::string& s : flags.services) {
      if (s.empty()) return Usage("usage", "service names must not be empty");
    }
    body["services"] = flags.services;
  }
  if (flags.duration) {
    RETURN_IF_ERROR(CheckDuration(*flags.duration, "--for"));
    body["duration"] = *flags.duration;
  }
  if (flags.cidr && flags.invite_email) {
    return Usage("usage", "give --cidr or --invite, not both");
  }
  if (flags.cidr) {
    Result<Cidr> cidr = Cidr::Parse(*flags.cidr);
    if (!cidr.ok()) return Usage(cidr.status().reason(), "--cidr: " + cidr.status().message());
    body["recipient"] = {{"kind", "cidr"}, {"cidr", cidr->ToString()}};
  } else if (flags.invite_email) {
    if (flags.invite_email->find('@') == std::string::npos) {
      return Usage("invalid_value", "--invite: \"" + *flags.invite_email + "\" is not an email");
    }
    body["recipient"] = {{"kind", "invite"}, {"email", *flags.invite_email}};
    PutIf(body["recipient"], "send_email", flags.send_email);
    if (flags.invite_expires) {
      RETURN_IF_ERROR(CheckDuration(*flags.invite_expires, "--invite-expires"));
      body["recipient"]["expires_in"] = *flags.invite_expires;
    }
  }
  if (!flags.invite_email && (flags.send_email || flags.invite_expires)) {
    return Usage("usage", "--no-email and --invite-expires go with --invite");
  }
  PutIf(body, "reason", flags.reason);
  return body;
}

Result<Json> RenewRequestBody(const std::optional<std::string>& duration) {
  Json body = Json::object();
  if (duration) {
    RETURN_IF_ERROR(CheckDuration(*duration, "--for"));
    body["duration"] = *duration;
  }
  return body;
}

Result<Json> UserBody(const UserFlags& flags) {
  Json body = Json::object();
  if (flags.email) {
    if (flags.email->find('@') == std::string::npos) {
      return Usage("invalid_value", "\"" + *flags.email + "\" is not an email address");
    }
    body["email"] = *flags.email;
  }
  if (flags.role) RETURN_IF_ERROR(CheckOneOf(*flags.role, {"admin", "user"}, "--role"));
  PutIf(body, "role", flags.role);
  if (flags.password && flags.password->empty()) {
    return Usage("invalid_value", "the password must not be empty");
  }
  PutIf(body, "password", flags.password);
  PutIf(body, "must_change_password", flags.must_change_password);
  PutIf(body, "disabled", flags.disabled);
  PutIf(body, "groups", flags.groups);
  if (flags.include_password.value_or(false) && !flags.send_welcome.value_or(false)) {
    return Usage("usage", "--include-password goes with --send-welcome");
  }
  if (flags.include_password.value_or(false) && !flags.password) {
    return Usage("usage",
                 "--include-password needs a password: --password-stdin or --generate-password");
  }
  PutIf(body, "send_welcome", flags.send_welcome);
  PutIf(body, "include_password", flags.include_password);
  return body;
}

Result<Json> GroupBody(const GroupFlags& flags) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "members", flags.members);
  return body;
}

Result<Json> ServiceBody(const ServiceFlags& flags, bool creating) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "description", flags.description);
  RETURN_IF_ERROR(CheckNotEmpty(flags.backend, "--backend"));
  PutIf(body, "backend", flags.backend);
  if (flags.protocol) {
    RETURN_IF_ERROR(CheckOneOf(*flags.protocol, {"tcp", "udp", "icmp", "all"}, "--protocol"));
  }
  PutIf(body, "protocol", flags.protocol);
  if (creating) {
    if (!flags.protocol) return Usage("usage", "--protocol is required");
    bool needs_ports = *flags.protocol == "tcp" || *flags.protocol == "udp";
    if (needs_ports && !flags.ports) {
      return Usage("usage", "--ports is required for " + *flags.protocol);
    }
  }
  RETURN_IF_ERROR(CheckNotEmpty(flags.ports, "--ports"));
  PutIf(body, "ports", flags.ports);
  if (flags.target_json) {
    Json target = Json::parse(*flags.target_json, nullptr, /*allow_exceptions=*/false);
    if (!target.is_object()) {
      return Usage("invalid_target", "--target must be a JSON object, e.g. '{\"host\":\"db1\"}'");
    }
    body["target"] = std::move(target);
  }
  PutIf(body, "keep_established", flags.keep_established);
  return body;
}

Result<Json> AccessGroupBody(const AccessGroupFlags& flags) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "services", flags.services);
  PutIf(body, "public", flags.is_public);
  return body;
}

Result<Json> PolicyBody(const PolicyFlags& flags, bool creating) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "users", flags.users);
  PutIf(body, "groups", flags.groups);
  PutIf(body, "services", flags.services);
  PutIf(body, "access_groups", flags.access_groups);
  if (flags.default_duration) RETURN_IF_ERROR(CheckDuration(*flags.default_duration, "--default"));
  if (flags.max_duration) RETURN_IF_ERROR(CheckDuration(*flags.max_duration, "--max"));
  if (flags.default_duration && flags.max_duration) {
    // Both parse (checked above); compare so the mistake is caught here.
    if (*ParseDuration(*flags.default_duration) > *ParseDuration(*flags.max_duration)) {
      return Usage("invalid_value", "--default must not be longer than --max");
    }
  }
  PutIf(body, "default_duration", flags.default_duration);
  PutIf(body, "max_duration", flags.max_duration);
  if (flags.recipients) {
    for (const std::string& r : *flags.recipients) {
      RETURN_IF_ERROR(CheckOneOf(r, {"self", "cidr", "invite"}, "--recipients"));
    }
    body["recipients"] = *flags.recipients;
  }
  if (flags.min_prefix_v4 || flags.min_prefix_v6) {
    Json min_prefix = Json::object();
    if (flags.min_prefix_v4) {
      if (*flags.min_prefix_v4 < 0 || *flags.min_prefix_v4 > 32) {
        return Usage("invalid_value", "--min-prefix-v4 must be between 0 and 32");
      }
      min_prefix["ipv4"] = *flags.min_prefix_v4;
    }
    if (flags.min_prefix_v6) {
      if (*flags.min_prefix_v6 < 0 || *flags.min_prefix_v6 > 128) {
        return Usage("invalid_value", "--min-prefix-v6 must be between 0 and 128");
      }
      min_prefix["ipv6"] = *flags.min_prefix_v6;
    }
    body["min_prefix"] = std::move(min_prefix);
  }
  if (flags.approval) RETURN_IF_ERROR(CheckOneOf(*flags.approval, {"auto", "admin"}, "--approval"));
  PutIf(body, "approval", flags.approval);
  PutIf(body, "notify_admins", flags.notify_admins);
  if (flags.activate_on) {
    RETURN_IF_ERROR(
        CheckOneOf(*flags.activate_on, {"request_address", "next_login"}, "--activate-on"));
  }
  PutIf(body, "activate_on", flags.activate_on);
  PutIf(body, "may_outlive_window", flags.may_outlive_window);
  RETURN_IF_ERROR(CheckNotEmpty(flags.schedule_tz, "--schedule-tz"));
  if (flags.windows && flags.windows->empty()) {
    if (flags.schedule_tz) {
      return Usage("usage", "--window '' (always open) and --schedule-tz do not go together");
    }
    body["schedule"] = nullptr;
  } else if (flags.windows || flags.schedule_tz) {
    Json schedule = Json::object();
    if (flags.schedule_tz) schedule["timezone"] = *flags.schedule_tz;
    if (flags.windows) {
      Json windows = Json::array();
      for (const std::string& w : *flags.windows) {
        ASSIGN_OR_RETURN(Json window, ParseWindow(w));
        windows.push_back(std::move(window));
      }
      schedule["windows"] = std::move(windows);
    }
    if (creating && !schedule.contains("timezone")) {
      return Usage("usage", "--window needs --schedule-tz, e.g. --schedule-tz Europe/Berlin");
    }
    if (creating && !schedule.contains("windows")) {
      return Usage("usage", "--schedule-tz needs at least one --window, e.g. "
                            "--window 'mon-fri 08:00-18:00'");
    }
    body["schedule"] = std::move(schedule);
  }
  return body;
}

namespace {

constexpr const char* kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<int> DayIndex(std::string name) {
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    if (name == kDays[i]) return i;
  }
  return std::nullopt;
}

// "8:00" -> "08:00"; nullopt when malformed or out of range.
std::optional<std::string> NormalTime(const std::string& text, bool allow_end_of_day) {
  size_t colon = text.find(':');
  if ((colon != 1 && colon != 2) || text.size() != colon + 3) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != colon && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  int hours = std::stoi(text.substr(0, colon));
  int minutes = std::stoi(text.substr(colon + 1));
  if (minutes > 59) return std::nullopt;
  if (hours > 23 && !(allow_end_of_day && hours == 24 && minutes == 0)) return std::nullopt;
  std::string out = text.size() == 4 ? "0" + text : text;
  return out;
}

}  // namespace

Result<Json> ParseWindow(const std::string& text) {
  const std::string flag = "--window \"" + text + "\"";
  const std::string example = " (example: --window 'mon-fri 08:00-18:00')";
  size_t space = text.find_first_of(" \t");
  size_t times_at = space == std::string::npos ? space : text.find_first_not_of(" \t", space);
  if (space == 0 || times_at == std::string::npos) {
    return Usage("invalid_window", flag + ": give days and times" + example);
  }
  std::string days_text = text.substr(0, space);
  std::string times = text.substr(times_at);
  while (!times.empty() && (times.back() == ' ' || times.back() == '\t')) times.pop_back();

  bool chosen[7] = {};
  size_t start = 0;
  while (start <= days_text.size()) {
    size_t comma = days_text.find(',', start);
    std::string part = days_text.substr(start, comma == std::string::npos ? comma : comma - start);
    start = comma == std::string::npos ? days_text.size() + 1 : comma + 1;
    std::string lower = part;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "weekdays" || lower == "daily") {
      for (int i = 0; i < 5; ++i) chosen[i] = true;
      if (lower == "daily") chosen[5] = chosen[6] = true;
      continue;
    }
    if (lower == "weekend") {
      chosen[5] = chosen[6] = true;
      continue;
    }
    size_t dash = part.find('-');
    std::optional<int> first = DayIndex(part.substr(0, dash));
    std::optional<int> last =
        dash == std::string::npos ? first : DayIndex(part.substr(dash + 1));
    if (!first || !last) {
      return Usage("invalid_window", flag + ": \"" + part +
                                         "\" is not a day (mon..sun), a range like mon-fri, "
                                         "weekdays, weekend or daily");
    }
    for (int d = *first;; d = (d + 1) % 7) {
      chosen[d] = true;
      if (d == *last) break;
    }
  }

  size_t dash = times.find('-');
  if (dash == std::string::npos) {
    return Usage("invalid_window", flag + ": times look like 08:00-18:00" + example);
  }
  std::optional<std::string> from = NormalTime(times.substr(0, dash), false);
  std::optional<std::string> to = NormalTime(times.substr(dash + 1), true);
  if (!from || !to) {
    return Usage("invalid_window",
                 flag + ": times are HH:MM-HH:MM, from 00:00 to 23:59, to up to 24:00");
  }
  if (*from == *to) {
    return Usage("invalid_window", flag + ": the window is empty (use 00:00-24:00 for whole days)");
  }
  Json days = Json::array();
  for (int i = 0; i < 7; ++i) {
    if (chosen[i]) days.push_back(kDays[i]);
  }
  return Json{{"days", days}, {"from", *from}, {"to", *to}};
}

bool SchedulePartial(const Json& patch) {
  auto it = patch.find("schedule");
  return it != patch.end() && it->is_object() &&
         (!it->contains("timezone") || !it->contains("windows"));
}

Status CompleteSchedule(Json& patch, const Json& current_policy) {
  if (!SchedulePartial(patch)) return Status::Ok();
  Json& mine = patch["schedule"];
  const Json* current = nullptr;
  if (current_policy.is_object()) {
    auto it = current_policy.find("schedule");
    if (it != current_policy.end() && it->is_object()) current = &*it;
  }
  for (const char* half : {"timezone", "windows"}) {
    if (mine.contains(half)) continue;
    if (current == nullptr || !current->contains(half)) {
      return Usage("usage", std::string("the policy has no schedule yet: give both --schedule-tz "
                                        "and --window"));
    }
    mine[half] = (*current)[half];
  }
  return Status::Ok();
}

void CompleteMinPrefix(Json& patch, const Json& current_policy) {
  if (!patch.contains("min_prefix") || !current_policy.is_object()) return;
  auto current = current_policy.find("min_prefix");
  if (current == current_policy.end() || !current->is_object()) return;
  Json& mine = patch["min_prefix"];
  for (const char* family : {"ipv4", "ipv6"}) {
    if (!mine.contains(family) && current->contains(family)) mine[family] = (*current)[family];
  }
}

}  // namespace pinhole::cli
