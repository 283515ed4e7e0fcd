#include "control/controller.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/lease_state.h"

namespace pinhole {
namespace {

// Kernel listings report expiry in whole seconds; differences below this are
// not drift.
constexpr Millis kExpiryTolerance{2500};

// Longest a batch is held back to gather more changes for a rate-limited backend.
constexpr Millis kMaxGather{1000};

AuditEntry SystemAudit(Time now, std::string action, std::string object, nlohmann::json details) {
  AuditEntry a;
  a.time = now;
  a.actor = "system";
  a.action = std::move(action);
  a.object = std::move(object);
  a.details_json = details.dump();
  return a;
}

}  // namespace

Time Controller::HoleState::Expiry() const {
  Time latest{};
  for (const auto& [id, t] : leases) latest = std::max(latest, t);
  return latest;
}

Id Controller::HoleState::LatestLease() const {
  Id id = 0;
  Time latest{};
  for (const auto& [lease, t] : leases) {
    if (id == 0 || t >= latest) {
      id = lease;
      latest = t;
    }
  }
  return id;
}

Controller::Controller(Store& store, const Clock& clock,
                       std::map<std::string, std::unique_ptr<Enforcer>> enforcers,
                       ControllerOptions options)
    : store_(store), clock_(clock), enforcers_(std::move(enforcers)), options_(options) {}

Controller::~Controller() { Stop(); }

Status Controller::Start() {
  {
    std::lock_guard lock(state_mu_);
    RETURN_IF_ERROR(LoadServices());
    RETURN_IF_ERROR(LoadLeases());
    std::set<std::string> failed;
    Status st = ReconcileAll(/*record_drift=*/true, &failed);
    for (const auto& name : failed) {
      if (!enforcers_.at(name)->remote()) return st;
    }
    if (!st.ok()) {
      // Only remote backends failed: serve anyway; they are retried (pending
      // holes, periodic resync) and show as degraded if it lasts.
      spdlog::warn("controller: starting while {} backend(s) cannot be reached: {}", failed.size(),
                   st.ToString());
      for (const auto& [key, state] : holes_) {
        auto svc = services_.find(key.service);
        if (svc != services_.end() && failed.count(svc->second.backend)) {
          pending_.insert(key);
          hole_errors_[key] = st.message();
          transient_errors_.insert(key);
        }
      }
      retry_at_ = clock_.Now() + options_.retry_interval;
    }
    next_resync_ = clock_.Now() + options_.resync_interval;
    stats_.ready = true;
  }
  // Start-up read the whole table and every lease once; give the transient
  // memory of that back to the system instead of keeping it as heap.
  malloc_trim(0);
  ready_ = true;
  worker_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Controller::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Anyone still waiting is told we are gone rather than left hanging.
  std::lock_guard lock(queue_mu_);
  for (auto& w : queue_) w.done.set_value(Status::Unavailable("controller stopped"));
  queue_.clear();
}

bool Controller::ready() const { return ready_; }

Status Controller::LeaseActivated(const Lease& lease) { return Submit(WorkKind::kActivate, lease); }
Status Controller::LeaseEnded(const Lease& lease) { return Submit(WorkKind::kEnd, lease); }
Status Controller::LeaseRenewed(const Lease& lease) { return Submit(WorkKind::kRenew, lease); }
Status Controller::ServicesChanged() { return Submit(WorkKind::kServices, Lease{}); }
Status Controller::Resync() { return Submit(WorkKind::kResync, Lease{}); }

Status Controller::Submit(WorkKind kind, const Lease& lease) {
  std::future<Status> done;
  {
    std::lock_guard lock(queue_mu_);
    if (stop_ || !worker_.joinable()) return Status::Unavailable("controller is not running");
    queue_.push_back(Work{kind, lease, {}});
    done = queue_.back().done.get_future();
  }
  wake_.notify_one();
  if (done.wait_for(options_.wait_timeout) != std::future_status::ready) {
    return Status::Unavailable("enforcement is taking longer than expected; it will be retried");
  }
  return done.get();
}

void Controller::Run() {
  while (true) {
    std::vector<Work> batch;
    {
      std::unique_lock lock(queue_mu_);
      Time wake_at;
      {
        std::lock_guard state(state_mu_);
        wake_at = next_resync_;
        if (auto next = NextExpiry()) wake_at = std::min(wake_at, *next);
        if (retry_at_) wake_at = std::min(wake_at, *retry_at_);
      }
      auto sleep = wake_at - clock_.Now();
      if (queue_.empty() && !stop_ && sleep > Millis(0)) {
        // Wall-clock deadline: the expiry times are wall-clock times.
        wake_.wait_until(lock, std::chrono::system_clock::now() + sleep,
                         [this] { return stop_ || !queue_.empty(); });
      }
      if (stop_) return;
      // A rate-limited backend would make the first call of this batch wait
      // anyway: wait here instead, so that what arrives meanwhile joins it.
      if (!queue_.empty()) {
        Millis gather{0};
        for (auto& [name, e] : enforcers_) gather = std::max(gather, e->ApplyDelay());
        gather = std::min(gather, kMaxGather);
        if (gather > Millis(0)) {
          wake_.wait_until(lock, std::chrono::system_clock::now() + gather,
                           [this] { return stop_; });
          if (stop_) return;
        }
      }
      for (auto& w : queue_) batch.push_back(std::move(w));
      queue_.clear();
    }

    Status result;
    {
      std::lock_guard state(state_mu_);
      Time now = clock_.Now();
      std::set<HoleKey> touched;
      bool services_changed = false, resync = false;
      for (auto& w : batch) {
        switch (w.kind) {
          case WorkKind::kActivate:
          case WorkKind::kRenew:
            UntrackLease(w.lease.id, touched);
            if (w.lease.state == LeaseState::kActive) TrackLease(w.lease, touched);
            break;
          case WorkKind::kEnd:
            UntrackLease(w.lease.id, touched);
            break;
          case WorkKind::kServices:
            services_changed = true;
            break;
          case WorkKind::kResync:
            resync = true;
            break;
        }
      }
      Status expire = ExpireDue(now, touched);
      if (!expire.ok()) spdlog::warn("controller: expiring leases failed: {}", expire.ToString());
      // Collect holes left pending by an earlier failed apply.
      if (retry_at_ && *retry_at_ <= now) {
        touched.insert(pending_.begin(), pending_.end());
        retry_at_.reset();
      }
      // Lease changes are applied even when services changed in the same
      // batch; the re-sync afterwards covers what the service change moved.
      if (services_changed) result = LoadServices();
      Status applied = ApplyTouched(touched);
      if (result.ok()) result = applied;
      if (services_changed) {
        Status synced = ReconcileAll(/*record_drift=*/false);
        if (result.ok()) result = synced;
      }
      if (resync || now >= next_resync_) {
        Status st = ReconcileAll(/*record_drift=*/true);
        if (resync && result.ok()) result = st;
        next_resync_ = now + options_.resync_interval;
        malloc_trim(0);  // reading a large table is a transient peak
      }
      if (!pending_.empty() && !retry_at_) retry_at_ = now + options_.retry_interval;
    }
    for (auto& w : batch) w.done.set_value(result);
  }
}

Status Controller::LoadServices() {
  std::map<std::string, Service> services;
  for (auto& s : store_.ListServices()) services[s.name] = s;
  Status result;
  for (auto& [backend, enforcer] : enforcers_) {
    std::vector<Service> mine;
    for (auto& [name, s] : services) {
      if (s.backend == backend) mine.push_back(s);
    }
    Status st = enforcer->SyncServices(mine);
    if (!st.ok()) {
      spdlog::warn("controller: syncing services on {} failed: {}", backend, st.ToString());
      if (result.ok()) result = st;
    }
  }
  services_ = std::move(services);
  return result;
}

Status Controller::LoadLeases() {
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kActive};
  filter.limit = std::numeric_limits<int>::max();
  active_.clear();
  expiry_queue_.clear();
  holes_.clear();
  std::set<HoleKey> touched;
  for (auto& lease : store_.ListLeases(filter)) TrackLease(lease, touched);
  // Leases that ended while pinholed was down are expired now, before serving.
  return ExpireDue(clock_.Now(), touched);
}

