// pinhole admin ...: CRUD on users, groups, services, access groups and
// policies, and reading the audit log. Objects are addressed by id or by
// their unique name (email for users), as the API allows.
#include <algorithm>
#include <memory>

#include "cli/commands.h"
#include "enforce/aws/iam_policy.h"
#include "cli/output.h"
#include "cli/password_gen.h"
#include "cli/prompt.h"

namespace pinhole::cli {
namespace {

using Json = nlohmann::json;
using RowFn = std::function<std::vector<std::string>(const Json&, Time)>;

struct Resource {
  std::string command;   // "access-groups"
  std::string singular;  // "access group"
  std::string path;      // "/api/v1/access-groups"
  std::string name_key;  // "name", or "email" for users
  std::vector<std::string> headers;
  RowFn row;

  std::string ItemPath(const std::string& name) const {
    return path + "/" + EscapePathSegment(name);
  }
};

// Builds the request body after parsing; may print (a generated password).
using BodyFn = std::function<Result<Json>(Context&)>;

// "id", the name, then the rest alphabetically; times shown locally.
std::string RenderObject(const Json& object, const std::string& name_key, Time now) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (!object.is_object()) return CellText(object) + "\n";
  for (const char* first : {"id", name_key.c_str()}) {
    if (object.contains(first)) fields.emplace_back(first, FieldText(object, first));
  }
  for (const auto& [key, value] : object.items()) {
    if (key == "id" || key == name_key) continue;
    bool is_time = key.size() > 3 && key.compare(key.size() - 3, 3, "_at") == 0;
    fields.emplace_back(key, is_time ? TimeFieldText(object, key, now) : CellText(value));
  }
  return RenderFields(fields);
}

int ListResource(Context& ctx, const Resource& r) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Get(r.path);
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    Table table(r.headers);
    for (const auto& item : Items(*reply)) table.AddRow(r.row(item, ctx.Now()));
    ctx.PrintTable(table);
    return kExitOk;
  });
}

int GetResource(Context& ctx, const Resource& r, const std::string& name) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Get(r.ItemPath(name));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
    } else {
      ctx.out() << RenderObject(*reply, r.name_key, ctx.Now());
    }
    return kExitOk;
  });
}

int DeleteResource(Context& ctx, const Resource& r, const std::string& name) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Delete(r.ItemPath(name));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson({{"deleted", name}});
    } else {
      ctx.out() << "Deleted " << r.singular << " " << Printable(name) << ".\n";
    }
    return kExitOk;
  });
}

int WriteResult(Context& ctx, const Resource& r, const Result<Json>& reply, const char* verb,
                const std::string& fallback_name) {
  if (!reply.ok()) return ctx.ApiFailure(reply.status());
  if (ctx.flags.json) {
    ctx.PrintJson(*reply);
    return kExitOk;
  }
  std::string name = FieldText(*reply, r.name_key);
  if (name.empty()) name = fallback_name;
  ctx.out() << verb << " " << r.singular << " " << Printable(name);
  if (reply->is_object() && reply->contains("id"))
    ctx.out() << " (id " << FieldText(*reply, "id") << ")";
  ctx.out() << ".\n";
  return kExitOk;
}

// Registers ls, get, delete, and create/update whose flags `bind` adds; the
// BodyFn it returns reads them once parsing is done.
using BindFn = std::function<BodyFn(CLI::App*, bool creating)>;

