// FakeEnforcer: an in-memory enforcement point for controller tests.
//
// Holds holes in a map, records every call, and can be told to fail the Nth
// Apply (or every Apply from then on), to fail ListHoles, and to "drift":
// lose holes behind the controller's back, as a flushed nftables set or a
// hand-deleted AWS rule would. With a clock it also lets holes expire on their
// own, like nftables element timeouts.
//
// Thread-safety: all methods may be called from any thread (a test inspects
// it while the controller's worker uses it).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "enforce/enforcer.h"

namespace pinhole {

class FakeEnforcer final : public Enforcer {
 public:
  // `backend` is the name services use to pick this enforcer. A non-null
  // `clock` (which must outlive this) makes holes vanish at their expiry.
  explicit FakeEnforcer(std::string backend = "fake", const Clock* clock = nullptr);

  std::string_view backend() const override { return backend_; }
  // Accepts services of this backend with target `{}` (any JSON object with
  // no keys); tcp/udp need ports, icmp/all take none.
  Status ValidateService(const Service& service) const override;
  Status SyncServices(const std::vector<Service>& services) override;
  Status Apply(const ChangeSet& changes) override;
  Result<HoleMap> ListHoles() override;
  // Refuses with the status set by RefuseCapacity (OK by default); records the holes asked about.
  Status CheckCapacity(const std::vector<Hole>& holes) override;
  EnforcerHealth Health() const override;

  // --- Test controls ---
  // The nth Apply from now (1 = the next one) fails with `status` and changes
  // nothing. `sticky` makes every later Apply fail too, until ClearFailures.
  void FailApply(int nth, Status status = Status::Unavailable("injected failure"),
                 bool sticky = false);
  void FailListHoles(Status status = Status::Unavailable("injected failure"));
  void ClearFailures();
  // Drops one hole (returns whether it was there), or all of them.
  bool Drift(const HoleKey& key);
  void DriftAll();
  // Adds a hole nobody asked for (an admin's hand-made rule).
  void Inject(const Hole& hole);
  // CheckCapacity answers `status` from now on (OK to accept again).
  void RefuseCapacity(Status status);
  // Health() reports this from now on.
  void SetHealth(EnforcerHealth health);
  std::vector<std::vector<Hole>> capacity_checks() const;

  // --- Observations ---
  HoleMap holes() const;
  std::vector<ChangeSet> applies() const;  // every Apply call, failed ones included
  std::vector<std::vector<Service>> syncs() const;
  int list_calls() const;
  std::vector<Service> services() const;

 private:
  void ExpireLocked() const;

  const std::string backend_;
  const Clock* clock_;
  mutable std::mutex mu_;
  mutable HoleMap holes_;
  std::vector<Service> services_;
  std::vector<ChangeSet> applies_;
  std::vector<std::vector<Service>> syncs_;
  int list_calls_ = 0;
  int fail_countdown_ = 0;  // 0 = no failure scheduled
  bool fail_sticky_ = false;
  bool failing_ = false;
  Status fail_status_;
  std::optional<Status> list_failure_;
  Status capacity_status_;
  std::vector<std::vector<Hole>> capacity_checks_;
  EnforcerHealth health_;
};

}  // namespace pinhole