void Controller::TrackLease(const Lease& lease, std::set<HoleKey>& touched) {
  active_[lease.id] = TrackedLease{lease.expires_at, lease.source, lease.services};
  expiry_queue_.emplace(lease.expires_at, lease.id);
  for (const auto& service : lease.services) {
    HoleKey key{service, lease.source};
    holes_[key].leases[lease.id] = lease.expires_at;
    touched.insert(key);
  }
}

void Controller::UntrackLease(Id lease_id, std::set<HoleKey>& touched) {
  auto it = active_.find(lease_id);
  if (it == active_.end()) return;
  for (const auto& service : it->second.services) {
    HoleKey key{service, it->second.source};
    auto hole = holes_.find(key);
    if (hole == holes_.end()) continue;
    hole->second.leases.erase(lease_id);
    if (hole->second.leases.empty()) holes_.erase(hole);
    touched.insert(key);
  }
  // The expiry_queue_ entry goes stale; ExpireDue skips entries whose lease is gone.
  active_.erase(it);
}

std::optional<Time> Controller::NextExpiry() const {
  if (expiry_queue_.empty()) return std::nullopt;
  return expiry_queue_.begin()->first;
}

Status Controller::ExpireDue(Time now, std::set<HoleKey>& touched) {
  std::vector<Store::LeaseUpdate> updates;
  while (!expiry_queue_.empty() && expiry_queue_.begin()->first <= now) {
    auto [when, id] = *expiry_queue_.begin();
    expiry_queue_.erase(expiry_queue_.begin());
    auto it = active_.find(id);
    if (it == active_.end() || it->second.expires_at != when) continue;  // stale entry
    auto stored = store_.GetLease(id);
    if (!stored.ok() || stored->state != LeaseState::kActive) {
      UntrackLease(id, touched);  // ended by someone else meanwhile
      continue;
    }
    Lease ended = std::move(stored).value();
    if (!Transition(ended, LeaseState::kExpired, now, "system").ok()) continue;
    AuditEntry audit = SystemAudit(now, "lease.expire", "lease/" + std::to_string(id),
                                   {{"owner", ended.owner},
                                    {"source", ended.source.ToString()},
                                    {"services", ended.services}});
    if (options_.expiry_notice) audit.outbox = options_.expiry_notice(ended, now);
    updates.push_back({ended, LeaseState::kActive, std::move(audit)});
    UntrackLease(id, touched);
  }
  if (updates.empty()) return Status::Ok();
  stats_.expired_leases += static_cast<int64_t>(updates.size());
  Status st = store_.UpdateLeases(updates);
  if (options_.after_notice) options_.after_notice();
  if (st.ok()) return st;
  // One of them changed under us (say, terminated at the same moment): write
  // the others one by one; the changed ones are already ended.
  Status first_error;
  for (auto& u : updates) {
    auto r = store_.UpdateLease(u.lease, u.expected, u.audit);
    if (!r.ok() && r.status().reason() != "state_changed" && first_error.ok()) {
      first_error = r.status();
    }
  }
  return first_error;
}

