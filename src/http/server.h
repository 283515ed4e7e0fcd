// A small HTTP/1.1 (and HTTPS) server on Boost.Beast with C++20 coroutines.
//
// The server owns the sockets; a Handler turns one request into one response.
// Handlers run on the server's thread pool and may block (store writes,
// waiting for the controller), so the pool is larger than the core count.
// The server itself enforces the body limit (413) and answers malformed HTTP
// with 400; everything else is the handler's business.
//
// Thread-safety: Start/Stop/BoundAddresses are called from one owner thread.
// The handler is called concurrently from the pool threads and must be
// thread-safe. Every response gets Content-Length (except 1xx/204/304, where
// HTTP forbids it), security headers (nosniff, frame DENY, no-referrer, and
// HSTS under TLS) and, for application/json, "Cache-Control: no-store".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/result.h"

namespace pinhole {

struct HttpRequest {
  std::string method;  // "GET", ...
  std::string target;  // raw request target, e.g. "/api/v1/leases?state=active"
  std::string path;    // percent-decoded path without the query
  std::map<std::string, std::string> query;  // decoded query parameters (last wins)
  // Lower-cased names; repeated headers joined with ",".
  std::map<std::string, std::string> headers;
  std::string body;
  IpAddress peer;  // TCP peer address (IPv4-mapped shown as IPv4)
  uint16_t peer_port = 0;
  bool tls = false;

  // The header value or "" (name is case-insensitive).
  std::string Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Set-Cookie
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::vector<std::string> listen;  // "ADDR:PORT", IPv6 as "[::1]:8080"; port 0 = any
  std::string tls_cert;             // PEM paths; both set -> HTTPS only
  std::string tls_key;
  size_t max_body_bytes = 64 * 1024;    // larger -> 413, handler not called
  size_t max_header_bytes = 16 * 1024;  // request line + headers; larger -> 431
  int threads = 16;
  std::chrono::seconds idle_timeout{60};  // also bounds reading one request
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  // Binds every listen address (error naming the address on failure) and
  // starts serving on background threads.
  virtual Status Start() = 0;
  // Stops accepting, closes connections and joins the threads.
  virtual void Stop() = 0;
  // Bound endpoints after Start(), e.g. "127.0.0.1:43121" (useful with port 0).
  virtual std::vector<std::string> BoundAddresses() const = 0;
};

std::unique_ptr<HttpServer> NewHttpServer(HttpServerOptions options, HttpHandler handler);

}  // namespace pinhole
