#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "core/duration.h"
#include "notify/events.h"

namespace pinhole {
namespace {

// Durations longer than this are surely typos (ParseDuration caps strings at
// ten years too; integers get the same cap here).
constexpr int64_t kMaxDurationSeconds = int64_t{10} * 366 * 24 * 3600;
constexpr size_t kMaxTableName = 32;

Status ConfigError(std::string_view source, const toml::node& node, std::string_view key,
                   std::string_view what) {
  std::string msg(source);
  msg += ':';
  msg += std::to_string(node.source().begin.line);
  msg += ": ";
  msg += key;
  msg += ": ";
  msg += what;
  return Status::Invalid("invalid_config", std::move(msg));
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

// Reads one key of one section; every check reports through Error() so that
// each message carries "<source>:<line>: <section>.<key>:".
class Reader {
 public:
  Reader(std::string_view source, std::string_view section, std::string_view key,
         const toml::node& node)
      : source_(source), name_(std::string(section) + "." + std::string(key)), node_(node) {}

  Status Error(std::string_view what) const { return Error(node_, what); }
  Status Error(const toml::node& at, std::string_view what) const {
    return ConfigError(source_, at, name_, what);
  }

  Result<std::string> String() const {
    const auto* s = node_.as_string();
    if (s == nullptr) return Error("expected a string");
    return s->get();
  }

  Result<std::string> NonEmptyString() const {
    ASSIGN_OR_RETURN(std::string s, String());
    if (s.empty()) return Error("must not be empty");
    return s;
  }

  // A string or an array of strings (a lone string becomes a list of one).
  // Each element is returned with its own node, for line numbers.
  Result<std::vector<std::pair<std::string, const toml::node*>>> StringList(
      bool allow_single) const {
    std::vector<std::pair<std::string, const toml::node*>> out;
    if (allow_single && node_.is_string()) {
      out.emplace_back(node_.as_string()->get(), &node_);
      return out;
    }
    const auto* arr = node_.as_array();
    if (arr == nullptr) {
      return Error(allow_single ? "expected a string or an array of strings"
                                : "expected an array of strings");
    }
    for (const toml::node& el : *arr) {
      const auto* s = el.as_string();
      if (s == nullptr) return Error(el, "expected an array of strings");
      out.emplace_back(s->get(), &el);
    }
    return out;
  }

  // An integer in [min, max].
  Result<int64_t> Integer(int64_t min, int64_t max) const {
    const auto* i = node_.as_integer();
    if (i == nullptr) return Error("expected an integer");
    if (i->get() < min || i->get() > max) {
      return Error("must be " + std::to_string(min) + ".." + std::to_string(max));
    }
    return i->get();
  }

  Result<bool> Bool() const {
    const auto* b = node_.as_boolean();
    if (b == nullptr) return Error("expected true or false");
    return b->get();
  }

  // A positive duration: "90s", "1h30m", or integer seconds.
  Result<Seconds> Duration() const {
    if (const auto* i = node_.as_integer()) {
      int64_t v = i->get();
      if (v <= 0) return Error("must be positive");
      if (v > kMaxDurationSeconds) return Error("too long (at most 10 years)");
      return Seconds(v);
    }
    const auto* s = node_.as_string();
    if (s == nullptr)
      return Error("expected a duration string (\"90s\", \"1h30m\") or integer seconds");
    Result<Seconds> d = ParseDuration(s->get());
    if (!d.ok()) return Error("invalid duration " + Quote(s->get()) + ": " + d.status().message());
    if (d->count() <= 0) return Error("must be positive");
    return *d;
  }

  // Like Duration(), but zero ("0s" or 0) is allowed and means "off".
  Result<Seconds> DurationOrZero() const {
    const auto* i = node_.as_integer();
    if (i != nullptr && i->get() == 0) return Seconds(0);
    const auto* s = node_.as_string();
    if (s != nullptr) {
      Result<Seconds> d = ParseDuration(s->get());
      if (d.ok() && d->count() == 0) return Seconds(0);
    }
    return Duration();
  }

 private:
  std::string_view source_;
  std::string name_;
  const toml::node& node_;
};

bool ValidTableName(std::string_view s) {
  if (s.empty() || s.size() > kMaxTableName) return false;
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Light validation only: the scheme, a host, no whitespace. The URL is used
// to build links in emails, so an obviously wrong one should fail at start.
std::string CheckPublicUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return "must start with http:// or https://";
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must not contain spaces or control characters";
    }
  }
  if (rest.empty() || rest.front() == '/') return "has no host";
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "must not contain a query or fragment";
  }
  return "";
}