void AddResource(CLI::App& admin, Context& ctx, Action& action, std::shared_ptr<Resource> r,
                 const std::string& description, const BindFn& bind, const std::string& name_help) {
  CLI::App* group = admin.add_subcommand(r->command, description);
  group->require_subcommand(1);

  AddLeaf(*group, "ls", "List " + r->command, ctx, action,
          [r](Context& c) { return ListResource(c, *r); });

  auto get_name = std::make_shared<std::string>();
  AddLeaf(*group, "get", "Show one " + r->singular, ctx, action,
          [r, get_name](Context& c) { return GetResource(c, *r, *get_name); })
      ->add_option("name", *get_name, name_help + " or id")
      ->required();

  auto create_name = std::make_shared<std::string>();
  auto create_body = std::make_shared<BodyFn>();
  CLI::App* create =
      AddLeaf(*group, "create", "Create a " + r->singular, ctx, action,
              [r, create_name, create_body](Context& c) {
                Result<Json> body = (*create_body)(c);
                if (!body.ok()) return c.UsageFailure(body.status());
                (*body)[r->name_key] = *create_name;
                return WithApi(c, [&](ApiClient& api) {
                  return WriteResult(c, *r, api.Post(r->path, *body), "Created", *create_name);
                });
              });
  create->add_option("name", *create_name, name_help)->required();
  *create_body = bind(create, /*creating=*/true);

  auto update_name = std::make_shared<std::string>();
  auto update_body = std::make_shared<BodyFn>();
  CLI::App* update =
      AddLeaf(*group, "update", "Change a " + r->singular + "; only the options given are changed",
              ctx, action, [r, update_name, update_body](Context& c) {
                Result<Json> body = (*update_body)(c);
                if (!body.ok()) return c.UsageFailure(body.status());
                if (body->empty()) {
                  return c.UsageFailure(
                      Status::Invalid("usage", "nothing to change; give at least one option"));
                }
                return WithApi(c, [&](ApiClient& api) {
                  bool partial_prefix =
                      body->contains("min_prefix") && (*body)["min_prefix"].size() < 2;
                  if (partial_prefix || SchedulePartial(*body)) {
                    Result<Json> current = api.Get(r->ItemPath(*update_name));
                    if (!current.ok()) return c.ApiFailure(current.status());
                    CompleteMinPrefix(*body, *current);
                    Status completed = CompleteSchedule(*body, *current);
                    if (!completed.ok()) return c.UsageFailure(completed);
                  }
                  return WriteResult(c, *r, api.Patch(r->ItemPath(*update_name), *body), "Updated",
                                     *update_name);
                });
              });
  update->add_option("name", *update_name, name_help + " or id")->required();
  update->footer("Repeatable list options replace the whole list; give '' to empty it.");
  *update_body = bind(update, /*creating=*/false);

  auto delete_name = std::make_shared<std::string>();
  AddLeaf(*group, "delete", "Delete a " + r->singular, ctx, action,
          [r, delete_name](Context& c) { return DeleteResource(c, *r, *delete_name); })
      ->add_option("name", *delete_name, name_help + " or id")
      ->required();
}

// For both create and update: `--x` on create, `--x,!--no-x` on update so a
// flag can also be turned off.
CLI::Option* AddSwitch(CLI::App* cmd, bool creating, const std::string& on, const std::string& off,
                       BoolFlag& flag, const std::string& help) {
  flag.option = cmd->add_flag(creating ? on : on + ",!" + off, flag.value,
                              creating ? help : help + " (" + off + " to turn off)");
  return flag.option;
}

void AddList(CLI::App* cmd, const std::string& name, ListOption& list, const std::string& help) {
  list.option = cmd->add_option(name, list.values, help)->allow_extra_args(false);
}

// ---- users ----

