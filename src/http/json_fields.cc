#include "http/json_fields.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/duration.h"

namespace pinhole {
namespace {

Status Bad(const char* key, const std::string& what) {
  return Status::Invalid("invalid_field", std::string(key) + ": " + what);
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(std::string_view body, bool empty_ok) {
  if (body.empty() && empty_ok) return nlohmann::json::object();
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status(Code::kInvalidArgument, "malformed_json", "the request body is not valid JSON");
  }
  if (!j.is_object()) {
    return Status(Code::kInvalidArgument, "malformed_json",
                  "the request body must be a JSON object");
  }
  return j;
}

Status CheckKeys(const nlohmann::json& obj, const std::set<std::string>& known,
                 const std::set<std::string>& unsupported) {
  for (const auto& [key, value] : obj.items()) {
    if (unsupported.count(key)) {
      return Status::Invalid("not_supported", key + " is not supported by this server yet");
    }
    if (!known.count(key)) return Status::Invalid("unknown_field", "unknown field: " + key);
  }
  return Status::Ok();
}

Status ReadString(const nlohmann::json& obj, const char* key, std::string& out, bool required,
                  size_t max_length) {
  auto it = obj.find(key);
  if (it == obj.end()) return required ? Bad(key, "is required") : Status::Ok();
  if (!it->is_string()) return Bad(key, "must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_length)
    return Bad(key, "longer than " + std::to_string(max_length) + " bytes");
  if (required && s.empty()) return Bad(key, "must not be empty");
  out = s;
  return Status::Ok();
}

Status ReadBool(const nlohmann::json& obj, const char* key, bool& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_boolean()) return Bad(key, "must be true or false");
  out = it->get<bool>();
  return Status::Ok();
}

Status ReadInt(const nlohmann::json& obj, const char* key, int& out, int min, int max) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_integer()) return Bad(key, "must be an integer");
  auto v = it->get<int64_t>();
  if (v < min || v > max) {
    return Bad(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  out = static_cast<int>(v);
  return Status::Ok();
}

Status ReadStringList(const nlohmann::json& obj, const char* key, std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_array()) return Bad(key, "must be a list of strings");
  if (it->size() > kMaxListLength) {
    return Bad(key, "has more than " + std::to_string(kMaxListLength) + " entries");
  }
  std::vector<std::string> values;
  for (const auto& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
      return Bad(key, "must be a list of non-empty strings");
    }
    if (v.get_ref<const std::string&>().size() > kMaxStringLength) {
      return Bad(key, "has an entry that is too long");
    }
    values.push_back(v.get<std::string>());
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  out = std::move(values);
  return Status::Ok();
}

Status ReadDuration(const nlohmann::json& obj, const char* key, std::optional<Seconds>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  std::string text;
  if (it->is_number_integer()) {
    text = std::to_string(it->get<int64_t>());
  } else if (it->is_string()) {
    text = it->get<std::string>();
  } else {
    return Status::Invalid("invalid_duration",
                           std::string(key) + ": must be a duration like \"2h\"");
  }
  auto d = ParseDuration(text);
  if (!d.ok()) {
    return Status::Invalid("invalid_duration", std::string(key) + ": " + d.status().message());
  }
  out = *d;
  return Status::Ok();
}

std::optional<int64_t> ParseInteger(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::optional<std::string> NormalizeEmail(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return std::nullopt;
  auto at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at != email.rfind('@') || at + 1 == email.size()) {
    return std::nullopt;
  }
  std::string out;
  for (char c : email) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '"' || c == '<' || c == '>' || c == ',') return std::nullopt;
    out.push_back(static_cast<char>(std::tolower(u)));
  }
  return out;
}

}  // namespace pinhole
