#include "cli/request_body.h"

#include <algorithm>
#include <initializer_list>

#include "core/cidr.h"
#include "core/duration.h"

namespace pinhole::cli {
namespace {

Status Usage(std::string reason, std::string message) {
  return Status::Invalid(std::move(reason), std::move(message));
}

Status CheckDuration(const std::string& text, const std::string& flag) {
  Result<Seconds> d = ParseDuration(text);
  if (!d.ok()) return Usage(d.status().reason(), flag + ": " + d.status().message());
  if (d->count() <= 0) return Usage("invalid_duration", flag + ": must be longer than zero");
  return Status::Ok();
}

Status CheckOneOf(const std::string& value, std::initializer_list<const char*> allowed,
                  const std::string& flag) {
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return Status::Ok();
    list += list.empty() ? "" : ", ";
    list += a;
  }
  return Usage("invalid_value", flag + ": \"" + value + "\" is not one of " + list);
}

Status CheckNotEmpty(const std::optional<std::string>& value, const std::string& flag) {
  if (value && value->empty()) return Usage("invalid_value", flag + " must not be empty");
  return Status::Ok();
}

template <typename T>
void PutIf(Json& body, const char* key, const std::optional<T>& value) {
  if (value) body[key] = *value;
}

}  // namespace

ListFlag MakeListFlag(const std::vector<std::string>& values, size_t count) {
  if (count == 0) return std::nullopt;
  std::vector<std::string> kept;
  for (const std::string& v : values) {
    if (!v.empty()) kept.push_back(v);
  }
  return kept;
}

Result<Json> LeaseRequestBody(const LeaseFlags& flags) {
  Json body = Json::object();
  if (!flags.services.empty() && flags.access_group) {
    return Usage("usage", "give services or --access-group, not both");
  }
  if (flags.services.empty() && !flags.access_group) {
    return Usage("usage", "name at least one service, or an access group with --access-group");
  }
  if (flags.access_group) {
    RETURN_IF_ERROR(CheckNotEmpty(flags.access_group, "--access-group"));
    body["access_group"] = *flags.access_group;
  } else {
    for (const std::string& s : flags.services) {
      if (s.empty()) return Usage("usage", "service names must not be empty");
    }
    body["services"] = flags.services;
  }
  if (flags.duration) {
    RETURN_IF_ERROR(CheckDuration(*flags.duration, "--for"));
    body["duration"] = *flags.duration;
  }
  if (flags.cidr && flags.invite_email) {
    return Usage("usage", "give --cidr or --invite, not both");
  }
  if (flags.cidr) {
    Result<Cidr> cidr = Cidr::Parse(*flags.cidr);
    if (!cidr.ok()) return Usage(cidr.status().reason(), "--cidr: " + cidr.status().message());
    body["recipient"] = {{"kind", "cidr"}, {"cidr", cidr->ToString()}};
  } else if (flags.invite_email) {
    if (flags.invite_email->find('@') == std::string::npos) {
      return Usage("invalid_value", "--invite: \"" + *flags.invite_email + "\" is not an email");
    }
    body["recipient"] = {{"kind", "invite"}, {"email", *flags.invite_email}};
  }
  PutIf(body, "reason", flags.reason);
  return body;
}

Result<Json> RenewRequestBody(const std::optional<std::string>& duration) {
  Json body = Json::object();
  if (duration) {
    RETURN_IF_ERROR(CheckDuration(*duration, "--for"));
    body["duration"] = *duration;
  }
  return body;
}

Result<Json> UserBody(const UserFlags& flags) {
  Json body = Json::object();
  if (flags.email) {
    if (flags.email->find('@') == std::string::npos) {
      return Usage("invalid_value", "\"" + *flags.email + "\" is not an email address");
    }
    body["email"] = *flags.email;
  }
  if (flags.role) RETURN_IF_ERROR(CheckOneOf(*flags.role, {"admin", "user"}, "--role"));
  PutIf(body, "role", flags.role);
  if (flags.password && flags.password->empty()) {
    return Usage("invalid_value", "the password must not be empty");
  }
  PutIf(body, "password", flags.password);
  PutIf(body, "must_change_password", flags.must_change_password);
  PutIf(body, "disabled", flags.disabled);
  PutIf(body, "groups", flags.groups);
  return body;
}

Result<Json> GroupBody(const GroupFlags& flags) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "members", flags.members);
  return body;
}

