#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

#include "audit/chain.h"
#include "store/codec.h"
#include "store/sqlite/db.h"
#include "store/sqlite/group_commit.h"
#include "store/sqlite/migrations.h"

namespace pinhole {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using store::DecodeStringList;
using store::EncodeStringList;
using store::FromMillis;
using store::ToMillis;

Status NameTaken(std::string_view kind, std::string_view name) {
  return Status::Conflict("name_taken",
                          std::string(kind) + " '" + std::string(name) + "' already exists");
}
Status IdNotFound(std::string_view kind, Id id) {
  return Status::NotFound("no " + std::string(kind) + " with id " + std::to_string(id));
}
Status Corrupt(std::string_view table, int64_t id, std::string_view what) {
  return Status::Internal("corrupt row " + std::string(table) + "/" + std::to_string(id) + ": " +
                          std::string(what));
}

// Unique-name violations come back from SQLite without the name; say which.
Status Named(Status st, std::string_view kind, std::string_view name) {
  if (st.reason() == "name_taken") return NameTaken(kind, name);
  return st;
}

template <typename T>
std::vector<T> OrEmpty(Result<std::vector<T>> r) {
  // The Store interface has no error path for lists; a storage failure reads
  // as an empty list rather than a partial one.
  if (!r.ok()) return {};
  return std::move(r).value();
}

// ---- audit ----

Status WriteOutbox(Connection& db, const OutboxMessage& m) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("INSERT INTO outbox (channel, target, event, subject, body_text, "
                              "body_html, created_at, state, attempts, next_attempt_at, "
                              "last_error, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
  return st.Bind(1, m.channel)
      .Bind(2, m.target)
      .Bind(3, m.event)
      .Bind(4, m.subject)
      .Bind(5, m.text)
      .Bind(6, m.html)
      .Bind(7, ToMillis(m.created_at))
      .Bind(8, m.state)
      .Bind(9, m.attempts)
      .Bind(10, ToMillis(m.next_attempt_at))
      .Bind(11, m.last_error)
      .Bind(12, m.sent_at ? std::optional<int64_t>(ToMillis(*m.sent_at)) : std::nullopt)
      .Run();
}

Status WriteToken(Connection& db, const ActionToken& t) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("INSERT INTO action_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)"));
  Status r = st.Bind(1, t.token_hash)
                 .Bind(2, t.purpose)
                 .Bind(3, t.lease_id)
                 .Bind(4, t.user_id)
                 .Bind(5, ToMillis(t.created_at))
                 .Bind(6, ToMillis(t.expires_at))
                 .Run();
  if (r.reason() == "name_taken") return Status::Conflict("name_taken", "token exists");
  return r;
}

Status ConsumeToken(Connection& db, std::string_view token_hash, Time now) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE action_tokens SET used_at = ? "
                                            "WHERE token_hash = ? AND used_at IS NULL"));
  RETURN_IF_ERROR(st.Bind(1, ToMillis(now)).Bind(2, token_hash).Run());
  if (db.Changes() == 0) return Status::Conflict("token_used", "this link was already used");
  return Status::Ok();
}

Status AppendChainedEvent(Connection& db, const AuditEntry& entry);

// The audit event and its side effects (AuditEntry::outbox, tokens,
// consume_tokens). `created` is the id of the lease or user this change
// created, for tokens that name it as 0.
Status AppendEvent(Connection& db, const AuditEntry& entry, Id created_lease = 0,
                   Id created_user = 0) {
  for (const std::string& hash : entry.consume_tokens) {
    RETURN_IF_ERROR(ConsumeToken(db, hash, entry.time));
  }
  for (ActionToken t : entry.tokens) {
    if (t.lease_id == 0) t.lease_id = created_lease;
    if (t.user_id == 0) t.user_id = created_user;
    RETURN_IF_ERROR(WriteToken(db, t));
  }
  for (const OutboxMessage& m : entry.outbox) RETURN_IF_ERROR(WriteOutbox(db, m));
  return AppendChainedEvent(db, entry);
}

Status AppendChainedEvent(Connection& db, const AuditEntry& entry) {
  AuditEvent e;
  static_cast<AuditEntry&>(e) = entry;
  {
    ASSIGN_OR_RETURN(Statement last,
                     db.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, last.Step());
    e.seq = row ? last.Int(0) + 1 : 1;
    e.prev_hash = row ? last.Text(1) : std::string(kGenesisHash);
  }
  e.hash = ComputeAuditHash(e);
  ASSIGN_OR_RETURN(Statement ins, db.Prepare("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)"));
  return ins.Bind(1, e.seq)
      .Bind(2, ToMillis(e.time))
      .Bind(3, e.actor)
      .Bind(4, e.action)
      .Bind(5, e.object)
      .Bind(6, e.client_ip)
      .Bind(7, e.details_json)
      .Bind(8, e.prev_hash)
      .Bind(9, e.hash)
      .Run();
}

// ---- users ----

constexpr char kUserCols[] =
    "id, email, password_hash, role, must_change_password, disabled, created_at, source, "
    "subject, external_groups, failed_logins, locked_until, "
    "EXISTS (SELECT 1 FROM mfa WHERE mfa.user_id = users.id AND mfa.confirmed != 0)";

Result<User> ReadUserRow(const Statement& st) {
  User u;
  u.id = st.Int(0);
  u.email = st.Text(1);
  u.password_hash = st.Text(2);
  auto role = ParseRole(st.TextView(3));
  if (!role) return Corrupt("users", u.id, "role");
  u.role = *role;
  u.must_change_password = st.Int(4) != 0;
  u.disabled = st.Int(5) != 0;
  u.created_at = FromMillis(st.Int(6));
  u.source = st.Text(7);
  u.subject = st.Text(8);
  auto external = DecodeStringList(st.TextView(9));
  if (!external.ok()) return Corrupt("users", u.id, "external_groups");
  u.external_groups = std::move(external).value();
  u.failed_logins = static_cast<int>(st.Int(10));
  if (auto t = st.OptInt(11)) u.locked_until = FromMillis(*t);
  u.mfa_enabled = st.Int(12) != 0;
  return u;
}

Result<User> LoadUser(Connection& db, std::string_view where, const auto& key,
                      const std::string& not_found) {
  User u;
  {
    ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kUserCols +
                                              " FROM users WHERE " + std::string(where)));
    st.Bind(1, key);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::NotFound(not_found);
    ASSIGN_OR_RETURN(u, ReadUserRow(st));
  }
  ASSIGN_OR_RETURN(Statement gs, db.Prepare("SELECT g.name FROM group_members m JOIN user_groups g "
                                            "ON g.id = m.group_id WHERE m.user_id = ? "
                                            "ORDER BY g.name"));
  gs.Bind(1, u.id);
  while (true) {
    ASSIGN_OR_RETURN(bool row, gs.Step());
    if (!row) break;
    u.groups.push_back(gs.Text(0));
  }
  return u;
}

