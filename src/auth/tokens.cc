#include "auth/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <vector>

#include "audit/chain.h"

namespace pinhole {

std::string RandomToken(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (bytes > 0 && RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1) {
    // A predictable session token is worse than no server.
    std::abort();
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes * 4 + 2) / 3);
  size_t i = 0;
  for (; i + 3 <= bytes; i += 3) {
    uint32_t v = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (size_t rest = bytes - i; rest > 0) {
    uint32_t v = raw[i] << 16 | (rest == 2 ? raw[i + 1] << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  OPENSSL_cleanse(raw.data(), raw.size());
  return out;
}

std::string HashToken(std::string_view token) { return Sha256Hex(token); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The length is not secret (tokens have a fixed size); the contents are.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace pinhole
