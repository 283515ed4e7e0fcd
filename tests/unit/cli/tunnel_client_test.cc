// The tunnel client (cli/tunnel_client.h) against a small Beast WebSocket
// server on 127.0.0.1 that speaks the wire protocol: binary frames for bytes,
// a text "eof" for half-close, close codes for the end. Covers echo (binary
// safe, large), half-close both ways, close codes -> exit status, refusals
// -> the server's JSON error, --open's retry, TLS with certificate
// verification, Stop(), and the local listener of `pinhole tunnel`.
#include "cli/tunnel_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "cli/app.h"
#include "cli/context.h"
#include "cli/fake_http_client.h"
#include "cli/temp_dir.h"

namespace pinhole::cli {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

using PlainWs = websocket::stream<beast::tcp_stream>;
using TlsWs = websocket::stream<ssl::stream<beast::tcp_stream>>;

constexpr char kToken[] = "tok-secret";

// ---------------------------------------------------------------------------
// The fake pinholed tunnel endpoint.

struct Seen {
  std::string target;
  std::string authorization;
};

// What to do with one accepted connection: refuse the upgrade with `status`
// and `body`, or accept it and run `script` (plain) / `tls_script` (TLS).
struct Reply {
  int status = 101;
  std::string body;
  std::function<void(PlainWs&)> script;
  std::function<void(TlsWs&)> tls_script;
};

Reply Refuse(int status, std::string body) { return Reply{status, std::move(body), {}, {}}; }

class FakeServer {
 public:
  explicit FakeServer(std::vector<Reply> replies, ssl::context* tls = nullptr)
      : replies_(std::move(replies)),
        tls_(tls),
        acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Loop(); });
  }
  ~FakeServer() {
    stopping_ = true;
    {  // unblock accept()
      net::io_context ioc;
      tcp::socket poke(ioc);
      boost::system::error_code ignored;
      poke.connect({net::ip::make_address("127.0.0.1"), port_}, ignored);
    }
    thread_.join();
    for (auto& t : workers_) t.join();
  }

  std::string url(const std::string& path = "") const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  uint16_t port() const { return port_; }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void Loop() {
    for (size_t i = 0; i < replies_.size(); ++i) {
      boost::system::error_code ec;
      tcp::socket socket = acceptor_.accept(ec);
      if (stopping_ || ec) return;
      workers_.emplace_back([this, i, s = std::move(socket)]() mutable {
        if (tls_) {
          TlsWs ws(std::move(s), *tls_);
          boost::system::error_code hec;
          ws.next_layer().handshake(ssl::stream_base::server, hec);
          if (!hec) Handle(ws, replies_[i], replies_[i].tls_script);
        } else {
          PlainWs ws(std::move(s));
          Handle(ws, replies_[i], replies_[i].script);
        }
      });
    }
  }

  template <class Ws>
  void Handle(Ws& ws, const Reply& reply, const std::function<void(Ws&)>& script) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    boost::system::error_code ec;
    http::read(ws.next_layer(), buffer, req, ec);
    if (ec) return;
    {
      std::lock_guard lock(mu_);
      seen_.push_back({std::string(req.target()), std::string(req[http::field::authorization])});
    }
    if (reply.status != 101) {
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = reply.body;
      res.prepare_payload();
      http::write(ws.next_layer(), res, ec);
      return;
    }
    ws.accept(req, ec);
    if (ec) return;
    if (script) script(ws);
  }

  std::vector<Reply> replies_;
  ssl::context* tls_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

// Reads one whole message; false at the end of the connection.
template <class Ws>
bool ReadMessage(Ws& ws, std::string& data, bool& text) {
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  ws.read(buffer, ec);
  if (ec) return false;
  data = beast::buffers_to_string(buffer.data());
  text = ws.got_text();
  return true;
}

template <class Ws>
void SendEof(Ws& ws) {
  ws.text(true);
  ws.write(net::buffer(std::string("eof")));
}

template <class Ws>
void SendBytes(Ws& ws, const std::string& data) {
  ws.binary(true);
  ws.write(net::buffer(data));
}

