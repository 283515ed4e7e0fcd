// A small RAII layer over the libsqlite3 C API: a Connection owning the
// sqlite3 handle and a cache of prepared statements, and a Statement handle
// borrowed from that cache.
//
// Thread-safety: a Connection and its Statements are used by one thread at a
// time; the store puts each connection behind its own lock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pinhole::sqlite {

// Turns a SQLite result code (extended codes included) into a Status: unique
// and primary-key violations become Conflict "name_taken", BUSY/LOCKED/FULL/
// I/O errors Unavailable, everything else Internal.
Status ToStatus(int rc, std::string_view context, sqlite3* db = nullptr);

class Connection;

// A prepared statement on loan from a Connection's cache. Destruction resets
// it and clears its bindings so the next borrower starts clean. Bind indexes
// are 1-based, column indexes 0-based (as in SQLite).
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, bool value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, std::optional<int64_t> value);
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when done.
  // The first binding error, if any, is reported here.
  Result<bool> Step();
  // Runs a statement that returns no rows we care about.
  Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  std::string Text(int col) const;
  std::string_view TextView(int col) const;  // valid until the next Step
  std::optional<int64_t> OptInt(int col) const;

 private:
  friend class Connection;
  Statement(Connection* conn, sqlite3_stmt* stmt, bool cached);

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool cached_;  // false: a one-off statement finalized on destruction
  int bind_rc_ = 0;
};

class Connection {
 public:
  // Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more SQL statements without results (DDL, PRAGMA, BEGIN...).
  Status Exec(std::string_view sql);
  // Runs one statement without results through the statement cache (for the
  // BEGIN/SAVEPOINT/COMMIT that every write runs).
  Status ExecCached(const std::string& sql);
  // Borrows the cached prepared statement for `sql`, preparing it once. If it
  // is already on loan (nested use), a one-off statement is returned instead.
  Result<Statement> Prepare(const std::string& sql);
  // Runs a PRAGMA (or any query) and returns the first column of its first row.
  Result<std::string> QueryText(const std::string& sql);

  int64_t LastInsertRowid() const;
  int Changes() const;
  // True when no transaction is open (SQLite may roll one back by itself
  // after I/O errors; callers check this to notice).
  bool Autocommit() const;
  sqlite3* raw() const { return db_; }

 private:
  friend class Statement;
  explicit Connection(sqlite3* db) : db_(db) {}
  void Return(sqlite3_stmt* stmt);

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  std::unordered_map<std::string, Cached> cache_;
  std::unordered_map<sqlite3_stmt*, Cached*> by_stmt_;
};

// Runs `fn` between BEGIN and COMMIT (BEGIN IMMEDIATE when `write`); rolls
// back when `fn` fails.
template <typename Fn>
auto InTransaction(Connection& c, bool write, Fn&& fn) -> decltype(fn()) {
  RETURN_IF_ERROR(c.ExecCached(write ? "BEGIN IMMEDIATE" : "BEGIN"));
  auto result = fn();
  if (!result.ok()) {
    if (!c.Autocommit()) (void)c.ExecCached("ROLLBACK");
    return result;
  }
  if (Status st = c.ExecCached("COMMIT"); !st.ok()) {
    if (!c.Autocommit()) (void)c.ExecCached("ROLLBACK");
    return st;
  }
  return result;
}

}  // namespace pinhole::sqlite
