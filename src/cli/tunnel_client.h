// The client side of pinholed's TCP tunnel (GET /api/v1/tunnel?service=NAME,
// upgraded to a WebSocket, over TLS when the server URL is https): opening
// the WebSocket with the saved bearer token, turning a refused upgrade into
// the server's JSON API error, and relaying bytes between a local byte source
// and sink (stdin/stdout, or an accepted TCP connection) and the WebSocket.
//
// Wire protocol: BINARY frames carry the TCP bytes; a TEXT frame `eof` means
// "no more data from me" (half-close); when both directions have seen eof
// either side closes with 1000. Any close ends the tunnel; the close code
// says why (4001 lease ended, 4002 idle timeout, 1011 target error, 1001
// server shutting down).
//
// Also TunnelListener, the loopback listener of `pinhole tunnel`: one
// WebSocket per accepted connection.
//
// Thread-safety: a Tunnel is driven by one thread (Connect, then Relay, both
// blocking); Stop() may be called from any thread. A TunnelListener runs on
// the thread that calls Run(); Stop() may be called from any thread (or a
// signal-watching one).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cli/http_client.h"
#include "core/result.h"

namespace pinhole::cli {

// Where the tunnel goes and how to trust it.
struct TunnelServer {
  std::string url;             // normalized base URL (NormalizeServerUrl), http or https
  std::string token;           // bearer token
  TransportOptions transport;  // insecure / ca_file / connect_timeout are used
};

// How a relay ended.
struct TunnelEnd {
  enum class Cause {
    kClosed,          // a WebSocket close frame was exchanged; see close_code
    kConnectionLost,  // the connection broke (or timed out) without a close frame
    kLocalError,      // reading or writing the local side failed
    kStopped,         // Stop() was called
  };
  Cause cause = Cause::kConnectionLost;
  int close_code = 0;  // the peer's close code when cause is kClosed
  std::string close_reason;
  std::string error;        // what broke, for kConnectionLost and kLocalError
  uint64_t bytes_up = 0;    // local -> server
  uint64_t bytes_down = 0;  // server -> local
};

// Exit status of `pinhole connect` for an ended tunnel: 0 for close 1000 and
// for Stop(); 1 (kExitRefused) for any other close code or a local error; 3
// (kExitUnreachable) when the connection was lost without a close.
int ExitStatusFor(const TunnelEnd& end);

// One line for stderr without the "pinhole: " prefix, such as
// "tunnel closed: lease ended (4001)".
std::string DescribeEnd(const TunnelEnd& end);

// One WebSocket tunnel to one service.
class Tunnel {
 public:
  explicit Tunnel(TunnelServer server);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // Dials the server and asks for `service`. On a refused upgrade, the
  // server's JSON error as ApiClient reports it (reason "no_lease",
  // "too_many_tunnels", "target_unreachable"... Code from the HTTP status).
  // When the server cannot be reached (DNS, TCP, TLS, certificate, timeout):
  // Code kUnavailable, reason "unreachable". After Stop(): reason "stopped".
  // May be called again after a failure (a fresh connection each time).
  Status Connect(const std::string& service);

  // Relays until the tunnel ends. Takes ownership of both descriptors and
  // closes them (the write side as soon as the server sends eof: a socket is
  // shut down for writing, anything else is closed). read_fd and write_fd may
  // refer to the same socket if they are distinct descriptors (dup() one).
  // The descriptors' file status flags are restored before they are closed,
  // so a shared terminal is not left non-blocking. Requires a successful
  // Connect.
  TunnelEnd Relay(int read_fd, int write_fd);

  // Ends a Connect or Relay in progress (closing with 1001 "going away"), or
  // makes the next one fail at once. Safe from any thread.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects; when the server answers 403 no_lease and `request_lease` is set,
// calls it once (it should ask for a lease on `service`) and, if that
// succeeded, connects once more. A failed lease request is returned as is.
Status ConnectWithLease(Tunnel& tunnel, const std::string& service,
                        const std::function<Status()>& request_lease);

// `pinhole tunnel`: listens on a local address and serves each accepted
// connection with its own Tunnel, on its own thread.
class TunnelListener {
 public:
  struct Options {
    TunnelServer server;
    std::string service;
    std::string bind_address = "127.0.0.1";
    uint16_t port = 0;  // 0 picks a free port
    // Called (serialized; from connection threads) on 403 no_lease; may be
    // empty. See ConnectWithLease.
    std::function<Status()> request_lease;
    // Receives one line per event (no trailing newline); called serialized.
    std::function<void(const std::string&)> log;
    // Connections beyond this are closed at once (the server has its own
    // limits; this one keeps a runaway local client from spawning threads).
    size_t max_connections = 256;
    // Stop on SIGINT/SIGTERM (Ctrl-C), for the command; tests leave it off.
    bool stop_on_signals = false;
  };

  explicit TunnelListener(Options options);
  ~TunnelListener();
  TunnelListener(const TunnelListener&) = delete;
  TunnelListener& operator=(const TunnelListener&) = delete;

  // Binds and listens. Errors (reason "listen_failed") when the address is
  // bad or the port is taken.
  Status Listen();
  // The bound port (after Listen).
  uint16_t port() const { return port_; }
  // Accepts until Stop(); then stops every tunnel and joins their threads.
  void Run();
  // Safe from any thread.
  void Stop();

 private:
  class Impl;
  Options options_;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace pinhole::cli
