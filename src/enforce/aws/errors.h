// Turning AWS error responses (EC2's <Response><Errors><Error>, STS's
// <ErrorResponse><Error>) into a Status whose reason is the AWS error code
// verbatim, with the Code chosen as ec2_api.h documents. One place, so that
// the EC2 client and the STS call of the credential chain agree.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace pinhole::aws {

// The Code for an AWS error code and HTTP status.
Code CodeForAwsError(std::string_view aws_code, int http_status);

// A non-2xx response as a Status. `action` names the call for the message
// ("AuthorizeSecurityGroupIngress"). Bodies that are not AWS error XML give
// reason "aws_http_<status>". The message is capped in length and never
// contains anything from the request.
Status AwsErrorStatus(std::string_view action, int http_status, std::string_view body);

// Removes every occurrence of each non-empty secret from `text` (AWS echoes
// parts of a request, e.g. a session token, in some error messages).
std::string Redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace pinhole::aws
