#include "notify/notifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/duration.h"
#include "notify/events.h"
#include "notify/mime.h"

namespace pinhole {
namespace {

using nlohmann::json;

constexpr size_t kMaxSubject = 160;

std::string Join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A subject is one header line: control characters (a CR/LF from data would
// start a new header) become spaces, and a very long list is cut.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (out.size() > kMaxSubject) {
    size_t cut = kMaxSubject - 3;
    // Do not split a UTF-8 sequence: back up over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

// Slack reads &, < and > as markup ("<!channel>", "<url|label>"); escaping
// them keeps user-supplied text literal.
std::string SlackEscape(std::string_view s) { return EscapeMarkup(s, /*quotes=*/false); }

std::string Plural(int64_t n, std::string_view unit) {
  std::string out = std::to_string(n) + " " + std::string(unit);
  if (n != 1) out += 's';
  return out;
}

std::string ServicesText(const Lease& l) {
  return l.services.empty() ? "(none)" : Join(l.services);
}

bool NeverActive(const Lease& l) { return !l.activated_at.has_value(); }

// Where the hole opens, in words, for leases that may not have an address yet.
std::string SourceText(const Lease& l) {
  if (l.recipient == RecipientKind::kInvite && NeverActive(l)) {
    return "the address of the browser that confirms the invitation";
  }
  if (l.state == LeaseState::kApproved) return "the address of the requester's next sign-in";
  return l.source.ToString();
}

json TimeOrNull(const std::optional<Time>& t) { return t ? json(FormatTime(*t)) : json(nullptr); }

json LeaseJson(const Lease& l) {
  json recipient = {{"kind", ToString(l.recipient)}};
  if (l.recipient == RecipientKind::kCidr) recipient["cidr"] = l.source.ToString();
  if (l.recipient == RecipientKind::kInvite) recipient["email"] = l.invite_email;
  bool has_source = !(l.recipient == RecipientKind::kInvite && NeverActive(l)) &&
                    l.state != LeaseState::kApproved;
  return {{"id", l.id},
          {"owner", l.owner},
          {"services", l.services},
          {"recipient", recipient},
          {"source_cidr", has_source ? json(l.source.ToString()) : json(nullptr)},
          {"state", ToString(l.state)},
          {"reason", l.reason},
          {"policy", l.policy},
          {"duration", FormatDuration(l.duration)},
          {"created_at", FormatTime(l.created_at)},
          {"activated_at", TimeOrNull(l.activated_at)},
          {"expires_at", FormatTime(l.expires_at)},
          {"ended_at", TimeOrNull(l.ended_at)},
          {"ended_by", l.ended_by.empty() ? json(nullptr) : json(l.ended_by)},
          {"approved_by", l.approved_by.empty() ? json(nullptr) : json(l.approved_by)}};
}

std::string WebhookBody(std::string_view event, const std::string& text, Time now, json extra) {
  json body = {{"event", event}, {"text", SlackEscape(text)}, {"time", FormatTime(now)}};
  for (auto& [k, v] : extra.items()) body[k] = std::move(v);
  // Replacement instead of an exception for invalid UTF-8 in user data.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Why a lease ended, as a webhook field and in words for its owner.
struct EndCause {
  std::string_view code;
  std::string summary;  // completes "Your access to X ..." / "Your invitation ..."
};

EndCause CauseOf(const Lease& l) {
  std::string by = l.ended_by.empty() ? "an administrator" : l.ended_by;
  switch (l.state) {
    case LeaseState::kTerminated:
      if (NeverActive(l)) return {"withdrawn", "was withdrawn by " + by + " before it opened"};
      return {"terminated", "was ended early by " + by};
    case LeaseState::kRevoked:
      return {"revoked",
              "was revoked by " + by + " (a policy, service or user it depended on changed)"};
    case LeaseState::kCancelled:
      return {"cancelled", "was cancelled by " + by};
    case LeaseState::kDenied:
      return {"denied", "was denied by " + by};
    case LeaseState::kExpired:
      if (!NeverActive(l)) return {"expired", "expired"};
      if (l.recipient == RecipientKind::kInvite) {
        return {"invitation_expired", "expired unused: nobody opened the invitation link in time"};
      }
      return {"request_expired", "expired before an administrator decided on it"};
    default:
      return {"ended", "ended"};
  }
}

// The body of an email, built once and written twice: as plain text and as
// HTML. Every piece of data is escaped in the HTML form.
class EmailBody {
 public:
  EmailBody& Para(std::string_view text) {
    Gap();
    text_ += text;
    text_ += '\n';
    html_ += "<p>" + HtmlEscape(text) + "</p>\n";
    return *this;
  }

  EmailBody& Fields(const std::vector<std::pair<std::string, std::string>>& rows) {
    Gap();
    size_t width = 0;
    for (const auto& [label, value] : rows) width = std::max(width, label.size());
    html_ += "<table cellpadding=\"3\" style=\"border-collapse:collapse\">\n";
    for (const auto& [label, value] : rows) {
      text_ += "  " + label + ":" + std::string(width - label.size() + 2, ' ') + value + "\n";
      html_ += "<tr><th align=\"left\" valign=\"top\">" + HtmlEscape(label) + "</th><td>" +
               HtmlEscape(value) + "</td></tr>\n";
    }
    html_ += "</table>\n";
    return *this;
  }

  EmailBody& Link(std::string_view label, std::string_view url) {
    Gap();
    text_ += std::string(label) + ":\n  " + std::string(url) + "\n";
    html_ += "<p><a href=\"" + HtmlEscape(url) + "\">" + HtmlEscape(label) + "</a></p>\n";
    return *this;
  }

  std::string Text(std::string_view footer) const {
    return text_ + "\n-- \n" + std::string(footer) + "\n";
  }
  std::string Html(std::string_view footer) const {
    return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\n"
           "<body style=\"font-family:sans-serif\">\n" +
           html_ + "<hr>\n<p style=\"color:#666;font-size:small\">" + HtmlEscape(footer) +
           "</p>\n</body></html>\n";
  }

 private:
  void Gap() {
    if (!text_.empty()) text_ += '\n';
  }

  std::string text_;
  std::string html_;
};

std::vector<std::pair<std::string, std::string>> LeaseRows(const Lease& l) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Services", ServicesText(l)},
      {"From address", SourceText(l)},
      {"Duration", DescribeDuration(l.duration)},
  };
  if (!l.reason.empty()) rows.emplace_back("Reason", l.reason);
  if (!l.policy.empty()) rows.emplace_back("Policy", l.policy);
  rows.emplace_back("Lease", "#" + std::to_string(l.id));
  return rows;
}

}  // namespace

struct Notifier::Rendered {
  std::string subject;
  EmailBody body;
};

std::string DescribeTime(Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  weekday wd{day};
  hh_mm_ss<Millis> hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, " (%s %u %s %d %02d:%02d UTC)", kShortDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), kShortMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()));
  return FormatTime(floor<Seconds>(t)) + buf;
}

