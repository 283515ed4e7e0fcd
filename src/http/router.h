// Maps (method, path pattern) to a handler. Patterns are literal segments and
// "{name}" placeholders: "/api/v1/leases/{id}/renew".
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "http/server.h"

namespace pinhole {

using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

class Router {
 public:
  void Add(std::string method, std::string pattern, RouteHandler handler);
  // 404 not_found if no pattern matches the path; 405 method_not_allowed
  // (with an Allow header) if the path matches under other methods only.
  HttpResponse Dispatch(const HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

// {"error":{"code":..., "message":...}} with the given status.
HttpResponse JsonError(int status, std::string_view code, std::string_view message);

}  // namespace pinhole