BodyFn BindUsers(CLI::App* cmd, bool creating) {
  struct Flags {
    std::optional<std::string> email, role;
    bool password_stdin = false, generate = false, send_welcome = false, include_password = false;
    BoolFlag must_change, disabled;
    ListOption groups;
  };
  auto f = std::make_shared<Flags>();
  if (!creating) cmd->add_option("--email", f->email, "New email address");
  cmd->add_option("--role", f->role, "admin or user")->check(CLI::IsMember({"admin", "user"}));
  auto* pw_stdin =
      cmd->add_flag("--password-stdin", f->password_stdin, "Read the password from stdin");
  cmd->add_flag("--generate-password", f->generate,
                "Generate a random password and print it once (implies "
                "--must-change-password unless that is given)")
      ->excludes(pw_stdin);
  AddSwitch(cmd, creating, "--must-change-password", "--no-must-change-password", f->must_change,
            "Require a new password at the next login");
  AddSwitch(cmd, creating, "--disabled", "--enabled", f->disabled, "The account cannot sign in");
  AddList(cmd, "--group", f->groups, "Member of this group (repeatable)");
  if (creating) {
    cmd->add_flag("--send-welcome", f->send_welcome,
                  "Email the new user a welcome message with a link to choose a password "
                  "(needs email configured on the server)");
    cmd->add_flag("--include-password", f->include_password,
                  "With --send-welcome: put the password (--password-stdin or "
                  "--generate-password) in the email instead of the link");
  }
  return [f](Context& ctx) -> Result<Json> {
    UserFlags flags{f->email,          f->role,        std::nullopt, f->must_change.Get(),
                    f->disabled.Get(), f->groups.Get()};
    if (f->send_welcome) flags.send_welcome = true;
    if (f->include_password) flags.include_password = true;
    std::optional<std::string> generated;
    if (f->password_stdin) {
      ASSIGN_OR_RETURN(flags.password, ReadLine(ctx.in()));
    } else if (f->generate) {
      ASSIGN_OR_RETURN(generated, GeneratePassword());
      flags.password = generated;
      if (!flags.must_change_password) flags.must_change_password = true;
    }
    ASSIGN_OR_RETURN(Json body, UserBody(flags));
    if (generated) {
      // Shown once, on stderr under --json so stdout stays valid JSON.
      (ctx.flags.json ? ctx.err() : ctx.out()) << "Generated password: " << *generated << "\n";
    }
    return body;
  };
}

std::vector<std::string> UserRow(const Json& u, Time now) {
  std::string status = u.value("disabled", false)               ? "disabled"
                       : u.value("must_change_password", false) ? "must change password"
                                                                : "active";
  return {FieldText(u, "id"),
          FieldText(u, "email"),
          FieldText(u, "role"),
          FieldText(u, "groups"),
          status,
          RelativeFieldText(u, "created_at", now)};
}

// ---- groups ----

BodyFn BindGroups(CLI::App* cmd, bool creating) {
  struct Flags {
    std::optional<std::string> rename;
    ListOption members;
  };
  auto f = std::make_shared<Flags>();
  if (!creating) cmd->add_option("--rename", f->rename, "New name");
  AddList(cmd, "--member", f->members, "Member's email (repeatable)");
  return [f](Context&) { return GroupBody({f->rename, f->members.Get()}); };
}

std::vector<std::string> GroupRow(const Json& g, Time) {
  return {FieldText(g, "id"), FieldText(g, "name"), FieldText(g, "members")};
}

// ---- services ----

BodyFn BindServices(CLI::App* cmd, bool creating) {
  struct Flags {
    std::optional<std::string> rename, description, backend, protocol, ports, target;
    BoolFlag keep_established;
  };
  auto f = std::make_shared<Flags>();
  if (!creating) cmd->add_option("--rename", f->rename, "New name");
  cmd->add_option("--protocol", f->protocol,
                  "tcp, udp, icmp or all" + std::string(creating ? " (required)" : ""));
  cmd->add_option("--ports", f->ports, "A port or range: 22, 8000-8100 (required for tcp/udp)");
  cmd->add_option("--backend", f->backend,
                  "Backend: nftables (default: a hole in this host's firewall) or tunnel "
                  "(reached through pinholed)");
  cmd->add_option("--target", f->target,
                  "Backend-specific target as a JSON object: {} for nftables, "
                  "'{\"address\":\"10.0.0.5\",\"port\":22}' for tunnel");
  cmd->add_option("--description", f->description, "Free text shown to users");
  AddSwitch(cmd, creating, "--keep-established", "--no-keep-established", f->keep_established,
            "Keep established connections open when a lease ends");
  return [f, creating](Context&) {
    return ServiceBody({f->rename, f->description, f->backend, f->protocol, f->ports, f->target,
                        f->keep_established.Get()},
                       creating);
  };
}

