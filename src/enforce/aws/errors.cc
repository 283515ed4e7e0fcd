#include "enforce/aws/errors.h"

#include <array>

#include "enforce/aws/ec2_api.h"
#include "enforce/aws/xml.h"

namespace pinhole::aws {
namespace {

constexpr std::array<std::string_view, 8> kThrottling = {"RequestLimitExceeded",
                                                         "Throttling",
                                                         "ThrottlingException",
                                                         "RequestThrottled",
                                                         "TooManyRequestsException",
                                                         "RequestThrottledException",
                                                         "SlowDown",
                                                         "PriorRequestNotComplete"};

constexpr std::array<std::string_view, 6> kTransient = {
    "InternalError", "InternalFailure", "ServiceUnavailable",
    "Unavailable",   "RequestTimeout",  "RequestTimeoutException"};

constexpr std::array<std::string_view, 13> kAuth = {
    "AuthFailure",          "UnauthorizedOperation",
    "AccessDenied",         "AccessDeniedException",
    "InvalidClientTokenId", "SignatureDoesNotMatch",
    "ExpiredToken",         "RequestExpired",
    "OptInRequired",        "Blocked",
    "IncompleteSignature",  "MissingAuthenticationToken",
    "InvalidAccessKeyId"};

template <size_t N>
bool In(const std::array<std::string_view, N>& list, std::string_view code) {
  for (std::string_view c : list) {
    if (c == code) return true;
  }
  return false;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

constexpr size_t kMaxMessage = 600;

}  // namespace

Code CodeForAwsError(std::string_view aws_code, int http_status) {
  if (In(kThrottling, aws_code)) return Code::kResourceExhausted;
  if (In(kAuth, aws_code)) return Code::kPermissionDenied;
  if (In(kTransient, aws_code) || http_status >= 500) return Code::kUnavailable;
  if (EndsWith(aws_code, "NotFound")) {
    return Code::kNotFound;
  }
  if (EndsWith(aws_code, ".Duplicate") || aws_code == "RulesPerSecurityGroupLimitExceeded" ||
      aws_code == "SecurityGroupLimitExceeded" || aws_code == "IncorrectState") {
    return Code::kConflict;
  }
  if (http_status == 429) return Code::kResourceExhausted;
  if (http_status == 401 || http_status == 403) return Code::kPermissionDenied;
  return Code::kInvalidArgument;
}

Status AwsErrorStatus(std::string_view action, int http_status, std::string_view body) {
  const std::string suffix =
      " (" + std::string(action) + ", HTTP " + std::to_string(http_status) + ")";
  Result<XmlElement> doc = ParseXml(body);
  const XmlElement* error = nullptr;
  if (doc.ok()) {
    error = doc->Find("Errors/Error");                 // EC2
    if (error == nullptr) error = doc->Find("Error");  // STS, IAM
    if (error == nullptr && doc->name == "Error") error = &doc.value();
  }
  std::string code = error ? error->ChildText("Code") : "";
  if (code.empty()) {
    std::string reason = "aws_http_" + std::to_string(http_status);
    Code c = http_status >= 500                           ? Code::kUnavailable
             : http_status == 429                         ? Code::kResourceExhausted
             : (http_status == 401 || http_status == 403) ? Code::kPermissionDenied
                                                          : Code::kInvalidArgument;
    return Status(c, reason, "unexpected response" + suffix);
  }
  std::string message = error->ChildText("Message");
  if (message.size() > kMaxMessage) message = message.substr(0, kMaxMessage) + "...";
  if (message.empty()) message = code;
  return Status(CodeForAwsError(code, http_status), code, message + suffix);
}

std::string Redact(std::string text, std::initializer_list<std::string_view> secrets) {
  for (std::string_view secret : secrets) {
    if (secret.empty()) continue;
    size_t pos;
    while ((pos = text.find(secret)) != std::string::npos) {
      text.replace(pos, secret.size(), "[redacted]");
    }
  }
  return text;
}

bool IsRetryable(const Status& st) {
  if (st.ok()) return false;
  if (st.reason() == kReasonTransport || st.reason() == kReasonTimeout) return true;
  if (st.code() == Code::kUnavailable) return true;
  return st.code() == Code::kResourceExhausted &&
         (In(kThrottling, st.reason()) || st.reason() == "aws_http_429");
}

}  // namespace pinhole::aws
