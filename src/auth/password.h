// Local passwords, hashed with argon2id.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole {

// Encoded argon2id hash ("$argon2id$v=19$m=...") with a fresh random salt.
// Parameters: t=2, m=19 MiB, p=1 (OWASP's minimum for argon2id).
Result<std::string> HashPassword(std::string_view password);
// Constant-time check of `password` against an encoded hash; false for an
// empty or malformed hash.
bool VerifyPassword(std::string_view password, std::string_view encoded_hash);
// Password rules for new passwords: 10..1024 bytes, and not one of the
// common passwords shipped in data/common-passwords.txt (ignoring case).
// InvalidArgument "weak_password" saying which rule.
Status CheckPasswordPolicy(std::string_view password);
// Whether `password` is on the common-password list (ignoring case).
bool IsCommonPassword(std::string_view password);
// A random password people can type: 20 characters from an unambiguous alphabet.
std::string GeneratePassword();

}  // namespace pinhole
