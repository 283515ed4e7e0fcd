// What only the SQLite store has: migrations, file-level settings, group
// commit, and reading rows that something else corrupted.
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "store/sqlite/db.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/migrations.h"
#include "store_test_util.h"

namespace pinhole {
namespace {

using sqlite::Connection;
using testing_store::Audit;
using testing_store::MakeLease;
using testing_store::MakeUser;
using testing_store::TempDir;

// Runs SQL on the file behind the store's back, as an operator with the
// sqlite3 shell would.
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

std::string RawQuery(const std::string& path, const std::string& sql) {
  auto c = Connection::Open(path);
  EXPECT_TRUE(c.ok());
  auto r = (*c)->QueryText(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : "";
}

TEST(SqliteStoreTest, MigrationIsIdempotent) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  {
    auto s = OpenSqliteStore(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE((*s)->CreateUser(MakeUser("a@example.com"), Audit("u")).ok());
  }
  {
    auto s = OpenSqliteStore(path);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ((*s)->CountUsers(), 1);
  }
  EXPECT_EQ(RawQuery(path, "SELECT count(*) FROM schema_migrations"),
            std::to_string(sqlite::Migrations().size()));
  EXPECT_EQ(RawQuery(path, "SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::LatestSchemaVersion()));

  auto c = Connection::Open(path);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(sqlite::Migrate(**c).ok());
  EXPECT_EQ(*sqlite::SchemaVersion(**c), sqlite::LatestSchemaVersion());
}

// A database from before identity (schema 3) gains it without losing users:
// they become local users with no lock and no second factor.
TEST(SqliteStoreTest, MigratesSchemaThreeToIdentity) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  {
    auto c = Connection::Open(path);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                           "applied_at INTEGER NOT NULL)")
                    .ok());
    for (const auto& m : sqlite::Migrations()) {
      if (m.version > 3) break;
      ASSERT_TRUE((*c)->Exec(m.sql).ok());
      ASSERT_TRUE((*c)->Exec("INSERT INTO schema_migrations VALUES (" +
                             std::to_string(m.version) + ", 0)")
                      .ok());
    }
    ASSERT_TRUE((*c)->Exec("INSERT INTO users (email, password_hash, role, must_change_password, "
                           "disabled, created_at) VALUES ('old@example.com', 'h', 'admin', 0, 0, 5)")
                    .ok());
  }
  auto s = OpenSqliteStore(path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto u = (*s)->FindUser("old@example.com");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->source, "local");
  EXPECT_EQ(u->role, Role::kAdmin);
  EXPECT_EQ(u->failed_logins, 0);
  EXPECT_FALSE(u->locked_until.has_value());
  EXPECT_FALSE(u->mfa_enabled);
  EXPECT_TRUE(u->external_groups.empty());
  EXPECT_EQ(RawQuery(path, "SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::LatestSchemaVersion()));
}

TEST(SqliteStoreTest, MigrationStepsAreOrdered) {
  int last = 0;
  for (const auto& m : sqlite::Migrations()) {
    EXPECT_EQ(m.version, last + 1);
    last = m.version;
  }
  EXPECT_EQ(last, sqlite::LatestSchemaVersion());
}

TEST(SqliteStoreTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  { ASSERT_TRUE(OpenSqliteStore(path).ok()); }
  RawExec(path, "INSERT INTO schema_migrations VALUES (" +
                    std::to_string(sqlite::LatestSchemaVersion() + 1) + ", 0)");
  auto s = OpenSqliteStore(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().reason(), "schema_too_new");
  // Refusing changed nothing.
  EXPECT_EQ(RawQuery(path, "SELECT max(version) FROM schema_migrations"),
            std::to_string(sqlite::LatestSchemaVersion() + 1));
}

TEST(SqliteStoreTest, FileSettings) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  auto s = OpenSqliteStore(path);
  ASSERT_TRUE(s.ok());
  // journal_mode is a property of the file.
  EXPECT_EQ(RawQuery(path, "PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteStoreTest, UnopenablePathIsAnError) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.File("no/such/dir/p.db"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUnavailable);
}

TEST(SqliteStoreTest, NotADatabaseIsAnError) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  FILE* f = fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not an SQLite file, but it is long enough to have a header.......", f);
  fclose(f);
  EXPECT_FALSE(OpenSqliteStore(path).ok());
}

TEST(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto s = OpenSqliteStore(":memory:");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto u = (*s)->CreateUser(MakeUser("a@example.com"), Audit("u"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ((*s)->GetUser(u->id)->email, "a@example.com");
}

TEST(SqliteStoreTest, CorruptRowsReadAsInternal) {
  TempDir dir;
  const std::string path = dir.File("p.db");
  Id lease_id;
  {
    auto s = OpenSqliteStore(path);
    ASSERT_TRUE(s.ok());
    auto l = (*s)->CreateLease(MakeLease(1, "a@example.com"), Audit("l"));
    ASSERT_TRUE(l.ok());
    lease_id = l->id;
    AccessGroup ag;
    ag.name = "ag";
    ASSERT_TRUE((*s)->CreateAccessGroup(ag, Audit("a")).ok());
  }
  RawExec(path, "UPDATE leases SET state = 'bogus'; UPDATE access_groups SET services_json = '{'");
  auto s = OpenSqliteStore(path);
  ASSERT_TRUE(s.ok());
  auto l = (*s)->GetLease(lease_id);
  EXPECT_EQ(l.status().code(), Code::kInternal);
  EXPECT_NE(l.status().message().find("state"), std::string::npos);
  EXPECT_EQ((*s)->FindAccessGroup("ag").status().code(), Code::kInternal);
  // Lists have no error path: they read as empty rather than partial.
  EXPECT_TRUE((*s)->ListLeases({}).empty());
}

TEST(SqliteStoreTest, WritesAreVisibleToReadersAtOnce) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.File("p.db"));
  ASSERT_TRUE(s.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> missing{0};
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i) {
      auto l = (*s)->CreateLease(MakeLease(1, "a@example.com"), Audit("l"));
      // A reader connection must see an acknowledged write.
      if (!l.ok() || !(*s)->GetLease(l->id).ok()) ++missing;
    }
    stop = true;
  });
  std::thread reader([&] {
    LeaseFilter f;
    f.limit = 10;
    while (!stop) (void)(*s)->ListLeases(f);
  });
  writer.join();
  reader.join();
  EXPECT_EQ(missing.load(), 0);
}

// ---- GroupCommitter on its own ----

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Connection::Open(dir_.File("g.db"));
    ASSERT_TRUE(c.ok());
    db_ = std::move(c).value();
    ASSERT_TRUE(db_->Exec("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER UNIQUE)").ok());
  }
  Status Insert(Connection& db, int x) {
    auto st = db.Prepare("INSERT INTO t VALUES (?)");
    if (!st.ok()) return st.status();
    return st->Bind(1, x).Run();
  }
  std::string Count() { return *db_->QueryText("SELECT count(*) FROM t"); }

