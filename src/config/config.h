// pinholed's configuration: embedded defaults, overridden by a TOML file.
//
// Parsing is a pure function of the text (plus reading the file for
// LoadConfigFile); everything here is thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cidr.h"
#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

// One [[webhooks]] entry.
struct WebhookConfig {
  std::string name;
  std::string url;
  std::string secret;
  std::vector<std::string> events;
};

// One [[oidc]] entry: an OpenID Connect provider users may sign in with.
struct OidcProviderConfig {
  std::string name;          // url-safe id: 1-32 of a-z 0-9 - _ (in /api/v1/oidc/{name}/...)
  std::string display_name;  // "Sign in with <display_name>"; default: name
  std::string issuer;        // exact "iss"; https, or http to a loopback host
  std::string client_id;
  std::string client_secret;
  // "basic" (client_secret_basic, the default) or "post" (client_secret_post).
  std::string token_auth = "basic";
  std::vector<std::string> scopes = {"openid", "email", "profile"};
  std::string email_claim = "email";
  // Refuse an email whose email_verified claim is false; and link an
  // existing account by email only if email_verified is true.
  bool require_verified_email = true;
  std::string groups_claim = "groups";  // "" = ignore groups
  // Provider group -> Pinhole group. Values not in the map are dropped; an
  // empty map drops every group.
  std::vector<std::pair<std::string, std::string>> group_map;
  bool provision = true;  // create unknown users at their first sign-in
};

// [auth] local_passwords: who may sign in with a password kept by Pinhole.
enum class LocalPasswords {
  kAll,         // true (default)
  kAdminsOnly,  // false: everyone signs in through SSO, admins keep a break-glass password
  kNone,        // "none": nobody, not even admins
};

struct Config {
  // [server]
  std::vector<std::string> listen = {"127.0.0.1:8080", "[::1]:8080"};
  std::string public_url = "http://127.0.0.1:8080";
  std::vector<Cidr> trusted_proxies;
  // Request threads. A lease request holds one while its rules are applied,
  // so a slow backend (AWS under throttling) needs more to batch well.
  int server_threads = 16;
  // [store]
  std::string sqlite_path = "pinhole.db";
  // [tls]; both set -> HTTPS
  std::string tls_cert;
  std::string tls_key;
  // [nftables]
  std::string nftables_table = "pinhole";
  // [controller]
  Seconds resync_interval{30};
  // [auth]
  Seconds session_ttl{12 * 3600};
  LocalPasswords local_passwords = LocalPasswords::kAll;
  // [auth.htpasswd]: users (and groups) from Apache htpasswd/group files.
  // A file user "alice" signs in as "alice" and is known to Pinhole as
  // alice@<htpasswd_email_domain> (a name with '@' is used as it is).
  std::string htpasswd_file;
  std::string htpasswd_group_file;
  std::string htpasswd_email_domain = "htpasswd.local";
  // Lockout: after this many consecutive failed sign-ins an account is
  // locked for lockout_for (0 = never), until then or an admin's unlock.
  int lockout_after = 10;
  Seconds lockout_for{30 * 60};
  // API tokens and access keys: the longest expiry a user may give one, and
  // the default when they give none.
  Seconds credential_max_ttl{365 * 86400};
  Seconds credential_default_ttl{90 * 86400};
  // SigV4-signed requests: the service name in their credential scope (AWS
  // API Gateway's "execute-api" by default, so existing scripts work).
  std::string sigv4_service = "execute-api";
  // [[oidc]]: single sign-on providers (see OidcProviderConfig).
  std::vector<OidcProviderConfig> oidc;
  // [tunnel]
  Seconds tunnel_dial_timeout{5};
  Seconds tunnel_idle_timeout{3600};
  int tunnel_max_per_user = 16;
  int tunnel_max_total = 1000;
  bool tunnel_proxy_protocol = false;  // PROXY protocol v2 header to the target
  // [aws] (the aws-sg backend; see enforce/aws/aws_sg_options.h)
  std::string aws_endpoint;        // "" = https://ec2.{region}.amazonaws.com
  std::string aws_sts_endpoint;    // "" = https://sts.{region}.amazonaws.com
  std::string aws_imds_endpoint = "http://169.254.169.254";
  std::string aws_profile;         // "" = AWS_PROFILE or "default"
  std::string aws_owner = "pinhole";
  int aws_rule_quota = 60;
  int aws_bucket_size = 50;
  double aws_bucket_refill = 5;    // tokens per second
  int aws_max_rules_per_call = 100;
  Seconds aws_call_timeout{10};
  Seconds aws_degraded_after{60};
  Seconds aws_apply_budget{5};
  // How often Security Groups are re-read; the controller re-reads every
  // backend at the shorter of this and resync_interval.
  std::optional<Seconds> aws_reconcile_interval;

