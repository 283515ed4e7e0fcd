#include "cli/tunnel_client.h"

#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "cli/api_client.h"
#include "cli/context.h"
#include "pinhole_version.h"

namespace pinhole::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using net::awaitable;

constexpr auto kAwait = net::as_tuple(net::use_awaitable);

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<ssl::stream<beast::tcp_stream>>;

// Large enough to keep a bulk copy efficient, small enough that back-pressure
// reaches the sender quickly.
// Large chunks mean few frames and system calls per byte; buffers are left
// uninitialised so that an idle connection does not make them resident.
constexpr size_t kChunk = 256 * 1024;
// Text messages are control messages ("eof"); anything longer is not ours.
constexpr size_t kMaxTextMessage = 64;
// The server pings every 20 s; this notices a dead server (or a dead path)
// on our own, and keeps NAT state alive when the server does not ping.
constexpr std::chrono::seconds kIdleTimeout{75};
// After Ctrl-C, how long the closing handshake may take before we just drop
// the connection.
constexpr std::chrono::seconds kStopGrace{2};

Status Unreachable(const std::string& message) {
  return Status(Code::kUnavailable, "unreachable", message);
}
Status Stopped() { return Status(Code::kUnavailable, "stopped", "tunnel stopped"); }

struct ServerAddress {
  bool tls = false;
  std::string host;         // without IPv6 brackets
  std::string port;         // digits
  std::string host_header;  // authority as written in the URL
  std::string base_path;    // "" or "/prefix" without a trailing slash
};

Result<ServerAddress> ParseServerAddress(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_server", "invalid server URL \"" + url + "\": " + why);
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return bad("missing scheme");
  ServerAddress a;
  std::string scheme = url.substr(0, scheme_end);
  if (scheme == "https") {
    a.tls = true;
  } else if (scheme != "http") {
    return bad("scheme must be http or https");
  }
  std::string rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) a.base_path = rest.substr(slash);
  while (!a.base_path.empty() && a.base_path.back() == '/') a.base_path.pop_back();
  if (authority.empty()) return bad("missing host name");
  if (authority.find('@') != std::string::npos)
    return bad("user names in the URL are not supported");
  a.host_header = authority;
  std::string port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return bad("unterminated IPv6 address");
    a.host = authority.substr(1, close - 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    a.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port = authority.substr(colon + 1);
      if (port.find(':') != std::string::npos) return bad("IPv6 addresses need [brackets]");
    }
  }
  if (a.host.empty()) return bad("missing host name");
  if (port.empty()) {
    a.port = a.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return bad("invalid port");
    }
    a.port = port;
  }
  return a;
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

