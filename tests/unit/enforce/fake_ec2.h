// An in-memory EC2 for the aws-sg enforcer's tests: groups with inbound
// rules, tags, a per-family rule quota, EC2's all-or-nothing errors
// (one duplicate or unknown id fails the whole call), and injected failures.
//
// Thread-safety: a mutex guards everything (a test inspects it while the
// enforcer uses it).
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "enforce/aws/ec2_api.h"

namespace pinhole::aws {

class FakeEc2 final : public Ec2Api {
 public:
  struct Group {
    std::vector<IngressRule> rules;
  };

  explicit FakeEc2(int quota = 60) : quota_(quota) {}

  void AddGroup(const std::string& region, const std::string& id) {
    std::lock_guard lock(mu_);
    groups_[{region, id}];
  }
  // A rule nobody from Pinhole made (an admin's static allow-list).
  std::string AddHandMade(const std::string& region, const std::string& group, IngressRule r) {
    std::lock_guard lock(mu_);
    r.group_id = group;
    r.rule_id = NextId();
    groups_[{region, group}].rules.push_back(r);
    return r.rule_id;
  }
  std::vector<IngressRule> Rules(const std::string& region, const std::string& group) const {
    std::lock_guard lock(mu_);
    auto it = groups_.find({region, group});
    return it == groups_.end() ? std::vector<IngressRule>{} : it->second.rules;
  }
  // Deletes a rule behind the enforcer's back.
  void Delete(const std::string& region, const std::string& group, const std::string& id) {
    std::lock_guard lock(mu_);
    auto& rules = groups_[{region, group}].rules;
    std::erase_if(rules, [&](const IngressRule& r) { return r.rule_id == id; });
  }
  // The next calls of `op` ("Authorize", "Revoke", "Describe", "Update",
  // "CheckGroups", or "*" for any) fail with these, in order.
  void FailNext(const std::string& op, Status st, int times = 1) {
    std::lock_guard lock(mu_);
    for (int i = 0; i < times; ++i) failures_[op].push_back(st);
  }
  int calls(const std::string& op) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }
  int total_calls() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (auto& [op, c] : calls_) n += c;
    return n;
  }
  // Permissions per Authorize call, in order.
  std::vector<size_t> authorize_sizes() const {
    std::lock_guard lock(mu_);
    return authorize_sizes_;
  }

  Result<std::vector<IngressRule>> AuthorizeIngress(
      const std::string& region, const std::string& group_id, const std::vector<IngressRule>& rules,
      const std::map<std::string, std::string>& tags) override {
    std::lock_guard lock(mu_);
    if (auto st = Begin("Authorize"); !st.ok()) return st;
    authorize_sizes_.push_back(rules.size());
    auto g = groups_.find({region, group_id});
    if (g == groups_.end()) return NoGroup(group_id);
    int v4 = 0, v6 = 0;
    for (const auto& r : g->second.rules) (r.cidr.find(':') == std::string::npos ? v4 : v6)++;
    for (const auto& r : rules) {
      for (const auto& e : g->second.rules) {
        if (Same(e, r)) {
          return Status(Code::kConflict, "InvalidPermission.Duplicate",
                        "the specified rule already exists");
        }
      }
      (r.cidr.find(':') == std::string::npos ? v4 : v6)++;
    }
    if (v4 > quota_ || v6 > quota_) {
      return Status(Code::kConflict, "RulesPerSecurityGroupLimitExceeded",
                    "The maximum number of rules per security group has been reached.");
    }
    std::vector<IngressRule> created;
    for (auto r : rules) {
      r.rule_id = NextId();
      r.group_id = group_id;
      r.tags = tags;
      g->second.rules.push_back(r);
      created.push_back(r);
    }
    return created;
  }

  Status RevokeIngress(const std::string& region, const std::string& group_id,
                       const std::vector<std::string>& rule_ids) override {
    std::lock_guard lock(mu_);
    if (auto st = Begin("Revoke"); !st.ok()) return st;
    auto g = groups_.find({region, group_id});
    if (g == groups_.end()) return NoGroup(group_id);
    for (const auto& id : rule_ids) {
      bool found = false;
      for (const auto& r : g->second.rules) found |= r.rule_id == id;
      if (!found) {
        return Status(Code::kNotFound, "InvalidSecurityGroupRuleId.NotFound",
                      "The security group rule ID '" + id + "' does not exist");
      }
    }
    std::set<std::string> ids(rule_ids.begin(), rule_ids.end());
    std::erase_if(g->second.rules, [&](const IngressRule& r) { return ids.count(r.rule_id) > 0; });
    return Status::Ok();
  }

  Result<std::vector<IngressRule>> DescribeIngress(const std::string& region,
                                                   const std::string& group_id,
                                                   const std::string& tag_key) override {
    std::lock_guard lock(mu_);
    if (auto st = Begin("Describe"); !st.ok()) return st;
    auto g = groups_.find({region, group_id});
    if (g == groups_.end()) return std::vector<IngressRule>{};  // EC2 filters: just nothing
    std::vector<IngressRule> out;
    for (const auto& r : g->second.rules) {
      if (tag_key.empty() || r.tags.count(tag_key)) out.push_back(r);
    }
    return out;
  }

  Status UpdateRules(const std::string& region, const std::string& group_id,
                     const std::vector<IngressRule>& rules,
                     const std::map<std::string, std::string>& tags) override {
    std::lock_guard lock(mu_);
    if (auto st = Begin("Update"); !st.ok()) return st;
    auto g = groups_.find({region, group_id});
    if (g == groups_.end()) return NoGroup(group_id);
    for (const auto& want : rules) {
      bool found = false;
      for (const auto& r : g->second.rules) found |= r.rule_id == want.rule_id;
      if (!found) {
        return Status(Code::kNotFound, "InvalidSecurityGroupRuleId.NotFound",
                      "The security group rule ID '" + want.rule_id + "' does not exist");
      }
    }
    for (const auto& want : rules) {
      for (auto& r : g->second.rules) {
        if (r.rule_id != want.rule_id) continue;
        r.description = want.description;
        for (const auto& [k, v] : tags) r.tags[k] = v;
      }
    }
    return Status::Ok();
  }

  Status CheckGroups(const std::string& region, const std::vector<std::string>& ids) override {
    std::lock_guard lock(mu_);
    if (auto st = Begin("CheckGroups"); !st.ok()) return st;
    for (const auto& id : ids) {
      if (!groups_.count({region, id})) return NoGroup(id);
    }
    return Status::Ok();
  }

 private:
  Status Begin(const std::string& op) {
    ++calls_[op];
    for (const std::string& key : {op, std::string("*")}) {
      auto& q = failures_[key];
      if (!q.empty()) {
        Status st = q.front();
        q.pop_front();
        return st;
      }
    }
    return Status::Ok();
  }
  static Status NoGroup(const std::string& id) {
    return Status(Code::kNotFound, "InvalidGroup.NotFound",
                  "The security group '" + id + "' does not exist");
  }
  static bool Same(const IngressRule& a, const IngressRule& b) {
    return a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port &&
           a.cidr == b.cidr;
  }
  std::string NextId() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "sgr-%017x", ++next_id_);
    return buf;
  }

  mutable std::mutex mu_;
  int quota_;
  unsigned next_id_ = 0;
  std::map<std::pair<std::string, std::string>, Group> groups_;
  std::map<std::string, std::deque<Status>> failures_;
  std::map<std::string, int> calls_;
  std::vector<size_t> authorize_sizes_;
};

