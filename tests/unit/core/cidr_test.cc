#include "core/cidr.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

std::string Canon(std::string_view text) {
  auto a = IpAddress::Parse(text);
  return a.ok() ? a->ToString() : "ERR";
}

std::string CanonCidr(std::string_view text) {
  auto c = Cidr::Parse(text);
  return c.ok() ? c->ToString() : "ERR:" + c.status().reason();
}

TEST(IpAddressTest, ParsesIpv4) {
  auto a = IpAddress::Parse("198.51.100.7");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->family, Family::kV4);
  EXPECT_EQ(a->bits(), 32);
  EXPECT_EQ(a->bytes[0], 198);
  EXPECT_EQ(a->bytes[3], 7);
  EXPECT_EQ(a->ToString(), "198.51.100.7");
}

TEST(IpAddressTest, RejectsBadInput) {
  for (std::string_view bad :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4", "a.b.c.d",
        "1.2.3.-4", "2001:db8:::1", "2001:db8::1::2", "12345::", "fe80::1%eth0", "::g",
        "1:2:3:4:5:6:7:8:9", "localhost"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(IpAddress::Parse(std::string_view("1.2.3.4\0junk", 12)).ok());
  EXPECT_FALSE(IpAddress::Parse(std::string(100, '1')).ok());
  EXPECT_EQ(IpAddress::Parse("x").status().reason(), "invalid_address");
}

TEST(IpAddressTest, CanonicalIpv6PerRfc5952) {
  EXPECT_EQ(Canon("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
  EXPECT_EQ(Canon("2001:0db8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
  EXPECT_EQ(Canon("::"), "::");
  EXPECT_EQ(Canon("::1"), "::1");
  EXPECT_EQ(Canon("1::"), "1::");
  // A single zero group is not compressed.
  EXPECT_EQ(Canon("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
  // The longest run wins; on a tie, the first.
  EXPECT_EQ(Canon("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
  EXPECT_EQ(Canon("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  // Leading zeros dropped, lower case.
  EXPECT_EQ(Canon("2001:0DB8:00AB:000c::"), "2001:db8:ab:c::");
  // IPv4-compatible (not mapped) stays IPv6 and prints in hex.
  EXPECT_EQ(Canon("::1.2.3.4"), "::102:304");
}

TEST(IpAddressTest, MappedIpv6BecomesIpv4) {
  auto a = IpAddress::Parse("::ffff:203.0.113.9");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->family, Family::kV4);
  EXPECT_EQ(a->ToString(), "203.0.113.9");
  EXPECT_EQ(*a, *IpAddress::Parse("203.0.113.9"));
  EXPECT_EQ(Canon("::FFFF:cb00:7109"), "203.0.113.9");
  // Not mapped: a different prefix.
  EXPECT_EQ(IpAddress::Parse("::fffe:203.0.113.9")->family, Family::kV6);
}

TEST(CidrTest, ParsesAndPrintsCanonically) {
  EXPECT_EQ(CanonCidr("198.51.100.0/28"), "198.51.100.0/28");
  EXPECT_EQ(CanonCidr("10.0.0.0/8"), "10.0.0.0/8");
  EXPECT_EQ(CanonCidr("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(CanonCidr("2001:DB8::/56"), "2001:db8::/56");
  EXPECT_EQ(CanonCidr("2001:db8:0:0::/64"), "2001:db8::/64");
  EXPECT_EQ(CanonCidr("::/0"), "::/0");
}

TEST(CidrTest, BareAddressIsHostPrefix) {
  auto c = Cidr::Parse("203.0.113.7");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->prefix, 32);
  EXPECT_TRUE(c->is_host());
  EXPECT_EQ(c->ToString(), "203.0.113.7/32");
  auto c6 = Cidr::Parse("2001:db8::7");
  ASSERT_TRUE(c6.ok());
  EXPECT_EQ(c6->prefix, 128);
  EXPECT_EQ(c6->ToString(), "2001:db8::7/128");
  EXPECT_EQ(Cidr::Host(*IpAddress::Parse("2001:db8::7")), *c6);
}

TEST(CidrTest, MappedCidrBecomesIpv4) {
  EXPECT_EQ(CanonCidr("::ffff:10.0.0.0/104"), "10.0.0.0/8");
  EXPECT_EQ(CanonCidr("::ffff:10.1.2.3/128"), "10.1.2.3/32");
  EXPECT_EQ(CanonCidr("::ffff:10.1.2.3"), "10.1.2.3/32");
  EXPECT_EQ(CanonCidr("::ffff:10.0.0.0/95"), "ERR:invalid_cidr");
}

TEST(CidrTest, RejectsHostBitsAndBadPrefixes) {
  for (std::string_view bad :
       {"198.51.100.7/28", "198.51.100.0/33", "198.51.100.0/-1", "198.51.100.0/", "/24",
        "198.51.100.0/2 4", "198.51.100.0/024", "198.51.100.0/abc", "2001:db8::1/64",
        "2001:db8::/129", "2001:db8::/1000", "1.2.3.0/24/1", "garbage", "", "10.0.0.0/8 "}) {
    auto c = Cidr::Parse(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_EQ(c.status().reason(), "invalid_cidr") << bad;
      EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(CidrTest, ContainsAddresses) {
  Cidr net = *Cidr::Parse("198.51.100.0/28");
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("198.51.100.0")));
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("198.51.100.15")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("198.51.100.16")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("198.51.101.1")));
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("::ffff:198.51.100.3")));
  // Families never mix, even for all-zero addresses.
  EXPECT_FALSE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("::1")));
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("8.8.8.8")));

  Cidr net6 = *Cidr::Parse("2001:db8:ab00::/41");
  EXPECT_TRUE(net6.Contains(*IpAddress::Parse("2001:db8:ab7f:ffff::1")));
  EXPECT_FALSE(net6.Contains(*IpAddress::Parse("2001:db8:ab80::1")));
  EXPECT_FALSE(net6.Contains(*IpAddress::Parse("198.51.100.1")));
}

TEST(CidrTest, ContainsCidrs) {
  Cidr wide = *Cidr::Parse("10.0.0.0/8");
  EXPECT_TRUE(wide.Contains(*Cidr::Parse("10.1.0.0/16")));
  EXPECT_TRUE(wide.Contains(wide));
  EXPECT_TRUE(wide.Contains(*Cidr::Parse("10.255.255.255")));
  EXPECT_FALSE(Cidr::Parse("10.1.0.0/16")->Contains(wide));
  EXPECT_FALSE(wide.Contains(*Cidr::Parse("11.0.0.0/16")));
  EXPECT_FALSE(Cidr::Parse("::/0")->Contains(*Cidr::Parse("10.0.0.0/8")));
  EXPECT_TRUE(Cidr::Parse("2001:db8::/32")->Contains(*Cidr::Parse("2001:db8:1::/48")));
}

}  // namespace
}  // namespace pinhole
