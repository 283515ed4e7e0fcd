// The EC2 Query API client behind Ec2Api (ec2_api.h): form-encoded POSTs
// signed with SigV4, responses read with the small XML reader, errors turned
// into a Status by errors.h. One HTTP attempt per call; the one exception is
// a single retry with fresh credentials when temporary credentials were
// rejected as expired.
//
// Thread-safety: Ec2Client is thread-safe (it holds no per-call state; the
// transport and the credential provider are thread-safe).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "enforce/aws/credentials.h"
#include "enforce/aws/ec2_api.h"
#include "enforce/aws/http_transport.h"
#include "enforce/aws/xml.h"

namespace pinhole::aws {

inline constexpr std::string_view kEc2ApiVersion = "2016-11-15";
inline constexpr std::string_view kDefaultEc2Endpoint = "https://ec2.{region}.amazonaws.com";

// The seams NewEc2Client fills with real implementations.
struct Ec2ClientDeps {
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<const Clock> clock;  // nullptr = system clock
};

Result<std::unique_ptr<Ec2Api>> NewEc2Client(const ClientOptions& options, Ec2ClientDeps deps);

// The endpoint URL for `region` ("{region}" substituted). Regions are
// restricted to [a-z0-9-] so that a target cannot steer requests elsewhere.
// kInvalidArgument, reason "aws_endpoint", otherwise.
Result<std::string> Ec2Endpoint(std::string_view endpoint_template, std::string_view region);

// Reads the <item>s of a securityGroupRuleSet; ingress and egress alike
// (callers skip egress via `is_egress`). Protocol numbers 1/6/17/58 become
// icmp/tcp/udp/icmpv6.
struct DescribedRule {
  IngressRule rule;
  bool is_egress = false;
};
std::vector<DescribedRule> ParseRuleSet(const XmlElement* rule_set);

}  // namespace pinhole::aws
