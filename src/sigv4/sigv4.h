// AWS Signature Version 4 (header signing), kept free of anything specific to
// the EC2 client: it takes a method, a path, query parameters, headers, a
// payload hash, a time, credentials, a region and a service. The individual
// steps (canonical request, string to sign, signing key) are exported so that
// a server verifying incoming SigV4 requests can reuse them.
//
// The signing key is derived from the secret on every call; nothing here
// keeps or logs a secret. Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace pinhole::aws {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct SigningCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct SigningRequest {
  std::string method;  // "GET", "POST", ...
  // The path as the resource names it, NOT percent-encoded ("/example space/");
  // the canonical form encodes it once.
  std::string path = "/";
  // Query parameters, decoded; order does not matter.
  HeaderList query;
  // Headers to sign, as they will be sent; must contain Host. Duplicate names
  // are allowed (their values are joined with ',' in order).
  HeaderList headers;
  // Lower-case hex SHA-256 of the body (Sha256Hex(body)).
  std::string payload_hash;
};

struct SigningOptions {
  std::string region;
  std::string service;
  Time time;
  // Remove "." / ".." segments and repeated slashes from the path first (every
  // service but S3).
  bool normalize_path = true;
  // Some services want X-Amz-Security-Token added after signing (unsigned).
  bool sign_session_token = true;
  // Adds a signed X-Amz-Content-Sha256 header carrying payload_hash.
  bool add_content_sha256 = false;
};

struct SigningResult {
  // Headers the caller must add to the request, in this order: X-Amz-Date,
  // X-Amz-Content-Sha256 (if asked), X-Amz-Security-Token (if any),
  // Authorization.
  HeaderList headers_to_add;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";

SigningResult SignRequest(const SigningRequest& request, const SigningCredentials& credentials,
                          const SigningOptions& options);

struct PresignResult {
  // Query parameters (decoded) the caller appends to the URL, in this order:
  // X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders,
  // X-Amz-Expires, X-Amz-Security-Token (if any), X-Amz-Signature.
  HeaderList query_to_add;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

// Query-string signing (a presigned URL valid for `expires`): the request's
// headers are signed as they are (no X-Amz-Date header is added);
// `options.add_content_sha256` is ignored.
PresignResult PresignRequest(const SigningRequest& request, const SigningCredentials& credentials,
                             const SigningOptions& options, std::chrono::seconds expires);

// --- The steps, for reuse and for tests -------------------------------------

std::string HexEncode(std::string_view bytes);
std::string Sha256Hex(std::string_view data);
// Raw (binary) HMAC-SHA256.
std::string HmacSha256(std::string_view key, std::string_view data);

// "20150830T123600Z" and "20150830".
std::string AmzDate(Time t);
std::string AmzDay(Time t);

std::string CanonicalUri(std::string_view path, bool normalize);
// Each key and value encoded, sorted by key then value, joined with '&'.
std::string CanonicalQuery(const HeaderList& decoded_params);

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per header, sorted by name
  std::string signed_headers;  // "host;x-amz-date"
};
// Lower-cases names, trims values and collapses inner whitespace runs (folded
// lines included) to one space, joins repeated names with ','.
CanonicalHeaders CanonicalizeHeaders(const HeaderList& headers);

std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, const CanonicalHeaders& headers,
                             std::string_view payload_hash);
// "<day>/<region>/<service>/aws4_request"
std::string CredentialScope(std::string_view day, std::string_view region,
                            std::string_view service);
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// Binary key: HMAC chain over day, region, service and "aws4_request".
std::string SigningKey(std::string_view secret, std::string_view day, std::string_view region,
                       std::string_view service);
// Hex HMAC of the string to sign.
std::string ComputeSignature(std::string_view signing_key, std::string_view string_to_sign);

}  // namespace pinhole::aws
