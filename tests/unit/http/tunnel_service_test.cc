// TunnelService end to end on loopback: a real HttpServer on port 0 with the
// tunnel hook, a real Beast WebSocket client (coroutines on a private
// io_context with a deadline, so a hang fails the test), and real TCP targets
// (threads with blocking sockets). Memory store; system clock, because
// tunnels wait in real time.
#include "http/tunnel/tunnel_service.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config.h"
#include "http/tunnel/proxy_header.h"

namespace pinhole {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;
using nlohmann::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Ws = websocket::stream<beast::tcp_stream>;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// A TCP target on 127.0.0.1: echoes what it reads; on EOF it sends
// `farewell` and closes. Records everything it received per connection.
class EchoTarget {
 public:
  explicit EchoTarget(std::string farewell = "bye") : farewell_(std::move(farewell)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    EXPECT_EQ(::listen(listener_, 64), 0);
    socklen_t len = sizeof(a);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoTarget() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (auto& t : workers_) t.join();
    ::close(listener_);
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }

  uint16_t port() const { return port_; }
  std::string Received(size_t i) {
    std::lock_guard lock(mu_);
    return i < received_.size() ? received_[i] : "";
  }
  bool SawEof(size_t i) {
    std::lock_guard lock(mu_);
    return i < eof_.size() && eof_[i];
  }
  size_t connections() {
    std::lock_guard lock(mu_);
    return received_.size();
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      size_t index;
      {
        std::lock_guard lock(mu_);
        index = received_.size();
        received_.emplace_back();
        eof_.push_back(false);
        fds_.push_back(fd);
      }
      workers_.emplace_back([this, fd, index] { Serve(fd, index); });
    }
  }
  void Serve(int fd, size_t index) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        std::lock_guard lock(mu_);
        eof_[index] = n == 0;
        break;
      }
      {
        std::lock_guard lock(mu_);
        received_[index].append(buf, static_cast<size_t>(n));
        if (received_[index].find("RESET") != std::string::npos) {
          // Close with a TCP reset instead of a FIN.
          linger l{1, 0};
          ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
          ::close(fd);
          for (int& f : fds_) {
            if (f == fd) f = -1;
          }
          return;
        }
      }
      if (!SendAll(fd, std::string_view(buf, static_cast<size_t>(n)))) return;
    }
    SendAll(fd, farewell_);
    ::shutdown(fd, SHUT_WR);
  }
  static bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  const std::string farewell_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // touched by the acceptor thread, joined after it
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::string> received_;
  std::vector<bool> eof_;
};

// A loopback port nobody listens on (bound, then released).
uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// What a client saw of one tunnel.
struct Opened {
  int status = 0;    // 101 when upgraded
  std::string body;  // the refusal
  std::string code;  // the refusal's error code
  std::unique_ptr<Ws> ws;
};

struct Drained {
  std::string data;
  bool eof = false;     // the server sent "eof"
  int close_code = -1;  // -1: no close seen
  std::string close_reason;
};

class TunnelServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewMemoryStore();
    bob_ = AddUser("bob@example.com");
    alice_ = AddUser("alice@example.com");
    carol_ = AddUser("carol@example.com");
    AddService("ssh", json{{"address", "127.0.0.1"}, {"port", target_.port()}});
    Service web;
    web.name = "web";
    web.ports = PortRange{80, 80};
    ASSERT_TRUE(store_->CreateService(web, Audit("service.create")).ok());
    lease_ = AddLease(bob_, {"ssh"}, 1h);
  }
  void TearDown() override { StopServer(); }

  AuditEntry Audit(std::string action) {
    return AuditEntry{clock_.Now(), "test", std::move(action), "x", "", "{}"};
  }
  User AddUser(const std::string& email) {
    User u;
    u.email = email;
    auto r = store_->CreateUser(u, Audit("user.create"));
    EXPECT_TRUE(r.ok());
    return *r;
  }
  void AddService(const std::string& name, const json& target) {
    Service s;
    s.name = name;
    s.backend = "tunnel";
    s.ports = PortRange{22, 22};
    s.target_json = target.dump();
    ASSERT_TRUE(store_->CreateService(s, Audit("service.create")).ok());
  }
  Lease AddLease(const User& owner, std::vector<std::string> services, Millis lasts) {
    Lease l;
    l.owner_id = owner.id;
    l.owner = owner.email;
    l.services = std::move(services);
    l.source = Cidr::Host(*IpAddress::Parse("127.0.0.1"));
    l.state = LeaseState::kActive;
    l.created_at = clock_.Now();
    l.activated_at = l.created_at;
    l.expires_at = clock_.Now() + lasts;
    auto r = store_->CreateLease(l, Audit("lease.create"));
    EXPECT_TRUE(r.ok());
    return *r;
  }

  void StartServer(TunnelOptions options = {}) {
    service_ = std::make_unique<TunnelService>(
        *store_, clock_, options,
        [this](const HttpRequest& r) -> Result<Caller> {
          std::string auth = r.Header("authorization");
          Caller c;
          if (auth.empty() && r.Header("cookie") == "session=bob") {
            c.user = bob_;
            c.via_cookie = true;
            return c;
          }
          if (auth == "Bearer bob-token") c.user = bob_;
          if (auth == "Bearer alice-token") c.user = alice_;
          if (auth == "Bearer carol-token") c.user = carol_;
          if (c.user.id == 0) return Status(Code::kUnauthenticated, "unauthenticated", "sign in");
          return c;
        },
        nullptr);
    HttpServerOptions o;
    o.listen = {"127.0.0.1:0"};
    o.threads = 4;
    o.upgrade = service_->Hook();
    o.websocket_stop_grace = 2s;
    server_ = NewHttpServer(std::move(o), [](const HttpRequest& r) {
      if (r.path == kTunnelPath) return TunnelService::WebSocketRequired();
      return JsonError(404, "not_found", "no such path");
    });
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    port_ = ParseListenAddress(server_->BoundAddresses()[0])->port;
  }
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
    service_.reset();
  }

  // Runs `body` as the client, failing the test if it has not finished in `limit`.
  void RunClient(const std::function<asio::awaitable<void>()>& body,
                 std::chrono::milliseconds limit = 10s) {
    asio::io_context ioc;
    bool done = false;
    asio::co_spawn(ioc, body(), [&](std::exception_ptr e) {
      done = true;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "client threw: " << ex.what();
      }
    });
    ioc.run_for(limit);
    EXPECT_TRUE(done) << "client did not finish in time";
  }

  asio::awaitable<Opened> Open(std::string service, std::string token = "bob-token") {
    Opened out;
    auto ws = std::make_unique<Ws>(co_await asio::this_coro::executor);
    auto [cec] = co_await beast::get_lowest_layer(*ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), kUseTuple);
    if (cec) {
      ADD_FAILURE() << "connect: " << cec.message();
      co_return out;
    }
    ws->set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    websocket::response_type res;
    auto [hec] = co_await ws->async_handshake(
        res, "localhost", std::string(kTunnelPath) + "?service=" + service, kUseTuple);
    out.status = res.result_int();
    out.body = res.body();
    if (hec) {
      json j = json::parse(out.body, nullptr, false);
      if (j.is_object() && j.contains("error")) out.code = j["error"].value("code", "");
      co_return out;
    }
    ws->binary(true);
    out.ws = std::move(ws);
    co_return out;
  }

  static asio::awaitable<void> Send(Ws& ws, std::string_view data) {
    ws.binary(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(data.data(), data.size()), kUseTuple);
    EXPECT_FALSE(ec) << ec.message();
  }
  static asio::awaitable<void> SendEof(Ws& ws) {
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(std::string_view("eof")), kUseTuple);
    EXPECT_FALSE(ec) << ec.message();
    ws.binary(true);
  }
  // Reads until `want` bytes arrived, the server sent eof, or the connection closed.
  static asio::awaitable<Drained> Read(Ws& ws, size_t want = SIZE_MAX) {
    Drained out;
    beast::flat_buffer buffer;
    while (out.data.size() < want) {
      buffer.clear();
      auto [ec, n] = co_await ws.async_read(buffer, kUseTuple);
      if (ec) {
        if (ec == websocket::error::closed) {
          out.close_code = ws.reason().code;
          out.close_reason = std::string(ws.reason().reason.c_str());
        } else {
          out.close_code = 0;
          out.close_reason = ec.message();
        }
        break;
      }
      std::string msg = beast::buffers_to_string(buffer.data());
      if (ws.got_text()) {
        EXPECT_EQ(msg, "eof");
        out.eof = true;
        if (want == SIZE_MAX) continue;  // keep reading to the close
        break;
      }
      out.data += msg;
    }
    co_return out;
  }

  std::vector<AuditEvent> Events(const std::string& action) {
    std::vector<AuditEvent> out;
    for (AuditEvent& e : store_->ListAudit(0, 0)) {
      if (e.action == action) out.push_back(std::move(e));
    }
    return out;
  }
  // The end event is written just after the client saw the close.
  std::vector<AuditEvent> WaitForEvents(const std::string& action, size_t n) {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    std::vector<AuditEvent> events;
    while ((events = Events(action)).size() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return events;
  }
  bool WaitForIdle() {
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (service_->Stats().active != 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return service_->Stats().active == 0;
  }

  SystemClock clock_;
  EchoTarget target_;
  std::unique_ptr<Store> store_;
  User bob_, alice_, carol_;
  Lease lease_;
  std::unique_ptr<TunnelService> service_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(TunnelServiceTest, BytesRoundTripAndHalfCloseKeepsTheReply) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    EXPECT_EQ(o.status, 101) << o.body;
    if (!o.ws) co_return;
    co_await Send(*o.ws, "hello ");
    co_await Send(*o.ws, std::string("\0\x01\xff binary", 10));
    Drained echoed = co_await Read(*o.ws, 16);
    EXPECT_EQ(echoed.data, std::string("hello \0\x01\xff binary", 16));
    // Half-close: the target sees EOF and its farewell still comes back.
    co_await SendEof(*o.ws);
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.data, "bye");
    EXPECT_TRUE(rest.eof);
    EXPECT_EQ(rest.close_code, 1000);
  });
  EXPECT_TRUE(target_.SawEof(0));
  EXPECT_EQ(target_.Received(0), std::string("hello \0\x01\xff binary", 16));

  auto starts = WaitForEvents("tunnel.start", 1);
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(starts.size(), 1u);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(starts[0].actor, "bob@example.com");
  EXPECT_EQ(starts[0].object, "lease/" + std::to_string(lease_.id));
  EXPECT_EQ(starts[0].client_ip, "127.0.0.1");
  json start = json::parse(starts[0].details_json);
  EXPECT_EQ(start["service"], "ssh");
  EXPECT_EQ(start["lease_id"], lease_.id);
  EXPECT_EQ(start["target"], "127.0.0.1:" + std::to_string(target_.port()));
  EXPECT_EQ(start["client_ip"], "127.0.0.1");
  json end = json::parse(ends[0].details_json);
  EXPECT_EQ(end["bytes_up"], 16);
  EXPECT_EQ(end["bytes_down"], 19);
  EXPECT_EQ(end["reason"], "target closed");
  EXPECT_GE(end["duration_ms"].get<int64_t>(), 0);
  EXPECT_TRUE(WaitForIdle());
  TunnelStats stats = service_->Stats();
  EXPECT_EQ(stats.bytes_up, 16);
  EXPECT_EQ(stats.bytes_down, 19);
  EXPECT_EQ(stats.refused, 0);
}

