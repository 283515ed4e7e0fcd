#include "cli/password_gen.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace pinhole::cli {

Result<std::string> GeneratePassword(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  constexpr unsigned kSize = sizeof(kAlphabet) - 1;
  // Bytes at or above this limit are dropped so each character is equally
  // likely (no modulo bias).
  constexpr unsigned kLimit = 256 - 256 % kSize;
  std::string out;
  while (out.size() < length) {
    unsigned char buf[64];
    ssize_t n = ::getrandom(buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Internal(std::string("getrandom: ") + std::strerror(errno));
    }
    for (ssize_t i = 0; i < n && out.size() < length; ++i) {
      if (buf[i] < kLimit) out += kAlphabet[buf[i] % kSize];
    }
  }
  return out;
}

}  // namespace pinhole::cli
