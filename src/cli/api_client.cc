#include "cli/api_client.h"

#include <cctype>

namespace pinhole::cli {
namespace {

Code CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
    case 413:
    case 422:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
    case 410:
      return Code::kNotFound;
    case 409:
      return Code::kConflict;
    case 429:
      return Code::kResourceExhausted;
    case 502:
    case 503:
    case 504:
      return Code::kUnavailable;
    default:
      return status >= 500 ? Code::kInternal : Code::kInvalidArgument;
  }
}

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s, bool keep_at) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_at && c == '@')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace

ApiClient::ApiClient(HttpClient* http, std::string server, std::string token)
    : http_(http), server_(std::move(server)), token_(std::move(token)) {
  while (!server_.empty() && server_.back() == '/') server_.pop_back();
}

Result<Json> ApiClient::Get(std::string_view path) { return Call("GET", path, nullptr); }
Result<Json> ApiClient::Post(std::string_view path, const Json& body) {
  return Call("POST", path, &body);
}
Result<Json> ApiClient::Patch(std::string_view path, const Json& body) {
  return Call("PATCH", path, &body);
}
Result<Json> ApiClient::Delete(std::string_view path) { return Call("DELETE", path, nullptr); }

Result<Json> ApiClient::Call(std::string_view method, std::string_view path, const Json* body) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = server_ + std::string(path);
  request.headers.emplace_back("Accept", "application/json");
  if (body != nullptr) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body->dump();
  }
  if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);

  Result<HttpResponse> sent = http_->Send(request);
  if (!sent.ok()) {
    if (sent.status().reason() == "unreachable") {
      return Status(Code::kUnavailable, "unreachable",
                    "cannot reach server at " + server_ + ": " + sent.status().message());
    }
    return sent.status();
  }
  const HttpResponse& response = *sent;
  if (response.status < 200 || response.status > 299) {
    return StatusFromErrorReply(response.status, response.body);
  }
  if (response.body.empty()) return Json();
  Json decoded = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (decoded.is_discarded()) {
    return Status(Code::kInternal, "bad_response",
                  "server at " + server_ + " sent a reply that is not JSON (HTTP " +
                      std::to_string(response.status) + ")");
  }
  return decoded;
}

Status StatusFromErrorReply(int http_status, std::string_view body) {
  Code code = CodeForHttpStatus(http_status);
  Json decoded = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (decoded.is_object() && decoded.contains("error") && decoded["error"].is_object()) {
    const Json& error = decoded["error"];
    std::string reason = error.value("code", "");
    std::string message = error.value("message", "");
    if (reason.empty()) reason = "http_" + std::to_string(http_status);
    if (message.empty())
      message = "server refused the request (HTTP " + std::to_string(http_status) + ")";
    return Status(code, reason, message);
  }
  // Not our server's error shape (a proxy's HTML page, say): report the
  // status rather than echoing an arbitrary body to the terminal.
  return Status(code, "http_" + std::to_string(http_status),
                "server replied with HTTP " + std::to_string(http_status));
}

std::string EscapePathSegment(std::string_view segment) {
  return PercentEncode(segment, /*keep_at=*/true);
}

std::string QueryString(const std::map<std::string, std::optional<std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!value) continue;
    out += out.empty() ? '?' : '&';
    out += PercentEncode(key, false);
    out += '=';
    out += PercentEncode(*value, false);
  }
  return out;
}

Result<std::string> NormalizeServerUrl(std::string_view url) {
  auto bad = [&](std::string why) {
    return Status::Invalid(
        "invalid_server", "invalid server URL \"" + std::string(url.substr(0, 200)) + "\": " + why);
  };
  std::string s(url);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  if (s.empty()) return bad("empty");
  size_t scheme_end = s.find("://");
  if (scheme_end == std::string::npos) {
    s = "https://" + s;
  } else {
    std::string scheme = s.substr(0, scheme_end);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http" && scheme != "https") return bad("scheme must be http or https");
    s = scheme + s.substr(scheme_end);
  }
  if (s.find_first_of("?#") != std::string::npos) return bad("must not contain '?' or '#'");
  if (s.find_first_of(" \t\r\n") != std::string::npos) return bad("must not contain spaces");
  size_t host_start = s.find("://") + 3;
  if (host_start >= s.size() || s[host_start] == '/') return bad("missing host name");
  while (s.back() == '/') s.pop_back();
  return s;
}

}  // namespace pinhole::cli