Result<User> LoadUserById(Connection& db, Id id) {
  return LoadUser(db, "id = ?", id, "no user with id " + std::to_string(id));
}

Result<std::vector<User>> LoadUsers(Connection& db) {
  std::vector<User> users;
  std::map<Id, size_t> index;
  {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare(std::string("SELECT ") + kUserCols + " FROM users ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(User u, ReadUserRow(st));
      index[u.id] = users.size();
      users.push_back(std::move(u));
    }
  }
  ASSIGN_OR_RETURN(Statement gs, db.Prepare("SELECT m.user_id, g.name FROM group_members m JOIN "
                                            "user_groups g ON g.id = m.group_id ORDER BY g.name"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, gs.Step());
    if (!row) break;
    if (auto it = index.find(gs.Int(0)); it != index.end()) {
      users[it->second].groups.push_back(gs.Text(1));
    }
  }
  return users;
}

// Binds ?1..?8; failed_logins and locked_until are the lockout methods' alone.
void BindUser(Statement& st, const User& u) {
  st.Bind(1, u.email)
      .Bind(2, u.password_hash)
      .Bind(3, ToString(u.role))
      .Bind(4, u.must_change_password)
      .Bind(5, u.disabled)
      .Bind(6, u.source)
      .Bind(7, u.subject)
      .Bind(8, EncodeStringList(u.external_groups));
}

constexpr char kMfaCols[] =
    "user_id, secret, confirmed, last_step, recovery_hashes, created_at";

Result<MfaRecord> LoadMfa(Connection& db, Id user_id) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kMfaCols +
                                            " FROM mfa WHERE user_id = ?"));
  ASSIGN_OR_RETURN(bool row, st.Bind(1, user_id).Step());
  if (!row) {
    return Status::NotFound("user " + std::to_string(user_id) + " has no second factor");
  }
  MfaRecord m;
  m.user_id = st.Int(0);
  m.secret = st.Text(1);
  m.confirmed = st.Int(2) != 0;
  m.last_step = st.Int(3);
  auto hashes = DecodeStringList(st.TextView(4));
  if (!hashes.ok()) return Corrupt("mfa", m.user_id, "recovery_hashes");
  m.recovery_hashes = std::move(hashes).value();
  m.created_at = FromMillis(st.Int(5));
  return m;
}

constexpr char kCredentialCols[] =
    "id, user_id, kind, name, lookup, secret, created_at, expires_at, last_used_at, last_used_ip";

Result<Credential> LoadCredential(Connection& db, std::string_view where, const auto& a,
                                  const auto& b, const std::string& not_found) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + kCredentialCols +
                                            " FROM credentials WHERE " + std::string(where)));
  st.Bind(1, a);
  if constexpr (!std::is_same_v<std::decay_t<decltype(b)>, std::nullptr_t>) st.Bind(2, b);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::NotFound(not_found);
  Credential c;
  c.id = st.Int(0);
  c.user_id = st.Int(1);
  c.kind = st.Text(2);
  c.name = st.Text(3);
  c.lookup = st.Text(4);
  c.secret = st.Text(5);
  c.created_at = FromMillis(st.Int(6));
  if (auto t = st.OptInt(7)) c.expires_at = FromMillis(*t);
  if (auto t = st.OptInt(8)) c.last_used_at = FromMillis(*t);
  c.last_used_ip = st.Text(9);
  return c;
}


// ---- groups ----

Result<std::vector<std::string>> LoadMembers(Connection& db, Id group_id) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT u.email FROM group_members m JOIN users u ON "
                                            "u.id = m.user_id WHERE m.group_id = ? "
                                            "ORDER BY u.email"));
  st.Bind(1, group_id);
  std::vector<std::string> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    out.push_back(st.Text(0));
  }
}

Result<Group> LoadGroup(Connection& db, std::string_view where, const auto& key,
                        const std::string& not_found) {
  Group g;
  {
    ASSIGN_OR_RETURN(Statement st,
                     db.Prepare("SELECT id, name FROM user_groups WHERE " + std::string(where)));
    st.Bind(1, key);
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return Status::NotFound(not_found);
    g.id = st.Int(0);
    g.name = st.Text(1);
  }
  ASSIGN_OR_RETURN(g.members, LoadMembers(db, g.id));
  return g;
}

Result<std::vector<Group>> LoadGroups(Connection& db) {
  std::vector<Group> groups;
  std::map<Id, size_t> index;
  {
    ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT id, name FROM user_groups ORDER BY id"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      index[st.Int(0)] = groups.size();
      groups.push_back(Group{st.Int(0), st.Text(1), {}});
    }
  }
  ASSIGN_OR_RETURN(Statement ms, db.Prepare("SELECT m.group_id, u.email FROM group_members m JOIN "
                                            "users u ON u.id = m.user_id ORDER BY u.email"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, ms.Step());
    if (!row) break;
    if (auto it = index.find(ms.Int(0)); it != index.end()) {
      groups[it->second].members.push_back(ms.Text(1));
    }
  }
  return groups;
}

// Replaces the members of `group_id`; every email must name a user.
Status WriteMembers(Connection& db, Id group_id, const std::vector<std::string>& emails) {
  {
    ASSIGN_OR_RETURN(Statement del, db.Prepare("DELETE FROM group_members WHERE group_id = ?"));
    RETURN_IF_ERROR(del.Bind(1, group_id).Run());
  }
  for (const std::string& email : emails) {
    Id user_id;
    {
      ASSIGN_OR_RETURN(Statement find, db.Prepare("SELECT id FROM users WHERE email = ?"));
      find.Bind(1, email);
      ASSIGN_OR_RETURN(bool row, find.Step());
      if (!row) return Status::NotFound("group member '" + email + "' is not a user");
      user_id = find.Int(0);
    }
    ASSIGN_OR_RETURN(Statement ins,
                     db.Prepare("INSERT OR IGNORE INTO group_members VALUES (?, ?)"));
    RETURN_IF_ERROR(ins.Bind(1, group_id).Bind(2, user_id).Run());
  }
  return Status::Ok();
}

// ---- services, access groups, policies ----
//
// Each kind describes its table once; the generic functions below do the rest.

