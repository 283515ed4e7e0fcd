#include "store/codec.h"

#include <nlohmann/json.hpp>

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
  };
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
    out.id = p.id;
    out.name = std::move(p.name);
    p = std::move(out);
    return Status::Ok();
  } catch (const json::exception& e) {
    return Status::Internal(std::string("stored policy spec is not valid: ") + e.what());
  }
}

}  // namespace pinhole::store
