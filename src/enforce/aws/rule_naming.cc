#include "enforce/aws/rule_naming.h"

#include <charconv>
#include <string>
#include <vector>

namespace pinhole::aws {
namespace {

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::string FormatDescription(const RuleLabel& label) {
  std::string out = "pinhole svc " + label.service;
  if (label.lease != 0) out += " lease " + std::to_string(label.lease);
  out += " until " + FormatTime(label.expires_at);
  return out;
}

std::optional<RuleLabel> ParseDescription(std::string_view description) {
  auto words = Split(description);
  RuleLabel label;
  size_t i = 0;
  auto next = [&](std::string_view want) {
    if (i < words.size() && words[i] == want) {
      ++i;
      return true;
    }
    return false;
  };
  if (!next("pinhole") || !next("svc") || i >= words.size()) return std::nullopt;
  label.service = std::string(words[i++]);
  if (label.service.empty() || label.service.size() > 64) return std::nullopt;
  for (char c : label.service) {
    if (!IsNameChar(c)) return std::nullopt;
  }
  if (next("lease")) {
    if (i >= words.size()) return std::nullopt;
    std::string_view id = words[i++];
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), label.lease);
    if (ec != std::errc() || end != id.data() + id.size() || label.lease <= 0) return std::nullopt;
  }
  if (!next("until") || i + 1 != words.size()) return std::nullopt;
  auto t = ParseTime(words[i]);
  if (!t) return std::nullopt;
  label.expires_at = *t;
  return label;
}

bool IsValidDescription(std::string_view d) {
  if (d.size() > kMaxDescription) return false;
  static constexpr std::string_view kExtra = " ._-:/()#,@[]+=;{}!$*";
  for (char c : d) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              kExtra.find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool IsValidOwner(std::string_view owner) {
  if (owner.empty() || owner.size() > 64) return false;
  for (char c : owner) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

void BatchTags::Add(const RuleLabel& label) {
  if (!lease_) {
    lease_ = label.lease;
  } else if (*lease_ != label.lease) {
    multiple_ = true;
  }
  latest_ = std::max(latest_, label.expires_at);
}

std::map<std::string, std::string> BatchTags::tags() const {
  std::map<std::string, std::string> tags{{kTagOwner, owner_}};
  if (!lease_) return tags;
  if (multiple_) {
    tags[kTagLease] = "multiple";
  } else if (*lease_ != 0) {
    tags[kTagLease] = std::to_string(*lease_);
  }
  tags[kTagExpires] = FormatTime(latest_);
  return tags;
}

}  // namespace pinhole::aws
