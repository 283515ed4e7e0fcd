// Store: the truth about users, policies and leases (DESIGN.md invariant 2).
//
// Every method that changes state takes the AuditEntry describing the change
// and commits both in one transaction; when the method returns OK the change
// is durable (fsync'd for on-disk stores). A failed call changes nothing.
// Implementations are thread-safe.
//
// Errors: NotFound for a missing id/name; Conflict ("name_taken") for a
// duplicate unique name; Conflict ("state_changed") when a lease's state is
// not the expected one; Unavailable/Internal for storage failures.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace pinhole {

struct LeaseFilter {
  std::optional<std::vector<LeaseState>> states;  // any of these; all if absent
  std::optional<Id> owner_id;
  std::optional<RecipientKind> recipient;
  int limit = 1000;  // newest first
};

// Which audit events to read; a field left empty does not filter.
struct AuditQuery {
  int64_t after = 0;              // seq > after
  std::optional<int64_t> before;  // seq < before (paging newest first)
  std::string actor;              // exact match
  std::string action_prefix;      // "lease." matches lease.create, lease.renew, ...
  std::optional<Time> since;      // time >= since
  std::optional<Time> until;      // time < until
  bool newest_first = false;
  int limit = 0;  // 0: no limit
};

class Store {
 public:
  virtual ~Store() = default;

  // Users. CreateUser assigns id and created_at is taken as given. Group
  // membership is written through the groups; User::groups and
  // User::mfa_enabled are filled on read; failed_logins and locked_until are
  // written only by the lockout methods below. FindUserBySubject finds an
  // htpasswd or OIDC user by (source, subject).
  virtual Result<User> CreateUser(const User& user, const AuditEntry& audit) = 0;
  virtual Result<User> UpdateUser(const User& user, const AuditEntry& audit) = 0;
  // Also removes the user from every group and deletes their sessions.
  virtual Status DeleteUser(Id id, const AuditEntry& audit) = 0;
  virtual Result<User> GetUser(Id id) = 0;
  virtual Result<User> FindUser(std::string_view email) = 0;
  virtual Result<User> FindUserBySubject(std::string_view source, std::string_view subject) = 0;
  virtual std::vector<User> ListUsers() = 0;
  virtual int64_t CountUsers() = 0;

  // Groups; members are emails of existing users (NotFound otherwise).
  virtual Result<Group> CreateGroup(const Group& group, const AuditEntry& audit) = 0;
  virtual Result<Group> UpdateGroup(const Group& group, const AuditEntry& audit) = 0;
  virtual Status DeleteGroup(Id id, const AuditEntry& audit) = 0;
  virtual Result<Group> GetGroup(Id id) = 0;
  virtual Result<Group> FindGroup(std::string_view name) = 0;
  virtual std::vector<Group> ListGroups() = 0;

  virtual Result<Service> CreateService(const Service& s, const AuditEntry& audit) = 0;
  virtual Result<Service> UpdateService(const Service& s, const AuditEntry& audit) = 0;
  virtual Status DeleteService(Id id, const AuditEntry& audit) = 0;
  virtual Result<Service> GetService(Id id) = 0;
  virtual Result<Service> FindService(std::string_view name) = 0;
  virtual std::vector<Service> ListServices() = 0;

  virtual Result<AccessGroup> CreateAccessGroup(const AccessGroup& g, const AuditEntry& audit) = 0;
  virtual Result<AccessGroup> UpdateAccessGroup(const AccessGroup& g, const AuditEntry& audit) = 0;
  virtual Status DeleteAccessGroup(Id id, const AuditEntry& audit) = 0;
  virtual Result<AccessGroup> GetAccessGroup(Id id) = 0;
  virtual Result<AccessGroup> FindAccessGroup(std::string_view name) = 0;
  virtual std::vector<AccessGroup> ListAccessGroups() = 0;

  virtual Result<Policy> CreatePolicy(const Policy& p, const AuditEntry& audit) = 0;
  virtual Result<Policy> UpdatePolicy(const Policy& p, const AuditEntry& audit) = 0;
  virtual Status DeletePolicy(Id id, const AuditEntry& audit) = 0;
  virtual Result<Policy> GetPolicy(Id id) = 0;
  virtual Result<Policy> FindPolicy(std::string_view name) = 0;
  virtual std::vector<Policy> ListPolicies() = 0;

  // Leases. CreateLease assigns the id; an audit entry with an empty object
  // is recorded as "lease/<id>", since the caller cannot know the id.
  // `effects`, if given, may add side effects (AuditEntry::outbox, tokens)
  // that need the new lease's id; it runs inside the transaction, after the
  // id is assigned, and must not call the store.
  using LeaseEffects = std::function<void(const Lease& created, AuditEntry& audit)>;
  virtual Result<Lease> CreateLease(const Lease& lease, const AuditEntry& audit,
                                    const LeaseEffects& effects = nullptr) = 0;
  // Writes `lease` if the stored state still equals `expected` (compare-and-set);
  // Conflict "state_changed" otherwise.
  virtual Result<Lease> UpdateLease(const Lease& lease, LeaseState expected,
                                    const AuditEntry& audit) = 0;
  // Several lease updates (e.g. a batch of expiries) in one transaction; each
  // with its own audit entry. All or nothing.
  struct LeaseUpdate {
    Lease lease;
    LeaseState expected;
    AuditEntry audit;
  };
  virtual Status UpdateLeases(const std::vector<LeaseUpdate>& updates) = 0;
  virtual Result<Lease> GetLease(Id id) = 0;
  virtual std::vector<Lease> ListLeases(const LeaseFilter& filter) = 0;