  // [smtp]: outgoing email. An empty url turns email off.
  //   url = "smtp://mail.example.com:587"   (or "smtps://host:465"; no
  //         credentials in the URL)
  //   from = "Pinhole <pinhole@example.com>"
  //   username = "", password = ""           (both empty: no AUTH)
  //   starttls = true    (smtp:// only: true refuses to send unless the
  //                       server accepts STARTTLS; false never starts TLS)
  //   timeout = "30s"    (per message: connect, send, and wait for replies)
  std::string smtp_url;
  std::string smtp_from = "Pinhole <pinhole@localhost>";
  std::string smtp_username;
  std::string smtp_password;
  bool smtp_starttls = true;
  Seconds smtp_timeout{30};
  bool email_enabled() const { return !smtp_url.empty(); }

  // [notify]: delivery of the outbox (emails and webhooks).
  //   reminder_before = "15m"  (tell a lease's owner this long before it
  //                             ends; "0s" = no reminders)
  //   retry_base = "5s", retry_max = "10m"  (back-off between attempts,
  //                                          doubling from base up to max)
  //   give_up_after = "3d"     (a message not delivered by then fails)
  //   webhook_timeout = "10s"  (per webhook request)
  Seconds reminder_before{15 * 60};
  Seconds notify_retry_base{5};
  Seconds notify_retry_max{600};
  Seconds notify_give_up_after{3 * 86400};
  Seconds webhook_timeout{10};

  // [[webhooks]]: each entry receives a signed JSON POST per event.
  //   name = "chatops"   (unique; 1-64 characters of a-z A-Z 0-9 _ . -)
  //   url = "https://hooks.example.com/..."
  //   secret = "..."     (HMAC-SHA256 key for X-Pinhole-Signature; "" sends
  //                       unsigned requests, e.g. to Slack, whose URL is the
  //                       secret)
  //   events = []        (names from notify/events.h; empty = every event)
  std::vector<WebhookConfig> webhooks;

  // [approval]
  //   pending_timeout = "1d"  (an undecided request expires after this)
  //   link_ttl = "1d"         (emailed one-click approve/deny links expire)
  Seconds approval_pending_timeout{86400};
  Seconds approval_link_ttl{86400};

  // [invitations]
  //   expiry = "7d"            (default time to use an invitation link)
  //   max_expiry = "30d"       (the most an admin may ask for)
  //   set_password_ttl = "3d"  (a welcome email's set-password link)
  Seconds invitation_expiry{7 * 86400};
  Seconds invitation_max_expiry{30 * 86400};
  Seconds set_password_ttl{3 * 86400};

  bool tls() const { return !tls_cert.empty(); }
};

// Parses TOML text on top of the defaults. An unknown section or key, a value
// of the wrong type, or an invalid value is an InvalidArgument (reason
// "invalid_config") whose message names the key and the line:
//   "pinhole.toml:3: server.listen: invalid port in \"[::1]:99999\""
// TOML syntax errors read "pinhole.toml:3: <toml++ description>".
// `source_name` is used in messages. public_url loses any trailing '/'.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);
// Reads and parses a file; a missing file is NotFound naming the path, an
// unreadable one InvalidArgument naming the path.
Result<Config> LoadConfigFile(const std::string& path);

// A listen address split into its parts: "127.0.0.1:8080" -> {"127.0.0.1",
// 8080}; "[::1]:0" -> {"::1", 0}. Only IP literals are accepted (no host
// names, no IPv6 zone ids); port 0 means "any free port".
struct ListenAddress {
  std::string host;  // IP literal without brackets
  uint16_t port = 0;
  bool v6 = false;
};
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace pinhole