std::vector<std::string> ServiceRow(const Json& s, Time) {
  return {FieldText(s, "id"),    FieldText(s, "name"),    FieldText(s, "protocol"),
          FieldText(s, "ports"), FieldText(s, "backend"), FieldText(s, "description")};
}

// ---- access groups ----

BodyFn BindAccessGroups(CLI::App* cmd, bool creating) {
  struct Flags {
    std::optional<std::string> rename;
    ListOption services;
    BoolFlag is_public;
  };
  auto f = std::make_shared<Flags>();
  if (!creating) cmd->add_option("--rename", f->rename, "New name");
  AddList(cmd, "--service", f->services, "A service in the group (repeatable)");
  if (creating) f->services.option->required();
  AddSwitch(cmd, creating, "--public", "--private", f->is_public,
            "Listed to every user, even without a policy");
  return [f](Context&) {
    return AccessGroupBody({f->rename, f->services.Get(), f->is_public.Get()});
  };
}

std::vector<std::string> AccessGroupRow(const Json& a, Time) {
  return {FieldText(a, "id"), FieldText(a, "name"), FieldText(a, "services"),
          FieldText(a, "public")};
}

// ---- policies ----

BodyFn BindPolicies(CLI::App* cmd, bool creating) {
  struct Flags {
    std::optional<std::string> rename, default_duration, max_duration, approval, activate_on,
        schedule_tz;
    ListOption users, groups, services, access_groups, recipients, windows;
    std::optional<int> min_v4, min_v6;
    BoolFlag notify_admins, may_outlive_window;
  };
  auto f = std::make_shared<Flags>();
  if (!creating) cmd->add_option("--rename", f->rename, "New name");
  AddList(cmd, "--user", f->users, "A user (email) the policy applies to (repeatable)");
  AddList(cmd, "--group", f->groups, "A group the policy applies to (repeatable)");
  AddList(cmd, "--service", f->services, "A service it grants (repeatable)");
  AddList(cmd, "--access-group", f->access_groups, "An access group it grants (repeatable)");
  cmd->add_option("--default", f->default_duration,
                  "Lease duration when none is asked for, e.g. 1h");
  cmd->add_option("--max", f->max_duration, "Longest lease allowed, e.g. 10h");
  f->recipients.option =
      cmd->add_option("--recipients", f->recipients.values,
                      "Who a lease may be for, comma-separated: self, cidr, invite")
          ->delimiter(',')
          ->allow_extra_args(false);
  cmd->add_option("--min-prefix-v4", f->min_v4,
                  "Widest IPv4 CIDR allowed, as a prefix length (e.g. 24)");
  cmd->add_option("--min-prefix-v6", f->min_v6,
                  "Widest IPv6 CIDR allowed, as a prefix length (e.g. 56)");
  cmd->add_option("--approval", f->approval, "auto, or admin (an admin approves each lease)");
  cmd->add_option("--activate-on", f->activate_on,
                  "With --approval admin: where an approved lease opens: request_address (the "
                  "address it was asked from) or next_login (the owner's next sign-in)");
  AddSwitch(cmd, creating, "--notify-admins", "--no-notify-admins", f->notify_admins,
            "Tell admins about each lease, also when it opens without approval");
  cmd->add_option("--schedule-tz", f->schedule_tz,
                  "Time zone of the --window times, an IANA name such as Europe/Berlin");
  AddList(cmd, "--window", f->windows,
          "When leases may be requested, e.g. 'mon-fri 08:00-18:00' or 'fri-sat 22:00-02:00' "
          "(repeatable; days: mon..sun, ranges, comma lists, weekdays, weekend, daily; "
          "an end before the start crosses midnight). " +
              std::string(creating ? "Without it: any time" : "'' = any time"));
  AddSwitch(cmd, creating, "--may-outlive-window", "--no-may-outlive-window",
            f->may_outlive_window,
            "A lease may run past the end of its schedule window (default: it ends with it)");
  return [f, creating](Context&) {
    PolicyFlags flags;
    flags.name = f->rename;
    flags.users = f->users.Get();
    flags.groups = f->groups.Get();
    flags.services = f->services.Get();
    flags.access_groups = f->access_groups.Get();
    flags.default_duration = f->default_duration;
    flags.max_duration = f->max_duration;
    flags.recipients = f->recipients.Get();
    flags.min_prefix_v4 = f->min_v4;
    flags.min_prefix_v6 = f->min_v6;
    flags.approval = f->approval;
    flags.notify_admins = f->notify_admins.Get();
    flags.activate_on = f->activate_on;
    flags.may_outlive_window = f->may_outlive_window.Get();
    flags.schedule_tz = f->schedule_tz;
    flags.windows = f->windows.Get();
    return PolicyBody(flags, creating);
  };
}