std::string ExceptionText(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

// The local byte source and sink. Owns both descriptors; puts their file
// status flags back before closing them, because Asio makes them
// non-blocking and they may share an open file description with the
// terminal we were started from.
class LocalSide {
 public:
  explicit LocalSide(const net::any_io_executor& ex) : in_(ex), out_(ex) {}
  ~LocalSide() { CloseAll(); }

  // Takes ownership of both descriptors, also on failure (they are closed).
  boost::system::error_code Assign(int read_fd, int write_fd) {
    read_flags_ = ::fcntl(read_fd, F_GETFL);
    write_flags_ = ::fcntl(write_fd, F_GETFL);
    struct stat st {};
    write_is_socket_ = ::fstat(write_fd, &st) == 0 && S_ISSOCK(st.st_mode);
    boost::system::error_code ec;
    in_.assign(read_fd, ec);
    if (ec) {
      ::close(read_fd);
      ::close(write_fd);
      return ec;
    }
    out_.assign(write_fd, ec);
    if (ec) {
      ::close(write_fd);
      CloseAll();
    }
    return ec;
  }

  net::posix::stream_descriptor& in() { return in_; }
  net::posix::stream_descriptor& out() { return out_; }

  // Half-close: whoever reads our output sees end-of-file, while we keep
  // reading our input.
  void ShutdownWrite() {
    if (!out_.is_open()) return;
    if (write_is_socket_) {
      ::shutdown(out_.native_handle(), SHUT_WR);
    } else {
      Close(out_, write_flags_);
    }
  }

  void CloseAll() {
    Close(in_, read_flags_);
    Close(out_, write_flags_);
  }

 private:
  static void Close(net::posix::stream_descriptor& d, int flags) {
    if (!d.is_open()) return;
    if (flags >= 0) ::fcntl(d.native_handle(), F_SETFL, flags);
    boost::system::error_code ignored;
    d.close(ignored);
  }

  int read_flags_ = -1;
  int write_flags_ = -1;
  bool write_is_socket_ = false;
  net::posix::stream_descriptor in_;
  net::posix::stream_descriptor out_;
};

struct RelayState {
  bool up_eof = false;    // we sent "eof"
  bool down_eof = false;  // the server sent "eof"
  bool close_sent = false;
  bool peer_closed = false;  // a close frame came back from the server
  bool finished = false;     // the WebSocket side is done; local errors no longer matter
  bool stopping = false;     // Stop() closed the local side on purpose
  std::string local_error;
  std::string lost_error;
  uint64_t up = 0;
  uint64_t down = 0;
};

// Starts the closing handshake once; Beast must not be asked to close twice.
template <class Ws>
awaitable<void> CloseWs(Ws& ws, RelayState& st, websocket::close_code code) {
  if (st.close_sent || !ws.is_open()) co_return;
  st.close_sent = true;
  auto [ec] = co_await ws.async_close(websocket::close_reason(code), kAwait);
  if (!ec) st.peer_closed = true;
}

// local -> server. The next chunk is read while the last one is being sent,
// so that reading and masking/sending overlap on a busy stream; two chunks at
// most are in flight, which is the back-pressure.
template <class Ws>
awaitable<void> Upstream(Ws& ws, LocalSide& local, RelayState& st) {
  using namespace net::experimental::awaitable_operators;
  std::unique_ptr<char[]> bufs[2] = {std::unique_ptr<char[]>(new char[kChunk]),
                                     std::unique_ptr<char[]>(new char[kChunk])};
  int cur = 0;
  auto [ec, n] = co_await local.in().async_read_some(net::buffer(bufs[cur].get(), kChunk), kAwait);
  for (;;) {
    if (st.finished || st.stopping) co_return;
    if (ec == net::error::eof) {
      static constexpr std::string_view kEof = "eof";
      ws.text(true);
      auto [wec, wn] = co_await ws.async_write(net::buffer(kEof.data(), kEof.size()), kAwait);
      if (wec) co_return;  // the read side reports what happened
      st.up_eof = true;
      if (st.down_eof) co_await CloseWs(ws, st, websocket::close_code::normal);
      co_return;
    }
    if (ec) {
      st.local_error = "cannot read local input: " + ec.message();
      co_await CloseWs(ws, st, websocket::close_code::normal);
      co_return;
    }
    ws.binary(true);
    int next = 1 - cur;
    // Yields (write error, bytes written, (read error, bytes read)).
    auto both =
        co_await (ws.async_write(net::buffer(bufs[cur].get(), n), kAwait) &&
                  local.in().async_read_some(net::buffer(bufs[next].get(), kChunk), kAwait));
    if (std::get<0>(both)) co_return;
    st.up += n;
    std::tie(ec, n) = std::get<2>(both);
    cur = next;
  }
}

// server -> local. Ends when the WebSocket does, then closes the local side
// so that a pending local read ends too.
template <class Ws>
awaitable<void> Downstream(Ws& ws, LocalSide& local, RelayState& st) {
  std::unique_ptr<char[]> buf(new char[kChunk]);
  std::string text;
  for (;;) {
    auto [ec, n] = co_await ws.async_read_some(net::buffer(buf.get(), kChunk), kAwait);
    if (ec) {
      if (ec == websocket::error::closed) {
        st.peer_closed = true;
      } else if (!st.close_sent) {
        st.lost_error = ec.message();
      }
      break;
    }
    if (ws.got_text()) {
      text.append(buf.get(), n);
      if (text.size() > kMaxTextMessage) {
        co_await CloseWs(ws, st, websocket::close_code::protocol_error);
        break;
      }
      if (!ws.is_message_done()) continue;
      // Other text messages are ignored: room for control messages later.
      if (text == "eof" && !st.down_eof) {
        st.down_eof = true;
        local.ShutdownWrite();
        if (st.up_eof) {
          co_await CloseWs(ws, st, websocket::close_code::normal);
          break;
        }
      }
      text.clear();
      continue;
    }
    if (n == 0) continue;
    if (st.down_eof) {  // data after eof: the peer is not speaking our protocol
      co_await CloseWs(ws, st, websocket::close_code::protocol_error);
      break;
    }
    auto [wec, wn] = co_await net::async_write(local.out(), net::buffer(buf.get(), n), kAwait);
    if (wec) {
      if (st.stopping) break;
      st.local_error = "cannot write local output: " + wec.message();
      co_await CloseWs(ws, st, websocket::close_code::normal);
      break;
    }
    st.down += n;
  }
  st.finished = true;
  local.CloseAll();
}

const char* CloseCodeMeaning(int code) {
  switch (code) {
    case 1000:
      return "closed normally";
    case 1001:
      return "server shutting down";
    case 1002:
      return "protocol error";
    case 1003:
      return "unsupported message";
    case 1005:
      return "closed without a status";
    case 1008:
      return "policy violation";
    case 1011:
      return "target error";
    case 4001:
      return "lease ended";
    case 4002:
      return "idle timeout";
    default:
      return nullptr;
  }
}

}  // namespace

