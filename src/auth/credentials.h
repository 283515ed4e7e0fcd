// The secrets of API tokens and access keys: how they look and how new ones
// are made. A token carries a fixed prefix so that Pinhole can tell it from
// a session token without a store lookup, and secret scanners can find one
// that leaked. Thread-safe (OpenSSL's CSPRNG).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole {

inline constexpr std::string_view kApiTokenPrefix = "pht_";

// "pht_" + 256 random bits (base64url).
std::string NewApiToken();
bool IsApiToken(std::string_view token);
// "PHK" + 17 characters of A-Z and 2-7 (85 random bits): public, like an AWS key id.
std::string NewAccessKeyId();
// 40 letters and digits (about 238 random bits); safe in `--user KEY:SECRET`.
std::string NewSecretAccessKey();
// A credential's name: 1-64 characters of letters, digits, space, _ . - :
// InvalidArgument "invalid_field" otherwise.
Status CheckCredentialName(std::string_view name);

}  // namespace pinhole
