// Real packets through the nftables enforcer's rules: a client namespace
// talks over a veth pair to the test thread's namespace, where pinhole's
// table guards a TCP port. Checks that holes open the port to exactly their
// source, and that closing or expiring a hole also cuts connections that are
// already established (unless the service keeps them).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "enforce/netns.h"
#include "enforce/nftables/nftables_enforcer.h"

namespace pinhole {
namespace {

constexpr uint16_t kPort = 2222;
constexpr int kWaitMs = 400;  // how long a dropped packet is waited for

// A file descriptor closed on scope exit.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

Fd OpenCurrentNetns() { return Fd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)); }

// Runs a command, in namespace `ns` when given; true if it exited 0.
bool Exec(std::vector<std::string> argv, int ns = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    if (ns >= 0 && setns(ns, CLONE_NEWNET) != 0) _exit(126);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The test thread's namespace ("server") plus a second one ("client") joined
// by a veth pair: server 10.99.0.1, client 10.99.0.2.
class TwoHosts {
 public:
  bool Setup() {
    server_ = OpenCurrentNetns();
    if (server_.fd < 0 || unshare(CLONE_NEWNET) != 0) return false;
    client_ = OpenCurrentNetns();
    if (setns(server_.fd, CLONE_NEWNET) != 0 || client_.fd < 0) return false;
    std::string client_path =
        "/proc/" + std::to_string(getpid()) + "/fd/" + std::to_string(client_.fd);
    return Exec({"ip", "link", "add", "srv0", "type", "veth", "peer", "name", "cli0"}) &&
           Exec({"ip", "link", "set", "cli0", "netns", client_path}) &&
           Exec({"ip", "addr", "add", "10.99.0.1/24", "dev", "srv0"}) &&
           Exec({"ip", "link", "set", "srv0", "up"}) && Exec({"ip", "link", "set", "lo", "up"}) &&
           Exec({"ip", "addr", "add", "10.99.0.2/24", "dev", "cli0"}, client_.fd) &&
           Exec({"ip", "link", "set", "cli0", "up"}, client_.fd) &&
           Exec({"ip", "link", "set", "lo", "up"}, client_.fd);
  }

  // A TCP socket that lives in the client namespace.
  Fd ClientSocket() {
    if (setns(client_.fd, CLONE_NEWNET) != 0) return Fd();
    Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // Back to the server namespace, whatever happened.
    if (setns(server_.fd, CLONE_NEWNET) != 0) std::abort();
    return s;
  }

 private:
  Fd server_, client_;  // the client namespace dies when its last fd closes
};

sockaddr_in Addr(const char* ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

Fd Listen() {
  Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = Addr("10.99.0.1", kPort);
  if (bind(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s.fd, 8) != 0) {
    return Fd();
  }
  return s;
}

bool Readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

// Connects from the client namespace; nullopt if no answer within kWaitMs.
std::optional<Fd> Connect(TwoHosts& hosts) {
  Fd s = hosts.ClientSocket();
  if (s.fd < 0) return std::nullopt;
  fcntl(s.fd, F_SETFL, O_NONBLOCK);
  sockaddr_in a = Addr("10.99.0.1", kPort);
  connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  pollfd p{s.fd, POLLOUT, 0};
  if (poll(&p, 1, kWaitMs) != 1) return std::nullopt;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return std::nullopt;
  return s;
}

// Sends one byte from the client; true if the server end received it.
bool Delivered(int client, int server) {
  char c = 'x';
  if (send(client, &c, 1, MSG_NOSIGNAL) != 1) return false;
  if (!Readable(server, kWaitMs)) return false;
  return recv(server, &c, 1, 0) == 1;
}

struct Connection {
  Fd client, server;
};

std::optional<Connection> Open(TwoHosts& hosts, int listener) {
  auto c = Connect(hosts);
  if (!c) return std::nullopt;
  if (!Readable(listener, kWaitMs)) return std::nullopt;
  Fd s(accept(listener, nullptr, nullptr));
  if (s.fd < 0) return std::nullopt;
  return Connection{std::move(*c), std::move(s)};
}

Service Guarded(bool keep_established) {
  Service s;
  s.id = 1;
  s.name = "app";
  s.protocol = Protocol::kTcp;
  s.ports = PortRange{kPort, kPort};
  s.keep_established = keep_established;
  return s;
}

Cidr C(std::string_view text) { return *Cidr::Parse(text); }
Time In(Millis d) { return SystemClock().Now() + d; }

TEST(NftablesTrafficTest, HolesOpenThePortAndClosingThemCutsConnections) {
  IN_NETNS({
    TwoHosts hosts;
    ASSERT_TRUE(hosts.Setup());
    Fd listener = Listen();
    ASSERT_GE(listener.fd, 0);
    // Without pinhole, the port is reachable: the network works.
    auto before = Open(hosts, listener.fd);
    ASSERT_TRUE(before);

    auto e = std::move(NewNftablesEnforcer(EnforcerOptions{})).value();
    ASSERT_TRUE(e->SyncServices({Guarded(false)}).ok());
    EXPECT_FALSE(Connect(hosts)) << "port open without a hole";
    EXPECT_FALSE(Delivered(before->client.fd, before->server.fd))
        << "a connection from before pinhole survived";

    // A hole for someone else changes nothing.
    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.3")}, In(Seconds(60))}}, {}}).ok());
    EXPECT_FALSE(Connect(hosts));

    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.2")}, In(Seconds(60))}}, {}}).ok());
    auto conn = Open(hosts, listener.fd);
    ASSERT_TRUE(conn);
    EXPECT_TRUE(Delivered(conn->client.fd, conn->server.fd));

    // Renewal never interrupts the connection.
    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.2")}, In(Seconds(120))}}, {}}).ok());
    EXPECT_TRUE(Delivered(conn->client.fd, conn->server.fd));

    ASSERT_TRUE(e->Apply({{}, {{"app", C("10.99.0.2")}}}).ok());
    EXPECT_FALSE(Delivered(conn->client.fd, conn->server.fd)) << "established connection survived";
    EXPECT_FALSE(Connect(hosts));

    // A /28 containing the client opens it through the masked lookup.
    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.0/28")}, In(Seconds(60))}}, {}}).ok());
    auto wide = Open(hosts, listener.fd);
    ASSERT_TRUE(wide);
    EXPECT_TRUE(Delivered(wide->client.fd, wide->server.fd));
    ASSERT_TRUE(e->Apply({{}, {{"app", C("10.99.0.0/28")}}}).ok());
    EXPECT_FALSE(Connect(hosts));
  });
}

TEST(NftablesTrafficTest, KernelExpiryCutsEstablishedConnections) {
  IN_NETNS({
    TwoHosts hosts;
    ASSERT_TRUE(hosts.Setup());
    Fd listener = Listen();
    ASSERT_GE(listener.fd, 0);
    auto e = std::move(NewNftablesEnforcer(EnforcerOptions{})).value();
    ASSERT_TRUE(e->SyncServices({Guarded(false)}).ok());
    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.2")}, In(Millis(1500))}}, {}}).ok());
    auto conn = Open(hosts, listener.fd);
    ASSERT_TRUE(conn);
    EXPECT_TRUE(Delivered(conn->client.fd, conn->server.fd));
    // 1.5 s rounds up to a 2 s kernel timeout; nobody removes it.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    EXPECT_FALSE(Delivered(conn->client.fd, conn->server.fd));
  });
}

TEST(NftablesTrafficTest, KeepEstablishedLetsOpenConnectionsOutlastTheHole) {
  IN_NETNS({
    TwoHosts hosts;
    ASSERT_TRUE(hosts.Setup());
    Fd listener = Listen();
    ASSERT_GE(listener.fd, 0);
    auto e = std::move(NewNftablesEnforcer(EnforcerOptions{})).value();
    ASSERT_TRUE(e->SyncServices({Guarded(true)}).ok());
    ASSERT_TRUE(e->Apply({{{{"app", C("10.99.0.2")}, In(Seconds(60))}}, {}}).ok());
    auto conn = Open(hosts, listener.fd);
    ASSERT_TRUE(conn);
    ASSERT_TRUE(e->Apply({{}, {{"app", C("10.99.0.2")}}}).ok());
    EXPECT_TRUE(Delivered(conn->client.fd, conn->server.fd));
    EXPECT_FALSE(Connect(hosts)) << "new connections need a hole";
  });
}

}  // namespace
}  // namespace pinhole