Status ParseServer(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "server", key, node);
    if (key == "listen") {
      ASSIGN_OR_RETURN(auto items, r.StringList(/*allow_single=*/true));
      if (items.empty()) return r.Error("must list at least one address");
      std::vector<std::string> listen;
      std::set<std::pair<std::string, uint16_t>> seen;
      for (const auto& [text, at] : items) {
        Result<ListenAddress> a = ParseListenAddress(text);
        if (!a.ok()) return r.Error(*at, a.status().message());
        // Port 0 picks a fresh port each time, so repeating it is harmless.
        if (a->port != 0 && !seen.emplace(a->host, a->port).second) {
          return r.Error(*at, "duplicate address " + Quote(text));
        }
        listen.push_back(text);
      }
      c.listen = std::move(listen);
    } else if (key == "public_url") {
      const auto* s = node.as_string();
      if (s == nullptr) return r.Error("expected a string");
      std::string_view url = s->get();
      std::string what = CheckPublicUrl(url);
      if (!what.empty()) return r.Error(Quote(url) + " " + what);
      while (url.ends_with('/')) url.remove_suffix(1);
      c.public_url = std::string(url);
    } else if (key == "trusted_proxies") {
      ASSIGN_OR_RETURN(auto items, r.StringList(/*allow_single=*/false));
      std::vector<Cidr> proxies;
      for (const auto& [text, at] : items) {
        Result<Cidr> cidr = Cidr::Parse(text);
        if (!cidr.ok()) {
          return r.Error(*at, "invalid CIDR " + Quote(text) + ": " + cidr.status().message());
        }
        proxies.push_back(*cidr);
      }
      c.trusted_proxies = std::move(proxies);
    } else if (key == "threads") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 1024));
      c.server_threads = static_cast<int>(n);
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseStore(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "store", key, node);
    if (key == "sqlite") {
      ASSIGN_OR_RETURN(c.sqlite_path, r.NonEmptyString());
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseTls(std::string_view src, const toml::table& t, Config& c) {
  const toml::node* cert = nullptr;
  const toml::node* key_node = nullptr;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "tls", key, node);
    if (key == "cert") {
      ASSIGN_OR_RETURN(c.tls_cert, r.NonEmptyString());
      cert = &node;
    } else if (key == "key") {
      ASSIGN_OR_RETURN(c.tls_key, r.NonEmptyString());
      key_node = &node;
    } else {
      return r.Error("unknown key");
    }
  }
  if (cert != nullptr && key_node == nullptr) {
    return ConfigError(src, *cert, "tls.key", "missing: cert and key must be set together");
  }
  if (key_node != nullptr && cert == nullptr) {
    return ConfigError(src, *key_node, "tls.cert", "missing: cert and key must be set together");
  }
  return Status::Ok();
}

