#include "auth/totp.h"

#include <liboath/oath.h>
#include <openssl/rand.h>
#include <qrencode.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "auth/tokens.h"

namespace pinhole {
namespace {

void InitOath() {
  static std::once_flag once;
  std::call_once(once, [] { oath_init(); });
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();  // a guessable second factor is worse than none
  }
  return out;
}

Result<std::string> DecodeSecret(std::string_view base32) {
  InitOath();
  char* raw = nullptr;
  size_t len = 0;
  std::string in(base32);
  if (oath_base32_decode(in.data(), in.size(), &raw, &len) != OATH_OK || raw == nullptr) {
    return Status::Internal("stored TOTP secret is not base32");
  }
  std::string out(raw, len);
  free(raw);
  return out;
}

std::string UriEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

time_t UnixSeconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string NewTotpSecret() {
  InitOath();
  std::string raw = RandomBytes(20);
  char* out = nullptr;
  size_t len = 0;
  if (oath_base32_encode(raw.data(), raw.size(), &out, &len) != OATH_OK) std::abort();
  std::string secret(out, len);
  free(out);
  while (!secret.empty() && secret.back() == '=') secret.pop_back();
  return secret;
}

std::string TotpUri(std::string_view base32_secret, std::string_view account) {
  return "otpauth://totp/Pinhole:" + UriEncode(account) + "?secret=" + std::string(base32_secret) +
         "&issuer=Pinhole&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpStepSeconds);
}

Result<int64_t> VerifyTotp(std::string_view base32_secret, std::string_view code, Time now,
                           int window) {
  const Status invalid = Status::Invalid("invalid_totp", "the one-time code is not valid");
  if (code.size() != kTotpDigits ||
      !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return invalid;
  }
  ASSIGN_OR_RETURN(std::string secret, DecodeSecret(base32_secret));
  int position = 0;
  uint64_t counter = 0;
  std::string otp(code);
  int rc = oath_totp_validate3(secret.data(), secret.size(), UnixSeconds(now), kTotpStepSeconds, 0,
                               static_cast<size_t>(window), &position, &counter, otp.c_str());
  if (rc < 0) return invalid;
  return static_cast<int64_t>(counter);
}

Result<std::string> TotpCode(std::string_view base32_secret, Time now) {
  ASSIGN_OR_RETURN(std::string secret, DecodeSecret(base32_secret));
  char out[16] = {};
  if (oath_totp_generate(secret.data(), secret.size(), UnixSeconds(now), kTotpStepSeconds, 0,
                         kTotpDigits, out) != OATH_OK) {
    return Status::Internal("TOTP code generation failed");
  }
  return std::string(out);
}

Result<std::string> QrSvg(std::string_view text) {
  std::string in(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(
      QRcode_encodeString8bit(in.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (!qr) return Status::Invalid("invalid_field", "too long for a QR code");
  const int quiet = 4, width = qr->width, size = width + 2 * quiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if (qr->data[y * width + x] & 1) {
        path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h1v1h-1z";
      }
    }
  }
  const std::string s = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + s + " " + s +
         "\" width=\"" + std::to_string(size * 5) + "\" height=\"" + std::to_string(size * 5) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + s + "\" height=\"" + s +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

std::vector<std::string> NewRecoveryCodes() {
  static constexpr std::string_view kAlphabet = "abcdefghjkmnpqrstuvwxyz23456789";  // 31
  std::vector<std::string> codes;
  while (codes.size() < 10) {
    std::string code;
    while (code.size() < 14) {
      if (code.size() == 4 || code.size() == 9) {
        code += '-';
        continue;
      }
      unsigned char b = static_cast<unsigned char>(RandomBytes(1)[0]);
      if (b < 248) code += kAlphabet[b % kAlphabet.size()];  // 248 = 8 * 31: no bias
    }
    codes.push_back(code);
  }
  return codes;
}

std::string HashRecoveryCode(std::string_view code) {
  std::string normal;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    normal += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return HashToken(normal);
}

}  // namespace pinhole
