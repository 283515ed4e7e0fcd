// The aws-sg enforcer: holes as inbound rules of EC2 Security Groups.
//
// A hole (service, source CIDR) becomes one inbound rule (the service's
// protocol and ports, the source CIDR) in each region of the service's target
// (target.h); within a region the listed groups are a pool, and the rule goes
// into the first group with room under the rule quota, counted per address
// family over ALL inbound rules of the group (hand-made ones included).
//
// Ownership: only rules tagged pinhole:owner=<owner> are Pinhole's
// (rule_naming.h); nothing else in a group is ever modified or revoked.
//
// Throughput: Apply coalesces per group (one Authorize with many
// IpPermissions, one Revoke with many rule ids, one Modify for refreshed
// expiries), paces calls with a client-side token bucket like EC2's, and
// retries throttling/5xx/timeouts with jittered exponential back-off. An
// Apply spends at most `apply_budget`; what is left is returned as an
// Unavailable error and the controller retries it (the lease shows
// "pending" with the error meanwhile). Duplicate on add and NotFound on
// revoke are success (the group is re-described to learn the truth).
//
// Reconcile: ListHoles describes every group of every aws-sg service (all
// pages), revokes Pinhole's rules that expired, belong to no configured
// service/group, are unreadable, or duplicate another, and reports the rest.
//
// Fail-safe: if calls keep failing for `degraded_after`, Health() reports
// degraded with the last error; authentication/authorisation failures are
// not retried for a hold-off that doubles (no retry storm).
//
// Thread-safety: Apply/SyncServices/ListHoles from one thread at a time (the
// controller's); CheckCapacity and Health from any thread.
#pragma once

#include <functional>
#include <memory>

#include "core/clock.h"
#include "enforce/aws/aws_sg_options.h"
#include "enforce/aws/ec2_api.h"
#include "enforce/enforcer.h"

namespace pinhole {

inline constexpr std::string_view kAwsSgBackend = "aws-sg";

namespace aws {

// How the enforcer waits (tests advance a manual clock instead).
using SleepFn = std::function<void(Millis)>;

// `api` must not be null. `clock` (nullptr = system clock) must outlive the
// enforcer. `sleep` empty = really sleep. InvalidArgument "invalid_config"
// for bad options.
Result<std::unique_ptr<Enforcer>> NewAwsSgEnforcer(const AwsSgOptions& options,
                                                   std::unique_ptr<Ec2Api> api,
                                                   const Clock* clock = nullptr, SleepFn sleep = {},
                                                   uint64_t seed = 0);

}  // namespace aws
}  // namespace pinhole
