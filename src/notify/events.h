// The names of the events Pinhole notifies about. They appear as the outbox
// message's `event`, the webhook body's "event", the X-Pinhole-Event header,
// and in a webhook's `events` filter in the config.
//
// Header-only constants (the config parser includes this to reject unknown
// names without linking the notify layer). Thread-safe.
#pragma once

#include <string_view>

namespace pinhole::events {

inline constexpr std::string_view kApprovalRequested = "lease.approval_requested";
inline constexpr std::string_view kOpened = "lease.opened";
inline constexpr std::string_view kApproved = "lease.approved";
inline constexpr std::string_view kDenied = "lease.denied";
inline constexpr std::string_view kInvited = "lease.invited";
inline constexpr std::string_view kExpiring = "lease.expiring";
inline constexpr std::string_view kEnded = "lease.ended";
inline constexpr std::string_view kUserWelcome = "user.welcome";

inline constexpr std::string_view kAll[] = {
    kApprovalRequested, kOpened, kApproved, kDenied, kInvited, kExpiring, kEnded, kUserWelcome,
};

inline bool IsKnown(std::string_view name) {
  for (std::string_view e : kAll) {
    if (e == name) return true;
  }
  return false;
}

}  // namespace pinhole::events