  TempDir dir_;
  std::unique_ptr<Connection> db_;
};

TEST_F(GroupCommitTest, ConcurrentChangesShareTransactionsAndFailAlone) {
  sqlite::GroupCommitter committer(*db_, 64);
  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        // Odd threads insert a value an even thread also inserts: exactly
        // one of each pair may win, whatever batch they land in.
        const int x = (t / 2) * 1000 + i;
        Status st = committer.Run([&](Connection& db) -> Status {
          if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
          return Insert(db, x);
        });
        if (!st.ok()) {
          EXPECT_EQ(st.reason(), "name_taken");
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), kThreads / 2 * 50);
  EXPECT_EQ(Count(), std::to_string(kThreads / 2 * 50));
  auto stats = committer.stats();
  EXPECT_EQ(stats.changes, kThreads * 50);
  EXPECT_LT(stats.transactions, stats.changes);  // some batching happened
}

TEST_F(GroupCommitTest, BatchSizeOneIsOneTransactionPerChange) {
  sqlite::GroupCommitter committer(*db_, 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        EXPECT_TRUE(committer.Run([&](Connection& db) { return Insert(db, t * 100 + i); }).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(committer.stats().transactions, 40);
  EXPECT_EQ(Count(), "40");
}

TEST_F(GroupCommitTest, FailedChangeIsRolledBackAlone) {
  sqlite::GroupCommitter committer(*db_, 64);
  Status st = committer.Run([&](Connection& db) -> Status {
    RETURN_IF_ERROR(Insert(db, 1));
    return Status::Conflict("state_changed", "changed my mind after writing");
  });
  EXPECT_EQ(st.reason(), "state_changed");
  EXPECT_EQ(Count(), "0");
  EXPECT_TRUE(committer.Run([&](Connection& db) { return Insert(db, 1); }).ok());
  EXPECT_EQ(Count(), "1");
}

TEST_F(GroupCommitTest, ThrowingChangeBecomesInternal) {
  sqlite::GroupCommitter committer(*db_, 64);
  Status st = committer.Run([&](Connection& db) -> Status {
    RETURN_IF_ERROR(Insert(db, 7));
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("boom"), std::string::npos);
  EXPECT_EQ(Count(), "0");
}

TEST_F(GroupCommitTest, ChangeThatEndsTheTransactionFailsTheBatch) {
  sqlite::GroupCommitter committer(*db_, 64);
  // A change must not end the transaction itself; if the transaction is gone
  // (as after SQLite's own rollback on I/O errors) the change is reported as
  // failed, not as committed.
  Status st = committer.Run([&](Connection& db) -> Status {
    RETURN_IF_ERROR(Insert(db, 3));
    return db.Exec("ROLLBACK");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Count(), "0");
  EXPECT_TRUE(committer.Run([&](Connection& db) { return Insert(db, 3); }).ok());
}

// ---- Statement cache ----

TEST(SqliteConnectionTest, NestedUseOfOneStatementGetsAFreshOne) {
  TempDir dir;
  auto c = Connection::Open(dir.File("c.db"));
  ASSERT_TRUE(c.ok());
  Connection& db = **c;
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2)").ok());
  auto outer = db.Prepare("SELECT x FROM t ORDER BY x");
  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Int(0), 1);
  {
    auto inner = db.Prepare("SELECT x FROM t ORDER BY x");
    ASSERT_TRUE(inner.ok());
    ASSERT_TRUE(*inner->Step());
    EXPECT_EQ(inner->Int(0), 1);
  }
  ASSERT_TRUE(*outer->Step());
  EXPECT_EQ(outer->Int(0), 2);
}

TEST(SqliteConnectionTest, ErrorsMapToCodes) {
  TempDir dir;
  auto c = Connection::Open(dir.File("c.db"));
  ASSERT_TRUE(c.ok());
  Connection& db = **c;
  EXPECT_EQ(db.Exec("SELEC nonsense").code(), Code::kInternal);
  EXPECT_FALSE(db.Prepare("SELECT * FROM missing_table").ok());
  ASSERT_TRUE(db.Exec("CREATE TABLE t (x UNIQUE)").ok());
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1)").ok());
  Status dup = db.Exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(dup.code(), Code::kConflict);
  EXPECT_EQ(dup.reason(), "name_taken");
  EXPECT_EQ(sqlite::ToStatus(SQLITE_BUSY, "x").code(), Code::kUnavailable);
  EXPECT_EQ(sqlite::ToStatus(SQLITE_IOERR_FSYNC, "x").code(), Code::kUnavailable);
  EXPECT_TRUE(sqlite::ToStatus(SQLITE_OK, "x").ok());
}

}  // namespace
}  // namespace pinhole