// "mon-fri 08:00-18:00, sat 10:00-12:00 Europe/Berlin"; "" when always.
std::string ScheduleText(const Json& p) {
  if (!p.is_object() || !p.contains("schedule") || !p["schedule"].is_object()) return "";
  const Json& s = p["schedule"];
  std::string out;
  if (s.contains("windows") && s["windows"].is_array()) {
    for (const auto& w : s["windows"]) {
      if (!out.empty()) out += ", ";
      std::string days;
      if (w.contains("days") && w["days"].is_array()) {
        for (const auto& d : w["days"]) days += (days.empty() ? "" : ",") + CellText(d);
      }
      out += days + " " + FieldText(w, "from") + "-" + FieldText(w, "to");
    }
  }
  return out + " " + FieldText(s, "timezone");
}

std::vector<std::string> PolicyRow(const Json& p, Time) {
  return {FieldText(p, "id"),
          FieldText(p, "name"),
          FieldText(p, "users"),
          FieldText(p, "groups"),
          FieldText(p, "services"),
          FieldText(p, "access_groups"),
          FieldText(p, "default_duration"),
          FieldText(p, "max_duration"),
          FieldText(p, "approval"),
          ScheduleText(p)};
}

// ---- audit ----

struct AuditFlags {
  std::optional<int64_t> after;
  std::optional<int> limit;
};

int Audit(Context& ctx, const AuditFlags& flags) {
  std::map<std::string, std::optional<std::string>> query;
  if (flags.after) query["after"] = std::to_string(*flags.after);
  if (flags.limit) query["limit"] = std::to_string(*flags.limit);
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Get("/api/v1/audit" + QueryString(query));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const Json& items = Items(*reply);
    Table table({"SEQ", "TIME", "ACTOR", "ACTION", "OBJECT", "ADDRESS"});
    for (const auto& e : items) {
      std::string time = FieldText(e, "time");
      if (auto t = ParseTime(time)) time = FormatLocalTime(*t);
      table.AddRow({FieldText(e, "seq"), time, FieldText(e, "actor"), FieldText(e, "action"),
                    FieldText(e, "object"), FieldText(e, "client_ip")});
    }
    ctx.PrintTable(table);
    if (!items.empty() && reply->contains("next_after") && !(*reply)["next_after"].is_null()) {
      ctx.err() << "(more with: pinhole admin audit --after " << FieldText(*reply, "next_after")
                << ")\n";
    }
    return kExitOk;
  });
}

// ---- approvals ----

struct DecideFlags {
  std::string id;
  std::optional<std::string> reason;
};

int Decide(Context& ctx, const DecideFlags& flags, const std::string& verb) {
  Json body = Json::object();
  if (flags.reason) body["reason"] = *flags.reason;
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply =
        api.Post("/api/v1/leases/" + EscapePathSegment(flags.id) + "/" + verb, body);
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
    } else {
      ctx.out() << RenderLeaseSummary(*reply, verb == "approve" ? "was approved and " : "",
                                      ctx.Now());
      for (const std::string& problem : RuleProblems(*reply)) {
        ctx.err() << "pinhole: warning: " << problem << "\n";
      }
    }
    return kExitOk;
  });
}

