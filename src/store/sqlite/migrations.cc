#include "store/sqlite/migrations.h"

#include <chrono>
#include <string>

namespace pinhole::sqlite {
namespace {

// Ids use AUTOINCREMENT so that they are never reused after a delete: audit
// events name objects by id ("lease/42").
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  must_change_password INTEGER NOT NULL,
  disabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE user_groups (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE group_members (
  group_id INTEGER NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members(user_id);
CREATE TABLE services (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL,
  backend TEXT NOT NULL,
  protocol TEXT NOT NULL,
  port_first INTEGER,
  port_last INTEGER,
  target_json TEXT NOT NULL,
  keep_established INTEGER NOT NULL
);
CREATE TABLE access_groups (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  services_json TEXT NOT NULL,
  is_public INTEGER NOT NULL
);
CREATE TABLE policies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  spec_json TEXT NOT NULL
);
CREATE TABLE leases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  owner_id INTEGER NOT NULL,
  owner TEXT NOT NULL,
  services_json TEXT NOT NULL,
  recipient TEXT NOT NULL,
  invite_email TEXT NOT NULL,
  source TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  policy TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  activated_at INTEGER,
  expires_at INTEGER NOT NULL,
  ended_at INTEGER,
  ended_by TEXT NOT NULL,
  approved_by TEXT NOT NULL
);
CREATE INDEX leases_state ON leases(state);
CREATE INDEX leases_owner ON leases(owner_id);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  csrf_token TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  client_ip TEXT NOT NULL,
  details_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql"},
    // A new self lease looks up its owner's other self leases; without this
    // an owner with many CIDR leases would make every request scan them all.
    {2, R"sql(
CREATE INDEX leases_owner_recipient_state ON leases(owner_id, recipient, state);
)sql"},
    // Approvals, invitations and notifications: a lease remembers its length
    // while it waits; emails and webhooks wait in the outbox, committed with
    // the change they tell about; single-use tokens are kept by their hash.
    {3, R"sql(
ALTER TABLE leases ADD COLUMN duration_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN reminded INTEGER NOT NULL DEFAULT 0;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,
  event TEXT NOT NULL,
  subject TEXT NOT NULL,
  body_text TEXT NOT NULL,
  body_html TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
CREATE TABLE action_tokens (
  token_hash TEXT PRIMARY KEY,
  purpose TEXT NOT NULL,
  lease_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
CREATE TABLE secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
    // Identity: where a user signs in (local, htpasswd, oidc) and the
    // provider's name for them; lockout counters; TOTP second factors;
    // API tokens and access keys; how a session was established; settings
    // that admins change at run time.
    {4, R"sql(
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE users ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN external_groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER;
CREATE INDEX users_subject ON users(source, subject) WHERE subject != '';
ALTER TABLE sessions ADD COLUMN method TEXT NOT NULL DEFAULT 'password';
ALTER TABLE sessions ADD COLUMN mfa_enrolment_only INTEGER NOT NULL DEFAULT 0;
CREATE TABLE mfa (
  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret TEXT NOT NULL,
  confirmed INTEGER NOT NULL,
  last_step INTEGER NOT NULL,
  recovery_hashes TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE credentials (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  lookup TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  last_used_ip TEXT NOT NULL,
  UNIQUE (kind, lookup),
  UNIQUE (user_id, kind, name)
);
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return Migrations().back().version; }

Result<int> SchemaVersion(Connection& db) {
  ASSIGN_OR_RETURN(
      std::string exists,
      db.QueryText("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                   "'schema_migrations'"));
  if (exists == "0") return 0;
  ASSIGN_OR_RETURN(std::string v,
                   db.QueryText("SELECT coalesce(max(version), 0) FROM schema_migrations"));
  return std::stoi(v);
}

Status Migrate(Connection& db) {
  return InTransaction(db, /*write=*/true, [&]() -> Status {
    RETURN_IF_ERROR(
        db.Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"));
    ASSIGN_OR_RETURN(int current, SchemaVersion(db));
    if (current > LatestSchemaVersion()) {
      return Status::Invalid("schema_too_new", "database schema version " +
                                                   std::to_string(current) +
                                                   " is newer than this build knows (" +
                                                   std::to_string(LatestSchemaVersion()) + ")");
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (const Migration& m : Migrations()) {
      if (m.version <= current) continue;
      RETURN_IF_ERROR(db.Exec(m.sql));
      ASSIGN_OR_RETURN(auto st, db.Prepare("INSERT INTO schema_migrations VALUES (?, ?)"));
      RETURN_IF_ERROR(st.Bind(1, m.version).Bind(2, now).Run());
    }
    return Status::Ok();
  });
}

}  // namespace pinhole::sqlite
