// /healthz, /readyz, /metrics and /api/v1/audit.
#include <fmt/format.h>

#include "http/api.h"
#include "notify/notifier.h"
#include "notify/outbox_sender.h"
#include "http/json_fields.h"
#include "http/tunnel/tunnel_service.h"

namespace pinhole {

HttpResponse Api::Healthz(Call& call) { return JsonResponse(200, {{"status", "ok"}}); }

HttpResponse Api::Info(Call& call) {
  // What the portal needs to know before anyone signs in: which optional
  // features to show. No version: it would only help an attacker.
  return JsonResponse(200, {{"name", "Pinhole"},
                            {"features",
                             {{"approval", true},
                              {"schedule", true},
                              {"invitations", true},
                              {"email", ctx_.notifier && ctx_.notifier->options().email_enabled},
                              {"totp", true},
                              {"sso", SsoFeatures()},
                              {"local_passwords", ctx_.config.local_passwords == LocalPasswords::kAll
                                                      ? "all"
                                                      : ctx_.config.local_passwords ==
                                                                LocalPasswords::kAdminsOnly
                                                            ? "admins"
                                                            : "none"}}},
                            {"backends", ctx_.controller.Backends()}});
}

HttpResponse Api::Readyz(Call& call) {
  if (!ctx_.controller.ready()) {
    return JsonError(503, "not_ready", "enforcement points have not been reconciled yet");
  }
  // A backend whose calls have failed for too long makes this replica not
  // ready: leases on it cannot be opened or closed now.
  nlohmann::json degraded = nlohmann::json::object();
  std::string why;
  for (const auto& [backend, health] : ctx_.controller.Health()) {
    if (!health.degraded) continue;
    degraded[backend] = health.reason;
    why += (why.empty() ? "" : "; ") + backend + ": " + health.reason;
  }
  if (!degraded.empty()) {
    return JsonResponse(503, {{"status", "degraded"},
                              {"degraded", degraded},
                              {"error", {{"code", "degraded"}, {"message", why}}}});
  }
  return JsonResponse(200, {{"status", "ready"}});
}

HttpResponse Api::Metrics(Call& call) {
  ControllerStats s = ctx_.controller.Stats();
  std::string out;
  auto metric = [&out](std::string_view name, std::string_view type, std::string_view help,
                       auto value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
  };
  metric("pinhole_ready", "gauge", "1 when every enforcement point has been reconciled",
         s.ready ? 1 : 0);
  metric("pinhole_active_leases", "gauge", "Active leases", s.active_leases);
  metric("pinhole_holes", "gauge", "Holes (shared allow entries) wanted", s.holes);
  metric("pinhole_leases_created_total", "counter", "Leases granted", leases_created_.load());
  metric("pinhole_leases_expired_total", "counter", "Leases that reached their end",
         s.expired_leases);
  metric("pinhole_enforcer_applies_total", "counter", "Change sets sent to enforcement points",
         s.applies);
  metric("pinhole_enforcer_apply_errors_total", "counter", "Change sets that failed",
         s.apply_errors);
  metric("pinhole_drift_repairs_total", "counter",
         "Times an enforcement point differed from the store and was repaired", s.drift_repairs);
  {
    auto health = ctx_.controller.Health();
    out +=
        "# HELP pinhole_enforcer_degraded 1 when a backend's calls have failed for too long\n"
        "# TYPE pinhole_enforcer_degraded gauge\n";
    for (const auto& [backend, h] : health) {
      out += fmt::format("pinhole_enforcer_degraded{{backend=\"{}\"}} {}\n", backend,
                         h.degraded ? 1 : 0);
    }
    for (const auto& [backend, h] : health) {
      for (const auto& c : h.counters) metric(c.name, c.type, c.help, c.value);
    }
  }
  metric("pinhole_login_failures_total", "counter", "Failed sign-ins", logins_failed_.load());
  if (ctx_.tunnels != nullptr) {
    TunnelStats t = ctx_.tunnels->Stats();
    metric("pinhole_tunnels_active", "gauge", "Tunnels relaying now", t.active);
    out +=
        "# HELP pinhole_tunnel_bytes_total Bytes relayed by tunnels (up: client to target)\n"
        "# TYPE pinhole_tunnel_bytes_total counter\n";
    out += fmt::format("pinhole_tunnel_bytes_total{{direction=\"up\"}} {}\n", t.bytes_up);
    out += fmt::format("pinhole_tunnel_bytes_total{{direction=\"down\"}} {}\n", t.bytes_down);
    metric("pinhole_tunnel_dial_failures_total", "counter",
           "Tunnel targets that could not be reached", t.dial_failures);
    metric("pinhole_tunnels_refused_total", "counter",
           "Tunnel requests refused (no lease, limits, unreachable target)", t.refused);
  }
  if (ctx_.outbox != nullptr) {
    OutboxStats o = ctx_.outbox->Stats();
    metric("pinhole_notifications_sent_total", "counter", "Emails and webhooks delivered", o.sent);
    metric("pinhole_notifications_failed_total", "counter",
           "Emails and webhooks given up on after retries", o.failed);
    metric("pinhole_notification_retries_total", "counter",
           "Delivery attempts that failed and will be retried", o.retries);
    metric("pinhole_notifications_pending", "gauge", "Emails and webhooks waiting to be sent",
           o.pending);
  }
  out +=
      "# HELP pinhole_http_responses_total HTTP responses by status class\n"
      "# TYPE pinhole_http_responses_total counter\n";
  for (int c = 1; c <= 5; ++c) {
    out +=
        fmt::format("pinhole_http_responses_total{{class=\"{}xx\"}} {}\n", c, requests_[c].load());
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  return r;
}

// Delivery state of notifications, without their bodies (which may carry
// links meant for one person).
HttpResponse Api::ListOutbox(Call& call) {
  const auto& q = call.http.query;
  std::string state;
  if (auto it = q.find("state"); it != q.end()) state = it->second;
  if (!state.empty() && state != "pending" && state != "sent" && state != "failed") {
    return JsonError(422, "invalid_field", "state: must be pending, sent or failed");
  }
  int limit = 100;
  if (auto it = q.find("limit"); it != q.end()) {
    auto n = ParseInteger(it->second, 1, 1000);
    if (!n) return JsonError(422, "invalid_field", "limit: must be 1..1000");
    limit = static_cast<int>(*n);
  }
  auto messages = ctx_.store.ListOutbox(state, limit);
  if (!messages.ok()) return ErrorResponse(messages.status());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& m : *messages) {
    items.push_back({{"id", m.id},
                     {"channel", m.channel},
                     {"target", m.target},
                     {"event", m.event},
                     {"subject", m.subject},
                     {"state", m.state},
                     {"attempts", m.attempts},
                     {"created_at", FormatTime(m.created_at)},
                     {"next_attempt_at", FormatTime(m.next_attempt_at)},
                     {"last_error", m.last_error},
                     {"sent_at", m.sent_at ? nlohmann::json(FormatTime(*m.sent_at))
                                           : nlohmann::json(nullptr)}});
  }
  return JsonResponse(200, {{"items", items}});
}

HttpResponse Api::ListAudit(Call& call) {
  AuditQuery query{.limit = 100};
  const auto& q = call.http.query;
  auto param = [&q](const char* name) -> const std::string* {
    auto it = q.find(name);
    return it == q.end() ? nullptr : &it->second;
  };
  if (auto* v = param("after")) {
    auto n = ParseInteger(*v, 0, std::numeric_limits<int64_t>::max());
    if (!n) return JsonError(422, "invalid_field", "after: must be a sequence number >= 0");
    query.after = *n;
  }
  if (auto* v = param("before")) {
    auto n = ParseInteger(*v, 1, std::numeric_limits<int64_t>::max());
    if (!n) return JsonError(422, "invalid_field", "before: must be a sequence number >= 1");
    query.before = *n;
  }
  if (auto* v = param("limit")) {
    auto n = ParseInteger(*v, 1, 1000);
    if (!n) return JsonError(422, "invalid_field", "limit: must be 1..1000");
    query.limit = static_cast<int>(*n);
  }
  if (auto* v = param("order")) {
    if (*v != "asc" && *v != "desc") {
      return JsonError(422, "invalid_field", "order: must be asc or desc");
    }
    query.newest_first = *v == "desc";
  }
  if (auto* v = param("actor")) query.actor = *v;
  if (auto* v = param("action")) query.action_prefix = *v;
  for (auto [name, field] : {std::pair{"since", &query.since}, std::pair{"until", &query.until}}) {
    if (auto* v = param(name)) {
      auto t = ParseTime(*v);
      if (!t) {
        return JsonError(
            422, "invalid_field",
            std::string(name) + ": must be an RFC 3339 time like 2026-11-21T09:30:00Z");
      }
      *field = *t;
    }
  }
  if (query.actor.size() > 254 || query.action_prefix.size() > 128) {
    return JsonError(422, "invalid_field", "actor or action: too long");
  }

  // One more than asked tells whether another page exists.
  const int page_size = query.limit;
  ++query.limit;
  auto events = ctx_.store.QueryAudit(query);
  if (!events.ok()) return ErrorResponse(events.status());
  bool more = static_cast<int>(events->size()) > page_size;
  if (more) events->pop_back();
  nlohmann::json items = nlohmann::json::array();
  for (const auto& e : *events) {
    items.push_back(
        {{"seq", e.seq},
         {"time", FormatTime(e.time)},
         {"actor", e.actor},
         {"action", e.action},
         {"object", e.object},
         {"client_ip", e.client_ip.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.client_ip)},
         {"details", nlohmann::json::parse(e.details_json, nullptr, false)},
         {"prev_hash", e.prev_hash},
         {"hash", e.hash}});
  }
  if (query.newest_first) {
    nlohmann::json next = nullptr;
    if (more) next = events->back().seq;
    return JsonResponse(200, {{"items", items}, {"next_before", next}});
  }
  int64_t last = events->empty() ? query.after : events->back().seq;
  return JsonResponse(200, {{"items", items}, {"next_after", last}});
}

}  // namespace pinhole
