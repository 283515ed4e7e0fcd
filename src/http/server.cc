#include "http/server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "config/config.h"
#include "http/router.h"

namespace pinhole {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string HttpRequest::Cookie(std::string_view name) const {
  auto it = headers.find("cookie");
  std::string_view header = it == headers.end() ? std::string_view() : std::string_view(it->second);
  while (!header.empty()) {
    auto end = header.find(';');
    std::string_view part = header.substr(0, end);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
    if (end == std::string_view::npos) break;
    header.remove_prefix(end + 1);
  }
  return "";
}

std::string HttpRequest::Header(std::string_view name) const {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  auto it = headers.find(key);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// After deciding to close, how long and how much we keep reading (and
// discarding) so that the client sees our response rather than a TCP reset
// caused by unread data, e.g. the rest of a rejected oversized body.
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerBytes = 1 << 20;
constexpr std::string_view kHsts = "max-age=31536000";

bool IEquals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// Header names the server sets itself; a handler may replace (not repeat) them.
bool IsDefaultHeader(std::string_view name) {
  for (std::string_view d : {"content-type", "cache-control", "x-content-type-options",
                             "x-frame-options", "referrer-policy", "strict-transport-security"}) {
    if (IEquals(name, d)) return true;
  }
  return false;
}

// Framing is the server's business; a handler cannot set these.
bool IsFramingHeader(std::string_view name) {
  return IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
         IEquals(name, "connection");
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsSafeValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsHttpParseError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

// Beast reads a request with "Transfer-Encoding: gzip" (chunked not last)
// as having no body; a front proxy may disagree, which is how requests are
// smuggled. RFC 9112 section 6.3 says: 400 and close. We accept exactly
// "chunked", on HTTP/1.1 only.
std::optional<HttpResponse> CheckFraming(const http::request_header<>& h) {
  size_t n = h.count(http::field::transfer_encoding);
  if (n == 0) return std::nullopt;
  std::string_view te = h[http::field::transfer_encoding];
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
  if (n == 1 && h.version() == 11 && IEquals(te, "chunked")) return std::nullopt;
  return JsonError(400, "bad_request", "unsupported Transfer-Encoding");
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) {
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  }
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// The server's view of one accepted connection, so Stop() can close it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual beast::tcp_stream& Lowest() = 0;

  // Set while the connection is a WebSocket session: how Stop() asks it to
  // close. Read and written on the connection's strand only.
  std::function<void()> on_stop;
};

template <class Stream>
class ConnectionOf final : public Connection {
 public:
  template <class... Args>
  explicit ConnectionOf(Args&&... args) : stream(std::forward<Args>(args)...) {}
  ~ConnectionOf() override {
    if (on_destroy) on_destroy();
  }
  beast::tcp_stream& Lowest() override { return beast::get_lowest_layer(stream); }

  Stream stream;
  std::function<void()> on_destroy;  // set once, before the connection is shared
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The WebSocket a session borrows; lives in the connection's coroutine frame.
template <class Stream>
class WebSocketOf final : public WebSocket {
 public:
  explicit WebSocketOf(Stream& next)
      : ws_(next), stop_timer_(beast::get_lowest_layer(next).get_executor()) {}

  websocket::stream<Stream&>& ws() { return ws_; }

  asio::awaitable<error_code> Read(std::string& out, bool& text) override {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, kUseTuple);
    if (ec) co_return ec;
    text = ws_.got_text();
    auto data = buffer_.data();
    out.assign(static_cast<const char*>(data.data()), data.size());
    buffer_.clear();
    co_return ec;
  }

  asio::awaitable<error_code> Write(std::string_view data, bool text) override {
    ws_.text(text);
    auto [ec, n] = co_await ws_.async_write(asio::buffer(data.data(), data.size()), kUseTuple);
    co_return ec;
  }

  asio::awaitable<error_code> Close(uint16_t code, std::string_view reason) override {
    websocket::close_reason cr(static_cast<websocket::close_code>(code), reason.substr(0, 123));
    auto [ec] = co_await ws_.async_close(cr, kUseTuple);
    co_return ec;
  }

  void Abort() override {
    error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

  void OnServerStop(std::function<void()> fn) override { on_stop_ = std::move(fn); }

  int PeerCloseCode() const override { return ws_.reason().code; }

  // From Stop(), on the strand.
  void ServerStopping(std::chrono::milliseconds grace) {
    if (!on_stop_) {
      Abort();
      return;
    }
    std::function<void()> fn = std::move(on_stop_);
    on_stop_ = nullptr;
    fn();
    stop_timer_.expires_after(grace);
    // A deadline that already fired may still be queued when this object is
    // destroyed; the weak flag tells the handler so.
    stop_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](error_code ec) {
      if (!ec && !alive.expired()) Abort();
    });
  }

 private:
  websocket::stream<Stream&> ws_;
  beast::flat_buffer buffer_;
  asio::steady_timer stop_timer_;
  std::function<void()> on_stop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        ioc_(std::max(1, options_.threads)) {}

  ~HttpServerImpl() override { Stop(); }

  Status Start() override;
  void Stop() override;
  std::vector<std::string> BoundAddresses() const override { return bound_; }

 private:
  Status SetUpTls();
  Status Listen(const std::string& address);
  asio::awaitable<void> AcceptLoop(tcp::acceptor& acceptor);
  void OnAccepted(tcp::socket socket);
  template <class Stream>
  void Register(std::shared_ptr<ConnectionOf<Stream>> conn);
  template <class Stream>
  void Spawn(std::shared_ptr<ConnectionOf<Stream>> conn);
  template <class Stream>
  asio::awaitable<void> Serve(std::shared_ptr<ConnectionOf<Stream>> conn);
  template <class Stream>
  asio::awaitable<void> Close(ConnectionOf<Stream>& conn, bool tls_close_notify);
  asio::awaitable<UpgradeDecision> CallUpgrade(const HttpRequest& request) const;
  template <class Stream>
  asio::awaitable<void> RunWebSocket(std::shared_ptr<ConnectionOf<Stream>> conn,
                                     const http::request<http::string_body>& msg,
                                     WebSocketSession session, const HttpRequest& request);
  // Turns a parsed message into an HttpRequest; false (with `why`) when the
  // target cannot be decoded.
  bool FillRequest(http::request<http::string_body>& msg, HttpRequest& out, std::string& why) const;
  HttpResponse CallHandler(const HttpRequest& request) const;
  http::response<http::string_body> Render(HttpResponse in, unsigned version, bool keep_alive,
                                           bool head) const;

  const HttpServerOptions options_;
  const HttpHandler handler_;
  asio::io_context ioc_;
  std::unique_ptr<ssl::context> tls_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  std::vector<std::string> bound_;
  std::vector<std::thread> threads_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  bool started_ = false;
  bool stopped_ = false;

  std::mutex mu_;  // guards the fields below
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
};

Status HttpServerImpl::SetUpTls() {
  if (options_.tls_cert.empty() && options_.tls_key.empty()) return Status::Ok();
  if (options_.tls_cert.empty() || options_.tls_key.empty()) {
    return Status::Invalid("invalid_tls", "TLS needs both a certificate chain and a key");
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx->native_handle(),
                      SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  error_code ec;
  ctx->use_certificate_chain_file(options_.tls_cert, ec);
  if (ec) {
    return Status::Invalid("invalid_tls", "cannot load TLS certificate chain " + options_.tls_cert +
                                              ": " + ec.message());
  }
  ctx->use_private_key_file(options_.tls_key, ssl::context::pem, ec);
  if (ec) {
    return Status::Invalid("invalid_tls",
                           "cannot load TLS key " + options_.tls_key + ": " + ec.message());
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Status::Invalid("invalid_tls", "TLS key " + options_.tls_key +
                                              " does not match certificate " + options_.tls_cert);
  }
  tls_ = std::move(ctx);
  return Status::Ok();
}

Status HttpServerImpl::Listen(const std::string& address) {
  Result<ListenAddress> parsed = ParseListenAddress(address);
  if (!parsed.ok()) return parsed.status();
  error_code ec;
  asio::ip::address ip = asio::ip::make_address(parsed->host, ec);
  if (ec) return Status::Invalid("invalid_listen_address", "cannot parse " + address);
  tcp::endpoint ep(ip, parsed->port);
  auto fail = [&](std::string_view step) {
    return Status(Code::kUnavailable, "listen_failed",
                  "cannot listen on " + address + ": " + std::string(step) + ": " + ec.message());
  };
  // A strand per acceptor: Stop() posts the close onto it.
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(ioc_));
  acceptor->open(ep.protocol(), ec);
  if (ec) return fail("open");
  // v6_only lets "0.0.0.0:P" and "[::]:P" both bind.
  if (ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
  if (ec) return fail("v6_only");
  acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("reuse_address");
  acceptor->bind(ep, ec);
  if (ec) return fail("bind");
  acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  tcp::endpoint local = acceptor->local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  bound_.push_back(FormatEndpoint(local));
  acceptors_.push_back(std::move(acceptor));
  return Status::Ok();
}

Status HttpServerImpl::Start() {
  if (started_) return Status::Internal("HttpServer::Start called twice");
  started_ = true;
  Status st = options_.listen.empty()
                  ? Status::Invalid("invalid_listen_address", "nothing to listen on")
                  : SetUpTls();
  for (size_t i = 0; st.ok() && i < options_.listen.size(); ++i) st = Listen(options_.listen[i]);
  if (!st.ok()) {
    acceptors_.clear();
    bound_.clear();
    stopped_ = true;
    return st;
  }
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(acceptor->get_executor(), AcceptLoop(*acceptor), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http: accept loop failed: {}", ex.what());
      } catch (...) {
        spdlog::error("http: accept loop failed with a non-standard exception");
      }
    });
  }
  work_.emplace(ioc_.get_executor());
  int n = std::max(1, options_.threads);
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http: uncaught exception on a server thread: {}", e.what());
        } catch (...) {
          spdlog::error("http: uncaught non-standard exception on a server thread");
        }
      }
    });
  }
  spdlog::info("http: serving {} on {}", tls_ ? "HTTPS" : "HTTP", fmt::join(bound_, ", "));
  return Status::Ok();
}

