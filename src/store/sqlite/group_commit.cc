#include "store/sqlite/group_commit.h"

#include <exception>

namespace pinhole::sqlite {
namespace {

Status CallSafely(const std::function<Status(Connection&)>& change, Connection& db) {
  try {
    return change(db);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("store write threw: ") + e.what());
  } catch (...) {
    return Status::Internal("store write threw");
  }
}

}  // namespace

Status GroupCommitter::Run(const std::function<Status(Connection&)>& change) {
  Job job{&change, Status::Ok()};
  std::unique_lock lock(mu_);
  queue_.push_back(&job);
  while (!job.done) {
    if (committing_) {
      cv_.wait(lock);
      continue;
    }
    // Lead the next batch; our own job is in it or in an earlier one.
    committing_ = true;
    std::vector<Job*> batch;
    while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    {
      std::lock_guard db_lock(db_mu_);
      RunBatch(batch);
    }
    lock.lock();
    for (Job* j : batch) j->done = true;
    stats_.transactions++;
    stats_.changes += static_cast<int64_t>(batch.size());
    committing_ = false;
    cv_.notify_all();
  }
  return job.result;
}

void GroupCommitter::RunBatch(const std::vector<Job*>& batch) {
  // Gives every job that has not failed on its own the batch's failure: none
  // of the batch was committed.
  auto fail_all = [&](const Status& st) {
    if (!db_.Autocommit()) (void)db_.Exec("ROLLBACK");
    for (Job* j : batch) {
      if (j->result.ok()) j->result = st;
    }
  };

  if (Status st = db_.ExecCached("BEGIN IMMEDIATE"); !st.ok()) return fail_all(st);
  for (Job* j : batch) {
    if (Status st = db_.ExecCached("SAVEPOINT change"); !st.ok()) return fail_all(st);
    j->result = CallSafely(*j->change, db_);
    if (db_.Autocommit()) {
      // SQLite rolled the whole transaction back by itself (I/O error, disk
      // full): the changes before this one are gone too.
      Status st = j->result.ok() ? Status::Internal("transaction ended unexpectedly") : j->result;
      return fail_all(st);
    }
    if (!j->result.ok()) {
      if (Status st = db_.ExecCached("ROLLBACK TO change"); !st.ok()) return fail_all(st);
    }
    if (Status st = db_.ExecCached("RELEASE change"); !st.ok()) return fail_all(st);
  }
  if (Status st = db_.ExecCached("COMMIT"); !st.ok()) return fail_all(st);
}

GroupCommitter::Stats GroupCommitter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace pinhole::sqlite
