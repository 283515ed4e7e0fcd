#include "http/tunnel/tunnel_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "http/router.h"
#include "http/tunnel/proxy_header.h"

// g++ 12 reports asio's awaitable frame (its own operator new/delete pair) as
// a mismatched allocation in large coroutines such as Upgrade(); a false
// positive of its inlining analysis.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace pinhole {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using nlohmann::json;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Large chunks mean few frames and system calls per byte. The buffer is left
// uninitialised so that an idle tunnel's pages are never touched (resident).
constexpr size_t kChunkBytes = 256 * 1024;
// How often a tunnel re-reads its lease even when it does not expire soon, so
// that a termination this process was not told about (another replica, a
// missed CloseLease) still closes the tunnel.
constexpr std::chrono::seconds kLeaseRecheck{60};
// After a store read failed, retry this soon (the cached lease still decides).
constexpr std::chrono::seconds kLeaseRetry{5};
// How long a closing tunnel waits for the close handshake before dropping both
// connections.
constexpr std::chrono::seconds kCloseGrace{5};

constexpr uint16_t kCloseNormal = 1000;
constexpr uint16_t kCloseGoingAway = 1001;
constexpr uint16_t kCloseProtocolError = 1002;
constexpr uint16_t kCloseUnsupported = 1003;
constexpr uint16_t kCloseTargetError = 1011;
constexpr uint16_t kCloseLeaseEnded = 4001;
constexpr uint16_t kCloseIdle = 4002;

HttpResponse Refuse(int status, std::string_view code, std::string_view message) {
  return JsonError(status, code, message);
}

IpAddress FromAsio(const asio::ip::address& a) {
  if (a.is_v4()) {
    IpAddress out;
    out.family = Family::kV4;
    auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    return out;
  }
  asio::ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) return FromAsio(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
  IpAddress out;
  out.family = Family::kV6;
  auto b = v6.to_bytes();
  std::copy(b.begin(), b.end(), out.bytes.begin());
  return out;
}

// Resolves (unless a literal) and connects; no timeout of its own.
asio::awaitable<error_code> Connect(tcp::socket& socket, const TunnelTarget& target) {
  auto executor = co_await asio::this_coro::executor;
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  asio::ip::address literal = asio::ip::make_address(target.address, ec);
  if (!ec) {
    endpoints.emplace_back(literal, target.port);
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] =
        co_await resolver.async_resolve(target.address, std::to_string(target.port), kUseTuple);
    if (rec) co_return rec;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) co_return asio::error::host_not_found;
  }
  auto [cec, endpoint] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  co_return cec;
}

}  // namespace

// Holds one place under the limits until the tunnel (or the refused attempt)
// is gone.
class TunnelService::Slot {
 public:
  Slot(TunnelService& service, Id user_id) : service_(service), user_id_(user_id) {}
  ~Slot() { service_.Release(user_id_); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

 private:
  TunnelService& service_;
  Id user_id_;
};

// One relayed connection. Everything below runs on the connection's strand,
// except the constructor (also on it, from Upgrade) and the destructor.
class TunnelService::Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(TunnelService& service, std::shared_ptr<Slot> slot, Caller caller, Lease lease,
         std::string service_name, TunnelTarget target, std::string client_ip, tcp::socket socket)
      : service_(service),
        slot_(std::move(slot)),
        caller_(std::move(caller)),
        lease_(std::move(lease)),
        service_name_(std::move(service_name)),
        target_(std::move(target)),
        client_ip_(std::move(client_ip)),
        socket_(std::move(socket)),
        wake_(socket_.get_executor()),
        watch_(socket_.get_executor()) {}

  Id lease_id() const { return lease_.id; }
  asio::any_io_executor executor() { return socket_.get_executor(); }

  asio::awaitable<void> Run(WebSocket& ws);
  // The first request wins and names the close code and the audit reason.
  // `send_close` is false when the WebSocket is already closed or dead.
  void RequestClose(uint16_t code, std::string reason, bool send_close = true);

