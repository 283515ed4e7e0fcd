// Enforcer: one kind of enforcement point (nftables on this host, AWS
// Security Groups, ...). Requests are typed (these holes, this service, this
// expiry), never free-form rule text, so that the privileged part can later
// move into a separate process.
//
// Every operation is idempotent (DESIGN.md invariant 3): adding a hole that
// exists updates its expiry; removing a missing hole succeeds. An Enforcer
// instance is used from one thread at a time (the controller's).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/holes.h"
#include "core/model.h"
#include "core/result.h"

namespace pinhole {

// How an enforcement point is doing, for /readyz and /metrics.
struct EnforcerHealth {
  // True when calls to the enforcement point have failed for longer than the
  // backend tolerates; `reason` then says why (never a secret).
  bool degraded = false;
  std::string reason;
  struct Counter {
    std::string name;  // Prometheus metric name, e.g. "pinhole_aws_calls_total"
    std::string type;  // "counter" | "gauge"
    std::string help;
    int64_t value = 0;
  };
  std::vector<Counter> counters;
};

struct ChangeSet {
  std::vector<Hole> upsert;     // add, or set the expiry of, these holes
  std::vector<HoleKey> remove;  // remove these holes
  bool empty() const { return upsert.empty() && remove.empty(); }
};

class Enforcer {
 public:
  virtual ~Enforcer() = default;

  virtual std::string_view backend() const = 0;

  // Checks a service's backend-specific target (Service::target_json) and
  // ports; InvalidArgument with reason "invalid_target" and a clear message.
  virtual Status ValidateService(const Service& service) const = 0;

  // Makes the enforcement point protect exactly `services` (those with this
  // backend): creates what is missing, removes the structures of services no
  // longer listed (and their holes). Keeps holes of services still listed.
  virtual Status SyncServices(const std::vector<Service>& services) = 0;

  // Applies all changes at once where the backend allows (one nftables
  // transaction). Holes name services by name; unknown service -> NotFound.
  virtual Status Apply(const ChangeSet& changes) = 0;

  // The holes that exist now, with the expiry the enforcement point holds.
  virtual Result<HoleMap> ListHoles() = 0;

  // Called before a lease is committed, from any thread and concurrently with
  // the calls above: can `holes` be added? Conflict "capacity_exhausted"
  // (naming what is full) refuses the lease before anything is applied. A
  // backend may reserve room for the holes it accepted. Default: always room.
  virtual Status CheckCapacity(const std::vector<Hole>& holes) { return Status::Ok(); }

  // Thread-safe snapshot of the backend's health. Default: healthy, no metrics.
  virtual EnforcerHealth Health() const { return {}; }

  // How long an Apply started now would wait before its first call (a rate
  // limit). The controller gathers queued changes for that long first (up to
  // a cap), so that they travel in the same call. Called from the
  // controller's thread. Default: no wait.
  virtual Millis ApplyDelay() { return Millis(0); }

  // A remote enforcement point (a cloud API) may be unreachable for a while:
  // the controller then starts without it, keeps retrying, and reports it
  // through Health() instead of refusing to start. Local ones (nftables)
  // failing at start-up stop pinholed.
  virtual bool remote() const { return false; }
};

}  // namespace pinhole
