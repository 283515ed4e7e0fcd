// Fuzzes IpAddress::Parse and Cidr::Parse (core/cidr.h). What parses must
// print canonically and parse back to the same value, and a prefix must
// contain its own address. An input with a newline is also read as
// "<cidr>\n<address>" to compare the two Contains overloads.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/cidr.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

void CheckAddress(std::string_view text) {
  Result<IpAddress> a = IpAddress::Parse(text);
  if (!a.ok()) {
    FUZZ_CHECK(a.status().reason() == "invalid_address", a.status().ToString());
    return;
  }
  if (a->family == Family::kV4) {
    // operator<=> compares all 16 bytes; garbage past the 4th would make two
    // equal IPv4 addresses compare unequal.
    for (size_t i = 4; i < a->bytes.size(); ++i) {
      FUZZ_CHECK(a->bytes[i] == 0, "IPv4 with stray bytes from " + Escape(text));
    }
  }
  std::string printed = a->ToString();
  Result<IpAddress> back = IpAddress::Parse(printed);
  FUZZ_CHECK(back.ok(), Escape(text) + " printed as unparseable " + Escape(printed));
  FUZZ_CHECK(*back == *a, Escape(text) + " -> " + Escape(printed) + " -> " + back->ToString());
  FUZZ_CHECK(back->ToString() == printed, "ToString not canonical for " + Escape(text));
  Cidr host = Cidr::Host(*a);
  FUZZ_CHECK(host.is_host() && host.Contains(*a), "host prefix misses " + printed);
}

void CheckCidr(std::string_view text) {
  Result<Cidr> c = Cidr::Parse(text);
  if (!c.ok()) {
    FUZZ_CHECK(c.status().reason() == "invalid_cidr", c.status().ToString());
    return;
  }
  FUZZ_CHECK(c->prefix >= 0 && c->prefix <= c->address.bits(),
             Escape(text) + " gave prefix " + std::to_string(c->prefix));
  std::string printed = c->ToString();
  Result<Cidr> back = Cidr::Parse(printed);
  FUZZ_CHECK(back.ok(), Escape(text) + " printed as unparseable " + Escape(printed) + ": " +
                            back.status().ToString());
  FUZZ_CHECK(*back == *c, Escape(text) + " -> " + Escape(printed) + " -> " + back->ToString());
  FUZZ_CHECK(back->ToString() == printed, "ToString not canonical for " + Escape(text));
  FUZZ_CHECK(c->Contains(c->address), printed + " does not contain its own address");
  FUZZ_CHECK(c->Contains(*c), printed + " does not contain itself");
  FUZZ_CHECK(c->Contains(Cidr::Host(c->address)), printed + " misses its host prefix");
}

void CheckPair(std::string_view cidr_text, std::string_view address_text) {
  Result<Cidr> c = Cidr::Parse(cidr_text);
  Result<IpAddress> a = IpAddress::Parse(address_text);
  if (!c.ok() || !a.ok()) return;
  bool contains = c->Contains(*a);
  FUZZ_CHECK(contains == c->Contains(Cidr::Host(*a)),
             "Contains(address) and Contains(host prefix) disagree for " + c->ToString() + " " +
                 a->ToString());
  if (contains) {
    FUZZ_CHECK(a->family == c->family(), c->ToString() + " contains other family " + a->ToString());
    // The host prefix is narrower, so it cannot contain the wider prefix
    // unless the two are the same.
    FUZZ_CHECK(!Cidr::Host(*a).Contains(*c) || c->is_host(),
               a->ToString() + " contains wider " + c->ToString());
  }
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pinhole::CheckAddress(text);
  pinhole::CheckCidr(text);
  if (size_t nl = text.find('\n'); nl != std::string_view::npos) {
    pinhole::CheckPair(text.substr(0, nl), text.substr(nl + 1));
  }
  return 0;
}
