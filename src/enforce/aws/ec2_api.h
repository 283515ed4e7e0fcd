// The narrow slice of the EC2 Query API that the aws-sg enforcer needs:
// inbound Security Group rules (authorize, revoke, describe, update) and a
// start-up check that the configured groups exist.
//
// The interface exists so the enforcer can be tested with a fake, and so that
// throttling, back-off, batching and retries stay in the enforcer (where the
// benchmark compares strategies): an implementation makes exactly one HTTP
// attempt per call (re-fetching credentials aside).
//
// Thread-safety: implementations returned by NewEc2Client are thread-safe;
// the value types are plain data.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace pinhole::aws {

// One inbound rule of a security group, as EC2 reports it.
struct IngressRule {
  std::string rule_id;   // "sgr-..."; empty in a request
  std::string group_id;  // "sg-..."
  std::string protocol;  // "tcp" | "udp" | "icmp" | "-1"
  int from_port = -1;    // -1 when protocol is "-1" (and icmp type/code semantics for icmp)
  int to_port = -1;
  std::string cidr;  // "198.51.100.7/32" or "2001:db8::/64" (v4 or v6 by content)
  std::string description;
  std::map<std::string, std::string> tags;
};

// An AWS error: Status with reason = the AWS error code verbatim
// ("RequestLimitExceeded", "InvalidPermission.Duplicate", "AuthFailure",
// "UnauthorizedOperation", "InvalidGroup.NotFound", ...), message = AWS's
// message (+ HTTP status). Transport failures: reason "aws_transport",
// timeouts "aws_timeout". Code: kResourceExhausted for throttling,
// kUnavailable for 5xx/transport, kPermissionDenied for auth/authorization,
// kInvalidArgument / kNotFound / kConflict otherwise.
inline constexpr const char* kReasonTransport = "aws_transport";
inline constexpr const char* kReasonTimeout = "aws_timeout";

// True for throttling, 5xx, transport failures and timeouts.
bool IsRetryable(const Status& st);

class Ec2Api {
 public:
  virtual ~Ec2Api() = default;
  // AuthorizeSecurityGroupIngress: all `rules` (same group) in ONE call, each
  // rule's tags sent as a TagSpecification (rules in one call share tags in
  // EC2, so the caller only batches rules with identical tags into one call,
  // or puts per-rule info in the description). Returns the created rules with
  // their ids.
  virtual Result<std::vector<IngressRule>> AuthorizeIngress(
      const std::string& region, const std::string& group_id, const std::vector<IngressRule>& rules,
      const std::map<std::string, std::string>& tags) = 0;
  // RevokeSecurityGroupIngress by SecurityGroupRuleId.N, all in one call.
  virtual Status RevokeIngress(const std::string& region, const std::string& group_id,
                               const std::vector<std::string>& rule_ids) = 0;
  // DescribeSecurityGroupRules filtered by group-id (and optionally tag-key),
  // all pages, inbound rules only (IsEgress=false). Rules that reference a
  // security group or a prefix list come back with cidr == "". Protocol
  // numbers 1/6/17/58 are reported as icmp/tcp/udp/icmpv6.
  virtual Result<std::vector<IngressRule>> DescribeIngress(const std::string& region,
                                                           const std::string& group_id,
                                                           const std::string& tag_key = "") = 0;
  // ModifySecurityGroupRules or UpdateSecurityGroupRuleDescriptionsIngress:
  // new description for existing rules (expiry refresh without a gap). Tags
  // via CreateTags on the rule ids.
  virtual Status UpdateRules(const std::string& region, const std::string& group_id,
                             const std::vector<IngressRule>& rules,
                             const std::map<std::string, std::string>& tags) = 0;
  // DescribeSecurityGroups: checks the groups exist (start-up validation).
  virtual Status CheckGroups(const std::string& region,
                             const std::vector<std::string>& group_ids) = 0;
};

struct ClientOptions {
  // "" = https://ec2.{region}.amazonaws.com ; "{region}" substituted.
  std::string endpoint_template = "";
  // "" = https://sts.{region}.amazonaws.com (or global); "{region}" substituted.
  std::string sts_endpoint = "";
  std::string imds_endpoint = "http://169.254.169.254";
  std::string profile = "";  // "" = AWS_PROFILE or "default"
  std::chrono::milliseconds timeout{10000};
};

// The real client: libcurl + SigV4 + the credential chain. Thread-safe.
Result<std::unique_ptr<Ec2Api>> NewEc2Client(const ClientOptions& options);

}  // namespace pinhole::aws