void HttpServerImpl::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, weak] : connections_) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& acceptor : acceptors_) {
    asio::post(acceptor->get_executor(), [a = acceptor.get()] {
      error_code ec;
      a->close(ec);
    });
  }
  for (auto& c : open) {
    // Runs on the connection's strand; a handler in progress finishes first.
    asio::post(c->Lowest().get_executor(), [c] {
      if (c->on_stop) {
        c->on_stop();
      } else {
        c->Lowest().close();
      }
    });
  }
  open.clear();
  work_.reset();
  for (auto& t : threads_) t.join();
  threads_.clear();
  acceptors_.clear();
}

asio::awaitable<void> HttpServerImpl::AcceptLoop(tcp::acceptor& acceptor) {
  for (;;) {
    // Each connection gets its own strand: its coroutine and its timeout
    // timer never run at the same time, whatever thread picks them up.
    tcp::socket socket(asio::make_strand(ioc_));
    auto [ec] = co_await acceptor.async_accept(socket, kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // Typically EMFILE: back off instead of spinning on the error.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    OnAccepted(std::move(socket));
  }
}

void HttpServerImpl::OnAccepted(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (tls_) {
    Register(std::make_shared<ConnectionOf<TlsStream>>(std::move(socket), *tls_));
  } else {
    Register(std::make_shared<ConnectionOf<PlainStream>>(std::move(socket)));
  }
}

template <class Stream>
void HttpServerImpl::Register(std::shared_ptr<ConnectionOf<Stream>> conn) {
  {
    // Checking `stopping_` and registering under one lock: a connection
    // accepted while Stop() runs is either closed by Stop() or never served.
    std::lock_guard lock(mu_);
    if (stopping_) return;  // `conn` closes its socket on destruction
    uint64_t id = next_id_++;
    conn->on_destroy = [this, id] {
      std::lock_guard lock(mu_);
      connections_.erase(id);
    };
    connections_.emplace(id, conn);
  }
  Spawn(std::move(conn));
}

template <class Stream>
void HttpServerImpl::Spawn(std::shared_ptr<ConnectionOf<Stream>> conn) {
  auto executor = conn->Lowest().get_executor();
  asio::co_spawn(executor, Serve(std::move(conn)), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("http: connection failed: {}", ex.what());
    } catch (...) {
      spdlog::error("http: connection failed with a non-standard exception");
    }
  });
}