Status ParseNftables(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "nftables", key, node);
    if (key == "table") {
      ASSIGN_OR_RETURN(std::string name, r.String());
      if (!ValidTableName(name)) {
        return r.Error(Quote(name) + " must be 1-32 characters of A-Z, a-z, 0-9, _");
      }
      c.nftables_table = std::move(name);
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseController(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "controller", key, node);
    if (key == "resync_interval") {
      ASSIGN_OR_RETURN(c.resync_interval, r.Duration());
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseAuth(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "auth", key, node);
    if (key == "session_ttl") {
      ASSIGN_OR_RETURN(c.session_ttl, r.Duration());
    } else if (key == "local_passwords") {
      if (const auto* b = node.as_boolean()) {
        c.local_passwords = b->get() ? LocalPasswords::kAll : LocalPasswords::kAdminsOnly;
      } else if (const auto* s = node.as_string(); s != nullptr && s->get() == "none") {
        c.local_passwords = LocalPasswords::kNone;
      } else {
        return r.Error("expected true, false or \"none\"");
      }
    } else if (key == "htpasswd") {
      const toml::table* h = node.as_table();
      if (h == nullptr) return r.Error("expected a table [auth.htpasswd]");
      for (const auto& [hk, hnode] : *h) {
        Reader hr(src, "auth.htpasswd", hk.str(), hnode);
        if (hk.str() == "file") {
          ASSIGN_OR_RETURN(c.htpasswd_file, hr.NonEmptyString());
        } else if (hk.str() == "group_file") {
          ASSIGN_OR_RETURN(c.htpasswd_group_file, hr.NonEmptyString());
        } else if (hk.str() == "email_domain") {
          ASSIGN_OR_RETURN(c.htpasswd_email_domain, hr.NonEmptyString());
        } else {
          return hr.Error("unknown key");
        }
      }
      if (c.htpasswd_file.empty() && !c.htpasswd_group_file.empty()) {
        return r.Error("group_file needs file");
      }
    } else if (key == "lockout_after") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(0, 1000));
      c.lockout_after = static_cast<int>(n);
    } else if (key == "lockout_for") {
      ASSIGN_OR_RETURN(c.lockout_for, r.Duration());
    } else if (key == "credential_max_ttl") {
      ASSIGN_OR_RETURN(c.credential_max_ttl, r.Duration());
    } else if (key == "credential_default_ttl") {
      ASSIGN_OR_RETURN(c.credential_default_ttl, r.Duration());
    } else if (key == "sigv4_service") {
      ASSIGN_OR_RETURN(c.sigv4_service, r.String());
      bool ok = !c.sigv4_service.empty() && c.sigv4_service.size() <= 64 &&
                std::all_of(c.sigv4_service.begin(), c.sigv4_service.end(), [](char ch) {
                  return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
                });
      if (!ok) return r.Error("expected 1-64 characters of a-z, 0-9 and -");
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseTunnel(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "tunnel", key, node);
    if (key == "dial_timeout") {
      ASSIGN_OR_RETURN(c.tunnel_dial_timeout, r.Duration());
    } else if (key == "idle_timeout") {
      ASSIGN_OR_RETURN(c.tunnel_idle_timeout, r.Duration());
    } else if (key == "max_per_user") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 100000));
      c.tunnel_max_per_user = static_cast<int>(n);
    } else if (key == "max_total") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 1000000));
      c.tunnel_max_total = static_cast<int>(n);
    } else if (key == "proxy_protocol") {
      ASSIGN_OR_RETURN(c.tunnel_proxy_protocol, r.Bool());
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

// Enough of a URL check to catch typos at start; the transports check again.
// `schemes` lists the accepted prefixes, e.g. {"smtp://", "smtps://"}.
std::string CheckUrl(std::string_view url, std::initializer_list<std::string_view> schemes) {
  std::string_view rest;
  bool matched = false;
  for (std::string_view scheme : schemes) {
    if (url.starts_with(scheme)) {
      rest = url.substr(scheme.size());
      matched = true;
    }
  }
  if (!matched) {
    std::string want;
    for (std::string_view scheme : schemes)
      want += (want.empty() ? "" : " or ") + std::string(scheme);
    return "must start with " + want;
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must not contain spaces or control characters";
    }
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "has no host";
  if (authority.find('@') != std::string_view::npos) return "must not contain credentials";
  return "";
}

// "Name <local@domain>" or "local@domain"; the SMTP transport parses it fully.
std::string CheckMailbox(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  std::string_view address = text;
  size_t open = text.find('<');
  if (open != std::string_view::npos) {
    if (!text.ends_with('>')) return "expected \"Name <address>\"";
    address = text.substr(open + 1, text.size() - open - 2);
  }
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
      address.find_first_of(" <>\",") != std::string_view::npos) {
    return "expected an address like \"Pinhole <pinhole@example.com>\"";
  }
  return "";
}

