// The controller: makes every enforcement point match the store.
//
// The API commits a change to the store first, then tells the controller
// (LeaseActivated / LeaseEnded / LeaseRenewed / ServicesChanged) and waits
// until the enforcement points hold the new state, so that "active" in a
// reply means the rules are applied. The controller owns one worker thread:
// it drains every queued notification at once and sends the combined change
// as one Apply per backend (batching under load), expires leases on a timer
// set to the next expiry (no polling), and periodically re-reads the
// enforcement points to repair drift, recording it in the audit log.
//
// Thread-safety: public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/holes.h"
#include "enforce/enforcer.h"
#include "store/store.h"

namespace pinhole {

struct ControllerOptions {
  Millis resync_interval = std::chrono::seconds(30);
  Millis retry_interval = std::chrono::seconds(2);  // after a failed apply
  Millis wait_timeout = std::chrono::seconds(10);   // how long API callers wait for an apply
  // The messages telling an owner their lease expired, committed with the
  // expiry; and a call after such a commit (to wake the sender). Optional.
  std::function<std::vector<OutboxMessage>(const Lease&, Time)> expiry_notice;
  std::function<void()> after_notice;
};

// What the controller observed about one (lease, service) rule.
struct RuleStatus {
  std::string service;
  std::string backend;
  std::string status;  // "applied" | "pending" | "removed" | "error"
  std::string error;
};

struct ControllerStats {
  int64_t applies = 0;
  int64_t apply_errors = 0;
  int64_t holes = 0;
  int64_t active_leases = 0;
  int64_t expired_leases = 0;
  int64_t drift_repairs = 0;
  bool ready = false;
};

class Controller {
 public:
  // `enforcers` maps backend name -> enforcer. Services whose backend has no
  // enforcer get rule status "error".
  Controller(Store& store, const Clock& clock,
             std::map<std::string, std::unique_ptr<Enforcer>> enforcers,
             ControllerOptions options = {});
  ~Controller();

  // Reconciles every enforcement point with the store (expiring leases that
  // ended while we were down), then starts the worker. Ready afterwards.
  // Errors if an enforcement point cannot be brought in line.
  Status Start();
  void Stop();
  bool ready() const;

  // Notifications after a committed change; each waits until applied.
  Status LeaseActivated(const Lease& lease);
  Status LeaseEnded(const Lease& lease);
  Status LeaseRenewed(const Lease& lease);
  // Services were created/changed/deleted: re-sync structures and holes.
  Status ServicesChanged();
  // Runs a drift check now (as the periodic resync does) and waits for it.
  Status Resync();

  // Before a lease is committed: asks each backend whether the holes of
  // `services` for `source` fit (quotas). Conflict "capacity_exhausted" when
  // not; nothing is applied either way. Does not wait for the worker.
  Status CheckCapacity(const std::vector<Service>& services, const Cidr& source, Time expires_at,
                       Id lease = 0);
  // Health of every backend, by name; does not wait for the worker.
  std::vector<std::pair<std::string, EnforcerHealth>> Health() const;

  std::vector<RuleStatus> RulesFor(const Lease& lease) const;
  ControllerStats Stats() const;
  // Which backend a service uses (after the last sync), or "".
  std::string BackendOf(const std::string& service) const;
  const Enforcer* FindEnforcer(std::string_view backend) const;
  // Names of the backends this controller enforces, sorted.
  std::vector<std::string> Backends() const;

 private:
  enum class WorkKind { kActivate, kEnd, kRenew, kServices, kResync };
  struct Work {
    WorkKind kind;
    Lease lease;
    std::promise<Status> done;
  };
  struct HoleState {
    std::map<Id, Time> leases;  // lease id -> expiry; the hole lives until the last
    Time Expiry() const;
    Id LatestLease() const;  // the lease with that expiry
  };

  Status Submit(WorkKind kind, const Lease& lease);
  void Run();
  // All of the following run on the worker thread (or in Start before it).
  Status LoadServices();
  Status LoadLeases();
  Status ExpireDue(Time now, std::set<HoleKey>& touched);
  void TrackLease(const Lease& lease, std::set<HoleKey>& touched);
  void UntrackLease(Id lease_id, std::set<HoleKey>& touched);
  Status ApplyTouched(const std::set<HoleKey>& touched);
  // Counts an Apply and records its outcome for `keys`: applied, or pending
  // with the error until the retry.
  void RecordApply(const std::vector<HoleKey>& keys, const Status& st);
  // `failed` (optional) collects the backends that could not be reconciled.
  Status ReconcileAll(bool record_drift, std::set<std::string>* failed = nullptr);
  std::optional<Time> NextExpiry() const;

  Store& store_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Enforcer>> enforcers_;
  ControllerOptions options_;

  mutable std::mutex queue_mu_;  // guards queue_ and stop_
  std::condition_variable wake_;
  std::deque<Work> queue_;
  bool stop_ = false;
  std::atomic<bool> ready_ = false;
  std::thread worker_;

  // Everything below is guarded by state_mu_, held by the worker while it
  // computes and applies a batch.
  mutable std::mutex state_mu_;

  std::map<std::string, Service> services_;  // by name
  // What the controller needs of an active lease; the rest stays in the store
  // (at 100,000 leases, full copies would dominate pinholed's memory).
  struct TrackedLease {
    Time expires_at;
    Cidr source;
    std::vector<std::string> services;
  };
  std::map<Id, TrackedLease> active_;           // active leases by id
  std::multimap<Time, Id> expiry_queue_;        // expiry -> lease id
  std::map<HoleKey, HoleState> holes_;          // desired holes
  std::map<HoleKey, std::string> hole_errors_;  // last apply error, "" when applied
  std::set<HoleKey> transient_errors_;          // errors that a retry may cure (shown as pending)
  std::set<HoleKey> pending_;                   // holes not yet in line with desired
  Time next_resync_{};
  std::optional<Time> retry_at_;
  ControllerStats stats_;
};

}  // namespace pinhole