Status Controller::ApplyTouched(const std::set<HoleKey>& touched) {
  if (touched.empty()) return Status::Ok();
  std::map<std::string, ChangeSet> changes;  // by backend
  std::map<std::string, std::vector<HoleKey>> keys_by_backend;
  Time now = clock_.Now();
  for (const auto& key : touched) {
    auto svc = services_.find(key.service);
    if (svc == services_.end() || !enforcers_.count(svc->second.backend)) {
      hole_errors_[key] = svc == services_.end() ? "unknown service" : "backend not available";
      transient_errors_.erase(key);
      continue;
    }
    auto& cs = changes[svc->second.backend];
    keys_by_backend[svc->second.backend].push_back(key);
    auto hole = holes_.find(key);
    if (hole != holes_.end() && hole->second.Expiry() > now) {
      cs.upsert.push_back(Hole{key, hole->second.Expiry(), hole->second.LatestLease()});
    } else {
      cs.remove.push_back(key);
    }
  }
  Status result;
  for (auto& [backend, cs] : changes) {
    Status st = enforcers_.at(backend)->Apply(cs);
    RecordApply(keys_by_backend[backend], st);
    if (!st.ok()) {
      spdlog::warn("controller: apply on {} failed ({} holes), will retry: {}", backend,
                   keys_by_backend[backend].size(), st.ToString());
      if (result.ok()) result = st;
    }
  }
  return result;
}

void Controller::RecordApply(const std::vector<HoleKey>& keys, const Status& st) {
  ++stats_.applies;
  if (!st.ok()) ++stats_.apply_errors;
  bool transient = st.code() == Code::kUnavailable || st.code() == Code::kResourceExhausted;
  for (const auto& key : keys) {
    if (!st.ok()) {
      pending_.insert(key);  // retried after retry_interval
      hole_errors_[key] = st.message();
      if (transient) {
        transient_errors_.insert(key);
      } else {
        transient_errors_.erase(key);
      }
      continue;
    }
    pending_.erase(key);
    transient_errors_.erase(key);
    if (holes_.count(key)) {
      hole_errors_[key].clear();
    } else {
      hole_errors_.erase(key);
    }
  }
}

