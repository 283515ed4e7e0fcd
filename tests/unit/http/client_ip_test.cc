#include "http/client_ip.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

IpAddress Ip(std::string_view s) {
  Result<IpAddress> a = IpAddress::Parse(s);
  EXPECT_TRUE(a.ok()) << s;
  return a.ok() ? *a : IpAddress{};
}

std::vector<Cidr> Proxies(std::initializer_list<std::string_view> list) {
  std::vector<Cidr> out;
  for (std::string_view s : list) {
    Result<Cidr> c = Cidr::Parse(s);
    EXPECT_TRUE(c.ok()) << s;
    if (c.ok()) out.push_back(*c);
  }
  return out;
}

// The proxies in front of the server in these tests: a load balancer subnet
// and one IPv6 reverse proxy.
const std::vector<Cidr>& Trusted() {
  static const std::vector<Cidr> kTrusted = Proxies({"10.0.0.0/8", "2001:db8:ffff::/48"});
  return kTrusted;
}

std::string Client(std::string_view peer, std::string_view xff, std::string_view fwd = "") {
  return ClientAddress(Ip(peer), xff, fwd, Trusted()).ToString();
}

TEST(ClientIpTest, NoProxiesConfiguredMeansPeer) {
  EXPECT_EQ(ClientAddress(Ip("198.51.100.9"), "203.0.113.7", "for=203.0.113.8", {}).ToString(),
            "198.51.100.9");
}

TEST(ClientIpTest, SpoofedHeadersFromUntrustedPeerIgnored) {
  EXPECT_EQ(Client("198.51.100.9", "203.0.113.7"), "198.51.100.9");
  EXPECT_EQ(Client("198.51.100.9", "10.0.0.1"), "198.51.100.9");
  EXPECT_EQ(Client("198.51.100.9", "", "for=203.0.113.7"), "198.51.100.9");
  EXPECT_EQ(Client("2001:db8:1::5", "203.0.113.7"), "2001:db8:1::5");
}

TEST(ClientIpTest, TrustedPeerWithoutHeadersIsThePeer) {
  EXPECT_EQ(Client("10.1.2.3", ""), "10.1.2.3");
  EXPECT_EQ(Client("10.1.2.3", "  ", "  "), "10.1.2.3");
}

TEST(ClientIpTest, SingleProxy) {
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(Client("10.1.2.3", " 203.0.113.7 "), "203.0.113.7");
}

TEST(ClientIpTest, RightMostUntrustedWins) {
  // The client forged "1.1.1.1"; the load balancer appended the real address.
  EXPECT_EQ(Client("10.1.2.3", "1.1.1.1, 203.0.113.7"), "203.0.113.7");
  // Chain of trusted proxies: walk past them.
  EXPECT_EQ(Client("10.1.2.3", "1.1.1.1, 203.0.113.7, 10.9.9.9, 10.8.8.8"), "203.0.113.7");
  // Repeated headers joined by the server with ",".
  EXPECT_EQ(Client("10.1.2.3", "1.1.1.1,203.0.113.7,10.9.9.9"), "203.0.113.7");
}

TEST(ClientIpTest, AllTrustedGivesLeftMost) {
  EXPECT_EQ(Client("10.1.2.3", "10.0.0.7, 10.0.0.8"), "10.0.0.7");
}

TEST(ClientIpTest, Ipv6) {
  EXPECT_EQ(Client("2001:db8:ffff::1", "2001:db8:1::7"), "2001:db8:1::7");
  EXPECT_EQ(Client("2001:db8:ffff::1", "[2001:db8:1::7]"), "2001:db8:1::7");
  EXPECT_EQ(Client("2001:db8:ffff::1", "[2001:db8:1::7]:4711"), "2001:db8:1::7");
  EXPECT_EQ(Client("10.0.0.1", "2001:db8:1::7, 2001:db8:ffff::2"), "2001:db8:1::7");
  // An IPv4-mapped entry counts as the IPv4 address (and so is trusted here).
  EXPECT_EQ(Client("10.0.0.1", "203.0.113.7, ::ffff:10.0.0.9"), "203.0.113.7");
}