Result<Json> ServiceBody(const ServiceFlags& flags, bool creating) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "description", flags.description);
  RETURN_IF_ERROR(CheckNotEmpty(flags.backend, "--backend"));
  PutIf(body, "backend", flags.backend);
  if (flags.protocol) {
    RETURN_IF_ERROR(CheckOneOf(*flags.protocol, {"tcp", "udp", "icmp", "all"}, "--protocol"));
  }
  PutIf(body, "protocol", flags.protocol);
  if (creating) {
    if (!flags.protocol) return Usage("usage", "--protocol is required");
    bool needs_ports = *flags.protocol == "tcp" || *flags.protocol == "udp";
    if (needs_ports && !flags.ports) {
      return Usage("usage", "--ports is required for " + *flags.protocol);
    }
  }
  RETURN_IF_ERROR(CheckNotEmpty(flags.ports, "--ports"));
  PutIf(body, "ports", flags.ports);
  if (flags.target_json) {
    Json target = Json::parse(*flags.target_json, nullptr, /*allow_exceptions=*/false);
    if (!target.is_object()) {
      return Usage("invalid_target", "--target must be a JSON object, e.g. '{\"host\":\"db1\"}'");
    }
    body["target"] = std::move(target);
  }
  PutIf(body, "keep_established", flags.keep_established);
  return body;
}

Result<Json> AccessGroupBody(const AccessGroupFlags& flags) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "services", flags.services);
  PutIf(body, "public", flags.is_public);
  return body;
}

Result<Json> PolicyBody(const PolicyFlags& flags) {
  Json body = Json::object();
  RETURN_IF_ERROR(CheckNotEmpty(flags.name, "the name"));
  PutIf(body, "name", flags.name);
  PutIf(body, "users", flags.users);
  PutIf(body, "groups", flags.groups);
  PutIf(body, "services", flags.services);
  PutIf(body, "access_groups", flags.access_groups);
  if (flags.default_duration) RETURN_IF_ERROR(CheckDuration(*flags.default_duration, "--default"));
  if (flags.max_duration) RETURN_IF_ERROR(CheckDuration(*flags.max_duration, "--max"));
  if (flags.default_duration && flags.max_duration) {
    // Both parse (checked above); compare so the mistake is caught here.
    if (*ParseDuration(*flags.default_duration) > *ParseDuration(*flags.max_duration)) {
      return Usage("invalid_value", "--default must not be longer than --max");
    }
  }
  PutIf(body, "default_duration", flags.default_duration);
  PutIf(body, "max_duration", flags.max_duration);
  if (flags.recipients) {
    for (const std::string& r : *flags.recipients) {
      RETURN_IF_ERROR(CheckOneOf(r, {"self", "cidr", "invite"}, "--recipients"));
    }
    body["recipients"] = *flags.recipients;
  }
  if (flags.min_prefix_v4 || flags.min_prefix_v6) {
    Json min_prefix = Json::object();
    if (flags.min_prefix_v4) {
      if (*flags.min_prefix_v4 < 0 || *flags.min_prefix_v4 > 32) {
        return Usage("invalid_value", "--min-prefix-v4 must be between 0 and 32");
      }
      min_prefix["ipv4"] = *flags.min_prefix_v4;
    }
    if (flags.min_prefix_v6) {
      if (*flags.min_prefix_v6 < 0 || *flags.min_prefix_v6 > 128) {
        return Usage("invalid_value", "--min-prefix-v6 must be between 0 and 128");
      }
      min_prefix["ipv6"] = *flags.min_prefix_v6;
    }
    body["min_prefix"] = std::move(min_prefix);
  }
  if (flags.approval) RETURN_IF_ERROR(CheckOneOf(*flags.approval, {"auto", "admin"}, "--approval"));
  PutIf(body, "approval", flags.approval);
  PutIf(body, "notify_admins", flags.notify_admins);
  return body;
}

void CompleteMinPrefix(Json& patch, const Json& current_policy) {
  if (!patch.contains("min_prefix") || !current_policy.is_object()) return;
  auto current = current_policy.find("min_prefix");
  if (current == current_policy.end() || !current->is_object()) return;
  Json& mine = patch["min_prefix"];
  for (const char* family : {"ipv4", "ipv6"}) {
    if (!mine.contains(family) && current->contains(family)) mine[family] = (*current)[family];
  }
}

}  // namespace pinhole::cli