template <class Stream>
asio::awaitable<void> HttpServerImpl::Serve(std::shared_ptr<ConnectionOf<Stream>> conn) {
  constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  Stream& stream = conn->stream;
  beast::tcp_stream& lowest = conn->Lowest();

  error_code ec;
  tcp::endpoint remote = lowest.socket().remote_endpoint(ec);
  if (ec) co_return;  // already gone
  asio::ip::address addr = remote.address();
  if (addr.is_v6()) {
    asio::ip::address_v6 v6 = addr.to_v6();
    v6.scope_id(0);
    addr = v6;
  }
  Result<IpAddress> peer = IpAddress::Parse(addr.to_string());
  if (!peer.ok()) {
    spdlog::error("http: cannot parse peer address {}: {}", addr.to_string(),
                  peer.status().ToString());
    co_return;
  }

  if constexpr (kTls) {
    lowest.expires_after(options_.idle_timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kUseTuple);
    if (hec) {
      spdlog::debug("http: TLS handshake with {} failed: {}", addr.to_string(), hec.message());
      co_return;
    }
  }

  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(
        std::min<size_t>(options_.max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser.body_limit(options_.max_body_bytes);

    lowest.expires_after(options_.idle_timeout);
    auto [rec, rn] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    ec = rec;
    std::optional<HttpResponse> reject;
    if (!ec) reject = CheckFraming(parser.get());
    if (!ec && !reject && !parser.is_done()) {
      // Answer "Expect: 100-continue" only once the headers passed the limits.
      auto& msg = parser.get();
      if (msg.version() >= 11 && IEquals(msg[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, msg.version()};
        auto [wec, wn] = co_await http::async_write(stream, cont, kUseTuple);
        if (wec) co_return;
      }
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      ec = bec;
    }

    if (ec) {
      if (ec == http::error::body_limit) {
        reject =
            JsonError(413, "body_too_large",
                      "request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes");
      } else if (ec == http::error::header_limit) {
        reject = JsonError(
            431, "headers_too_large",
            "request headers exceed " + std::to_string(options_.max_header_bytes) + " bytes");
      } else if (IsHttpParseError(ec)) {
        reject = JsonError(400, "bad_request", "malformed HTTP request: " + ec.message());
      } else {
        // EOF between requests, idle timeout, reset, or Stop(): nothing to answer.
        if (ec == http::error::end_of_stream) co_await Close(*conn, /*tls_close_notify=*/true);
        co_return;
      }
    }
    if (reject) {
      // The stream cannot be trusted to be at a message boundary: answer and close.
      auto res = Render(std::move(*reject), 11, /*keep_alive=*/false, /*head=*/false);
      lowest.expires_after(options_.idle_timeout);
      co_await http::async_write(stream, res, kUseTuple);
      co_await Close(*conn, /*tls_close_notify=*/false);
      co_return;
    }

    http::request<http::string_body> msg = parser.release();
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();
    HttpRequest request;
    request.peer = *peer;
    request.peer_port = remote.port();
    request.tls = kTls;
    std::string why;
    HttpResponse out;
    bool head = false;
    bool close = !keep_alive;
    if (!FillRequest(msg, request, why)) {
      out = JsonError(400, "bad_request", why);
      close = true;
    } else if (options_.upgrade && websocket::is_upgrade(msg)) {
      UpgradeDecision decision = co_await CallUpgrade(request);
      if (decision.accept) {
        co_await RunWebSocket(conn, msg, std::move(decision.accept), request);
        co_return;
      }
      if (decision.refuse) {
        // The client expected to stop speaking HTTP; do not keep the connection.
        out = std::move(*decision.refuse);
        close = true;
      } else {
        out = CallHandler(request);
      }
    } else {
      head = request.method == "HEAD";
      out = CallHandler(request);
    }
    http::response<http::string_body> res;
    try {
      res = Render(std::move(out), version, !close, head);
    } catch (const std::exception& e) {
      spdlog::error("http: cannot render the response to {} {}: {}", request.method, request.path,
                    e.what());
      res = Render(JsonError(500, "internal", "internal error"), version, !close, head);
    }
    lowest.expires_after(options_.idle_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, kUseTuple);
    if (wec) co_return;
    if (close) {
      co_await Close(*conn, /*tls_close_notify=*/true);
      co_return;
    }
  }
}

template <class Stream>
asio::awaitable<void> HttpServerImpl::Close(ConnectionOf<Stream>& conn, bool tls_close_notify) {
  beast::tcp_stream& lowest = conn.Lowest();
  lowest.expires_after(kLingerTime);
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (tls_close_notify) co_await conn.stream.async_shutdown(kUseTuple);
  }
  error_code ec;
  lowest.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::array<char, 4096> sink;
  size_t drained = 0;
  while (drained < kLingerBytes) {
    auto [rec, n] = co_await lowest.async_read_some(asio::buffer(sink), kUseTuple);
    if (rec) break;
    drained += n;
  }
  lowest.close();
}

bool HttpServerImpl::FillRequest(http::request<http::string_body>& msg, HttpRequest& out,
                                 std::string& why) const {
  out.method = std::string(msg.method_string());
  out.target = std::string(msg.target());
  auto url = boost::urls::parse_origin_form(msg.target());
  if (!url) url = boost::urls::parse_absolute_uri(msg.target());
  if (!url) {
    why = "malformed request target";
    return false;
  }
  out.path = url->path();
  if (out.path.empty()) out.path = "/";
  if (out.path.find('\0') != std::string::npos) {
    why = "request path contains NUL";
    return false;
  }
  for (auto param : url->params()) out.query[param.key] = param.value;
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    auto [it, inserted] = out.headers.try_emplace(std::move(name), field.value());
    if (!inserted) {
      it->second += ',';
      it->second += field.value();
    }
  }
  out.body = std::move(msg.body());
  return true;
}

