#include "notify/outbox_sender.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>

namespace pinhole {
namespace {

using ::testing::HasSubstr;

// A transport that answers from a script (then OK), records what it was
// given, and can hold a delivery until released.
class FakeTransport : public Transport {
 public:
  Status Deliver(const OutboxMessage& m, Time now) override {
    std::unique_lock lock(mu_);
    calls_.push_back(m);
    entered_.notify_all();
    held_.wait(lock, [this] { return !hold_; });
    if (script_.empty()) return Status::Ok();
    Status st = script_.front();
    script_.pop_front();
    if (st.reason() == "throw") throw std::runtime_error("boom");
    return st;
  }

  void Then(Status st) {
    std::lock_guard lock(mu_);
    script_.push_back(std::move(st));
  }
  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      hold_ = false;
    }
    held_.notify_all();
  }
  bool WaitForCalls(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return entered_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
  }
  std::vector<OutboxMessage> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable entered_;
  std::condition_variable held_;
  bool hold_ = false;
  std::deque<Status> script_;
  std::vector<OutboxMessage> calls_;
};

OutboxMessage Message(std::string channel, std::string target, Time now) {
  OutboxMessage m;
  m.channel = std::move(channel);
  m.target = std::move(target);
  m.event = "lease.ended";
  m.subject = "s";
  m.text = "t";
  m.created_at = now;
  m.next_attempt_at = now;
  return m;
}

class OutboxSenderTest : public ::testing::Test {
 protected:
  OutboxSenderTest() : store_(NewMemoryStore()) {}

  // Commits messages the way the API does: with an audit event.
  void Add(std::vector<OutboxMessage> messages) {
    AuditEntry e;
    e.time = clock_.Now();
    e.actor = "system";
    e.action = "test.notify";
    e.object = "test/1";
    e.outbox = std::move(messages);
    ASSERT_TRUE(store_->AppendAudit(e).ok());
  }

  std::unique_ptr<OutboxSender> MakeSender(OutboxSenderOptions o = {}) {
    auto email = std::make_unique<FakeTransport>();
    auto hook = std::make_unique<FakeTransport>();
    email_ = email.get();
    webhook_ = hook.get();
    std::map<std::string, std::unique_ptr<Transport>> transports;
    transports["email"] = std::move(email);
    transports["webhook"] = std::move(hook);
    if (!o.random) o.random = [] { return 0.0; };
    return std::make_unique<OutboxSender>(*store_, clock_, std::move(transports), std::move(o));
  }

  OutboxMessage Stored(Id id) {
    auto all = store_->ListOutbox("", 0);
    EXPECT_TRUE(all.ok());
    for (const auto& m : *all) {
      if (m.id == id) return m;
    }
    ADD_FAILURE() << "no outbox message " << id;
    return {};
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
  FakeTransport* email_ = nullptr;
  FakeTransport* webhook_ = nullptr;
};

TEST(BackoffTest, DoublesFromBaseUpToMaxWithJitter) {
  const Seconds base(5), max(600);
  EXPECT_EQ(BackoffDelay(1, base, max, 0.0), Millis(2500));
  EXPECT_EQ(BackoffDelay(1, base, max, 0.5), Millis(3750));
  EXPECT_EQ(BackoffDelay(1, base, max, 0.999999), Millis(4999));
  EXPECT_EQ(BackoffDelay(2, base, max, 0.0), Millis(5000));
  EXPECT_EQ(BackoffDelay(3, base, max, 0.0), Millis(10000));
  EXPECT_EQ(BackoffDelay(7, base, max, 0.999999), Millis(319999));  // 320 s
  EXPECT_EQ(BackoffDelay(8, base, max, 0.0), Millis(300000));       // 640 s capped to 600
  EXPECT_EQ(BackoffDelay(8, base, max, 1.0), Millis(600000));
  EXPECT_EQ(BackoffDelay(1'000'000, base, max, 0.0), Millis(300000));  // no overflow
  EXPECT_EQ(BackoffDelay(0, base, max, 0.0), Millis(2500));
  // Out-of-range randomness is clamped rather than trusted.
  EXPECT_EQ(BackoffDelay(1, base, max, -3.0), Millis(2500));
  EXPECT_EQ(BackoffDelay(1, base, max, 7.0), Millis(5000));
}

TEST_F(OutboxSenderTest, DeliversEachChannelOldestFirst) {
  Time t0 = clock_.Now();
  Add({Message("email", "a@example.com", t0), Message("webhook", "ops", t0),
       Message("email", "b@example.com", t0)});
  auto sender = MakeSender();
  clock_.Advance(Millis(1500));
  Result<int> n = sender->RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);

