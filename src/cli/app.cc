#include "cli/app.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/output.h"
#include "pinhole_version.h"

namespace pinhole::cli {
namespace {

std::string VersionText() {
  std::string v = std::string("pinhole ") + PINHOLE_VERSION;
  std::string rev = PINHOLE_GIT_REV;
  if (!rev.empty()) v += " (" + rev + ")";
  return v;
}

}  // namespace

int RunCli(int argc, const char* const* argv, Context& ctx) {
  CLI::App app("pinhole: ask for short-lived access to private services.", "pinhole");
  // Global options may come after the subcommand too ("pinhole ls --server X").
  app.fallthrough();
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionText(), "Print the version and exit");
  app.add_option("--server", ctx.flags.server,
                 "Server URL (overrides PINHOLE_SERVER and the saved login)");
  app.add_flag("--insecure", ctx.flags.insecure, "Do not verify the server's TLS certificate");
  app.add_option("--cacert", ctx.flags.ca_file, "Trust the CA certificates in this PEM file")
      ->check(CLI::ExistingFile);
  Action action;
  AddSessionCommands(app, ctx, action);
  AddLeaseCommands(app, ctx, action);
  AddAdminCommands(app, ctx, action);
  AddTunnelCommands(app, ctx, action);
  // Set last: subcommands created earlier would otherwise inherit it.
  app.footer(
      "Environment: PINHOLE_SERVER (server URL), PINHOLE_TOKEN (API token; overrides the saved "
      "login).\nExit status: 0 ok, 1 refused by the server, 2 usage error, 3 server "
      "unreachable.\nRun `pinhole COMMAND --help` for a command's options.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, ctx.out(), ctx.err());
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, ctx.out(), ctx.err());
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, ctx.out(), ctx.err());
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    // CLI11 reports "pinhole bogus" as a missing subcommand; name the word
    // that was not understood instead.
    std::vector<std::string> left = app.remaining();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !left.empty() &&
        left.front().rfind("-", 0) != 0) {
      message = "unknown command \"" + left.front() + "\"";
    }
    ctx.err() << "pinhole: " << Printable(message) << " (usage)\n"
              << "Run `pinhole --help` or `pinhole COMMAND --help` for usage.\n";
    return kExitUsage;
  }
  if (!action) {
    ctx.err() << "pinhole: no command given (usage)\n";
    return kExitUsage;
  }
  return action(ctx);
}

}  // namespace pinhole::cli
