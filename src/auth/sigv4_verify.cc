#include "auth/sigv4_verify.h"

#include <openssl/crypto.h>
#include <time.h>

#include <algorithm>
#include <cctype>

#include "sigv4/query.h"
#include "sigv4/sigv4.h"

namespace pinhole {
namespace {

constexpr std::string_view kPrefix = "AWS4-HMAC-SHA256 ";

Status Malformed(const std::string& what) {
  return Status(Code::kUnauthenticated, "invalid_authorization",
                "SigV4 Authorization header: " + what);
}

Status Refused(std::string reason, std::string message) {
  return Status::Denied(std::move(reason), std::move(message));
}

template <typename Pred>
bool AllOf(std::string_view s, Pred pred) {
  return std::all_of(s.begin(), s.end(),
                     [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

int IsDigit(int c) { return std::isdigit(c); }

bool IsHeaderNameChar(int c) { return std::islower(c) || std::isdigit(c) || c == '-' || c == '_'; }
bool IsRegionChar(int c) { return std::islower(c) || std::isdigit(c) || c == '-'; }
bool IsLowerHex(int c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); }
bool IsKeyChar(int c) { return std::isalnum(c) != 0; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "20261121T093000Z" -> time; nullopt if malformed.
std::optional<Time> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  if (!AllOf(s.substr(0, 8), IsDigit) || !AllOf(s.substr(9, 6), IsDigit)) return std::nullopt;
  auto num = [&](size_t at, size_t n) { return std::stoi(std::string(s.substr(at, n))); };
  struct tm tm {};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  time_t t = timegm(&tm);
  if (t == -1) return std::nullopt;
  return Time(std::chrono::duration_cast<Millis>(Seconds(t)));
}

std::string Header(const std::map<std::string, std::string>& headers, const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

}  // namespace

bool IsSigV4Authorization(std::string_view header) {
  return header.substr(0, aws::kSigV4Algorithm.size()) == aws::kSigV4Algorithm;
}

Result<SigV4Authorization> ParseSigV4Authorization(std::string_view header) {
  if (header.size() > 4096) return Malformed("too long");
  if (header.substr(0, kPrefix.size()) != kPrefix) {
    return Malformed("must start with \"AWS4-HMAC-SHA256 \"");
  }
  header.remove_prefix(kPrefix.size());
  SigV4Authorization out;
  bool have_credential = false, have_headers = false, have_signature = false;
  for (std::string_view part : Split(header, ',')) {
    part = Trim(part);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) return Malformed("expected name=value, got \"" + std::string(part.substr(0, 40)) + "\"");
    std::string_view name = part.substr(0, eq);
    std::string_view value = part.substr(eq + 1);
    if (name == "Credential") {
      if (have_credential) return Malformed("Credential given twice");
      have_credential = true;
      auto scope = Split(value, '/');
      if (scope.size() != 5) {
        return Malformed("Credential must be <key>/<YYYYMMDD>/<region>/<service>/aws4_request");
      }
      if (scope[0].empty() || scope[0].size() > 128 || !AllOf(scope[0], IsKeyChar)) {
        return Malformed("bad access key id");
      }
      if (scope[1].size() != 8 || !AllOf(scope[1], IsDigit)) return Malformed("bad date in Credential");
      if (scope[2].empty() || scope[2].size() > 64 || !AllOf(scope[2], IsRegionChar)) {
        return Malformed("bad region in Credential");
      }
      if (scope[3].empty() || scope[3].size() > 64 || !AllOf(scope[3], IsRegionChar)) {
        return Malformed("bad service in Credential");
      }
      if (scope[4] != "aws4_request") return Malformed("Credential must end in aws4_request");
      out.access_key_id = scope[0];
      out.day = scope[1];
      out.region = scope[2];
      out.service = scope[3];
    } else if (name == "SignedHeaders") {
      if (have_headers) return Malformed("SignedHeaders given twice");
      have_headers = true;
      for (std::string_view h : Split(value, ';')) {
        if (h.empty() || h.size() > 128 || !AllOf(h, IsHeaderNameChar)) {
          return Malformed("bad header name in SignedHeaders");
        }
        out.signed_headers.emplace_back(h);
      }
      if (out.signed_headers.size() > 64) return Malformed("too many SignedHeaders");
    } else if (name == "Signature") {
      if (have_signature) return Malformed("Signature given twice");
      have_signature = true;
      if (value.size() != 64 || !AllOf(value, IsLowerHex)) {
        return Malformed("Signature must be 64 lower-case hex digits");
      }
      out.signature = value;
    } else {
      return Malformed("unknown component \"" + std::string(name.substr(0, 40)) + "\"");
    }
  }
  if (!have_credential || !have_headers || !have_signature) {
    return Malformed("needs Credential, SignedHeaders and Signature");
  }
  return out;
}

Result<Credential> SigV4Verifier::Verify(const SignedRequest& request,
                                         const AccessKeyLookup& lookup, Time now,
                                         std::string* key_id_out) {
  const auto& headers = *request.headers;
  ASSIGN_OR_RETURN(SigV4Authorization auth,
                   ParseSigV4Authorization(Header(headers, "authorization")));
  if (key_id_out != nullptr) *key_id_out = auth.access_key_id;

  const std::string amz_date = Header(headers, "x-amz-date");
  auto signed_at = ParseAmzDate(amz_date);
  if (!signed_at) return Malformed("X-Amz-Date header missing or not YYYYMMDDTHHMMSSZ");
  if (amz_date.substr(0, 8) != auth.day) {
    return Refused("wrong_scope", "the credential scope's date is not the day of X-Amz-Date");
  }
  if (auth.service != options_.service) {
    return Refused("wrong_service",
                   "requests to Pinhole are signed for the service \"" + options_.service + "\"");
  }
  auto signs = [&](std::string_view name) {
    return std::find(auth.signed_headers.begin(), auth.signed_headers.end(), name) !=
           auth.signed_headers.end();
  };
  if (!signs("host") || !signs("x-amz-date")) {
    return Refused("unsigned_headers", "the signature must cover the host and x-amz-date headers");
  }
  if (now - *signed_at > options_.max_skew || *signed_at - now > options_.max_skew) {
    return Refused("request_expired",
                   "X-Amz-Date " + amz_date + " is more than " +
                       std::to_string(options_.max_skew.count()) +
                       "s from the server's time; check the client's clock");
  }

  auto key = lookup(auth.access_key_id);
  if (!key.ok() || key->kind != "access_key" || (key->expires_at && *key->expires_at <= now)) {
    return Status(Code::kUnauthenticated, "unknown_access_key",
                  "no valid access key " + auth.access_key_id);
  }

  // The canonical request, rebuilt from what arrived.
  std::string_view target = request.target;
  auto q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  std::string_view raw_query = q == std::string_view::npos ? "" : target.substr(q + 1);
  aws::HeaderList query;
  if (!raw_query.empty()) {
    for (std::string_view pair : Split(raw_query, '&')) {
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      query.emplace_back(aws::UriDecode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? "" : aws::UriDecode(pair.substr(eq + 1)));
    }
  }
  aws::HeaderList signed_values;
  for (const std::string& name : auth.signed_headers) {
    auto it = headers.find(name);
    if (it == headers.end()) {
      return Refused("signature_mismatch", "the signed header \"" + name + "\" is missing");
    }
    signed_values.emplace_back(name, it->second);
  }
  std::string payload_hash = aws::Sha256Hex(request.body);
  if (auto claimed = headers.find("x-amz-content-sha256"); claimed != headers.end()) {
    if (claimed->second != payload_hash) {
      return Refused("signature_mismatch", "the body does not match X-Amz-Content-Sha256");
    }
  }
  const std::string canonical = aws::CanonicalRequest(
      request.method, aws::CanonicalUri(aws::UriDecode(raw_path), true),
      aws::CanonicalQuery(query), aws::CanonicalizeHeaders(signed_values), payload_hash);
  const std::string expected = aws::ComputeSignature(
      aws::SigningKey(key->secret, auth.day, auth.region, auth.service),
      aws::StringToSign(amz_date, aws::CredentialScope(auth.day, auth.region, auth.service),
                        canonical));
  if (expected.size() != auth.signature.size() ||
      CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    return Refused("signature_mismatch",
                   "the request signature does not match; check the secret access key and that "
                   "nothing changed the request after signing");
  }
  if (!Remember(auth.signature, *signed_at + options_.max_skew, now)) {
    return Refused("request_replayed", "this signed request was already used; sign a new one");
  }
  return std::move(key).value();
}

bool SigV4Verifier::Remember(const std::string& signature, Time until, Time now) {
  std::lock_guard lock(mu_);
  std::erase_if(seen_, [now](const auto& kv) { return kv.second < now; });
  if (seen_.contains(signature)) return false;
  // Full of live signatures: forget the one that expires first. Replaying it
  // would still need its timestamp to be within the skew window.
  if (seen_.size() >= options_.max_remembered) {
    auto oldest = std::min_element(seen_.begin(), seen_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    seen_.erase(oldest);
  }
  seen_.emplace(signature, until);
  return true;
}

}  // namespace pinhole
