// AWS credentials and where they come from, in the order the AWS SDKs use:
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
//   2. shared files ~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE,
//      AWS_CONFIG_FILE, AWS_PROFILE): static keys, or role_arn with
//      source_profile / credential_source, assumed through STS AssumeRole;
//   3. the instance role through IMDSv2.
// Temporary credentials are cached and refreshed `refresh_before` their
// expiry; if a refresh fails while the cached ones are still valid, those are
// used (and the failure is logged without any secret).
//
// The chain is resolved at the first Get(), never at construction, so that a
// daemon that does not use AWS never reads files or touches the network.
//
// Thread-safety: every CredentialsProvider here is thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "enforce/aws/http_transport.h"
#include "sigv4/sigv4.h"

namespace pinhole::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged
  std::string session_token;      // never logged
  std::optional<Time> expiration;
  // Where they came from, for logs and errors ("environment",
  // "profile default", "assume-role arn:aws:iam::1:role/x", "imds role web").
  std::string source;

  SigningCredentials Signing() const { return {access_key_id, secret_access_key, session_token}; }
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Current credentials. Failures: reason "aws_no_credentials" (nothing
  // configured anywhere), "aws_credentials" (a file or profile is wrong),
  // "aws_imds" (the instance metadata service failed), or the STS error code
  // verbatim; never a secret in the message.
  virtual Result<Credentials> Get() = 0;
  // Forgets cached temporary credentials, so the next Get() fetches fresh
  // ones (used after the service rejected them as expired).
  virtual void Invalidate() {}
};

// Reads an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

struct ChainOptions {
  std::string profile;       // "" = AWS_PROFILE, AWS_DEFAULT_PROFILE or "default"
  std::string sts_endpoint;  // "" = https://sts.{region}.amazonaws.com
  std::string imds_endpoint = "http://169.254.169.254";
  std::chrono::milliseconds timeout{10000};
  std::chrono::seconds refresh_before{300};
  std::shared_ptr<HttpTransport> transport;  // required
  std::shared_ptr<const Clock> clock;        // nullptr = system clock
  EnvLookup env;                             // nullptr = the process environment
};

std::shared_ptr<CredentialsProvider> NewCredentialChain(ChainOptions options);

// --- Pieces, exported for tests and the fuzzer ------------------------------

// INI as the AWS shared files use it: [section] headers, key = value lines,
// '#' and ';' comments, indented continuation lines (nested settings such as
// "s3 =\n  max_concurrent_requests = 10") attached to the previous key.
// Keys are lower-cased; later duplicates win. kInvalidArgument, reason
// "aws_credentials", for lines that are none of these.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
Result<IniSections> ParseIni(std::string_view text);

// AWS timestamps ("2026-11-21T10:00:00Z", with or without fractional seconds).
std::optional<Time> ParseAwsTime(std::string_view text);

// Parses an IMDS credentials document (JSON with AccessKeyId, SecretAccessKey,
// Token, Expiration, Code).
Result<Credentials> ParseImdsCredentials(std::string_view json);
// Parses an STS AssumeRole response.
Result<Credentials> ParseAssumeRoleResponse(std::string_view xml);

}  // namespace pinhole::aws