// The echo target: bytes come back; the client's eof is answered with eof
// and, both directions being done, a close 1000. Records the close code the
// client sent if the client closes first.
template <class Ws>
void Echo(Ws& ws, std::atomic<int>* client_close = nullptr) {
  std::string data;
  bool text = false;
  while (ReadMessage(ws, data, text)) {
    if (text) {
      if (data != "eof") continue;
      SendEof(ws);
      boost::system::error_code ec;
      ws.close(websocket::close_code::normal, ec);
      return;
    }
    SendBytes(ws, data);
  }
  if (client_close != nullptr) *client_close = static_cast<int>(ws.reason().code);
}

// ---------------------------------------------------------------------------
// The local side: two pipes, like a process's stdin and stdout.

class Stdio {
 public:
  Stdio() {
    EXPECT_EQ(::pipe2(in_, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out_, O_CLOEXEC), 0);
  }
  ~Stdio() {
    for (int fd : {in_[1], out_[0]}) {
      if (fd >= 0) ::close(fd);
    }
  }
  // Given to Relay, which owns them from then on.
  int relay_in() const { return in_[0]; }
  int relay_out() const { return out_[1]; }

  void Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(in_[1], data.data() + done, data.size() - done);
      ASSERT_GT(n, 0) << std::strerror(errno);
      done += static_cast<size_t>(n);
    }
  }
  void CloseInput() {
    ::close(in_[1]);
    in_[1] = -1;
  }
  // Reads until `want` bytes arrived, end-of-file, or a 10 s silence.
  std::string Read(size_t want = SIZE_MAX, bool* eof = nullptr) {
    std::string got;
    char buf[65536];
    while (got.size() < want) {
      pollfd p{out_[0], POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) {
        ADD_FAILURE() << "timed out reading the relay's output after " << got.size() << " bytes";
        break;
      }
      ssize_t n = ::read(out_[0], buf, std::min(sizeof buf, want - got.size()));
      if (n <= 0) {
        if (eof != nullptr) *eof = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }

 private:
  int in_[2] = {-1, -1};
  int out_[2] = {-1, -1};
};

TunnelServer ServerAt(const std::string& url) {
  TunnelServer s;
  s.url = url;
  s.token = kToken;
  s.transport.connect_timeout = std::chrono::seconds(5);
  return s;
}

// Runs Relay on a thread so the test can play the local application.
class RelayThread {
 public:
  RelayThread(Tunnel& tunnel, Stdio& io)
      : thread_([this, &tunnel, &io] { end_ = tunnel.Relay(io.relay_in(), io.relay_out()); }) {}
  ~RelayThread() {
    if (thread_.joinable()) thread_.join();
  }
  TunnelEnd Wait() {
    thread_.join();
    return end_;
  }

 private:
  TunnelEnd end_;
  std::thread thread_;
};

class TunnelClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
};

// ---------------------------------------------------------------------------

TEST_F(TunnelClientTest, EchoesBinarySafelyAndEndsWithClose1000) {
  FakeServer server({Reply{101, "", [](PlainWs& ws) { Echo(ws); }, {}}});
  Tunnel tunnel(ServerAt(server.url()));
  ASSERT_TRUE(tunnel.Connect("ssh").ok());
  Stdio io;
  RelayThread relay(tunnel, io);

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  io.Write(all_bytes);
  EXPECT_EQ(io.Read(all_bytes.size()), all_bytes);  // arrives before any eof: no buffering

  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  std::thread writer([&] {
    io.Write(big);
    io.CloseInput();
  });
  bool eof = false;
  std::string echoed = io.Read(SIZE_MAX, &eof);
  writer.join();
  EXPECT_TRUE(eof);
  EXPECT_EQ(echoed.size(), big.size());
  EXPECT_TRUE(echoed == big);

  TunnelEnd end = relay.Wait();
  EXPECT_EQ(end.cause, TunnelEnd::Cause::kClosed) << DescribeEnd(end);
  EXPECT_EQ(end.close_code, 1000);
  EXPECT_EQ(end.bytes_up, all_bytes.size() + big.size());
  EXPECT_EQ(end.bytes_down, all_bytes.size() + big.size());
  EXPECT_EQ(ExitStatusFor(end), kExitOk);

  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].target, "/api/v1/tunnel?service=ssh");
  EXPECT_EQ(server.seen()[0].authorization, std::string("Bearer ") + kToken);
}