struct ServiceTable {
  using T = Service;
  static constexpr const char* kKind = "service";
  static constexpr const char* kTable = "services";
  static constexpr const char* kCols =
      "id, name, description, backend, protocol, port_first, port_last, target_json, "
      "keep_established";
  static constexpr const char* kSet =
      "name = ?1, description = ?2, backend = ?3, protocol = ?4, port_first = ?5, "
      "port_last = ?6, target_json = ?7, keep_established = ?8";
  static constexpr int kNumValues = 8;
  static void Bind(Statement& st, const Service& s) {
    st.Bind(1, s.name).Bind(2, s.description).Bind(3, s.backend).Bind(4, ToString(s.protocol));
    if (s.ports) {
      st.Bind(5, int64_t{s.ports->first}).Bind(6, int64_t{s.ports->last});
    } else {
      st.BindNull(5).BindNull(6);
    }
    st.Bind(7, s.target_json).Bind(8, s.keep_established);
  }
  static Result<Service> Read(const Statement& st) {
    Service s;
    s.id = st.Int(0);
    s.name = st.Text(1);
    s.description = st.Text(2);
    s.backend = st.Text(3);
    auto p = ParseProtocol(st.TextView(4));
    if (!p) return Corrupt(kTable, s.id, "protocol");
    s.protocol = *p;
    if (!st.IsNull(5)) {
      s.ports = PortRange{static_cast<uint16_t>(st.Int(5)), static_cast<uint16_t>(st.Int(6))};
    }
    s.target_json = st.Text(7);
    s.keep_established = st.Int(8) != 0;
    return s;
  }
};

struct AccessGroupTable {
  using T = AccessGroup;
  static constexpr const char* kKind = "access group";
  static constexpr const char* kTable = "access_groups";
  static constexpr const char* kCols = "id, name, services_json, is_public";
  static constexpr const char* kSet = "name = ?1, services_json = ?2, is_public = ?3";
  static constexpr int kNumValues = 3;
  static void Bind(Statement& st, const AccessGroup& g) {
    st.Bind(1, g.name).Bind(2, EncodeStringList(g.services)).Bind(3, g.is_public);
  }
  static Result<AccessGroup> Read(const Statement& st) {
    AccessGroup g;
    g.id = st.Int(0);
    g.name = st.Text(1);
    auto services = DecodeStringList(st.TextView(2));
    if (!services.ok()) return Corrupt(kTable, g.id, services.status().message());
    g.services = std::move(services).value();
    g.is_public = st.Int(3) != 0;
    return g;
  }
};

struct PolicyTable {
  using T = Policy;
  static constexpr const char* kKind = "policy";
  static constexpr const char* kTable = "policies";
  static constexpr const char* kCols = "id, name, spec_json";
  static constexpr const char* kSet = "name = ?1, spec_json = ?2";
  static constexpr int kNumValues = 2;
  static void Bind(Statement& st, const Policy& p) {
    st.Bind(1, p.name).Bind(2, store::EncodePolicySpec(p));
  }
  static Result<Policy> Read(const Statement& st) {
    Policy p;
    p.id = st.Int(0);
    p.name = st.Text(1);
    if (Status s = store::DecodePolicySpec(st.TextView(2), p); !s.ok()) {
      return Corrupt(kTable, p.id, s.message());
    }
    return p;
  }
};

template <typename Table>
std::string Placeholders() {
  std::string s;
  for (int i = 1; i <= Table::kNumValues; ++i) s += (i > 1 ? ", ?" : "?") + std::to_string(i);
  return s;
}

template <typename Table>
Result<typename Table::T> InsertNamed(Connection& db, const typename Table::T& v) {
  // kCols minus the leading "id, ".
  const std::string cols = std::string(Table::kCols).substr(4);
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("INSERT INTO ") + Table::kTable + " (" +
                                            cols + ") VALUES (" + Placeholders<Table>() + ")"));
  Table::Bind(st, v);
  RETURN_IF_ERROR(Named(st.Run(), Table::kKind, v.name));
  typename Table::T out = v;
  out.id = db.LastInsertRowid();
  return out;
}

template <typename Table>
Status UpdateNamed(Connection& db, const typename Table::T& v) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare(std::string("UPDATE ") + Table::kTable + " SET " + Table::kSet +
                              " WHERE id = ?" + std::to_string(Table::kNumValues + 1)));
  Table::Bind(st, v);
  st.Bind(Table::kNumValues + 1, v.id);
  RETURN_IF_ERROR(Named(st.Run(), Table::kKind, v.name));
  if (db.Changes() == 0) return IdNotFound(Table::kKind, v.id);
  return Status::Ok();
}

template <typename Table>
Result<typename Table::T> LoadNamed(Connection& db, std::string_view where, const auto& key,
                                    const std::string& not_found) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + Table::kCols + " FROM " +
                                            Table::kTable + " WHERE " + std::string(where)));
  st.Bind(1, key);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::NotFound(not_found);
  return Table::Read(st);
}

template <typename Table>
Result<std::vector<typename Table::T>> LoadAllNamed(Connection& db) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("SELECT ") + Table::kCols + " FROM " +
                                            Table::kTable + " ORDER BY id"));
  std::vector<typename Table::T> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    ASSIGN_OR_RETURN(auto v, Table::Read(st));
    out.push_back(std::move(v));
  }
}

Status DeleteById(Connection& db, const char* table, std::string_view kind, Id id) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare(std::string("DELETE FROM ") + table + " WHERE id = ?"));
  RETURN_IF_ERROR(st.Bind(1, id).Run());
  if (db.Changes() == 0) return IdNotFound(kind, id);
  return Status::Ok();
}

// ---- leases ----

constexpr char kLeaseCols[] =
    "id, owner_id, owner, services_json, recipient, invite_email, source, state, reason, "
    "policy, created_at, activated_at, expires_at, ended_at, ended_by, approved_by, duration_s, "
    "reminded";

std::optional<int64_t> OptMillis(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return ToMillis(*t);
}

// Binds everything but the id, as ?1..?17.
void BindLease(Statement& st, const Lease& l) {
  st.Bind(1, l.owner_id)
      .Bind(2, l.owner)
      .Bind(3, EncodeStringList(l.services))
      .Bind(4, ToString(l.recipient))
      .Bind(5, l.invite_email)
      .Bind(6, l.source.ToString())
      .Bind(7, ToString(l.state))
      .Bind(8, l.reason)
      .Bind(9, l.policy)
      .Bind(10, ToMillis(l.created_at))
      .Bind(11, OptMillis(l.activated_at))
      .Bind(12, ToMillis(l.expires_at))
      .Bind(13, OptMillis(l.ended_at))
      .Bind(14, l.ended_by)
      .Bind(15, l.approved_by)
      .Bind(16, static_cast<int64_t>(l.duration.count()))
      .Bind(17, l.reminded);
}

