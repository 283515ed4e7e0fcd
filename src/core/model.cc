#include "core/model.h"

#include <charconv>

namespace pinhole {
namespace {

template <typename E, size_t N>
std::optional<E> Lookup(const std::pair<E, std::string_view> (&table)[N], std::string_view s) {
  for (const auto& [value, name] : table) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string_view Name(const std::pair<E, std::string_view> (&table)[N], E e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

constexpr std::pair<Role, std::string_view> kRoles[] = {{Role::kUser, "user"},
                                                        {Role::kAdmin, "admin"}};
constexpr std::pair<Protocol, std::string_view> kProtocols[] = {{Protocol::kTcp, "tcp"},
                                                                {Protocol::kUdp, "udp"},
                                                                {Protocol::kIcmp, "icmp"},
                                                                {Protocol::kAll, "all"}};
constexpr std::pair<RecipientKind, std::string_view> kRecipients[] = {
    {RecipientKind::kSelf, "self"},
    {RecipientKind::kCidr, "cidr"},
    {RecipientKind::kInvite, "invite"}};
constexpr std::pair<LeaseState, std::string_view> kStates[] = {
    {LeaseState::kPendingApproval, "pending_approval"},
    {LeaseState::kInvited, "invited"},
    {LeaseState::kActive, "active"},
    {LeaseState::kExpired, "expired"},
    {LeaseState::kTerminated, "terminated"},
    {LeaseState::kRevoked, "revoked"},
    {LeaseState::kDenied, "denied"},
    {LeaseState::kCancelled, "cancelled"},
    {LeaseState::kApproved, "approved"},
};

std::optional<uint16_t> ParsePort(std::string_view s) {
  // Digits only: from_chars would accept nothing else anyway, but "+22" and
  // " 22" must not slip through a later change.
  if (s.empty() || s.size() > 5) return std::nullopt;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  if (v < 1 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

std::string_view ToString(Role r) { return Name(kRoles, r); }
std::string_view ToString(Protocol p) { return Name(kProtocols, p); }
std::string_view ToString(RecipientKind k) { return Name(kRecipients, k); }
std::string_view ToString(LeaseState s) { return Name(kStates, s); }
std::optional<Role> ParseRole(std::string_view s) { return Lookup(kRoles, s); }
std::optional<Protocol> ParseProtocol(std::string_view s) { return Lookup(kProtocols, s); }
std::optional<RecipientKind> ParseRecipientKind(std::string_view s) {
  return Lookup(kRecipients, s);
}
std::optional<LeaseState> ParseLeaseState(std::string_view s) { return Lookup(kStates, s); }

Result<PortRange> ParsePortRange(std::string_view s) {
  auto bad = [&] {
    return Status::Invalid("invalid_ports", "invalid port range \"" + std::string(s.substr(0, 32)) +
                                                "\": use \"22\" or \"8000-8100\" within 1-65535");
  };
  size_t dash = s.find('-');
  auto first = ParsePort(s.substr(0, dash));
  if (!first) return bad();
  if (dash == std::string_view::npos) return PortRange{*first, *first};
  auto last = ParsePort(s.substr(dash + 1));
  if (!last || *last < *first) return bad();
  return PortRange{*first, *last};
}

std::string ToString(const PortRange& r) {
  if (r.first == r.last) return std::to_string(r.first);
  return std::to_string(r.first) + "-" + std::to_string(r.last);
}

bool IsLive(LeaseState s) {
  return s == LeaseState::kActive || s == LeaseState::kPendingApproval ||
         s == LeaseState::kInvited || s == LeaseState::kApproved;
}

}  // namespace pinhole
