// Random secrets (session tokens, CSRF tokens) and how they are stored.
#pragma once

#include <string>
#include <string_view>

namespace pinhole {

// `bytes` random bytes from OpenSSL's CSPRNG, base64url without padding.
std::string RandomToken(size_t bytes = 32);
// What the store keeps for a token: hex SHA-256.
std::string HashToken(std::string_view token);
// Constant-time string equality.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace pinhole