TEST_F(TunnelServiceTest, MegabytesFlowBothWaysWithBackPressure) {
  StartServer();
  constexpr size_t kTotal = 4 * 1024 * 1024 + 123;
  std::string payload(kTotal, '\0');
  for (size_t i = 0; i < kTotal; ++i) payload[i] = static_cast<char>((i * 7919) >> 3);
  RunClient(
      [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        Opened o = co_await Open("ssh");
        if (!o.ws) {
          ADD_FAILURE() << o.body;
          co_return;
        }
        Ws& ws = *o.ws;
        auto sender = [&]() -> asio::awaitable<void> {
          for (size_t at = 0; at < kTotal; at += 16 * 1024) {
            co_await Send(ws, std::string_view(payload).substr(at, 16 * 1024));
          }
          co_await SendEof(ws);
        };
        Drained got = co_await (sender() && Read(ws));
        EXPECT_EQ(got.data.size(), kTotal + 3);
        EXPECT_TRUE(got.data.substr(0, kTotal) == payload) << "echoed bytes differ";
        EXPECT_EQ(got.data.substr(kTotal), "bye");
        EXPECT_EQ(got.close_code, 1000);
      },
      30s);
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  json end = json::parse(ends[0].details_json);
  EXPECT_EQ(end["bytes_up"], kTotal);
  EXPECT_EQ(end["bytes_down"], kTotal + 3);
}

