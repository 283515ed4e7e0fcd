// How Pinhole marks its Security Group rules, so that it (or a replica, or
// its next start) recognises them and knows when each must go.
//
// Every rule Pinhole creates carries:
//   - tag pinhole:owner = the owner name ([aws] owner, default "pinhole"):
//     the ownership mark. Rules without it are never modified or revoked.
//   - tag pinhole:lease and pinhole:expires. EC2 gives all rules created by
//     one call the same tags, and batching is what keeps Pinhole under the
//     API rate limits, so when one call carries rules of several leases the
//     tags hold "multiple" and the LATEST expiry of the batch: an upper bound
//     that tooling may rely on. The exact values are in:
//   - the description, "pinhole svc <service> lease <id> until <RFC 3339>",
//     which is per rule and authoritative.
// Everything is within EC2's description character set.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/model.h"

namespace pinhole::aws {

inline constexpr const char* kTagOwner = "pinhole:owner";
inline constexpr const char* kTagLease = "pinhole:lease";
inline constexpr const char* kTagExpires = "pinhole:expires";
inline constexpr size_t kMaxDescription = 255;

struct RuleLabel {
  std::string service;
  Id lease = 0;  // 0: unknown
  Time expires_at{};
  bool operator==(const RuleLabel&) const = default;
};

// "pinhole svc ssh lease 42 until 2026-11-21T15:00:00Z" (lease omitted when 0).
std::string FormatDescription(const RuleLabel& label);
// Inverse of FormatDescription; nullopt for anything else (hand-made text).
std::optional<RuleLabel> ParseDescription(std::string_view description);

// True if every character is allowed in an EC2 rule description and it is
// at most 255 characters.
bool IsValidDescription(std::string_view description);

// Owner names go into a tag value and must be recognisable: 1-64 of
// [A-Za-z0-9._-].
bool IsValidOwner(std::string_view owner);

// The tags for one call creating or refreshing rules with these labels
// (see the file comment for batches of several leases).
class BatchTags {
 public:
  explicit BatchTags(std::string owner) : owner_(std::move(owner)) {}
  void Add(const RuleLabel& label);
  std::map<std::string, std::string> tags() const;

 private:
  std::string owner_;
  std::optional<Id> lease_;
  bool multiple_ = false;
  Time latest_{};
};

}  // namespace pinhole::aws