 private:
  asio::awaitable<void> Up();
  asio::awaitable<void> Down();
  asio::awaitable<void> Watch();
  void CheckLease();
  void Touch() { last_activity_ = std::chrono::steady_clock::now(); }
  json Details() const {
    return json{{"service", service_name_},
                {"lease_id", lease_.id},
                {"target", target_.ToString()},
                {"client_ip", client_ip_}};
  }

  TunnelService& service_;
  std::shared_ptr<Slot> slot_;
  const Caller caller_;
  Lease lease_;  // last known; re-read by CheckLease
  const std::string service_name_;
  const TunnelTarget target_;
  const std::string client_ip_;
  tcp::socket socket_;       // to the target
  asio::steady_timer wake_;  // Down waits on it once the target sent EOF
  asio::steady_timer watch_;
  WebSocket* ws_ = nullptr;

  bool running_ = false;
  bool finished_ = false;
  bool closing_ = false;
  bool send_close_ = true;
  uint16_t close_code_ = 0;
  std::string reason_;
  bool up_eof_ = false;    // the client sent "eof"
  bool down_eof_ = false;  // the target sent FIN
  int64_t bytes_up_ = 0;
  int64_t bytes_down_ = 0;
  SteadyTime started_{};
  SteadyTime last_activity_{};
  SteadyTime next_lease_check_{};
};

void TunnelService::Tunnel::RequestClose(uint16_t code, std::string reason, bool send_close) {
  if (closing_ || finished_) return;
  closing_ = true;
  close_code_ = code;
  reason_ = std::move(reason);
  send_close_ = send_close;
  error_code ec;
  socket_.cancel(ec);  // wakes Up (target write) and Down (target read)
  wake_.cancel();
  watch_.cancel();
}

