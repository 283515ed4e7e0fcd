// Reading request bodies field by field with bounded sizes and clear errors.
// Every failure is InvalidArgument with a reason API callers can act on:
// "invalid_field" (wrong type, too long, bad value) or "unknown_field".
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

inline constexpr size_t kMaxStringLength = 1024;
inline constexpr size_t kMaxListLength = 1000;

// Parses a request body that must be a JSON object (400 "malformed_json" otherwise;
// an empty body is an empty object when `empty_ok`).
Result<nlohmann::json> ParseJsonObject(std::string_view body, bool empty_ok = false);

// Refuses keys outside `known`; `unsupported` keys get reason "not_supported".
Status CheckKeys(const nlohmann::json& obj, const std::set<std::string>& known,
                 const std::set<std::string>& unsupported = {});

// Each reader leaves `out` untouched when the key is absent; `required` makes absence an error.
Status ReadString(const nlohmann::json& obj, const char* key, std::string& out,
                  bool required = false, size_t max_length = kMaxStringLength);
Status ReadBool(const nlohmann::json& obj, const char* key, bool& out);
Status ReadInt(const nlohmann::json& obj, const char* key, int& out, int min, int max);
Status ReadStringList(const nlohmann::json& obj, const char* key, std::vector<std::string>& out);
// A duration as "1h30m" or integer seconds.
Status ReadDuration(const nlohmann::json& obj, const char* key, std::optional<Seconds>& out);

// A whole decimal number within [min, max] (path ids, query limits); nullopt
// for anything else, trailing characters included.
std::optional<int64_t> ParseInteger(std::string_view text, int64_t min, int64_t max);

// A name for an object: 1..64 of [A-Za-z0-9._-], starting with a letter or digit.
bool IsValidName(std::string_view name);
// A plausible email: local@domain, no spaces, <= 254 chars. Lower-cased on success.
std::optional<std::string> NormalizeEmail(std::string_view email);

}  // namespace pinhole
