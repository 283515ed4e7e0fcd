#include "notify/outbox_sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <random>
#include <utility>
#include <vector>

#include "core/duration.h"

namespace pinhole {
namespace {

constexpr size_t kMaxError = 1000;
// Counting pending messages reads them; a backlog larger than this is
// reported as this many.
constexpr int kMaxPendingCount = 100000;
// A pass repeats while full batches come back, but not forever.
constexpr int kMaxRoundsPerPass = 100;

std::string Clip(std::string s) {
  if (s.size() > kMaxError) {
    s.resize(kMaxError);
    s += "...";
  }
  return s;
}

}  // namespace

Millis BackoffDelay(int attempt, Seconds base, Seconds max, double unit_random) {
  Millis cap = max;
  Millis delay = base;
  for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  double r = std::clamp(unit_random, 0.0, 1.0);
  return Millis(static_cast<int64_t>(static_cast<double>(delay.count()) * (0.5 + r / 2)));
}

OutboxSender::OutboxSender(Store& store, const Clock& clock,
                           std::map<std::string, std::unique_ptr<Transport>> transports,
                           OutboxSenderOptions options)
    : store_(store),
      clock_(clock),
      transports_(std::move(transports)),
      options_(std::move(options)) {
  if (options_.random) {
    random_ = options_.random;
  } else {
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    random_ = [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
  }
  options_.batch_size = std::max(1, options_.batch_size);
}

OutboxSender::~OutboxSender() { Stop(); }

void OutboxSender::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxSender::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxSender::Kick() {
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  wake_.notify_all();
}

double OutboxSender::Random() {
  std::lock_guard lock(random_mu_);
  return random_();
}

OutboxSender::Outcome OutboxSender::Attempt(OutboxMessage m) {
  Status st;
  auto it = transports_.find(m.channel);
  if (it == transports_.end()) {
    st = Status::Unavailable("no transport for channel \"" + m.channel + "\"" +
                             (m.channel == "email" ? " (smtp.url is not set)" : ""));
  } else {
    try {
      st = it->second->Deliver(m, clock_.Now());
    } catch (const std::exception& e) {
      st = Status::Unavailable(std::string("transport failed: ") + e.what());
    } catch (...) {
      st = Status::Unavailable("transport failed with an unknown exception");
    }
  }
  Time now = clock_.Now();
  m.attempts += 1;
  std::optional<Time> retry_at;
  if (st.ok()) {
    m.state = "sent";
    m.sent_at = now;
    m.last_error.clear();
    sent_++;
  } else {
    Time give_up_at = m.created_at + options_.give_up_after;
    if (st.code() != Code::kUnavailable) {
      m.state = "failed";
      m.last_error = Clip(st.message());
    } else if (now >= give_up_at) {
      m.state = "failed";
      m.last_error =
          Clip("gave up after " + FormatDuration(options_.give_up_after) + ": " + st.message());
    } else {
      m.last_error = Clip(st.message());
      Time next = now + BackoffDelay(m.attempts, options_.retry_base, options_.retry_max, Random());
      // One last attempt at the give-up time rather than none after it.
      m.next_attempt_at = std::min(next, give_up_at);
      retry_at = m.next_attempt_at;
    }
    if (m.state == "failed") {
      failed_++;
      spdlog::error("outbox: message {} ({} {} to {}) failed for good: {}", m.id, m.event,
                    m.channel, m.target, m.last_error);
    } else {
      retries_++;
      spdlog::warn("outbox: message {} ({} {} to {}) not delivered (attempt {}): {}; retry at {}",
                   m.id, m.event, m.channel, m.target, m.attempts, m.last_error,
                   FormatTime(m.next_attempt_at));
    }
  }
  Status saved = store_.UpdateOutbox(m);
  if (!saved.ok()) {
    // The message stays due as it was; at least once means it may go twice.
    spdlog::warn("outbox: could not record the outcome for message {}: {}", m.id, saved.ToString());
    return {};
  }
  return {.recorded = true, .retry_at = retry_at};
}

Result<int> OutboxSender::RunOnce() {
  int attempted = 0;
  for (int round = 0; round < kMaxRoundsPerPass; ++round) {
    Result<std::vector<OutboxMessage>> due = Status::Internal("not read");
    try {
      due = store_.DueOutbox(clock_.Now(), options_.batch_size);
    } catch (const std::exception& e) {
      due = Status::Internal(std::string("reading the outbox threw: ") + e.what());
    }
    if (!due.ok()) return due.status();
    bool all_recorded = true;
    for (OutboxMessage& m : *due) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return attempted;
      }
      Outcome outcome;
      try {
        outcome = Attempt(std::move(m));
      } catch (const std::exception& e) {
        spdlog::warn("outbox: recording a delivery threw: {}", e.what());
      }
      ++attempted;
      all_recorded = all_recorded && outcome.recorded;
      if (outcome.retry_at) {
        std::lock_guard lock(mu_);
        retry_times_.insert(*outcome.retry_at);
      }
    }
    // Unrecorded messages are still due; going round again now would resend
    // them at once instead of after the poll interval.
    if (!all_recorded || static_cast<int>(due->size()) < options_.batch_size) break;
  }
  return attempted;
}

void OutboxSender::Loop() {
  while (true) {
    try {
      Result<int> pass = RunOnce();
      if (!pass.ok()) spdlog::warn("outbox: {}", pass.status().ToString());
    } catch (...) {
      spdlog::warn("outbox: a pass failed with an exception");
    }
    std::unique_lock lock(mu_);
    if (stopping_) return;
    if (kicked_) {
      kicked_ = false;
      continue;
    }
    Millis wait = options_.poll_interval;
    // Retries whose time has come are due now: the next pass takes them.
    const Time now = clock_.Now();
    bool due = false;
    while (!retry_times_.empty() && *retry_times_.begin() <= now) {
      retry_times_.erase(retry_times_.begin());
      due = true;
    }
    if (due) continue;
    if (!retry_times_.empty()) {
      wait = std::min(wait, std::chrono::duration_cast<Millis>(*retry_times_.begin() - now));
    }
    wake_.wait_for(lock, wait, [this] { return kicked_ || stopping_; });
    kicked_ = false;
    if (stopping_) return;
  }
}

OutboxStats OutboxSender::Stats() const {
  OutboxStats s;
  s.sent = sent_.load();
  s.failed = failed_.load();
  s.retries = retries_.load();
  try {
    auto pending = store_.ListOutbox("pending", kMaxPendingCount);
    if (pending.ok()) s.pending = static_cast<int64_t>(pending->size());
  } catch (...) {
    // Unknown stays -1.
  }
  return s;
}

}  // namespace pinhole
