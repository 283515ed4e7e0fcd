// Fuzzes ClientAddress (http/client_ip.h) with arbitrary X-Forwarded-For and
// Forwarded values against a fixed list of trusted proxies. Input layout:
// byte 0 picks the TCP peer; the rest is "<X-Forwarded-For>\n<Forwarded>".
//
// The security invariant (DESIGN.md invariant 6): an untrusted peer always
// gets its own address, whatever it sends. Also: a non-blank X-Forwarded-For
// makes Forwarded irrelevant, and once the walk reaches an untrusted
// address, entries further left (written by the client) change nothing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/client_ip.h"

namespace pinhole {
namespace {

using fuzz::Escape;

IpAddress Ip(std::string_view s) { return IpAddress::Parse(s).value(); }

const std::vector<Cidr>& TrustedProxies() {
  static const std::vector<Cidr> kTrusted = {
      Cidr::Parse("10.0.0.0/8").value(),
      Cidr::Parse("192.0.2.1/32").value(),
      Cidr::Parse("2001:db8::/32").value(),
      Cidr::Parse("::1").value(),
  };
  return kTrusted;
}

bool IsTrusted(const IpAddress& a) {
  for (const Cidr& c : TrustedProxies()) {
    if (c.Contains(a)) return true;
  }
  return false;
}

const std::vector<IpAddress>& Peers() {
  static const std::vector<IpAddress> kPeers = {
      Ip("10.1.2.3"),  Ip("192.0.2.1"),   Ip("2001:db8::7"), Ip("::1"),
      Ip("192.0.2.2"), Ip("203.0.113.9"), Ip("2001:db9::1"), Ip("127.0.0.1"),
  };
  return kPeers;
}

bool Blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  if (size == 0) return 0;
  const IpAddress& peer = Peers()[data[0] % Peers().size()];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = rest.find('\n');
  std::string_view xff = rest.substr(0, nl);
  std::string_view forwarded = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
  const auto& trusted = TrustedProxies();

  IpAddress client = ClientAddress(peer, xff, forwarded, trusted);
  std::string what = "peer " + peer.ToString() + ", X-Forwarded-For " + fuzz::Escape(xff) +
                     ", Forwarded " + fuzz::Escape(forwarded) + " -> " + client.ToString();

  if (!IsTrusted(peer)) {
    FUZZ_CHECK(client == peer, "untrusted peer chose its address: " + what);
    return 0;
  }
  FUZZ_CHECK(client.family == Family::kV6 || client.bytes[4] == 0, "stray bytes: " + what);
  if (!Blank(xff)) {
    FUZZ_CHECK(client == ClientAddress(peer, xff, "", trusted),
               "Forwarded used although X-Forwarded-For is set: " + what);
    if (!IsTrusted(client)) {
      std::string longer = "198.51.100.1, " + std::string(xff);
      FUZZ_CHECK(client == ClientAddress(peer, longer, forwarded, trusted),
                 "a client-written entry left of " + client.ToString() + " changed it: " + what);
    }
  } else {
    FUZZ_CHECK(client == ClientAddress(peer, "", forwarded, trusted),
               "blank X-Forwarded-For changed the result: " + what);
  }
  return 0;
}
