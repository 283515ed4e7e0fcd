#include "sigv4/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "sigv4/query.h"

namespace pinhole::aws {
namespace {

std::string FormatUtc(Time t, const char* format) {
  time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  struct tm tm_utc {};
  gmtime_r(&secs, &tm_utc);
  char buf[32];
  size_t n = strftime(buf, sizeof buf, format, &tm_utc);
  return std::string(buf, n);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string TrimAndCollapse(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string AmzDate(Time t) { return FormatUtc(t, "%Y%m%dT%H%M%SZ"); }
std::string AmzDay(Time t) { return FormatUtc(t, "%Y%m%d"); }

std::string CanonicalUri(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return UriEncode(path, /*keep_slash=*/true);
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '/';
    out += UriEncode(segments[i]);
  }
  if (!segments.empty() && path.back() == '/') out += '/';
  return out;
}

std::string CanonicalQuery(const HeaderList& decoded_params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(decoded_params.size());
  for (const auto& [k, v] : decoded_params) encoded.emplace_back(UriEncode(k), UriEncode(v));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out += '&';
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

CanonicalHeaders CanonicalizeHeaders(const HeaderList& headers) {
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    std::string key = ToLower(TrimAndCollapse(name));
    std::string v = TrimAndCollapse(value);
    auto [it, inserted] = merged.emplace(key, v);
    if (!inserted) it->second += "," + v;
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view canonical_uri,
                             std::string_view canonical_query, const CanonicalHeaders& headers,
                             std::string_view payload_hash) {
  std::string out;
  out.reserve(256 + headers.block.size() + canonical_query.size());
  out.append(method).append("\n");
  out.append(canonical_uri).append("\n");
  out.append(canonical_query).append("\n");
  out.append(headers.block).append("\n");
  out.append(headers.signed_headers).append("\n");
  out.append(payload_hash);
  return out;
}

std::string CredentialScope(std::string_view day, std::string_view region,
                            std::string_view service) {
  std::string out(day);
  out.append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(Sha256Hex(canonical_request));
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view day, std::string_view region,
                       std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  std::string key = HmacSha256(k, day);
  std::fill(k.begin(), k.end(), '\0');
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, "aws4_request");
}

std::string ComputeSignature(std::string_view signing_key, std::string_view string_to_sign) {
  return HexEncode(HmacSha256(signing_key, string_to_sign));
}

SigningResult SignRequest(const SigningRequest& request, const SigningCredentials& credentials,
                          const SigningOptions& options) {
  SigningResult result;
  const std::string amz_date = AmzDate(options.time);
  const std::string day = AmzDay(options.time);

  HeaderList headers = request.headers;
  result.headers_to_add.emplace_back("X-Amz-Date", amz_date);
  if (options.add_content_sha256) {
    result.headers_to_add.emplace_back("X-Amz-Content-Sha256", request.payload_hash);
  }
  const bool has_token = !credentials.session_token.empty();
  if (has_token && options.sign_session_token) {
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  for (const auto& h : result.headers_to_add) headers.push_back(h);
  if (has_token && !options.sign_session_token) {
    result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  CanonicalHeaders canonical_headers = CanonicalizeHeaders(headers);
  result.canonical_request =
      CanonicalRequest(request.method, CanonicalUri(request.path, options.normalize_path),
                       CanonicalQuery(request.query), canonical_headers, request.payload_hash);
  const std::string scope = CredentialScope(day, options.region, options.service);
  result.string_to_sign = StringToSign(amz_date, scope, result.canonical_request);
  std::string key = SigningKey(credentials.secret_access_key, day, options.region, options.service);
  result.signature = ComputeSignature(key, result.string_to_sign);
  std::fill(key.begin(), key.end(), '\0');

  std::string authorization(kSigV4Algorithm);
  authorization += " Credential=" + credentials.access_key_id + "/" + scope;
  authorization += ", SignedHeaders=" + canonical_headers.signed_headers;
  authorization += ", Signature=" + result.signature;
  result.headers_to_add.emplace_back("Authorization", std::move(authorization));
  return result;
}

PresignResult PresignRequest(const SigningRequest& request, const SigningCredentials& credentials,
                             const SigningOptions& options, std::chrono::seconds expires) {
  PresignResult result;
  const std::string amz_date = AmzDate(options.time);
  const std::string day = AmzDay(options.time);
  const std::string scope = CredentialScope(day, options.region, options.service);
  CanonicalHeaders canonical_headers = CanonicalizeHeaders(request.headers);

  result.query_to_add = {{"X-Amz-Algorithm", std::string(kSigV4Algorithm)},
                         {"X-Amz-Credential", credentials.access_key_id + "/" + scope},
                         {"X-Amz-Date", amz_date},
                         {"X-Amz-SignedHeaders", canonical_headers.signed_headers},
                         {"X-Amz-Expires", std::to_string(expires.count())}};
  const bool has_token = !credentials.session_token.empty();
  if (has_token && options.sign_session_token) {
    result.query_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  HeaderList query = request.query;
  for (const auto& q : result.query_to_add) query.push_back(q);
  if (has_token && !options.sign_session_token) {
    result.query_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }

  result.canonical_request =
      CanonicalRequest(request.method, CanonicalUri(request.path, options.normalize_path),
                       CanonicalQuery(query), canonical_headers, request.payload_hash);
  result.string_to_sign = StringToSign(amz_date, scope, result.canonical_request);
  std::string key = SigningKey(credentials.secret_access_key, day, options.region, options.service);
  result.signature = ComputeSignature(key, result.string_to_sign);
  std::fill(key.begin(), key.end(), '\0');
  result.query_to_add.emplace_back("X-Amz-Signature", result.signature);
  return result;
}

}  // namespace pinhole::aws
