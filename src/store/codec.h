// Encodings the stores share: times as integer milliseconds, string lists and
// the policy spec as JSON text. Pure functions; thread-safe.
//
// Decoders never throw: malformed input (a corrupt row) comes back as an
// Internal status naming what was wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace pinhole::store {

inline int64_t ToMillis(Time t) { return t.time_since_epoch().count(); }
inline Time FromMillis(int64_t ms) { return Time(Millis(ms)); }

// A JSON array of strings, e.g. ["ssh","rdp"].
std::string EncodeStringList(const std::vector<std::string>& list);
Result<std::vector<std::string>> DecodeStringList(std::string_view json);

// Everything in a Policy except id and name, as a JSON object. Decoding takes
// missing keys from a default-constructed Policy and ignores unknown ones, so
// that fields added to Policy later need no schema migration.
std::string EncodePolicySpec(const Policy& policy);
// Fills every field of `policy` except id and name.
Status DecodePolicySpec(std::string_view json, Policy& policy);

// 32 random bytes from OpenSSL, hex-encoded: a new key for
// Store::GetOrCreateSecret.
Result<std::string> NewSecret();

}  // namespace pinhole::store
