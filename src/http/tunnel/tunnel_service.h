// The tunnel endpoint, GET /api/v1/tunnel?service=NAME (DESIGN.md tunnel
// mode): a WebSocket upgrade authenticated by bearer token that relays bytes
// between the client and a service's TCP target while the caller holds an
// active lease on that service.
//
// Before accepting, in order: authentication (401; cookie sessions are
// refused so a web page cannot open tunnels with a visitor's session), the
// `service` parameter and the service (422 invalid_field / unknown_service /
// not_a_tunnel), an active lease of the caller's that includes the service
// (403 no_lease), the per-user and overall limits (429 too_many_tunnels), and
// the dial with its timeout (502 target_unreachable). Refusals after
// authentication of the last three kinds are audited as `tunnel.refused`.
//
// Once accepted, the relay follows the wire protocol of the tunnel issue:
// binary frames carry bytes, a text frame "eof" half-closes, close codes 1000
// (both sides done), 4001 (lease ended), 4002 (idle timeout), 1011 (target
// error), 1001 (server shutting down). Each direction has one read in flight
// and reads again only after the write completed, so a slow side slows the
// other instead of filling memory. Exactly one `tunnel.start` and one
// `tunnel.end` audit event per tunnel.
//
// Thread-safety: all public methods are thread-safe. Each tunnel runs on its
// connection's strand. The service must outlive the HttpServer it hooks into
// (stop the server first: Stop() ends every tunnel).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"
#include "enforce/tunnel/tunnel_enforcer.h"
#include "http/api.h"
#include "http/server.h"
#include "store/store.h"

namespace pinhole {

inline constexpr std::string_view kTunnelPath = "/api/v1/tunnel";
// The largest WebSocket message a tunnel client may send (the CLI sends at
// most 256 KiB at a time); for HttpServerOptions::websocket_max_message.
inline constexpr size_t kTunnelMaxMessage = 256 * 1024;

struct TunnelOptions {
  std::chrono::milliseconds dial_timeout{5'000};
  std::chrono::milliseconds idle_timeout{3'600'000};  // no bytes either way -> 4002
  int max_per_user = 16;
  int max_total = 1000;
  bool proxy_protocol = false;  // send a PROXY v2 header to the target first
};

// Counters for /metrics.
struct TunnelStats {
  int64_t active = 0;         // relaying now
  int64_t bytes_up = 0;       // client -> target, all tunnels since start
  int64_t bytes_down = 0;     // target -> client
  int64_t dial_failures = 0;  // 502s
  int64_t refused = 0;        // 403 no_lease, 429, 502
};

class TunnelService {
 public:
  // Resolves the caller of a request (the API's bearer-token authentication).
  using Authenticator = std::function<Result<Caller>(const HttpRequest&)>;
  // The client address as the API sees it (trusted proxies applied).
  using ClientAddressFn = std::function<IpAddress(const HttpRequest&)>;

  // `client_address` may be empty: the TCP peer is used.
  TunnelService(Store& store, const Clock& clock, TunnelOptions options, Authenticator authenticate,
                ClientAddressFn client_address);
  ~TunnelService();
  TunnelService(const TunnelService&) = delete;
  TunnelService& operator=(const TunnelService&) = delete;

  // For HttpServerOptions::upgrade: claims upgrades to kTunnelPath and passes
  // every other path to the handler.
  UpgradeHandler Hook();
  boost::asio::awaitable<UpgradeDecision> Upgrade(const HttpRequest& request);

  // The answer to a plain (non-upgrade) request to kTunnelPath: 400
  // websocket_required. For the API's router.
  static HttpResponse WebSocketRequired();

  // Closes every tunnel of this lease with 4001 "lease ended" (the lease was
  // terminated or revoked). Returns at once; the closes happen on the
  // tunnels' strands. Unknown ids are ignored.
  void CloseLease(Id lease_id);

  TunnelStats Stats() const;

 private:
  class Tunnel;
  class Slot;
  friend class Tunnel;
  friend class Slot;

  // Counts a tunnel against the limits; nullptr when a limit is reached.
  std::shared_ptr<Slot> Reserve(Id user_id);
  void Release(Id user_id);
  void Register(const std::shared_ptr<Tunnel>& tunnel);
  void Unregister(const Tunnel* tunnel);
  void AppendAudit(const AuditEntry& entry);
  // Records a tunnel.refused event and counts it.
  void Refused(const Caller& caller, const std::string& service, const std::string& client_ip,
               std::string_view reason, std::optional<Id> lease_id);

  Store& store_;
  const Clock& clock_;
  const TunnelOptions options_;
  const Authenticator authenticate_;
  const ClientAddressFn client_address_;

  std::mutex mu_;  // guards the fields below
  std::map<Id, int> per_user_;
  int total_ = 0;
  std::multimap<Id, std::shared_ptr<Tunnel>> by_lease_;

  std::atomic<int64_t> active_ = 0;
  std::atomic<int64_t> bytes_up_ = 0;
  std::atomic<int64_t> bytes_down_ = 0;
  std::atomic<int64_t> dial_failures_ = 0;
  std::atomic<int64_t> refused_ = 0;
};

}  // namespace pinhole