  auto mails = email_->calls();
  ASSERT_EQ(mails.size(), 2u);
  EXPECT_EQ(mails[0].target, "a@example.com");
  EXPECT_EQ(mails[1].target, "b@example.com");
  EXPECT_LT(mails[0].id, mails[1].id);
  ASSERT_EQ(webhook_->calls().size(), 1u);
  EXPECT_EQ(webhook_->calls()[0].target, "ops");

  for (Id id : {1, 2, 3}) {
    OutboxMessage m = Stored(id);
    EXPECT_EQ(m.state, "sent");
    EXPECT_EQ(m.attempts, 1);
    ASSERT_TRUE(m.sent_at.has_value());
    EXPECT_EQ(*m.sent_at, t0 + Millis(1500));
  }
  OutboxStats s = sender->Stats();
  EXPECT_EQ(s.sent, 3);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(s.pending, 0);

  // Nothing is sent twice.
  EXPECT_EQ(*sender->RunOnce(), 0);
  EXPECT_EQ(email_->calls().size(), 2u);
}

TEST_F(OutboxSenderTest, TransientErrorsBackOffThenDeliver) {
  Time t0 = clock_.Now();
  Add({Message("email", "a@example.com", t0)});
  auto sender = MakeSender();
  email_->Then(Status::Unavailable("SMTP smtp://mail: connection refused"));
  email_->Then(Status::Unavailable("SMTP smtp://mail: connection refused"));

  EXPECT_EQ(*sender->RunOnce(), 1);
  OutboxMessage m = Stored(1);
  EXPECT_EQ(m.state, "pending");
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_error, "SMTP smtp://mail: connection refused");
  EXPECT_EQ(m.next_attempt_at, t0 + Millis(2500));  // random 0: half of 5 s

  // Not due yet.
  clock_.Advance(Millis(2499));
  EXPECT_EQ(*sender->RunOnce(), 0);
  clock_.Advance(Millis(1));
  EXPECT_EQ(*sender->RunOnce(), 1);
  m = Stored(1);
  EXPECT_EQ(m.attempts, 2);
  EXPECT_EQ(m.next_attempt_at, t0 + Millis(2500 + 5000));

  clock_.Advance(Millis(5000));
  EXPECT_EQ(*sender->RunOnce(), 1);
  m = Stored(1);
  EXPECT_EQ(m.state, "sent");
  EXPECT_EQ(m.attempts, 3);
  EXPECT_TRUE(m.last_error.empty());
  OutboxStats s = sender->Stats();
  EXPECT_EQ(s.sent, 1);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(email_->calls().size(), 3u);
}

TEST_F(OutboxSenderTest, PermanentErrorFailsAtOnce) {
  Add({Message("email", "reject@example.com", clock_.Now()),
       Message("webhook", "gone", clock_.Now())});
  auto sender = MakeSender();
  email_->Then(Status::Invalid("rejected", "SMTP smtp://mail: RCPT failed: 550"));
  webhook_->Then(Status::NotFound("webhook \"gone\" is no longer configured"));
  EXPECT_EQ(*sender->RunOnce(), 2);
  EXPECT_EQ(Stored(1).state, "failed");
  EXPECT_EQ(Stored(1).last_error, "SMTP smtp://mail: RCPT failed: 550");
  EXPECT_EQ(Stored(2).state, "failed");
  EXPECT_THAT(Stored(2).last_error, HasSubstr("no longer configured"));
  clock_.Advance(Seconds(3600));
  EXPECT_EQ(*sender->RunOnce(), 0);
  EXPECT_EQ(sender->Stats().failed, 2);
}

TEST_F(OutboxSenderTest, GivesUpAfterTheLimitWithALastAttemptAtTheLimit) {
  Time t0 = clock_.Now();
  Add({Message("email", "a@example.com", t0)});
  auto sender = MakeSender({.retry_base = Seconds(5),
                            .retry_max = Seconds(20),
                            .give_up_after = Seconds(60),
                            .random = [] { return 0.999999; }});
  for (int i = 0; i < 100; ++i) email_->Then(Status::Unavailable("down"));

  std::vector<Time> attempts;
  for (int i = 0; i < 50; ++i) {
    OutboxMessage m = Stored(1);
    if (m.state != "pending") break;
    EXPECT_LE(m.next_attempt_at, t0 + Seconds(60));
    clock_.Set(std::max(clock_.Now(), m.next_attempt_at));
    attempts.push_back(clock_.Now());
    ASSERT_EQ(*sender->RunOnce(), 1);
  }
  OutboxMessage m = Stored(1);
  EXPECT_EQ(m.state, "failed");
  EXPECT_EQ(m.last_error, "gave up after 1m: down");
  ASSERT_GE(attempts.size(), 3u);
  EXPECT_EQ(attempts.back(), t0 + Seconds(60));
  // 0, ~5, ~15, ~35, ~55 (capped at 20 s apart), then the last at 60.
  EXPECT_EQ(attempts.size(), 6u);
  EXPECT_EQ(static_cast<int64_t>(email_->calls().size()), static_cast<int64_t>(attempts.size()));
  EXPECT_EQ(sender->Stats().failed, 1);
}

