// Group commit for the SQLite store: concurrent writers share one transaction
// and one fsync.
//
// Each caller hands in a function that performs its state change on the
// writer connection. The first caller to find no commit in progress becomes
// the leader: it takes every queued change (up to a limit), runs them in one
// BEGIN IMMEDIATE ... COMMIT, each inside its own SAVEPOINT so that a change
// that fails (a duplicate name, a lost compare-and-set) is rolled back alone,
// then releases every caller in the batch. Nobody is told "OK" before the
// COMMIT (and its fsync) has returned. Callers arriving during a commit queue
// up and form the next batch; nothing waits on a timer.
//
// Thread-safe. The writer connection is used only by the current leader, or
// by a caller of WithWriter while it holds the same lock.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

#include "core/result.h"
#include "store/sqlite/db.h"

namespace pinhole::sqlite {

class GroupCommitter {
 public:
  // `max_batch` 1 gives one transaction per change (no grouping).
  GroupCommitter(Connection& db, int max_batch) : db_(db), max_batch_(max_batch) {}

  // Runs `change` in a write transaction; returns its status once that
  // transaction has committed, or the commit's error if the commit failed (in
  // which case the change was not applied). `change` must not throw; if it
  // does anyway, the exception becomes an Internal status.
  Status Run(const std::function<Status(Connection&)>& change);

  // Runs `fn` on the writer connection with no batch in progress (for reads
  // when the store has no separate reader connections).
  template <typename Fn>
  auto WithWriter(Fn&& fn) {
    std::lock_guard lock(db_mu_);
    return fn(db_);
  }

  // Number of transactions committed and changes in them, for tests and
  // benchmarks.
  struct Stats {
    int64_t transactions = 0;
    int64_t changes = 0;
  };
  Stats stats() const;

 private:
  struct Job {
    const std::function<Status(Connection&)>* change;
    Status result;
    bool done = false;
  };

  void RunBatch(const std::vector<Job*>& batch);

  Connection& db_;
  const int max_batch_;
  std::mutex db_mu_;  // held by the leader while it uses db_

  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  bool committing_ = false;
  Stats stats_;
};

}  // namespace pinhole::sqlite