int ExitStatusFor(const TunnelEnd& end) {
  switch (end.cause) {
    case TunnelEnd::Cause::kStopped:
      return kExitOk;
    case TunnelEnd::Cause::kClosed:
      return end.close_code == 1000 ? kExitOk : kExitRefused;
    case TunnelEnd::Cause::kLocalError:
      return kExitRefused;
    case TunnelEnd::Cause::kConnectionLost:
      return kExitUnreachable;
  }
  return kExitRefused;
}

std::string DescribeEnd(const TunnelEnd& end) {
  switch (end.cause) {
    case TunnelEnd::Cause::kStopped:
      return "tunnel stopped";
    case TunnelEnd::Cause::kLocalError:
      return "tunnel closed: " + end.error;
    case TunnelEnd::Cause::kConnectionLost:
      return "tunnel connection lost: " + (end.error.empty() ? "no reason given" : end.error);
    case TunnelEnd::Cause::kClosed:
      break;
  }
  std::string why = end.close_reason;
  if (why.empty()) {
    const char* meaning = CloseCodeMeaning(end.close_code);
    why = meaning != nullptr ? meaning : "close code " + std::to_string(end.close_code);
  }
  return "tunnel closed: " + why + " (" + std::to_string(end.close_code) + ")";
}

// ---------------------------------------------------------------------------
// Tunnel

class Tunnel::Impl {
 public:
  explicit Impl(TunnelServer server) : server_(std::move(server)) {}

  Status Connect(const std::string& service) {
    if (stopped_) return Stopped();
    Status result = Status::Internal("tunnel connect did not complete");
    net::co_spawn(ioc_, DoConnect(service), [&](std::exception_ptr e, Status s) {
      result = e ? Status::Internal("tunnel connect failed: " + ExceptionText(e)) : std::move(s);
      // A failed stream still has its handshake timer armed, which would
      // keep run() going until it fires.
      if (!result.ok()) DropStreams();
    });
    ioc_.restart();
    ioc_.run();
    if (stopped_ && result.ok()) return Stopped();
    return result;
  }

