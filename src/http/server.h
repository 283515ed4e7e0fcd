// A small HTTP/1.1 (and HTTPS) server on Boost.Beast with C++20 coroutines.
//
// The server owns the sockets; a Handler turns one request into one response.
// Handlers run on the server's thread pool and may block (store writes,
// waiting for the controller), so the pool is larger than the core count.
// The server itself enforces the body limit (413) and answers malformed HTTP
// with 400; everything else is the handler's business.
//
// WebSocket upgrades: when HttpServerOptions::upgrade is set, a request that is
// a WebSocket upgrade (RFC 6455 section 4.2.1) goes to that hook before the
// handler. The hook may pass (the handler answers as usual), refuse with a
// response (sent, then the connection closes), or accept with a session
// coroutine: the server completes the handshake and runs the session on the
// connection's strand with a WebSocket the server owns and lends for the
// session's duration. Stop() asks each live session to close (it is told via
// WebSocket::OnServerStop and should close with 1001) and aborts the sessions
// still open after a grace period, then joins. A connection still in the
// upgrade (hook or handshake) when Stop() runs is dropped.
//
// Thread-safety: Start/Stop/BoundAddresses are called from one owner thread.
// The handler is called concurrently from the pool threads and must be
// thread-safe. Every response gets Content-Length (except 1xx/204/304, where
// HTTP forbids it), security headers (nosniff, frame DENY, no-referrer, and
// HSTS under TLS) and, for application/json, "Cache-Control: no-store".
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
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
  // The value of cookie `name` in the Cookie header, or "".
  std::string Cookie(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, e.g. Set-Cookie
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// An accepted WebSocket, plain or over TLS. Owned by the server; a session
// borrows it until its coroutine completes. Every call must be made on the
// connection's strand, which is where the session coroutine runs (including
// work it co_spawns on `co_await boost::asio::this_coro::executor`). At most
// one Read and one Write-or-Close may be outstanding at a time (Beast's rule).
// The server answers pings and sends keepalive pings itself; a peer silent for
// two ping intervals fails the outstanding operations.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // One whole message into `out` (replaced); `text` says TEXT or BINARY.
  // websocket::error::closed once the close handshake completed (PeerCloseCode
  // then tells what the peer sent); another error when the connection failed.
  virtual boost::asio::awaitable<boost::system::error_code> Read(std::string& out, bool& text) = 0;
  // One message; fails when the connection has failed or closed.
  virtual boost::asio::awaitable<boost::system::error_code> Write(std::string_view data,
                                                                  bool text) = 0;
  // Sends a close frame (reason truncated to the 123 bytes RFC 6455 allows)
  // and completes when the peer's close arrived or the connection failed.
  virtual boost::asio::awaitable<boost::system::error_code> Close(uint16_t code,
                                                                  std::string_view reason) = 0;
  // Drops the TCP connection without a close handshake; pending operations
  // complete with errors.
  virtual void Abort() = 0;
  // `fn` runs on the strand if the server stops during the session; the
  // session should then Close(1001, ...) promptly. Without it, or if the
  // session is still running after the grace period, the server aborts.
  virtual void OnServerStop(std::function<void()> fn) = 0;
  // The code of the close frame the peer sent, 0 if none (yet).
  virtual int PeerCloseCode() const = 0;
};

using WebSocketSession = std::function<boost::asio::awaitable<void>(WebSocket&)>;

// What the upgrade hook decided. Neither set: pass to the handler.
struct UpgradeDecision {
  std::optional<HttpResponse> refuse;  // send this (a 4xx/5xx) and close
  WebSocketSession accept;             // complete the handshake and run this
};

// May block briefly (store reads) and may co_await I/O (dialing) on the
// connection's strand.
using UpgradeHandler = std::function<boost::asio::awaitable<UpgradeDecision>(const HttpRequest&)>;

struct HttpServerOptions {
  std::vector<std::string> listen;  // "ADDR:PORT", IPv6 as "[::1]:8080"; port 0 = any
  std::string tls_cert;             // PEM paths; both set -> HTTPS only
  std::string tls_key;
  size_t max_body_bytes = 64 * 1024;    // larger -> 413, handler not called
  size_t max_header_bytes = 16 * 1024;  // request line + headers; larger -> 431
  int threads = 16;
  std::chrono::seconds idle_timeout{60};  // also bounds reading one request
  UpgradeHandler upgrade;                 // optional; see the file comment
  // Keepalive pings on idle WebSockets; a peer silent for twice this is dropped.
  std::chrono::milliseconds websocket_ping_interval{20'000};
  size_t websocket_max_message = 1 << 20;  // larger incoming messages fail the connection
  // How long Stop() lets sessions close before aborting them.
  std::chrono::milliseconds websocket_stop_grace{2'000};
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
