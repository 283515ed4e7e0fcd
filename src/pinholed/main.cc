// pinholed: the Pinhole server. Wires config, store, enforcers, controller
// the HTTP API and the portal together, then waits for SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "auth/password.h"
#include "config/config.h"
#include "control/controller.h"
#include "control/housekeeper.h"
#include "enforce/registry.h"
#include "http/api.h"
#include "http/client_ip.h"
#include "http/portal.h"
#include "http/tunnel/tunnel_service.h"
#include "notify/from_config.h"
#include "pinhole_version.h"
#include "store/store.h"

namespace pinhole {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStartup = 1;

// Creates the first admin when the store has no users at all.
Status BootstrapAdmin(Store& store, const Clock& clock) {
  if (store.CountUsers() > 0) return Status::Ok();
  const char* env_email = std::getenv("PINHOLE_BOOTSTRAP_ADMIN_EMAIL");
  const char* env_password = std::getenv("PINHOLE_BOOTSTRAP_ADMIN_PASSWORD");
  User admin;
  admin.email = env_email && *env_email ? env_email : "admin@pinhole.local";
  admin.role = Role::kAdmin;
  admin.created_at = clock.Now();
  std::string password;
  if (env_password && *env_password) {
    password = env_password;
    RETURN_IF_ERROR(CheckPasswordPolicy(password));
  } else {
    password = GeneratePassword();
    admin.must_change_password = true;  // a printed password should not live long
  }
  ASSIGN_OR_RETURN(admin.password_hash, HashPassword(password));
  AuditEntry audit{clock.Now(), "system", "user.bootstrap", "user/" + admin.email, "", "{}"};
  auto created = store.CreateUser(admin, audit);
  if (!created.ok()) return created.status();
  std::printf("\n  First admin created: %s\n", admin.email.c_str());
  if (!(env_password && *env_password)) {
    std::printf("  Password (shown once, change it at first sign-in): %s\n", password.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
  return Status::Ok();
}

// Each tunnel holds two sockets, and a busy API many more; the usual soft
// limit of 1,024 descriptors would cap tunnels near 500.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int Serve(const Config& config, const std::string& web_root) {
  RaiseFileLimit();
  SystemClock clock;
  auto store = OpenSqliteStore(config.sqlite_path);
  if (!store.ok()) {
    spdlog::error("cannot open the store {}: {}", config.sqlite_path, store.status().message());
    return kExitStartup;
  }
  if (Status st = BootstrapAdmin(**store, clock); !st.ok()) {
    spdlog::error("cannot create the first admin: {}", st.ToString());
    return kExitStartup;
  }

  EnforcerOptions enforcer_options{.nftables_table = config.nftables_table};
  enforcer_options.aws_client.endpoint_template = config.aws_endpoint;
  enforcer_options.aws_client.sts_endpoint = config.aws_sts_endpoint;
  enforcer_options.aws_client.imds_endpoint = config.aws_imds_endpoint;
  enforcer_options.aws_client.profile = config.aws_profile;
  enforcer_options.aws_client.timeout = config.aws_call_timeout;
  enforcer_options.aws.owner = config.aws_owner;
  enforcer_options.aws.rule_quota = config.aws_rule_quota;
  enforcer_options.aws.bucket_size = config.aws_bucket_size;
  enforcer_options.aws.bucket_refill_per_second = config.aws_bucket_refill;
  enforcer_options.aws.max_rules_per_call = config.aws_max_rules_per_call;
  enforcer_options.aws.degraded_after = config.aws_degraded_after;
  enforcer_options.aws.apply_budget = config.aws_apply_budget;
  std::map<std::string, std::unique_ptr<Enforcer>> enforcers;
  EnforcerRegistry registry = DefaultEnforcerRegistry();
  for (const auto& name : registry.Names()) {
    auto e = registry.Create(name, enforcer_options);
    if (!e.ok()) {
      spdlog::error("cannot start the {} backend: {}", name, e.status().ToString());
      return kExitStartup;
    }
    enforcers[name] = std::move(e).value();
  }
  // Notifications: rendered at commit into the outbox, delivered by the
  // sender; the sender is declared first so that it outlives its users.
  const Notifier notifier(NotifyOptionsFromConfig(config));
  auto transports = TransportsFromConfig(config);
  if (!transports.ok()) {
    spdlog::error("cannot send notifications: {}", transports.status().message());
    return kExitStartup;
  }
  OutboxSender outbox(**store, clock, std::move(transports).value(),
                      SenderOptionsFromConfig(config));
  auto kick = [&outbox] { outbox.Kick(); };
  auto lease_ended = [&notifier](const Lease& l, Time now) { return notifier.LeaseEnded(l, now); };

  ControllerOptions controller_options;
  controller_options.resync_interval = config.resync_interval;
  controller_options.expiry_notice = lease_ended;
  controller_options.after_notice = kick;
  if (config.aws_reconcile_interval) {
    controller_options.resync_interval =
        std::min<Millis>(controller_options.resync_interval, *config.aws_reconcile_interval);
  }
  Controller controller(**store, clock, std::move(enforcers), controller_options);
  Housekeeper housekeeper(
      **store, clock,
      HousekeeperOptions{.reminder_before = config.reminder_before,
                         .reminder = [&notifier](const Lease& l,
                                                 Time now) { return notifier.ExpiryReminder(l, now); },
                         .ended = lease_ended,
                         .after_notice = kick});

  // Declared before the server, so that the server stops (ending every
  // tunnel) before the tunnels' owner goes away.
  std::unique_ptr<Api> api;
  TunnelService tunnels(
      **store, clock,
      TunnelOptions{.dial_timeout = config.tunnel_dial_timeout,
                    .idle_timeout = config.tunnel_idle_timeout,
                    .max_per_user = config.tunnel_max_per_user,
                    .max_total = config.tunnel_max_total,
                    .proxy_protocol = config.tunnel_proxy_protocol},
      [&api](const HttpRequest& r) { return api->AuthenticateRequest(r); },
      [&config](const HttpRequest& r) {
        return ClientAddress(r.peer, r.Header("x-forwarded-for"), r.Header("forwarded"),
                             config.trusted_proxies);
      });
  api = std::make_unique<Api>(ApiContext{**store, controller, clock, config, &tunnels, &notifier, &outbox});
  HttpServerOptions server_options;
  server_options.listen = config.listen;
  server_options.threads = config.server_threads;
  server_options.tls_cert = config.tls_cert;
  server_options.tls_key = config.tls_key;
  server_options.upgrade = tunnels.Hook();
  server_options.websocket_max_message = kTunnelMaxMessage;
  Portal portal = web_root.empty() ? Portal(EmbeddedPortalFiles()) : Portal(web_root);
  if (!web_root.empty()) spdlog::info("serving the portal from {}", web_root);
  auto server = NewHttpServer(server_options, [&api, &portal](const HttpRequest& r) {
    return Portal::Claims(r) ? portal.Serve(r) : api->Handle(r);
  });

  // Block the signals before any thread starts so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (Status st = server->Start(); !st.ok()) {
    spdlog::error("cannot listen: {}", st.message());
    return kExitStartup;
  }
  for (const auto& a : server->BoundAddresses()) {
    spdlog::info("listening on {}://{}", config.tls() ? "https" : "http", a);
  }
  // Reconcile before /readyz turns 200: holes match the store from here on.
  if (Status st = controller.Start(); !st.ok()) {
    spdlog::error("cannot reconcile enforcement points: {}", st.ToString());
    server->Stop();
    return kExitStartup;
  }
  spdlog::info("ready ({} active leases)", controller.Stats().active_leases);
  // What was committed before a crash or restart is sent now.
  outbox.Start();
  housekeeper.Start();

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: shutting down (holes stay until their kernel timeout)", sig);
  server->Stop();
  housekeeper.Stop();
  controller.Stop();
  outbox.Stop();
  return 0;
}

}  // namespace
}  // namespace pinhole

