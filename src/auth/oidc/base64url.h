// base64url (RFC 4648 section 5) without padding, as JOSE (RFC 7515) uses it.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pinhole::oidc {

std::string Base64UrlEncode(std::string_view bytes);
// The bytes of `text`, or nullopt if it holds a character outside the
// base64url alphabet, padding, or a length no encoder produces (len % 4 == 1)
// or non-zero trailing bits (so each byte string has exactly one encoding).
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace pinhole::oidc