  TunnelEnd Relay(int read_fd, int write_fd) {
    TunnelEnd end;
    if (!plain_ && !tls_) {
      ::close(read_fd);
      ::close(write_fd);
      end.cause = TunnelEnd::Cause::kConnectionLost;
      end.error = "not connected";
      return end;
    }
    local_.emplace(ioc_.get_executor());
    if (boost::system::error_code ec = local_->Assign(read_fd, write_fd)) {
      local_.reset();
      end.cause = TunnelEnd::Cause::kLocalError;
      end.error = "cannot use the local descriptors: " + ec.message();
      return end;
    }
    state_.emplace();
    net::co_spawn(
        ioc_,
        [this]() -> awaitable<TunnelEnd> {
          if (tls_) co_return co_await DoRelay(*tls_);
          co_return co_await DoRelay(*plain_);
        },
        [&](std::exception_ptr e, TunnelEnd result) {
          if (e) {
            end.cause = TunnelEnd::Cause::kConnectionLost;
            end.error = ExceptionText(e);
          } else {
            end = std::move(result);
          }
          // The keep-alive timer would otherwise hold run() until it fires.
          DropStreams();
        });
    ioc_.restart();
    ioc_.run();
    local_.reset();
    state_.reset();
    return end;
  }

  void Stop() {
    stopped_ = true;
    net::post(ioc_, [this] { OnStop(); });
  }

 private:
  awaitable<Status> DoConnect(std::string service) {
    Result<ServerAddress> parsed = ParseServerAddress(server_.url);
    if (!parsed.ok()) co_return parsed.status();
    const ServerAddress& addr = *parsed;
    plain_.reset();
    tls_.reset();

    tcp::resolver resolver(ioc_);
    resolver_ = &resolver;
    auto [rec, endpoints] = co_await resolver.async_resolve(addr.host, addr.port, kAwait);
    resolver_ = nullptr;
    if (stopped_) co_return Stopped();
    if (rec) co_return Unreachable("cannot resolve " + addr.host + ": " + rec.message());

    std::string target = addr.base_path + "/api/v1/tunnel" + QueryString({{"service", service}});
    if (!addr.tls) {
      plain_ = std::make_unique<PlainWs>(ioc_);
      co_return co_await Handshake(*plain_, endpoints, addr, target);
    }
    if (!tls_ctx_) {
      Result<std::unique_ptr<ssl::context>> made = MakeTlsContext();
      if (!made.ok()) co_return made.status();
      tls_ctx_ = std::move(*made);
    }
    tls_ = std::make_unique<TlsWs>(ioc_, *tls_ctx_);
    co_return co_await Handshake(*tls_, endpoints, addr, target);
  }

  Result<std::unique_ptr<ssl::context>> MakeTlsContext() {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (server_.transport.insecure) {
      ctx->set_verify_mode(ssl::verify_none);
      return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    if (!server_.transport.ca_file.empty()) {
      ctx->load_verify_file(server_.transport.ca_file, ec);
      if (ec) {
        return Status::Invalid("bad_ca_file", "cannot load CA certificates from " +
                                                  server_.transport.ca_file + ": " + ec.message());
      }
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Status::Internal("cannot load the system CA store: " + ec.message());
    }
    return ctx;
  }

  template <class Ws>
  awaitable<Status> Handshake(Ws& ws, const tcp::resolver::results_type& endpoints,
                              const ServerAddress& addr, const std::string& target) {
    constexpr bool kTls = std::is_same_v<Ws, TlsWs>;
    auto& tcp_stream = beast::get_lowest_layer(ws);
    const std::string where = addr.host_header;
    tcp_stream.expires_after(server_.transport.connect_timeout);
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kAwait);
    if (stopped_) co_return Stopped();
    if (cec) co_return Unreachable("cannot connect to " + where + ": " + cec.message());
    boost::system::error_code nodelay_ec;  // interactive traffic (ssh) must not wait for Nagle
    tcp_stream.socket().set_option(tcp::no_delay(true), nodelay_ec);

    if constexpr (kTls) {
      SSL* handle = ws.next_layer().native_handle();
      if (!IsIpLiteral(addr.host)) SSL_set_tlsext_host_name(handle, addr.host.c_str());
      if (!server_.transport.insecure) SSL_set1_host(handle, addr.host.c_str());
      tcp_stream.expires_after(server_.transport.connect_timeout);
      auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, kAwait);
      if (stopped_) co_return Stopped();
      if (hec) {
        std::string why = hec.message();
        long verify = SSL_get_verify_result(handle);
        if (verify != X509_V_OK) why += ": " + std::string(X509_verify_cert_error_string(verify));
        co_return Unreachable("TLS handshake with " + where + " failed: " + why);
      }
    }

