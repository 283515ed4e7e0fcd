// The in-memory Store: one mutex around plain maps. It mirrors the SQLite
// store's semantics (the conformance tests run against both) so that other
// modules' unit tests see the same behaviour as production.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "audit/chain.h"
#include "store/codec.h"
#include "store/store.h"

namespace pinhole {
namespace {

// Rows of one kind. Ids start at 1 and are never reused, like SQLite's
// AUTOINCREMENT, so that an audit event's "lease/42" always means one lease.
template <typename T>
struct Table {
  std::map<Id, T> rows;
  Id next_id = 1;
};

struct GroupRecord {
  Id id = 0;
  std::string name;
  std::set<Id> members;  // user ids, so that renaming a user keeps membership
};

class MemoryStore final : public Store {
 public:
  // ---- users ----
  Result<User> CreateUser(const User& user, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (FindUserLocked(user.email)) return NameTaken("user", user.email);
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    User u = user;
    u.id = users_.next_id++;
    u.groups.clear();
    u.failed_logins = 0;
    u.locked_until.reset();
    users_.rows[u.id] = u;
    AppendLocked(audit, 0, u.id);
    return ReadUserLocked(users_.rows.at(u.id));
  }

  Result<User> UpdateUser(const User& user, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    auto it = users_.rows.find(user.id);
    if (it == users_.rows.end()) return UserNotFound(user.id);
    if (const User* other = FindUserLocked(user.email); other && other->id != user.id) {
      return NameTaken("user", user.email);
    }
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    User u = user;
    u.created_at = it->second.created_at;
    u.groups.clear();
    // Only the lockout methods write these; a stale copy must not unlock.
    u.failed_logins = it->second.failed_logins;
    u.locked_until = it->second.locked_until;
    it->second = u;
    AppendLocked(audit);
    return ReadUserLocked(it->second);
  }

  Status DeleteUser(Id id, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (users_.rows.erase(id) == 0) return UserNotFound(id);
    for (auto& [gid, g] : groups_.rows) g.members.erase(id);
    std::erase_if(sessions_, [id](const auto& kv) { return kv.second.user_id == id; });
    mfa_.erase(id);
    std::erase_if(credentials_.rows, [id](const auto& kv) { return kv.second.user_id == id; });
    AppendLocked(audit);
    return Status::Ok();
  }

