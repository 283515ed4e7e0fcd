// The shape of Pinhole's nftables table, and the libnftables-json commands
// that build it. Pure functions, no I/O; the enforcer decides when to use them.
//
//   table inet <table> {
//     chain input {                      # type filter hook input priority filter; policy accept
//       iifname "lo" accept              comment "lo"
//       ct direction reply accept        comment "reply"
//       icmpv6 type { nd-*, mld-* } accept comment "nd"
//       meta l4proto tcp th dport 22 jump svc_7     comment "svc_7 tcp 22"
//       ...one dispatch rule per service, by id
//     }
//     chain svc_7 {
//       ct state established,related accept          comment "est"   (keep_established only)
//       ip saddr @svc_7_4_32 accept                  comment "set:svc_7_4_32"
//       ip saddr & 255.255.255.240 @svc_7_4_28 accept comment "set:svc_7_4_28"
//       ip6 saddr @svc_7_6_128 accept                comment "set:svc_7_6_128"
//       drop                                         comment "drop"
//     }
//     set svc_7_4_32 { type ipv4_addr; flags timeout; }   # one set per (family, prefix)
//   }
//
// Why this shape:
// - Sets are looked up on every packet of the service, not only on new
//   connections, so an element that is removed or times out also cuts
//   established connections (unless the service keeps them, "est").
// - One plain (non-interval) set per prefix length lets a /32 and a /28 that
//   contains it coexist as separate elements with their own timeouts; an
//   interval set would merge or reject the overlap. A /28 is matched by
//   masking the source address before the lookup.
// - Loopback and reply-direction packets (answers to connections this host
//   opened), and IPv6 neighbour discovery, are never dispatched: a service
//   with protocol "all" or "icmp", or a wide port range, must not cut the
//   host off from its own outgoing traffic or from IPv6. Other untracked
//   packets have no direction and are dispatched (fail closed). Local
//   processes reach every service (loopback is trusted).
// - Rule comments name what each rule is for, so that drift (a flushed
//   chain, a deleted rule, a changed port) is detected by comparing comment
//   lists, without parsing nft's normalised expressions.
//
// Thread-safety: everything here is pure.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace pinhole::nft {

inline constexpr std::string_view kInputChain = "input";

// "svc_7"
std::string ChainName(Id service);
// "svc_7_4_32", "svc_7_6_56"
std::string SetName(Id service, Family family, int prefix);

struct SetId {
  Id service = 0;
  Family family = Family::kV4;
  int prefix = 32;
  auto operator<=>(const SetId&) const = default;
};
// Inverse of SetName; nullopt for names Pinhole does not create.
std::optional<SetId> ParseSetName(std::string_view name);
// Inverse of ChainName; nullopt for anything else.
std::optional<Id> ParseChainName(std::string_view name);

// The mask of a prefix as nft accepts it: "255.255.255.240",
// "ffff:ffff:ffff:ff00::".
std::string PrefixMask(Family family, int prefix);

// Table names end up in every command; keep them to plain identifiers.
Status ValidateTableName(std::string_view name);

// Comments that identify rules (see the header comment).
std::string DispatchComment(const Service& service);
std::vector<std::string> InputComments(const std::vector<Service>& services_by_id);
std::vector<std::string> ServiceChainComments(const Service& service,
                                              const std::vector<SetId>& sets);

// Command builders: each returns one element of the "nftables" array.
class Commands {
 public:
  explicit Commands(std::string table) : table_(std::move(table)) {}

  nlohmann::json AddTable() const;
  nlohmann::json AddInputChain() const;  // also resets its policy to accept
  nlohmann::json AddChain(std::string_view name) const;
  nlohmann::json FlushChain(std::string_view name) const;
  nlohmann::json DeleteChain(std::string_view name) const;
  nlohmann::json AddSet(const SetId& set) const;
  nlohmann::json DeleteSet(std::string_view name) const;
  // The fixed rules at the top of the input chain, then one dispatch rule.
  std::vector<nlohmann::json> InputPreamble() const;
  nlohmann::json DispatchRule(const Service& service) const;
  // Every rule of the service chain, in order, ending with the drop.
  std::vector<nlohmann::json> ServiceChainRules(const Service& service,
                                                const std::vector<SetId>& sets) const;
  // `elems` is a JSON array of element values or {"elem":{...}} objects.
  nlohmann::json AddElements(std::string_view set, nlohmann::json elems) const;
  nlohmann::json DeleteElements(std::string_view set, nlohmann::json elems) const;
  nlohmann::json ListTable() const;

  const std::string& table() const { return table_; }

 private:
  nlohmann::json Rule(std::string_view chain, std::string_view comment, nlohmann::json expr) const;
  std::string table_;
};

// An element with a kernel timeout, in whole seconds (libnftables-json has no
// finer unit; a fractional value is silently ignored and would make the
// element permanent, so never emit one).
nlohmann::json TimedElement(const std::string& value, int64_t timeout_seconds);

// Wraps commands into the document libnftables expects.
std::string Batch(const std::vector<nlohmann::json>& commands);

}  // namespace pinhole::nft