TEST(ClientIpTest, PortsOnIpv4Entries) {
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7:5000"), "203.0.113.7");
}

TEST(ClientIpTest, GarbageStopsTheWalkAtTheLastTrustedHop) {
  // Right-most entry unreadable: all we know is the peer.
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7, garbage"), "10.1.2.3");
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7, "), "10.1.2.3");
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7, 10.0.0.5, not-an-ip, 10.0.0.6"), "10.0.0.6");
  EXPECT_EQ(Client("10.1.2.3", "garbage, 10.0.0.6"), "10.0.0.6");
  // Garbage left of the first untrusted entry is never reached.
  EXPECT_EQ(Client("10.1.2.3", "garbage, 203.0.113.7"), "203.0.113.7");
  for (const char* bad : {"unknown", "\"203.0.113.7\"", "203.0.113.7:99999",
                          "203.0.113.7:", "[2001:db8::1", "[203.0.113.7]", "fe80::1%eth0",
                          "999.1.1.1", "203.0.113.7 203.0.113.8", "_hidden", ",", ";"}) {
    EXPECT_EQ(Client("10.1.2.3", bad), "10.1.2.3") << bad;
  }
}

TEST(ClientIpTest, ForwardedHeader) {
  EXPECT_EQ(Client("10.1.2.3", "", "for=203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(Client("10.1.2.3", "", "For=\"203.0.113.7:4711\";proto=https;by=10.1.2.3"),
            "203.0.113.7");
  EXPECT_EQ(Client("10.1.2.3", "", "for=\"[2001:db8:1::7]\""), "2001:db8:1::7");
  EXPECT_EQ(Client("10.1.2.3", "", "for=\"[2001:db8:1::7]:4711\""), "2001:db8:1::7");
  EXPECT_EQ(Client("10.1.2.3", "", "for=\"[2001:db8:1::7]:_port\""), "2001:db8:1::7");
  EXPECT_EQ(Client("10.1.2.3", "", "for=1.1.1.1, for=203.0.113.7;proto=http, for=10.0.0.9"),
            "203.0.113.7");
  // Quoted commas and semicolons stay inside their element.
  EXPECT_EQ(Client("10.1.2.3", "", "for=203.0.113.7;ext=\"a,b;c\""), "203.0.113.7");
  // Escapes in quoted strings.
  EXPECT_EQ(Client("10.1.2.3", "", "for=\"203.0.113.\\7\""), "203.0.113.7");
}

TEST(ClientIpTest, ForwardedGarbage) {
  for (const char* bad :
       {"for=unknown", "for=_hidden", "proto=https", "for=", "for=\"203.0.113.7",
        "for=[2001:db8::1]x", "for=2001:db8::1:80:", "for=203.0.113.7;for=203.0.113.8",
        "for=\"[2001:db8::1]\"\"", "garbage"}) {
    EXPECT_EQ(Client("10.1.2.3", "", bad), "10.1.2.3") << bad;
  }
  EXPECT_EQ(Client("10.1.2.3", "", "for=203.0.113.7, for=unknown, for=10.0.0.9"), "10.0.0.9");
}

TEST(ClientIpTest, XForwardedForPreferredOverForwarded) {
  EXPECT_EQ(Client("10.1.2.3", "203.0.113.7", "for=198.51.100.1"), "203.0.113.7");
}

TEST(ClientIpTest, PeerInsideIpv6TrustedRange) {
  EXPECT_EQ(Client("2001:db8:ffff:1::1", "198.51.100.4"), "198.51.100.4");
  EXPECT_EQ(Client("2001:db8:fffe::1", "198.51.100.4"), "2001:db8:fffe::1");
}

}  // namespace
}  // namespace pinhole
