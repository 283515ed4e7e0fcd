// Percent-encoding and the form encoding of AWS Query API requests
// (Action=...&Version=...&IpPermissions.1.IpProtocol=tcp...).
//
// SigV4 wants RFC 3986 encoding: only A-Z a-z 0-9 - _ . ~ stay as they are,
// everything else (space included) becomes %XX with upper-case hex. Form
// bodies are encoded as HTML forms and the AWS SDKs do (space as '+'),
// because some servers (moto) re-encode the parsed form that way when they
// check the body's signature.
//
// Thread-safety: pure functions; QueryParams is a plain value.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pinhole::aws {

// Percent-encodes every byte outside the unreserved set; '/' is kept when
// `keep_slash` (for URI paths).
std::string UriEncode(std::string_view s, bool keep_slash = false);
// Decodes %XX escapes ('+' stays '+'); a malformed escape is kept literally.
std::string UriDecode(std::string_view s);
// Like UriEncode, but a space becomes '+' (application/x-www-form-urlencoded).
std::string FormEncode(std::string_view s);
// Like UriDecode, but '+' becomes a space.
std::string FormDecode(std::string_view s);

// The parameters of one Query API call, in the order they were added.
class QueryParams {
 public:
  QueryParams& Add(std::string key, std::string value) {
    params_.emplace_back(std::move(key), std::move(value));
    return *this;
  }
  QueryParams& Add(std::string key, long long value) {
    return Add(std::move(key), std::to_string(value));
  }
  const std::vector<std::pair<std::string, std::string>>& params() const { return params_; }
  // "k1=v1&k2=v2", each part FormEncoded, in insertion order.
  std::string Encode() const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

}  // namespace pinhole::aws
