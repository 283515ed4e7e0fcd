// End-to-end tests of HttpServer over real sockets on the loopback interface.
// The client side is plain POSIX sockets (and OpenSSL for TLS) with receive
// timeouts, so a misbehaving server fails a test instead of hanging it.
#include "http/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/config.h"
#include "http/router.h"

namespace pinhole {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Response = http::response<http::string_body>;

constexpr int kClientTimeoutSeconds = 5;

// A blocking client connection, usable as a Beast SyncReadStream.
class Conn {
 public:
  // `address` as reported by BoundAddresses(): "127.0.0.1:P" or "[::1]:P".
  explicit Conn(const std::string& address, SSL_CTX* tls = nullptr) {
    Result<ListenAddress> a = ParseListenAddress(address);
    if (!a.ok()) return;
    sockaddr_storage ss{};
    socklen_t len;
    if (a->v6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(a->port);
      inet_pton(AF_INET6, a->host.c_str(), &s6->sin6_addr);
      len = sizeof(*s6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(a->port);
      inet_pton(AF_INET, a->host.c_str(), &s4->sin_addr);
      len = sizeof(*s4);
    }
    fd_ = ::socket(ss.ss_family, SOCK_STREAM, 0);
    timeval tv{kClientTimeoutSeconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    if (tls != nullptr) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      handshake_ok_ = SSL_connect(ssl_) == 1 && SSL_get_verify_result(ssl_) == X509_V_OK;
    }
  }
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool handshake_ok() const { return handshake_ok_; }
  SSL* ssl() const { return ssl_; }

  uint16_t local_port() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ssl_ != nullptr ? SSL_write(ssl_, data.data(), static_cast<int>(data.size()))
                                  : ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response; `head` for a response to HEAD (no body follows).
  Response Read(error_code& ec, bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(16 << 20);
    if (head) parser.skip(true);
    http::read(*this, buffer_, parser, ec);
    return parser.release();
  }
  Response Read(bool head = false) {
    error_code ec;
    Response r = Read(ec, head);
    EXPECT_FALSE(ec) << ec.message();
    return r;
  }

  // True if the server closed the connection (EOF) within the timeout.
  bool SeesEof() {
    if (buffer_.size() > 0) return false;
    char c;
    ssize_t n = ssl_ != nullptr ? SSL_read(ssl_, &c, 1) : ::recv(fd_, &c, 1, 0);
    if (n == 0) return true;
    if (n < 0 && ssl_ == nullptr) return errno == ECONNRESET;
    if (n < 0) {
      int err = SSL_get_error(ssl_, static_cast<int>(n));
      // EOF without close_notify, or a reset, also mean closed.
      return err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL;
    }
    return false;
  }

  // SyncReadStream for beast::http::read.
  template <class Buffers>
  size_t read_some(const Buffers& buffers, error_code& ec) {
    auto buf = *boost::asio::buffer_sequence_begin(buffers);
    ssize_t n;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
    } else {
      n = ::recv(fd_, buf.data(), buf.size(), 0);
      if (n == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (n < 0) {
        ec = error_code(errno, boost::system::system_category());
        return 0;
      }
    }
    return static_cast<size_t>(n);
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  bool handshake_ok_ = false;
  beast::flat_buffer buffer_;
};

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

std::string Post(std::string_view path, std::string_view body, std::string_view extra = "") {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n" + std::string(extra) + "\r\n" +
         std::string(body);
}

std::string ErrorCode(const Response& r) {
  nlohmann::json j = nlohmann::json::parse(r.body(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("error")) return "<not a JSON error: " + r.body() + ">";
  return j["error"].value("code", "");
}

void ExpectSecurityHeaders(const Response& r, bool tls) {
  EXPECT_EQ(r["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(r["X-Frame-Options"], "DENY");
  EXPECT_EQ(r["Referrer-Policy"], "no-referrer");
  if (tls) {
    EXPECT_THAT(std::string(r["Strict-Transport-Security"]), StartsWith("max-age="));
  } else {
    EXPECT_EQ(r.count("Strict-Transport-Security"), 0u);
  }
}

HttpServerOptions ListenOn(std::string address) {
  HttpServerOptions o;
  o.listen = {std::move(address)};
  return o;
}

bool Ipv6LoopbackAvailable() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    if (options.listen.empty()) options.listen = {"127.0.0.1:0"};
    server_ = NewHttpServer(std::move(options), [this](const HttpRequest& r) { return Handle(r); });
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_FALSE(server_->BoundAddresses().empty());
    address_ = server_->BoundAddresses()[0];
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  HttpResponse Handle(const HttpRequest& r) {
    ++calls_;
    {
      std::lock_guard lock(mu_);
      last_ = r;
    }
    HttpResponse out;
    if (r.path == "/boom") throw std::runtime_error("boom");
    if (r.path == "/boom-int") throw 42;
    if (r.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
    if (r.path == "/html") {
      out.content_type = "text/html; charset=utf-8";
      out.body = "<p>hi</p>";
      return out;
    }
    if (r.path == "/nocontent") {
      out.status = 204;
      return out;
    }
    if (r.path == "/headers") {
      out.headers = {{"Set-Cookie", "a=1; HttpOnly"},
                     {"Set-Cookie", "b=2; HttpOnly"},
                     {"X-Evil", "x\r\nInjected: yes"},
                     {"Content-Length", "999"},
                     {"X-Frame-Options", "SAMEORIGIN"}};
    }
    if (r.path == "/status") {
      out.status = std::stoi(r.query.count("s") ? r.query.at("s") : "200");
    }
    out.body = nlohmann::json{{"path", r.path}, {"size", r.body.size()}}.dump();
    return out;
  }

  HttpRequest Last() {
    std::lock_guard lock(mu_);
    return last_;
  }

  std::unique_ptr<HttpServer> server_;
  std::string address_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  HttpRequest last_;
};

TEST_F(ServerTest, FillsTheRequest) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(
      c.Send("POST /api/v1/a%20b/c?x=1&y=a%2Fb&x=2&q=a+b&flag HTTP/1.1\r\n"
             "Host: test\r\nX-Forwarded-For: 203.0.113.7\r\nX-Multi: one\r\nx-multi: two\r\n"
             "Content-Length: 5\r\n\r\nhello"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  HttpRequest req = Last();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/api/v1/a%20b/c?x=1&y=a%2Fb&x=2&q=a+b&flag");
  EXPECT_EQ(req.path, "/api/v1/a b/c");
  EXPECT_EQ(req.query.at("x"), "2");
  EXPECT_EQ(req.query.at("y"), "a/b");
  EXPECT_EQ(req.query.at("q"), "a b");
  EXPECT_EQ(req.query.at("flag"), "");
  EXPECT_EQ(req.headers.at("x-forwarded-for"), "203.0.113.7");
  EXPECT_EQ(req.headers.at("x-multi"), "one,two");
  EXPECT_EQ(req.Header("X-MULTI"), "one,two");
  EXPECT_EQ(req.Header("absent"), "");
  EXPECT_EQ(req.body, "hello");
  EXPECT_EQ(req.peer.ToString(), "127.0.0.1");
  EXPECT_EQ(req.peer_port, c.local_port());
  EXPECT_FALSE(req.tls);
}

TEST_F(ServerTest, ResponsesCarryLengthAndSecurityHeaders) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_EQ(r[http::field::cache_control], "no-store");
  EXPECT_EQ(r[http::field::content_length], std::to_string(r.body().size()));
  ExpectSecurityHeaders(r, /*tls=*/false);

  ASSERT_TRUE(c.Send(Get("/html")));
  r = c.Read();
  EXPECT_EQ(r[http::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(r.count(http::field::cache_control), 0u);
  EXPECT_EQ(r.body(), "<p>hi</p>");
  EXPECT_EQ(r[http::field::content_length], "9");
  ExpectSecurityHeaders(r, false);
}

TEST_F(ServerTest, ExtraHeadersAreSanitized) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/headers")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.count(http::field::set_cookie), 2u);
  EXPECT_EQ(r.count("X-Evil"), 0u);
  EXPECT_EQ(r.count("Injected"), 0u);
  EXPECT_EQ(r.count(http::field::content_length), 1u);
  EXPECT_EQ(r[http::field::content_length], std::to_string(r.body().size()));
  EXPECT_EQ(r.count("X-Frame-Options"), 1u);
  EXPECT_EQ(r["X-Frame-Options"], "SAMEORIGIN");
}

TEST_F(ServerTest, NoContentHasNoBodyOrLength) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/nocontent") + Get("/x")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 204);
  EXPECT_EQ(r.count(http::field::content_length), 0u);
  ExpectSecurityHeaders(r, false);
  // The pipelined second request is answered on the same connection.
  EXPECT_EQ(c.Read().result_int(), 200);
}

TEST_F(ServerTest, HeadOmitsBodyButKeepsLength) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/x")));
  Response head = c.Read(/*head=*/true);
  EXPECT_EQ(head.result_int(), 200);
  Response get = c.Read();
  EXPECT_EQ(get.result_int(), 200);
  EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
  EXPECT_TRUE(head.body().empty());
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer({});
  Conn c(address_);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c.Send(Post("/api/v1/leases", "{\"n\":" + std::to_string(i) + "}")));
    Response r = c.Read();
    ASSERT_EQ(r.result_int(), 200);
    EXPECT_TRUE(r.keep_alive());
    EXPECT_EQ(Last().peer_port, c.local_port());
  }
  EXPECT_EQ(calls_.load(), 20);
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x", "Connection: close\r\n")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(c.SeesEof());
}

TEST_F(ServerTest, Http10ClosesByDefault) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send("GET /x HTTP/1.0\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.version(), 10u);
  EXPECT_TRUE(c.SeesEof());
}

TEST_F(ServerTest, BodyAtTheLimitIsAccepted) {
  StartServer({});
  Conn c(address_);
  std::string body(64 * 1024, 'a');
  ASSERT_TRUE(c.Send(Post("/big", body)));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(Last().body.size(), body.size());
}

TEST_F(ServerTest, OversizedBodyIs413AndHandlerNotCalled) {
  StartServer({});
  for (size_t size : {size_t{64 * 1024 + 1}, size_t{65 * 1024 + 1}, size_t{1 << 20}}) {
    Conn c(address_);
    ASSERT_TRUE(c.Send(Post("/big", std::string(size, 'a')))) << size;
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 413) << size;
    EXPECT_EQ(ErrorCode(r), "body_too_large");
    EXPECT_EQ(r[http::field::content_length], std::to_string(r.body().size()));
    ExpectSecurityHeaders(r, false);
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(c.SeesEof());
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  StartServer({});
  Conn c(address_);
  std::string chunk(40 * 1024, 'b');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  std::string req = "POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  req += size_line + chunk + "\r\n" + size_line + chunk + "\r\n0\r\n\r\n";
  ASSERT_TRUE(c.Send(req));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_EQ(ErrorCode(r), "body_too_large");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, HugeContentLengthRejectedBeforeAnyBodyIsSent) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(
      c.Send("POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000000\r\nExpect: "
             "100-continue\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, ExpectContinue) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(
      c.Send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  Response cont = c.Read();
  EXPECT_EQ(cont.result_int(), 100);
  ASSERT_TRUE(c.Send("abcd"));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(Last().body, "abcd");
}

TEST_F(ServerTest, GarbageIs400) {
  StartServer({});
  for (std::string garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /x HTTP/1.1\r\nNo colon here\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        std::string("GET /x HTTP/9.9\r\n\r\n"), std::string("GET /x HTTP/2.0\r\n\r\n"),
        std::string("GET /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        std::string("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
        std::string("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string("GET /a%zz HTTP/1.1\r\n\r\n"), std::string("GET /a%00b HTTP/1.1\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n"}) {
    Conn c(address_);
    ASSERT_TRUE(c.Send(garbage));
    error_code ec;
    Response r = c.Read(ec);
    ASSERT_FALSE(ec) << ec.message() << " for " << garbage;
    EXPECT_EQ(r.result_int(), 400) << garbage;
    EXPECT_EQ(ErrorCode(r), "bad_request") << garbage;
    ExpectSecurityHeaders(r, false);
    EXPECT_TRUE(c.SeesEof()) << garbage;
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, OversizedHeadersAre431) {
  HttpServerOptions o;
  o.max_header_bytes = 4096;
  StartServer(o);
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x", "X-Big: " + std::string(8192, 'h') + "\r\n")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 431);
  EXPECT_EQ(ErrorCode(r), "headers_too_large");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(ServerTest, HandlerExceptionIs500AndServingContinues) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/boom")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_EQ(ErrorCode(r), "internal");
  EXPECT_THAT(r.body(), ::testing::Not(HasSubstr("boom")));  // no internals leak
  ExpectSecurityHeaders(r, false);
  ASSERT_TRUE(c.Send(Get("/boom-int")));
  EXPECT_EQ(c.Read().result_int(), 500);
  // Same connection, then a fresh one.
  ASSERT_TRUE(c.Send(Get("/fine")));
  EXPECT_EQ(c.Read().result_int(), 200);
  Conn d(address_);
  ASSERT_TRUE(d.Send(Get("/fine")));
  EXPECT_EQ(d.Read().result_int(), 200);
}

TEST_F(ServerTest, InvalidStatusFromHandlerIs500) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/status?s=1000")));
  EXPECT_EQ(c.Read().result_int(), 500);
  ASSERT_TRUE(c.Send(Get("/status?s=422")));
  EXPECT_EQ(c.Read().result_int(), 422);
}

TEST_F(ServerTest, IdleConnectionsAreClosed) {
  HttpServerOptions o;
  o.idle_timeout = std::chrono::seconds(1);
  StartServer(o);
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x")));
  EXPECT_EQ(c.Read().result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.SeesEof());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  // A half-sent request is cut off too (slowloris).
  Conn d(address_);
  ASSERT_TRUE(d.Send("GET /x HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(d.SeesEof());
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(ServerTest, ConcurrentKeepAliveClients) {
  HttpServerOptions o;
  o.threads = 4;
  StartServer(o);
  constexpr int kClients = 8;
  constexpr int kRequests = 100;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      Conn c(address_);
      for (int j = 0; j < kRequests; ++j) {
        if (!c.Send(Post("/api/v1/leases", "{}"))) return;
        error_code ec;
        Response r = c.Read(ec);
        if (ec || r.result_int() != 200) return;
        ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
}

TEST_F(ServerTest, BlockingHandlersDoNotBlockOtherConnections) {
  HttpServerOptions o;
  o.threads = 4;
  StartServer(o);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      Conn c(address_);
      c.Send(Get("/slow"));
      error_code ec;
      if (c.Read(ec).result_int() == 200 && !ec) ++ok;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 4);
  // Four 300 ms handlers on four threads run side by side.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
}

TEST_F(ServerTest, StopClosesOpenConnections) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x")));
  EXPECT_EQ(c.Read().result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(c.SeesEof());
  Conn d(address_);
  EXPECT_FALSE(d.connected());
  server_->Stop();  // idempotent
}

TEST_F(ServerTest, StopWaitsForAHandlerInProgress) {
  StartServer({});
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/slow")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->Stop();
  EXPECT_EQ(calls_.load(), 1);
}

TEST_F(ServerTest, Ipv6Loopback) {
  if (!Ipv6LoopbackAvailable()) GTEST_SKIP() << "no IPv6 loopback";
  HttpServerOptions o;
  o.listen = {"127.0.0.1:0", "[::1]:0"};
  StartServer(o);
  ASSERT_EQ(server_->BoundAddresses().size(), 2u);
  std::string v6 = server_->BoundAddresses()[1];
  EXPECT_THAT(v6, StartsWith("[::1]:"));
  EXPECT_THAT(v6, ::testing::Not(::testing::EndsWith(":0")));
  Conn c(v6);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(Get("/x")));
  EXPECT_EQ(c.Read().result_int(), 200);
  EXPECT_EQ(Last().peer.ToString(), "::1");
  EXPECT_EQ(Last().peer.family, Family::kV6);
}

TEST_F(ServerTest, WildcardV4AndV6CanShareAPort) {
  if (!Ipv6LoopbackAvailable()) GTEST_SKIP() << "no IPv6 loopback";
  HttpServerOptions o;
  o.listen = {"0.0.0.0:0"};
  StartServer(o);
  std::string port = address_.substr(address_.rfind(':') + 1);
  auto second =
      NewHttpServer(ListenOn("[::]:" + port), [](const HttpRequest&) { return HttpResponse{}; });
  Status st = second->Start();
  EXPECT_TRUE(st.ok()) << st.ToString();
  // v6_only: an IPv4 client still reaches the first server, not the second.
  Conn c("127.0.0.1:" + port);
  ASSERT_TRUE(c.Send(Get("/x")));
  EXPECT_EQ(c.Read().result_int(), 200);
  EXPECT_EQ(calls_.load(), 1);
  second->Stop();
}

TEST_F(ServerTest, BindFailureNamesTheAddress) {
  StartServer({});
  auto second =
      NewHttpServer(ListenOn(address_), [](const HttpRequest&) { return HttpResponse{}; });
  Status st = second->Start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr(address_));
  second->Stop();
}

TEST_F(ServerTest, InvalidListenAddressIsRejected) {
  for (const char* bad : {"localhost:80", "127.0.0.1", "[::1]:99999"}) {
    auto s = NewHttpServer(ListenOn(bad), [](const HttpRequest&) { return HttpResponse{}; });
    Status st = s->Start();
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << bad;
    EXPECT_THAT(st.message(), HasSubstr(bad));
  }
}

// ---- TLS ----

struct TempDir {
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("pinhole_server_test_" + std::to_string(::getpid()) + "_" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

// A self-signed P-256 certificate for "localhost" / 127.0.0.1, marked CA so
// that the test client can use it as its own trust anchor.
bool WriteSelfSigned(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  bool ok = key != nullptr && x != nullptr;
  ok = ok && X509_set_version(x, 2) == 1;
  ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1;
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -60) != nullptr;
  ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 3600) != nullptr;
  ok = ok && X509_set_pubkey(x, key) == 1;
  X509_NAME* name = ok ? X509_get_subject_name(x) : nullptr;
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                        0) == 1;
  ok = ok && X509_set_issuer_name(x, name) == 1;
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"}}) {
    if (!ok) break;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
  }
  ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
  if (ok) {
    BIO* c = BIO_new_file(cert_path.c_str(), "w");
    BIO* k = BIO_new_file(key_path.c_str(), "w");
    ok = c != nullptr && k != nullptr && PEM_write_bio_X509(c, x) == 1 &&
         PEM_write_bio_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    BIO_free(c);
    BIO_free(k);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return ok;
}

class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    cert_ = (dir_.path / "cert.pem").string();
    key_ = (dir_.path / "key.pem").string();
    ASSERT_TRUE(WriteSelfSigned(cert_, key_));
    client_ = SSL_CTX_new(TLS_client_method());
    ASSERT_EQ(SSL_CTX_load_verify_locations(client_, cert_.c_str(), nullptr), 1);
    SSL_CTX_set_verify(client_, SSL_VERIFY_PEER, nullptr);
  }
  void TearDown() override {
    ServerTest::TearDown();
    SSL_CTX_free(client_);
  }
  void StartTls() {
    HttpServerOptions o;
    o.tls_cert = cert_;
    o.tls_key = key_;
    StartServer(o);
  }

  TempDir dir_;
  std::string cert_;
  std::string key_;
  SSL_CTX* client_ = nullptr;
};

TEST_F(TlsServerTest, ServesHttpsWithHsts) {
  StartTls();
  Conn c(address_, client_);
  ASSERT_TRUE(c.handshake_ok());
  EXPECT_GE(SSL_version(c.ssl()), TLS1_2_VERSION);
  for (int i = 0; i < 3; ++i) {  // keep-alive under TLS
    ASSERT_TRUE(c.Send(Post("/secure", "{}")));
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 200);
    ExpectSecurityHeaders(r, /*tls=*/true);
  }
  EXPECT_TRUE(Last().tls);
  EXPECT_EQ(Last().peer.ToString(), "127.0.0.1");

  ASSERT_TRUE(c.Send(Post("/big", std::string(64 * 1024 + 1, 'x'))));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 413);
  ExpectSecurityHeaders(r, true);
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(TlsServerTest, PlainHttpGetsNoAnswer) {
  StartTls();
  Conn c(address_);
  ASSERT_TRUE(c.Send(Get("/x")));
  error_code ec;
  c.Read(ec);
  EXPECT_TRUE(ec);
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(TlsServerTest, OldTlsVersionsAreRefused) {
  StartTls();
  SSL_CTX* old = SSL_CTX_new(TLS_client_method());
  // Let the client offer TLS 1.1 at all; the server must still refuse it.
  SSL_CTX_set_security_level(old, 0);
  SSL_CTX_set_cipher_list(old, "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(old, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION);
  {
    Conn c(address_, old);
    EXPECT_FALSE(c.handshake_ok());
  }
  SSL_CTX_free(old);
  // The server is unharmed.
  Conn c(address_, client_);
  EXPECT_TRUE(c.handshake_ok());
}

TEST_F(TlsServerTest, BadCertificateFilesFailStart) {
  HttpServerOptions o;
  o.listen = {"127.0.0.1:0"};
  o.tls_cert = (dir_.path / "missing.pem").string();
  o.tls_key = key_;
  auto s = NewHttpServer(o, [](const HttpRequest&) { return HttpResponse{}; });
  Status st = s->Start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("missing.pem"));

  o.tls_cert = cert_;
  o.tls_key = cert_;  // a certificate is not a key
  s = NewHttpServer(o, [](const HttpRequest&) { return HttpResponse{}; });
  st = s->Start();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr(cert_));

  o.tls_key = "";
  s = NewHttpServer(o, [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_FALSE(s->Start().ok());
}

// ---- WebSocket upgrades ----

namespace asio = boost::asio;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Runs `body` as the client on a private io_context; a hang fails the test.
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

tcp::endpoint EndpointOf(const std::string& address) {
  Result<ListenAddress> a = ParseListenAddress(address);
  return tcp::endpoint(asio::ip::make_address(a->host), a->port);
}

// Echoes every message with its type until the connection closes.
asio::awaitable<void> EchoSession(WebSocket& ws, std::atomic<int>* peer_close_code) {
  std::string message;
  bool text = false;
  for (;;) {
    boost::system::error_code ec = co_await ws.Read(message, text);
    if (ec) break;
    if (co_await ws.Write(message, text)) break;
  }
  if (peer_close_code != nullptr) *peer_close_code = ws.PeerCloseCode();
}

class UpgradeTest : public ServerTest {
 protected:
  void StartWithHook(UpgradeHandler hook, std::chrono::milliseconds grace = 2s) {
    HttpServerOptions o;
    o.upgrade = std::move(hook);
    o.websocket_stop_grace = grace;
    StartServer(o);
  }
  // Hook that accepts /ws with `session`, refuses /refuse, passes the rest.
  UpgradeHandler Hook(WebSocketSession session) {
    return [this, session](const HttpRequest& r) -> asio::awaitable<UpgradeDecision> {
      ++hook_calls_;
      if (r.path == "/ws") {
        co_return UpgradeDecision{.accept = [this, session](WebSocket& ws) {
          // The server starts `run` in this same strand turn, so a Stop()
          // that sees the count finds the session's stop handler in place.
          auto run = session(ws);
          ++sessions_started_;
          return run;
        }};
      }
      if (r.path == "/refuse") {
        co_return UpgradeDecision{.refuse = JsonError(403, "no_lease", "no lease")};
      }
      if (r.path == "/throw") throw std::runtime_error("hook failed");
      co_return UpgradeDecision{};
    };
  }

  // Stop() drops a connection whose session has not started yet, so the stop
  // tests wait for it.
  asio::awaitable<void> SessionStarted() {
    for (int i = 0; i < 500 && sessions_started_.load() == 0; ++i) {
      asio::steady_timer t(co_await asio::this_coro::executor, 2ms);
      co_await t.async_wait(kUseTuple);
    }
    EXPECT_GT(sessions_started_.load(), 0);
  }

  std::atomic<int> hook_calls_{0};
  std::atomic<int> sessions_started_{0};
};

TEST_F(UpgradeTest, AcceptedSessionRelaysTextAndBinary) {
  std::atomic<int> peer_code{-1};
  StartWithHook(Hook([&](WebSocket& ws) { return EchoSession(ws, &peer_code); }));
  RunClient([&]() -> asio::awaitable<void> {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(ws).async_connect(EndpointOf(address_), kUseTuple);
    websocket::response_type res;
    auto [hec] = co_await ws.async_handshake(res, "localhost", "/ws?x=1", kUseTuple);
    EXPECT_FALSE(hec) << hec.message();
    EXPECT_EQ(res.result_int(), 101);
    EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
    EXPECT_EQ(res[http::field::server], "pinholed");  // not Beast's version
    beast::flat_buffer b;
    ws.text(true);
    co_await ws.async_write(asio::buffer(std::string_view("eof")), kUseTuple);
    co_await ws.async_read(b, kUseTuple);
    EXPECT_TRUE(ws.got_text());
    EXPECT_EQ(beast::buffers_to_string(b.data()), "eof");
    b.clear();
    std::string big(300 * 1024, 'z');
    big[0] = '\0';
    ws.binary(true);
    co_await ws.async_write(asio::buffer(big), kUseTuple);
    co_await ws.async_read(b, kUseTuple);
    EXPECT_TRUE(ws.got_binary());
    EXPECT_TRUE(beast::buffers_to_string(b.data()) == big);
    co_await ws.async_close(websocket::close_code::normal, kUseTuple);
  });
  EXPECT_EQ(hook_calls_.load(), 1);
  EXPECT_EQ(calls_.load(), 0);  // the handler never saw the upgrade
  for (int i = 0; i < 100 && peer_code.load() == -1; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(peer_code.load(), 1000);
}

TEST_F(UpgradeTest, RefusalIsSentAndTheConnectionCloses) {
  StartWithHook(Hook([](WebSocket& ws) { return EchoSession(ws, nullptr); }));
  Conn c(address_);
  ASSERT_TRUE(
      c.Send(Get("/refuse",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 403);
  EXPECT_EQ(ErrorCode(r), "no_lease");
  ExpectSecurityHeaders(r, false);
  EXPECT_TRUE(c.SeesEof());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(UpgradeTest, PassAndPlainRequestsReachTheHandler) {
  StartWithHook(Hook([](WebSocket& ws) { return EchoSession(ws, nullptr); }));
  Conn c(address_);
  const std::string upgrade =
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  ASSERT_TRUE(c.Send(Get("/other", upgrade)));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(Last().path, "/other");
  // Not an upgrade: the hook is not asked.
  ASSERT_TRUE(c.Send(Get("/ws")));
  EXPECT_EQ(c.Read().result_int(), 200);
  EXPECT_EQ(hook_calls_.load(), 1);
  EXPECT_EQ(calls_.load(), 2);
}

TEST_F(UpgradeTest, HookExceptionIs500) {
  StartWithHook(Hook([](WebSocket& ws) { return EchoSession(ws, nullptr); }));
  Conn c(address_);
  ASSERT_TRUE(
      c.Send(Get("/throw",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")));
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 500);
  // The server still serves.
  Conn c2(address_);
  ASSERT_TRUE(c2.Send(Get("/x")));
  EXPECT_EQ(c2.Read().result_int(), 200);
}

asio::awaitable<void> CloseGoingAway(WebSocket* ws, bool* closed) {
  co_await ws->Close(1001, "server shutting down");
  *closed = true;
}

// A session that closes with 1001 when told the server stops.
asio::awaitable<void> PoliteSession(WebSocket& ws) {
  auto executor = co_await asio::this_coro::executor;
  bool closing = false;
  bool closed = false;
  ws.OnServerStop([&] {
    closing = true;
    asio::co_spawn(executor, CloseGoingAway(&ws, &closed), asio::detached);
  });
  std::string message;
  bool text = false;
  while (!(co_await ws.Read(message, text))) {
  }
  // The session must not return while its Close is still running.
  while (closing && !closed) {
    asio::steady_timer t(executor, 5ms);
    co_await t.async_wait(kUseTuple);
  }
}

TEST_F(UpgradeTest, StopClosesSessionsWith1001) {
  StartWithHook(Hook(PoliteSession));
  std::thread stopper;
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(ws).async_connect(EndpointOf(address_), kUseTuple);
    auto [hec] = co_await ws.async_handshake("localhost", "/ws", kUseTuple);
    EXPECT_FALSE(hec);
    co_await SessionStarted();
    stopper = std::thread([this] { server_->Stop(); });
    beast::flat_buffer b;
    auto [rec, n] = co_await ws.async_read(b, kUseTuple);
    EXPECT_EQ(rec, websocket::error::closed) << rec.message();
    EXPECT_EQ(ws.reason().code, 1001);
    EXPECT_EQ(std::string(ws.reason().reason.c_str()), "server shutting down");
  });
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);  // no grace period needed
}

TEST_F(UpgradeTest, StopAbortsSessionsThatDoNotClose) {
  // Registers for the stop but never closes: aborted after the grace period.
  StartWithHook(Hook([](WebSocket& ws) -> asio::awaitable<void> {
                  ws.OnServerStop([] {});
                  std::string m;
                  bool t;
                  while (!(co_await ws.Read(m, t))) {
                  }
                }),
                300ms);
  std::thread stopper;
  std::chrono::steady_clock::time_point stop_at;
  RunClient([&]() -> asio::awaitable<void> {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(ws).async_connect(EndpointOf(address_), kUseTuple);
    auto [hec] = co_await ws.async_handshake("localhost", "/ws", kUseTuple);
    EXPECT_FALSE(hec);
    co_await SessionStarted();
    stop_at = std::chrono::steady_clock::now();
    stopper = std::thread([this] { server_->Stop(); });
    beast::flat_buffer b;
    auto [rec, n] = co_await ws.async_read(b, kUseTuple);
    EXPECT_TRUE(rec);
    EXPECT_NE(rec, websocket::error::closed) << rec.message();  // dropped, not closed
  });
  stopper.join();
  auto took = std::chrono::steady_clock::now() - stop_at;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2s);
}

TEST_F(UpgradeTest, StopDropsSessionsWithoutAStopHandler) {
  StartWithHook(Hook([](WebSocket& ws) { return EchoSession(ws, nullptr); }), 5s);
  std::thread stopper;
  auto started = std::chrono::steady_clock::now();
  RunClient([&]() -> asio::awaitable<void> {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    co_await beast::get_lowest_layer(ws).async_connect(EndpointOf(address_), kUseTuple);
    auto [hec] = co_await ws.async_handshake("localhost", "/ws", kUseTuple);
    EXPECT_FALSE(hec);
    co_await SessionStarted();
    stopper = std::thread([this] { server_->Stop(); });
    beast::flat_buffer b;
    auto [rec, n] = co_await ws.async_read(b, kUseTuple);
    EXPECT_TRUE(rec);
  });
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST_F(TlsServerTest, WebSocketOverTls) {
  HttpServerOptions o;
  o.tls_cert = cert_;
  o.tls_key = key_;
  o.upgrade = [](const HttpRequest& r) -> asio::awaitable<UpgradeDecision> {
    EXPECT_TRUE(r.tls);
    co_return UpgradeDecision{.accept = [](WebSocket& ws) { return EchoSession(ws, nullptr); }};
  };
  StartServer(o);
  RunClient([&]() -> asio::awaitable<void> {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(cert_);
    ctx.set_verify_mode(asio::ssl::verify_peer);
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(co_await asio::this_coro::executor,
                                                               ctx);
    co_await beast::get_lowest_layer(ws).async_connect(EndpointOf(address_), kUseTuple);
    auto [tec] =
        co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, kUseTuple);
    EXPECT_FALSE(tec) << tec.message();
    websocket::response_type res;
    auto [hec] = co_await ws.async_handshake(res, "localhost", "/ws", kUseTuple);
    EXPECT_FALSE(hec) << hec.message();
    EXPECT_THAT(std::string(res[http::field::strict_transport_security]), StartsWith("max-age="));
    ws.binary(true);
    co_await ws.async_write(asio::buffer(std::string_view("over tls")), kUseTuple);
    beast::flat_buffer b;
    co_await ws.async_read(b, kUseTuple);
    EXPECT_EQ(beast::buffers_to_string(b.data()), "over tls");
    auto [cec] = co_await ws.async_close(websocket::close_code::normal, kUseTuple);
    EXPECT_FALSE(cec) << cec.message();
  });
}

}  // namespace
}  // namespace pinhole