TEST_F(TunnelServiceTest, ClientCloseEndsTheTunnelOnce) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    co_await Send(*o.ws, "abc");
    Drained d = co_await Read(*o.ws, 3);
    EXPECT_EQ(d.data, "abc");
    auto [ec] = co_await o.ws->async_close(websocket::close_code::normal, kUseTuple);
    EXPECT_FALSE(ec) << ec.message();
  });
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(json::parse(ends[0].details_json)["reason"], "client closed");
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(Events("tunnel.start").size(), 1u);
  EXPECT_EQ(Events("tunnel.end").size(), 1u);
  // The target's connection is closed too.
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (!target_.SawEof(0) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(target_.SawEof(0));
}

TEST_F(TunnelServiceTest, TargetResetClosesWith1011) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    co_await Send(*o.ws, "RESET");
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.close_code, 1011);
    EXPECT_EQ(rest.close_reason, "target error");
  });
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(json::parse(ends[0].details_json)["reason"], "target error");
  EXPECT_EQ(json::parse(ends[0].details_json)["bytes_up"], 5);
}

TEST_F(TunnelServiceTest, RefusalsAreJsonErrors) {
  AddService("bad-target", json{{"address", ""}, {"port", 22}});
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh", "");
    EXPECT_EQ(o.status, 401);
    EXPECT_EQ(o.code, "unauthenticated");
    o = co_await Open("ssh", "wrong-token");
    EXPECT_EQ(o.status, 401);
    o = co_await Open("nope");
    EXPECT_EQ(o.status, 422);
    EXPECT_EQ(o.code, "unknown_service");
    o = co_await Open("web");
    EXPECT_EQ(o.status, 422);
    EXPECT_EQ(o.code, "not_a_tunnel");
    o = co_await Open("");
    EXPECT_EQ(o.status, 422);
    EXPECT_EQ(o.code, "invalid_field");
    o = co_await Open("bad-target");
    EXPECT_EQ(o.status, 502);
    EXPECT_EQ(o.code, "target_unreachable");
  });
  EXPECT_EQ(target_.connections(), 0u);
}

TEST_F(TunnelServiceTest, CookieSessionsCannotOpenTunnels) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    auto ws = std::make_unique<Ws>(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(*ws).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), kUseTuple);
    ws->set_option(websocket::stream_base::decorator(
        [](websocket::request_type& req) { req.set(beast::http::field::cookie, "session=bob"); }));
    websocket::response_type res;
    auto [ec] =
        co_await ws->async_handshake(res, "localhost", "/api/v1/tunnel?service=ssh", kUseTuple);
    EXPECT_TRUE(ec);
    EXPECT_EQ(res.result_int(), 401);
  });
  EXPECT_EQ(target_.connections(), 0u);
}

TEST_F(TunnelServiceTest, PlainGetIsWebSocketRequired) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    beast::tcp_stream s(co_await asio::this_coro::executor);
    co_await s.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), kUseTuple);
    beast::http::request<beast::http::empty_body> req{beast::http::verb::get,
                                                      "/api/v1/tunnel?service=ssh", 11};
    req.set(beast::http::field::host, "localhost");
    req.set(beast::http::field::authorization, "Bearer bob-token");
    co_await beast::http::async_write(s, req, kUseTuple);
    beast::flat_buffer b;
    beast::http::response<beast::http::string_body> res;
    co_await beast::http::async_read(s, b, res, kUseTuple);
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_NE(res.body().find("websocket_required"), std::string::npos);
  });
}

TEST_F(TunnelServiceTest, NoLeaseIs403AndAudited) {
  StartServer();
  // An expired lease and a lease on another service do not count.
  AddLease(alice_, {"ssh"}, -1s);
  AddLease(alice_, {"web"}, 1h);
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh", "alice-token");
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(o.code, "no_lease");
    EXPECT_NE(o.body.find("pinhole open ssh"), std::string::npos) << o.body;
  });
  auto refused = Events("tunnel.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].actor, "alice@example.com");
  EXPECT_EQ(json::parse(refused[0].details_json)["reason"], "no lease");
  EXPECT_EQ(json::parse(refused[0].details_json)["service"], "ssh");
  EXPECT_EQ(service_->Stats().refused, 1);
  EXPECT_EQ(Events("tunnel.start").size(), 0u);
  EXPECT_EQ(target_.connections(), 0u);
}

TEST_F(TunnelServiceTest, PasswordThatMustChangeOpensNoTunnel) {
  bob_.must_change_password = true;  // the authenticator hands out this copy
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(o.code, "password_change_required");
  });
  EXPECT_EQ(target_.connections(), 0u);
  EXPECT_EQ(Events("tunnel.start").size(), 0u);
}