asio::awaitable<UpgradeDecision> HttpServerImpl::CallUpgrade(const HttpRequest& request) const {
  try {
    co_return co_await options_.upgrade(request);
  } catch (const std::exception& e) {
    spdlog::error("http: upgrade hook failed on {} {}: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::error("http: upgrade hook failed on {} {} with a non-standard exception",
                  request.method, request.path);
  }
  co_return UpgradeDecision{.refuse = JsonError(500, "internal", "internal error")};
}

template <class Stream>
asio::awaitable<void> HttpServerImpl::RunWebSocket(std::shared_ptr<ConnectionOf<Stream>> conn,
                                                   const http::request<http::string_body>& msg,
                                                   WebSocketSession session,
                                                   const HttpRequest& request) {
  beast::tcp_stream& lowest = conn->Lowest();
  WebSocketOf<Stream> socket(conn->stream);
  auto& ws = socket.ws();
  // The WebSocket keeps its own timers from here on.
  lowest.expires_never();
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = std::chrono::seconds(10);  // also bounds the closing handshake
  timeouts.idle_timeout = 2 * options_.websocket_ping_interval;  // pings at half of it
  timeouts.keep_alive_pings = true;
  ws.set_option(timeouts);
  ws.set_option(websocket::stream_base::decorator([this](websocket::response_type& res) {
    // Beast names itself and its version unless a Server field is present.
    res.set(http::field::server, "pinholed");
    res.set("X-Content-Type-Options", "nosniff");
    if (tls_) res.set(http::field::strict_transport_security, kHsts);
  }));
  ws.read_message_max(options_.websocket_max_message);
  ws.auto_fragment(false);
  auto [aec] = co_await ws.async_accept(msg, kUseTuple);
  if (aec) {
    spdlog::debug("http: WebSocket handshake on {} failed: {}", request.path, aec.message());
    lowest.close();
    co_return;
  }
  const auto grace = options_.websocket_stop_grace;
  conn->on_stop = [&socket, grace] { socket.ServerStopping(grace); };
  try {
    co_await session(socket);
  } catch (const std::exception& e) {
    spdlog::error("http: WebSocket session on {} failed: {}", request.path, e.what());
  } catch (...) {
    spdlog::error("http: WebSocket session on {} failed with a non-standard exception",
                  request.path);
  }
  conn->on_stop = nullptr;
  if (ws.is_open()) {
    // The session ended without closing; tell the peer rather than vanish.
    co_await socket.Close(static_cast<uint16_t>(websocket::close_code::internal_error),
                          "internal error");
  }
  lowest.close();
}

