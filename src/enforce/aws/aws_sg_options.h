// Settings of the aws-sg enforcer ([aws] in pinholed's configuration).
// Plain data.
#pragma once

#include <string>

#include "core/clock.h"

namespace pinhole::aws {

struct AwsSgOptions {
  // Tag value marking the rules this Pinhole owns (pinhole:owner). Replicas
  // of one installation share it; two installations on one account must not.
  std::string owner = "pinhole";
  // Inbound rules per group and address family (EC2's default quota is 60
  // IPv4 and 60 IPv6 rules; raise it when the account's quota was raised).
  int rule_quota = 60;
  // Client-side token bucket for mutating calls, shaped like EC2's
  // (Authorize/Revoke: 50 tokens, 5 per second).
  double bucket_size = 50;
  double bucket_refill_per_second = 5;
  // Same for Describe* calls (EC2: 100 tokens, 20 per second).
  double describe_bucket_size = 100;
  double describe_refill_per_second = 20;
  // Calls failing for this long make the backend "degraded" (/readyz 503).
  Millis degraded_after{60'000};
  // How long one Apply/ListHoles may spend waiting for tokens and back-off
  // before it gives the rest back to the controller (which retries). Keeps
  // lease replies and status reads responsive while AWS throttles.
  Millis apply_budget{5'000};
  int max_attempts = 4;  // per call, including the first
  Millis backoff_base{250};
  Millis backoff_cap{20'000};
  // After an authentication or authorisation failure, calls of that kind are
  // not repeated for this long (doubling up to the max): no retry storm
  // against IAM with a wrong secret.
  Millis auth_holdoff{5'000};
  Millis auth_holdoff_max{300'000};
  // IpPermissions per Authorize call (1 = one call per rule, for comparison).
  int max_rules_per_call = 100;
};

}  // namespace pinhole::aws