Result<Lease> ReadLeaseRow(const Statement& st) {
  Lease l;
  l.id = st.Int(0);
  l.owner_id = st.Int(1);
  l.owner = st.Text(2);
  auto services = DecodeStringList(st.TextView(3));
  if (!services.ok()) return Corrupt("leases", l.id, services.status().message());
  l.services = std::move(services).value();
  auto recipient = ParseRecipientKind(st.TextView(4));
  if (!recipient) return Corrupt("leases", l.id, "recipient");
  l.recipient = *recipient;
  l.invite_email = st.Text(5);
  auto source = Cidr::Parse(st.TextView(6));
  if (!source.ok()) return Corrupt("leases", l.id, "source");
  l.source = *source;
  auto state = ParseLeaseState(st.TextView(7));
  if (!state) return Corrupt("leases", l.id, "state");
  l.state = *state;
  l.reason = st.Text(8);
  l.policy = st.Text(9);
  l.created_at = FromMillis(st.Int(10));
  if (auto t = st.OptInt(11)) l.activated_at = FromMillis(*t);
  l.expires_at = FromMillis(st.Int(12));
  if (auto t = st.OptInt(13)) l.ended_at = FromMillis(*t);
  l.ended_by = st.Text(14);
  l.approved_by = st.Text(15);
  l.duration = Seconds(st.Int(16));
  l.reminded = st.Int(17) != 0;
  return l;
}

Result<Lease> LoadLease(Connection& db, Id id) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare(std::string("SELECT ") + kLeaseCols + " FROM leases WHERE id = ?"));
  st.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return IdNotFound("lease", id);
  return ReadLeaseRow(st);
}

Result<std::vector<Lease>> LoadLeases(Connection& db, const LeaseFilter& f) {
  if (f.states && f.states->empty()) return std::vector<Lease>{};
  // The SQL text varies only with the number of states, so the statement
  // cache stays small.
  std::string sql = std::string("SELECT ") + kLeaseCols + " FROM leases";
  std::vector<std::string> where;
  if (f.states) {
    std::string in = "state IN (";
    for (size_t i = 0; i < f.states->size(); ++i) in += i ? ", ?" : "?";
    where.push_back(in + ")");
  }
  if (f.owner_id) where.push_back("owner_id = ?");
  if (f.recipient) where.push_back("recipient = ?");
  std::string where_sql;
  for (size_t i = 0; i < where.size(); ++i) where_sql += (i ? " AND " : " WHERE ") + where[i];
  auto bind = [&](Statement& st) {
    int idx = 1;
    if (f.states) {
      for (LeaseState s : *f.states) st.Bind(idx++, ToString(s));
    }
    if (f.owner_id) st.Bind(idx++, *f.owner_id);
    if (f.recipient) st.Bind(idx++, ToString(*f.recipient));
    return idx;
  };

  std::vector<Lease> out;
  // Large reads (the controller loads every live lease at start) are sized
  // first, so the vector is not regrown and moved ~17 times on 100k rows.
  // Same read transaction, so the count matches.
  if (f.limit <= 0 || f.limit > 1024) {
    ASSIGN_OR_RETURN(Statement count, db.Prepare("SELECT count(*) FROM leases" + where_sql));
    bind(count);
    ASSIGN_OR_RETURN(bool row, count.Step());
    int64_t n = row ? count.Int(0) : 0;
    if (f.limit > 0) n = std::min<int64_t>(n, f.limit);
    out.reserve(static_cast<size_t>(n));
  }

  ASSIGN_OR_RETURN(Statement st, db.Prepare(sql + where_sql + " ORDER BY id DESC LIMIT ?"));
  const int idx = bind(st);
  st.Bind(idx, int64_t{f.limit > 0 ? f.limit : -1});  // LIMIT -1: no limit

  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    ASSIGN_OR_RETURN(Lease l, ReadLeaseRow(st));
    out.push_back(std::move(l));
  }
}

Status CheckLeaseState(Connection& db, Id id, LeaseState expected) {
  ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT state FROM leases WHERE id = ?"));
  st.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return IdNotFound("lease", id);
  if (st.TextView(0) != ToString(expected)) {
    return Status::Conflict("state_changed", "lease " + std::to_string(id) + " is " + st.Text(0) +
                                                 ", expected " + std::string(ToString(expected)));
  }
  return Status::Ok();
}

Status WriteLease(Connection& db, const Lease& l, LeaseState expected) {
  RETURN_IF_ERROR(CheckLeaseState(db, l.id, expected));
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("UPDATE leases SET owner_id = ?1, owner = ?2, services_json = ?3, "
                              "recipient = ?4, invite_email = ?5, source = ?6, state = ?7, "
                              "reason = ?8, policy = ?9, created_at = ?10, activated_at = ?11, "
                              "expires_at = ?12, ended_at = ?13, ended_by = ?14, "
                              "approved_by = ?15, duration_s = ?16, reminded = ?17 "
                              "WHERE id = ?18"));
  BindLease(st, l);
  st.Bind(18, l.id);
  return st.Run();
}

// ---- outbox ----

// Rows of the outbox matching `where_order` (which binds ?1 = limit and
// optionally ?2 = `arg`).
template <typename... Arg>
Result<std::vector<OutboxMessage>> LoadOutbox(Connection& db, std::string_view where_order,
                                              int limit, const Arg&... arg) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("SELECT id, channel, target, event, subject, body_text, body_html, "
                              "created_at, state, attempts, next_attempt_at, last_error, sent_at "
                              "FROM outbox WHERE " +
                              std::string(where_order)));
  st.Bind(1, limit <= 0 ? int64_t{-1} : int64_t{limit});
  if constexpr (sizeof...(arg) > 0) st.Bind(2, arg...);
  std::vector<OutboxMessage> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    OutboxMessage m;
    m.id = st.Int(0);
    m.channel = st.Text(1);
    m.target = st.Text(2);
    m.event = st.Text(3);
    m.subject = st.Text(4);
    m.text = st.Text(5);
    m.html = st.Text(6);
    m.created_at = FromMillis(st.Int(7));
    m.state = st.Text(8);
    m.attempts = static_cast<int>(st.Int(9));
    m.next_attempt_at = FromMillis(st.Int(10));
    m.last_error = st.Text(11);
    if (auto t = st.OptInt(12)) m.sent_at = FromMillis(*t);
    out.push_back(std::move(m));
  }
}

// ---- sessions ----

Result<Session> LoadSession(Connection& db, std::string_view token_hash) {
  ASSIGN_OR_RETURN(Statement st,
                   db.Prepare("SELECT token_hash, csrf_token, user_id, created_at, expires_at, "
                              "method, mfa_enrolment_only FROM sessions WHERE token_hash = ?"));
  st.Bind(1, token_hash);
  ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::NotFound("no such session");
  return Session{st.Text(0),           st.Text(1), st.Int(2), FromMillis(st.Int(3)),
                 FromMillis(st.Int(4)), st.Text(5), st.Int(6) != 0};
}