Status ParseSmtp(std::string_view src, const toml::table& t, Config& c) {
  const toml::node* password = nullptr;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "smtp", key, node);
    if (key == "url") {
      ASSIGN_OR_RETURN(std::string url, r.String());
      if (!url.empty()) {
        std::string what = CheckUrl(url, {"smtp://", "smtps://"});
        if (!what.empty()) return r.Error(what);
      }
      c.smtp_url = std::move(url);
    } else if (key == "from") {
      ASSIGN_OR_RETURN(std::string from, r.NonEmptyString());
      std::string what = CheckMailbox(from);
      if (!what.empty()) return r.Error(what);
      c.smtp_from = std::move(from);
    } else if (key == "username") {
      ASSIGN_OR_RETURN(c.smtp_username, r.String());
    } else if (key == "password") {
      // Never echoed: errors name the key only.
      ASSIGN_OR_RETURN(c.smtp_password, r.String());
      password = &node;
    } else if (key == "starttls") {
      ASSIGN_OR_RETURN(c.smtp_starttls, r.Bool());
    } else if (key == "timeout") {
      ASSIGN_OR_RETURN(c.smtp_timeout, r.Duration());
    } else {
      return r.Error("unknown key");
    }
  }
  if (password != nullptr && !c.smtp_password.empty() && c.smtp_username.empty()) {
    return ConfigError(src, *password, "smtp.username", "missing: a password needs a username");
  }
  return Status::Ok();
}

Status ParseNotify(std::string_view src, const toml::table& t, Config& c) {
  const toml::node* retry_base = nullptr;
  const toml::node* retry_max = nullptr;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "notify", key, node);
    if (key == "reminder_before") {
      ASSIGN_OR_RETURN(c.reminder_before, r.DurationOrZero());
    } else if (key == "retry_base") {
      ASSIGN_OR_RETURN(c.notify_retry_base, r.Duration());
      retry_base = &node;
    } else if (key == "retry_max") {
      ASSIGN_OR_RETURN(c.notify_retry_max, r.Duration());
      retry_max = &node;
    } else if (key == "give_up_after") {
      ASSIGN_OR_RETURN(c.notify_give_up_after, r.Duration());
    } else if (key == "webhook_timeout") {
      ASSIGN_OR_RETURN(c.webhook_timeout, r.Duration());
    } else {
      return r.Error("unknown key");
    }
  }
  if (c.notify_retry_max < c.notify_retry_base) {
    if (retry_max == nullptr) {
      return ConfigError(
          src, *retry_base, "notify.retry_base",
          "must not exceed notify.retry_max (" + FormatDuration(c.notify_retry_max) + ")");
    }
    return ConfigError(
        src, *retry_max, "notify.retry_max",
        "must be at least notify.retry_base (" + FormatDuration(c.notify_retry_base) + ")");
  }
  return Status::Ok();
}

Status ParseApproval(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "approval", key, node);
    if (key == "pending_timeout") {
      ASSIGN_OR_RETURN(c.approval_pending_timeout, r.Duration());
    } else if (key == "link_ttl") {
      ASSIGN_OR_RETURN(c.approval_link_ttl, r.Duration());
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

Status ParseInvitations(std::string_view src, const toml::table& t, Config& c) {
  const toml::node* expiry = nullptr;
  const toml::node* max_expiry = nullptr;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "invitations", key, node);
    if (key == "expiry") {
      ASSIGN_OR_RETURN(c.invitation_expiry, r.Duration());
      expiry = &node;
    } else if (key == "max_expiry") {
      ASSIGN_OR_RETURN(c.invitation_max_expiry, r.Duration());
      max_expiry = &node;
    } else if (key == "set_password_ttl") {
      ASSIGN_OR_RETURN(c.set_password_ttl, r.Duration());
    } else {
      return r.Error("unknown key");
    }
  }
  if (c.invitation_expiry > c.invitation_max_expiry) {
    const toml::node& at = expiry != nullptr ? *expiry : *max_expiry;
    return ConfigError(src, at, expiry != nullptr ? "invitations.expiry" : "invitations.max_expiry",
                       "invitations.expiry (" + FormatDuration(c.invitation_expiry) +
                           ") must not exceed invitations.max_expiry (" +
                           FormatDuration(c.invitation_max_expiry) + ")");
  }
  return Status::Ok();
}

bool ValidWebhookName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// A short secret can be guessed offline from one signed request.
constexpr size_t kMinWebhookSecret = 16;

