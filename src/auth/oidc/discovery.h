// The OpenID Provider metadata document (OpenID Connect Discovery 1.0,
// "<issuer>/.well-known/openid-configuration"). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole::oidc {

struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// Whether `url` may be talked to: https, or http to a loopback host
// (127.0.0.0/8, [::1], localhost) when `allow_loopback_http` (tests and
// a provider on the same machine; nothing else leaves the host in clear).
bool IsAcceptableUrl(std::string_view url, bool allow_loopback_http);
// http://127.0.0.1..., http://localhost..., http://[::1]...
bool IsLoopbackHttpUrl(std::string_view url);

// Parses the document and checks that its "issuer" is exactly
// `expected_issuer` (Discovery 4.3; a mismatch could let one provider pose
// as another), that the three endpoints are present and acceptable URLs
// (see IsAcceptableUrl; loopback http only if the issuer is), and that the
// provider supports PKCE S256 if it says which methods it supports.
// Errors: InvalidArgument, reason "invalid_discovery".
Result<ProviderMetadata> ParseDiscovery(std::string_view json_text,
                                        std::string_view expected_issuer);

}  // namespace pinhole::oidc
