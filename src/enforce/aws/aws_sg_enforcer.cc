#include "enforce/aws/aws_sg_enforcer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "enforce/aws/rate_limit.h"
#include "enforce/aws/rule_naming.h"
#include "enforce/aws/target.h"

namespace pinhole::aws {
namespace {

// A reservation made by CheckCapacity is kept this long for the lease commit
// and its Apply to arrive.
constexpr Millis kReservationTtl{120'000};

struct GroupRef {
  std::string region;
  std::string group;
  auto operator<=>(const GroupRef&) const = default;
  std::string ToString() const { return group + " (" + region + ")"; }
};

// The permission part of a rule: what EC2 matches duplicates on.
struct Permission {
  std::string protocol;
  int from = -1;
  int to = -1;
  std::string cidr;  // canonical text
  auto operator<=>(const Permission&) const = default;
};

struct OwnedRule {
  std::string rule_id;
  GroupRef where;
  Permission perm;
  RuleLabel label;
};

struct GroupUse {
  int v4 = 0;
  int v6 = 0;
  int& of(Family f) { return f == Family::kV4 ? v4 : v6; }
  int of(Family f) const { return f == Family::kV4 ? v4 : v6; }
};

struct ServiceInfo {
  Service service;
  AwsTarget target;
};

using RegionKey = std::pair<HoleKey, std::string>;  // hole, region

Permission PermissionFor(const Service& s, const Cidr& source) {
  Permission p;
  p.cidr = source.ToString();
  switch (s.protocol) {
    case Protocol::kTcp:
      p.protocol = "tcp";
      break;
    case Protocol::kUdp:
      p.protocol = "udp";
      break;
    case Protocol::kIcmp:
      p.protocol = "icmp";
      break;
    case Protocol::kAll:
      p.protocol = "-1";
      break;
  }
  if (s.ports && (s.protocol == Protocol::kTcp || s.protocol == Protocol::kUdp)) {
    p.from = s.ports->first;
    p.to = s.ports->last;
  }
  return p;
}

// EC2's view of a rule's permission; the CIDR canonicalised (AWS does that too).
std::optional<Permission> PermissionOf(const IngressRule& r) {
  if (r.cidr.empty()) return std::nullopt;  // references a group or a prefix list
  auto slash = r.cidr.find('/');
  auto addr = IpAddress::Parse(std::string_view(r.cidr).substr(0, slash));
  if (!addr.ok()) return std::nullopt;
  int prefix = addr->bits();
  if (slash != std::string::npos) {
    try {
      prefix = std::stoi(r.cidr.substr(slash + 1));
    } catch (...) {
      return std::nullopt;
    }
  }
  if (prefix < 0 || prefix > addr->bits()) return std::nullopt;
  // Mask host bits the way Cidr does, by re-parsing the network.
  Cidr c{*addr, prefix};
  for (int bit = prefix; bit < addr->bits(); ++bit) {
    c.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  Permission p;
  p.protocol = r.protocol;
  p.from = r.from_port;
  p.to = r.to_port;
  if (p.protocol == "-1" || p.protocol == "icmp") p.from = p.to = -1;
  p.cidr = c.ToString();
  return p;
}

Family FamilyOf(const Permission& p) {
  return p.cidr.find(':') == std::string::npos ? Family::kV4 : Family::kV6;
}

IngressRule ToRequest(const GroupRef& where, const Permission& p, const RuleLabel& label) {
  IngressRule r;
  r.group_id = where.group;
  r.protocol = p.protocol;
  r.from_port = p.from;
  r.to_port = p.to;
  r.cidr = p.cidr;
  r.description = FormatDescription(label);
  return r;
}

bool IsGone(const Status& st) { return st.reason().ends_with(".NotFound"); }
bool IsDuplicate(const Status& st) { return st.reason() == "InvalidPermission.Duplicate"; }
bool IsGroupFull(const Status& st) { return st.reason() == "RulesPerSecurityGroupLimitExceeded"; }
bool IsThrottle(const Status& st) {
  return st.code() == Code::kResourceExhausted || st.reason() == "RequestLimitExceeded" ||
         st.reason() == "Throttling";
}
// Failures of identity or permission: retrying cannot help until an operator acts.
bool IsAuthFailure(const Status& st) {
  return st.code() == Code::kPermissionDenied || st.code() == Code::kUnauthenticated;
}
// Account-wide (every call fails) rather than one missing permission.
bool IsAccountWide(const Status& st) {
  return st.reason() != "UnauthorizedOperation" && st.reason() != "AccessDenied" &&
         st.reason() != "AccessDeniedException";
}

// The operations the enforcer makes, with the IAM action each needs.
enum class Op { kAuthorize, kRevoke, kDescribe, kModify, kCheckGroups };

const char* IamAction(Op op) {
  switch (op) {
    case Op::kAuthorize:
      return "ec2:AuthorizeSecurityGroupIngress";
    case Op::kRevoke:
      return "ec2:RevokeSecurityGroupIngress";
    case Op::kDescribe:
      return "ec2:DescribeSecurityGroupRules";
    case Op::kModify:
      return "ec2:ModifySecurityGroupRules and ec2:CreateTags";
    case Op::kCheckGroups:
      return "ec2:DescribeSecurityGroups";
  }
  return "";
}

template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
inline const Status& StatusOf(const Status& s) { return s; }

class AwsSgEnforcer final : public Enforcer {
 public:
  AwsSgEnforcer(const AwsSgOptions& o, std::unique_ptr<Ec2Api> api, const Clock& clock,
                SleepFn sleep, uint64_t seed)
      : options_(o),
        api_(std::move(api)),
        clock_(clock),
        sleep_(std::move(sleep)),
        mutating_(o.bucket_size, o.bucket_refill_per_second, clock.Now()),
        describing_(o.describe_bucket_size, o.describe_refill_per_second, clock.Now()),
        backoff_(o.backoff_base, o.backoff_cap, seed) {}

  std::string_view backend() const override { return kAwsSgBackend; }
  Status ValidateService(const Service& service) const override;
  Status SyncServices(const std::vector<Service>& services) override;
  Status Apply(const ChangeSet& changes) override;
  Result<HoleMap> ListHoles() override;
  Status CheckCapacity(const std::vector<Hole>& holes) override;
  EnforcerHealth Health() const override;
  bool remote() const override { return true; }
  Millis ApplyDelay() override { return mutating_.WaitTime(clock_.Now()); }

 private:
  // One EC2 call with pacing, retries and back-off, within `deadline`.
  template <typename F>
  auto Call(Op op, const GroupRef& where, Time deadline, F&& fn) -> decltype(fn());
  void RecordOutcome(const Status& st);

  // Placement under mu_: the group of `region`'s pool for a new rule of
  // `family`, counting `extra` planned adds; nullopt when all are full.
  std::optional<GroupRef> PlaceLocked(const RegionKey& rk, const RegionPool& pool, Family family,
                                      const std::map<GroupRef, GroupUse>& extra) const;
  int UsedLocked(const GroupRef& g, Family f, const std::map<GroupRef, GroupUse>& extra,
                 const RegionKey* self) const;
  void DropStaleReservationsLocked(Time now);

  // Re-reads one group: updates counts and returns all its inbound rules.
  Result<std::vector<IngressRule>> DescribeGroup(const GroupRef& g, Time deadline);
  // Rebuilds what we know of one group from a describe: counts, our rules.
  // Rules to revoke (expired, orphaned, duplicate) go to `stale`.
  void LearnGroup(const GroupRef& g, const std::vector<IngressRule>& rules, Time now,
                  std::map<GroupRef, std::vector<std::string>>& stale);

  Status AddRules(const GroupRef& g, std::vector<std::pair<RegionKey, OwnedRule>> adds,
                  Time deadline, std::vector<std::pair<RegionKey, OwnedRule>>& spill);
  Status RevokeRules(const GroupRef& g, std::vector<std::string> ids, Time deadline);
  Status RefreshRules(const GroupRef& g, const std::vector<std::pair<RegionKey, OwnedRule>>& rules,
                      Time deadline);
  Status CheckGroupsOnce(Time deadline);

  const AwsSgOptions options_;
  std::unique_ptr<Ec2Api> api_;
  const Clock& clock_;
  SleepFn sleep_;

  // Controller thread only.
  TokenBucket mutating_;
  TokenBucket describing_;
  Backoff backoff_;
  std::map<std::string, ServiceInfo> services_;
  std::set<GroupRef> checked_groups_;  // DescribeSecurityGroups said they exist
  // Hold-off after an auth failure, per IAM action ("*" = every call).
  struct HoldOff {
    Time until{};
    Millis length{};
    Status status;
  };
  std::map<std::string, HoldOff> holdoff_;

  // Shared with CheckCapacity/Health.
  mutable std::mutex mu_;
  std::map<RegionKey, OwnedRule> rules_;  // our rules, one per hole and region
  std::map<GroupRef, GroupUse> use_;      // all inbound rules per group (from describe + ours)
  std::map<RegionKey, std::pair<GroupRef, Time>> reserved_;  // by CheckCapacity, until
  std::map<std::string, AwsTarget> targets_;                 // service -> target, for CheckCapacity
  std::optional<Time> failing_since_;
  std::string last_error_;
  int64_t calls_ = 0, throttled_ = 0, retries_ = 0, errors_ = 0, capacity_refusals_ = 0;
};

Status AwsSgEnforcer::ValidateService(const Service& service) const {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_target", "service \"" + service.name + "\": " + why);
  };
  if (service.backend != kAwsSgBackend) return bad("backend is not aws-sg");
  auto target = ParseAwsTarget(service.target_json);
  if (!target.ok()) return bad(target.status().message());
  bool ported = service.protocol == Protocol::kTcp || service.protocol == Protocol::kUdp;
  if (ported && !service.ports) return bad("tcp and udp services need ports");
  if (!ported && service.ports) return bad("icmp and all services take no ports");
  if (service.ports && (service.ports->first == 0 || service.ports->first > service.ports->last)) {
    return bad("ports must be 1-65535, first <= last");
  }
  return Status::Ok();
}

Status AwsSgEnforcer::SyncServices(const std::vector<Service>& services) {
  // No AWS calls here: rules of services that went away (or groups taken out
  // of a target) are revoked by the next ListHoles, which the controller runs
  // right after a service change.
  std::map<std::string, ServiceInfo> next;
  Status result;
  for (const auto& s : services) {
    auto target = ParseAwsTarget(s.target_json);
    if (!target.ok()) {
      if (result.ok()) result = target.status();
      continue;
    }
    next[s.name] = ServiceInfo{s, *target};
  }
  services_ = std::move(next);
  std::lock_guard lock(mu_);
  targets_.clear();
  for (const auto& [name, info] : services_) targets_[name] = info.target;
  return result;
}

template <typename F>
auto AwsSgEnforcer::Call(Op op, const GroupRef& where, Time deadline, F&& fn) -> decltype(fn()) {
  const std::string action = IamAction(op);
  Time now = clock_.Now();
  for (const std::string& key : {std::string("*"), action}) {
    auto h = holdoff_.find(key);
    if (h != holdoff_.end() && now < h->second.until) {
      return Status(
          h->second.status.code(), h->second.status.reason(),
          h->second.status.message() + " (not retried before " + FormatTime(h->second.until) + ")");
    }
  }
  TokenBucket& bucket = (op == Op::kDescribe || op == Op::kCheckGroups) ? describing_ : mutating_;
  // While calls keep failing (an outage), each call is one probe without
  // back-off: the controller's retry comes soon anyway, and the worker is
  // then free the moment EC2 answers again (expired rules go at once).
  int max_attempts = options_.max_attempts;
  {
    std::lock_guard lock(mu_);
    if (failing_since_) max_attempts = 1;
  }
  Status last;
  for (int attempt = 1;; ++attempt) {
    now = clock_.Now();
    Millis left = std::max(Millis(0), std::chrono::duration_cast<Millis>(deadline - now));
    Millis wait = bucket.Take(now, left);
    if (wait > left) {
      last = Status(Code::kUnavailable, "aws_rate_limited",
                    "EC2 call budget spent (client-side token bucket); the rest is retried");
      break;
    }
    if (wait > Millis(0)) sleep_(wait);
    {
      std::lock_guard lock(mu_);
      ++calls_;
    }
    auto result = fn();
    const Status& st = StatusOf(result);
    if (st.ok() || IsDuplicate(st) || IsGone(st) || IsGroupFull(st)) {
      RecordOutcome(Status::Ok());
      holdoff_.erase("*");
      holdoff_.erase(action);
      return result;
    }
    // The AWS code leads the message: it is what an operator searches for.
    Status named(st.code(), st.reason(),
                 st.reason() + " from " + where.ToString() + ": " + st.message());
    if (IsAuthFailure(st)) {
      std::string key = IsAccountWide(st) ? "*" : action;
      if (!IsAccountWide(st)) {
        named = Status(st.code(), st.reason(),
                       named.message() + " (the IAM policy must allow " + action +
                           "; `pinhole admin aws-iam-policy` prints what Pinhole needs)");
      }
      HoldOff& h = holdoff_[key];
      h.length = h.length.count() == 0 ? options_.auth_holdoff
                                       : std::min(options_.auth_holdoff_max, h.length * 2);
      h.until = clock_.Now() + h.length;
      h.status = named;
      spdlog::error("aws-sg: {} refused: {}", action, named.message());
      RecordOutcome(named);
      return named;
    }
    if (!IsRetryable(st)) {
      RecordOutcome(named);
      return named;
    }
    last = named;
    {
      std::lock_guard lock(mu_);
      if (IsThrottle(st)) ++throttled_;
    }
    if (IsThrottle(st)) bucket.Drain(clock_.Now());
    if (attempt >= max_attempts) break;
    Millis delay = backoff_.Delay(attempt);
    if (clock_.Now() + delay > deadline) break;
    {
      std::lock_guard lock(mu_);
      ++retries_;
    }
    sleep_(delay);
  }
  spdlog::warn("aws-sg: {} on {} not done yet: {}", action, where.ToString(), last.ToString());
  if (last.code() != Code::kUnavailable || last.reason() != "aws_rate_limited") RecordOutcome(last);
  return last;
}

void AwsSgEnforcer::RecordOutcome(const Status& st) {
  std::lock_guard lock(mu_);
  if (st.ok()) {
    failing_since_.reset();
    last_error_.clear();
    return;
  }
  ++errors_;
  if (!failing_since_) failing_since_ = clock_.Now();
  last_error_ = st.message();
}

int AwsSgEnforcer::UsedLocked(const GroupRef& g, Family f,
                              const std::map<GroupRef, GroupUse>& extra,
                              const RegionKey* self) const {
  int used = 0;
  if (auto it = use_.find(g); it != use_.end()) used += it->second.of(f);
  if (auto it = extra.find(g); it != extra.end()) used += it->second.of(f);
  // Room promised to leases that are not applied yet.
  for (const auto& [rk, res] : reserved_) {
    if (res.first != g || (self && rk == *self) || rules_.count(rk)) continue;
    if (rk.first.source.family() == f) ++used;
  }
  return used;
}

std::optional<GroupRef> AwsSgEnforcer::PlaceLocked(
    const RegionKey& rk, const RegionPool& pool, Family family,
    const std::map<GroupRef, GroupUse>& extra) const {
  if (auto it = reserved_.find(rk); it != reserved_.end()) {
    const GroupRef& g = it->second.first;
    if (std::find(pool.groups.begin(), pool.groups.end(), g.group) != pool.groups.end() &&
        UsedLocked(g, family, extra, &rk) < options_.rule_quota) {
      return g;
    }
  }
  for (const auto& id : pool.groups) {
    GroupRef g{pool.region, id};
    if (UsedLocked(g, family, extra, &rk) < options_.rule_quota) return g;
  }
  return std::nullopt;
}

void AwsSgEnforcer::DropStaleReservationsLocked(Time now) {
  for (auto it = reserved_.begin(); it != reserved_.end();) {
    if (it->second.second <= now || rules_.count(it->first)) {
      it = reserved_.erase(it);
    } else {
      ++it;
    }
  }
}

Status AwsSgEnforcer::CheckCapacity(const std::vector<Hole>& holes) {
  std::lock_guard lock(mu_);
  Time now = clock_.Now();
  DropStaleReservationsLocked(now);
  std::map<GroupRef, GroupUse> extra;
  std::vector<std::pair<RegionKey, GroupRef>> placed;
  std::vector<std::string> full;
  for (const auto& hole : holes) {
    auto t = targets_.find(hole.key.service);
    if (t == targets_.end()) continue;  // not ours, or not synced yet: Apply will tell
    Family family = hole.key.source.family();
    for (const auto& pool : t->second.pools) {
      RegionKey rk{hole.key, pool.region};
      if (rules_.count(rk) || reserved_.count(rk)) continue;  // already has its place
      auto g = PlaceLocked(rk, pool, family, extra);
      if (!g) {
        std::string groups;
        for (const auto& id : pool.groups) groups += (groups.empty() ? "" : ", ") + id;
        full.push_back(groups + " in " + pool.region);
        continue;
      }
      extra[*g].of(family) += 1;
      placed.emplace_back(rk, *g);
    }
  }
  if (!full.empty()) {
    ++capacity_refusals_;
    std::string msg =
        "no room for another " +
        std::string(holes.front().key.source.family() == Family::kV4 ? "IPv4" : "IPv6") +
        " rule (quota " + std::to_string(options_.rule_quota) + " per group) in security groups ";
    for (size_t i = 0; i < full.size(); ++i) msg += (i ? "; " : "") + full[i];
    return Status::Conflict("capacity_exhausted", msg);
  }
  for (auto& [rk, g] : placed) reserved_[rk] = {g, now + kReservationTtl};
  return Status::Ok();
}

Result<std::vector<IngressRule>> AwsSgEnforcer::DescribeGroup(const GroupRef& g, Time deadline) {
  auto rules = Call(Op::kDescribe, g, deadline,
                    [&] { return api_->DescribeIngress(g.region, g.group, ""); });
  if (!rules.ok()) return rules.status();
  GroupUse use;
  for (const auto& r : *rules) {
    // Rules without a CIDR (group or prefix-list references) count for both.
    if (r.cidr.empty()) {
      ++use.v4;
      ++use.v6;
    } else {
      ++use.of(r.cidr.find(':') == std::string::npos ? Family::kV4 : Family::kV6);
    }
  }
  std::lock_guard lock(mu_);
  use_[g] = use;
  return rules;
}

void AwsSgEnforcer::LearnGroup(const GroupRef& g, const std::vector<IngressRule>& rules, Time now,
                               std::map<GroupRef, std::vector<std::string>>& stale) {
  std::lock_guard lock(mu_);
  // Forget what we believed about this group; the describe is the truth.
  for (auto it = rules_.begin(); it != rules_.end();) {
    it = it->second.where == g ? rules_.erase(it) : std::next(it);
  }
  for (const auto& r : rules) {
    auto owner = r.tags.find(kTagOwner);
    if (owner == r.tags.end() || owner->second != options_.owner) continue;  // not ours
    auto perm = PermissionOf(r);
    auto label = ParseDescription(r.description);
    if (!label) {
      // Description edited by hand: fall back to the (conservative) tag.
      auto exp = r.tags.find(kTagExpires);
      auto t = exp == r.tags.end() ? std::nullopt : ParseTime(exp->second);
      if (t) label = RuleLabel{"", 0, *t};
    }
    std::optional<HoleKey> key;
    if (perm && label) {
      auto svc = services_.find(label->service);
      if (svc != services_.end()) {
        const RegionPool* pool = nullptr;
        for (const auto& p : svc->second.target.pools) {
          if (p.region == g.region) pool = &p;
        }
        bool listed = pool && std::find(pool->groups.begin(), pool->groups.end(), g.group) !=
                                  pool->groups.end();
        auto cidr = Cidr::Parse(perm->cidr);
        if (listed && cidr.ok() && PermissionFor(svc->second.service, *cidr) == *perm) {
          key = HoleKey{label->service, *cidr};
        }
      }
    }
    bool expired = label && label->expires_at <= now;
    if (!key || expired) {
      // Ours but expired, unreadable, or for a service/group no longer
      // configured: fail closed.
      stale[g].push_back(r.rule_id);
      continue;
    }
    RegionKey rk{*key, g.region};
    OwnedRule owned{r.rule_id, g, *perm, *label};
    auto it = rules_.find(rk);
    if (it != rules_.end()) {
      // Two rules for one hole (say, in two groups of the pool): keep the
      // later expiry.
      if (it->second.label.expires_at >= owned.label.expires_at) {
        stale[g].push_back(r.rule_id);
        continue;
      }
      stale[it->second.where].push_back(it->second.rule_id);
    }
    rules_[rk] = owned;
  }
}

Status AwsSgEnforcer::CheckGroupsOnce(Time deadline) {
  std::map<std::string, std::vector<std::string>> unchecked;  // region -> groups
  for (const auto& [name, info] : services_) {
    for (const auto& pool : info.target.pools) {
      for (const auto& id : pool.groups) {
        if (!checked_groups_.count({pool.region, id})) unchecked[pool.region].push_back(id);
      }
    }
  }
  for (auto& entry : unchecked) {
    // Named references: lambdas cannot capture structured bindings in C++20.
    const std::string& region = entry.first;
    std::vector<std::string>& ids = entry.second;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    GroupRef where{region, ids.size() == 1 ? ids[0] : std::to_string(ids.size()) + " groups"};
    Status st =
        Call(Op::kCheckGroups, where, deadline, [&] { return api_->CheckGroups(region, ids); });
    if (!st.ok()) return st;
    for (const auto& id : ids) checked_groups_.insert({region, id});
  }
  return Status::Ok();
}

Result<HoleMap> AwsSgEnforcer::ListHoles() {
  Time now = clock_.Now();
  Time deadline = now + options_.apply_budget;
  RETURN_IF_ERROR(CheckGroupsOnce(deadline));
  std::set<GroupRef> groups;
  for (const auto& [name, info] : services_) {
    for (const auto& pool : info.target.pools) {
      for (const auto& id : pool.groups) groups.insert({pool.region, id});
    }
  }
  Status result;
  std::map<GroupRef, std::vector<std::string>> stale;
  for (const auto& g : groups) {
    auto rules = DescribeGroup(g, deadline);
    if (!rules.ok()) {
      if (result.ok()) result = rules.status();
      continue;
    }
    LearnGroup(g, *rules, clock_.Now(), stale);
  }
  for (auto& [g, ids] : stale) {
    if (ids.empty()) continue;
    spdlog::info("aws-sg: revoking {} expired, orphaned or duplicate Pinhole rules in {}",
                 ids.size(), g.ToString());
    Status st = RevokeRules(g, ids, deadline);
    if (!st.ok() && result.ok()) result = st;
  }
  {
    // Groups no longer listed by any service: forget them (their rules were
    // revoked while they were listed, or are left to a describe when listed again).
    std::lock_guard lock(mu_);
    for (auto it = rules_.begin(); it != rules_.end();) {
      it = groups.count(it->second.where) ? std::next(it) : rules_.erase(it);
    }
  }
  if (!result.ok()) return result;
  // A hole exists when every region of its service has its rule; its expiry
  // is the earliest of them.
  HoleMap holes;
  std::lock_guard lock(mu_);
  std::map<HoleKey, std::pair<size_t, Time>> seen;
  for (const auto& [rk, rule] : rules_) {
    auto& s = seen[rk.first];
    s.second = s.first == 0 ? rule.label.expires_at : std::min(s.second, rule.label.expires_at);
    ++s.first;
  }
  for (const auto& [key, s] : seen) {
    auto svc = services_.find(key.service);
    if (svc != services_.end() && s.first == svc->second.target.pools.size()) {
      holes[key] = s.second;
    }
  }
  return holes;
}

Status AwsSgEnforcer::RevokeRules(const GroupRef& g, std::vector<std::string> ids, Time deadline) {
  if (ids.empty()) return Status::Ok();
  Status st =
      Call(Op::kRevoke, g, deadline, [&] { return api_->RevokeIngress(g.region, g.group, ids); });
  if (IsGone(st)) {
    // One unknown id fails the whole call: revoke only those still there.
    auto rules = DescribeGroup(g, deadline);
    if (!rules.ok()) return rules.status();
    std::set<std::string> present;
    for (const auto& r : *rules) present.insert(r.rule_id);
    std::vector<std::string> still;
    for (const auto& id : ids) {
      if (present.count(id)) still.push_back(id);
    }
    st = still.empty() ? Status::Ok() : Call(Op::kRevoke, g, deadline, [&] {
      return api_->RevokeIngress(g.region, g.group, still);
    });
    if (IsGone(st)) st = Status::Ok();  // raced with someone else's revoke
    if (st.ok()) ids = still;
  }
  if (!st.ok()) return st;
  std::lock_guard lock(mu_);
  std::set<std::string> gone(ids.begin(), ids.end());
  for (auto it = rules_.begin(); it != rules_.end();) {
    if (gone.count(it->second.rule_id)) {
      auto& use = use_[g];
      use.of(FamilyOf(it->second.perm)) = std::max(0, use.of(FamilyOf(it->second.perm)) - 1);
      it = rules_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

Status AwsSgEnforcer::AddRules(const GroupRef& g, std::vector<std::pair<RegionKey, OwnedRule>> adds,
                               Time deadline, std::vector<std::pair<RegionKey, OwnedRule>>& spill) {
  Status result;
  size_t per_call = static_cast<size_t>(std::max(1, options_.max_rules_per_call));
  for (size_t start = 0; start < adds.size(); start += per_call) {
    std::vector<std::pair<RegionKey, OwnedRule>> batch(
        adds.begin() + start, adds.begin() + std::min(adds.size(), start + per_call));
    std::vector<IngressRule> request;
    BatchTags tags(options_.owner);
    for (const auto& [rk, rule] : batch) {
      request.push_back(ToRequest(g, rule.perm, rule.label));
      tags.Add(rule.label);
    }
    auto created = Call(Op::kAuthorize, g, deadline, [&] {
      return api_->AuthorizeIngress(g.region, g.group, request, tags.tags());
    });
    std::map<Permission, std::string> ids;  // what exists now
    std::set<Permission> fresh;             // created by this call (counts for the quota)
    if (created.ok()) {
      for (const auto& r : *created) {
        if (auto p = PermissionOf(r)) {
          ids[*p] = r.rule_id;
          fresh.insert(*p);
        }
      }
    } else if (IsDuplicate(created.status()) || IsGroupFull(created.status())) {
      // Some permission exists already (ours from a lost reply, or a
      // hand-made one), or the group is fuller than we knew: look, then add
      // only what is missing, spilling what does not fit.
      auto rules = DescribeGroup(g, deadline);
      if (!rules.ok()) {
        if (result.ok()) result = rules.status();
        continue;
      }
      std::set<Permission> existing;
      for (const auto& r : *rules) {
        auto p = PermissionOf(r);
        if (!p) continue;
        auto owner = r.tags.find(kTagOwner);
        if (owner != r.tags.end() && owner->second == options_.owner) {
          ids[*p] = r.rule_id;
        } else {
          existing.insert(*p);  // hand-made: it already lets the source in; not ours to touch
        }
      }
      std::vector<std::pair<RegionKey, OwnedRule>> missing;
      for (auto& item : batch) {
        if (!ids.count(item.second.perm) && !existing.count(item.second.perm)) {
          missing.push_back(item);
        }
      }
      std::map<GroupRef, GroupUse> none;
      std::vector<std::pair<RegionKey, OwnedRule>> fits;
      {
        std::lock_guard lock(mu_);
        GroupUse planned;
        for (auto& item : missing) {
          Family f = FamilyOf(item.second.perm);
          if (UsedLocked(g, f, none, &item.first) + planned.of(f) < options_.rule_quota) {
            planned.of(f) += 1;
            fits.push_back(item);
          } else {
            reserved_.erase(item.first);
            spill.push_back(item);
          }
        }
      }
      if (!fits.empty()) {
        std::vector<IngressRule> again;
        BatchTags again_tags(options_.owner);
        for (const auto& [rk, rule] : fits) {
          again.push_back(ToRequest(g, rule.perm, rule.label));
          again_tags.Add(rule.label);
        }
        auto second = Call(Op::kAuthorize, g, deadline, [&] {
          return api_->AuthorizeIngress(g.region, g.group, again, again_tags.tags());
        });
        if (second.ok()) {
          for (const auto& r : *second) {
            if (auto p = PermissionOf(r)) {
              ids[*p] = r.rule_id;
              fresh.insert(*p);
            }
          }
        } else if (result.ok()) {
          result = second.status();
        }
      }
    } else {
      if (result.ok()) result = created.status();
      continue;
    }
    std::lock_guard lock(mu_);
    for (auto& [rk, rule] : batch) {
      auto id = ids.find(rule.perm);
      if (id == ids.end()) continue;
      rule.rule_id = id->second;
      rule.where = g;
      rules_[rk] = rule;
      reserved_.erase(rk);
      if (fresh.count(rule.perm)) use_[g].of(FamilyOf(rule.perm)) += 1;
    }
  }
  return result;
}

Status AwsSgEnforcer::RefreshRules(const GroupRef& g,
                                   const std::vector<std::pair<RegionKey, OwnedRule>>& rules,
                                   Time deadline) {
  std::vector<IngressRule> request;
  BatchTags tags(options_.owner);
  for (const auto& [rk, rule] : rules) {
    IngressRule r = ToRequest(g, rule.perm, rule.label);
    r.rule_id = rule.rule_id;
    request.push_back(std::move(r));
    tags.Add(rule.label);
  }
  Status st = Call(Op::kModify, g, deadline,
                   [&] { return api_->UpdateRules(g.region, g.group, request, tags.tags()); });
  std::lock_guard lock(mu_);
  if (IsGone(st)) {
    // Deleted behind our back: forget them; the controller's retry adds them anew.
    for (const auto& [rk, rule] : rules) rules_.erase(rk);
    return Status::Unavailable("rules in " + g.ToString() + " vanished; re-adding");
  }
  if (!st.ok()) return st;
  for (const auto& [rk, rule] : rules) rules_[rk] = rule;
  return Status::Ok();
}

Status AwsSgEnforcer::Apply(const ChangeSet& changes) {
  Time now = clock_.Now();
  Time deadline = now + options_.apply_budget;
  Status result;
  auto keep = [&result](const Status& st) {
    if (!st.ok() && result.ok()) result = st;
  };

  std::map<GroupRef, std::vector<std::string>> revokes;
  std::map<GroupRef, std::vector<std::pair<RegionKey, OwnedRule>>> adds, refreshes;
  std::vector<std::string> full;
  {
    std::lock_guard lock(mu_);
    DropStaleReservationsLocked(now);
    for (const auto& key : changes.remove) {
      for (auto it = rules_.lower_bound({key, ""}); it != rules_.end() && it->first.first == key;
           ++it) {
        revokes[it->second.where].push_back(it->second.rule_id);
      }
    }
    std::map<GroupRef, GroupUse> planned;
    for (const auto& hole : changes.upsert) {
      auto svc = services_.find(hole.key.service);
      if (svc == services_.end()) {
        keep(Status::NotFound("aws-sg: no service " + hole.key.service));
        continue;
      }
      Permission perm = PermissionFor(svc->second.service, hole.key.source);
      RuleLabel label{hole.key.service, hole.lease, hole.expires_at};
      std::set<std::string> regions;
      for (const auto& pool : svc->second.target.pools) {
        regions.insert(pool.region);
        RegionKey rk{hole.key, pool.region};
        auto it = rules_.find(rk);
        if (it != rules_.end()) {
          if (it->second.label != label) {
            OwnedRule updated = it->second;
            updated.label = label;
            refreshes[it->second.where].emplace_back(rk, updated);
          }
          continue;
        }
        auto g = PlaceLocked(rk, pool, hole.key.source.family(), planned);
        if (!g) {
          full.push_back(hole.key.service + " " + hole.key.source.ToString() + " in " +
                         pool.region);
          continue;
        }
        planned[*g].of(hole.key.source.family()) += 1;
        adds[*g].emplace_back(rk, OwnedRule{"", *g, perm, label});
      }
      // Regions dropped from the target: the rule there goes.
      for (auto it = rules_.lower_bound({hole.key, ""});
           it != rules_.end() && it->first.first == hole.key; ++it) {
        if (!regions.count(it->first.second))
          revokes[it->second.where].push_back(it->second.rule_id);
      }
    }
  }
  // Revokes first: they free room for the adds.
  for (auto& [g, ids] : revokes) keep(RevokeRules(g, ids, deadline));
  std::vector<std::pair<RegionKey, OwnedRule>> spill;
  for (auto& [g, list] : adds) keep(AddRules(g, list, deadline, spill));
  // Rules that did not fit where we thought: once more, into the next group with room.
  if (!spill.empty()) {
    std::map<GroupRef, std::vector<std::pair<RegionKey, OwnedRule>>> second;
    {
      std::lock_guard lock(mu_);
      std::map<GroupRef, GroupUse> planned;
      for (auto& [rk, rule] : spill) {
        auto svc = services_.find(rk.first.service);
        const RegionPool* pool = nullptr;
        if (svc != services_.end()) {
          for (const auto& p : svc->second.target.pools) {
            if (p.region == rk.second) pool = &p;
          }
        }
        auto g = pool ? PlaceLocked(rk, *pool, rk.first.source.family(), planned) : std::nullopt;
        if (!g) {
          full.push_back(rk.first.service + " " + rk.first.source.ToString() + " in " + rk.second);
          continue;
        }
        planned[*g].of(rk.first.source.family()) += 1;
        rule.where = *g;
        second[*g].emplace_back(rk, rule);
      }
    }
    std::vector<std::pair<RegionKey, OwnedRule>> unused;
    for (auto& [g, list] : second) keep(AddRules(g, list, deadline, unused));
    for (auto& [rk, rule] : unused) {
      full.push_back(rk.first.service + " " + rk.first.source.ToString() + " in " + rk.second);
    }
  }
  for (auto& [g, list] : refreshes) {
    size_t per_call = static_cast<size_t>(std::max(1, options_.max_rules_per_call));
    for (size_t i = 0; i < list.size(); i += per_call) {
      std::vector<std::pair<RegionKey, OwnedRule>> part(
          list.begin() + i, list.begin() + std::min(list.size(), i + per_call));
      keep(RefreshRules(g, part, deadline));
    }
  }
  if (!full.empty() && result.ok()) {
    std::string msg = "security groups are full (quota " + std::to_string(options_.rule_quota) +
                      "): no room for ";
    for (size_t i = 0; i < full.size() && i < 5; ++i) msg += (i ? ", " : "") + full[i];
    if (full.size() > 5) msg += " and " + std::to_string(full.size() - 5) + " more";
    result = Status::Conflict("capacity_exhausted", msg);
  }
  return result;
}

EnforcerHealth AwsSgEnforcer::Health() const {
  std::lock_guard lock(mu_);
  EnforcerHealth h;
  if (failing_since_ && clock_.Now() - *failing_since_ >= options_.degraded_after) {
    h.degraded = true;
    h.reason = "AWS calls failing since " + FormatTime(*failing_since_) + ": " + last_error_;
  }
  auto add = [&h](const char* name, const char* type, const char* help, int64_t v) {
    h.counters.push_back({name, type, help, v});
  };
  add("pinhole_aws_calls_total", "counter", "EC2 API calls made (each attempt)", calls_);
  add("pinhole_aws_throttled_total", "counter", "EC2 calls answered with RequestLimitExceeded",
      throttled_);
  add("pinhole_aws_retries_total", "counter", "EC2 calls retried after back-off", retries_);
  add("pinhole_aws_call_errors_total", "counter", "EC2 calls that failed after retries", errors_);
  add("pinhole_aws_capacity_refusals_total", "counter",
      "Leases refused because every security group of a pool was full", capacity_refusals_);
  add("pinhole_aws_rules", "gauge", "Security group rules owned by this Pinhole",
      static_cast<int64_t>(rules_.size()));
  return h;
}

}  // namespace

Result<std::unique_ptr<Enforcer>> NewAwsSgEnforcer(const AwsSgOptions& options,
                                                   std::unique_ptr<Ec2Api> api, const Clock* clock,
                                                   SleepFn sleep, uint64_t seed) {
  auto bad = [](const std::string& why) {
    return Status::Invalid("invalid_config", "aws: " + why);
  };
  if (!api) return bad("no EC2 client");
  if (!IsValidOwner(options.owner))
    return bad("owner must be 1-64 characters of A-Z a-z 0-9 . _ -");
  if (options.rule_quota < 1 || options.rule_quota > 1000) return bad("rule_quota must be 1..1000");
  if (options.bucket_size < 1 || options.bucket_refill_per_second <= 0 ||
      options.describe_bucket_size < 1 || options.describe_refill_per_second <= 0) {
    return bad("token buckets need a size >= 1 and a positive refill");
  }
  if (options.max_attempts < 1) return bad("max_attempts must be >= 1");
  if (options.max_rules_per_call < 1 || options.max_rules_per_call > 1000) {
    return bad("max_rules_per_call must be 1..1000");
  }
  static SystemClock system_clock;
  if (!sleep) sleep = [](Millis d) { std::this_thread::sleep_for(d); };
  if (seed == 0)
    seed = static_cast<uint64_t>(std::random_device{}()) << 32 ^ std::random_device{}();
  return std::unique_ptr<Enforcer>(new AwsSgEnforcer(
      options, std::move(api), clock ? *clock : system_clock, std::move(sleep), seed));
}

}  // namespace pinhole::aws
