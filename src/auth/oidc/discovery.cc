#include "auth/oidc/discovery.h"

#include <nlohmann/json.hpp>

namespace pinhole::oidc {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Status Bad(std::string message) {
  return Status::Invalid("invalid_discovery", "OIDC discovery: " + std::move(message));
}

}  // namespace

bool IsLoopbackHttpUrl(std::string_view url) {
  if (!StartsWith(url, "http://")) return false;
  std::string_view rest = url.substr(7);
  std::string_view host;
  if (StartsWith(rest, "[")) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
  } else {
    auto end = rest.find_first_of(":/?#");
    host = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end);
  }
  if (!rest.empty() && rest[0] != ':' && rest[0] != '/' && rest[0] != '?' && rest[0] != '#') {
    return false;
  }
  if (host == "localhost" || host == "[::1]") return true;
  // 127.d.d.d, digits and dots only.
  if (!StartsWith(host, "127.")) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 3;
}

bool IsAcceptableUrl(std::string_view url, bool allow_loopback_http) {
  if (url.size() > 2048) return false;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  if (StartsWith(url, "https://") && url.size() > 8) return true;
  return allow_loopback_http && IsLoopbackHttpUrl(url);
}

Result<ProviderMetadata> ParseDiscovery(std::string_view json_text,
                                        std::string_view expected_issuer) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("the document is not a JSON object");
  ProviderMetadata m;
  auto str = [&j](const char* key, std::string& out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      return Bad(std::string("missing \"") + key + "\"");
    }
    out = it->get<std::string>();
    return Status::Ok();
  };
  for (auto [key, out] :
       {std::pair{"issuer", &m.issuer},
        std::pair{"authorization_endpoint", &m.authorization_endpoint},
        std::pair{"token_endpoint", &m.token_endpoint}, std::pair{"jwks_uri", &m.jwks_uri}}) {
    Status st = str(key, *out);
    if (!st.ok()) return st;
  }
  if (m.issuer != expected_issuer) {
    return Bad("the document names issuer \"" + m.issuer.substr(0, 200) + "\", not \"" +
               std::string(expected_issuer) + "\"");
  }
  bool loopback = IsLoopbackHttpUrl(m.issuer);
  for (const std::string* url : {&m.authorization_endpoint, &m.token_endpoint, &m.jwks_uri}) {
    if (!IsAcceptableUrl(*url, loopback)) {
      return Bad("endpoint \"" + url->substr(0, 200) + "\" is not an https URL");
    }
  }
  if (auto methods = j.find("code_challenge_methods_supported"); methods != j.end()) {
    bool s256 = false;
    if (methods->is_array()) {
      for (const auto& v : *methods) s256 = s256 || v == "S256";
    }
    if (!s256) return Bad("the provider does not support PKCE with S256");
  }
  return m;
}

}  // namespace pinhole::oidc
