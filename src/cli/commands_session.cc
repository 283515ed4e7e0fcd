// login, logout, passwd, whoami.
#include <memory>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/prompt.h"

namespace pinhole::cli {
namespace {

constexpr char kSessionPath[] = "/api/v1/session";
constexpr char kPasswordPath[] = "/api/v1/me/password";

// Asks for (or reads) a new password twice when interactive; `current` is
// asked for only when not already known (right after login it is).
int ChangePassword(Context& ctx, ApiClient& api, std::optional<std::string> current,
                   bool from_stdin) {
  std::string new_password;
  if (from_stdin) {
    if (!current) {
      Result<std::string> line = ReadLine(ctx.in());
      if (!line.ok()) return ctx.UsageFailure(line.status());
      current = *line;
    }
    Result<std::string> line = ReadLine(ctx.in());
    if (!line.ok()) {
      return ctx.UsageFailure(Status::Invalid(
          "usage", "--password-stdin expects two lines: the current password, then the new one"));
    }
    new_password = *line;
  } else {
    if (!current) {
      Result<std::string> typed = PromptSecret("Current password: ");
      if (!typed.ok()) return ctx.UsageFailure(typed.status());
      current = *typed;
    }
    Result<std::string> first = PromptSecret("New password: ");
    if (!first.ok()) return ctx.UsageFailure(first.status());
    Result<std::string> again = PromptSecret("New password (again): ");
    if (!again.ok()) return ctx.UsageFailure(again.status());
    if (*first != *again) {
      return ctx.UsageFailure(Status::Invalid("password_mismatch", "the new passwords differ"));
    }
    new_password = *first;
  }
  if (new_password.empty()) {
    return ctx.UsageFailure(Status::Invalid("invalid_value", "the new password must not be empty"));
  }
  Result<nlohmann::json> reply =
      api.Post(kPasswordPath, {{"current", *current}, {"new", new_password}});
  if (!reply.ok()) return ctx.ApiFailure(reply.status());
  if (ctx.flags.json) {
    ctx.PrintJson({{"password_changed", true}});
  } else {
    ctx.out() << "Password changed.\n";
  }
  return kExitOk;
}

struct LoginFlags {
  std::string url;
  std::optional<std::string> email;
  std::optional<std::string> totp;
  bool password_stdin = false;
};

int Login(Context& ctx, const LoginFlags& flags) {
  Result<std::string> server = flags.url.empty() ? ctx.Server() : NormalizeServerUrl(flags.url);
  if (!server.ok()) return ctx.UsageFailure(server.status());
  Result<std::filesystem::path> file = ctx.CredentialsFile();
  if (!file.ok()) return ctx.Failure(file.status(), kExitRefused);

  std::string email;
  if (flags.email) {
    email = *flags.email;
  } else if (flags.password_stdin) {
    return ctx.UsageFailure(
        Status::Invalid("usage", "--password-stdin needs --email, since stdin holds the password"));
  } else {
    Result<std::string> typed = PromptLine("Email: ");
    if (!typed.ok()) return ctx.UsageFailure(typed.status());
    email = *typed;
  }
  if (email.empty()) return ctx.UsageFailure(Status::Invalid("usage", "an email is required"));

  Result<std::string> password =
      flags.password_stdin ? ReadLine(ctx.in()) : PromptSecret("Password for " + email + ": ");
  if (!password.ok()) return ctx.UsageFailure(password.status());

  nlohmann::json request = {{"email", email}, {"password", *password}};
  if (flags.totp) request["totp"] = *flags.totp;
  ApiClient anonymous = ctx.Client(*server, "");
  Result<nlohmann::json> reply = anonymous.Post(kSessionPath, request);
  // The server asks for the second factor only after the password checked
  // out, so the code is prompted for then rather than up front.
  if (!reply.ok() && reply.status().reason() == "mfa_required" && !flags.totp &&
      !flags.password_stdin) {
    Result<std::string> code = PromptLine("One-time code (or a recovery code): ");
    if (!code.ok()) return ctx.UsageFailure(code.status());
    request[code->find('-') == std::string::npos ? "totp" : "recovery_code"] = *code;
    reply = anonymous.Post(kSessionPath, request);
  }
  if (!reply.ok()) return ctx.ApiFailure(reply.status());

  const nlohmann::json& body = *reply;
  std::string token = body.is_object() ? body.value("token", "") : "";
  if (token.empty()) {
    return ctx.Failure(Status::Internal("the server's login reply has no token"), kExitRefused);
  }
  const nlohmann::json user =
      body.contains("user") && body["user"].is_object() ? body["user"] : nlohmann::json::object();
  Credentials saved{*server, token, user.value("email", email)};
  Status st = SaveCredentials(*file, saved);
  if (!st.ok()) return ctx.Failure(st, kExitRefused);

  bool must_change = body.value("must_change_password", false);
  if (ctx.flags.json) {
    nlohmann::json shown = body;
    shown.erase("token");  // secrets stay in the credentials file
    shown.erase("csrf_token");
    shown["server"] = *server;
    ctx.PrintJson(shown);
    return kExitOk;
  }
  ctx.out() << "Logged in to " << *server << " as " << Printable(saved.email);
  if (user.contains("role")) ctx.out() << " (" << FieldText(user, "role") << ")";
  ctx.out() << ".\n";
  if (body.value("mfa_enrolment_required", false)) {
    ctx.out() << "Your account must set up a second factor (TOTP) in the portal before "
                 "you can do anything else.\n";
  }
  if (!must_change) return kExitOk;

  ctx.out() << "Your password must be changed before you can do anything else.\n";
  if (!flags.password_stdin && Confirm("Change it now?", true)) {
    ApiClient api = ctx.Client(*server, token);
    return ChangePassword(ctx, api, *password, /*from_stdin=*/false);
  }
  ctx.out() << "Run `pinhole passwd` to change it.\n";
  return kExitOk;
}

int Logout(Context& ctx) {
  Result<std::filesystem::path> file = ctx.CredentialsFile();
  Result<ApiClient> api = ctx.Authenticated();
  if (!api.ok()) {
    if (api.status().reason() == "not_logged_in" || api.status().reason() == "no_server") {
      if (ctx.flags.json) {
        ctx.PrintJson({{"logged_out", false}});
      } else {
        ctx.out() << "Not logged in.\n";
      }
      return kExitOk;
    }
    return ctx.UsageFailure(api.status());
  }
  Result<nlohmann::json> reply = api->Delete(kSessionPath);
  int code = kExitOk;
  // An expired or revoked session is as good as logged out; anything else is
  // reported, but the local copy of the token goes either way.
  if (!reply.ok() && reply.status().code() != Code::kUnauthenticated) {
    code = ctx.ApiFailure(reply.status());
  }
  std::optional<Credentials> saved = ctx.SavedCredentials();
  if (file.ok() && saved) {
    Result<std::string> saved_server = NormalizeServerUrl(saved->server);
    if (saved_server.ok() && *saved_server == api->server()) {
      Status st = RemoveCredentials(*file);
      if (!st.ok()) return ctx.Failure(st, kExitRefused);
    }
  }
  if (ctx.flags.json) {
    ctx.PrintJson({{"logged_out", true}, {"server", api->server()}});
  } else {
    ctx.out() << "Logged out of " << api->server() << ".\n";
  }
  return code;
}

int Whoami(Context& ctx) {
  return WithApi(ctx, [&](ApiClient& api) {
    Result<nlohmann::json> reply = api.Get("/api/v1/me");
    if (!reply.ok()) return ctx.ApiFailure(reply.status());
    if (ctx.flags.json) {
      ctx.PrintJson(*reply);
      return kExitOk;
    }
    const nlohmann::json user =
        reply->is_object() && reply->contains("user") ? (*reply)["user"] : nlohmann::json::object();
    ctx.out() << RenderFields({{"email", FieldText(user, "email")},
                               {"role", FieldText(user, "role")},
                               {"groups", FieldText(user, "groups")},
                               {"server", api.server()}});
    ctx.out() << "address seen by the server: " << Printable(FieldText(*reply, "client_ip"))
              << "\n";
    if (user.value("must_change_password", false)) {
      ctx.out() << "Your password must be changed: run `pinhole passwd`.\n";
    }
    return kExitOk;
  });
}

}  // namespace

void AddSessionCommands(CLI::App& app, Context& ctx, Action& action) {
  auto login = std::make_shared<LoginFlags>();
  CLI::App* cmd = AddLeaf(app, "login", "Sign in and save the session for later commands", ctx,
                          action, [login](Context& c) { return Login(c, *login); });
  cmd->add_option("url", login->url,
                  "Server URL, e.g. https://pinhole.example.com (default: --server, "
                  "PINHOLE_SERVER, or the last login)");
  cmd->add_option("--email", login->email, "Account email (asked for when absent)");
  cmd->add_option("--totp", login->totp, "One-time code, when the account uses TOTP");
  cmd->add_flag("--password-stdin", login->password_stdin,
                "Read the password from the first line of stdin instead of prompting");
  cmd->footer(
      "The session is saved to $XDG_CONFIG_HOME/pinhole/credentials.json (or "
      "~/.config/pinhole/credentials.json), readable only by you.");

  AddLeaf(app, "logout", "End the session on the server and forget it here", ctx, action,
          [](Context& c) { return Logout(c); });

  auto from_stdin = std::make_shared<bool>(false);
  cmd = AddLeaf(app, "passwd", "Change your password", ctx, action, [from_stdin](Context& c) {
    return WithApi(
        c, [&](ApiClient& api) { return ChangePassword(c, api, std::nullopt, *from_stdin); });
  });
  cmd->add_flag("--password-stdin", *from_stdin,
                "Read two lines from stdin: the current password, then the new one");

  AddLeaf(app, "whoami", "Show who you are signed in as and the address the server sees", ctx,
          action, [](Context& c) { return Whoami(c); });
}

}  // namespace pinhole::cli