HttpResponse HttpServerImpl::CallHandler(const HttpRequest& request) const {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    spdlog::error("http: handler failed on {} {}: {}", request.method, request.path, e.what());
  } catch (...) {
    spdlog::error("http: handler failed on {} {} with a non-standard exception", request.method,
                  request.path);
  }
  return JsonError(500, "internal", "internal error");
}

http::response<http::string_body> HttpServerImpl::Render(HttpResponse in, unsigned version,
                                                         bool keep_alive, bool head) const {
  if (in.status < 200 || in.status > 599) {
    spdlog::error("http: handler returned invalid status {}", in.status);
    in = JsonError(500, "internal", "internal error");
  }
  http::response<http::string_body> res;
  res.version(version);
  res.result(static_cast<unsigned>(in.status));
  const bool no_body = in.status == 204 || in.status == 304;
  if (!in.content_type.empty() && !no_body) {
    res.set(http::field::content_type, in.content_type);
  }
  if (in.content_type.starts_with("application/json")) {
    res.set(http::field::cache_control, "no-store");
  }
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  if (tls_) res.set(http::field::strict_transport_security, kHsts);
  for (auto& [name, value] : in.headers) {
    if (!IsToken(name) || !IsSafeValue(value) || IsFramingHeader(name)) {
      spdlog::error("http: dropping an invalid or framing response header ({} bytes of name)",
                    name.size());
      continue;
    }
    if (IsDefaultHeader(name)) {
      res.set(name, value);
    } else {
      res.insert(name, value);
    }
  }
  res.keep_alive(keep_alive);
  if (no_body) return res;
  if (head) {
    res.content_length(in.body.size());
  } else {
    res.body() = std::move(in.body);
    res.prepare_payload();
  }
  return res;
}

}  // namespace

std::unique_ptr<HttpServer> NewHttpServer(HttpServerOptions options, HttpHandler handler) {
  return std::make_unique<HttpServerImpl>(std::move(options), std::move(handler));
}

}  // namespace pinhole
