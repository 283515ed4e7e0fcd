#include "control/housekeeper.h"

#include <spdlog/spdlog.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "core/lease_state.h"

namespace pinhole {
namespace {

AuditEntry SystemEvent(Time now, std::string action, const Lease& lease, nlohmann::json details) {
  AuditEntry a;
  a.time = now;
  a.actor = "system";
  a.action = std::move(action);
  a.object = "lease/" + std::to_string(lease.id);
  a.details_json = details.dump();
  return a;
}

}  // namespace

Housekeeper::Housekeeper(Store& store, const Clock& clock, HousekeeperOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Housekeeper::~Housekeeper() { Stop(); }

void Housekeeper::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      Status st = RunOnce();
      if (!st.ok()) spdlog::warn("housekeeping: {}", st.ToString());
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stop_; });
    }
  });
}

void Housekeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

HousekeeperStats Housekeeper::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status Housekeeper::RunOnce() {
  const Time now = clock_.Now();
  Status expired = ExpireWaiting(now);
  Status reminded = Remind(now);
  return expired.ok() ? reminded : expired;
}

Status Housekeeper::ExpireWaiting(Time now) {
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kPendingApproval, LeaseState::kApproved,
                                          LeaseState::kInvited};
  filter.limit = std::numeric_limits<int>::max();
  bool notified = false;
  for (const Lease& lease : store_.ListLeases(filter)) {
    if (lease.expires_at > now) continue;
    Lease ended = lease;
    if (!Transition(ended, LeaseState::kExpired, now, "system").ok()) continue;
    AuditEntry audit = SystemEvent(now, "lease.expire", lease,
                                   {{"owner", lease.owner}, {"was", ToString(lease.state)}});
    if (options_.ended) audit.outbox = options_.ended(ended, now);
    auto r = store_.UpdateLease(ended, lease.state, audit);
    if (!r.ok()) {
      if (r.status().reason() == "state_changed") continue;  // decided meanwhile
      return r.status();
    }
    notified = notified || !audit.outbox.empty();
    std::lock_guard lock(mu_);
    ++stats_.expired;
  }
  if (notified && options_.after_notice) options_.after_notice();
  return Status::Ok();
}

Status Housekeeper::Remind(Time now) {
  if (options_.reminder_before <= Seconds(0) || !options_.reminder) return Status::Ok();
  LeaseFilter filter;
  filter.states = std::vector<LeaseState>{LeaseState::kActive};
  filter.limit = std::numeric_limits<int>::max();
  bool notified = false;
  for (const Lease& lease : store_.ListLeases(filter)) {
    // A lease shorter than the lead time would be "reminded" at its start.
    const bool due = lease.expires_at > now && lease.expires_at - options_.reminder_before <= now;
    const bool long_enough =
        !lease.activated_at || lease.expires_at - *lease.activated_at > options_.reminder_before;
    if (lease.reminded || !due || !long_enough) continue;
    // Re-read, so that a renewal since the listing is not written back over.
    auto current = store_.GetLease(lease.id);
    if (!current.ok() || current->state != LeaseState::kActive || current->reminded ||
        current->expires_at != lease.expires_at) {
      continue;
    }
    Lease marked = *current;
    marked.reminded = true;
    AuditEntry audit =
        SystemEvent(now, "lease.remind", lease, {{"expires_at", FormatTime(lease.expires_at)}});
    audit.outbox = options_.reminder(lease, now);
    auto r = store_.UpdateLease(marked, LeaseState::kActive, audit);
    if (!r.ok()) {
      if (r.status().reason() == "state_changed") continue;
      return r.status();
    }
    notified = true;
    std::lock_guard lock(mu_);
    ++stats_.reminded;
  }
  if (notified && options_.after_notice) options_.after_notice();
  return Status::Ok();
}

}  // namespace pinhole
