#include "cli/commands.h"

namespace pinhole::cli {

CLI::App* AddLeaf(CLI::App& parent, const std::string& name, const std::string& description,
                  Context& ctx, Action& action, Action body) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->add_flag("--json", ctx.flags.json, "Print the server's JSON reply instead of a table");
  sub->callback([&action, body = std::move(body)] { action = body; });
  return sub;
}

int WithApi(Context& ctx, const std::function<int(ApiClient&)>& body) {
  Result<ApiClient> api = ctx.Authenticated();
  if (!api.ok()) {
    return api.status().code() == Code::kInvalidArgument ? ctx.UsageFailure(api.status())
                                                         : ctx.Failure(api.status(), kExitRefused);
  }
  return body(*api);
}

const nlohmann::json& Items(const nlohmann::json& reply) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (reply.is_object()) {
    auto it = reply.find("items");
    if (it != reply.end() && it->is_array()) return *it;
  }
  if (reply.is_array()) return reply;
  return kEmpty;
}

}  // namespace pinhole::cli