    // From here the WebSocket's own timers apply; the TCP stream's would
    // fire in the middle of a long, quiet session.
    tcp_stream.expires_never();
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = server_.transport.connect_timeout;
    timeouts.idle_timeout = kIdleTimeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    std::string authorization = "Bearer " + server_.token;
    ws.set_option(websocket::stream_base::decorator([authorization](websocket::request_type& req) {
      req.set(http::field::authorization, authorization);
      req.set(http::field::user_agent, std::string("pinhole/") + PINHOLE_VERSION);
    }));
    ws.read_message_max(0);  // we read in chunks; a message's size costs us nothing
    // One frame per chunk, masked through a buffer as large as the chunk:
    // Beast's defaults (4 KiB frames and mask buffer) cost half the throughput.
    ws.auto_fragment(false);
    ws.write_buffer_bytes(kChunk);
    websocket::response_type response;
    auto [wec] = co_await ws.async_handshake(response, addr.host_header, target, kAwait);
    if (stopped_) co_return Stopped();
    if (wec == websocket::error::upgrade_declined) {
      co_return StatusFromErrorReply(response.result_int(), response.body());
    }
    if (wec) {
      co_return Unreachable("WebSocket handshake with " + where + " failed: " + wec.message());
    }
    co_return Status::Ok();
  }

  template <class Ws>
  awaitable<TunnelEnd> DoRelay(Ws& ws) {
    using namespace net::experimental::awaitable_operators;
    // The state lives in the Impl, not in this frame: a closing handshake
    // started by Stop() may still run after this coroutine returns.
    RelayState& st = *state_;
    close_ws_ = [this, &ws, &st] {
      net::co_spawn(ioc_, CloseWs(ws, st, websocket::close_code::going_away),
                    [this](std::exception_ptr) {
                      if (stop_timer_) stop_timer_->cancel();
                    });
    };
    drop_ws_ = [&ws] {
      boost::system::error_code ignored;
      beast::get_lowest_layer(ws).socket().close(ignored);
    };
    relaying_ = true;
    if (stopped_) OnStop();
    co_await (Upstream(ws, *local_, st) && Downstream(ws, *local_, st));
    relaying_ = false;

    TunnelEnd end;
    end.bytes_up = st.up;
    end.bytes_down = st.down;
    if (stopped_) {
      end.cause = TunnelEnd::Cause::kStopped;
    } else if (!st.local_error.empty()) {
      end.cause = TunnelEnd::Cause::kLocalError;
      end.error = st.local_error;
    } else if (st.peer_closed) {
      end.cause = TunnelEnd::Cause::kClosed;
      end.close_code = ws.reason().code == websocket::close_code::none
                           ? 1005
                           : static_cast<int>(ws.reason().code);
      end.close_reason = std::string(ws.reason().reason.data(), ws.reason().reason.size());
    } else {
      end.cause = TunnelEnd::Cause::kConnectionLost;
      end.error = st.lost_error.empty() ? "connection closed without a close frame" : st.lost_error;
    }
    co_return end;
  }

  // Runs on the io_context thread. Destroying a stream cancels its timers
  // and aborts whatever is still pending on it.
  void DropStreams() {
    close_ws_ = nullptr;
    drop_ws_ = nullptr;
    if (stop_timer_) stop_timer_->cancel();
    plain_.reset();
    tls_.reset();
  }

  // Runs on the io_context thread.
  void OnStop() {
    if (resolver_ != nullptr) resolver_->cancel();
    if (!relaying_) {
      // Still connecting: dropping the socket fails the pending step.
      boost::system::error_code ignored;
      if (plain_) beast::get_lowest_layer(*plain_).socket().close(ignored);
      if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
      return;
    }
    // Close first, so that the local side's aborted operations are not taken
    // for local failures and the server is told we are going away.
    state_->stopping = true;
    close_ws_();
    if (local_) local_->CloseAll();
    stop_timer_.emplace(ioc_, kStopGrace);
    stop_timer_->async_wait([this](boost::system::error_code ec) {
      if (!ec && drop_ws_) drop_ws_();
    });
  }

  TunnelServer server_;
  net::io_context ioc_;
  std::atomic<bool> stopped_{false};
  std::unique_ptr<ssl::context> tls_ctx_;
  std::unique_ptr<PlainWs> plain_;
  std::unique_ptr<TlsWs> tls_;
  std::optional<LocalSide> local_;
  // Set while the matching step runs, for OnStop.
  tcp::resolver* resolver_ = nullptr;
  bool relaying_ = false;
  std::optional<RelayState> state_;
  std::function<void()> close_ws_;
  std::function<void()> drop_ws_;
  std::optional<net::steady_timer> stop_timer_;
};

