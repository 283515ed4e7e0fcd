#include "http/router.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace pinhole {
namespace {

bool IsParam(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// "/a/b/" and "/a/b" both give {"a","b"}; "/" gives {}. Inner empty segments
// ("/a//b") are kept so that they match nothing.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);
  if (path.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      break;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
  Route route;
  route.method = std::move(method);
  for (std::string_view s : SplitPath(pattern)) route.segments.emplace_back(s);
  route.handler = std::move(handler);
  routes_.push_back(std::move(route));
}

HttpResponse Router::Dispatch(const HttpRequest& request) const {
  std::vector<std::string_view> parts = SplitPath(request.path);
  // HEAD is answered by the GET route (the server drops the body).
  const bool head = request.method == "HEAD";

  const Route* best = nullptr;
  const Route* best_get = nullptr;
  std::set<std::string> allowed;
  auto more_specific = [](const Route& a, const Route& b) {
    // At the first position where one has a literal and the other a
    // placeholder, the literal wins: "/leases/mine" beats "/leases/{id}".
    for (size_t i = 0; i < a.segments.size(); ++i) {
      bool pa = IsParam(a.segments[i]);
      bool pb = IsParam(b.segments[i]);
      if (pa != pb) return !pa;
    }
    return false;
  };
  for (const Route& route : routes_) {
    if (route.segments.size() != parts.size()) continue;
    bool match = true;
    for (size_t i = 0; i < parts.size() && match; ++i) {
      const std::string& seg = route.segments[i];
      match = IsParam(seg) ? !parts[i].empty() : seg == parts[i];
    }
    if (!match) continue;
    allowed.insert(route.method);
    if (route.method == "GET") allowed.insert("HEAD");
    if (route.method == request.method) {
      if (best == nullptr || more_specific(route, *best)) best = &route;
    } else if (head && route.method == "GET") {
      if (best_get == nullptr || more_specific(route, *best_get)) best_get = &route;
    }
  }
  if (best == nullptr) best = best_get;
  if (best == nullptr) {
    if (allowed.empty()) return JsonError(404, "not_found", "no such resource: " + request.path);
    HttpResponse r =
        JsonError(405, "method_not_allowed", request.method + " is not allowed on " + request.path);
    std::string allow;
    for (const std::string& m : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    r.headers.emplace_back("Allow", std::move(allow));
    return r;
  }
  PathParams params;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = best->segments[i];
    if (IsParam(seg)) params[seg.substr(1, seg.size() - 2)] = std::string(parts[i]);
  }
  return best->handler(request, params);
}

HttpResponse JsonError(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  // Messages may echo request bytes; replace invalid UTF-8 instead of throwing.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

}  // namespace pinhole
