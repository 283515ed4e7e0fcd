#include "auth/oidc/oidc_client.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include "auth/oidc/base64url.h"
#include "auth/tokens.h"

namespace pinhole::oidc {
namespace {

using json = nlohmann::json;

Status Unauth(std::string reason, std::string message) {
  return Status(Code::kUnauthenticated, std::move(reason), std::move(message));
}

Status ProviderDown(std::string message) {
  return Status(Code::kUnavailable, "provider_unavailable", std::move(message));
}

std::string StdBase64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

// The provider's error code from a token endpoint reply, kept short and
// printable for the audit log.
std::string ProviderError(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_string()) return "";
  std::string code = j["error"].get<std::string>().substr(0, 64);
  for (char& ch : code) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') ch = '?';
  }
  return code;
}

}  // namespace

std::string PkceChallenge(std::string_view code_verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(code_verifier.data()), code_verifier.size(),
         digest);
  return Base64UrlEncode(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

std::vector<std::string> MapGroups(const json& claims, const OidcProviderConfig& cfg) {
  std::vector<std::string> out;
  if (cfg.groups_claim.empty()) return out;
  auto it = claims.find(cfg.groups_claim);
  if (it == claims.end()) return out;
  std::vector<std::string> asserted;
  if (it->is_string()) {
    asserted.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) asserted.push_back(v.get<std::string>());
    }
  }
  for (const auto& value : asserted) {
    for (const auto& [from, to] : cfg.group_map) {
      if (from == value && std::find(out.begin(), out.end(), to) == out.end()) out.push_back(to);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

OidcClient::OidcClient(OidcProviderConfig config, HttpFetcher& fetcher)
    : config_(std::move(config)), fetcher_(fetcher) {}

Result<ProviderMetadata> OidcClient::Metadata() {
  {
    std::lock_guard lock(mu_);
    if (metadata_) return *metadata_;
  }
  // Discovery is fetched again until it once succeeds; after that the
  // endpoints are fixed for this process (issuers do not move them).
  std::string url = config_.issuer;
  if (!url.empty() && url.back() == '/') url.pop_back();
  url += "/.well-known/openid-configuration";
  auto reply = fetcher_.Get(url);
  if (!reply.ok()) return ProviderDown("discovery: " + reply.status().message());
  if (reply->status != 200) {
    return ProviderDown("discovery: " + url + " answered " + std::to_string(reply->status));
  }
  auto meta = ParseDiscovery(reply->body, config_.issuer);
  if (!meta.ok()) return ProviderDown(meta.status().message());
  std::lock_guard lock(mu_);
  metadata_ = *meta;
  return *meta;
}

Result<std::string> OidcClient::BeginLogin(const std::string& redirect_uri,
                                           const std::string& return_to, PendingLogins& pending,
                                           Time now) {
  auto meta = Metadata();
  if (!meta.ok()) return meta.status();
  std::string state = RandomToken(32);
  PendingLogin login{config_.name, RandomToken(32), RandomToken(48), return_to, {}};
  std::string scope;
  for (const auto& s : config_.scopes) scope += (scope.empty() ? "" : " ") + s;
  std::string url = meta->authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + PercentEncode(config_.client_id) +
         "&redirect_uri=" + PercentEncode(redirect_uri) + "&scope=" + PercentEncode(scope) +
         "&state=" + state + "&nonce=" + login.nonce +
         "&code_challenge=" + PkceChallenge(login.code_verifier) + "&code_challenge_method=S256";
  pending.Put(state, std::move(login), now);
  return url;
}

Status OidcClient::FetchKeys(const std::string& jwks_uri, Time now) {
  auto reply = fetcher_.Get(jwks_uri);
  if (!reply.ok()) return ProviderDown("keys: " + reply.status().message());
  if (reply->status != 200) {
    return ProviderDown("keys: " + jwks_uri + " answered " + std::to_string(reply->status));
  }
  auto keys = ParseJwks(reply->body);
  if (!keys.ok()) return ProviderDown(keys.status().message());
  std::lock_guard lock(mu_);
  // The provider's current set replaces ours: a key it retired stops working.
  keys_ = std::move(keys).value();
  keys_fetched_at_ = now;
  return Status::Ok();
}

Result<Jwk> OidcClient::KeyFor(const Jwt& jwt, Time now) {
  auto find = [this, &jwt]() -> std::optional<Jwk> {
    std::lock_guard lock(mu_);
    if (jwt.kid.empty()) {
      // Without a kid the token can only name the provider's one key.
      if (keys_.size() == 1) return keys_[0];
      return std::nullopt;
    }
    for (const auto& k : keys_) {
      if (k.kid == jwt.kid) return k;
    }
    return std::nullopt;
  };
  if (auto key = find()) return *key;
  bool may_fetch;
  {
    std::lock_guard lock(mu_);
    // An unknown kid may be a rotated key, or garbage from an attacker:
    // fetch again, but not more often than every kJwksRefetchInterval.
    may_fetch = !keys_fetched_at_ || now - *keys_fetched_at_ >= kJwksRefetchInterval;
  }
  if (may_fetch) {
    auto meta = Metadata();
    if (!meta.ok()) return meta.status();
    Status st = FetchKeys(meta->jwks_uri, now);
    if (!st.ok()) return st;
    if (auto key = find()) return *key;
  }
  return Unauth("unknown_kid",
                "ID token: the provider has no key \"" + jwt.kid.substr(0, 64) + "\"");
}

Result<Identity> OidcClient::FinishLogin(const std::string& code, const PendingLogin& login,
                                         const std::string& redirect_uri, Time now) {
  auto meta = Metadata();
  if (!meta.ok()) return meta.status();
  std::string form = "grant_type=authorization_code&code=" + PercentEncode(code) +
                     "&redirect_uri=" + PercentEncode(redirect_uri) +
                     "&code_verifier=" + PercentEncode(login.code_verifier);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-www-form-urlencoded"}};
  if (config_.client_secret.empty()) {
    form += "&client_id=" + PercentEncode(config_.client_id);  // a public client
  } else if (config_.token_auth == "post") {
    form += "&client_id=" + PercentEncode(config_.client_id) +
            "&client_secret=" + PercentEncode(config_.client_secret);
  } else {
    // RFC 6749 2.3.1: both parts form-urlencoded before base64.
    headers.emplace_back("Authorization",
                         "Basic " + StdBase64(PercentEncode(config_.client_id) + ":" +
                                              PercentEncode(config_.client_secret)));
  }
  auto reply = fetcher_.PostForm(meta->token_endpoint, form, headers);
  if (!reply.ok()) return ProviderDown("token endpoint: " + reply.status().message());
  if (reply->status != 200) {
    std::string err = ProviderError(reply->body);
    return Unauth("token_exchange_failed", "the token endpoint answered " +
                                               std::to_string(reply->status) +
                                               (err.empty() ? "" : " (" + err + ")"));
  }
  json body = json::parse(reply->body, nullptr, false);
  if (!body.is_object() || !body.contains("id_token") || !body["id_token"].is_string()) {
    return Unauth("token_exchange_failed", "the token endpoint sent no id_token");
  }
  auto jwt = ParseJwt(body["id_token"].get<std::string>());
  if (!jwt.ok()) return jwt.status();
  const auto& allowed = AllowedAlgs();
  // Refuse a bad alg before touching the network for keys.
  if (std::find(allowed.begin(), allowed.end(), jwt->alg) == allowed.end()) {
    return Unauth("alg_not_allowed",
                  "ID token: algorithm \"" + jwt->alg.substr(0, 32) + "\" is not accepted");
  }
  auto key = KeyFor(*jwt, now);
  if (!key.ok()) return key.status();
  Status st = VerifySignature(*jwt, *key);
  if (!st.ok()) return st;
  st = CheckClaims(jwt->claims, ClaimChecks{config_.issuer, config_.client_id, login.nonce, now});
  if (!st.ok()) return st;

  const json& c = jwt->claims;
  Identity id;
  id.subject = config_.issuer + " " + c["sub"].get<std::string>();
  if (auto e = c.find(config_.email_claim); e != c.end() && e->is_string()) {
    id.email = e->get<std::string>();
  }
  if (auto v = c.find("email_verified"); v != c.end()) {
    // Some providers send the string "true".
    if (v->is_boolean())
      id.email_verified = v->get<bool>();
    else if (v->is_string())
      id.email_verified = *v == "true";
  }
  id.groups = MapGroups(c, config_);
  return id;
}

}  // namespace pinhole::oidc