Tunnel::Tunnel(TunnelServer server) : impl_(std::make_unique<Impl>(std::move(server))) {}
Tunnel::~Tunnel() = default;
Status Tunnel::Connect(const std::string& service) { return impl_->Connect(service); }
TunnelEnd Tunnel::Relay(int read_fd, int write_fd) { return impl_->Relay(read_fd, write_fd); }
void Tunnel::Stop() { impl_->Stop(); }

Status ConnectWithLease(Tunnel& tunnel, const std::string& service,
                        const std::function<Status()>& request_lease) {
  Status first = tunnel.Connect(service);
  if (first.ok() || first.reason() != "no_lease" || !request_lease) return first;
  Status leased = request_lease();
  if (!leased.ok()) return leased;
  return tunnel.Connect(service);
}

// ---------------------------------------------------------------------------
// TunnelListener

class TunnelListener::Impl {
 public:
  explicit Impl(const Options& options) : options_(options), acceptor_(ioc_) {}

  ~Impl() { JoinAll(); }

  Status Listen(uint16_t& port) {
    boost::system::error_code ec;
    net::ip::address address = net::ip::make_address(options_.bind_address, ec);
    if (ec) {
      return Status::Invalid("listen_failed",
                             "invalid bind address \"" + options_.bind_address + "\"");
    }
    tcp::endpoint endpoint(address, options_.port);
    std::string where = Where(address, options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return Status(Code::kUnavailable, "listen_failed",
                    "cannot listen on " + where + ": " + ec.message());
    }
    port = acceptor_.local_endpoint(ec).port();
    return Status::Ok();
  }

  void Run() {
    if (!acceptor_.is_open()) return;
    if (options_.stop_on_signals) {
      signals_.emplace(ioc_, SIGINT, SIGTERM);
      signals_->async_wait([this](boost::system::error_code ec, int) {
        if (!ec) DoStop();
      });
    }
    net::co_spawn(ioc_, AcceptLoop(), [](std::exception_ptr) {});
    ioc_.run();
    signals_.reset();
    JoinAll();
  }

  void Stop() {
    net::post(ioc_, [this] { DoStop(); });
  }