TEST_F(TunnelClientTest, AfterOurEofTheServerMayStillSend) {
  std::string received;
  FakeServer server({Reply{101,
                           "",
                           [&](PlainWs& ws) {
                             std::string data;
                             bool text = false;
                             while (ReadMessage(ws, data, text) && !(text && data == "eof")) {
                               received += data;
                             }
                             // The client is done sending; answer afterwards.
                             SendBytes(ws, "you said " + received);
                             SendEof(ws);
                             boost::system::error_code ec;
                             ws.close(websocket::close_code::normal, ec);
                           },
                           {}}});
  Tunnel tunnel(ServerAt(server.url("/base/")));
  ASSERT_TRUE(tunnel.Connect("my svc/x").ok());
  Stdio io;
  RelayThread relay(tunnel, io);
  io.Write("hello");
  io.CloseInput();
  bool eof = false;
  EXPECT_EQ(io.Read(SIZE_MAX, &eof), "you said hello");
  EXPECT_TRUE(eof);
  TunnelEnd end = relay.Wait();
  EXPECT_EQ(ExitStatusFor(end), kExitOk) << DescribeEnd(end);
  EXPECT_EQ(received, "hello");
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].target, "/base/api/v1/tunnel?service=my%20svc%2Fx");
}

TEST_F(TunnelClientTest, ServerEofClosesOurOutputButWeKeepSending) {
  std::string received;
  FakeServer server({Reply{101,
                           "",
                           [&](PlainWs& ws) {
                             SendBytes(ws, "banner\n");
                             SendEof(ws);
                             std::string data;
                             bool text = false;
                             while (ReadMessage(ws, data, text) && !(text && data == "eof")) {
                               received += data;
                             }
                             boost::system::error_code ec;
                             ws.close(websocket::close_code::normal, ec);
                           },
                           {}}});
  Tunnel tunnel(ServerAt(server.url()));
  ASSERT_TRUE(tunnel.Connect("ssh").ok());
  Stdio io;
  RelayThread relay(tunnel, io);
  bool eof = false;
  EXPECT_EQ(io.Read(SIZE_MAX, &eof), "banner\n");
  EXPECT_TRUE(eof);  // half-closed: our output ended while the tunnel lives on
  io.Write("still talking");
  io.CloseInput();
  TunnelEnd end = relay.Wait();
  EXPECT_EQ(end.cause, TunnelEnd::Cause::kClosed);
  EXPECT_EQ(end.close_code, 1000);
  EXPECT_EQ(received, "still talking");
}

TEST_F(TunnelClientTest, LeaseEndedCloseIsANonZeroExitWithTheReason) {
  FakeServer server({Reply{101,
                           "",
                           [](PlainWs& ws) {
                             std::string data;
                             bool text = false;
                             ReadMessage(ws, data, text);  // some traffic first
                             SendBytes(ws, "ack");
                             boost::system::error_code ec;
                             ws.close(websocket::close_reason(
                                          static_cast<websocket::close_code>(4001), "lease ended"),
                                      ec);
                           },
                           {}}});
  Tunnel tunnel(ServerAt(server.url()));
  ASSERT_TRUE(tunnel.Connect("ssh").ok());
  Stdio io;
  RelayThread relay(tunnel, io);
  io.Write("x");
  EXPECT_EQ(io.Read(), "ack");  // then end-of-file, stdin still open
  TunnelEnd end = relay.Wait();
  EXPECT_EQ(end.cause, TunnelEnd::Cause::kClosed);
  EXPECT_EQ(end.close_code, 4001);
  EXPECT_EQ(end.close_reason, "lease ended");
  EXPECT_EQ(ExitStatusFor(end), kExitRefused);
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: lease ended (4001)");
}

TEST_F(TunnelClientTest, DroppedConnectionIsConnectionLost) {
  FakeServer server({Reply{101,
                           "",
                           [](PlainWs& ws) {
                             SendBytes(ws, "partial");
                             boost::system::error_code ec;
                             beast::get_lowest_layer(ws).socket().shutdown(
                                 tcp::socket::shutdown_both, ec);
                             beast::get_lowest_layer(ws).close();
                           },
                           {}}});
  Tunnel tunnel(ServerAt(server.url()));
  ASSERT_TRUE(tunnel.Connect("ssh").ok());
  Stdio io;
  RelayThread relay(tunnel, io);
  EXPECT_EQ(io.Read(), "partial");
  TunnelEnd end = relay.Wait();
  EXPECT_EQ(end.cause, TunnelEnd::Cause::kConnectionLost) << DescribeEnd(end);
  EXPECT_EQ(ExitStatusFor(end), kExitUnreachable);
  EXPECT_EQ(DescribeEnd(end).rfind("tunnel connection lost: ", 0), 0u) << DescribeEnd(end);
}

