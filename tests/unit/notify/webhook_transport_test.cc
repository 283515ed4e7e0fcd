#include "notify/webhook_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pinhole {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A one-request-at-a-time HTTP/1.1 server on 127.0.0.1 that records each
// request and answers with a status chosen by the test.
class RecordingServer {
 public:
  struct Request {
    std::string request_line;
    std::map<std::string, std::string> headers;  // lower-cased names
    std::string body;
  };

  RecordingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~RecordingServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  std::string url(std::string_view path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  void Respond(int status, std::string body = "") {
    std::lock_guard lock(mu_);
    status_ = status;
    response_body_ = std::move(body);
  }
  std::vector<Request> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      Handle(c);
      ::close(c);
    }
  }

  void Handle(int c) {
    std::string data;
    char buf[4096];
    size_t header_end;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      data.append(buf, n);
    }
    Request r;
    std::string head = data.substr(0, header_end);
    size_t line_end = head.find("\r\n");
    r.request_line = head.substr(0, line_end);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t end = head.find("\r\n", pos);
      if (end == std::string::npos) end = head.size();
      std::string line = head.substr(pos, end - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        r.headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = end + 2;
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = data.substr(header_end + 4);
    while (r.body.size() < length) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      r.body.append(buf, n);
    }
    int status;
    std::string body;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
      status = status_;
      body = response_body_;
    }
    std::string reply = "HTTP/1.1 " + std::to_string(status) +
                        " X\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\n\r\n" + body;
    ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  int status_ = 200;
  std::string response_body_;
  std::vector<Request> requests_;
};

constexpr Time kNow = Time(Millis(1'795'253'400'000));

OutboxMessage HookMessage(std::string target) {
  OutboxMessage m;
  m.id = 77;
  m.channel = "webhook";
  m.target = std::move(target);
  m.event = "lease.approved";
  m.text = R"({"event":"lease.approved","text":"ok"})";
  m.created_at = kNow;
  return m;
}

std::unique_ptr<WebhookTransport> Make(std::vector<WebhookTarget> targets) {
  auto t = WebhookTransport::Create({.targets = std::move(targets), .timeout = Seconds(5)});
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(*t) : nullptr;
}

TEST(WebhookSignatureTest, MatchesOpenssl) {
  // printf '%s' '1795253400.{"event":"lease.approved","text":"ok"}' |
  //   openssl dgst -sha256 -hmac 'webhook-secret-0123456789'
  EXPECT_EQ(WebhookSignature("webhook-secret-0123456789", 1795253400,
                             R"({"event":"lease.approved","text":"ok"})"),
            "sha256=39798b5a735cdf4310a557554ffb262c2cb976cae0cc727e0f71189e442fdaab");
  // printf '%s' '0.' | openssl dgst -sha256 -hmac 'k'
  EXPECT_EQ(WebhookSignature("k", 0, ""),
            "sha256=6b4a4b8b3c40f1e8f53a3d36682e5f99f7ad2ac1df1c93dfe336f329167641e7");
}

TEST(WebhookTransportTest, PostsSignedJson) {
  RecordingServer server;
  std::string secret = "webhook-secret-0123456789";
  auto t = Make({{"ops", server.url(), secret, {}}});
  ASSERT_NE(t, nullptr);
  OutboxMessage m = HookMessage("ops");
  Status st = t->Deliver(m, kNow);
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.request_line, "POST /hook HTTP/1.1");
  EXPECT_EQ(r.body, m.text);
  EXPECT_EQ(r.headers.at("content-type"), "application/json");
  EXPECT_EQ(r.headers.at("x-pinhole-event"), "lease.approved");
  EXPECT_EQ(r.headers.at("x-pinhole-delivery"), "77");
  EXPECT_EQ(r.headers.at("x-pinhole-timestamp"), "1795253400");
  EXPECT_EQ(r.headers.at("x-pinhole-signature"), WebhookSignature(secret, 1795253400, r.body));
  EXPECT_EQ(r.headers.at("x-pinhole-signature"),
            "sha256=39798b5a735cdf4310a557554ffb262c2cb976cae0cc727e0f71189e442fdaab");
  EXPECT_THAT(r.headers.at("user-agent"), HasSubstr("pinholed/"));
}

TEST(WebhookTransportTest, UnsignedWithoutSecret) {
  RecordingServer server;
  auto t = Make({{"slack", server.url(), "", {}}});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Deliver(HookMessage("slack"), kNow).ok());
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].headers.count("x-pinhole-signature"), 0u);
  EXPECT_EQ(reqs[0].headers.at("x-pinhole-timestamp"), "1795253400");
}

TEST(WebhookTransportTest, StatusDecidesRetryOrFailure) {
  RecordingServer server;
  auto t = Make({{"ops", server.url("/secret-path-token"), "webhook-secret-0123456789", {}}});
  ASSERT_NE(t, nullptr);
  struct Case {
    int status;
    Code code;
  };
  for (const Case& c :
       {Case{200, Code::kOk}, Case{202, Code::kOk}, Case{204, Code::kOk},
        Case{500, Code::kUnavailable}, Case{503, Code::kUnavailable}, Case{408, Code::kUnavailable},
        Case{429, Code::kUnavailable}, Case{400, Code::kInvalidArgument},
        Case{401, Code::kInvalidArgument}, Case{404, Code::kInvalidArgument},
        Case{410, Code::kInvalidArgument}, Case{301, Code::kInvalidArgument}}) {
    server.Respond(c.status, "nope\r\nsecret-path-token");
    Status st = t->Deliver(HookMessage("ops"), kNow);
    EXPECT_EQ(st.code(), c.code) << c.status << " " << st.ToString();
    if (!st.ok()) {
      EXPECT_THAT(st.message(), HasSubstr("webhook \"ops\": HTTP " + std::to_string(c.status)));
      EXPECT_THAT(st.message(), HasSubstr("nope"));  // the receiver's explanation
      EXPECT_EQ(st.message().find_first_of("\r\n"), std::string::npos);
      EXPECT_THAT(st.message(), Not(HasSubstr("webhook-secret")));
      EXPECT_THAT(st.message(), Not(HasSubstr("/secret-path-token")));
    }
  }
}

TEST(WebhookTransportTest, UnreachableIsRetriedAndUnknownTargetFails) {
  int port;
  {
    RecordingServer closed;  // take a free port, then close it
    port = std::stoi(closed.url("").substr(std::string("http://127.0.0.1:").size()));
  }
  auto t = Make({{"gone", "http://127.0.0.1:" + std::to_string(port) + "/x", "", {}}});
  ASSERT_NE(t, nullptr);
  Status st = t->Deliver(HookMessage("gone"), kNow);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("webhook \"gone\""));

  st = t->Deliver(HookMessage("removed"), kNow);
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("\"removed\" is no longer configured"));
}

TEST(WebhookTransportTest, CreateRejectsBadTargets) {
  auto bad = [](std::vector<WebhookTarget> targets, std::string_view what) {
    auto t = WebhookTransport::Create({.targets = std::move(targets)});
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().reason(), "invalid_webhook");
    EXPECT_THAT(t.status().message(), HasSubstr(what));
  };
  bad({{"", "https://h/", "", {}}}, "needs a name");
  bad({{"a", "https://h/", "", {}}, {"a", "https://g/", "", {}}}, "duplicate webhook name \"a\"");
  bad({{"a", "ftp://h/", "", {}}}, "http:// or https://");
  EXPECT_TRUE(WebhookTransport::Create({}).ok());
}

}  // namespace
}  // namespace pinhole
