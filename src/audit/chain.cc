#include "audit/chain.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace pinhole {
namespace {

// Fields are framed as an 8-byte big-endian length followed by the bytes, so
// that no choice of field contents can make two different events encode
// alike (e.g. actor "ab" + action "c" versus actor "a" + action "bc").
void PutField(std::string& out, std::string_view field) {
  uint64_t n = field.size();
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(field);
}

void PutInt(std::string& out, int64_t v) {
  char buf[8];
  auto u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
  PutField(out, std::string_view(buf, 8));
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    // SHA-256 in the default provider cannot fail short of memory exhaustion;
    // an audit log with a made-up hash would be worse than stopping.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string ComputeAuditHash(const AuditEvent& event) {
  std::string buf;
  buf.reserve(256 + event.details_json.size());
  // A version tag lets a future encoding coexist with this one.
  PutField(buf, "pinhole-audit-v1");
  PutInt(buf, event.seq);
  PutInt(buf, event.time.time_since_epoch().count());
  PutField(buf, event.actor);
  PutField(buf, event.action);
  PutField(buf, event.object);
  PutField(buf, event.client_ip);
  PutField(buf, event.details_json);
  PutField(buf, event.prev_hash);
  return Sha256Hex(buf);
}

int FindBrokenLink(const std::vector<AuditEvent>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const AuditEvent& e = events[i];
    if (i > 0) {
      const AuditEvent& prev = events[i - 1];
      if (e.seq != prev.seq + 1 || e.prev_hash != prev.hash) return static_cast<int>(i);
    }
    if (ComputeAuditHash(e) != e.hash) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace pinhole