TEST_F(TunnelServiceTest, TerminatedLeaseIsNoLease) {
  Lease ended = lease_;
  ended.state = LeaseState::kTerminated;
  ASSERT_TRUE(store_->UpdateLease(ended, LeaseState::kActive, Audit("lease.terminate")).ok());
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    EXPECT_EQ(o.status, 403);
    EXPECT_EQ(o.code, "no_lease");
  });
}

TEST_F(TunnelServiceTest, UnreachableTargetIs502Quickly) {
  uint16_t closed = ClosedPort();
  AddService("dead", json{{"address", "127.0.0.1"}, {"port", closed}});
  AddLease(bob_, {"dead"}, 1h);
  StartServer();
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("dead");
    EXPECT_EQ(o.status, 502);
    EXPECT_EQ(o.code, "target_unreachable");
    EXPECT_NE(o.body.find("127.0.0.1:" + std::to_string(closed)), std::string::npos) << o.body;
  });
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(service_->Stats().dial_failures, 1);
  EXPECT_EQ(service_->Stats().refused, 1);
  auto refused = Events("tunnel.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(
      json::parse(refused[0].details_json)["reason"].get<std::string>().find("target unreachable"),
      std::string::npos);
  EXPECT_EQ(Events("tunnel.start").size(), 0u);
}

TEST_F(TunnelServiceTest, DialTimeoutIs502) {
  // A listener that never accepts, with its accept queue filled: Linux drops
  // further SYNs, so the tunnel's dial hangs until its timeout.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  socklen_t len = sizeof(a);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(50ms);
  AddService("stuck", json{{"address", "127.0.0.1"}, {"port", ntohs(a.sin_port)}});
  AddLease(bob_, {"stuck"}, 1h);
  StartServer(TunnelOptions{.dial_timeout = 300ms});
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("stuck");
    EXPECT_EQ(o.status, 502);
    EXPECT_EQ(o.code, "target_unreachable");
    EXPECT_NE(o.body.find("timed out after 300 ms"), std::string::npos) << o.body;
  });
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(service_->Stats().dial_failures, 1);
  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_F(TunnelServiceTest, LimitsAre429AndReleasedOnClose) {
  AddLease(alice_, {"ssh"}, 1h);
  AddLease(carol_, {"ssh"}, 1h);
  StartServer(TunnelOptions{.max_per_user = 1, .max_total = 2});
  RunClient([&]() -> asio::awaitable<void> {
    Opened bob = co_await Open("ssh", "bob-token");
    EXPECT_EQ(bob.status, 101);
    Opened bob2 = co_await Open("ssh", "bob-token");
    EXPECT_EQ(bob2.status, 429);
    EXPECT_EQ(bob2.code, "too_many_tunnels");
    Opened alice = co_await Open("ssh", "alice-token");
    EXPECT_EQ(alice.status, 101);
    Opened carol = co_await Open("ssh", "carol-token");
    EXPECT_EQ(carol.status, 429);
    if (!bob.ws) co_return;
    co_await bob.ws->async_close(websocket::close_code::normal, kUseTuple);
    // The slot is released once the server finished the tunnel.
    for (int i = 0; i < 100; ++i) {
      carol = co_await Open("ssh", "carol-token");
      if (carol.status != 429) break;
      asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
      co_await t.async_wait(kUseTuple);
    }
    EXPECT_EQ(carol.status, 101);
    if (alice.ws) co_await alice.ws->async_close(websocket::close_code::normal, kUseTuple);
    if (carol.ws) co_await carol.ws->async_close(websocket::close_code::normal, kUseTuple);
  });
  // Carol may have been refused more than once while bob's tunnel wound down.
  EXPECT_GE(service_->Stats().refused, 2);
  EXPECT_EQ(Events("tunnel.refused").size(), static_cast<size_t>(service_->Stats().refused));
  // Refused attempts never dial (the target accepts in its own time).
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (target_.connections() < 3u && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(target_.connections(), 3u);
}

TEST_F(TunnelServiceTest, CloseLeaseClosesWith4001) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    co_await Send(*o.ws, "12345");
    Drained d = co_await Read(*o.ws, 5);
    EXPECT_EQ(d.data, "12345");
    service_->CloseLease(lease_.id + 1000);  // another lease: no effect
    service_->CloseLease(lease_.id);
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.close_code, 4001);
    EXPECT_EQ(rest.close_reason, "lease ended");
  });
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  json end = json::parse(ends[0].details_json);
  EXPECT_EQ(end["reason"], "lease ended");
  EXPECT_EQ(end["bytes_up"], 5);
  EXPECT_EQ(end["bytes_down"], 5);
  EXPECT_TRUE(WaitForIdle());
}