TEST_F(TunnelClientTest, StopClosesWithGoingAway) {
  std::atomic<int> client_close{0};
  std::optional<FakeServer> server;
  server.emplace(
      std::vector<Reply>{Reply{101, "", [&](PlainWs& ws) { Echo(ws, &client_close); }, {}}});
  Tunnel tunnel(ServerAt(server->url()));
  ASSERT_TRUE(tunnel.Connect("ssh").ok());
  Stdio io;
  RelayThread relay(tunnel, io);
  io.Write("ping");
  EXPECT_EQ(io.Read(4), "ping");
  tunnel.Stop();
  TunnelEnd end = relay.Wait();
  EXPECT_EQ(end.cause, TunnelEnd::Cause::kStopped);
  EXPECT_EQ(ExitStatusFor(end), kExitOk);
  server.reset();  // joins the script, which saw the close
  EXPECT_EQ(client_close.load(), 1001);
  // A stopped tunnel does not connect again.
  EXPECT_EQ(tunnel.Connect("ssh").reason(), "stopped");
}

// ---------------------------------------------------------------------------
// Refusals before the upgrade.

TEST_F(TunnelClientTest, RefusalsBecomeTheServersApiErrors) {
  struct Case {
    int status;
    std::string body;
    Code code;
    std::string reason;
    std::string message;
  };
  const std::vector<Case> cases = {
      {403,
       R"({"error":{"code":"no_lease","message":"no active lease for ssh; request one with `pinhole open ssh` or use --open"}})",
       Code::kPermissionDenied, "no_lease",
       "no active lease for ssh; request one with `pinhole open ssh` or use --open"},
      {429, R"({"error":{"code":"too_many_tunnels","message":"you have 16 tunnels open"}})",
       Code::kResourceExhausted, "too_many_tunnels", "you have 16 tunnels open"},
      {502,
       R"({"error":{"code":"target_unreachable","message":"cannot reach 10.0.0.5:22: Connection refused"}})",
       Code::kUnavailable, "target_unreachable", "cannot reach 10.0.0.5:22: Connection refused"},
      {401, R"({"error":{"code":"unauthenticated","message":"sign in first"}})",
       Code::kUnauthenticated, "unauthenticated", "sign in first"},
      {422, R"({"error":{"code":"not_a_tunnel","message":"web is not a tunnel service"}})",
       Code::kInvalidArgument, "not_a_tunnel", "web is not a tunnel service"},
      {502, "<html>Bad Gateway</html>", Code::kUnavailable, "http_502",
       "server replied with HTTP 502"},
  };
  for (const Case& c : cases) {
    FakeServer server({Refuse(c.status, c.body)});
    Tunnel tunnel(ServerAt(server.url()));
    Status st = tunnel.Connect("ssh");
    ASSERT_FALSE(st.ok()) << c.status;
    EXPECT_EQ(st.code(), c.code) << c.body;
    EXPECT_EQ(st.reason(), c.reason);
    EXPECT_EQ(st.message(), c.message);
    // The reason is not "unreachable": a refusal is not a network problem.
    EXPECT_NE(st.reason(), "unreachable");
  }
}

TEST_F(TunnelClientTest, UnreachableServerAndBadUrls) {
  uint16_t closed_port;
  {
    net::io_context ioc;
    tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    closed_port = a.local_endpoint().port();
  }
  Tunnel tunnel(ServerAt("http://127.0.0.1:" + std::to_string(closed_port)));
  Status st = tunnel.Connect("ssh");
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(st.reason(), "unreachable");
  EXPECT_NE(st.message().find("cannot connect to 127.0.0.1:"), std::string::npos) << st.message();

  for (const char* url :
       {"ftp://x", "http://", "http://host:99999", "http://u@host", "nonsense", "http://[::1"}) {
    Tunnel bad(ServerAt(url));
    Status s = bad.Connect("ssh");
    EXPECT_EQ(s.reason(), "invalid_server") << url;
  }
}

