#include "enforce/nftables/nft_layout.h"

#include <charconv>

namespace pinhole::nft {
namespace {

using nlohmann::json;

constexpr size_t kMaxTableName = 64;

// Parses a decimal without sign or leading zeros; the whole string must match.
std::optional<int64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

json Match(std::string_view op, json left, json right) {
  return {{"match", {{"op", op}, {"left", std::move(left)}, {"right", std::move(right)}}}};
}

json Meta(std::string_view key) { return {{"meta", {{"key", key}}}}; }
json Ct(std::string_view key) { return {{"ct", {{"key", key}}}}; }
json Payload(std::string_view protocol, std::string_view field) {
  return {{"payload", {{"protocol", protocol}, {"field", field}}}};
}
json Verdict(std::string_view verdict) { return {{std::string(verdict), nullptr}}; }

std::string SetComment(const SetId& set) {
  return "set:" + SetName(set.service, set.family, set.prefix);
}

}  // namespace

std::string ChainName(Id service) { return "svc_" + std::to_string(service); }

std::string SetName(Id service, Family family, int prefix) {
  return ChainName(service) + (family == Family::kV4 ? "_4_" : "_6_") + std::to_string(prefix);
}

std::optional<Id> ParseChainName(std::string_view name) {
  if (!name.starts_with("svc_")) return std::nullopt;
  auto id = ParseDecimal(name.substr(4));
  if (!id || *id <= 0) return std::nullopt;
  return *id;
}

std::optional<SetId> ParseSetName(std::string_view name) {
  // svc_<id>_<4|6>_<prefix>
  size_t last = name.rfind('_');
  if (last == std::string_view::npos || last < 2) return std::nullopt;
  size_t mid = name.rfind('_', last - 1);
  if (mid == std::string_view::npos) return std::nullopt;
  auto id = ParseChainName(name.substr(0, mid));
  std::string_view fam = name.substr(mid + 1, last - mid - 1);
  auto prefix = ParseDecimal(name.substr(last + 1));
  if (!id || !prefix || (fam != "4" && fam != "6")) return std::nullopt;
  SetId set{*id, fam == "4" ? Family::kV4 : Family::kV6, static_cast<int>(*prefix)};
  int max = set.family == Family::kV4 ? 32 : 128;
  if (*prefix < 1 || *prefix > max) return std::nullopt;
  return set;
}

std::string PrefixMask(Family family, int prefix) {
  IpAddress mask;
  mask.family = family;
  int bits = mask.bits();
  for (int i = 0; i < bits / 8; ++i) {
    int keep = std::clamp(prefix - i * 8, 0, 8);
    mask.bytes[i] = keep == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - keep));
  }
  return mask.ToString();
}

Status ValidateTableName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxTableName &&
            ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-');
  }
  if (ok) return Status::Ok();
  return Status::Invalid("invalid_config",
                         "nftables table name must be 1-64 letters, digits, '_' or '-', "
                         "starting with a letter");
}

std::string DispatchComment(const Service& service) {
  std::string c = ChainName(service.id) + " " + std::string(ToString(service.protocol));
  if ((service.protocol == Protocol::kTcp || service.protocol == Protocol::kUdp) && service.ports) {
    c += " " + ToString(*service.ports);
  }
  return c;
}

std::vector<std::string> InputComments(const std::vector<Service>& services_by_id) {
  std::vector<std::string> out = {"lo", "reply", "nd"};
  for (const auto& s : services_by_id) out.push_back(DispatchComment(s));
  return out;
}

std::vector<std::string> ServiceChainComments(const Service& service,
                                              const std::vector<SetId>& sets) {
  std::vector<std::string> out;
  if (service.keep_established) out.push_back("est");
  for (const auto& set : sets) out.push_back(SetComment(set));
  out.push_back("drop");
  return out;
}

json Commands::AddTable() const {
  return {{"add", {{"table", {{"family", "inet"}, {"name", table_}}}}}};
}

json Commands::AddInputChain() const {
  return {{"add",
           {{"chain",
             {{"family", "inet"},
              {"table", table_},
              {"name", kInputChain},
              {"type", "filter"},
              {"hook", "input"},
              {"prio", 0},
              {"policy", "accept"}}}}}};
}

json Commands::AddChain(std::string_view name) const {
  return {{"add", {{"chain", {{"family", "inet"}, {"table", table_}, {"name", name}}}}}};
}

json Commands::FlushChain(std::string_view name) const {
  return {{"flush", {{"chain", {{"family", "inet"}, {"table", table_}, {"name", name}}}}}};
}