int main(int argc, char** argv) {
  CLI::App app{"pinholed - Pinhole just-in-time network access gateway server"};
  std::string config_path;
  std::vector<std::string> listen;
  std::string sqlite_path;
  app.add_option("-c,--config", config_path,
                 "TOML configuration file (embedded defaults if absent)");
  app.add_option("--listen", listen, "Listen address ADDR:PORT (repeatable; overrides the config)");
  app.add_option("--sqlite", sqlite_path, "SQLite database path (overrides [store] sqlite)");
  std::string web_root;
  app.add_option("--web-root", web_root,
                 "Serve the portal from this directory instead of the copy built in "
                 "(for working on web/)")
      ->check(CLI::ExistingDirectory);
  app.set_version_flag("--version",
                       std::string("pinholed ") + PINHOLE_VERSION + " (" + PINHOLE_GIT_REV + ")");
  app.footer(
      "Environment: PINHOLE_BOOTSTRAP_ADMIN_EMAIL and PINHOLE_BOOTSTRAP_ADMIN_PASSWORD create the\n"
      "first admin when the store has no users (otherwise a password is generated and printed).\n");
  CLI11_PARSE(app, argc, argv);

  pinhole::Config config;
  if (!config_path.empty()) {
    auto loaded = pinhole::LoadConfigFile(config_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "pinholed: %s\n", loaded.status().message().c_str());
      return pinhole::kExitConfig;
    }
    config = std::move(loaded).value();
  }
  if (!listen.empty()) config.listen = listen;
  if (!sqlite_path.empty()) config.sqlite_path = sqlite_path;
  try {
    return pinhole::Serve(config, web_root);
  } catch (const std::exception& e) {
    spdlog::critical("unexpected error: {}", e.what());
    return 1;
  }
}