Status ParseWebhook(std::string_view src, const toml::table& t, Config& c) {
  WebhookConfig hook;
  bool has_url = false;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "webhooks", key, node);
    if (key == "name") {
      ASSIGN_OR_RETURN(std::string name, r.String());
      if (!ValidWebhookName(name)) {
        return r.Error(Quote(name) + " must be 1-64 characters of a-z, A-Z, 0-9, _, ., -");
      }
      for (const auto& other : c.webhooks) {
        if (other.name == name) return r.Error("duplicate webhook name " + Quote(name));
      }
      hook.name = std::move(name);
    } else if (key == "url") {
      // Not quoted in errors: webhook URLs often carry a token.
      ASSIGN_OR_RETURN(std::string url, r.NonEmptyString());
      std::string what = CheckUrl(url, {"https://", "http://"});
      if (!what.empty()) return r.Error(what);
      hook.url = std::move(url);
      has_url = true;
    } else if (key == "secret") {
      ASSIGN_OR_RETURN(std::string secret, r.String());
      if (!secret.empty() && secret.size() < kMinWebhookSecret) {
        return r.Error(
            "too short: use at least 16 characters (e.g. `openssl rand -hex 32`), "
            "or \"\" for unsigned requests");
      }
      hook.secret = std::move(secret);
    } else if (key == "events") {
      ASSIGN_OR_RETURN(auto items, r.StringList(/*allow_single=*/false));
      std::vector<std::string> names;
      for (const auto& [name, at] : items) {
        if (!events::IsKnown(name)) {
          std::string known;
          for (std::string_view e : events::kAll)
            known += (known.empty() ? "" : ", ") + std::string(e);
          return r.Error(*at, "unknown event " + Quote(name) + " (known: " + known + ")");
        }
        if (std::find(names.begin(), names.end(), name) != names.end()) {
          return r.Error(*at, "duplicate event " + Quote(name));
        }
        names.push_back(name);
      }
      hook.events = std::move(names);
    } else {
      return r.Error("unknown key");
    }
  }
  if (hook.name.empty()) return ConfigError(src, t, "webhooks.name", "missing");
  if (!has_url) return ConfigError(src, t, "webhooks.url", "missing");
  c.webhooks.push_back(std::move(hook));
  return Status::Ok();
}

// [[webhooks]] is an array of tables, unlike the other sections.
Status ParseWebhooks(std::string_view src, const toml::node& node, Config& c) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return ConfigError(src, node, "webhooks", "expected [[webhooks]] entries (an array of tables)");
  }
  for (const toml::node& el : *arr) {
    RETURN_IF_ERROR(ParseWebhook(src, *el.as_table(), c));
  }
  return Status::Ok();
}

bool ValidOidcName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char ch : name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
      return false;
    }
  }
  return true;
}

// https, or http to a loopback host (a provider for tests or on this host).
bool ValidIssuer(std::string_view url) {
  for (char ch : url) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return false;
  }
  if (url.starts_with("https://")) return url.size() > 8;
  for (std::string_view host : {"http://127.", "http://localhost", "http://[::1]"}) {
    if (url.starts_with(host)) return true;
  }
  return false;
}