  // Sessions and tokens, by the hash of their secret. Not audited here: the
  // caller records sign-in/out events with AppendAudit.
  virtual Status CreateSession(const Session& s) = 0;
  virtual Result<Session> FindSession(std::string_view token_hash) = 0;
  virtual Status DeleteSession(std::string_view token_hash) = 0;
  virtual Status DeleteUserSessions(Id user_id) = 0;

  // Account lockout. RecordLoginFailure counts a failed sign-in of user `id`
  // and, on reaching `max_failures` consecutive failures, locks the account
  // until now + `lock_for` (atomic: concurrent failures all count). Returns
  // the user after the change. ResetLoginFailures clears the count and any
  // lock (a successful sign-in, or an admin's unlock with its audit event;
  // `audit` may be null for the former).
  virtual Result<User> RecordLoginFailure(Id id, Time now, int max_failures,
                                          Seconds lock_for) = 0;
  virtual Status ResetLoginFailures(Id id, const AuditEntry* audit) = 0;

  // TOTP second factors, one per user. PutMfa creates or replaces; GetMfa is
  // NotFound when the user has none. UseTotpStep records `step` as used if it
  // is newer than last_step (compare-and-set), else Conflict "code_used".
  // UseRecoveryCode removes one code by its hash, NotFound if it is not
  // there (each code works once).
  virtual Result<MfaRecord> GetMfa(Id user_id) = 0;
  virtual Status PutMfa(const MfaRecord& mfa, const AuditEntry& audit) = 0;
  virtual Status DeleteMfa(Id user_id, const AuditEntry& audit) = 0;
  virtual Status UseTotpStep(Id user_id, int64_t step) = 0;
  virtual Status UseRecoveryCode(Id user_id, std::string_view code_hash,
                                 const AuditEntry& audit) = 0;

  // API tokens and access keys. CreateCredential assigns the id; Conflict
  // "name_taken" for a duplicate (user, kind, name) or lookup.
  // FindCredential looks up by kind and lookup value. ListCredentials: all
  // users' when user_id is absent. TouchCredential records a use (not audited).
  virtual Result<Credential> CreateCredential(const Credential& c, const AuditEntry& audit) = 0;
  virtual Result<Credential> GetCredential(Id id) = 0;
  virtual Result<Credential> FindCredential(std::string_view kind, std::string_view lookup) = 0;
  virtual std::vector<Credential> ListCredentials(std::optional<Id> user_id) = 0;
  virtual Status DeleteCredential(Id id, const AuditEntry& audit) = 0;
  virtual Status TouchCredential(Id id, Time when, std::string_view client_ip) = 0;

  // Settings an admin changes at run time (e.g. "mfa_policy"), as JSON text.
  // GetSetting is NotFound for a setting never written.
  virtual Result<std::string> GetSetting(std::string_view name) = 0;
  virtual Status PutSetting(std::string_view name, std::string_view value,
                            const AuditEntry& audit) = 0;

  // Action tokens (created and consumed through AuditEntry::tokens and
  // ::consume_tokens, with the change they belong to).
  virtual Result<ActionToken> FindActionToken(std::string_view token_hash) = 0;

  // Outbox (messages are added through AuditEntry::outbox). Pending messages
  // whose next_attempt_at <= now, oldest first, at most `limit`.
  virtual Result<std::vector<OutboxMessage>> DueOutbox(Time now, int limit) = 0;
  // Records a delivery attempt: writes state, attempts, next_attempt_at,
  // last_error and sent_at of the message with this id.
  virtual Status UpdateOutbox(const OutboxMessage& message) = 0;
  // Newest first, at most `limit`; `state` "" for all.
  virtual Result<std::vector<OutboxMessage>> ListOutbox(std::string_view state, int limit) = 0;

  // A random secret kept in the store (e.g. the key that signs emailed
  // links), created on first use so that every replica and restart agrees.
  virtual Result<std::string> GetOrCreateSecret(std::string_view name) = 0;

  // Audit log: append-only, hash-chained (see audit/chain.h).
  virtual Status AppendAudit(const AuditEntry& audit) = 0;
  // Events matching `query`, ordered by seq (newest first if asked), at most
  // query.limit. An error only for a storage failure.
  virtual Result<std::vector<AuditEvent>> QueryAudit(const AuditQuery& query) = 0;
  // Events with seq > after, in order, at most `limit` (0: all); empty on a
  // storage failure.
  std::vector<AuditEvent> ListAudit(int64_t after, int limit) {
    auto events = QueryAudit(AuditQuery{.after = after, .limit = limit});
    return events.ok() ? std::move(events).value() : std::vector<AuditEvent>{};
  }
};

// The audit entry for a new lease, named after the id the store assigned.
inline AuditEntry NameLeaseEvent(AuditEntry audit, Id lease_id) {
  if (audit.object.empty()) audit.object = "lease/" + std::to_string(lease_id);
  return audit;
}

// Opens (creating and migrating as needed) the SQLite store at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);
// A store in memory, for tests.
std::unique_ptr<Store> NewMemoryStore();

}  // namespace pinhole
