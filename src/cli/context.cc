#include "cli/context.h"

#include <cstdlib>
#include <iostream>

#include "cli/output.h"

namespace pinhole::cli {
namespace {

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || v[0] == '\0') return std::nullopt;
  return std::string(v);
}

const char* CStr(const std::optional<std::string>& s) { return s ? s->c_str() : nullptr; }

}  // namespace

Environment Environment::FromProcess() {
  Environment env;
  env.server = GetEnv("PINHOLE_SERVER");
  env.token = GetEnv("PINHOLE_TOKEN");
  env.xdg_config_home = GetEnv("XDG_CONFIG_HOME");
  env.home = GetEnv("HOME");
  return env;
}

Context::Context(Environment env, std::ostream& out, std::ostream& err, std::istream& in,
                 HttpClientFactory http_factory, const Clock& clock)
    : env_(std::move(env)),
      out_(out),
      err_(err),
      in_(in),
      http_factory_(std::move(http_factory)),
      clock_(clock) {}

Result<std::filesystem::path> Context::CredentialsFile() const {
  return CredentialsPath(CStr(env_.xdg_config_home), CStr(env_.home));
}

std::optional<Credentials> Context::SavedCredentials() {
  if (credentials_loaded_) return credentials_;
  credentials_loaded_ = true;
  Result<std::filesystem::path> file = CredentialsFile();
  if (!file.ok()) return std::nullopt;
  Result<Credentials> loaded = LoadCredentials(*file);
  if (loaded.ok()) {
    credentials_ = *loaded;
  } else if (loaded.status().code() != Code::kNotFound) {
    err_ << "pinhole: warning: ignoring saved login: " << loaded.status().message() << "\n";
  }
  return credentials_;
}

Result<std::string> Context::Server() {
  std::optional<std::string> chosen;
  if (!flags.server.empty()) {
    chosen = flags.server;
  } else if (env_.server) {
    chosen = env_.server;
  } else if (auto saved = SavedCredentials()) {
    chosen = saved->server;
  }
  if (!chosen) {
    return Status::Invalid("no_server",
                           "no server given; use --server URL, set PINHOLE_SERVER, or run "
                           "`pinhole login URL`");
  }
  return NormalizeServerUrl(*chosen);
}

HttpClient& Context::Http() {
  if (!http_) {
    TransportOptions options;
    options.insecure = flags.insecure;
    options.ca_file = flags.ca_file;
    http_ = http_factory_(options);
  }
  return *http_;
}

ApiClient Context::Client(const std::string& server, const std::string& token) {
  return ApiClient(&Http(), server, token);
}

Result<ApiClient> Context::Authenticated() {
  ASSIGN_OR_RETURN(std::string server, Server());
  std::string token;
  if (env_.token) {
    token = *env_.token;
  } else if (auto saved = SavedCredentials()) {
    Result<std::string> saved_server = NormalizeServerUrl(saved->server);
    if (saved_server.ok() && *saved_server == server) token = saved->token;
  }
  if (token.empty()) {
    return Status(
        Code::kUnauthenticated, "not_logged_in",
        "not logged in to " + server + "; run `pinhole login " + server + "` or set PINHOLE_TOKEN");
  }
  return ApiClient(&Http(), server, token);
}

int Context::Failure(const Status& status, int exit_code) {
  err_ << "pinhole: " << Printable(status.message()) << " (" << Printable(status.reason()) << ")\n";
  return exit_code;
}

int Context::ApiFailure(const Status& status) {
  if (status.reason() == "unreachable") return Failure(status, kExitUnreachable);
  int code = Failure(status, kExitRefused);
  if (status.code() == Code::kUnauthenticated && status.reason() != "invalid_credentials" &&
      status.reason() != "not_logged_in") {
    err_ << "pinhole: your session may have expired; run `pinhole login` again\n";
  }
  return code;
}

int Context::UsageFailure(const Status& status) { return Failure(status, kExitUsage); }

void Context::PrintJson(const nlohmann::json& value) {
  // Replace invalid UTF-8 rather than throw on a server's odd bytes.
  out_ << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void Context::PrintTable(const Table& table) { out_ << table.Render(stdout_is_tty); }

}  // namespace pinhole::cli
