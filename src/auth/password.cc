#include "auth/password.h"

#include <cctype>
#include <unordered_set>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <charconv>
#include <cstdlib>
#include <vector>

extern const char kCommonPasswordsText[];  // generated from data/common-passwords.txt

namespace pinhole {
namespace {

constexpr uint32_t kTimeCost = 2;
constexpr uint32_t kMemoryKiB = 19456;
constexpr uint32_t kParallelism = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

constexpr size_t kMinPasswordBytes = 10;
constexpr size_t kMaxPasswordBytes = 1024;
// Longer inputs are never a real password; refusing them bounds the work an
// unauthenticated caller can ask for.
constexpr size_t kMaxVerifyBytes = 4096;

// A stored hash is trusted, but not blindly: parameters far above ours would
// let one bad row make every login allocate gigabytes.
constexpr uint32_t kMaxVerifyMemoryKiB = 256 * 1024;
constexpr uint32_t kMaxVerifyTimeCost = 16;
constexpr uint32_t kMaxVerifyParallelism = 16;

constexpr std::string_view kPrefix = "$argon2id$v=19$";

// Reads "m=..,t=..,p=.." following kPrefix; false if absent or out of bounds.
bool ParamsWithinBounds(std::string_view encoded) {
  if (encoded.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = encoded.substr(kPrefix.size());
  uint32_t values[3];
  constexpr std::string_view kKeys[3] = {"m=", "t=", "p="};
  for (int i = 0; i < 3; ++i) {
    if (rest.substr(0, 2) != kKeys[i]) return false;
    rest.remove_prefix(2);
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), values[i]);
    if (ec != std::errc() || ptr == rest.data()) return false;
    rest.remove_prefix(ptr - rest.data());
    char want = i < 2 ? ',' : '$';
    if (rest.empty() || rest.front() != want) return false;
    rest.remove_prefix(1);
  }
  return values[0] <= kMaxVerifyMemoryKiB && values[1] <= kMaxVerifyTimeCost &&
         values[2] <= kMaxVerifyParallelism;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() > kMaxVerifyBytes) {
    return Status::Invalid("weak_password", "password is too long");
  }
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) {
    return Status::Internal("no randomness available for a password salt");
  }
  size_t len =
      argon2_encodedlen(kTimeCost, kMemoryKiB, kParallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(len + 1, '\0');
  std::string pwd(password);  // a non-null pointer even when empty
  int rc = argon2id_hash_encoded(kTimeCost, kMemoryKiB, kParallelism, pwd.data(), pwd.size(), salt,
                                 sizeof salt, kHashBytes, encoded.data(), encoded.size());
  OPENSSL_cleanse(pwd.data(), pwd.size());
  if (rc != ARGON2_OK) {
    return Status::Internal(std::string("argon2id failed: ") + argon2_error_message(rc));
  }
  return std::string(encoded.data());
}

bool VerifyPassword(std::string_view password, std::string_view encoded_hash) {
  if (encoded_hash.empty() || password.size() > kMaxVerifyBytes) return false;
  if (encoded_hash.find('\0') != std::string_view::npos) return false;
  if (!ParamsWithinBounds(encoded_hash)) return false;
  std::string encoded(encoded_hash);
  std::string pwd(password);
  // argon2id_verify compares the digests in constant time.
  int rc = argon2id_verify(encoded.c_str(), pwd.data(), pwd.size());
  OPENSSL_cleanse(pwd.data(), pwd.size());
  return rc == ARGON2_OK;
}

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const std::unordered_set<std::string>& CommonPasswords() {
  static const std::unordered_set<std::string> list = [] {
    std::unordered_set<std::string> out;
    std::string_view text(kCommonPasswordsText);
    while (!text.empty()) {
      auto nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      if (!line.empty() && !line.starts_with("# ")) out.insert(Lower(line));
      if (nl == std::string_view::npos) break;
      text.remove_prefix(nl + 1);
    }
    return out;
  }();
  return list;
}

}  // namespace

bool IsCommonPassword(std::string_view password) {
  return CommonPasswords().contains(Lower(password));
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < kMinPasswordBytes) {
    return Status::Invalid("weak_password", "a password needs at least " +
                                                std::to_string(kMinPasswordBytes) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::Invalid("weak_password", "a password may have at most " +
                                                std::to_string(kMaxPasswordBytes) + " bytes");
  }
  if (IsCommonPassword(password)) {
    return Status::Invalid("weak_password",
                           "this password is on the list of common passwords; choose another");
  }
  return Status::Ok();
}

std::string GeneratePassword() {
  // No 0/O/o, 1/l/I: people read these passwords off a screen.
  static constexpr std::string_view kAlphabet =
      "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
  static_assert(kAlphabet.size() == 56);
  // Bytes at or above this limit are discarded so every letter is equally likely.
  constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();
  constexpr size_t kLength = 20;
  std::string out;
  out.reserve(kLength);
  while (out.size() < kLength) {
    unsigned char buf[32];
    if (RAND_bytes(buf, sizeof buf) != 1) {
      // OpenSSL's CSPRNG failing is not a condition to carry on from with a
      // weaker password.
      std::abort();
    }
    for (unsigned char b : buf) {
      if (b < kLimit && out.size() < kLength) out.push_back(kAlphabet[b % kAlphabet.size()]);
    }
  }
  return out;
}

}  // namespace pinhole