int Pending(Context& ctx) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Get("/api/v1/leases?state=pending_approval");
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const Json& items = Items(*reply);
    if (items.empty()) {
      ctx.out() << "Nothing is waiting for approval.\n";
      return kExitOk;
    }
    Table table({"ID", "OWNER", "SERVICES", "SOURCE", "FOR", "ASKED", "DECIDE BY", "REASON"});
    Time now = ctx.Now();
    for (const auto& l : items) {
      std::string source = FieldText(l, "source_cidr");
      Json recipient = l.is_object() ? l.value("recipient", Json::object()) : Json::object();
      if (source.empty() && FieldText(recipient, "kind") == "invite") {
        source = "invite: " + FieldText(recipient, "email");
      }
      table.AddRow({FieldText(l, "id"), FieldText(l, "owner"), FieldText(l, "services"), source,
                    FieldText(l, "duration"), RelativeFieldText(l, "created_at", now),
                    RelativeFieldText(l, "expires_at", now), FieldText(l, "reason")});
    }
    ctx.PrintTable(table);
    ctx.err() << "(decide with: pinhole admin approve ID | pinhole admin deny ID)\n";
    return kExitOk;
  });
}

// ---- notifications ----

struct OutboxFlags {
  std::optional<std::string> state;
  std::optional<int> limit;
};

int Outbox(Context& ctx, const OutboxFlags& flags) {
  std::map<std::string, std::optional<std::string>> query;
  query["state"] = flags.state;
  if (flags.limit) query["limit"] = std::to_string(*flags.limit);
  return WithApi(ctx, [&](ApiClient& api) {
    Result<Json> reply = api.Get("/api/v1/outbox" + QueryString(query));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const Json& items = Items(*reply);
    if (items.empty()) {
      ctx.out() << "No notifications.\n";
      return kExitOk;
    }
    Table table({"ID", "STATE", "CHANNEL", "TARGET", "EVENT", "TRIES", "CREATED", "NEXT/SENT",
                 "LAST ERROR"});
    Time now = ctx.Now();
    for (const auto& m : items) {
      std::string state = FieldText(m, "state");
      std::string when = state == "sent"      ? RelativeFieldText(m, "sent_at", now)
                         : state == "pending" ? RelativeFieldText(m, "next_attempt_at", now)
                                              : "";
      table.AddRow({FieldText(m, "id"), state, FieldText(m, "channel"), FieldText(m, "target"),
                    FieldText(m, "event"), FieldText(m, "attempts"),
                    RelativeFieldText(m, "created_at", now), when, FieldText(m, "last_error")});
    }
    ctx.PrintTable(table);
    return kExitOk;
  });
}

std::shared_ptr<Resource> MakeResource(std::string command, std::string singular,
                                       std::string name_key, std::vector<std::string> headers,
                                       RowFn row) {
  auto r = std::make_shared<Resource>();
  r->path = "/api/v1/" + command;
  r->command = std::move(command);
  r->singular = std::move(singular);
  r->name_key = std::move(name_key);
  r->headers = std::move(headers);
  r->row = std::move(row);
  return r;
}

}  // namespace

