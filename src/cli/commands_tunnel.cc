// connect, tunnel: TCP to a tunnel service through pinholed's WebSocket
// endpoint (tunnel_client.h). `connect` relays stdin/stdout and is meant to
// be an OpenSSH ProxyCommand, so nothing but relayed bytes may reach stdout.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <memory>
#include <mutex>

#include "cli/commands.h"
#include "cli/host_map.h"
#include "cli/output.h"
#include "cli/tunnel_client.h"

namespace pinhole::cli {
namespace {

// The server and token, chosen exactly as Context::Authenticated does (a
// token is only ever sent to the server that issued it).
Result<TunnelServer> TunnelServerFor(Context& ctx) {
  Result<ApiClient> api = ctx.Authenticated();
  if (!api.ok()) return api.status();
  TunnelServer server;
  server.url = api->server();
  if (ctx.env().token) {
    server.token = *ctx.env().token;
  } else if (auto saved = ctx.SavedCredentials()) {
    server.token = saved->token;
  }
  server.transport.insecure = ctx.flags.insecure;
  server.transport.ca_file = ctx.flags.ca_file;
  return server;
}

int LoginFailure(Context& ctx, const Status& status) {
  return status.code() == Code::kInvalidArgument ? ctx.UsageFailure(status)
                                                 : ctx.Failure(status, kExitRefused);
}

// POST /api/v1/leases for one service with the policy's default duration.
// A lease that is created but not active (waiting for approval) does not let
// the tunnel through, so it is reported as a failure.
Status RequestLease(Context& ctx, const std::string& service) {
  Result<ApiClient> api = ctx.Authenticated();
  if (!api.ok()) return api.status();
  Result<nlohmann::json> lease =
      api->Post("/api/v1/leases", nlohmann::json{{"services", nlohmann::json::array({service})}});
  if (!lease.ok()) return lease.status();
  std::string id = FieldText(*lease, "id");
  std::string state = FieldText(*lease, "state");
  if (state != "active") {
    std::string what = state == "pending_approval" ? "is waiting for an admin's approval"
                       : state.empty()             ? "is not active"
                                                   : "is " + state;
    return Status::Denied("lease_not_active", "lease " + id + " for " + service + " " + what +
                                                  "; run this again once it is active");
  }
  ctx.err() << "pinhole: opened lease " << Printable(id) << " for " << Printable(service)
            << " (expires " << Printable(FieldText(*lease, "expires_at")) << ")\n";
  return Status::Ok();
}

int RefusalFailure(Context& ctx, const Status& status, bool open_given) {
  int code = ctx.ApiFailure(status);
  if (status.reason() == "no_lease" && !open_given &&
      status.message().find("--open") == std::string::npos) {
    ctx.err() << "pinhole: add --open to request a lease now\n";
  }
  return code;
}

void IgnoreSigpipe() {
  // A reader that goes away (ssh exiting, a local client disconnecting) must
  // show up as a write error, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
}

struct ConnectFlags {
  std::string host;
  bool open = false;
};

int Connect(Context& ctx, const ConnectFlags& flags) {
  std::string service = flags.host;
  Result<std::filesystem::path> hosts_file =
      HostMapPath(ctx.env().xdg_config_home ? ctx.env().xdg_config_home->c_str() : nullptr,
                  ctx.env().home ? ctx.env().home->c_str() : nullptr);
  if (hosts_file.ok()) {
    Result<HostMap> map = LoadHostMap(*hosts_file);
    if (map.ok()) {
      service = ServiceForHost(*map, flags.host);
    } else if (map.status().code() != Code::kNotFound) {
      return ctx.UsageFailure(map.status());
    }
  }
  Result<TunnelServer> server = TunnelServerFor(ctx);
  if (!server.ok()) return LoginFailure(ctx, server.status());

  Tunnel tunnel(*server);
  std::function<Status()> request_lease;
  if (flags.open) request_lease = [&] { return RequestLease(ctx, service); };
  Status connected = ConnectWithLease(tunnel, service, request_lease);
  if (!connected.ok()) return RefusalFailure(ctx, connected, flags.open);

  IgnoreSigpipe();
  // The relay owns copies of stdin/stdout; 0 and 1 then point at /dev/null,
  // so that when the relay closes its copy of stdout the reader (ssh) really
  // sees end-of-file, and no later write can reach the pipe.
  int in = ::dup(STDIN_FILENO);
  int out = ::dup(STDOUT_FILENO);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (in < 0 || out < 0 || null < 0) {
    return ctx.Failure(Status::Internal("cannot set up stdin/stdout for the tunnel"), kExitRefused);
  }
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  ::close(null);
  TunnelEnd end = tunnel.Relay(in, out);
  int code = ExitStatusFor(end);
  if (code != kExitOk) ctx.err() << "pinhole: " << Printable(DescribeEnd(end)) << "\n";
  return code;
}

struct TunnelFlags {
  std::string service;
  int port = 0;
  std::string bind = "127.0.0.1";
  int max_connections = 256;
  bool open = false;
};

int RunTunnel(Context& ctx, const TunnelFlags& flags) {
  Result<TunnelServer> server = TunnelServerFor(ctx);
  if (!server.ok()) return LoginFailure(ctx, server.status());

  // Connection threads log and request leases; one writer at a time.
  auto err_mu = std::make_shared<std::mutex>();
  TunnelListener::Options options;
  options.server = *server;
  options.service = flags.service;
  options.bind_address = flags.bind;
  options.port = static_cast<uint16_t>(flags.port);
  options.max_connections = static_cast<size_t>(flags.max_connections);
  options.stop_on_signals = true;
  options.log = [&ctx, err_mu](const std::string& line) {
    std::lock_guard lock(*err_mu);
    ctx.err() << "pinhole: " << Printable(line) << std::endl;
  };
  if (flags.open) {
    options.request_lease = [&ctx, err_mu, service = flags.service] {
      std::lock_guard lock(*err_mu);
      return RequestLease(ctx, service);
    };
  }
  TunnelListener listener(std::move(options));
  Status listening = listener.Listen();
  if (!listening.ok()) {
    return listening.code() == Code::kInvalidArgument ? ctx.UsageFailure(listening)
                                                      : ctx.Failure(listening, kExitRefused);
  }
  IgnoreSigpipe();
  if (flags.bind != "127.0.0.1" && flags.bind != "::1") {
    ctx.err() << "pinhole: warning: anyone who can reach " << Printable(flags.bind)
              << " can use this tunnel as you\n";
  }
  std::string host =
      flags.bind.find(':') != std::string::npos ? "[" + flags.bind + "]" : flags.bind;
  {
    std::lock_guard lock(*err_mu);
    ctx.err() << "listening on " << host << ":" << listener.port() << " -> "
              << Printable(flags.service) << std::endl;
  }
  listener.Run();
  return kExitOk;
}

CLI::App* AddCommand(CLI::App& app, const std::string& name, const std::string& description,
                     Action& action, Action body) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->callback([&action, body = std::move(body)] { action = body; });
  return sub;
}

}  // namespace

