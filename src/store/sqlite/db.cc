#include "store/sqlite/db.h"

#include <sqlite3.h>

namespace pinhole::sqlite {

Status ToStatus(int rc, std::string_view context, sqlite3* db) {
  std::string msg(context);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
      return Status::Ok();
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Status::Conflict("name_taken", msg);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Status::NotFound(msg);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
      return Status::Unavailable(msg);
    default:
      return Status::Internal(msg);
  }
}

// ---- Statement ----

Statement::Statement(Connection* conn, sqlite3_stmt* stmt, bool cached)
    : conn_(conn), stmt_(stmt), cached_(cached) {}

Statement::Statement(Statement&& other) noexcept
    : conn_(other.conn_), stmt_(other.stmt_), cached_(other.cached_), bind_rc_(other.bind_rc_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (!stmt_) return;
  if (cached_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    conn_->Return(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so temporaries are safe to bind.
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::optional<int64_t> value) {
  return value ? Bind(index, *value) : BindNull(index);
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return ToStatus(bind_rc_, "bind", conn_->raw());
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // The extended code is what tells a UNIQUE violation from other constraints.
  return ToStatus(sqlite3_extended_errcode(conn_->raw()), sqlite3_sql(stmt_), conn_->raw());
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string_view Statement::TextView(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  if (!p) return {};
  return std::string_view(p, sqlite3_column_bytes(stmt_, col));
}

std::string Statement::Text(int col) const { return std::string(TextView(col)); }

std::optional<int64_t> Statement::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

// ---- Connection ----

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: each connection is used under the store's own lock.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = ToStatus(rc, "open " + path, db);
    sqlite3_close(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c.stmt);
  sqlite3_close_v2(db_);
}

Status Connection::Exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc == SQLITE_OK) return Status::Ok();
  return ToStatus(sqlite3_extended_errcode(db_), s, db_);
}

Status Connection::ExecCached(const std::string& sql) {
  ASSIGN_OR_RETURN(Statement st, Prepare(sql));
  return st.Run();
}

Result<Statement> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Statement(this, it->second.stmt, true);
  }
  sqlite3_stmt* stmt = nullptr;
  bool cache = it == cache_.end();
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return ToStatus(rc, "prepare " + sql, db_);
  if (!cache) return Statement(this, stmt, false);
  Cached& c = cache_[sql];
  c.stmt = stmt;
  c.in_use = true;
  by_stmt_[stmt] = &c;
  return Statement(this, stmt, true);
}

void Connection::Return(sqlite3_stmt* stmt) {
  auto it = by_stmt_.find(stmt);
  if (it != by_stmt_.end()) it->second->in_use = false;
}

Result<std::string> Connection::QueryText(const std::string& sql) {
  ASSIGN_OR_RETURN(Statement st, Prepare(sql));
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("no result from " + sql);
  return st.Text(0);
}

int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

int Connection::Changes() const { return sqlite3_changes(db_); }

bool Connection::Autocommit() const { return sqlite3_get_autocommit(db_) != 0; }

}  // namespace pinhole::sqlite
