#include "auth/link_tokens.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

#include "auth/tokens.h"

namespace pinhole {
namespace {

// 16 bytes of MAC are plenty for a link and keep URLs short.
constexpr size_t kMacHexChars = 32;

std::string_view PurposeLetter(std::string_view purpose) {
  if (purpose == "invite") return "i";
  if (purpose == "approve") return "a";
  if (purpose == "deny") return "d";
  if (purpose == "set_password") return "p";
  return "";
}

std::string Mac(std::string_view key, std::string_view signed_part) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), out, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len && hex.size() < kMacHexChars; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 15]);
  }
  return hex;
}

Status InvalidLink() {
  return Status(Code::kNotFound, "invalid_link", "this link is not valid");
}

}  // namespace

IssuedLinkToken IssueLinkToken(std::string_view key, std::string_view purpose, Id lease_id,
                               Id user_id, Time now, Time expires) {
  const auto expiry = std::chrono::duration_cast<Seconds>(expires.time_since_epoch()).count();
  std::string body = std::string(PurposeLetter(purpose)) + "." + RandomToken(24) + "." +
                     std::to_string(expiry);
  std::string token = body + "." + Mac(key, body);
  ActionToken record{HashToken(token), std::string(purpose), lease_id, user_id, now, expires,
                     std::nullopt};
  return {std::move(token), std::move(record)};
}

Status VerifyLinkToken(std::string_view key, std::string_view token, std::string_view purpose,
                       Time now) {
  if (token.size() > 200) return InvalidLink();
  const size_t mac_dot = token.rfind('.');
  if (mac_dot == std::string_view::npos) return InvalidLink();
  std::string_view body = token.substr(0, mac_dot);
  std::string_view mac = token.substr(mac_dot + 1);
  if (mac.size() != kMacHexChars || !ConstantTimeEquals(mac, Mac(key, body))) return InvalidLink();
  // The signature is ours, so the fields are as we wrote them; still parse
  // defensively.
  std::string_view letter = PurposeLetter(purpose);
  if (letter.empty() || body.substr(0, 2) != std::string(letter) + ".") return InvalidLink();
  const size_t exp_dot = body.rfind('.');
  if (exp_dot == std::string_view::npos || exp_dot < 2) return InvalidLink();
  std::string_view expiry_text = body.substr(exp_dot + 1);
  int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size()) return InvalidLink();
  if (now >= Time(Seconds(expiry))) {
    return Status::Conflict("link_expired", "this link has expired");
  }
  return Status::Ok();
}

}  // namespace pinhole