void AddTunnelCommands(CLI::App& app, Context& ctx, Action& action) {
  auto connect = std::make_shared<ConnectFlags>();
  CLI::App* cmd = AddCommand(
      app, "connect",
      "Relay stdin/stdout to a tunnel service (ssh -o ProxyCommand='pinhole connect %h')", action,
      [connect](Context& c) { return Connect(c, *connect); });
  cmd->add_option("service", connect->host,
                  "Service name, or a host name mapped to one in ~/.config/pinhole/hosts")
      ->required();
  cmd->add_flag("--open", connect->open, "Request a lease first if there is none");

  auto tunnel = std::make_shared<TunnelFlags>();
  cmd = AddCommand(app, "tunnel",
                   "Listen on a local port and forward each connection to a tunnel service", action,
                   [tunnel](Context& c) { return RunTunnel(c, *tunnel); });
  cmd->add_option("service", tunnel->service, "Service name")->required();
  cmd->add_option("--local-port,-p", tunnel->port, "Local port to listen on (0 picks a free one)")
      ->required()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--bind", tunnel->bind, "Local address to listen on (an IP address)")
      ->capture_default_str();
  cmd->add_option("--max-connections", tunnel->max_connections,
                  "Local connections served at once (one thread each); more are closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--open", tunnel->open, "Request a lease when the server says there is none");
}

}  // namespace pinhole::cli