TEST_F(TunnelServiceTest, IdleTimeoutClosesWith4002) {
  StartServer(TunnelOptions{.idle_timeout = 300ms});
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    // Traffic keeps it open past one idle period.
    for (int i = 0; i < 4; ++i) {
      asio::steady_timer t(co_await asio::this_coro::executor, 150ms);
      co_await t.async_wait(kUseTuple);
      co_await Send(*o.ws, "x");
      Drained d = co_await Read(*o.ws, 1);
      EXPECT_EQ(d.data, "x");
    }
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.close_code, 4002);
  });
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, 850ms);
  EXPECT_LT(elapsed, 3s);
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(json::parse(ends[0].details_json)["reason"], "idle timeout");
}

TEST_F(TunnelServiceTest, LeaseExpiryClosesTheTunnel) {
  Lease shortlived = AddLease(alice_, {"ssh"}, 400ms);
  StartServer();
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh", "alice-token");
    if (!o.ws) co_return;
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.close_code, 4001);
  });
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  auto ends = WaitForEvents("tunnel.end", 1);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(json::parse(ends[0].details_json)["reason"], "lease ended");
  EXPECT_EQ(json::parse(ends[0].details_json)["lease_id"], shortlived.id);
}

TEST_F(TunnelServiceTest, RenewedLeaseKeepsTheTunnel) {
  Lease renewed = AddLease(alice_, {"ssh"}, 300ms);
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh", "alice-token");
    if (!o.ws) co_return;
    Lease l = renewed;
    l.expires_at = clock_.Now() + 1h;
    EXPECT_TRUE(store_->UpdateLease(l, LeaseState::kActive, Audit("lease.renew")).ok());
    asio::steady_timer t(co_await asio::this_coro::executor, 600ms);
    co_await t.async_wait(kUseTuple);
    co_await Send(*o.ws, "still here");
    Drained d = co_await Read(*o.ws, 10);
    EXPECT_EQ(d.data, "still here");
    EXPECT_EQ(d.close_code, -1);
    co_await o.ws->async_close(websocket::close_code::normal, kUseTuple);
  });
}

TEST_F(TunnelServiceTest, ProxyV2HeaderArrivesFirst) {
  StartServer(TunnelOptions{.proxy_protocol = true});
  uint16_t client_port = 0;
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    client_port = beast::get_lowest_layer(*o.ws).socket().local_endpoint().port();
    co_await Send(*o.ws, "payload");
    Drained d = co_await Read(*o.ws, 28 + 7);  // the echo target echoes the header too
    EXPECT_EQ(d.data.substr(28), "payload");
    co_await o.ws->async_close(websocket::close_code::normal, kUseTuple);
  });
  IpAddress loopback = *IpAddress::Parse("127.0.0.1");
  EXPECT_EQ(target_.Received(0),
            ProxyV2Header(loopback, client_port, loopback, target_.port()) + "payload");
}

TEST_F(TunnelServiceTest, NoProxyHeaderByDefault) {
  StartServer();
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    co_await Send(*o.ws, "payload");
    co_await Read(*o.ws, 7);
    co_await o.ws->async_close(websocket::close_code::normal, kUseTuple);
  });
  EXPECT_EQ(target_.Received(0), "payload");
}

TEST_F(TunnelServiceTest, StopClosesLiveTunnelsWith1001AndJoins) {
  StartServer();
  std::thread stopper;
  RunClient([&]() -> asio::awaitable<void> {
    Opened o = co_await Open("ssh");
    if (!o.ws) co_return;
    co_await Send(*o.ws, "x");
    co_await Read(*o.ws, 1);
    stopper = std::thread([this] { server_->Stop(); });
    Drained rest = co_await Read(*o.ws);
    EXPECT_EQ(rest.close_code, 1001);
  });
  stopper.join();  // Stop() returned: the tunnel ended and the threads joined
  auto ends = Events("tunnel.end");
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(json::parse(ends[0].details_json)["reason"], "server shutting down");
  EXPECT_EQ(service_->Stats().active, 0);
}

}  // namespace
}  // namespace pinhole
