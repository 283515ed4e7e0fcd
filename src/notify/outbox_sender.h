// OutboxSender: the thread that delivers the outbox (DESIGN.md invariant 8).
//
// It loops: take the due pending messages from the store (oldest first),
// hand each to the transport for its channel, and record the outcome:
//   delivered          -> state "sent", sent_at
//   Unavailable        -> attempts + 1, last_error, next_attempt_at = now +
//                         a jittered exponential back-off (never later than
//                         the give-up time), state stays "pending"
//   other error, or older than give_up_after -> state "failed"
// Delivery is at least once: a crash between a send and its UpdateOutbox
// sends the message again after a restart. Receivers can deduplicate by the
// message id (Message-ID header, X-Pinhole-Delivery header).
//
// Only one sender may run against a store at a time (DueOutbox does not
// claim messages); with several replicas, run it where the controller runs.
//
// The thread wakes on Kick() (call it after committing messages), after the
// earliest retry it scheduled, and at least every poll_interval. No exception
// escapes it: a transport or store that throws counts as a failed attempt.
//
// Thread-safe: Start, Stop, Kick and Stats may be called from any thread.
// RunOnce is for tests and for a sender that is not started.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/clock.h"
#include "notify/transport.h"
#include "store/store.h"

namespace pinhole {

struct OutboxSenderOptions {
  Seconds retry_base{5};
  Seconds retry_max{600};
  Seconds give_up_after{3 * 86400};
  Millis poll_interval{5000};
  int batch_size = 50;
  // A number in [0, 1) for the back-off jitter; default: a seeded PRNG.
  std::function<double()> random;
};

struct OutboxStats {
  int64_t sent = 0;      // delivered since start
  int64_t failed = 0;    // given up since start
  int64_t retries = 0;   // attempts that will be retried, since start
  int64_t pending = -1;  // pending messages in the store now; -1 if unknown
};

// The wait after the `attempt`-th failed attempt (1-based): base * 2^(attempt-1)
// capped at `max`, then scaled into [1/2, 1] of that by `unit_random` in
// [0, 1) so that many messages failing together do not retry in lockstep.
Millis BackoffDelay(int attempt, Seconds base, Seconds max, double unit_random);

class OutboxSender {
 public:
  // `transports` maps a channel ("email", "webhook") to its transport; a
  // message for a channel without one is retried (and eventually fails), so
  // that turning email off does not silently drop what was promised.
  // `store` and `clock` must outlive the sender.
  OutboxSender(Store& store, const Clock& clock,
               std::map<std::string, std::unique_ptr<Transport>> transports,
               OutboxSenderOptions options);
  ~OutboxSender();  // Stop()s

  OutboxSender(const OutboxSender&) = delete;
  OutboxSender& operator=(const OutboxSender&) = delete;

  void Start();
  // Wakes the thread and joins it; a send in progress finishes and is
  // recorded first. Idempotent.
  void Stop();
  // Asks for a pass now (messages were committed).
  void Kick();

  // One pass over the due messages (repeating while full batches come
  // back). Returns how many messages it attempted, or the store's error.
  Result<int> RunOnce();

  // Counters, plus `pending` counted in the store (one read; call it from a
  // metrics scrape, not in a loop).
  OutboxStats Stats() const;

 private:
  void Loop();
  struct Outcome {
    bool recorded = false;         // the store has the outcome
    std::optional<Time> retry_at;  // when to try again, if at all
  };
  // Attempts one message and records the outcome in the store.
  Outcome Attempt(OutboxMessage message);
  double Random();

  Store& store_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Transport>> transports_;
  OutboxSenderOptions options_;

  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> retries_{0};

  std::mutex mu_;
  std::condition_variable wake_;
  bool kicked_ = false;             // guarded by mu_
  bool stopping_ = false;           // guarded by mu_
  // Guarded by mu_: the retry times scheduled and not yet reached, so that
  // the thread wakes for each (keeping only the earliest would lose the
  // others once it passed).
  std::multiset<Time> retry_times_;
  std::mutex random_mu_;
  std::function<double()> random_;
  std::thread thread_;
};

}  // namespace pinhole
