#include "enforce/aws/target.h"

#include <nlohmann/json.hpp>
#include <set>

namespace pinhole::aws {
namespace {

using nlohmann::json;

Status Bad(const std::string& why) {
  return Status::Invalid("invalid_target", "aws-sg target: " + why);
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

Result<RegionPool> ParsePool(const json& obj, const std::string& where) {
  if (!obj.is_object()) return Bad(where + " must be an object");
  RegionPool pool;
  for (const auto& [key, value] : obj.items()) {
    if (key != "region" && key != "security_groups") {
      return Bad(where + ": unknown key \"" + key + "\"");
    }
  }
  auto region = obj.find("region");
  if (region == obj.end() || !region->is_string()) {
    return Bad(where + ".region: a region name such as \"eu-west-1\" is required");
  }
  pool.region = region->get<std::string>();
  if (!IsValidRegion(pool.region)) {
    return Bad(where + ".region: \"" + pool.region.substr(0, 32) + "\" is not a region name");
  }
  auto groups = obj.find("security_groups");
  if (groups == obj.end() || !groups->is_array() || groups->empty()) {
    return Bad(where + ".security_groups: a non-empty list of group ids (\"sg-...\") is required");
  }
  if (groups->size() > kMaxGroupsPerRegion) {
    return Bad(where + ".security_groups: at most " + std::to_string(kMaxGroupsPerRegion) +
               " groups per region");
  }
  std::set<std::string> seen;
  for (const auto& g : *groups) {
    if (!g.is_string() || !IsValidGroupId(g.get<std::string>())) {
      std::string text = g.is_string() ? g.get<std::string>().substr(0, 40) : g.dump();
      return Bad(where + ".security_groups: \"" + text + "\" is not a group id (sg- and hex)");
    }
    if (!seen.insert(g.get<std::string>()).second) {
      return Bad(where + ".security_groups: " + g.get<std::string>() + " is listed twice");
    }
    pool.groups.push_back(g.get<std::string>());
  }
  return pool;
}

}  // namespace

bool IsValidRegion(std::string_view region) {
  // Letters and digits in dash-separated parts, ending in a number part.
  if (region.size() < 4 || region.size() > 32) return false;
  size_t parts = 1;
  for (size_t i = 0; i < region.size(); ++i) {
    char c = region[i];
    if (c == '-') {
      if (i == 0 || i + 1 == region.size() || region[i - 1] == '-') return false;
      ++parts;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  size_t last = region.rfind('-');
  if (parts < 3 || last == std::string_view::npos) return false;
  for (char c : region.substr(last + 1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsValidGroupId(std::string_view id) {
  if (!id.starts_with("sg-")) return false;
  std::string_view hex = id.substr(3);
  if (hex.size() != 8 && hex.size() != 17) return false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

Result<AwsTarget> ParseAwsTarget(std::string_view target_json) {
  json doc = json::parse(target_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Bad(
        "must be a JSON object like {\"region\":\"eu-west-1\",\"security_groups\":[\"sg-...\"]}");
  }
  AwsTarget target;
  if (doc.contains("regions")) {
    if (doc.size() != 1) return Bad("give either \"regions\" or \"region\"+\"security_groups\"");
    const json& list = doc["regions"];
    if (!list.is_array() || list.empty()) return Bad("regions: a non-empty list is required");
    if (list.size() > kMaxRegions) {
      return Bad("regions: at most " + std::to_string(kMaxRegions) + " regions");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      ASSIGN_OR_RETURN(RegionPool pool, ParsePool(list[i], "regions[" + std::to_string(i) + "]"));
      target.pools.push_back(std::move(pool));
    }
  } else {
    ASSIGN_OR_RETURN(RegionPool pool, ParsePool(doc, "target"));
    target.pools.push_back(std::move(pool));
  }
  std::set<std::string> regions;
  for (const auto& p : target.pools) {
    if (!regions.insert(p.region).second) {
      return Bad("region " + p.region + " is listed twice; list all its groups once");
    }
  }
  return target;
}

}  // namespace pinhole::aws
