// Client for the Pinhole HTTP API v1 (/work/shared/API.md): builds URLs,
// adds the bearer token, encodes JSON bodies and turns error replies
// ({"error":{"code","message"}}) into a Status.
//
// Thread-safety: like the HttpClient it wraps, one thread at a time.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "core/result.h"

namespace pinhole::cli {

using Json = nlohmann::json;

class ApiClient {
 public:
  // `server` is a base URL such as "https://pinhole.example.com" (a trailing
  // slash is tolerated); `token` may be empty for unauthenticated calls.
  // `http` is not owned and must outlive this object.
  ApiClient(HttpClient* http, std::string server, std::string token);

  // Each call returns the decoded JSON body on 2xx (null for an empty body,
  // e.g. 204). On an error reply the Status carries the server's code as
  // reason() and its message; the Code follows the HTTP status. When the
  // server cannot be reached: Code kUnavailable, reason "unreachable", message
  // "cannot reach server at URL: ...".
  Result<Json> Get(std::string_view path);
  Result<Json> Post(std::string_view path, const Json& body);
  Result<Json> Patch(std::string_view path, const Json& body);
  Result<Json> Delete(std::string_view path);

  const std::string& server() const { return server_; }

 private:
  Result<Json> Call(std::string_view method, std::string_view path, const Json* body);

  HttpClient* http_;
  std::string server_;
  std::string token_;
};

// Maps a non-2xx reply to a Status; pure, for tests.
Status StatusFromErrorReply(int http_status, std::string_view body);

// Percent-encodes one path segment (a lease id, a user's email, a name), so
// that "/" or "?" in a name cannot change which resource is addressed. '@'
// stays as is: RFC 3986 allows it in a segment and emails read better.
std::string EscapePathSegment(std::string_view segment);

// "?a=1&b=x%20y" from the entries that have a value; "" when none do.
std::string QueryString(const std::map<std::string, std::optional<std::string>>& params);

// Canonical base URL: adds "https://" when no scheme is given, drops trailing
// slashes. Errors (reason "invalid_server") for empty input, a scheme other
// than http/https, or a URL with a query or fragment.
Result<std::string> NormalizeServerUrl(std::string_view url);

}  // namespace pinhole::cli