Result<std::vector<AuditEvent>> LoadAudit(Connection& db, const AuditQuery& q) {
  // Only fixed SQL fragments are joined; every value is bound.
  std::string sql =
      "SELECT seq, time, actor, action, object, client_ip, details_json, prev_hash, hash "
      "FROM audit WHERE seq > ?";
  if (q.before) sql += " AND seq < ?";
  if (!q.actor.empty()) sql += " AND actor = ?";
  // substr, not LIKE: a prefix holding % or _ must match literally.
  if (!q.action_prefix.empty()) sql += " AND substr(action, 1, length(?)) = ?";
  if (q.since) sql += " AND time >= ?";
  if (q.until) sql += " AND time < ?";
  sql += q.newest_first ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq LIMIT ?";
  ASSIGN_OR_RETURN(Statement st, db.Prepare(sql));
  int i = 1;
  st.Bind(i++, q.after);
  if (q.before) st.Bind(i++, *q.before);
  if (!q.actor.empty()) st.Bind(i++, q.actor);
  if (!q.action_prefix.empty()) {
    st.Bind(i++, q.action_prefix);
    st.Bind(i++, q.action_prefix);
  }
  if (q.since) st.Bind(i++, ToMillis(*q.since));
  if (q.until) st.Bind(i++, ToMillis(*q.until));
  st.Bind(i++, int64_t{q.limit > 0 ? q.limit : -1});
  std::vector<AuditEvent> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) return out;
    AuditEvent e;
    e.seq = st.Int(0);
    e.time = FromMillis(st.Int(1));
    e.actor = st.Text(2);
    e.action = st.Text(3);
    e.object = st.Text(4);
    e.client_ip = st.Text(5);
    e.details_json = st.Text(6);
    e.prev_hash = st.Text(7);
    e.hash = st.Text(8);
    out.push_back(std::move(e));
  }
}

// ---- connections ----

Status Configure(Connection& db, const SqliteOptions& options) {
  RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms)));
  RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  // FULL: in WAL mode, NORMAL would skip the fsync on commit, and an
  // acknowledged lease could vanish with a power cut (DESIGN.md invariant 8).
  RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = FULL"));
  RETURN_IF_ERROR(db.Exec("PRAGMA temp_store = MEMORY"));
  // Reading the whole lease table at start-up is the heavy read: map the file
  // instead of copying each page through read(), and keep more pages cached.
  RETURN_IF_ERROR(db.Exec("PRAGMA mmap_size = " + std::to_string(options.mmap_bytes)));
  RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -" + std::to_string(options.cache_kib)));
  return Status::Ok();
}

// Reader connections handed out one caller at a time.
class ReaderPool {
 public:
  void Add(std::unique_ptr<Connection> c) {
    free_.push_back(c.get());
    all_.push_back(std::move(c));
  }
  bool empty() const { return all_.empty(); }

  template <typename Fn>
  auto With(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    Connection* c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      c = free_.back();
      free_.pop_back();
    }
    // One read transaction, so that multi-statement reads see one snapshot.
    auto result = sqlite::InTransaction(*c, /*write=*/false, [&] { return fn(*c); });
    {
      std::lock_guard lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
    return result;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Connection*> free_;
  std::vector<std::unique_ptr<Connection>> all_;
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Connection> writer, const SqliteOptions& options)
      : writer_(std::move(writer)),
        committer_(*writer_, options.group_commit ? std::max(1, options.max_batch) : 1) {}

  ReaderPool& readers() { return readers_; }

