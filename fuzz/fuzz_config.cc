// Fuzzes ParseConfig and ParseListenAddress (config/config.h) on arbitrary
// text. A config that parses must satisfy what pinholed relies on (valid
// listen addresses, table name, positive durations, TLS files in pairs); a
// config that does not must fail with a message that names the source.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

constexpr std::string_view kSource = "fuzz.toml";

void CheckListenAddress(std::string_view text) {
  Result<ListenAddress> a = ParseListenAddress(text);
  if (!a.ok()) {
    FUZZ_CHECK(a.status().reason() == "invalid_listen_address", a.status().ToString());
    return;
  }
  FUZZ_CHECK(IpAddress::Parse(a->host).ok(), Escape(text) + " gave host " + Escape(a->host));
  std::string printed = (a->v6 ? "[" + a->host + "]" : a->host) + ":" + std::to_string(a->port);
  Result<ListenAddress> back = ParseListenAddress(printed);
  FUZZ_CHECK(back.ok(), Escape(text) + " printed as unparseable " + Escape(printed));
  FUZZ_CHECK(back->host == a->host && back->port == a->port && back->v6 == a->v6,
             Escape(text) + " did not round-trip through " + Escape(printed));
}

void CheckConfig(std::string_view text) {
  Result<Config> c = ParseConfig(text, kSource);
  if (!c.ok()) {
    FUZZ_CHECK(c.status().reason() == "invalid_config", c.status().ToString());
    FUZZ_CHECK(c.status().message().starts_with(std::string(kSource) + ":"),
               "message does not name the source: " + c.status().message());
    return;
  }
  FUZZ_CHECK(!c->listen.empty(), "no listen address");
  for (const std::string& l : c->listen) {
    FUZZ_CHECK(ParseListenAddress(l).ok(), "accepted listen address " + Escape(l));
  }
  FUZZ_CHECK(!c->public_url.ends_with('/'), "public_url keeps a '/': " + Escape(c->public_url));
  FUZZ_CHECK(c->public_url.starts_with("http://") || c->public_url.starts_with("https://"),
             "public_url " + Escape(c->public_url));
  for (const Cidr& p : c->trusted_proxies) {
    FUZZ_CHECK(Cidr::Parse(p.ToString()).ok(), "trusted proxy " + p.ToString());
  }
  FUZZ_CHECK(!c->sqlite_path.empty(), "empty sqlite path");
  FUZZ_CHECK(c->tls_cert.empty() == c->tls_key.empty(), "TLS cert without key or key without cert");
  const std::string& table = c->nftables_table;
  FUZZ_CHECK(!table.empty() && table.size() <= 32, "table name " + Escape(table));
  for (char ch : table) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_';
    FUZZ_CHECK(ok, "table name " + Escape(table));
  }
  FUZZ_CHECK(c->resync_interval.count() > 0,
             "resync_interval " + std::to_string(c->resync_interval.count()));
  FUZZ_CHECK(c->session_ttl.count() > 0, "session_ttl " + std::to_string(c->session_ttl.count()));
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  pinhole::CheckConfig(text);
  pinhole::CheckListenAddress(text);
  return 0;
}