Status ParseOidcProvider(std::string_view src, const toml::table& t, Config& c) {
  OidcProviderConfig p;
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "oidc", key, node);
    if (key == "name") {
      ASSIGN_OR_RETURN(std::string name, r.String());
      if (!ValidOidcName(name)) {
        return r.Error(Quote(name) + " must be 1-32 characters of a-z, 0-9, -, _");
      }
      for (const auto& other : c.oidc) {
        if (other.name == name) return r.Error("duplicate provider name " + Quote(name));
      }
      p.name = std::move(name);
    } else if (key == "display_name") {
      ASSIGN_OR_RETURN(p.display_name, r.NonEmptyString());
      if (p.display_name.size() > 64) return r.Error("at most 64 characters");
    } else if (key == "issuer") {
      ASSIGN_OR_RETURN(std::string issuer, r.NonEmptyString());
      if (!ValidIssuer(issuer)) {
        return r.Error(Quote(issuer) +
                       " must be an https URL (http only to 127.0.0.1, [::1] or localhost)");
      }
      p.issuer = std::move(issuer);
    } else if (key == "client_id") {
      ASSIGN_OR_RETURN(p.client_id, r.NonEmptyString());
    } else if (key == "client_secret") {
      ASSIGN_OR_RETURN(p.client_secret, r.String());
    } else if (key == "token_auth") {
      ASSIGN_OR_RETURN(p.token_auth, r.String());
      if (p.token_auth != "basic" && p.token_auth != "post") {
        return r.Error("expected \"basic\" (client_secret_basic) or \"post\" (client_secret_post)");
      }
    } else if (key == "scopes") {
      ASSIGN_OR_RETURN(auto items, r.StringList(/*allow_single=*/false));
      p.scopes.clear();
      for (const auto& [scope, at] : items) {
        if (scope.empty() || scope.find_first_of(" \"\\") != std::string::npos) {
          return r.Error(*at, "invalid scope " + Quote(scope));
        }
        p.scopes.push_back(scope);
      }
      if (std::find(p.scopes.begin(), p.scopes.end(), "openid") == p.scopes.end()) {
        return r.Error("must include \"openid\"");
      }
    } else if (key == "email_claim") {
      ASSIGN_OR_RETURN(p.email_claim, r.NonEmptyString());
    } else if (key == "require_verified_email") {
      ASSIGN_OR_RETURN(p.require_verified_email, r.Bool());
    } else if (key == "groups_claim") {
      ASSIGN_OR_RETURN(p.groups_claim, r.String());
    } else if (key == "group_map") {
      const toml::table* map = node.as_table();
      if (map == nullptr) return r.Error("expected a table of \"provider group\" = \"pinhole group\"");
      for (const auto& [from, to] : *map) {
        const auto* name = to.as_string();
        if (name == nullptr || name->get().empty()) {
          return r.Error(to, "the value for " + Quote(from.str()) + " must be a group name");
        }
        p.group_map.emplace_back(std::string(from.str()), name->get());
      }
    } else if (key == "provision") {
      ASSIGN_OR_RETURN(p.provision, r.Bool());
    } else {
      return r.Error("unknown key");
    }
  }
  if (p.name.empty()) return ConfigError(src, t, "oidc.name", "missing");
  if (p.issuer.empty()) return ConfigError(src, t, "oidc.issuer", "missing");
  if (p.client_id.empty()) return ConfigError(src, t, "oidc.client_id", "missing");
  if (p.display_name.empty()) p.display_name = p.name;
  c.oidc.push_back(std::move(p));
  return Status::Ok();
}

Status ParseOidcProviders(std::string_view src, const toml::node& node, Config& c) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return ConfigError(src, node, "oidc", "expected [[oidc]] entries (an array of tables)");
  }
  for (const toml::node& el : *arr) {
    RETURN_IF_ERROR(ParseOidcProvider(src, *el.as_table(), c));
  }
  return Status::Ok();
}

// Endpoint URLs: http(s), no whitespace; "{region}" may appear in the host.
std::string CheckEndpoint(std::string_view url) {
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must not contain spaces or control characters";
    }
  }
  return CheckUrl(url, {"http://", "https://"});
}

Status ParseAws(std::string_view src, const toml::table& t, Config& c) {
  for (const auto& [k, node] : t) {
    std::string_view key = k.str();
    Reader r(src, "aws", key, node);
    auto endpoint = [&](std::string& out) -> Status {
      ASSIGN_OR_RETURN(std::string url, r.NonEmptyString());
      std::string what = CheckEndpoint(url);
      if (!what.empty()) return r.Error(Quote(url) + " " + what);
      out = std::move(url);
      return Status::Ok();
    };
    if (key == "endpoint") {
      RETURN_IF_ERROR(endpoint(c.aws_endpoint));
    } else if (key == "sts_endpoint") {
      RETURN_IF_ERROR(endpoint(c.aws_sts_endpoint));
    } else if (key == "imds_endpoint") {
      RETURN_IF_ERROR(endpoint(c.aws_imds_endpoint));
    } else if (key == "profile") {
      ASSIGN_OR_RETURN(c.aws_profile, r.NonEmptyString());
    } else if (key == "owner") {
      ASSIGN_OR_RETURN(std::string owner, r.NonEmptyString());
      bool ok = owner.size() <= 64;
      for (char ch : owner) {
        ok = ok &&
             (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-');
      }
      if (!ok) return r.Error(Quote(owner) + " must be 1-64 characters of A-Z a-z 0-9 . _ -");
      c.aws_owner = std::move(owner);
    } else if (key == "rule_quota") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 1000));
      c.aws_rule_quota = static_cast<int>(n);
    } else if (key == "bucket_size") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 100000));
      c.aws_bucket_size = static_cast<int>(n);
    } else if (key == "bucket_refill") {
      if (const auto* f = node.as_floating_point()) {
        if (!(f->get() > 0 && f->get() <= 100000))
          return r.Error("must be > 0 (tokens per second)");
        c.aws_bucket_refill = f->get();
      } else {
        ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 100000));
        c.aws_bucket_refill = static_cast<double>(n);
      }
    } else if (key == "max_rules_per_call") {
      ASSIGN_OR_RETURN(int64_t n, r.Integer(1, 1000));
      c.aws_max_rules_per_call = static_cast<int>(n);
    } else if (key == "call_timeout") {
      ASSIGN_OR_RETURN(c.aws_call_timeout, r.Duration());
    } else if (key == "degraded_after") {
      ASSIGN_OR_RETURN(c.aws_degraded_after, r.Duration());
    } else if (key == "apply_budget") {
      ASSIGN_OR_RETURN(c.aws_apply_budget, r.Duration());
    } else if (key == "reconcile_interval") {
      ASSIGN_OR_RETURN(Seconds d, r.Duration());
      c.aws_reconcile_interval = d;
    } else {
      return r.Error("unknown key");
    }
  }
  return Status::Ok();
}