std::string DescribeDuration(Seconds d) {
  int64_t s = d.count();
  if (s <= 0) return "0 seconds";
  constexpr std::pair<int64_t, std::string_view> kUnits[] = {
      {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  std::string out;
  int parts = 0;
  for (const auto& [secs, unit] : kUnits) {
    if (s >= secs && parts < 2) {
      if (!out.empty()) out += ' ';
      out += Plural(s / secs, unit);
      s %= secs;
      ++parts;
    } else if (parts > 0) {
      // "1 day 30 seconds" reads oddly; stop at the first gap.
      break;
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view s) { return EscapeMarkup(s, /*quotes=*/true); }

std::string EscapeMarkup(std::string_view s, bool quotes) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += quotes ? "&quot;" : "\"";
        break;
      case '\'':
        out += quotes ? "&#39;" : "'";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Notifier::Notifier(NotifyOptions options) : options_(std::move(options)) {
  while (options_.public_url.ends_with('/')) options_.public_url.pop_back();
}

namespace {

OutboxMessage Pending(std::string_view channel, std::string target, std::string_view event,
                      Time now) {
  OutboxMessage m;
  m.channel = std::string(channel);
  m.target = std::move(target);
  m.event = std::string(event);
  m.created_at = now;
  m.next_attempt_at = now;
  m.state = "pending";
  return m;
}

}  // namespace

void Notifier::AddEmails(std::string_view event, const std::vector<std::string>& to,
                         const Rendered& email, Time now, std::vector<OutboxMessage>& out) const {
  if (!options_.email_enabled) return;
  std::string footer = "Sent by Pinhole, " + options_.public_url;
  std::string text = email.body.Text(footer);
  std::string html = email.body.Html(footer);
  std::string subject = OneLine(email.subject);
  for (const auto& address : to) {
    if (address.empty()) continue;
    OutboxMessage m = Pending("email", address, event, now);
    m.subject = subject;
    m.text = text;
    m.html = html;
    out.push_back(std::move(m));
  }
}

void Notifier::AddWebhooks(std::string_view event, const std::string& body, Time now,
                           std::vector<OutboxMessage>& out) const {
  for (const auto& hook : options_.webhooks) {
    bool wanted = hook.events.empty() ||
                  std::find(hook.events.begin(), hook.events.end(), event) != hook.events.end();
    if (!wanted) continue;
    OutboxMessage m = Pending("webhook", hook.name, event, now);
    m.text = body;
    out.push_back(std::move(m));
  }
}

std::vector<OutboxMessage> Notifier::Build(std::string_view event,
                                           const std::vector<std::string>& to,
                                           const Rendered& email, const std::string& webhook_body,
                                           Time now) const {
  std::vector<OutboxMessage> out;
  AddEmails(event, to, email, now, out);
  AddWebhooks(event, webhook_body, now, out);
  return out;
}

std::vector<OutboxMessage> Notifier::ApprovalRequested(const Lease& lease,
                                                       const std::vector<AdminLinks>& admins,
                                                       Time now) const {
  std::string list_url = options_.public_url + "/admin/leases";
  std::string subject = "Approval needed: " + lease.owner + " asks for " + ServicesText(lease);
  std::string summary = lease.owner + " asks for access to " + ServicesText(lease) + " for " +
                        DescribeDuration(lease.duration) + ". The policy \"" + lease.policy +
                        "\" needs an administrator to approve it.";
  auto rows = LeaseRows(lease);
  rows.emplace_back("Requested at", DescribeTime(lease.created_at));
  rows.emplace_back("Decide by", DescribeTime(lease.expires_at));

  // Each admin's email differs only in their own links.
  std::vector<OutboxMessage> out;
  for (const auto& admin : admins) {
    Rendered r{subject, {}};
    r.body.Para(summary).Fields(rows);
    r.body.Link("Approve", admin.approve_url).Link("Deny", admin.deny_url);
    r.body.Para(
        "Each link opens a confirmation page; nothing changes until you confirm there. "
        "The links work once. Unanswered, the request expires at " +
        DescribeTime(lease.expires_at) + ".");
    r.body.Link("All pending requests", list_url);
    AddEmails(events::kApprovalRequested, {admin.email}, r, now, out);
  }
  std::string text = lease.owner + " requests approval for " + ServicesText(lease) + " from " +
                     SourceText(lease) + " for " + DescribeDuration(lease.duration) + " (lease #" +
                     std::to_string(lease.id) + "). Review: " + list_url;
  std::string body = WebhookBody(events::kApprovalRequested, text, now,
                                 {{"lease", LeaseJson(lease)}, {"review_url", list_url}});
  AddWebhooks(events::kApprovalRequested, body, now, out);
  return out;
}

std::vector<OutboxMessage> Notifier::AccessOpened(const Lease& lease,
                                                  const std::vector<std::string>& admin_emails,
                                                  Time now) const {
  std::string subject = "Access opened: " + lease.owner + " to " + ServicesText(lease) + " for " +
                        DescribeDuration(lease.duration);
  Rendered r{subject, {}};
  auto rows = LeaseRows(lease);
  if (lease.activated_at) rows.emplace_back("Opened at", DescribeTime(*lease.activated_at));
  rows.emplace_back("Ends at", DescribeTime(lease.expires_at));
  r.body
      .Para(lease.owner + " was granted access automatically by the policy \"" + lease.policy +
            "\", which asks that administrators be told.")
      .Fields(rows)
      .Link("Leases", options_.public_url + "/admin/leases");
  std::string text = lease.owner + " opened " + ServicesText(lease) + " from " + SourceText(lease) +
                     " until " + FormatTime(lease.expires_at) + " (lease #" +
                     std::to_string(lease.id) + ")";
  return Build(events::kOpened, admin_emails, r,
               WebhookBody(events::kOpened, text, now, {{"lease", LeaseJson(lease)}}), now);
}

std::vector<OutboxMessage> Notifier::RequestDecided(const Lease& lease, bool approved,
                                                    std::string_view by, std::string_view note,
                                                    Time now) const {
  std::string who = by.empty() ? "an administrator" : std::string(by);
  Rendered r;
  std::string text;
  auto rows = LeaseRows(lease);
  if (approved) {
    r.subject = "Approved: your access to " + ServicesText(lease);
    std::string what;
    if (lease.state == LeaseState::kApproved) {
      what = "It opens for the address you next sign in from. Sign in before " +
             DescribeTime(lease.expires_at) + ", or the approval lapses.";
    } else {
      what = "Access is open from " + lease.source.ToString() + " until " +
             DescribeTime(lease.expires_at) + ".";
      rows.emplace_back("Ends at", DescribeTime(lease.expires_at));
    }
    r.body.Para(who + " approved your request for " + ServicesText(lease) + ". " + what);
    text = who + " approved " + lease.owner + "'s request for " + ServicesText(lease) +
           " (lease #" + std::to_string(lease.id) + ")";
  } else {
    r.subject = "Denied: your access to " + ServicesText(lease);
    r.body.Para(who + " denied your request for " + ServicesText(lease) + ".");
    text = who + " denied " + lease.owner + "'s request for " + ServicesText(lease) + " (lease #" +
           std::to_string(lease.id) + ")";
  }
  if (!note.empty()) {
    r.body.Para("Note from " + who + ": " + std::string(note));
    text += ": " + std::string(note);
  }
  r.body.Fields(rows).Link("Your leases", options_.public_url + "/");
  std::string_view event = approved ? events::kApproved : events::kDenied;
  json decision = {{"approved", approved}, {"by", by}, {"note", note}};
  return Build(event, {lease.owner}, r,
               WebhookBody(event, text, now, {{"lease", LeaseJson(lease)}, {"decision", decision}}),
               now);
}

std::vector<OutboxMessage> Notifier::Invitation(const Lease& lease, std::string_view invite_url,
                                                Time now) const {
  Rendered r;
  r.subject = lease.owner + " invited you to access " + ServicesText(lease);
  r.body
      .Para(lease.owner + " invited you to access " + ServicesText(lease) + " for " +
            DescribeDuration(lease.duration) + ".")
      .Para(
          "Open the link below on the computer you will connect from and confirm. Access opens "
          "for that computer's network address only, starting when you confirm.")
      .Link("Accept the invitation", invite_url)
      .Fields({{"Services", ServicesText(lease)},
               {"Duration", DescribeDuration(lease.duration)},
               {"Invited by", lease.owner},
               {"Link expires", DescribeTime(lease.expires_at)}})
      .Para("The link works once. If you did not expect this invitation, ignore this email.");
  std::string text = lease.owner + " invited " + lease.invite_email + " to " + ServicesText(lease) +
                     " for " + DescribeDuration(lease.duration) + "; the invitation expires " +
                     FormatTime(lease.expires_at) + " (lease #" + std::to_string(lease.id) + ")";
  // The link itself is the secret: it goes to the invitee only.
  return Build(events::kInvited, {lease.invite_email}, r,
               WebhookBody(events::kInvited, text, now, {{"lease", LeaseJson(lease)}}), now);
}

std::vector<OutboxMessage> Notifier::Welcome(const User& user, std::optional<std::string> password,
                                             std::optional<std::string> set_password_url,
                                             Time link_expires, Time now) const {
  Rendered r;
  r.subject = "Your Pinhole account";
  r.body.Para(
      "An account on Pinhole was created for you. Pinhole opens network access to "
      "protected services when you ask for it.");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Sign in at", options_.public_url + "/"},
      {"Email", user.email},
  };
  if (password) rows.emplace_back("Password", *password);
  r.body.Fields(rows);
  if (password) {
    if (user.must_change_password) {
      r.body.Para("You will be asked to choose a new password when you first sign in.");
    }
  } else if (set_password_url) {
    r.body.Link("Choose your password", *set_password_url)
        .Para("The link works once and expires at " + DescribeTime(link_expires) + ".");
  } else {
    r.body.Para("Ask your administrator for your password.");
  }
  std::string text =
      "Account created for " + user.email + " (" + std::string(ToString(user.role)) + ")";
  json user_json = {{"id", user.id},
                    {"email", user.email},
                    {"role", ToString(user.role)},
                    {"must_change_password", user.must_change_password}};
  return Build(events::kUserWelcome, {user.email}, r,
               WebhookBody(events::kUserWelcome, text, now, {{"user", user_json}}), now);
}

std::vector<OutboxMessage> Notifier::ExpiryReminder(const Lease& lease, Time now) const {
  Seconds left = std::chrono::floor<Seconds>(std::max(lease.expires_at - now, Millis(0)));
  // Round up to the minute: "ends in 15 minutes", not "14 minutes 59 seconds".
  if (left.count() % 60 != 0 && left.count() > 60) left += Seconds(60 - left.count() % 60);
  Rendered r;
  r.subject = "Your access to " + ServicesText(lease) + " ends in " + DescribeDuration(left);
  auto rows = LeaseRows(lease);
  rows.emplace_back("Ends at", DescribeTime(lease.expires_at));
  r.body
      .Para("Your access to " + ServicesText(lease) + " from " + SourceText(lease) + " ends in " +
            DescribeDuration(left) + ".")
      .Fields(rows)
      .Para(
          "A lease cannot be extended after it ends; to keep working, request access again in "
          "the portal or with `pinhole open`.")
      .Link("Request access", options_.public_url + "/");
  std::string text = "Lease #" + std::to_string(lease.id) + " of " + lease.owner + " (" +
                     ServicesText(lease) + ") ends in " + DescribeDuration(left);
  return Build(events::kExpiring, {lease.owner}, r,
               WebhookBody(events::kExpiring, text, now, {{"lease", LeaseJson(lease)}}), now);
}

std::vector<OutboxMessage> Notifier::LeaseEnded(const Lease& lease, Time now) const {
  EndCause cause = CauseOf(lease);
  Rendered r;
  std::string what;
  bool invitation = lease.recipient == RecipientKind::kInvite;
  if (invitation && NeverActive(lease)) {
    what = "Your invitation for " + lease.invite_email + " to " + ServicesText(lease);
  } else if (NeverActive(lease)) {
    what = "Your request for " + ServicesText(lease);
  } else {
    what = "Your access to " + ServicesText(lease);
  }
  r.subject = what + " " + cause.summary;
  auto rows = LeaseRows(lease);
  if (lease.activated_at) rows.emplace_back("Opened at", DescribeTime(*lease.activated_at));
  rows.emplace_back("Ended at", DescribeTime(lease.ended_at.value_or(now)));
  r.body.Para(what + " " + cause.summary + ".").Fields(rows);
  if (!NeverActive(lease) && lease.recipient == RecipientKind::kSelf) {
    r.body.Para("The hole for " + lease.source.ToString() +
                " is closed. Request access again if you still need it.");
  }
  r.body.Link("Your leases", options_.public_url + "/");
  std::string text = "Lease #" + std::to_string(lease.id) + " of " + lease.owner + " (" +
                     ServicesText(lease) + ") " + cause.summary;
  json ended = {{"cause", cause.code},
                {"by", lease.ended_by.empty() ? json(nullptr) : json(lease.ended_by)}};
  return Build(
      events::kEnded, {lease.owner}, r,
      WebhookBody(events::kEnded, text, now, {{"lease", LeaseJson(lease)}, {"ended", ended}}), now);
}

}  // namespace pinhole