  Result<User> FindUserBySubject(std::string_view source, std::string_view subject) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, u] : users_.rows) {
      if (!subject.empty() && u.source == source && u.subject == subject) return ReadUserLocked(u);
    }
    return Status::NotFound("no " + std::string(source) + " user '" + std::string(subject) + "'");
  }

  // ---- lockout ----
  Result<User> RecordLoginFailure(Id id, Time now, int max_failures, Seconds lock_for) override {
    std::lock_guard lock(mu_);
    auto it = users_.rows.find(id);
    if (it == users_.rows.end()) return UserNotFound(id);
    User& u = it->second;
    ++u.failed_logins;
    if (max_failures > 0 && u.failed_logins >= max_failures) u.locked_until = now + lock_for;
    return ReadUserLocked(u);
  }

  Status ResetLoginFailures(Id id, const AuditEntry* audit) override {
    std::lock_guard lock(mu_);
    auto it = users_.rows.find(id);
    if (it == users_.rows.end()) return UserNotFound(id);
    it->second.failed_logins = 0;
    it->second.locked_until.reset();
    if (audit != nullptr) AppendLocked(*audit);
    return Status::Ok();
  }

  // ---- MFA ----
  Result<MfaRecord> GetMfa(Id user_id) override {
    std::lock_guard lock(mu_);
    auto it = mfa_.find(user_id);
    if (it == mfa_.end()) return NoMfa(user_id);
    return it->second;
  }

  Status PutMfa(const MfaRecord& mfa, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (!users_.rows.contains(mfa.user_id)) return UserNotFound(mfa.user_id);
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    mfa_[mfa.user_id] = mfa;
    AppendLocked(audit);
    return Status::Ok();
  }

  Status DeleteMfa(Id user_id, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (mfa_.erase(user_id) == 0) return NoMfa(user_id);
    AppendLocked(audit);
    return Status::Ok();
  }

  Status UseTotpStep(Id user_id, int64_t step) override {
    std::lock_guard lock(mu_);
    auto it = mfa_.find(user_id);
    if (it == mfa_.end()) return NoMfa(user_id);
    if (step <= it->second.last_step) return CodeUsed();
    it->second.last_step = step;
    return Status::Ok();
  }

  Status UseRecoveryCode(Id user_id, std::string_view code_hash,
                         const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    auto it = mfa_.find(user_id);
    if (it == mfa_.end()) return NoMfa(user_id);
    auto& hashes = it->second.recovery_hashes;
    auto code = std::find(hashes.begin(), hashes.end(), code_hash);
    if (code == hashes.end()) return Status::NotFound("no such recovery code");
    hashes.erase(code);
    AppendLocked(audit);
    return Status::Ok();
  }

  // ---- credentials ----
  Result<Credential> CreateCredential(const Credential& c, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (!users_.rows.contains(c.user_id)) return UserNotFound(c.user_id);
    for (const auto& [id, other] : credentials_.rows) {
      if (other.kind == c.kind &&
          (other.lookup == c.lookup || (other.user_id == c.user_id && other.name == c.name))) {
        return NameTaken(c.kind, c.name);
      }
    }
    Credential copy = c;
    copy.id = credentials_.next_id++;
    credentials_.rows[copy.id] = copy;
    AppendLocked(audit);
    return copy;
  }

  Result<Credential> GetCredential(Id id) override {
    return GetNamed(credentials_, "credential", id);
  }

  Result<Credential> FindCredential(std::string_view kind, std::string_view lookup) override {
    std::lock_guard lock(mu_);
    for (const auto& [id, c] : credentials_.rows) {
      if (c.kind == kind && c.lookup == lookup) return c;
    }
    return Status::NotFound("no such " + std::string(kind));
  }

  std::vector<Credential> ListCredentials(std::optional<Id> user_id) override {
    std::lock_guard lock(mu_);
    std::vector<Credential> out;
    for (const auto& [id, c] : credentials_.rows) {
      if (!user_id || c.user_id == *user_id) out.push_back(c);
    }
    return out;
  }

  Status DeleteCredential(Id id, const AuditEntry& audit) override {
    return DeleteNamed(credentials_, "credential", id, audit);
  }

  Status TouchCredential(Id id, Time when, std::string_view client_ip) override {
    std::lock_guard lock(mu_);
    auto it = credentials_.rows.find(id);
    if (it == credentials_.rows.end()) return IdNotFound("credential", id);
    it->second.last_used_at = when;
    it->second.last_used_ip = std::string(client_ip);
    return Status::Ok();
  }

  // ---- settings ----
  Result<std::string> GetSetting(std::string_view name) override {
    std::lock_guard lock(mu_);
    auto it = settings_.find(name);
    if (it == settings_.end()) return Status::NotFound("no setting '" + std::string(name) + "'");
    return it->second;
  }

  Status PutSetting(std::string_view name, std::string_view value,
                    const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    settings_[std::string(name)] = std::string(value);
    AppendLocked(audit);
    return Status::Ok();
  }

  Result<User> GetUser(Id id) override {
    std::lock_guard lock(mu_);
    auto it = users_.rows.find(id);
    if (it == users_.rows.end()) return UserNotFound(id);
    return ReadUserLocked(it->second);
  }

  Result<User> FindUser(std::string_view email) override {
    std::lock_guard lock(mu_);
    const User* u = FindUserLocked(email);
    if (!u) return Status::NotFound("no user '" + std::string(email) + "'");
    return ReadUserLocked(*u);
  }

  std::vector<User> ListUsers() override {
    std::lock_guard lock(mu_);
    std::vector<User> out;
    for (const auto& [id, u] : users_.rows) out.push_back(ReadUserLocked(u));
    return out;
  }

  int64_t CountUsers() override {
    std::lock_guard lock(mu_);
    return static_cast<int64_t>(users_.rows.size());
  }

  // ---- groups ----
  Result<Group> CreateGroup(const Group& group, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (FindGroupLocked(group.name)) return NameTaken("group", group.name);
    ASSIGN_OR_RETURN(std::set<Id> members, ResolveMembersLocked(group.members));
    GroupRecord g{groups_.next_id++, group.name, std::move(members)};
    groups_.rows[g.id] = g;
    AppendLocked(audit);
    return ReadGroupLocked(groups_.rows.at(g.id));
  }

  Result<Group> UpdateGroup(const Group& group, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    auto it = groups_.rows.find(group.id);
    if (it == groups_.rows.end()) return IdNotFound("group", group.id);
    if (const GroupRecord* other = FindGroupLocked(group.name); other && other->id != group.id) {
      return NameTaken("group", group.name);
    }
    ASSIGN_OR_RETURN(std::set<Id> members, ResolveMembersLocked(group.members));
    it->second.name = group.name;
    it->second.members = std::move(members);
    AppendLocked(audit);
    return ReadGroupLocked(it->second);
  }

  Status DeleteGroup(Id id, const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    if (groups_.rows.erase(id) == 0) return IdNotFound("group", id);
    AppendLocked(audit);
    return Status::Ok();
  }

  Result<Group> GetGroup(Id id) override {
    std::lock_guard lock(mu_);
    auto it = groups_.rows.find(id);
    if (it == groups_.rows.end()) return IdNotFound("group", id);
    return ReadGroupLocked(it->second);
  }

  Result<Group> FindGroup(std::string_view name) override {
    std::lock_guard lock(mu_);
    const GroupRecord* g = FindGroupLocked(name);
    if (!g) return NameNotFound("group", name);
    return ReadGroupLocked(*g);
  }

  std::vector<Group> ListGroups() override {
    std::lock_guard lock(mu_);
    std::vector<Group> out;
    for (const auto& [id, g] : groups_.rows) out.push_back(ReadGroupLocked(g));
    return out;
  }

  // ---- services, access groups, policies: plain named objects ----
  Result<Service> CreateService(const Service& s, const AuditEntry& a) override {
    return CreateNamed(services_, "service", s, a);
  }
  Result<Service> UpdateService(const Service& s, const AuditEntry& a) override {
    return UpdateNamed(services_, "service", s, a);
  }
  Status DeleteService(Id id, const AuditEntry& a) override {
    return DeleteNamed(services_, "service", id, a);
  }
  Result<Service> GetService(Id id) override { return GetNamed(services_, "service", id); }
  Result<Service> FindService(std::string_view name) override {
    return FindNamed(services_, "service", name);
  }
  std::vector<Service> ListServices() override { return ListNamed(services_); }

  Result<AccessGroup> CreateAccessGroup(const AccessGroup& g, const AuditEntry& a) override {
    return CreateNamed(access_groups_, "access group", g, a);
  }
  Result<AccessGroup> UpdateAccessGroup(const AccessGroup& g, const AuditEntry& a) override {
    return UpdateNamed(access_groups_, "access group", g, a);
  }
  Status DeleteAccessGroup(Id id, const AuditEntry& a) override {
    return DeleteNamed(access_groups_, "access group", id, a);
  }
  Result<AccessGroup> GetAccessGroup(Id id) override {
    return GetNamed(access_groups_, "access group", id);
  }
  Result<AccessGroup> FindAccessGroup(std::string_view name) override {
    return FindNamed(access_groups_, "access group", name);
  }
  std::vector<AccessGroup> ListAccessGroups() override { return ListNamed(access_groups_); }

  Result<Policy> CreatePolicy(const Policy& p, const AuditEntry& a) override {
    return CreateNamed(policies_, "policy", p, a);
  }
  Result<Policy> UpdatePolicy(const Policy& p, const AuditEntry& a) override {
    return UpdateNamed(policies_, "policy", p, a);
  }
  Status DeletePolicy(Id id, const AuditEntry& a) override {
    return DeleteNamed(policies_, "policy", id, a);
  }
  Result<Policy> GetPolicy(Id id) override { return GetNamed(policies_, "policy", id); }
  Result<Policy> FindPolicy(std::string_view name) override {
    return FindNamed(policies_, "policy", name);
  }
  std::vector<Policy> ListPolicies() override { return ListNamed(policies_); }

  // ---- leases ----
  Result<Lease> CreateLease(const Lease& lease, const AuditEntry& audit,
                            const LeaseEffects& effects) override {
    std::lock_guard lock(mu_);
    Lease l = lease;
    l.id = leases_.next_id;
    AuditEntry named = NameLeaseEvent(audit, l.id);
    if (effects) effects(l, named);
    RETURN_IF_ERROR(CheckEffectsLocked(named));
    ++leases_.next_id;
    leases_.rows[l.id] = l;
    AppendLocked(named, l.id);
    return l;
  }

  Result<Lease> UpdateLease(const Lease& lease, LeaseState expected,
                            const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    auto it = leases_.rows.find(lease.id);
    if (it == leases_.rows.end()) return IdNotFound("lease", lease.id);
    if (it->second.state != expected) return StateChanged(it->second, expected);
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    it->second = lease;
    AppendLocked(audit);
    return lease;
  }

  Status UpdateLeases(const std::vector<LeaseUpdate>& updates) override {
    std::lock_guard lock(mu_);
    // Check every update against the leases as earlier updates in the batch
    // leave them, then apply; nothing is written unless all pass.
    std::map<Id, const Lease*> staged;
    for (const LeaseUpdate& u : updates) {
      const Lease* current = nullptr;
      if (auto s = staged.find(u.lease.id); s != staged.end()) {
        current = s->second;
      } else if (auto it = leases_.rows.find(u.lease.id); it != leases_.rows.end()) {
        current = &it->second;
      }
      if (!current) return IdNotFound("lease", u.lease.id);
      if (current->state != u.expected) return StateChanged(*current, u.expected);
      RETURN_IF_ERROR(CheckEffectsLocked(u.audit));
      staged[u.lease.id] = &u.lease;
    }
    for (const LeaseUpdate& u : updates) {
      leases_.rows[u.lease.id] = u.lease;
      AppendLocked(u.audit);
    }
    return Status::Ok();
  }

  Result<Lease> GetLease(Id id) override {
    std::lock_guard lock(mu_);
    auto it = leases_.rows.find(id);
    if (it == leases_.rows.end()) return IdNotFound("lease", id);
    return it->second;
  }

  std::vector<Lease> ListLeases(const LeaseFilter& filter) override {
    std::lock_guard lock(mu_);
    std::vector<Lease> out;
    for (auto it = leases_.rows.rbegin(); it != leases_.rows.rend(); ++it) {
      if (filter.limit > 0 && static_cast<int64_t>(out.size()) >= filter.limit) break;
      const Lease& l = it->second;
      if (filter.owner_id && l.owner_id != *filter.owner_id) continue;
      if (filter.recipient && l.recipient != *filter.recipient) continue;
      if (filter.states && std::find(filter.states->begin(), filter.states->end(), l.state) ==
                               filter.states->end()) {
        continue;
      }
      out.push_back(l);
    }
    return out;
  }

  // ---- sessions ----
  Status CreateSession(const Session& s) override {
    std::lock_guard lock(mu_);
    if (!users_.rows.contains(s.user_id)) return UserNotFound(s.user_id);
    if (sessions_.contains(s.token_hash)) {
      return Status::Conflict("name_taken", "a session with this token hash exists");
    }
    sessions_[s.token_hash] = s;
    return Status::Ok();
  }

  Result<Session> FindSession(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(std::string(token_hash));
    if (it == sessions_.end()) return Status::NotFound("no such session");
    return it->second;
  }

  Status DeleteSession(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    if (sessions_.erase(std::string(token_hash)) == 0) return Status::NotFound("no such session");
    return Status::Ok();
  }

  Status DeleteUserSessions(Id user_id) override {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [user_id](const auto& kv) { return kv.second.user_id == user_id; });
    return Status::Ok();
  }

  // ---- action tokens, outbox, secrets ----
  Result<ActionToken> FindActionToken(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(token_hash);
    if (it == tokens_.end()) return Status::NotFound("no such token");
    return it->second;
  }

  Result<std::vector<OutboxMessage>> DueOutbox(Time now, int limit) override {
    std::lock_guard lock(mu_);
    std::vector<OutboxMessage> out;
    for (const auto& [id, m] : outbox_) {
      if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
      if (m.state == "pending" && m.next_attempt_at <= now) out.push_back(m);
    }
    return out;
  }

  Status UpdateOutbox(const OutboxMessage& m) override {
    std::lock_guard lock(mu_);
    auto it = outbox_.find(m.id);
    if (it == outbox_.end()) return IdNotFound("outbox message", m.id);
    it->second.state = m.state;
    it->second.attempts = m.attempts;
    it->second.next_attempt_at = m.next_attempt_at;
    it->second.last_error = m.last_error;
    it->second.sent_at = m.sent_at;
    return Status::Ok();
  }

  Result<std::vector<OutboxMessage>> ListOutbox(std::string_view state, int limit) override {
    std::lock_guard lock(mu_);
    std::vector<OutboxMessage> out;
    for (auto it = outbox_.rbegin(); it != outbox_.rend(); ++it) {
      if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
      if (state.empty() || it->second.state == state) out.push_back(it->second);
    }
    return out;
  }

  Result<std::string> GetOrCreateSecret(std::string_view name) override {
    std::lock_guard lock(mu_);
    if (auto it = secrets_.find(name); it != secrets_.end()) return it->second;
    ASSIGN_OR_RETURN(std::string value, store::NewSecret());
    secrets_.emplace(std::string(name), value);
    return value;
  }

  // ---- audit ----
  Status AppendAudit(const AuditEntry& audit) override {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(CheckEffectsLocked(audit));
    AppendLocked(audit);
    return Status::Ok();
  }

  Result<std::vector<AuditEvent>> QueryAudit(const AuditQuery& q) override {
    std::lock_guard lock(mu_);
    auto matches = [&q](const AuditEvent& e) {
      return e.seq > q.after && (!q.before || e.seq < *q.before) &&
             (q.actor.empty() || e.actor == q.actor) &&
             e.action.compare(0, q.action_prefix.size(), q.action_prefix) == 0 &&
             (!q.since || e.time >= *q.since) && (!q.until || e.time < *q.until);
    };
    std::vector<AuditEvent> out;
    auto take = [&](const AuditEvent& e) {
      if (!matches(e)) return true;
      out.push_back(e);
      return q.limit <= 0 || static_cast<int>(out.size()) < q.limit;
    };
    if (q.newest_first) {
      for (auto it = audit_.rbegin(); it != audit_.rend() && take(*it); ++it) {
      }
    } else {
      for (auto it = audit_.begin(); it != audit_.end() && take(*it); ++it) {
      }
    }
    return out;
  }

 private:
  static Status NameTaken(std::string_view kind, std::string_view name) {
    return Status::Conflict("name_taken",
                            std::string(kind) + " '" + std::string(name) + "' already exists");
  }
  static Status IdNotFound(std::string_view kind, Id id) {
    return Status::NotFound("no " + std::string(kind) + " with id " + std::to_string(id));
  }
  static Status UserNotFound(Id id) { return IdNotFound("user", id); }
  static Status NoMfa(Id user_id) {
    return Status::NotFound("user " + std::to_string(user_id) + " has no second factor");
  }
  static Status CodeUsed() {
    return Status::Conflict("code_used", "this one-time code was already used");
  }
  static Status NameNotFound(std::string_view kind, std::string_view name) {
    return Status::NotFound("no " + std::string(kind) + " '" + std::string(name) + "'");
  }
  static Status StateChanged(const Lease& current, LeaseState expected) {
    return Status::Conflict("state_changed", "lease " + std::to_string(current.id) + " is " +
                                                 std::string(ToString(current.state)) +
                                                 ", expected " + std::string(ToString(expected)));
  }

  // Would the side effects of `entry` succeed? Checked before a change is
  // made, so that a refused token changes nothing (as in one SQL transaction).
  Status CheckEffectsLocked(const AuditEntry& entry) const {
    std::set<std::string_view> consumed;
    for (const std::string& hash : entry.consume_tokens) {
      auto it = tokens_.find(hash);
      if (it == tokens_.end() || it->second.used_at || !consumed.insert(hash).second) {
        return Status::Conflict("token_used", "this link was already used");
      }
    }
    for (const ActionToken& t : entry.tokens) {
      if (tokens_.contains(t.token_hash)) return Status::Conflict("name_taken", "token exists");
    }
    return Status::Ok();
  }

  // Appends the audit event and applies its side effects (see
  // AuditEntry::outbox); `created_*` fill tokens that name the new object as 0.
  void AppendLocked(const AuditEntry& entry, Id created_lease = 0, Id created_user = 0) {
    for (const std::string& hash : entry.consume_tokens) {
      if (auto it = tokens_.find(hash); it != tokens_.end()) it->second.used_at = entry.time;
    }
    for (ActionToken t : entry.tokens) {
      if (t.lease_id == 0) t.lease_id = created_lease;
      if (t.user_id == 0) t.user_id = created_user;
      tokens_[t.token_hash] = t;
    }
    for (OutboxMessage m : entry.outbox) {
      m.id = next_outbox_id_++;
      outbox_[m.id] = std::move(m);
    }
    AuditEvent e;
    static_cast<AuditEntry&>(e) = entry;
    e.seq = static_cast<int64_t>(audit_.size()) + 1;
    e.prev_hash = audit_.empty() ? std::string(kGenesisHash) : audit_.back().hash;
    e.hash = ComputeAuditHash(e);
    audit_.push_back(std::move(e));
  }

  const User* FindUserLocked(std::string_view email) const {
    for (const auto& [id, u] : users_.rows) {
      if (u.email == email) return &u;
    }
    return nullptr;
  }

  const GroupRecord* FindGroupLocked(std::string_view name) const {
    for (const auto& [id, g] : groups_.rows) {
      if (g.name == name) return &g;
    }
    return nullptr;
  }

  User ReadUserLocked(const User& stored) const {
    User u = stored;
    u.groups.clear();
    for (const auto& [id, g] : groups_.rows) {
      if (g.members.contains(u.id)) u.groups.push_back(g.name);
    }
    std::sort(u.groups.begin(), u.groups.end());
    auto mfa = mfa_.find(u.id);
    u.mfa_enabled = mfa != mfa_.end() && mfa->second.confirmed;
    return u;
  }

  Group ReadGroupLocked(const GroupRecord& g) const {
    Group out{g.id, g.name, {}};
    for (Id uid : g.members) out.members.push_back(users_.rows.at(uid).email);
    std::sort(out.members.begin(), out.members.end());
    return out;
  }

  Result<std::set<Id>> ResolveMembersLocked(const std::vector<std::string>& emails) const {
    std::set<Id> ids;
    for (const std::string& email : emails) {
      const User* u = FindUserLocked(email);
      if (!u) return Status::NotFound("group member '" + email + "' is not a user");
      ids.insert(u->id);
    }
    return ids;
  }

  template <typename T>
  static const T* FindByName(const Table<T>& m, std::string_view name) {
    for (const auto& [id, v] : m.rows) {
      if (v.name == name) return &v;
    }
    return nullptr;
  }

  template <typename T>
  Result<T> CreateNamed(Table<T>& m, std::string_view kind, const T& v, const AuditEntry& audit) {
    std::lock_guard lock(mu_);
    if (FindByName(m, v.name)) return NameTaken(kind, v.name);
    T copy = v;
    copy.id = m.next_id++;
    m.rows[copy.id] = copy;
    AppendLocked(audit);
    return copy;
  }

  template <typename T>
  Result<T> UpdateNamed(Table<T>& m, std::string_view kind, const T& v, const AuditEntry& audit) {
    std::lock_guard lock(mu_);
    auto it = m.rows.find(v.id);
    if (it == m.rows.end()) return IdNotFound(kind, v.id);
    if (const T* other = FindByName(m, v.name); other && other->id != v.id) {
      return NameTaken(kind, v.name);
    }
    it->second = v;
    AppendLocked(audit);
    return v;
  }

  template <typename T>
  Status DeleteNamed(Table<T>& m, std::string_view kind, Id id, const AuditEntry& audit) {
    std::lock_guard lock(mu_);
    if (m.rows.erase(id) == 0) return IdNotFound(kind, id);
    AppendLocked(audit);
    return Status::Ok();
  }

  template <typename T>
  Result<T> GetNamed(const Table<T>& m, std::string_view kind, Id id) {
    std::lock_guard lock(mu_);
    auto it = m.rows.find(id);
    if (it == m.rows.end()) return IdNotFound(kind, id);
    return it->second;
  }

  template <typename T>
  Result<T> FindNamed(const Table<T>& m, std::string_view kind, std::string_view name) {
    std::lock_guard lock(mu_);
    const T* v = FindByName(m, name);
    if (!v) return NameNotFound(kind, name);
    return *v;
  }

  template <typename T>
  std::vector<T> ListNamed(const Table<T>& m) {
    std::lock_guard lock(mu_);
    std::vector<T> out;
    for (const auto& [id, v] : m.rows) out.push_back(v);
    return out;
  }

  std::mutex mu_;
  Table<User> users_;
  Table<GroupRecord> groups_;
  Table<Service> services_;
  Table<AccessGroup> access_groups_;
  Table<Policy> policies_;
  Table<Lease> leases_;
  std::map<std::string, Session, std::less<>> sessions_;
  std::vector<AuditEvent> audit_;
  std::map<std::string, ActionToken, std::less<>> tokens_;  // by token hash
  std::map<Id, OutboxMessage> outbox_;
  Id next_outbox_id_ = 1;
  std::map<std::string, std::string, std::less<>> secrets_;
  std::map<Id, MfaRecord> mfa_;  // by user id
  Table<Credential> credentials_;
  std::map<std::string, std::string, std::less<>> settings_;
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace pinhole