json Commands::DeleteChain(std::string_view name) const {
  return {{"delete", {{"chain", {{"family", "inet"}, {"table", table_}, {"name", name}}}}}};
}

json Commands::AddSet(const SetId& set) const {
  return {{"add",
           {{"set",
             {{"family", "inet"},
              {"table", table_},
              {"name", SetName(set.service, set.family, set.prefix)},
              {"type", set.family == Family::kV4 ? "ipv4_addr" : "ipv6_addr"},
              {"flags", json::array({"timeout"})}}}}}};
}

json Commands::DeleteSet(std::string_view name) const {
  return {{"delete", {{"set", {{"family", "inet"}, {"table", table_}, {"name", name}}}}}};
}

json Commands::Rule(std::string_view chain, std::string_view comment, json expr) const {
  return {{"add",
           {{"rule",
             {{"family", "inet"},
              {"table", table_},
              {"chain", chain},
              {"comment", comment},
              {"expr", std::move(expr)}}}}}};
}

std::vector<json> Commands::InputPreamble() const {
  // IPv6 neighbour discovery and multicast listener messages are not tracked
  // by conntrack; dropping them would cut the host off IPv6 altogether.
  json nd_types = json::array({"nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit",
                               "nd-neighbor-advert", "nd-redirect", "mld-listener-query",
                               "mld-listener-report", "mld-listener-done", "mld2-listener-report"});
  return {
      Rule(kInputChain, "lo", json::array({Match("==", Meta("iifname"), "lo"), Verdict("accept")})),
      Rule(kInputChain, "reply",
           json::array({Match("==", Ct("direction"), "reply"), Verdict("accept")})),
      Rule(kInputChain, "nd",
           json::array({Match("==", Payload("icmpv6", "type"), json{{"set", nd_types}}),
                        Verdict("accept")})),
  };
}

json Commands::DispatchRule(const Service& service) const {
  json expr = json::array();
  switch (service.protocol) {
    case Protocol::kTcp:
    case Protocol::kUdp: {
      expr.push_back(Match("==", Meta("l4proto"), ToString(service.protocol)));
      PortRange ports = service.ports.value_or(PortRange{});
      json port = ports.first == ports.last
                      ? json(ports.first)
                      : json{{"range", json::array({ports.first, ports.last})}};
      expr.push_back(Match("==", Payload("th", "dport"), std::move(port)));
      break;
    }
    case Protocol::kIcmp:
      expr.push_back(
          Match("==", Meta("l4proto"), json{{"set", json::array({"icmp", "ipv6-icmp"})}}));
      break;
    case Protocol::kAll:
      break;
  }
  expr.push_back({{"jump", {{"target", ChainName(service.id)}}}});
  return Rule(kInputChain, DispatchComment(service), std::move(expr));
}

std::vector<json> Commands::ServiceChainRules(const Service& service,
                                              const std::vector<SetId>& sets) const {
  std::string chain = ChainName(service.id);
  std::vector<json> rules;
  if (service.keep_established) {
    rules.push_back(
        Rule(chain, "est",
             json::array({Match("in", Ct("state"), json::array({"established", "related"})),
                          Verdict("accept")})));
  }
  for (const auto& set : sets) {
    bool v4 = set.family == Family::kV4;
    json saddr = Payload(v4 ? "ip" : "ip6", "saddr");
    if (set.prefix < (v4 ? 32 : 128)) {
      saddr = json{{"&", json::array({saddr, PrefixMask(set.family, set.prefix)})}};
    }
    std::string ref = "@" + SetName(set.service, set.family, set.prefix);
    rules.push_back(Rule(chain, SetComment(set),
                         json::array({Match("==", std::move(saddr), ref), Verdict("accept")})));
  }
  rules.push_back(Rule(chain, "drop", json::array({Verdict("drop")})));
  return rules;
}

json Commands::AddElements(std::string_view set, json elems) const {
  return {{"add",
           {{"element",
             {{"family", "inet"}, {"table", table_}, {"name", set}, {"elem", std::move(elems)}}}}}};
}

json Commands::DeleteElements(std::string_view set, json elems) const {
  return {{"delete",
           {{"element",
             {{"family", "inet"}, {"table", table_}, {"name", set}, {"elem", std::move(elems)}}}}}};
}

json Commands::ListTable() const {
  return {{"list", {{"table", {{"family", "inet"}, {"name", table_}}}}}};
}

json TimedElement(const std::string& value, int64_t timeout_seconds) {
  return {{"elem", {{"val", value}, {"timeout", timeout_seconds}}}};
}

std::string Batch(const std::vector<json>& commands) {
  json doc = {{"nftables", commands}};
  return doc.dump();
}

}  // namespace pinhole::nft
