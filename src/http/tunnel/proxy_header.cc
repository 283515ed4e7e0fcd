#include "http/tunnel/proxy_header.h"

#include <array>
#include <string_view>

namespace pinhole {
namespace {

constexpr std::string_view kSignature("\r\n\r\n\0\r\nQUIT\n", 12);
constexpr char kVersion2Proxy = 0x21;
constexpr char kTcpOverIpv4 = 0x11;
constexpr char kTcpOverIpv6 = 0x21;

std::array<uint8_t, 16> AsIpv6(const IpAddress& a) {
  if (a.family == Family::kV6) return a.bytes;
  std::array<uint8_t, 16> out{};
  out[10] = 0xff;
  out[11] = 0xff;
  for (int i = 0; i < 4; ++i) out[12 + i] = a.bytes[i];
  return out;
}

void AppendPort(std::string& out, uint16_t port) {
  out.push_back(static_cast<char>(port >> 8));
  out.push_back(static_cast<char>(port & 0xff));
}

}  // namespace

std::string ProxyV2Header(const IpAddress& source, uint16_t source_port,
                          const IpAddress& destination, uint16_t destination_port) {
  const bool v4 = source.family == Family::kV4 && destination.family == Family::kV4;
  std::string out(kSignature);
  out.push_back(kVersion2Proxy);
  out.push_back(v4 ? kTcpOverIpv4 : kTcpOverIpv6);
  const uint16_t length = v4 ? 12 : 36;
  AppendPort(out, length);
  if (v4) {
    out.append(reinterpret_cast<const char*>(source.bytes.data()), 4);
    out.append(reinterpret_cast<const char*>(destination.bytes.data()), 4);
  } else {
    std::array<uint8_t, 16> s = AsIpv6(source);
    std::array<uint8_t, 16> d = AsIpv6(destination);
    out.append(reinterpret_cast<const char*>(s.data()), s.size());
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  AppendPort(out, source_port);
  AppendPort(out, destination_port);
  return out;
}

}  // namespace pinhole