asio::awaitable<void> TunnelService::Tunnel::Run(WebSocket& ws) {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  ws_ = &ws;
  running_ = true;
  started_ = std::chrono::steady_clock::now();
  last_activity_ = started_;
  service_.Register(self);
  ++service_.active_;
  ws.OnServerStop([self] { self->RequestClose(kCloseGoingAway, "server shutting down"); });
  service_.AppendAudit(AuditEntry{service_.clock_.Now(), caller_.user.email, "tunnel.start",
                                  "lease/" + std::to_string(lease_.id), client_ip_,
                                  Details().dump()});
  // CloseLease may have run between the lease check and Register().
  CheckLease();

  try {
    co_await ((Up() && Down()) || Watch());
  } catch (const std::exception& e) {
    // Nothing may skip the accounting below: the slot, the gauge and the
    // one tunnel.end event.
    spdlog::error("tunnel {}: {}", lease_.id, e.what());
    reason_ = "server error";
  }

  finished_ = true;
  error_code ec;
  socket_.close(ec);
  --service_.active_;
  service_.Unregister(this);
  json details = Details();
  details["bytes_up"] = bytes_up_;
  details["bytes_down"] = bytes_down_;
  details["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - started_)
                               .count();
  details["reason"] = reason_.empty() ? "client closed" : reason_;
  service_.AppendAudit(AuditEntry{service_.clock_.Now(), caller_.user.email, "tunnel.end",
                                  "lease/" + std::to_string(lease_.id), client_ip_,
                                  details.dump()});
  ws_ = nullptr;
}

asio::awaitable<void> TunnelService::Tunnel::Up() {
  std::string message;
  bool text = false;
  for (;;) {
    error_code ec = co_await ws_->Read(message, text);
    if (ec) {
      // The peer closed (Beast already answered its close frame), the close
      // we started completed, or the connection failed: nothing more to send.
      RequestClose(0, "client closed", /*send_close=*/false);
      co_return;
    }
    if (closing_) continue;  // drain until the close handshake completes
    Touch();
    if (text) {
      if (message != "eof") {
        RequestClose(kCloseUnsupported, "protocol error");
        continue;
      }
      if (up_eof_) continue;
      up_eof_ = true;
      socket_.shutdown(tcp::socket::shutdown_send, ec);
      if (down_eof_) RequestClose(kCloseNormal, "client closed");
      continue;
    }
    if (up_eof_) {
      RequestClose(kCloseProtocolError, "protocol error");
      continue;
    }
    auto [wec, n] = co_await asio::async_write(socket_, asio::buffer(message), kUseTuple);
    if (wec) {
      RequestClose(kCloseTargetError, "target error");
      continue;
    }
    bytes_up_ += static_cast<int64_t>(n);
    service_.bytes_up_ += static_cast<int64_t>(n);
    Touch();
  }
}

asio::awaitable<void> TunnelService::Tunnel::Down() {
  std::unique_ptr<char[]> buffer(new char[kChunkBytes]);
  bool ws_failed = false;
  while (!closing_) {
    if (down_eof_) {
      wake_.expires_at(SteadyTime::max());
      co_await wake_.async_wait(kUseTuple);
      continue;
    }
    auto [ec, n] =
        co_await socket_.async_read_some(asio::buffer(buffer.get(), kChunkBytes), kUseTuple);
    if (closing_) break;
    if (ec == asio::error::eof) {
      down_eof_ = true;
      Touch();
      if (co_await ws_->Write("eof", /*text=*/true)) {
        ws_failed = true;
        RequestClose(0, "client closed", false);
        break;
      }
      if (up_eof_) RequestClose(kCloseNormal, "target closed");
      continue;
    }
    if (ec) {
      RequestClose(kCloseTargetError, "target error");
      break;
    }
    Touch();
    if (co_await ws_->Write(std::string_view(buffer.get(), n), /*text=*/false)) {
      ws_failed = true;
      RequestClose(0, "client closed", false);
      break;
    }
    bytes_down_ += static_cast<int64_t>(n);
    service_.bytes_down_ += static_cast<int64_t>(n);
    Touch();
  }
  // Down is the only writer of the WebSocket, so the close frame goes from here.
  if (send_close_ && !ws_failed) co_await ws_->Close(close_code_, reason_);
}

asio::awaitable<void> TunnelService::Tunnel::Watch() {
  const auto idle = service_.options_.idle_timeout;
  for (;;) {
    if (closing_) {
      watch_.expires_after(kCloseGrace);
      auto [ec] = co_await watch_.async_wait(kUseTuple);
      if (ec) co_return;  // the relay finished in time
      spdlog::warn("tunnel: lease {} to {}: no close handshake within {}s; dropping", lease_.id,
                   target_.ToString(), kCloseGrace.count());
      ws_->Abort();
      error_code ignored;
      socket_.close(ignored);
      co_return;
    }
    watch_.expires_at(std::min(last_activity_ + idle, next_lease_check_));
    co_await watch_.async_wait(kUseTuple);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;
    if (closing_) continue;
    auto now = std::chrono::steady_clock::now();
    if (now - last_activity_ >= idle) {
      RequestClose(kCloseIdle, "idle timeout");
    } else if (now >= next_lease_check_) {
      CheckLease();
    }
  }
}

void TunnelService::Tunnel::CheckLease() {
  Result<Lease> fresh = service_.store_.GetLease(lease_.id);
  auto retry = std::chrono::milliseconds(kLeaseRecheck);
  if (fresh.ok()) {
    lease_ = std::move(fresh).value();
  } else if (fresh.status().code() == Code::kNotFound) {
    lease_.state = LeaseState::kRevoked;
  } else {
    spdlog::warn("tunnel: cannot re-read lease {}: {}", lease_.id, fresh.status().ToString());
    retry = kLeaseRetry;
  }
  Time now = service_.clock_.Now();
  if (lease_.state != LeaseState::kActive || lease_.expires_at <= now) {
    RequestClose(kCloseLeaseEnded, "lease ended");
    return;
  }
  // One millisecond late, so that the check after expiry sees it expired.
  auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(lease_.expires_at - now) +
                   std::chrono::milliseconds(1);
  next_lease_check_ = std::chrono::steady_clock::now() + std::min(remaining, retry);
  if (running_) watch_.cancel();  // re-arm at the new deadline
}

TunnelService::TunnelService(Store& store, const Clock& clock, TunnelOptions options,
                             Authenticator authenticate, ClientAddressFn client_address)
    : store_(store),
      clock_(clock),
      options_(options),
      authenticate_(std::move(authenticate)),
      client_address_(std::move(client_address)) {}

TunnelService::~TunnelService() {
  std::lock_guard lock(mu_);
  if (!by_lease_.empty()) {
    spdlog::error("tunnel: service destroyed with {} live tunnels; stop the server first",
                  by_lease_.size());
  }
}

UpgradeHandler TunnelService::Hook() {
  return [this](const HttpRequest& request) { return Upgrade(request); };
}

HttpResponse TunnelService::WebSocketRequired() {
  return Refuse(400, "websocket_required",
                "GET /api/v1/tunnel?service=NAME must be a WebSocket upgrade");
}

asio::awaitable<UpgradeDecision> TunnelService::Upgrade(const HttpRequest& request) {
  if (request.path != kTunnelPath) co_return UpgradeDecision{};
  Result<Caller> caller = authenticate_(request);
  if (!caller.ok()) co_return UpgradeDecision{.refuse = ErrorResponse(caller.status())};
  if (caller->via_cookie) {
    co_return UpgradeDecision{
        .refuse = Refuse(401, "unauthenticated", "tunnels need an Authorization: Bearer token")};
  }
  // As for every API route: a password that must change unlocks nothing else.
  if (caller->user.must_change_password) {
    co_return UpgradeDecision{.refuse = Refuse(403, "password_change_required",
                                               "change your password first (pinhole passwd or "
                                               "the portal)")};
  }
  auto param = request.query.find("service");
  if (param == request.query.end() || param->second.empty()) {
    co_return UpgradeDecision{
        .refuse = Refuse(422, "invalid_field", "the service query parameter is required")};
  }
  const std::string& name = param->second;
  Result<Service> service = store_.FindService(name);
  if (!service.ok()) {
    if (service.status().code() == Code::kNotFound) {
      co_return UpgradeDecision{
          .refuse = Refuse(422, "unknown_service", "unknown service \"" + name + "\"")};
    }
    co_return UpgradeDecision{.refuse = ErrorResponse(service.status())};
  }
  if (service->backend != kTunnelBackend) {
    co_return UpgradeDecision{
        .refuse = Refuse(422, "not_a_tunnel", "service " + name + " is not a tunnel service")};
  }
  IpAddress client = client_address_ ? client_address_(request) : request.peer;
  const std::string client_ip = client.ToString();

  Result<TunnelTarget> target = ParseTunnelTarget(*service);
  if (!target.ok()) {
    Refused(*caller, name, client_ip, "invalid target", std::nullopt);
    co_return UpgradeDecision{.refuse = Refuse(502, "target_unreachable",
                                               "service " + name + " has an invalid target: " +
                                                   target.status().message())};
  }

  // The caller's active lease that covers the service and lasts longest.
  Time now = clock_.Now();
  std::optional<Lease> lease;
  for (Lease& l : store_.ListLeases(
           LeaseFilter{.states = std::vector{LeaseState::kActive}, .owner_id = caller->user.id})) {
    if (l.expires_at <= now ||
        std::find(l.services.begin(), l.services.end(), name) == l.services.end()) {
      continue;
    }
    if (!lease || l.expires_at > lease->expires_at) lease = std::move(l);
  }
  if (!lease) {
    Refused(*caller, name, client_ip, "no lease", std::nullopt);
    co_return UpgradeDecision{.refuse = Refuse(403, "no_lease",
                                               "no active lease for " + name +
                                                   "; request one with `pinhole open " + name +
                                                   "` or use --open")};
  }

  std::shared_ptr<Slot> slot = Reserve(caller->user.id);
  if (!slot) {
    Refused(*caller, name, client_ip, "too many tunnels", lease->id);
    co_return UpgradeDecision{
        .refuse = Refuse(429, "too_many_tunnels",
                         "too many open tunnels (at most " + std::to_string(options_.max_per_user) +
                             " per user and " + std::to_string(options_.max_total) + " in all)")};
  }

  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  asio::steady_timer timer(executor, options_.dial_timeout);
  auto outcome = co_await (Connect(socket, *target) || timer.async_wait(kUseTuple));
  error_code ec = outcome.index() == 0 ? std::get<0>(outcome) : asio::error::timed_out;
  std::string header;
  if (!ec && options_.proxy_protocol) {
    tcp::endpoint remote = socket.remote_endpoint(ec);
    if (!ec) {
      uint16_t client_port = client == request.peer ? request.peer_port : 0;
      header = ProxyV2Header(client, client_port, FromAsio(remote.address()), remote.port());
      auto [wec, n] = co_await asio::async_write(socket, asio::buffer(header), kUseTuple);
      ec = wec;
    }
  }
  if (ec) {
    ++dial_failures_;
    std::string why =
        ec == asio::error::timed_out
            ? "timed out after " + std::to_string(options_.dial_timeout.count()) + " ms"
            : ec.message();
    spdlog::info("tunnel: {} for {}: cannot reach {}: {}", name, caller->user.email,
                 target->ToString(), why);
    Refused(*caller, name, client_ip, "target unreachable: " + why, lease->id);
    co_return UpgradeDecision{
        .refuse = Refuse(502, "target_unreachable",
                         "cannot reach " + target->ToString() + " for " + name + ": " + why)};
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);

  auto tunnel = std::make_shared<Tunnel>(*this, std::move(slot), *caller, *lease, name, *target,
                                         client_ip, std::move(socket));
  co_return UpgradeDecision{
      .accept = [tunnel](WebSocket& ws) -> asio::awaitable<void> { return tunnel->Run(ws); }};
}

void TunnelService::CloseLease(Id lease_id) {
  std::vector<std::shared_ptr<Tunnel>> hit;
  {
    std::lock_guard lock(mu_);
    auto [first, last] = by_lease_.equal_range(lease_id);
    for (auto it = first; it != last; ++it) hit.push_back(it->second);
  }
  for (auto& tunnel : hit) {
    asio::post(tunnel->executor(),
               [tunnel] { tunnel->RequestClose(kCloseLeaseEnded, "lease ended"); });
  }
}

TunnelStats TunnelService::Stats() const {
  return TunnelStats{.active = active_.load(),
                     .bytes_up = bytes_up_.load(),
                     .bytes_down = bytes_down_.load(),
                     .dial_failures = dial_failures_.load(),
                     .refused = refused_.load()};
}

std::shared_ptr<TunnelService::Slot> TunnelService::Reserve(Id user_id) {
  std::lock_guard lock(mu_);
  int& mine = per_user_[user_id];
  if (mine >= options_.max_per_user || total_ >= options_.max_total) {
    if (mine == 0) per_user_.erase(user_id);
    return nullptr;
  }
  ++mine;
  ++total_;
  return std::make_shared<Slot>(*this, user_id);
}

void TunnelService::Release(Id user_id) {
  std::lock_guard lock(mu_);
  --total_;
  auto it = per_user_.find(user_id);
  if (it != per_user_.end() && --it->second <= 0) per_user_.erase(it);
}

void TunnelService::Register(const std::shared_ptr<Tunnel>& tunnel) {
  std::lock_guard lock(mu_);
  by_lease_.emplace(tunnel->lease_id(), tunnel);
}

void TunnelService::Unregister(const Tunnel* tunnel) {
  std::lock_guard lock(mu_);
  auto [first, last] = by_lease_.equal_range(tunnel->lease_id());
  for (auto it = first; it != last; ++it) {
    if (it->second.get() == tunnel) {
      by_lease_.erase(it);
      return;
    }
  }
}

void TunnelService::AppendAudit(const AuditEntry& entry) {
  Status st = store_.AppendAudit(entry);
  if (!st.ok()) {
    spdlog::warn("tunnel: cannot record {} for {}: {}", entry.action, entry.object, st.ToString());
  }
}

void TunnelService::Refused(const Caller& caller, const std::string& service,
                            const std::string& client_ip, std::string_view reason,
                            std::optional<Id> lease_id) {
  ++refused_;
  json details{{"service", service}, {"client_ip", client_ip}, {"reason", reason}};
  if (lease_id) details["lease_id"] = *lease_id;
  AppendAudit(AuditEntry{clock_.Now(), caller.user.email, "tunnel.refused", "service/" + service,
                         client_ip, details.dump()});
}

}  // namespace pinhole
