#include "auth/credentials.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "auth/tokens.h"

namespace pinhole {
namespace {

// `n` characters drawn uniformly from `alphabet` (rejection sampling, so no
// character is likelier than another).
std::string RandomFrom(std::string_view alphabet, size_t n) {
  const unsigned limit = 256 - 256 % alphabet.size();
  std::string out;
  while (out.size() < n) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) std::abort();  // a guessable key is worse than none
    for (unsigned char b : buf) {
      if (b < limit && out.size() < n) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return out;
}

}  // namespace

std::string NewApiToken() { return std::string(kApiTokenPrefix) + RandomToken(32); }

bool IsApiToken(std::string_view token) {
  return token.substr(0, kApiTokenPrefix.size()) == kApiTokenPrefix;
}

std::string NewAccessKeyId() { return "PHK" + RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 17); }

std::string NewSecretAccessKey() {
  return RandomFrom("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
}

Status CheckCredentialName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::Invalid("invalid_field", "name: 1 to 64 characters");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '_' || c == '.' || c == '-' || c == ':';
    if (!ok) {
      return Status::Invalid("invalid_field",
                             "name: only letters, digits, space and _ . - : are allowed");
    }
  }
  return Status::Ok();
}

}  // namespace pinhole
