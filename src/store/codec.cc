#include "store/codec.h"

#include <nlohmann/json.hpp>

#include "core/policy.h"
#include "core/schedule.h"

namespace pinhole::store {
namespace {

using nlohmann::json;

// Most stored lists are plain names; this avoids building a json DOM for them
// (loading 100k leases at start-up decodes one list per row).
bool FastDecode(std::string_view s, std::vector<std::string>& out) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) ++i;
  };
  skip_ws();
  if (i >= s.size() || s[i] != '[') return false;
  ++i;
  skip_ws();
  if (i < s.size() && s[i] == ']') {
    ++i;
    skip_ws();
    return i == s.size();
  }
  while (true) {
    skip_ws();
    if (i >= s.size() || s[i] != '"') return false;
    size_t start = ++i;
    while (i < s.size() && s[i] != '"') {
      // Escapes and control characters go the slow, fully checked way.
      if (s[i] == '\\' || static_cast<unsigned char>(s[i]) < 0x20) return false;
      ++i;
    }
    if (i >= s.size()) return false;
    out.emplace_back(s.substr(start, i - start));
    ++i;
    skip_ws();
    if (i >= s.size()) return false;
    if (s[i] == ']') {
      ++i;
      skip_ws();
      return i == s.size();
    }
    if (s[i] != ',') return false;
    ++i;
  }
}

std::vector<std::string> StringsAt(const json& j, const char* key,
                                   const std::vector<std::string>& fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  return it->get<std::vector<std::string>>();
}

// Schedules are stored in the API's form (day names, "HH:MM") so that the
// column reads as what an admin typed.
json EncodeSchedule(const Schedule& s) {
  json windows = json::array();
  for (const auto& w : s.windows) {
    windows.push_back({{"days", DayNames(w.days)},
                       {"from", FormatTimeOfDay(w.from_minute)},
                       {"to", FormatTimeOfDay(w.to_minute)}});
  }
  return {{"timezone", s.timezone}, {"windows", windows}};
}

// Throws json::exception on a wrong shape; a bad day or time is Internal.
Result<Schedule> DecodeSchedule(const json& j) {
  Schedule s;
  s.timezone = j.at("timezone").get<std::string>();
  for (const auto& jw : j.at("windows")) {
    ScheduleWindow w;
    for (const auto& name : jw.at("days").get<std::vector<std::string>>()) {
      auto bits = ParseDays(name);
      if (!bits) return Status::Internal("stored schedule has unknown day '" + name + "'");
      w.days |= *bits;
    }
    auto from = ParseTimeOfDay(jw.at("from").get<std::string>(), false);
    auto to = ParseTimeOfDay(jw.at("to").get<std::string>(), true);
    if (!from || !to) return Status::Internal("stored schedule has a bad time of day");
    w.from_minute = *from;
    w.to_minute = *to;
    s.windows.push_back(w);
  }
  return s;
}

}  // namespace

std::string EncodeStringList(const std::vector<std::string>& list) { return json(list).dump(); }

Result<std::vector<std::string>> DecodeStringList(std::string_view text) {
  std::vector<std::string> out;
  if (FastDecode(text, out)) return out;
  try {
    json j = json::parse(text);
    if (!j.is_array()) return Status::Internal("stored list is not a JSON array");
    return j.get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    return Status::Internal(std::string("stored list is not valid: ") + e.what());
  }
}

std::string EncodePolicySpec(const Policy& p) {
  json recipients = json::array();
  for (RecipientKind k : p.recipients) recipients.push_back(std::string(ToString(k)));
  json j = {
      {"users", p.users},
      {"groups", p.groups},
      {"services", p.services},
      {"access_groups", p.access_groups},
      {"default_duration_s", p.default_duration.count()},
      {"max_duration_s", p.max_duration.count()},
      {"recipients", recipients},
      {"min_prefix_v4", p.min_prefix_v4},
      {"min_prefix_v6", p.min_prefix_v6},
      {"approval", ToString(p.approval)},
      {"activate_on", ToString(p.activate_on)},
      {"notify_admins", p.notify_admins},
      {"may_outlive_window", p.may_outlive_window},
      {"default", p.is_default},
  };
  if (p.schedule) j["schedule"] = EncodeSchedule(*p.schedule);
  return j.dump();
}

Status DecodePolicySpec(std::string_view text, Policy& p) {
  const Policy d;
  try {
    json j = json::parse(text);
    if (!j.is_object()) return Status::Internal("stored policy spec is not a JSON object");
    Policy out;
    out.users = StringsAt(j, "users", d.users);
    out.groups = StringsAt(j, "groups", d.groups);
    out.services = StringsAt(j, "services", d.services);
    out.access_groups = StringsAt(j, "access_groups", d.access_groups);
    out.default_duration = Seconds(j.value("default_duration_s", d.default_duration.count()));
    out.max_duration = Seconds(j.value("max_duration_s", d.max_duration.count()));
    out.min_prefix_v4 = j.value("min_prefix_v4", d.min_prefix_v4);
    out.min_prefix_v6 = j.value("min_prefix_v6", d.min_prefix_v6);
    if (auto it = j.find("recipients"); it != j.end()) {
      out.recipients.clear();
      for (const auto& r : it->get<std::vector<std::string>>()) {
        auto kind = ParseRecipientKind(r);
        if (!kind) return Status::Internal("stored policy has unknown recipient kind '" + r + "'");
        out.recipients.insert(*kind);
      }
    }
    if (auto it = j.find("approval"); it != j.end()) {
      auto mode = ParseApprovalMode(it->get<std::string>());
      if (!mode) return Status::Internal("stored policy has unknown approval mode");
      out.approval = *mode;
    }
    if (auto it = j.find("activate_on"); it != j.end()) {
      auto on = ParseActivateOn(it->get<std::string>());
      if (!on) return Status::Internal("stored policy has unknown activate_on");
      out.activate_on = *on;
    }
    out.notify_admins = j.value("notify_admins", d.notify_admins);
    out.may_outlive_window = j.value("may_outlive_window", d.may_outlive_window);
    out.is_default = j.value("default", d.is_default);
    if (auto it = j.find("schedule"); it != j.end() && !it->is_null()) {
      auto schedule = DecodeSchedule(*it);
      if (!schedule.ok()) return schedule.status();
      out.schedule = std::move(*schedule);
    }
    out.id = p.id;
    out.name = std::move(p.name);
    p = std::move(out);
    return Status::Ok();
  } catch (const json::exception& e) {
    return Status::Internal(std::string("stored policy spec is not valid: ") + e.what());
  }
}

}  // namespace pinhole::store
