// The exact IAM permissions the aws-sg backend needs, as printed by
// `pinhole admin aws-iam-policy` and used by the tests' IAM user. Header-only
// so that the CLI can print it without linking the enforcers.
//
// Keep in step with the calls ec2_client.cc makes; the e2e test runs
// pinholed with a user holding exactly this policy (moto checks it).
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace pinhole::aws {

// Reads: unfiltered by resource (EC2 Describe* do not support resource-level
// permissions).
inline std::vector<std::string> IamReadActions() {
  return {"ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups"};
}

// Writes: adding and revoking rules, refreshing their description
// (ModifySecurityGroupRules) and tags (CreateTags, also needed to tag rules
// as they are created).
inline std::vector<std::string> IamWriteActions() {
  return {"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags", "ec2:ModifySecurityGroupRules",
          "ec2:RevokeSecurityGroupIngress"};
}

// The policy document. `write_resources` empty = "*"; otherwise the ARNs the
// write statement is limited to (e.g.
// "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-..." and
// "arn:aws:ec2:eu-west-1:123456789012:security-group-rule/*").
inline std::string IamPolicyJson(const std::vector<std::string>& write_resources = {}) {
  nlohmann::ordered_json resources = write_resources.empty()
                                         ? nlohmann::ordered_json("*")
                                         : nlohmann::ordered_json(write_resources);
  nlohmann::ordered_json policy = {{"Version", "2012-10-17"},
                                   {"Statement",
                                    {{{"Sid", "PinholeReadSecurityGroups"},
                                      {"Effect", "Allow"},
                                      {"Action", IamReadActions()},
                                      {"Resource", "*"}},
                                     {{"Sid", "PinholeManageIngressRules"},
                                      {"Effect", "Allow"},
                                      {"Action", IamWriteActions()},
                                      {"Resource", resources}}}}};
  return policy.dump(2) + "\n";
}

}  // namespace pinhole::aws
