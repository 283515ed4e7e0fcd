#include "enforce/fake/fake_enforcer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace pinhole {

FakeEnforcer::FakeEnforcer(std::string backend, const Clock* clock)
    : backend_(std::move(backend)), clock_(clock) {}

Status FakeEnforcer::ValidateService(const Service& service) const {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_target", "service \"" + service.name + "\": " + why);
  };
  if (service.backend != backend_) return bad("backend is not " + backend_);
  auto target = nlohmann::json::parse(service.target_json, nullptr, false);
  if (target.is_discarded() || !target.is_object()) return bad("target must be a JSON object");
  if (!target.empty()) return bad("unknown key \"" + target.begin().key() + "\"");
  bool ported = service.protocol == Protocol::kTcp || service.protocol == Protocol::kUdp;
  if (ported && !service.ports) return bad("tcp and udp services need ports");
  if (!ported && service.ports) return bad("icmp and all services take no ports");
  return Status::Ok();
}

Status FakeEnforcer::SyncServices(const std::vector<Service>& services) {
  std::vector<Service> mine;
  for (const auto& s : services) {
    if (s.backend != backend_) continue;
    RETURN_IF_ERROR(ValidateService(s));
    mine.push_back(s);
  }
  std::lock_guard lock(mu_);
  syncs_.push_back(services);
  std::set<std::string> names;
  for (const auto& s : mine) names.insert(s.name);
  std::erase_if(holes_, [&](const auto& h) { return !names.count(h.first.service); });
  services_ = std::move(mine);
  return Status::Ok();
}

Status FakeEnforcer::CheckCapacity(const std::vector<Hole>& holes) {
  std::lock_guard lock(mu_);
  capacity_checks_.push_back(holes);
  return capacity_status_;
}

EnforcerHealth FakeEnforcer::Health() const {
  std::lock_guard lock(mu_);
  return health_;
}

void FakeEnforcer::RefuseCapacity(Status status) {
  std::lock_guard lock(mu_);
  capacity_status_ = std::move(status);
}

void FakeEnforcer::SetHealth(EnforcerHealth health) {
  std::lock_guard lock(mu_);
  health_ = std::move(health);
}

std::vector<std::vector<Hole>> FakeEnforcer::capacity_checks() const {
  std::lock_guard lock(mu_);
  return capacity_checks_;
}

Status FakeEnforcer::Apply(const ChangeSet& changes) {
  std::lock_guard lock(mu_);
  applies_.push_back(changes);
  if (fail_countdown_ > 0 && --fail_countdown_ == 0) {
    failing_ = fail_sticky_;
    return fail_status_;
  }
  if (failing_) return fail_status_;
  auto known = [&](const std::string& name) {
    return std::any_of(services_.begin(), services_.end(),
                       [&](const Service& s) { return s.name == name; });
  };
  for (const auto& k : changes.remove) {
    if (!known(k.service))
      return Status::NotFound("no " + backend_ + " service \"" + k.service + "\"");
  }
  for (const auto& h : changes.upsert) {
    if (!known(h.key.service)) {
      return Status::NotFound("no " + backend_ + " service \"" + h.key.service + "\"");
    }
  }
  for (const auto& k : changes.remove) holes_.erase(k);
  for (const auto& h : changes.upsert) {
    if (clock_ && h.expires_at <= clock_->Now()) {
      holes_.erase(h.key);
    } else {
      holes_[h.key] = h.expires_at;
    }
  }
  return Status::Ok();
}

Result<HoleMap> FakeEnforcer::ListHoles() {
  std::lock_guard lock(mu_);
  ++list_calls_;
  if (list_failure_) return *list_failure_;
  ExpireLocked();
  return holes_;
}

void FakeEnforcer::ExpireLocked() const {
  if (!clock_) return;
  Time now = clock_->Now();
  std::erase_if(holes_, [&](const auto& h) { return h.second <= now; });
}

void FakeEnforcer::FailApply(int nth, Status status, bool sticky) {
  std::lock_guard lock(mu_);
  fail_countdown_ = std::max(0, nth);
  fail_status_ = std::move(status);
  fail_sticky_ = sticky;
  failing_ = false;
}

void FakeEnforcer::FailListHoles(Status status) {
  std::lock_guard lock(mu_);
  list_failure_ = std::move(status);
}

void FakeEnforcer::ClearFailures() {
  std::lock_guard lock(mu_);
  fail_countdown_ = 0;
  fail_sticky_ = false;
  failing_ = false;
  list_failure_.reset();
}

bool FakeEnforcer::Drift(const HoleKey& key) {
  std::lock_guard lock(mu_);
  return holes_.erase(key) > 0;
}

void FakeEnforcer::DriftAll() {
  std::lock_guard lock(mu_);
  holes_.clear();
}

void FakeEnforcer::Inject(const Hole& hole) {
  std::lock_guard lock(mu_);
  holes_[hole.key] = hole.expires_at;
}

HoleMap FakeEnforcer::holes() const {
  std::lock_guard lock(mu_);
  ExpireLocked();
  return holes_;
}

std::vector<ChangeSet> FakeEnforcer::applies() const {
  std::lock_guard lock(mu_);
  return applies_;
}

std::vector<std::vector<Service>> FakeEnforcer::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

int FakeEnforcer::list_calls() const {
  std::lock_guard lock(mu_);
  return list_calls_;
}

std::vector<Service> FakeEnforcer::services() const {
  std::lock_guard lock(mu_);
  return services_;
}

}  // namespace pinhole
