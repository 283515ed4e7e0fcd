// TOTP second factors (RFC 6238: HMAC-SHA1, 6 digits, 30 s steps) through
// liboath, the otpauth:// URI authenticator apps read, and that URI as a QR
// code (libqrencode) drawn as SVG for the portal. Recovery codes for when
// the phone is gone. Thread-safe: pure functions of their inputs (and the
// CSPRNG for new secrets and codes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

inline constexpr int kTotpDigits = 6;
inline constexpr int kTotpStepSeconds = 30;

// A new 160-bit secret, base32 (RFC 4648, no padding), as apps expect.
std::string NewTotpSecret();
// otpauth://totp/Pinhole:<account>?secret=...&issuer=Pinhole&algorithm=SHA1&digits=6&period=30
std::string TotpUri(std::string_view base32_secret, std::string_view account);
// The time step that `code` matches at `now`, within ±`window` steps.
// InvalidArgument "invalid_totp" for a code of the wrong form or one that
// matches no step (so a caller cannot tell them apart by the reason).
Result<int64_t> VerifyTotp(std::string_view base32_secret, std::string_view code, Time now,
                           int window = 1);
// The code of `base32_secret` at `now` (for tests and the enrolment check).
Result<std::string> TotpCode(std::string_view base32_secret, Time now);
// An SVG image of `text` as a QR code (error correction M, 4-module quiet zone).
Result<std::string> QrSvg(std::string_view text);

// Ten one-time recovery codes, "xxxx-xxxx-xxxx" from an unambiguous
// alphabet (about 62 bits each), to be shown once and stored hashed.
std::vector<std::string> NewRecoveryCodes();
// The stored form of a recovery code: hex SHA-256 of it, ignoring case,
// spaces and dashes (people retype them).
std::string HashRecoveryCode(std::string_view code);

}  // namespace pinhole
