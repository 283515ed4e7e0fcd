// Pinhole's domain objects. Plain data; no I/O. Names are unique per kind
// (users by email) and are how objects refer to each other, so that an API
// caller can use either id or name.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cidr.h"
#include "core/clock.h"

namespace pinhole {

using Id = int64_t;

enum class Role { kUser, kAdmin };

struct User {
  Id id = 0;
  std::string email;          // lower-cased, unique
  std::string password_hash;  // argon2id encoded string; empty = no local password
  Role role = Role::kUser;
  bool must_change_password = false;
  bool disabled = false;
  std::vector<std::string> groups;  // group names; derived from group membership
  Time created_at{};
};

struct Group {
  Id id = 0;
  std::string name;
  std::vector<std::string> members;  // user emails
};

enum class Protocol { kTcp, kUdp, kIcmp, kAll };

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;  // == first for a single port
  bool operator==(const PortRange&) const = default;
};

struct Service {
  Id id = 0;
  std::string name;
  std::string description;
  std::string backend = "nftables";
  Protocol protocol = Protocol::kTcp;
  std::optional<PortRange> ports;  // required for tcp/udp, absent for icmp/all
  std::string target_json = "{}";  // backend-specific, validated by the backend
  bool keep_established = false;   // keep established connections when a hole closes
};

struct AccessGroup {
  Id id = 0;
  std::string name;
  std::vector<std::string> services;  // service names
  bool is_public = false;             // listed to every user, even without a policy
};

enum class RecipientKind { kSelf, kCidr, kInvite };

struct Policy {
  Id id = 0;
  std::string name;
  std::vector<std::string> users;          // emails
  std::vector<std::string> groups;         // group names
  std::vector<std::string> services;       // service names
  std::vector<std::string> access_groups;  // access group names
  Seconds default_duration{3600};
  Seconds max_duration{36000};
  std::set<RecipientKind> recipients{RecipientKind::kSelf};
  int min_prefix_v4 = 32;  // narrowest allowed: a CIDR lease must have prefix >= this
  int min_prefix_v6 = 128;
};

enum class LeaseState {
  kPendingApproval,
  kInvited,
  kActive,
  kExpired,
  kTerminated,
  kRevoked,
  kDenied,
  kCancelled
};

struct Lease {
  Id id = 0;
  Id owner_id = 0;
  std::string owner;                  // email of the user the lease belongs to
  std::vector<std::string> services;  // service names, resolved at request time
  RecipientKind recipient = RecipientKind::kSelf;
  std::string invite_email;  // for kInvite
  Cidr source;               // the address allowed in
  LeaseState state = LeaseState::kActive;
  std::string reason;
  std::string policy;  // name of the policy that granted it
  Time created_at{};
  std::optional<Time> activated_at;
  Time expires_at{};
  std::optional<Time> ended_at;
  std::string ended_by;  // email, or "system" for expiry
  std::string approved_by;
};

// One entry for the audit log, as a caller hands it to the store. The store
// assigns seq, prev_hash and hash within the same transaction as the change.
struct AuditEntry {
  Time time{};
  std::string actor;      // email, or "system"
  std::string action;     // e.g. "lease.create", "user.delete", "enforcement.drift"
  std::string object;     // e.g. "lease/42", "user/bob@example.com"
  std::string client_ip;  // empty for system events
  std::string details_json = "{}";
};

struct AuditEvent : AuditEntry {
  int64_t seq = 0;
  std::string prev_hash;  // hex SHA-256; 64 zeros for the first event
  std::string hash;
};

// A signed-in session or API token, stored by the hash of its secret.
struct Session {
  std::string token_hash;  // hex SHA-256 of the bearer token
  std::string csrf_token;  // required on cookie-authenticated writes
  Id user_id = 0;
  Time created_at{};
  Time expires_at{};
};

std::string_view ToString(Role r);
std::string_view ToString(Protocol p);
std::string_view ToString(RecipientKind k);
std::string_view ToString(LeaseState s);
std::optional<Role> ParseRole(std::string_view s);
std::optional<Protocol> ParseProtocol(std::string_view s);
std::optional<RecipientKind> ParseRecipientKind(std::string_view s);
std::optional<LeaseState> ParseLeaseState(std::string_view s);
// "22" or "8000-8100"; first <= last, 1..65535.
Result<PortRange> ParsePortRange(std::string_view s);
std::string ToString(const PortRange& r);

// Active, pending and invited leases are "live"; the rest have ended.
bool IsLive(LeaseState s);

}  // namespace pinhole
