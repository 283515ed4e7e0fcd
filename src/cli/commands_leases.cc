// open, ls, close, renew, show: a user's own leases.
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"

namespace pinhole::cli {
namespace {

constexpr char kLeasesPath[] = "/api/v1/leases";

std::string LeasePath(const std::string& id) {
  return std::string(kLeasesPath) + "/" + EscapePathSegment(id);
}

bool HasValue(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && !object[key].is_null() &&
         !(object[key].is_string() && object[key].get<std::string>().empty());
}

// Problems with individual rules go to stderr: the lease exists, but a hole
// may not be open yet.
void PrintLeaseSummary(Context& ctx, const nlohmann::json& lease, const std::string& verb) {
  ctx.out() << RenderLeaseSummary(lease, verb, ctx.Now());
  for (const std::string& problem : RuleProblems(lease)) {
    ctx.err() << "pinhole: warning: " << problem << "\n";
  }
}

// The SOURCE cell: an invitation nobody opened yet has no address.
std::string SourceCell(const nlohmann::json& lease) {
  std::string source = FieldText(lease, "source_cidr");
  if (!source.empty()) return source;
  nlohmann::json recipient =
      lease.is_object() ? lease.value("recipient", nlohmann::json::object()) : nlohmann::json();
  if (FieldText(recipient, "kind") == "invite") return "invite: " + FieldText(recipient, "email");
  return source;
}

std::string ExpiresCell(const nlohmann::json& lease, Time now) {
  if (HasValue(lease, "ended_at")) return "ended " + RelativeFieldText(lease, "ended_at", now);
  return RelativeFieldText(lease, "expires_at", now);
}

int PrintLeaseOrJson(Context& ctx, const Result<nlohmann::json>& reply, const std::string& verb) {
  if (!reply.ok()) return ctx.ApiFailure(reply.status());
  if (ctx.flags.json) {
    ctx.PrintJson(*reply);
  } else {
    PrintLeaseSummary(ctx, *reply, verb);
  }
  return kExitOk;
}

struct OpenFlags {
  std::vector<std::string> services;
  std::optional<std::string> duration, cidr, invite, reason, access_group, invite_expires;
  bool no_email = false;
};

int Open(Context& ctx, const OpenFlags& flags) {
  LeaseFlags lease{flags.services, flags.access_group, flags.duration, flags.cidr,
                   flags.invite,   flags.reason,       std::nullopt,   flags.invite_expires};
  if (flags.no_email) lease.send_email = false;
  Result<nlohmann::json> body = LeaseRequestBody(lease);
  if (!body.ok()) return ctx.UsageFailure(body.status());
  return WithApi(
      ctx, [&](ApiClient& api) { return PrintLeaseOrJson(ctx, api.Post(kLeasesPath, *body), ""); });
}

struct ListFlags {
  bool all = false;
  std::optional<std::string> state;
};

int List(Context& ctx, const ListFlags& flags) {
  std::map<std::string, std::optional<std::string>> query;
  if (!flags.all) query["mine"] = "true";
  query["state"] = flags.state;
  return WithApi(ctx, [&](ApiClient& api) {
    Result<nlohmann::json> reply = api.Get(std::string(kLeasesPath) + QueryString(query));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const nlohmann::json& items = Items(*reply);
    if (items.empty()) {
      ctx.out() << "No leases.\n";
      return kExitOk;
    }
    Table table({"ID", "STATE", "SOURCE", "SERVICES", "EXPIRES", "OWNER"});
    for (const auto& lease : items) {
      table.AddRow({FieldText(lease, "id"), FieldText(lease, "state"),
                    SourceCell(lease), FieldText(lease, "services"),
                    ExpiresCell(lease, ctx.Now()), FieldText(lease, "owner")});
    }
    ctx.PrintTable(table);
    return kExitOk;
  });
}

int Show(Context& ctx, const std::string& id) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<nlohmann::json> reply = api.Get(LeasePath(id));
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const nlohmann::json& lease = *reply;
    Time now = ctx.Now();
    nlohmann::json recipient = lease.value("recipient", nlohmann::json::object());
    std::string recipient_text = FieldText(recipient, "kind");
    if (HasValue(recipient, "cidr")) recipient_text += " " + FieldText(recipient, "cidr");
    if (HasValue(recipient, "email")) recipient_text += " " + FieldText(recipient, "email");
    std::vector<std::pair<std::string, std::string>> fields = {
        {"id", FieldText(lease, "id")},
        {"state", FieldText(lease, "state")},
        {"owner", FieldText(lease, "owner")},
        {"services", FieldText(lease, "services")},
        {"source", FieldText(lease, "source_cidr")},
        {"recipient", recipient_text},
        {"reason", FieldText(lease, "reason")},
        {"policy", FieldText(lease, "policy")},
        {"created", TimeFieldText(lease, "created_at", now)},
        {"activated", TimeFieldText(lease, "activated_at", now)},
        {"expires", TimeFieldText(lease, "expires_at", now)},
    };
    if (HasValue(lease, "approved_by"))
      fields.emplace_back("approved by", FieldText(lease, "approved_by"));
    if (HasValue(lease, "ended_at")) {
      fields.emplace_back("ended", TimeFieldText(lease, "ended_at", now));
      fields.emplace_back("ended by", FieldText(lease, "ended_by"));
    }
    ctx.out() << RenderFields(fields);
    if (lease.contains("rules") && lease["rules"].is_array() && !lease["rules"].empty()) {
      Table rules({"SERVICE", "BACKEND", "STATUS", "ERROR"});
      for (const auto& rule : lease["rules"]) {
        rules.AddRow({FieldText(rule, "service"), FieldText(rule, "backend"),
                      FieldText(rule, "status"), FieldText(rule, "error")});
      }
      ctx.out() << "\n";
      ctx.PrintTable(rules);
    }
    return kExitOk;
  });
}

}  // namespace

