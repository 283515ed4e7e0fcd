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
  // Where the user signs in: "local" (password_hash above), "htpasswd" (the
  // [auth.htpasswd] file; the store keeps no password) or "oidc" (single
  // sign-on; the store keeps no password).
  std::string source = "local";
  // The identity provider's name for the user: "<issuer> <sub>" for oidc
  // once linked, the file's user name for htpasswd; "" for local users.
  std::string subject;
  // Groups asserted by the identity provider at the last sign-in (the
  // configured OIDC claim). Matched by policies like `groups`.
  std::vector<std::string> external_groups;
  // Account safety. Written only by RecordLoginFailure/ResetLoginFailures,
  // never by UpdateUser, so a stale copy cannot unlock an account.
  int failed_logins = 0;             // consecutive, since the last success or unlock
  std::optional<Time> locked_until;  // refused sign-ins until then
  // Filled on read from the user's MFA record: a confirmed TOTP exists.
  bool mfa_enabled = false;
};

// A user's TOTP second factor (RFC 6238) and recovery codes.
struct MfaRecord {
  Id user_id = 0;
  std::string secret;        // base32 TOTP secret; the server needs it to verify
  bool confirmed = false;    // enrolment finished with a first valid code
  int64_t last_step = -1;    // newest accepted time step; older or equal ones are reuse
  std::vector<std::string> recovery_hashes;  // hex SHA-256 of each unused recovery code
  Time created_at{};
};

// A long-lived credential for scripts: an API token (bearer) or an access
// key (SigV4). Revoking deletes it.
struct Credential {
  Id id = 0;
  Id user_id = 0;
  std::string kind;    // "api_token" | "access_key"
  std::string name;    // the owner's label, unique per user and kind
  // How a request finds it: api_token -> hex SHA-256 of the token;
  // access_key -> the access key id (public, "PHK...").
  std::string lookup;
  // access_key only: the secret access key. SigV4 verification recomputes
  // the HMAC, so the server must hold it (unlike a token, it cannot be a hash).
  std::string secret;
  Time created_at{};
  std::optional<Time> expires_at;  // absent: never
  std::optional<Time> last_used_at;
  std::string last_used_ip;
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

enum class ApprovalMode { kAuto, kAdmin };
// Where an approved request's hole opens: the address recorded when it was
// requested, or the address of the requester's next sign-in.
enum class ActivateOn { kRequestAddress, kNextLogin };

// Weekly access windows in a named IANA time zone (logic in core/schedule.h).
// A window whose `to` is not after `from` crosses midnight into the next day.
struct ScheduleWindow {
  uint8_t days = 0;  // bit d set = weekday d (0 = Sunday ... 6 = Saturday), local time
  int from_minute = 0;  // minutes after local midnight, 0..1439
  int to_minute = 0;    // 1..1440 (1440 = "24:00")
  bool operator==(const ScheduleWindow&) const = default;
};
struct Schedule {
  std::string timezone = "UTC";
  std::vector<ScheduleWindow> windows;
  bool operator==(const Schedule&) const = default;
};

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
  ApprovalMode approval = ApprovalMode::kAuto;
  ActivateOn activate_on = ActivateOn::kRequestAddress;  // for approved requests
  bool notify_admins = false;  // tell admins about auto-approved requests too
  std::optional<Schedule> schedule;  // absent: always
  bool may_outlive_window = false;   // else a lease ends when its window ends
  // Its services are what POST /connection opens for its subjects (the
  // "default grant" of scripts that name no service).
  bool is_default = false;
};

enum class LeaseState {
  kPendingApproval,
  kInvited,
  kActive,
  kExpired,
  kTerminated,
  kRevoked,
  kDenied,
  kCancelled,
  kApproved,  // approved, opens at the requester's next sign-in (ActivateOn::kNextLogin)
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
  // How long the lease lasts once active. For a lease not yet active
  // (pending_approval, approved, invited) expires_at is the deadline by which
  // it must be decided or used, and activation sets expires_at from this.
  Seconds duration{};
  bool reminded = false;  // the owner was reminded of the coming expiry
  std::string reason;
  std::string policy;  // name of the policy that granted it
  Time created_at{};
  std::optional<Time> activated_at;
  Time expires_at{};
  std::optional<Time> ended_at;
  std::string ended_by;  // email, or "system" for expiry
  std::string approved_by;
};

// A notification waiting to be sent (or sent): one email to one address, or
// one webhook POST. Rendered when the event commits, so that a later restart
// or template change cannot alter what was promised.
struct OutboxMessage {
  Id id = 0;
  std::string channel;  // "email" | "webhook"
  std::string target;   // email address, or webhook name
  std::string event;    // e.g. "lease.approval_requested"
  std::string subject;  // email subject ("" for webhooks)
  std::string text;     // plain-text body; the JSON body for webhooks
  std::string html;     // HTML alternative ("" for none)
  Time created_at{};
  std::string state = "pending";  // "pending" | "sent" | "failed"
  int attempts = 0;
  Time next_attempt_at{};
  std::string last_error;
  std::optional<Time> sent_at;
};

// A single-use secret for an action without a session: confirming an
// invitation, a one-click approve/deny from an email, setting a password.
// Stored by the hash of the secret.
struct ActionToken {
  std::string token_hash;  // hex SHA-256
  std::string purpose;     // "invite" | "approve" | "deny" | "set_password"
  Id lease_id = 0;         // for invite/approve/deny
  Id user_id = 0;          // the admin deciding, or the user setting a password
  Time created_at{};
  Time expires_at{};
  std::optional<Time> used_at;
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
  // Side effects committed in the same transaction as the event (DESIGN.md
  // invariant 8); not part of the audit record itself:
  // messages to send about it,
  std::vector<OutboxMessage> outbox;
  // action tokens to create (a lease_id/user_id of 0 names the lease or user
  // this same call creates),
  std::vector<ActionToken> tokens;
  // and token hashes to mark used; the call fails with Conflict "token_used"
  // if one is already used or missing, and then changes nothing.
  std::vector<std::string> consume_tokens;
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
  // How the user proved who they are: "password", "password+totp",
  // "password+recovery", "oidc", ...
  std::string method = "password";
  // A session whose only use is enrolling the second factor that an MFA
  // requirement asks for (granted after the password, before a TOTP exists).
  bool mfa_enrolment_only = false;
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