// Forwards to a FakeEc2 owned elsewhere: a second enforcer (a restart, a
// replica) on the same account.
class ForwardingEc2 final : public Ec2Api {
 public:
  explicit ForwardingEc2(Ec2Api* to) : to_(to) {}
  Result<std::vector<IngressRule>> AuthorizeIngress(
      const std::string& region, const std::string& group_id, const std::vector<IngressRule>& rules,
      const std::map<std::string, std::string>& tags) override {
    return to_->AuthorizeIngress(region, group_id, rules, tags);
  }
  Status RevokeIngress(const std::string& region, const std::string& group_id,
                       const std::vector<std::string>& rule_ids) override {
    return to_->RevokeIngress(region, group_id, rule_ids);
  }
  Result<std::vector<IngressRule>> DescribeIngress(const std::string& region,
                                                   const std::string& group_id,
                                                   const std::string& tag_key) override {
    return to_->DescribeIngress(region, group_id, tag_key);
  }
  Status UpdateRules(const std::string& region, const std::string& group_id,
                     const std::vector<IngressRule>& rules,
                     const std::map<std::string, std::string>& tags) override {
    return to_->UpdateRules(region, group_id, rules, tags);
  }
  Status CheckGroups(const std::string& region, const std::vector<std::string>& ids) override {
    return to_->CheckGroups(region, ids);
  }

 private:
  Ec2Api* to_;
};

}  // namespace pinhole::aws
