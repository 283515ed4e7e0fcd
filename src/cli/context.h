// What every pinhole command shares: the global flags, the environment, the
// output streams, and the way to reach the server (resolved once from
// --server / PINHOLE_SERVER / PINHOLE_TOKEN / the saved login). Also the
// exit-status convention:
//   0 success, 1 the server refused, 2 usage error, 3 server unreachable.
//
// Thread-safety: single-threaded, like the CLI.
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/api_client.h"
#include "cli/credentials.h"
#include "cli/http_client.h"
#include "core/clock.h"
#include "core/result.h"

namespace pinhole::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

// The environment variables the CLI reads, captured once so that tests can
// supply their own.
struct Environment {
  std::optional<std::string> server;  // PINHOLE_SERVER
  std::optional<std::string> token;   // PINHOLE_TOKEN
  std::optional<std::string> xdg_config_home;
  std::optional<std::string> home;

  static Environment FromProcess();
};

struct GlobalFlags {
  std::string server;  // --server; empty = not given
  bool insecure = false;
  std::string ca_file;
  bool json = false;  // --json, bound on every command
};

using HttpClientFactory = std::function<std::unique_ptr<HttpClient>(const TransportOptions&)>;

class Context {
 public:
  Context(Environment env, std::ostream& out, std::ostream& err, std::istream& in,
          HttpClientFactory http_factory, const Clock& clock);

  GlobalFlags flags;
  // Set by main() when stdout is a terminal (headers are then emphasized).
  bool stdout_is_tty = false;

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  std::istream& in() { return in_; }
  Time Now() const { return clock_.Now(); }
  const Environment& env() const { return env_; }

  Result<std::filesystem::path> CredentialsFile() const;
  // The saved login, or nullopt if there is none (or it is unreadable, in
  // which case a warning is printed once).
  std::optional<Credentials> SavedCredentials();

  // The server to talk to: --server, else PINHOLE_SERVER, else the saved
  // login's. Errors (reason "no_server") when there is none.
  Result<std::string> Server();

  // An API client for `server` with the given token (empty for none).
  ApiClient Client(const std::string& server, const std::string& token);
  // An API client with the token: PINHOLE_TOKEN, else the saved login's
  // token, which is used only when the saved login is for the same server
  // (a token is never sent to a server it was not issued by). Errors (reason
  // "not_logged_in") when there is no token.
  Result<ApiClient> Authenticated();

  // Each prints `pinhole: <message> (<reason>)` to stderr and returns the
  // exit code. ApiFailure: for an error from ApiClient (1, or 3 when the
  // server was unreachable; adds a hint to log in again on 401).
  // UsageFailure: for an error in what the user typed (2). Failure: anything
  // else, with the given code.
  int ApiFailure(const Status& status);
  int UsageFailure(const Status& status);
  int Failure(const Status& status, int exit_code);

  // Writes `value` as indented JSON followed by a newline.
  void PrintJson(const nlohmann::json& value);
  // Writes a table to stdout.
  void PrintTable(const class Table& table);

 private:
  HttpClient& Http();

  Environment env_;
  std::ostream& out_;
  std::ostream& err_;
  std::istream& in_;
  HttpClientFactory http_factory_;
  const Clock& clock_;
  std::unique_ptr<HttpClient> http_;
  bool credentials_loaded_ = false;
  std::optional<Credentials> credentials_;
};

// A command's body; run after parsing succeeded. Returns the exit code.
using Action = std::function<int(Context&)>;

}  // namespace pinhole::cli
