// Authenticates requests signed with AWS Signature Version 4 by a Pinhole
// access key, so that scripts written for AWS-style gateways (`curl
// --aws-sigv4`, botocore) can call Pinhole with their own signing code.
//
// Only the Authorization-header form is accepted. A request passes when its
// key is known and unexpired, its X-Amz-Date is within the allowed skew of
// the server's clock (either way), its credential scope names that day, the
// configured service and "aws4_request" (any region), it signs at least
// `host` and `x-amz-date`, the signature recomputed from the request as
// received matches, and the same signature has not been seen before within
// the skew window (outside it the skew check refuses it anyway).
//
// Thread-safety: ParseSigV4Authorization is pure; SigV4Verifier is safe to
// share between threads (its replay memory is locked).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"

namespace pinhole {

// The parts of "AWS4-HMAC-SHA256 Credential=<key>/<day>/<region>/<service>/
// aws4_request, SignedHeaders=a;b, Signature=<hex>".
struct SigV4Authorization {
  std::string access_key_id;
  std::string day;  // YYYYMMDD
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // 64 lower-case hex digits
};

// True when an Authorization header claims SigV4 (so that it is verified
// as such, not taken for a bearer token).
bool IsSigV4Authorization(std::string_view header);
// Strict parse; Unauthenticated "invalid_authorization" naming what is wrong.
Result<SigV4Authorization> ParseSigV4Authorization(std::string_view header);

// A request as received: the raw target ("/connection?x=1"), headers with
// lower-case names (repeated ones joined with ','), and the body.
struct SignedRequest {
  std::string method;
  std::string target;
  const std::map<std::string, std::string>* headers = nullptr;
  std::string_view body;
};

struct SigV4Options {
  std::string service = "execute-api";
  Seconds max_skew{300};
  size_t max_remembered = 100000;  // signatures kept for replay detection
};

// Who signed: the access key's record.
using AccessKeyLookup = std::function<Result<Credential>(std::string_view access_key_id)>;

class SigV4Verifier {
 public:
  explicit SigV4Verifier(SigV4Options options) : options_(std::move(options)) {}

  // The access key that signed `request`, or why not:
  //   401 invalid_authorization  - malformed header, missing X-Amz-Date
  //   401 unknown_access_key     - no such key, or it expired
  //   403 wrong_service / wrong_scope / unsigned_headers
  //   403 request_expired        - X-Amz-Date more than max_skew away
  //   403 signature_mismatch     - the request is not what was signed
  //   403 request_replayed       - this signature was already used
  // The access key id of a refusal is returned in `key_id_out` for the audit.
  Result<Credential> Verify(const SignedRequest& request, const AccessKeyLookup& lookup, Time now,
                            std::string* key_id_out = nullptr);

  const SigV4Options& options() const { return options_; }

 private:
  // Remembers `signature` until `until`; false if it is already remembered.
  bool Remember(const std::string& signature, Time until, Time now);

  SigV4Options options_;
  std::mutex mu_;
  std::map<std::string, Time> seen_;  // signature -> forget after
};

}  // namespace pinhole