Status Controller::ReconcileAll(bool record_drift, std::set<std::string>* failed) {
  Time now = clock_.Now();
  Status result;
  for (auto& [backend, enforcer] : enforcers_) {
    // A hole about to expire is left to the kernel and the expiry timer:
    // re-adding it would keep it open past its lease.
    HoleMap desired;
    for (const auto& [key, state] : holes_) {
      auto svc = services_.find(key.service);
      if (svc == services_.end() || svc->second.backend != backend) continue;
      Time expiry = state.Expiry();
      if (expiry > now + kExpiryTolerance) desired[key] = expiry;
    }
    auto actual = enforcer->ListHoles();
    if (!actual.ok()) {
      spdlog::warn("controller: reading {} failed: {}", backend, actual.status().ToString());
      if (result.ok()) result = actual.status();
      if (failed) failed->insert(backend);
      continue;
    }
    // Holes near their end are neither missing nor extra.
    HoleMap present;
    for (const auto& [key, expiry] : *actual) {
      auto want = holes_.find(key);
      bool ending_soon = want != holes_.end() && want->second.Expiry() <= now + kExpiryTolerance;
      if (!ending_soon) present[key] = expiry;
    }
    HoleDiff diff = Diff(desired, present, kExpiryTolerance);
    if (diff.empty()) continue;
    for (auto& h : diff.upsert) {
      if (auto it = holes_.find(h.key); it != holes_.end()) h.lease = it->second.LatestLease();
    }
    ChangeSet cs{diff.upsert, diff.remove};
    Status st = enforcer->Apply(cs);
    std::vector<HoleKey> restored;
    for (const auto& h : diff.upsert) restored.push_back(h.key);
    RecordApply(restored, st);
    if (!st.ok()) {
      spdlog::warn("controller: repairing {} failed: {}", backend, st.ToString());
      if (result.ok()) result = st;
      if (failed) failed->insert(backend);
      continue;
    }
    if (record_drift) {
      ++stats_.drift_repairs;
      nlohmann::json added = nlohmann::json::array(), removed = nlohmann::json::array();
      for (const auto& h : diff.upsert)
        added.push_back(h.key.service + " " + h.key.source.ToString());
      for (const auto& k : diff.remove) removed.push_back(k.service + " " + k.source.ToString());
      spdlog::warn("controller: {} differed from the store: {} holes restored, {} removed", backend,
                   added.size(), removed.size());
      Status audit = store_.AppendAudit(SystemAudit(
          now, "enforcement.drift_repaired", "backend/" + backend,
          {{"restored", added.size() > 50 ? nlohmann::json(added.size()) : added},
           {"removed", removed.size() > 50 ? nlohmann::json(removed.size()) : removed}}));
      if (!audit.ok()) spdlog::warn("controller: audit append failed: {}", audit.ToString());
    }
  }
  return result;
}

std::vector<RuleStatus> Controller::RulesFor(const Lease& lease) const {
  std::lock_guard lock(state_mu_);
  std::vector<RuleStatus> rules;
  bool tracked = active_.count(lease.id) > 0;
  for (const auto& service : lease.services) {
    RuleStatus r{service, "", "removed", ""};
    auto svc = services_.find(service);
    if (svc != services_.end()) r.backend = svc->second.backend;
    if (tracked) {
      HoleKey key{service, lease.source};
      auto err = hole_errors_.find(key);
      if (svc == services_.end()) {
        r.status = "error";
        r.error = "service no longer exists";
      } else if (err != hole_errors_.end() && !err->second.empty()) {
        // A transient failure (throttling, an outage) is retried: pending,
        // with the error that holds it up.
        r.status = pending_.count(key) && transient_errors_.count(key) ? "pending" : "error";
        r.error = err->second;
      } else if (pending_.count(key)) {
        r.status = "pending";
      } else {
        r.status = "applied";
      }
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

Status Controller::CheckCapacity(const std::vector<Service>& services, const Cidr& source,
                                 Time expires_at, Id lease) {
  std::map<std::string, std::vector<Hole>> by_backend;
  for (const auto& s : services) {
    by_backend[s.backend].push_back(Hole{HoleKey{s.name, source}, expires_at, lease});
  }
  for (const auto& [backend, holes] : by_backend) {
    auto it = enforcers_.find(backend);
    if (it == enforcers_.end()) continue;
    RETURN_IF_ERROR(it->second->CheckCapacity(holes));
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, EnforcerHealth>> Controller::Health() const {
  std::vector<std::pair<std::string, EnforcerHealth>> out;
  for (const auto& [name, e] : enforcers_) out.emplace_back(name, e->Health());
  return out;
}

ControllerStats Controller::Stats() const {
  std::lock_guard lock(state_mu_);
  ControllerStats s = stats_;
  s.holes = static_cast<int64_t>(holes_.size());
  s.active_leases = static_cast<int64_t>(active_.size());
  s.ready = ready_;
  return s;
}

std::string Controller::BackendOf(const std::string& service) const {
  std::lock_guard lock(state_mu_);
  auto it = services_.find(service);
  return it == services_.end() ? "" : it->second.backend;
}

const Enforcer* Controller::FindEnforcer(std::string_view backend) const {
  for (const auto& [name, e] : enforcers_) {
    if (name == backend) return e.get();
  }
  return nullptr;
}

std::vector<std::string> Controller::Backends() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : enforcers_) out.push_back(name);
  return out;
}

}  // namespace pinhole