TEST_F(OutboxSenderTest, MissingTransportAndThrowingTransportAreRetried) {
  Add({Message("sms", "+1555", clock_.Now()), Message("email", "a@example.com", clock_.Now())});
  auto sender = MakeSender();
  email_->Then(Status(Code::kUnavailable, "throw", ""));
  EXPECT_EQ(*sender->RunOnce(), 2);
  EXPECT_EQ(Stored(1).state, "pending");
  EXPECT_THAT(Stored(1).last_error, HasSubstr("no transport for channel \"sms\""));
  EXPECT_EQ(Stored(2).state, "pending");
  EXPECT_EQ(Stored(2).last_error, "transport failed: boom");
  EXPECT_EQ(sender->Stats().pending, 2);
}

TEST_F(OutboxSenderTest, EmailWithoutSmtpNamesTheSetting) {
  Add({Message("email", "a@example.com", clock_.Now())});
  OutboxSender sender(*store_, clock_, {}, {.random = [] { return 0.0; }});
  EXPECT_EQ(*sender.RunOnce(), 1);
  EXPECT_THAT(Stored(1).last_error, HasSubstr("smtp.url is not set"));
}

TEST_F(OutboxSenderTest, RepeatsWhileBatchesAreFull) {
  std::vector<OutboxMessage> many;
  for (int i = 0; i < 7; ++i) many.push_back(Message("webhook", "ops", clock_.Now()));
  Add(many);
  auto sender = MakeSender({.batch_size = 2});
  EXPECT_EQ(*sender->RunOnce(), 7);
  EXPECT_EQ(webhook_->calls().size(), 7u);
  EXPECT_EQ(sender->Stats().pending, 0);
}

// The thread, on the real clock: Kick wakes it, a scheduled retry wakes it,
// and Stop lets a send in progress finish and be recorded.
TEST(OutboxSenderThreadTest, KickRetryTimerAndStop) {
  SystemClock clock;
  auto store = NewMemoryStore();
  auto owned = std::make_unique<FakeTransport>();
  FakeTransport* transport = owned.get();
  std::map<std::string, std::unique_ptr<Transport>> transports;
  transports["webhook"] = std::move(owned);
  OutboxSender sender(*store, clock, std::move(transports),
                      {.retry_base = Seconds(1),
                       .poll_interval = Millis(3'600'000),  // only Kick or a retry wakes it
                       .random = [] { return 0.0; }});
  sender.Start();

  auto add = [&] {
    AuditEntry e;
    e.time = clock.Now();
    e.actor = "system";
    e.action = "test.notify";
    e.object = "test/1";
    e.outbox = {Message("webhook", "ops", clock.Now())};
    ASSERT_TRUE(store->AppendAudit(e).ok());
  };

  // Kick: delivered promptly although the poll interval is an hour.
  add();
  sender.Kick();
  ASSERT_TRUE(transport->WaitForCalls(1));

  // A failure is retried after the back-off (0.5 s) without another Kick.
  transport->Then(Status::Unavailable("down"));
  add();
  sender.Kick();
  ASSERT_TRUE(transport->WaitForCalls(3, std::chrono::seconds(5)));

  // Stop during a send: it finishes and is recorded; nothing else is sent.
  transport->Hold();
  add();
  add();
  sender.Kick();
  ASSERT_TRUE(transport->WaitForCalls(4));
  auto stopped = std::async(std::launch::async, [&] { sender.Stop(); });
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  transport->Release();
  stopped.get();
  EXPECT_EQ(transport->calls().size(), 4u);
  auto sent = store->ListOutbox("sent", 0);
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->size(), 3u);
  auto pending = store->ListOutbox("pending", 0);
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ(pending->size(), 1u);
  OutboxStats s = sender.Stats();
  EXPECT_EQ(s.sent, 3);
  EXPECT_EQ(s.retries, 1);
  EXPECT_EQ(s.pending, 1);

  sender.Stop();  // idempotent
}

TEST(OutboxSenderThreadTest, StopWhileIdleIsPrompt) {
  SystemClock clock;
  auto store = NewMemoryStore();
  OutboxSender sender(*store, clock, {}, {.poll_interval = Millis(3'600'000)});
  sender.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto start = std::chrono::steady_clock::now();
  sender.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

}  // namespace
}  // namespace pinhole