using SectionParser = Status (*)(std::string_view, const toml::table&, Config&);

struct Section {
  std::string_view name;
  SectionParser parse;
};

constexpr Section kSections[] = {
    {"server", ParseServer},
    {"store", ParseStore},
    {"tls", ParseTls},
    {"nftables", ParseNftables},
    {"controller", ParseController},
    {"auth", ParseAuth},
    {"tunnel", ParseTunnel},
    {"smtp", ParseSmtp},
    {"notify", ParseNotify},
    {"approval", ParseApproval},
    {"invitations", ParseInvitations},
    {"aws", ParseAws},
};

std::string LineMessage(std::string_view source, const toml::source_region& where,
                        std::string_view what) {
  return std::string(source) + ":" + std::to_string(where.begin.line) + ": " + std::string(what);
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::Invalid("invalid_listen_address",
                           "invalid listen address " + Quote(text) + ": " + std::string(why));
  };
  ListenAddress out;
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.starts_with(':')) return bad("expected \"[IPv6]:PORT\"");
    port = rest.substr(1);
    out.v6 = true;
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("expected \"ADDR:PORT\"");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad("IPv6 addresses must be in brackets, e.g. \"[::1]:8080\"");
    }
  }
  if (host.empty()) return bad("missing address");
  if (port.empty() || port.size() > 5) return bad("invalid port");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return bad("invalid port");
  }
  if (out.v6 && host.find(':') == std::string_view::npos) {
    return bad("brackets are only for IPv6 addresses");
  }
  // Parse turns "::ffff:a.b.c.d" into IPv4; `v6` keeps the family the
  // operator wrote, since that decides the socket family.
  if (!IpAddress::Parse(host).ok()) return bad("not an IP address");
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return out;
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(source_name));
  } catch (const toml::parse_error& e) {
    return Status::Invalid("invalid_config", LineMessage(source_name, e.source(), e.description()));
  }
  Config config;
  for (const auto& [k, node] : root) {
    std::string_view name = k.str();
    if (name == "webhooks") {
      RETURN_IF_ERROR(ParseWebhooks(source_name, node, config));
      continue;
    }
    if (name == "oidc") {
      RETURN_IF_ERROR(ParseOidcProviders(source_name, node, config));
      continue;
    }
    const Section* section = nullptr;
    for (const Section& s : kSections) {
      if (s.name == name) section = &s;
    }
    if (section == nullptr) return ConfigError(source_name, node, name, "unknown section");
    const toml::table* table = node.as_table();
    if (table == nullptr) return ConfigError(source_name, node, name, "expected a table");
    RETURN_IF_ERROR(section->parse(source_name, *table, config));
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("config file " + path + " does not exist");
    return Status::Invalid("invalid_config",
                           "cannot read config file " + path + ": " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Invalid("invalid_config", "cannot read config file " + path);
  return ParseConfig(text.str(), path);
}

}  // namespace pinhole