 private:
  struct Connection {
    explicit Connection(TunnelServer server) : tunnel(std::move(server)) {}
    Tunnel tunnel;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  static std::string Where(const net::ip::address& address, uint16_t port) {
    std::string host = address.to_string();
    if (address.is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(port);
  }

  // Runs on the io_context thread.
  void DoStop() {
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    if (signals_) signals_->cancel(ignored);
    std::lock_guard lock(conns_mu_);
    for (auto& conn : conns_) conn->tunnel.Stop();
  }

  void Log(const std::string& line) {
    if (!options_.log) return;
    std::lock_guard lock(log_mu_);
    options_.log(line);
  }

  awaitable<void> AcceptLoop() {
    while (!stopping_) {
      auto [ec, socket] = co_await acceptor_.async_accept(kAwait);
      if (stopping_) break;
      if (ec) {
        if (ec == net::error::operation_aborted) break;
        Log("accept failed: " + ec.message());
        // Out of descriptors, most likely: give connections time to end.
        net::steady_timer pause(ioc_, std::chrono::milliseconds(200));
        co_await pause.async_wait(kAwait);
        continue;
      }
      Reap();
      boost::system::error_code peer_ec;
      tcp::endpoint peer = socket.remote_endpoint(peer_ec);
      std::string from = peer_ec ? "?" : Where(peer.address(), peer.port());
      size_t active;
      {
        std::lock_guard lock(conns_mu_);
        active = conns_.size();
      }
      if (active >= options_.max_connections) {
        Log(from + ": refused: " + std::to_string(active) + " connections already open");
        continue;  // the socket closes as it goes out of scope
      }
      socket.set_option(tcp::no_delay(true), peer_ec);  // best effort
      int fd = socket.release(peer_ec);
      if (peer_ec) continue;
      auto conn = std::make_unique<Connection>(options_.server);
      Connection* raw = conn.get();
      {
        std::lock_guard lock(conns_mu_);
        conns_.push_back(std::move(conn));
      }
      raw->thread = std::thread([this, raw, fd, from] { Serve(*raw, fd, from); });
    }
  }

  // One accepted connection, on its own thread.
  void Serve(Connection& conn, int fd, const std::string& from) {
    std::function<Status()> request_lease;
    if (options_.request_lease) {
      request_lease = [this] {
        std::lock_guard lock(lease_mu_);
        return options_.request_lease();
      };
    }
    Status connected = ConnectWithLease(conn.tunnel, options_.service, request_lease);
    if (!connected.ok()) {
      Log(from + ": refused: " + connected.message() + " (" + connected.reason() + ")");
      ::close(fd);
      conn.done = true;
      return;
    }
    int write_fd = ::dup(fd);
    if (write_fd < 0) {
      Log(from + ": " + std::strerror(errno));
      ::close(fd);
      conn.done = true;
      return;
    }
    Log(from + ": connected to " + options_.service);
    TunnelEnd end = conn.tunnel.Relay(fd, write_fd);
    Log(from + ": " + DescribeEnd(end) + "; " + std::to_string(end.bytes_up) + " bytes sent, " +
        std::to_string(end.bytes_down) + " received");
    conn.done = true;
  }

  void Reap() {
    std::list<std::unique_ptr<Connection>> finished;
    {
      std::lock_guard lock(conns_mu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        if ((*it)->done) {
          finished.push_back(std::move(*it));
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& conn : finished) conn->thread.join();
  }

  void JoinAll() {
    std::list<std::unique_ptr<Connection>> all;
    {
      std::lock_guard lock(conns_mu_);
      for (auto& conn : conns_) conn->tunnel.Stop();
      all.swap(conns_);
    }
    for (auto& conn : all) {
      if (conn->thread.joinable()) conn->thread.join();
    }
  }

  const Options& options_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  std::optional<net::signal_set> signals_;
  bool stopping_ = false;  // io_context thread only
  std::mutex conns_mu_;
  std::list<std::unique_ptr<Connection>> conns_;
  std::mutex log_mu_;
  std::mutex lease_mu_;
};

TunnelListener::TunnelListener(Options options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {}
TunnelListener::~TunnelListener() = default;
Status TunnelListener::Listen() { return impl_->Listen(port_); }
void TunnelListener::Run() { impl_->Run(); }
void TunnelListener::Stop() { impl_->Stop(); }

}  // namespace pinhole::cli
