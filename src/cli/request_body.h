// Turns command-line flags into API request bodies (API.md). Every field is
// optional here: a create sends what was given and lets the server apply its
// defaults; an update (PATCH) sends exactly the flags that were given and
// nothing else. Values that can be checked without the server (durations,
// CIDRs, JSON targets, enum values) are checked here, so a typo is a usage
// error before anything is sent.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace pinhole::cli {

using Json = nlohmann::json;
// A repeatable flag for a list. nullopt = flag not given (leave as is); an
// empty list = given only with "" (clear it).
using ListFlag = std::optional<std::vector<std::string>>;

// From the raw values of a repeatable flag and how often it was given:
// nullopt when never given; otherwise the values with empty strings dropped.
ListFlag MakeListFlag(const std::vector<std::string>& values, size_t count);

struct LeaseFlags {
  std::vector<std::string> services;
  std::optional<std::string> access_group;
  std::optional<std::string> duration;
  std::optional<std::string> cidr;
  std::optional<std::string> invite_email;
  std::optional<std::string> reason;
  // Only with invite_email: false = do not email the link (it is printed);
  // how long the invitation link stays usable ("3d").
  std::optional<bool> send_email;
  std::optional<std::string> invite_expires;
};
// POST /api/v1/leases. Needs services or an access group, not both; at most
// one of cidr and invite.
Result<Json> LeaseRequestBody(const LeaseFlags& flags);
// POST /api/v1/leases/{id}/renew; {} lets the server use the policy default.
Result<Json> RenewRequestBody(const std::optional<std::string>& duration);

struct UserFlags {
  std::optional<std::string> email;  // create: the new user; update: rename
  std::optional<std::string> role;
  std::optional<std::string> password;
  std::optional<bool> must_change_password;
  std::optional<bool> disabled;
  ListFlag groups;
  // Create only: email a welcome message, with the password in it
  // (include_password) or a set-password link.
  std::optional<bool> send_welcome;
  std::optional<bool> include_password;
};
Result<Json> UserBody(const UserFlags& flags);

struct GroupFlags {
  std::optional<std::string> name;
  ListFlag members;
};
Result<Json> GroupBody(const GroupFlags& flags);

struct ServiceFlags {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> backend;
  std::optional<std::string> protocol;
  std::optional<std::string> ports;
  std::optional<std::string> target_json;
  std::optional<bool> keep_established;
};
// `creating` adds the checks that only make sense for a whole object (a
// protocol is given; tcp/udp have ports).
Result<Json> ServiceBody(const ServiceFlags& flags, bool creating);

struct AccessGroupFlags {
  std::optional<std::string> name;
  ListFlag services;
  std::optional<bool> is_public;
};
Result<Json> AccessGroupBody(const AccessGroupFlags& flags);

struct PolicyFlags {
  std::optional<std::string> name;
  ListFlag users;
  ListFlag groups;
  ListFlag services;
  ListFlag access_groups;
  std::optional<std::string> default_duration;
  std::optional<std::string> max_duration;
  ListFlag recipients;
  std::optional<int> min_prefix_v4;
  std::optional<int> min_prefix_v6;
  std::optional<std::string> approval;
  std::optional<bool> notify_admins;
  std::optional<std::string> activate_on;  // request_address | next_login
  std::optional<bool> may_outlive_window;
  std::optional<std::string> schedule_tz;  // IANA name
  ListFlag windows;                        // "mon-fri 08:00-18:00"; given empty = always
};
// "min_prefix" carries only the families given; see CompleteMinPrefix.
// "schedule" is null when --window was given only as "" (always open); an
// object with only "timezone" or only "windows" when just one of them was
// given, which `creating` rejects and an update completes with
// CompleteSchedule.
Result<Json> PolicyBody(const PolicyFlags& flags, bool creating = false);
// One --window value, "DAYS FROM-TO": DAYS is a day (mon..sun), a range
// ("mon-fri", "fri-mon" wraps), a comma list of those, or weekdays, weekend,
// daily; FROM/TO are H:MM or HH:MM, TO may be 24:00 and a TO before FROM
// crosses midnight. -> {"days":["mon",...],"from":"08:00","to":"18:00"}.
Result<Json> ParseWindow(const std::string& text);
// Fills the half of a partial "schedule" in a PATCH body from the current
// policy; an error when the current policy has no schedule to take it from.
Status CompleteSchedule(Json& patch, const Json& current_policy);
// True when a PATCH body's "schedule" is an object missing a half.
bool SchedulePartial(const Json& patch);
// When a PATCH sets only one family of "min_prefix", fills in the other from
// the current policy so that the server, which replaces the whole field,
// does not reset it.
void CompleteMinPrefix(Json& patch, const Json& current_policy);

}  // namespace pinhole::cli