TEST_F(TunnelClientTest, OpenRequestsALeaseAndRetriesOnce) {
  const std::string no_lease =
      R"({"error":{"code":"no_lease","message":"no active lease for ssh"}})";
  {
    FakeServer server({Refuse(403, no_lease), Reply{101, "", [](PlainWs& ws) { Echo(ws); }, {}}});
    Tunnel tunnel(ServerAt(server.url()));
    int leases = 0;
    Status st = ConnectWithLease(tunnel, "ssh", [&] {
      ++leases;
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(leases, 1);
    Stdio io;
    RelayThread relay(tunnel, io);
    io.Write("after lease");
    io.CloseInput();
    EXPECT_EQ(io.Read(), "after lease");
    EXPECT_EQ(ExitStatusFor(relay.Wait()), kExitOk);
    EXPECT_EQ(server.seen().size(), 2u);
  }
  {  // Still refused after the lease: one retry only.
    FakeServer server({Refuse(403, no_lease), Refuse(403, no_lease), Refuse(403, no_lease)});
    Tunnel tunnel(ServerAt(server.url()));
    int leases = 0;
    Status st = ConnectWithLease(tunnel, "ssh", [&] {
      ++leases;
      return Status::Ok();
    });
    EXPECT_EQ(st.reason(), "no_lease");
    EXPECT_EQ(leases, 1);
    EXPECT_EQ(server.seen().size(), 2u);
  }
  {  // The lease request fails: its error, no retry.
    FakeServer server({Refuse(403, no_lease), Refuse(403, no_lease)});
    Tunnel tunnel(ServerAt(server.url()));
    Status st = ConnectWithLease(tunnel, "ssh", [] {
      return Status::Denied("not_permitted", "no policy lets you open ssh");
    });
    EXPECT_EQ(st.reason(), "not_permitted");
    EXPECT_EQ(server.seen().size(), 1u);
  }
  {  // Without --open the refusal stands; other refusals never trigger it.
    FakeServer server({Refuse(403, no_lease),
                       Refuse(429, R"({"error":{"code":"too_many_tunnels","message":"m"}})")});
    Tunnel tunnel(ServerAt(server.url()));
    EXPECT_EQ(ConnectWithLease(tunnel, "ssh", nullptr).reason(), "no_lease");
    int leases = 0;
    Status st = ConnectWithLease(tunnel, "ssh", [&] {
      ++leases;
      return Status::Ok();
    });
    EXPECT_EQ(st.reason(), "too_many_tunnels");
    EXPECT_EQ(leases, 0);
  }
}

TEST(TunnelEndTest, ExitStatusAndDescriptions) {
  TunnelEnd end;
  end.cause = TunnelEnd::Cause::kClosed;
  end.close_code = 1000;
  EXPECT_EQ(ExitStatusFor(end), kExitOk);
  for (int code : {1001, 1011, 4001, 4002, 1005}) {
    end.close_code = code;
    EXPECT_EQ(ExitStatusFor(end), kExitRefused) << code;
  }
  end.close_code = 1011;
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: target error (1011)");
  end.close_code = 4002;
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: idle timeout (4002)");
  end.close_code = 1001;
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: server shutting down (1001)");
  end.close_code = 4999;
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: close code 4999 (4999)");
  end.close_reason = "custom words";
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: custom words (4999)");
  end = TunnelEnd{};
  end.cause = TunnelEnd::Cause::kLocalError;
  end.error = "cannot write local output: Broken pipe";
  EXPECT_EQ(ExitStatusFor(end), kExitRefused);
  EXPECT_EQ(DescribeEnd(end), "tunnel closed: cannot write local output: Broken pipe");
  end.cause = TunnelEnd::Cause::kConnectionLost;
  end.error = "timeout";
  EXPECT_EQ(ExitStatusFor(end), kExitUnreachable);
  end.cause = TunnelEnd::Cause::kStopped;
  EXPECT_EQ(ExitStatusFor(end), kExitOk);
}

// ---------------------------------------------------------------------------
// TLS, with real certificate verification.

struct TestCert {
  std::string cert_file;
  std::string key_file;
};

// A self-signed certificate for `san` (e.g. "IP:127.0.0.1"), written to `dir`.
TestCert MakeCert(const std::filesystem::path& dir, const std::string& name, const char* san) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key != nullptr && x != nullptr;
  ok = ok && X509_set_version(x, 2) == 1;
  ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), 7) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -300) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 3600) != nullptr;
  ok = ok && X509_set_pubkey(x, key) == 1;
  X509_NAME* subject = ok ? X509_get_subject_name(x) : nullptr;
  ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("pinhole test"), -1,
                                        -1, 0) == 1;
  ok = ok && X509_set_issuer_name(x, subject) == 1;
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    if (!ok) break;
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  TestCert files{(dir / (name + ".crt")).string(), (dir / (name + ".key")).string()};
  if (ok) {
    BIO* c = BIO_new_file(files.cert_file.c_str(), "w");
    BIO* k = BIO_new_file(files.key_file.c_str(), "w");
    ok = c != nullptr && k != nullptr && PEM_write_bio_X509(c, x) == 1 &&
         PEM_write_bio_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    BIO_free(c);
    BIO_free(k);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  EXPECT_TRUE(ok) << "could not make a test certificate";
  return files;
}

