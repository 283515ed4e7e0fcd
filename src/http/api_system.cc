// /healthz, /readyz, /metrics and /api/v1/audit.
#include <fmt/format.h>

#include "http/api.h"
#include "http/json_fields.h"

namespace pinhole {

HttpResponse Api::Healthz(Call& call) { return JsonResponse(200, {{"status", "ok"}}); }

HttpResponse Api::Readyz(Call& call) {
  if (!ctx_.controller.ready()) {
    return JsonError(503, "not_ready", "enforcement points have not been reconciled yet");
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
  metric("pinhole_login_failures_total", "counter", "Failed sign-ins", logins_failed_.load());
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

HttpResponse Api::ListAudit(Call& call) {
  int64_t after = 0;
  int limit = 100;
  const auto& q = call.http.query;
  if (auto it = q.find("after"); it != q.end()) {
    auto n = ParseInteger(it->second, 0, std::numeric_limits<int64_t>::max());
    if (!n) return JsonError(422, "invalid_field", "after: must be a sequence number >= 0");
    after = *n;
  }
  if (auto it = q.find("limit"); it != q.end()) {
    auto n = ParseInteger(it->second, 1, 1000);
    if (!n) return JsonError(422, "invalid_field", "limit: must be 1..1000");
    limit = static_cast<int>(*n);
  }
  nlohmann::json items = nlohmann::json::array();
  int64_t last = after;
  for (const auto& e : ctx_.store.ListAudit(after, limit)) {
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
    last = e.seq;
  }
  return JsonResponse(200, {{"items", items}, {"next_after", last}});
}

}  // namespace pinhole
