// The aws-sg service target: which Security Groups, in which regions, carry a
// service's holes. Parsing is pure; thread-compatible.
//
// Accepted forms (Service::target_json):
//   {"region": "eu-west-1", "security_groups": ["sg-0123456789abcdef0", ...]}
//   {"regions": [{"region": "eu-west-1", "security_groups": [...]},
//                {"region": "us-east-1", "security_groups": [...]}]}
// The groups of one region form a pool attached to the same instances: a
// hole becomes ONE rule in the first group of the pool with room. A service in
// several regions gets one rule per region.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pinhole::aws {

inline constexpr size_t kMaxGroupsPerRegion = 16;
inline constexpr size_t kMaxRegions = 8;

struct RegionPool {
  std::string region;
  std::vector<std::string> groups;  // in the order the operator listed them
  bool operator==(const RegionPool&) const = default;
};

struct AwsTarget {
  std::vector<RegionPool> pools;  // one per region, regions distinct
  bool operator==(const AwsTarget&) const = default;
};

// InvalidArgument "invalid_target" with a message naming the bad field.
Result<AwsTarget> ParseAwsTarget(std::string_view target_json);

// "eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-2".
bool IsValidRegion(std::string_view region);
// "sg-" + 8 or 17 lowercase hex digits.
bool IsValidGroupId(std::string_view group_id);

}  // namespace pinhole::aws
