// Notifier: turns an event (a request needs approval, a lease ended, ...)
// into the outbox messages that tell people about it: one email per
// recipient (plain text with an HTML alternative) and one JSON POST per
// webhook that wants the event. Messages are rendered here, when the event
// commits, so that what was promised cannot change before it is sent.
//
// Pure: no I/O, no clock (callers pass `now`). A Notifier is immutable after
// construction and thread-safe.
//
// Webhook bodies are Slack-compatible (a "text" field, with Slack's control
// characters &, <, > escaped so that data such as a request reason cannot
// ping a channel) and carry the event and the object's fields:
//   {"event":"lease.approved","text":"...","time":"2026-11-21T09:30:00Z",
//    "lease":{...same fields as GET /api/v1/leases/ID without rules...},
//    "decision":{"approved":true,"by":"admin@example.com","note":""}}
// Webhooks never carry a password, a set-password link or a one-click
// approve/deny link: those are secrets meant for one person.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/model.h"

namespace pinhole {

struct WebhookTarget {
  std::string name;
  std::string url;
  std::string secret;               // HMAC key for X-Pinhole-Signature; "" = unsigned
  std::vector<std::string> events;  // event names (notify/events.h); empty = all
};

struct NotifyOptions {
  std::string public_url;  // no trailing '/'; links are built on it
  bool email_enabled = false;
  std::vector<WebhookTarget> webhooks;
};

// One admin's copy of an approval request: their address and their own
// single-use links (the tokens name the admin who will have decided).
struct AdminLinks {
  std::string email;
  std::string approve_url;
  std::string deny_url;
};

class Notifier {
 public:
  explicit Notifier(NotifyOptions options);

  // Every method returns the emails (only when email_enabled) followed by
  // one message per webhook whose filter includes the event; created_at and
  // next_attempt_at are `now`, state "pending", id 0 (the store assigns it).

  // "lease.approval_requested": to each admin, with their approve/deny links
  // and a link to the admin lease list.
  std::vector<OutboxMessage> ApprovalRequested(const Lease& lease,
                                               const std::vector<AdminLinks>& admins,
                                               Time now) const;
  // "lease.opened": an informational notice to admins about an automatically
  // granted lease (policy notify_admins).
  std::vector<OutboxMessage> AccessOpened(const Lease& lease,
                                          const std::vector<std::string>& admin_emails,
                                          Time now) const;
  // "lease.approved" / "lease.denied": to the requester (lease.owner). Pass
  // the lease as it is after the decision (state active, approved or denied).
  std::vector<OutboxMessage> RequestDecided(const Lease& lease, bool approved, std::string_view by,
                                            std::string_view note, Time now) const;
  // "lease.invited": to lease.invite_email, naming the inviter (lease.owner),
  // the services, lease.duration and when the link expires (lease.expires_at).
  std::vector<OutboxMessage> Invitation(const Lease& lease, std::string_view invite_url,
                                        Time now) const;
  // "user.welcome": to the new user. The email carries `password` when given,
  // else `set_password_url` (valid until `link_expires`) when given; the
  // webhook carries neither.
  std::vector<OutboxMessage> Welcome(const User& user, std::optional<std::string> password,
                                     std::optional<std::string> set_password_url, Time link_expires,
                                     Time now) const;
  // "lease.expiring": to the owner, before lease.expires_at.
  std::vector<OutboxMessage> ExpiryReminder(const Lease& lease, Time now) const;
  // "lease.ended": to the owner; the wording follows lease.state, ended_by
  // and whether the lease was ever active (expired, terminated by someone,
  // revoked, request expired without a decision, invitation unused or
  // cancelled).
  std::vector<OutboxMessage> LeaseEnded(const Lease& lease, Time now) const;

  const NotifyOptions& options() const { return options_; }

 private:
  struct Rendered;
  // One email per address in `to` (none when email is off).
  void AddEmails(std::string_view event, const std::vector<std::string>& to, const Rendered& email,
                 Time now, std::vector<OutboxMessage>& out) const;
  // One message per webhook that wants `event`.
  void AddWebhooks(std::string_view event, const std::string& body, Time now,
                   std::vector<OutboxMessage>& out) const;
  std::vector<OutboxMessage> Build(std::string_view event, const std::vector<std::string>& to,
                                   const Rendered& email, const std::string& webhook_body,
                                   Time now) const;

  NotifyOptions options_;
};

// Text helpers, exposed for tests and for other senders.

// "2026-11-21T09:30:00Z (Sat 21 Nov 2026 09:30 UTC)".
std::string DescribeTime(Time t);
// "1 day 2 hours", "45 minutes", "30 seconds"; at most two units, rounded down.
std::string DescribeDuration(Seconds d);
// &, <, >, " and ' as HTML entities.
std::string HtmlEscape(std::string_view s);
// &, < and > as entities, and with `quotes` also " and ' (HTML attributes);
// without, it is Slack's escaping of message text.
std::string EscapeMarkup(std::string_view s, bool quotes);

}  // namespace pinhole