void AddLeaseCommands(CLI::App& app, Context& ctx, Action& action) {
  auto open = std::make_shared<OpenFlags>();
  CLI::App* cmd = AddLeaf(app, "open", "Open access to services for your address (a lease)", ctx,
                          action, [open](Context& c) { return Open(c, *open); });
  cmd->add_option("services", open->services, "Service names");
  cmd->add_option("--for", open->duration,
                  "How long, e.g. 90m, 2h, 1h30m (default: the policy's default)");
  cmd->add_option("--cidr", open->cidr,
                  "Open for this network (e.g. 198.51.100.0/28) instead of your address");
  cmd->add_option("--invite", open->invite,
                  "Invite this email: the hole opens for the address they confirm from");
  cmd->add_flag("--no-email", open->no_email,
                "With --invite: do not email the link; it is printed for you to pass on");
  cmd->add_option("--invite-expires", open->invite_expires,
                  "With --invite: how long the link stays usable, e.g. 3d (default: the "
                  "server's, usually 7d)");
  cmd->add_option("--reason", open->reason, "Why you need access (shown to admins)");
  cmd->add_option("--access-group", open->access_group,
                  "Open every service of this access group instead of naming services");

  auto list = std::make_shared<ListFlags>();
  cmd = AddLeaf(app, "ls", "List your leases", ctx, action,
                [list](Context& c) { return List(c, *list); });
  cmd->add_flag("--all", list->all, "Everyone's leases (admins only)");
  cmd->add_option("--state", list->state,
                  "Only leases in this state: active, pending_approval, approved, invited, "
                  "live (all of those) or ended");

  auto close_id = std::make_shared<std::string>();
  cmd = AddLeaf(app, "close",
                "Close a lease now; withdraws a pending request or cancels an invitation", ctx, action, [close_id](Context& c) {
    return WithApi(c, [&](ApiClient& api) {
      return PrintLeaseOrJson(c, api.Delete(LeasePath(*close_id)), "");
    });
  });
  cmd->add_option("id", *close_id, "Lease id")->required();

  struct RenewFlags {
    std::string id;
    std::optional<std::string> duration;
  };
  auto renew = std::make_shared<RenewFlags>();
  cmd = AddLeaf(app, "renew", "Extend a lease", ctx, action, [renew](Context& c) {
    Result<nlohmann::json> body = RenewRequestBody(renew->duration);
    if (!body.ok()) return c.UsageFailure(body.status());
    return WithApi(c, [&](ApiClient& api) {
      return PrintLeaseOrJson(c, api.Post(LeasePath(renew->id) + "/renew", *body),
                              "was renewed and ");
    });
  });
  cmd->add_option("id", renew->id, "Lease id")->required();
  cmd->add_option("--for", renew->duration,
                  "New duration from now, e.g. 2h (default: the policy's default)");

  auto show_id = std::make_shared<std::string>();
  cmd = AddLeaf(app, "show", "Show one lease in detail", ctx, action,
                [show_id](Context& c) { return Show(c, *show_id); });
  cmd->add_option("id", *show_id, "Lease id")->required();
}

}  // namespace pinhole::cli