  // ---- users ----
  Result<User> CreateUser(const User& user, const AuditEntry& audit) override {
    std::optional<User> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("INSERT INTO users (email, password_hash, role, "
                                  "must_change_password, disabled, source, subject, "
                                  "external_groups, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      BindUser(st, user);
      st.Bind(9, ToMillis(user.created_at));
      RETURN_IF_ERROR(Named(st.Run(), "user", user.email));
      ASSIGN_OR_RETURN(out, LoadUserById(db, db.LastInsertRowid()));
      return AppendEvent(db, audit, 0, out->id);
    }));
    return *out;
  }

  Result<User> UpdateUser(const User& user, const AuditEntry& audit) override {
    std::optional<User> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("UPDATE users SET email = ?, password_hash = ?, role = ?, "
                                  "must_change_password = ?, disabled = ?, source = ?, "
                                  "subject = ?, external_groups = ? WHERE id = ?"));
      BindUser(st, user);
      st.Bind(9, user.id);
      RETURN_IF_ERROR(Named(st.Run(), "user", user.email));
      if (db.Changes() == 0) return IdNotFound("user", user.id);
      ASSIGN_OR_RETURN(out, LoadUserById(db, user.id));
      return AppendEvent(db, audit);
    }));
    return *out;
  }

  Status DeleteUser(Id id, const AuditEntry& audit) override {
    // Memberships and sessions go with the row (ON DELETE CASCADE).
    return Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(DeleteById(db, "users", "user", id));
      return AppendEvent(db, audit);
    });
  }

  Result<User> GetUser(Id id) override {
    return Read([&](Connection& db) { return LoadUserById(db, id); });
  }

  Result<User> FindUser(std::string_view email) override {
    return Read([&](Connection& db) {
      return LoadUser(db, "email = ?", email, "no user '" + std::string(email) + "'");
    });
  }

  Result<User> FindUserBySubject(std::string_view source, std::string_view subject) override {
    std::string key = std::string(source) + '\n' + std::string(subject);
    return Read([&](Connection& db) {
      return LoadUser(db, "subject != '' AND source || char(10) || subject = ?", key,
                      "no " + std::string(source) + " user '" + std::string(subject) + "'");
    });
  }

  std::vector<User> ListUsers() override {
    return OrEmpty(Read([&](Connection& db) { return LoadUsers(db); }));
  }

  int64_t CountUsers() override {
    auto r = Read([&](Connection& db) -> Result<int64_t> {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT count(*) FROM users"));
      ASSIGN_OR_RETURN(bool row, st.Step());
      return row ? st.Int(0) : 0;
    });
    return r.ok() ? *r : 0;
  }

  // ---- groups ----
  Result<Group> CreateGroup(const Group& group, const AuditEntry& audit) override {
    std::optional<Group> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("INSERT INTO user_groups (name) VALUES (?)"));
      RETURN_IF_ERROR(Named(st.Bind(1, group.name).Run(), "group", group.name));
      const Id id = db.LastInsertRowid();
      RETURN_IF_ERROR(WriteMembers(db, id, group.members));
      ASSIGN_OR_RETURN(out, LoadGroup(db, "id = ?", id, "group vanished"));
      return AppendEvent(db, audit);
    }));
    return *out;
  }

  Result<Group> UpdateGroup(const Group& group, const AuditEntry& audit) override {
    std::optional<Group> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE user_groups SET name = ? WHERE id = ?"));
      RETURN_IF_ERROR(Named(st.Bind(1, group.name).Bind(2, group.id).Run(), "group", group.name));
      if (db.Changes() == 0) return IdNotFound("group", group.id);
      RETURN_IF_ERROR(WriteMembers(db, group.id, group.members));
      ASSIGN_OR_RETURN(out, LoadGroup(db, "id = ?", group.id, "group vanished"));
      return AppendEvent(db, audit);
    }));
    return *out;
  }

  Status DeleteGroup(Id id, const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(DeleteById(db, "user_groups", "group", id));
      return AppendEvent(db, audit);
    });
  }

  Result<Group> GetGroup(Id id) override {
    return Read([&](Connection& db) {
      return LoadGroup(db, "id = ?", id, "no group with id " + std::to_string(id));
    });
  }

  Result<Group> FindGroup(std::string_view name) override {
    return Read([&](Connection& db) {
      return LoadGroup(db, "name = ?", name, "no group '" + std::string(name) + "'");
    });
  }

  std::vector<Group> ListGroups() override {
    return OrEmpty(Read([&](Connection& db) { return LoadGroups(db); }));
  }

  // ---- services, access groups, policies ----
  Result<Service> CreateService(const Service& s, const AuditEntry& a) override {
    return Create<ServiceTable>(s, a);
  }
  Result<Service> UpdateService(const Service& s, const AuditEntry& a) override {
    return Update<ServiceTable>(s, a);
  }
  Status DeleteService(Id id, const AuditEntry& a) override { return Delete<ServiceTable>(id, a); }
  Result<Service> GetService(Id id) override { return Get<ServiceTable>(id); }
  Result<Service> FindService(std::string_view name) override { return Find<ServiceTable>(name); }
  std::vector<Service> ListServices() override { return List<ServiceTable>(); }

  Result<AccessGroup> CreateAccessGroup(const AccessGroup& g, const AuditEntry& a) override {
    return Create<AccessGroupTable>(g, a);
  }
  Result<AccessGroup> UpdateAccessGroup(const AccessGroup& g, const AuditEntry& a) override {
    return Update<AccessGroupTable>(g, a);
  }
  Status DeleteAccessGroup(Id id, const AuditEntry& a) override {
    return Delete<AccessGroupTable>(id, a);
  }
  Result<AccessGroup> GetAccessGroup(Id id) override { return Get<AccessGroupTable>(id); }
  Result<AccessGroup> FindAccessGroup(std::string_view name) override {
    return Find<AccessGroupTable>(name);
  }
  std::vector<AccessGroup> ListAccessGroups() override { return List<AccessGroupTable>(); }

  Result<Policy> CreatePolicy(const Policy& p, const AuditEntry& a) override {
    return Create<PolicyTable>(p, a);
  }
  Result<Policy> UpdatePolicy(const Policy& p, const AuditEntry& a) override {
    return Update<PolicyTable>(p, a);
  }
  Status DeletePolicy(Id id, const AuditEntry& a) override { return Delete<PolicyTable>(id, a); }
  Result<Policy> GetPolicy(Id id) override { return Get<PolicyTable>(id); }
  Result<Policy> FindPolicy(std::string_view name) override { return Find<PolicyTable>(name); }
  std::vector<Policy> ListPolicies() override { return List<PolicyTable>(); }

  // ---- leases ----
  Result<Lease> CreateLease(const Lease& lease, const AuditEntry& audit,
                            const LeaseEffects& effects) override {
    Lease out = lease;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("INSERT INTO leases (owner_id, owner, services_json, "
                                  "recipient, invite_email, source, state, reason, policy, "
                                  "created_at, activated_at, expires_at, ended_at, ended_by, "
                                  "approved_by, duration_s, reminded) VALUES (?1, ?2, ?3, ?4, "
                                  "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"));
      BindLease(st, lease);
      RETURN_IF_ERROR(st.Run());
      out.id = db.LastInsertRowid();
      AuditEntry named = NameLeaseEvent(audit, out.id);
      if (effects) effects(out, named);
      return AppendEvent(db, named, out.id);
    }));
    return out;
  }

  Result<Lease> UpdateLease(const Lease& lease, LeaseState expected,
                            const AuditEntry& audit) override {
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(WriteLease(db, lease, expected));
      return AppendEvent(db, audit);
    }));
    return lease;
  }

  Status UpdateLeases(const std::vector<LeaseUpdate>& updates) override {
    // One change, hence one savepoint: any failure undoes the whole batch.
    return Write([&](Connection& db) -> Status {
      for (const LeaseUpdate& u : updates) {
        RETURN_IF_ERROR(WriteLease(db, u.lease, u.expected));
        RETURN_IF_ERROR(AppendEvent(db, u.audit));
      }
      return Status::Ok();
    });
  }

  Result<Lease> GetLease(Id id) override {
    return Read([&](Connection& db) { return LoadLease(db, id); });
  }

  std::vector<Lease> ListLeases(const LeaseFilter& filter) override {
    return OrEmpty(Read([&](Connection& db) { return LoadLeases(db, filter); }));
  }

  // ---- sessions ----
  Status CreateSession(const Session& s) override {
    return Write([&](Connection& db) -> Status {
      {
        ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT 1 FROM users WHERE id = ?"));
        ASSIGN_OR_RETURN(bool row, st.Bind(1, s.user_id).Step());
        if (!row) return IdNotFound("user", s.user_id);
      }
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("INSERT INTO sessions (token_hash, csrf_token, user_id, "
                                  "created_at, expires_at, method, mfa_enrolment_only) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?)"));
      Status r = st.Bind(1, s.token_hash)
                     .Bind(2, s.csrf_token)
                     .Bind(3, s.user_id)
                     .Bind(4, ToMillis(s.created_at))
                     .Bind(5, ToMillis(s.expires_at))
                     .Bind(6, s.method)
                     .Bind(7, s.mfa_enrolment_only)
                     .Run();
      if (r.reason() == "name_taken") {
        return Status::Conflict("name_taken", "a session with this token hash exists");
      }
      return r;
    });
  }

  Result<Session> FindSession(std::string_view token_hash) override {
    return Read([&](Connection& db) { return LoadSession(db, token_hash); });
  }

  Status DeleteSession(std::string_view token_hash) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM sessions WHERE token_hash = ?"));
      RETURN_IF_ERROR(st.Bind(1, token_hash).Run());
      if (db.Changes() == 0) return Status::NotFound("no such session");
      return Status::Ok();
    });
  }

  Status DeleteUserSessions(Id user_id) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM sessions WHERE user_id = ?"));
      return st.Bind(1, user_id).Run();
    });
  }

  // ---- lockout ----
  Result<User> RecordLoginFailure(Id id, Time now, int max_failures, Seconds lock_for) override {
    std::optional<User> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      // One statement, so concurrent failures each count.
      ASSIGN_OR_RETURN(
          Statement st,
          db.Prepare("UPDATE users SET failed_logins = failed_logins + 1, locked_until = CASE "
                     "WHEN ?1 > 0 AND failed_logins + 1 >= ?1 THEN ?2 ELSE locked_until END "
                     "WHERE id = ?3"));
      RETURN_IF_ERROR(
          st.Bind(1, max_failures).Bind(2, ToMillis(now + lock_for)).Bind(3, id).Run());
      if (db.Changes() == 0) return IdNotFound("user", id);
      ASSIGN_OR_RETURN(out, LoadUserById(db, id));
      return Status::Ok();
    }));
    return *out;
  }

  Status ResetLoginFailures(Id id, const AuditEntry* audit) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE users SET failed_logins = 0, "
                                                "locked_until = NULL WHERE id = ?"));
      RETURN_IF_ERROR(st.Bind(1, id).Run());
      if (db.Changes() == 0) return IdNotFound("user", id);
      return audit != nullptr ? AppendEvent(db, *audit) : Status::Ok();
    });
  }

  // ---- MFA ----
  Result<MfaRecord> GetMfa(Id user_id) override {
    return Read([&](Connection& db) { return LoadMfa(db, user_id); });
  }

  Status PutMfa(const MfaRecord& m, const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      {
        ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT 1 FROM users WHERE id = ?"));
        ASSIGN_OR_RETURN(bool row, st.Bind(1, m.user_id).Step());
        if (!row) return IdNotFound("user", m.user_id);
      }
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare(std::string("INSERT OR REPLACE INTO mfa (") + kMfaCols +
                                  ") VALUES (?, ?, ?, ?, ?, ?)"));
      RETURN_IF_ERROR(st.Bind(1, m.user_id)
                          .Bind(2, m.secret)
                          .Bind(3, m.confirmed)
                          .Bind(4, m.last_step)
                          .Bind(5, EncodeStringList(m.recovery_hashes))
                          .Bind(6, ToMillis(m.created_at))
                          .Run());
      return AppendEvent(db, audit);
    });
  }

  Status DeleteMfa(Id user_id, const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("DELETE FROM mfa WHERE user_id = ?"));
      RETURN_IF_ERROR(st.Bind(1, user_id).Run());
      if (db.Changes() == 0) {
        return Status::NotFound("user " + std::to_string(user_id) + " has no second factor");
      }
      return AppendEvent(db, audit);
    });
  }

  Status UseTotpStep(Id user_id, int64_t step) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE mfa SET last_step = ?1 WHERE "
                                                "user_id = ?2 AND last_step < ?1"));
      RETURN_IF_ERROR(st.Bind(1, step).Bind(2, user_id).Run());
      if (db.Changes() != 0) return Status::Ok();
      RETURN_IF_ERROR(LoadMfa(db, user_id).status());
      return Status::Conflict("code_used", "this one-time code was already used");
    });
  }

  Status UseRecoveryCode(Id user_id, std::string_view code_hash,
                         const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(MfaRecord m, LoadMfa(db, user_id));
      auto it = std::find(m.recovery_hashes.begin(), m.recovery_hashes.end(), code_hash);
      if (it == m.recovery_hashes.end()) return Status::NotFound("no such recovery code");
      m.recovery_hashes.erase(it);
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("UPDATE mfa SET recovery_hashes = ? WHERE user_id = ?"));
      RETURN_IF_ERROR(st.Bind(1, EncodeStringList(m.recovery_hashes)).Bind(2, user_id).Run());
      return AppendEvent(db, audit);
    });
  }

  // ---- credentials ----
  Result<Credential> CreateCredential(const Credential& c, const AuditEntry& audit) override {
    std::optional<Credential> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      {
        ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT 1 FROM users WHERE id = ?"));
        ASSIGN_OR_RETURN(bool row, st.Bind(1, c.user_id).Step());
        if (!row) return IdNotFound("user", c.user_id);
      }
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("INSERT INTO credentials (user_id, kind, name, lookup, secret, "
                                  "created_at, expires_at, last_used_at, last_used_ip) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      RETURN_IF_ERROR(Named(st.Bind(1, c.user_id)
                                .Bind(2, c.kind)
                                .Bind(3, c.name)
                                .Bind(4, c.lookup)
                                .Bind(5, c.secret)
                                .Bind(6, ToMillis(c.created_at))
                                .Bind(7, OptMillis(c.expires_at))
                                .Bind(8, OptMillis(c.last_used_at))
                                .Bind(9, c.last_used_ip)
                                .Run(),
                            c.kind, c.name));
      Id id = db.LastInsertRowid();
      ASSIGN_OR_RETURN(out, LoadCredential(db, "id = ?", id, nullptr, "no credential"));
      return AppendEvent(db, audit);
    }));
    return *out;
  }

  Result<Credential> GetCredential(Id id) override {
    return Read([&](Connection& db) {
      return LoadCredential(db, "id = ?", id, nullptr,
                            "no credential with id " + std::to_string(id));
    });
  }

  Result<Credential> FindCredential(std::string_view kind, std::string_view lookup) override {
    return Read([&](Connection& db) {
      return LoadCredential(db, "kind = ? AND lookup = ?", kind, lookup,
                            "no such " + std::string(kind));
    });
  }

  std::vector<Credential> ListCredentials(std::optional<Id> user_id) override {
    return OrEmpty(Read([&](Connection& db) -> Result<std::vector<Credential>> {
      std::vector<Id> ids;
      {
        ASSIGN_OR_RETURN(Statement st,
                         db.Prepare(user_id ? "SELECT id FROM credentials WHERE user_id = ? "
                                              "ORDER BY id"
                                            : "SELECT id FROM credentials ORDER BY id"));
        if (user_id) st.Bind(1, *user_id);
        while (true) {
          ASSIGN_OR_RETURN(bool row, st.Step());
          if (!row) break;
          ids.push_back(st.Int(0));
        }
      }
      std::vector<Credential> out;
      for (Id id : ids) {
        ASSIGN_OR_RETURN(Credential c, LoadCredential(db, "id = ?", id, nullptr, "gone"));
        out.push_back(std::move(c));
      }
      return out;
    }));
  }

  Status DeleteCredential(Id id, const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(DeleteById(db, "credentials", "credential", id));
      return AppendEvent(db, audit);
    });
  }

  Status TouchCredential(Id id, Time when, std::string_view client_ip) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("UPDATE credentials SET last_used_at = ?, "
                                                "last_used_ip = ? WHERE id = ?"));
      RETURN_IF_ERROR(st.Bind(1, ToMillis(when)).Bind(2, client_ip).Bind(3, id).Run());
      if (db.Changes() == 0) return IdNotFound("credential", id);
      return Status::Ok();
    });
  }

  // ---- settings ----
  Result<std::string> GetSetting(std::string_view name) override {
    return Read([&](Connection& db) -> Result<std::string> {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT value FROM settings WHERE name = ?"));
      ASSIGN_OR_RETURN(bool row, st.Bind(1, name).Step());
      if (!row) return Status::NotFound("no setting '" + std::string(name) + "'");
      return st.Text(0);
    });
  }

  Status PutSetting(std::string_view name, std::string_view value,
                    const AuditEntry& audit) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)"));
      RETURN_IF_ERROR(st.Bind(1, name).Bind(2, value).Run());
      return AppendEvent(db, audit);
    });
  }

  // ---- action tokens, outbox, secrets ----
  Result<ActionToken> FindActionToken(std::string_view token_hash) override {
    return Read([&](Connection& db) -> Result<ActionToken> {
      ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT token_hash, purpose, lease_id, user_id, "
                                                "created_at, expires_at, used_at FROM "
                                                "action_tokens WHERE token_hash = ?"));
      ASSIGN_OR_RETURN(bool row, st.Bind(1, token_hash).Step());
      if (!row) return Status::NotFound("no such token");
      ActionToken t{st.Text(0), st.Text(1), st.Int(2), st.Int(3), FromMillis(st.Int(4)),
                    FromMillis(st.Int(5)), std::nullopt};
      if (auto used = st.OptInt(6)) t.used_at = FromMillis(*used);
      return t;
    });
  }

  Result<std::vector<OutboxMessage>> DueOutbox(Time now, int limit) override {
    return Read([&](Connection& db) {
      return LoadOutbox(db, "state = 'pending' AND next_attempt_at <= ?2 ORDER BY id LIMIT ?1",
                        limit, ToMillis(now));
    });
  }

  Status UpdateOutbox(const OutboxMessage& m) override {
    return Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(Statement st,
                       db.Prepare("UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, "
                                  "last_error = ?, sent_at = ? WHERE id = ?"));
      RETURN_IF_ERROR(
          st.Bind(1, m.state)
              .Bind(2, m.attempts)
              .Bind(3, ToMillis(m.next_attempt_at))
              .Bind(4, m.last_error)
              .Bind(5, m.sent_at ? std::optional<int64_t>(ToMillis(*m.sent_at)) : std::nullopt)
              .Bind(6, m.id)
              .Run());
      if (db.Changes() == 0) return IdNotFound("outbox message", m.id);
      return Status::Ok();
    });
  }

  Result<std::vector<OutboxMessage>> ListOutbox(std::string_view state, int limit) override {
    return Read([&](Connection& db) {
      if (state.empty()) return LoadOutbox(db, "1 ORDER BY id DESC LIMIT ?1", limit);
      return LoadOutbox(db, "state = ?2 ORDER BY id DESC LIMIT ?1", limit, state);
    });
  }

  Result<std::string> GetOrCreateSecret(std::string_view name) override {
    std::string value;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      {
        ASSIGN_OR_RETURN(Statement st, db.Prepare("SELECT value FROM secrets WHERE name = ?"));
        ASSIGN_OR_RETURN(bool row, st.Bind(1, name).Step());
        if (row) {
          value = st.Text(0);
          return Status::Ok();
        }
      }
      ASSIGN_OR_RETURN(value, store::NewSecret());
      ASSIGN_OR_RETURN(Statement st, db.Prepare("INSERT INTO secrets VALUES (?, ?)"));
      return st.Bind(1, name).Bind(2, value).Run();
    }));
    return value;
  }

  // ---- audit ----
  Status AppendAudit(const AuditEntry& audit) override {
    return Write([&](Connection& db) { return AppendEvent(db, audit); });
  }

  Result<std::vector<AuditEvent>> QueryAudit(const AuditQuery& query) override {
    return Read([&](Connection& db) { return LoadAudit(db, query); });
  }

 private:
  Status Write(const std::function<Status(Connection&)>& change) { return committer_.Run(change); }

  template <typename Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    if (readers_.empty()) {
      return committer_.WithWriter(
          [&](Connection& db) { return sqlite::InTransaction(db, false, [&] { return fn(db); }); });
    }
    return readers_.With(std::forward<Fn>(fn));
  }

  template <typename Table>
  Result<typename Table::T> Create(const typename Table::T& v, const AuditEntry& audit) {
    std::optional<typename Table::T> out;
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      ASSIGN_OR_RETURN(out, InsertNamed<Table>(db, v));
      return AppendEvent(db, audit);
    }));
    return *out;
  }

  template <typename Table>
  Result<typename Table::T> Update(const typename Table::T& v, const AuditEntry& audit) {
    RETURN_IF_ERROR(Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(UpdateNamed<Table>(db, v));
      return AppendEvent(db, audit);
    }));
    return v;
  }

  template <typename Table>
  Status Delete(Id id, const AuditEntry& audit) {
    return Write([&](Connection& db) -> Status {
      RETURN_IF_ERROR(DeleteById(db, Table::kTable, Table::kKind, id));
      return AppendEvent(db, audit);
    });
  }

  template <typename Table>
  Result<typename Table::T> Get(Id id) {
    return Read([&](Connection& db) {
      return LoadNamed<Table>(db, "id = ?", id,
                              "no " + std::string(Table::kKind) + " with id " + std::to_string(id));
    });
  }

  template <typename Table>
  Result<typename Table::T> Find(std::string_view name) {
    return Read([&](Connection& db) {
      return LoadNamed<Table>(db, "name = ?", name,
                              "no " + std::string(Table::kKind) + " '" + std::string(name) + "'");
    });
  }

  template <typename Table>
  std::vector<typename Table::T> List() {
    return OrEmpty(Read([&](Connection& db) { return LoadAllNamed<Table>(db); }));
  }

  // Members are destroyed bottom-up: readers close before the writer, which,
  // as the last connection, checkpoints the WAL.
  std::unique_ptr<Connection> writer_;
  sqlite::GroupCommitter committer_;
  ReaderPool readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer, Connection::Open(path));
  RETURN_IF_ERROR(Configure(*writer, options));
  // Needs no transaction open; reports the mode it ended up in.
  ASSIGN_OR_RETURN(std::string mode, writer->QueryText("PRAGMA journal_mode = WAL"));
  const bool in_memory = mode == "memory";
  if (mode != "wal" && !in_memory) {
    return Status::Unavailable("cannot switch " + path + " to WAL mode (got '" + mode + "')");
  }
  RETURN_IF_ERROR(sqlite::Migrate(*writer));

  auto store = std::make_unique<SqliteStore>(std::move(writer), options);
  // An in-memory database is private to its connection: read on the writer.
  for (int i = 0; !in_memory && i < options.readers; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader, Connection::Open(path));
    RETURN_IF_ERROR(Configure(*reader, options));
    RETURN_IF_ERROR(reader->Exec("PRAGMA query_only = ON"));
    store->readers().Add(std::move(reader));
  }
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  return OpenSqliteStore(path, SqliteOptions{});
}

}  // namespace pinhole