void AddAdminCommands(CLI::App& app, Context& ctx, Action& action) {
  CLI::App* admin = app.add_subcommand(
      "admin", "Manage users, groups, services, policies; approvals, audit, notifications");
  admin->require_subcommand(1);

  AddResource(*admin, ctx, action,
              MakeResource("users", "user", "email",
                           {"ID", "EMAIL", "ROLE", "GROUPS", "STATUS", "CREATED"}, UserRow),
              "Local user accounts", BindUsers, "Email");
  AddResource(*admin, ctx, action,
              MakeResource("groups", "group", "name", {"ID", "NAME", "MEMBERS"}, GroupRow),
              "Groups of users", BindGroups, "Group name");
  AddResource(
      *admin, ctx, action,
      MakeResource("services", "service", "name",
                   {"ID", "NAME", "PROTOCOL", "PORTS", "BACKEND", "DESCRIPTION"}, ServiceRow),
      "Protected services (what a lease opens)", BindServices, "Service name");
  AddResource(*admin, ctx, action,
              MakeResource("access-groups", "access group", "name",
                           {"ID", "NAME", "SERVICES", "PUBLIC"}, AccessGroupRow),
              "Named bundles of services", BindAccessGroups, "Access group name");
  AddResource(*admin, ctx, action,
              MakeResource("policies", "policy", "name",
                           {"ID", "NAME", "USERS", "GROUPS", "SERVICES", "ACCESS-GROUPS", "DEFAULT",
                            "MAX", "APPROVAL", "SCHEDULE"},
                           PolicyRow),
              "Who may open which services, for how long", BindPolicies, "Policy name");

  auto audit = std::make_shared<AuditFlags>();
  CLI::App* cmd = AddLeaf(*admin, "audit", "Read the audit log, oldest first", ctx, action,
                          [audit](Context& c) { return Audit(c, *audit); });
  cmd->add_option("--after", audit->after, "Only events after this sequence number")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--limit", audit->limit, "At most this many events")->check(CLI::PositiveNumber);

  for (const char* verb : {"approve", "deny"}) {
    auto decide = std::make_shared<DecideFlags>();
    std::string v = verb;
    cmd = AddLeaf(*admin, verb,
                  v == "approve" ? "Approve a request that waits for approval (opens the access)"
                                 : "Deny a request that waits for approval",
                  ctx, action, [decide, v](Context& c) { return Decide(c, *decide, v); });
    cmd->add_option("id", decide->id, "Lease id (see: pinhole admin pending)")->required();
    cmd->add_option("--reason", decide->reason,
                    v == "approve" ? "A note, kept in the audit log and told to the requester"
                                   : "Why, told to the requester and kept in the audit log");
  }
  AddLeaf(*admin, "pending", "List requests waiting for an admin's approval", ctx, action,
          [](Context& c) { return Pending(c); });

  auto outbox = std::make_shared<OutboxFlags>();
  cmd = AddLeaf(*admin, "outbox", "Notifications (emails, webhooks) and their delivery state",
                ctx, action, [outbox](Context& c) { return Outbox(c, *outbox); });
  cmd->add_option("--state", outbox->state, "Only pending, sent or failed ones")
      ->check(CLI::IsMember({"pending", "sent", "failed"}));
  cmd->add_option("--limit", outbox->limit, "At most this many")->check(CLI::PositiveNumber);

  // Offline: prints the policy the aws-sg backend's credentials need, so an
  // operator grants exactly that (the e2e test runs with nothing more).
  auto resources = std::make_shared<std::vector<std::string>>();
  CLI::App* iam = admin->add_subcommand(
      "aws-iam-policy",
      "Print the IAM policy (JSON) that pinholed's AWS credentials need for aws-sg services");
  iam->add_option("--resource", *resources,
                  "Limit the rule-changing actions to this ARN (repeatable), e.g. "
                  "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123456789abcdef0 and "
                  "arn:aws:ec2:eu-west-1:123456789012:security-group-rule/*");
  iam->callback([&action, resources] {
    action = [resources](Context& c) {
      for (const auto& arn : *resources) {
        if (!arn.starts_with("arn:") || arn.find_first_of(" \t\n\"") != std::string::npos) {
          return c.UsageFailure(Status::Invalid("invalid_arn", "--resource: \"" + arn +
                                                                   "\" is not an ARN"));
        }
      }
      c.out() << aws::IamPolicyJson(*resources);
      return kExitOk;
    };
  });
}

}  // namespace pinhole::cli
