// Registration of the pinhole subcommands, and the small helpers they share.
// A leaf command stores its body in the Action slot when the parser selects
// it; main() runs that body after the whole command line has parsed, so a
// usage error never leaves a half-done request behind.
//
// Thread-safety: single-threaded, like the CLI.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/request_body.h"

namespace pinhole::cli {

// login, logout, passwd, whoami.
void AddSessionCommands(CLI::App& app, Context& ctx, Action& action);
// open, ls, close, renew, show.
void AddLeaseCommands(CLI::App& app, Context& ctx, Action& action);
// admin users|groups|services|access-groups|policies|audit.
void AddAdminCommands(CLI::App& app, Context& ctx, Action& action);
// connect, tunnel.
void AddTunnelCommands(CLI::App& app, Context& ctx, Action& action);

// Adds a runnable subcommand with a --json flag; `body` becomes the action
// when it is chosen.
CLI::App* AddLeaf(CLI::App& parent, const std::string& name, const std::string& description,
                  Context& ctx, Action& action, Action body);

// Resolves an authenticated client and runs `body` with it; reports a missing
// server or login with the right exit code.
int WithApi(Context& ctx, const std::function<int(ApiClient&)>& body);

// A flag that may be given or not ("--public" / "--private").
struct BoolFlag {
  bool value = false;
  CLI::Option* option = nullptr;
  std::optional<bool> Get() const {
    return option != nullptr && option->count() > 0 ? std::optional<bool>(value) : std::nullopt;
  }
};

// A repeatable option whose absence differs from an empty list.
struct ListOption {
  std::vector<std::string> values;
  CLI::Option* option = nullptr;
  ListFlag Get() const { return MakeListFlag(values, option != nullptr ? option->count() : 0); }
};

// The "items" array of a list reply, or an empty array.
const nlohmann::json& Items(const nlohmann::json& reply);

}  // namespace pinhole::cli