std::unique_ptr<ssl::context> ServerTls(const TestCert& cert) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->use_certificate_chain_file(cert.cert_file);
  ctx->use_private_key_file(cert.key_file, ssl::context::pem);
  return ctx;
}

TEST_F(TunnelClientTest, TlsVerifiesTheServerCertificate) {
  TempDir dir;
  TestCert good = MakeCert(dir.path(), "good", "IP:127.0.0.1");
  auto tls = ServerTls(good);
  {  // Trusted through --cacert: the tunnel works.
    FakeServer server({Reply{101, "", {}, [](TlsWs& ws) { Echo(ws); }}}, tls.get());
    TunnelServer s = ServerAt(server.url());
    s.transport.ca_file = good.cert_file;
    Tunnel tunnel(s);
    ASSERT_TRUE(tunnel.Connect("ssh").ok());
    Stdio io;
    RelayThread relay(tunnel, io);
    io.Write("over tls");
    io.CloseInput();
    EXPECT_EQ(io.Read(), "over tls");
    TunnelEnd end = relay.Wait();
    EXPECT_EQ(end.close_code, 1000) << DescribeEnd(end);
  }
  {  // Not in the system store: refused, and the reason says why.
    FakeServer server({Reply{101, "", {}, [](TlsWs& ws) { Echo(ws); }}}, tls.get());
    Tunnel tunnel(ServerAt(server.url()));
    Status st = tunnel.Connect("ssh");
    EXPECT_EQ(st.reason(), "unreachable");
    EXPECT_NE(st.message().find("certificate"), std::string::npos) << st.message();
    EXPECT_TRUE(server.seen().empty());  // the token was never sent
  }
  {  // Trusted, but issued for another name.
    TestCert other = MakeCert(dir.path(), "other", "DNS:elsewhere.example");
    auto other_tls = ServerTls(other);
    FakeServer server({Reply{101, "", {}, [](TlsWs& ws) { Echo(ws); }}}, other_tls.get());
    TunnelServer s = ServerAt(server.url());
    s.transport.ca_file = other.cert_file;
    Tunnel tunnel(s);
    Status st = tunnel.Connect("ssh");
    EXPECT_EQ(st.reason(), "unreachable");
    EXPECT_NE(st.message().find("mismatch"), std::string::npos) << st.message();
    EXPECT_TRUE(server.seen().empty());
  }
  {  // --insecure skips verification.
    FakeServer server({Refuse(403, R"({"error":{"code":"no_lease","message":"m"}})")}, tls.get());
    TunnelServer s = ServerAt(server.url());
    s.transport.insecure = true;
    Tunnel tunnel(s);
    EXPECT_EQ(tunnel.Connect("ssh").reason(), "no_lease");
  }
  {  // A CA file that cannot be read.
    TunnelServer s = ServerAt("https://127.0.0.1:1");
    s.transport.ca_file = (dir.path() / "missing.pem").string();
    Tunnel tunnel(s);
    EXPECT_EQ(tunnel.Connect("ssh").reason(), "bad_ca_file");
  }
}

