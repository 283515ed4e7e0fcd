// The housekeeper: the slow, periodic chores around leases that are not
// enforcement. It expires requests nobody decided, approvals nobody signed in
// for and invitations nobody opened (their expires_at is the deadline), and
// reminds owners before an active lease expires. Each change commits with its
// audit event and the messages about it (DESIGN.md invariant 8).
//
// Thread-safety: Start/Stop from one thread; RunOnce is for tests and is not
// to be called while the thread runs.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"
#include "store/store.h"

namespace pinhole {

using LeaseNotice = std::function<std::vector<OutboxMessage>(const Lease&, Time)>;

struct HousekeeperOptions {
  Millis interval = std::chrono::seconds(5);
  Seconds reminder_before{0};  // 0: no reminders
  LeaseNotice reminder;        // the reminder messages (none if empty)
  LeaseNotice ended;           // the "your request/invitation expired" messages
  std::function<void()> after_notice;  // after a commit that added messages
};

struct HousekeeperStats {
  int64_t expired = 0;   // requests, approvals and invitations that ran out
  int64_t reminded = 0;
};

class Housekeeper {
 public:
  Housekeeper(Store& store, const Clock& clock, HousekeeperOptions options);
  ~Housekeeper();

  void Start();
  void Stop();
  // One pass at the clock's now. Errors only for a storage failure; a lease
  // that changed meanwhile is skipped.
  Status RunOnce();
  HousekeeperStats Stats() const;

 private:
  Status ExpireWaiting(Time now);
  Status Remind(Time now);

  Store& store_;
  const Clock& clock_;
  HousekeeperOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
  HousekeeperStats stats_;
};

}  // namespace pinhole
