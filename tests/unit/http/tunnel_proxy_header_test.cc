// The PROXY v2 encoder against bytes worked out by hand from haproxy's
// proxy-protocol.txt section 2.2.
#include <gtest/gtest.h>

#include <string>

#include "http/tunnel/proxy_header.h"

namespace pinhole {
namespace {

std::string Bytes(std::initializer_list<int> v) {
  std::string out;
  for (int b : v) out.push_back(static_cast<char>(b));
  return out;
}

const std::string kSignature =
    Bytes({0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A});

TEST(ProxyV2HeaderTest, Ipv4) {
  std::string h =
      ProxyV2Header(*IpAddress::Parse("203.0.113.7"), 51000, *IpAddress::Parse("10.0.0.5"), 22);
  std::string expected = kSignature + Bytes({0x21, 0x11, 0x00, 0x0C,  // v2 PROXY, TCP4, 12 bytes
                                             203, 0, 113, 7,          // source
                                             10, 0, 0, 5,             // destination
                                             0xC7, 0x38,              // 51000
                                             0x00, 0x16});            // 22
  EXPECT_EQ(h, expected);
  EXPECT_EQ(h.size(), 28u);
}

TEST(ProxyV2HeaderTest, Ipv6) {
  std::string h =
      ProxyV2Header(*IpAddress::Parse("2001:db8::1"), 443, *IpAddress::Parse("fd00::5"), 65535);
  std::string expected =
      kSignature +
      Bytes({0x21, 0x21, 0x00, 0x24,  // v2 PROXY, TCP6, 36 bytes
             0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // source
             0xfd, 0x00, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05,  // destination
             0x01, 0xBB,                                                     // 443
             0xFF, 0xFF});                                                   // 65535
  EXPECT_EQ(h, expected);
  EXPECT_EQ(h.size(), 52u);
}

TEST(ProxyV2HeaderTest, MixedFamiliesUseMappedIpv6) {
  std::string h =
      ProxyV2Header(*IpAddress::Parse("198.51.100.9"), 1, *IpAddress::Parse("2001:db8::5"), 22);
  std::string expected =
      kSignature +
      Bytes({0x21, 0x21, 0x00, 0x24,                                                    //
             0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 9,     // ::ffff:
             0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,    0,    0,   0,  0,   0x05,  //
             0x00, 0x01, 0x00, 0x16});
  EXPECT_EQ(h, expected);
}

TEST(ProxyV2HeaderTest, ZeroPortsAreWritten) {
  std::string h =
      ProxyV2Header(*IpAddress::Parse("127.0.0.1"), 0, *IpAddress::Parse("127.0.0.1"), 0);
  EXPECT_EQ(h.substr(h.size() - 4), Bytes({0, 0, 0, 0}));
}

}  // namespace
}  // namespace pinhole