// ---------------------------------------------------------------------------
// The listener of `pinhole tunnel`.

// Connects to 127.0.0.1:port, sends `data`, half-closes, reads to the end.
std::string RoundTrip(uint16_t port, const std::string& data) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::send(fd, data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
  ::shutdown(fd, SHUT_WR);
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) {
      ADD_FAILURE() << "timed out";
      break;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST_F(TunnelClientTest, ListenerServesEachConnectionAndLogsRefusals) {
  FakeServer server(
      {Reply{101, "", [](PlainWs& ws) { Echo(ws); }, {}},
       Refuse(429, R"({"error":{"code":"too_many_tunnels","message":"limit reached"}})"),
       Reply{101, "", [](PlainWs& ws) { Echo(ws); }, {}}});
  std::mutex log_mu;
  std::vector<std::string> log;
  TunnelListener::Options options;
  options.server = ServerAt(server.url());
  options.service = "db";
  options.log = [&](const std::string& line) {
    std::lock_guard lock(log_mu);
    log.push_back(line);
  };
  TunnelListener listener(options);
  ASSERT_TRUE(listener.Listen().ok());
  ASSERT_NE(listener.port(), 0);
  std::thread runner([&] { listener.Run(); });

  EXPECT_EQ(RoundTrip(listener.port(), "first"), "first");
  EXPECT_EQ(RoundTrip(listener.port(), "refused"), "");  // closed at once, nothing relayed
  EXPECT_EQ(RoundTrip(listener.port(), "third"), "third");

  listener.Stop();
  runner.join();
  ASSERT_EQ(server.seen().size(), 3u);
  EXPECT_EQ(server.seen()[2].target, "/api/v1/tunnel?service=db");
  std::lock_guard lock(log_mu);
  bool logged_refusal = false;
  for (const auto& line : log) {
    if (line.find("refused: limit reached (too_many_tunnels)") != std::string::npos) {
      logged_refusal = true;
    }
  }
  EXPECT_TRUE(logged_refusal);
}

TEST_F(TunnelClientTest, ListenerStopEndsOpenTunnels) {
  std::atomic<int> client_close{0};
  FakeServer server({Reply{101, "", [&](PlainWs& ws) { Echo(ws, &client_close); }, {}}});
  TunnelListener::Options options;
  options.server = ServerAt(server.url());
  options.service = "db";
  TunnelListener listener(options);
  ASSERT_TRUE(listener.Listen().ok());
  std::thread runner([&] { listener.Run(); });

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(listener.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(fd, "hi", 2, MSG_NOSIGNAL), 2);
  char buf[8];
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10000), 1);
  ASSERT_EQ(::recv(fd, buf, sizeof buf, 0), 2);  // the tunnel is up

  listener.Stop();
  runner.join();  // returns although the local client never closed
  EXPECT_EQ(::recv(fd, buf, sizeof buf, 0), 0);
  ::close(fd);
}

TEST_F(TunnelClientTest, ListenerReportsBadAddressesAndBusyPorts) {
  TunnelListener::Options options;
  options.server = ServerAt("http://127.0.0.1:1");
  options.service = "db";
  options.bind_address = "not-an-ip";
  TunnelListener bad(options);
  Status st = bad.Listen();
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.reason(), "listen_failed");

  net::io_context ioc;
  tcp::acceptor taken(ioc, {net::ip::make_address("127.0.0.1"), 0});
  options.bind_address = "127.0.0.1";
  options.port = taken.local_endpoint().port();
  TunnelListener busy(options);
  st = busy.Listen();
  EXPECT_EQ(st.reason(), "listen_failed");
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(options.port)), std::string::npos);
}

// ---------------------------------------------------------------------------
// The commands, on paths that end before the relay (which would take over
// this process's stdin and stdout).

class Forwarding final : public HttpClient {
 public:
  explicit Forwarding(HttpClient* target) : target_(target) {}
  Result<HttpResponse> Send(const HttpRequest& r) override { return target_->Send(r); }

 private:
  HttpClient* target_;
};

class TunnelCommandTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    std::istringstream in;
    Context ctx(
        env_, out_, err_, in,
        [this](const TransportOptions&) { return std::make_unique<Forwarding>(&http_); }, clock_);
    std::vector<const char*> argv = {"pinhole"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return RunCli(static_cast<int>(argv.size()), argv.data(), ctx);
  }
  void WriteHosts(const std::string& text) {
    std::filesystem::create_directories(home_.path() / ".config" / "pinhole");
    std::ofstream(home_.path() / ".config" / "pinhole" / "hosts") << text;
  }

  ManualClock clock_{Time(std::chrono::seconds(1795253400))};
  TempDir home_;
  Environment env_{std::nullopt, std::string(kToken), std::nullopt, home_.path().string()};
  FakeHttpClient http_;
  std::ostringstream out_, err_;
};

constexpr char kNoLease[] =
    R"({"error":{"code":"no_lease","message":"no active lease for lab-ssh; request one with `pinhole open lab-ssh` or use --open"}})";

TEST_F(TunnelCommandTest, ConnectMapsTheHostAndPrintsTheRefusal) {
  WriteHosts("# lab machines\n*.lab  lab-ssh\n");
  FakeServer server({Refuse(403, kNoLease)});
  EXPECT_EQ(Run({"connect", "box7.lab", "--server", server.url()}), kExitRefused);
  EXPECT_EQ(out_.str(), "");  // stdout carries relayed bytes only
  EXPECT_EQ(err_.str(),
            "pinhole: no active lease for lab-ssh; request one with `pinhole open lab-ssh` or use "
            "--open (no_lease)\n");
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].target, "/api/v1/tunnel?service=lab-ssh");
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(TunnelCommandTest, ConnectWithOpenRequestsALeaseThenRetries) {
  FakeServer server(
      {Refuse(403, kNoLease),
       Refuse(
           502,
           R"({"error":{"code":"target_unreachable","message":"cannot reach 10.0.0.5:22: timed out"}})")});
  http_.Reply(201, R"({"id":"L7","state":"active","expires_at":"2026-11-21T10:30:00Z"})");
  EXPECT_EQ(Run({"connect", "ssh", "--open", "--server", server.url()}), kExitRefused);
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(http_.requests()[0].method, "POST");
  EXPECT_EQ(http_.requests()[0].url, server.url() + "/api/v1/leases");
  EXPECT_EQ(nlohmann::json::parse(http_.requests()[0].body),
            nlohmann::json::parse(R"({"services":["ssh"]})"));
  EXPECT_EQ(http_.Header(0, "Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(server.seen().size(), 2u);
  EXPECT_NE(err_.str().find("pinhole: opened lease L7 for ssh"), std::string::npos) << err_.str();
  EXPECT_NE(err_.str().find("cannot reach 10.0.0.5:22: timed out (target_unreachable)"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(TunnelCommandTest, ConnectWithOpenStopsAtALeaseAwaitingApproval) {
  FakeServer server({Refuse(403, kNoLease), Refuse(403, kNoLease)});
  http_.Reply(201, R"({"id":"L8","state":"pending_approval"})");
  EXPECT_EQ(Run({"connect", "ssh", "--open", "--server", server.url()}), kExitRefused);
  EXPECT_EQ(server.seen().size(), 1u);  // no pointless retry
  EXPECT_NE(err_.str().find("lease L8 for ssh is waiting for an admin's approval"),
            std::string::npos)
      << err_.str();
}

TEST_F(TunnelCommandTest, BadHostsFileAndUsageErrors) {
  WriteHosts("*.lab\n");
  EXPECT_EQ(Run({"connect", "x.lab", "--server", "http://127.0.0.1:1"}), kExitUsage);
  EXPECT_NE(err_.str().find("hosts:1: expected `HOST SERVICE`, found 1 field"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Run({"tunnel", "db"}), kExitUsage);
  EXPECT_NE(err_.str().find("--local-port"), std::string::npos);
  EXPECT_EQ(Run({"tunnel", "db", "--local-port", "70000"}), kExitUsage);
  EXPECT_EQ(Run({"tunnel", "db", "--local-port", "0", "--bind", "nowhere", "--server",
                 "http://127.0.0.1:1"}),
            kExitUsage);
  EXPECT_NE(err_.str().find("invalid bind address"), std::string::npos) << err_.str();
}

}  // namespace
}  // namespace pinhole::cli
