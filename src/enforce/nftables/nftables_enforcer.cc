#include "enforce/nftables/nftables_enforcer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "enforce/nftables/nft_layout.h"

namespace pinhole {
namespace {

using nft::SetId;
using nlohmann::json;

// The kernel's view of an expiry differs from the one we asked for: the
// timeout is rounded down to whole seconds, and the listing rounds the time
// left down again. Within this slack the hole is the one we set.
constexpr Millis kExpirySlack{3000};

// Element used to make sure an element exists before deleting it (see
// PlanElements); it never outlives the transaction.
constexpr int64_t kEnsureTimeoutSeconds = 1;

struct KernelSet {
  std::string type;
  bool timeout_only = false;  // flags are exactly ["timeout"]
  json elements = json::array();
};

// What `list table` showed.
struct KernelView {
  bool table = false;
  bool input_exists = false;
  bool input_ok = false;  // our base chain: filter, hook input, priority 0, policy accept
  std::set<std::string> chains;
  std::map<std::string, std::vector<std::string>> rules;  // chain -> rule comments, in order
  std::map<std::string, KernelSet> sets;
};

std::string_view SetType(Family f) { return f == Family::kV4 ? "ipv4_addr" : "ipv6_addr"; }

bool SetUsable(const KernelSet& ks, const SetId& id) {
  return ks.timeout_only && ks.type == SetType(id.family);
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<KernelView> ParseListing(const std::string& text, const std::string& table) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array()) {
    return Status::Internal("nftables: cannot parse the listing of table " + table);
  }
  KernelView view;
  for (const auto& item : doc["nftables"]) {
    if (!item.is_object() || item.size() != 1) continue;
    const std::string& kind = item.begin().key();
    const json& obj = item.begin().value();
    if (!obj.is_object() || StringField(obj, "family") != "inet") continue;
    if (kind == "table") {
      if (StringField(obj, "name") == table) view.table = true;
      continue;
    }
    if (StringField(obj, "table") != table) continue;
    if (kind == "chain") {
      std::string name = StringField(obj, "name");
      view.chains.insert(name);
      if (name == nft::kInputChain) {
        view.input_exists = true;
        auto prio = obj.find("prio");
        view.input_ok = StringField(obj, "type") == "filter" &&
                        StringField(obj, "hook") == "input" && prio != obj.end() &&
                        prio->is_number_integer() && prio->get<int64_t>() == 0 &&
                        StringField(obj, "policy") == "accept";
      }
    } else if (kind == "rule") {
      view.rules[StringField(obj, "chain")].push_back(StringField(obj, "comment"));
    } else if (kind == "set") {
      KernelSet ks;
      ks.type = StringField(obj, "type");
      auto flags = obj.find("flags");
      // Newer nft may print a single flag as a plain string.
      ks.timeout_only =
          flags != obj.end() && (*flags == json::array({"timeout"}) || *flags == json("timeout"));
      auto elems = obj.find("elem");
      if (elems != obj.end() && elems->is_array()) ks.elements = *elems;
      view.sets[StringField(obj, "name")] = std::move(ks);
    }
  }
  return view;
}

// /32 before /28, IPv4 before IPv6: the most common lookups come first.
std::vector<SetId> Ordered(const std::set<SetId>& sets) {
  std::vector<SetId> out(sets.begin(), sets.end());
  std::sort(out.begin(), out.end(), [](const SetId& a, const SetId& b) {
    if (a.family != b.family) return a.family == Family::kV4;
    return a.prefix > b.prefix;
  });
  return out;
}

SetId SetFor(Id service, const Cidr& source) {
  return SetId{service, source.family(), source.prefix};
}

struct ServiceState {
  Service service;
  std::set<SetId> sets;  // sets that exist in the kernel (or will, after the pending batch)
};
using StateMap = std::map<Id, ServiceState>;

class NftablesEnforcer final : public Enforcer {
 public:
  NftablesEnforcer(std::string table, std::unique_ptr<NftRunner> runner, const Clock& clock)
      : cmd_(std::move(table)), runner_(std::move(runner)), clock_(clock) {}

  std::string_view backend() const override { return kNftablesBackend; }

  Status ValidateService(const Service& service) const override;
  Status SyncServices(const std::vector<Service>& services) override;
  Status Apply(const ChangeSet& changes) override;
  Result<HoleMap> ListHoles() override;

 private:
  Result<KernelView> ReadKernel();
  // Appends the commands that turn `view` into the structure `state` asks
  // for (adopting prefix sets the kernel already has into `state`).
  void PlanRepair(const KernelView& view, StateMap& state, std::vector<json>& cmds) const;
  // Appends element commands for `changes` (key -> new expiry, or nullopt to
  // remove), creating prefix sets that are missing from `state`.
  void PlanElements(const std::map<HoleKey, std::optional<Time>>& changes, Time now,
                    StateMap& state, std::vector<json>& cmds) const;
  Status RunBatch(const std::vector<json>& cmds);

  nft::Commands cmd_;
  std::unique_ptr<NftRunner> runner_;
  const Clock& clock_;

  bool synced_ = false;
  StateMap services_;                           // from the last SyncServices, by id
  std::map<std::string, Id, std::less<>> ids_;  // service name -> id
  // The kernel may not match services_ (a transaction failed, or ListHoles
  // could not repair): the next change lists the table and repairs first.
  bool repair_needed_ = true;
  // Exact expiries of the holes we set, to report them instead of the
  // kernel's rounded view when the two agree.
  std::map<HoleKey, Time> applied_;
};

Status NftablesEnforcer::ValidateService(const Service& service) const {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_target", "service \"" + service.name + "\": " + why);
  };
  if (service.backend != kNftablesBackend) {
    return bad("backend \"" + service.backend + "\" is not nftables");
  }
  json target = json::parse(service.target_json, nullptr, /*allow_exceptions=*/false);
  if (target.is_discarded() || !target.is_object()) {
    return bad("nftables target must be a JSON object, e.g. {}");
  }
  if (!target.empty()) {
    return bad("nftables target takes no settings yet; unknown key \"" + target.begin().key() +
               "\"");
  }
  bool ported = service.protocol == Protocol::kTcp || service.protocol == Protocol::kUdp;
  if (ported && !service.ports) return bad("tcp and udp services need ports");
  if (!ported && service.ports) return bad("icmp and all services take no ports");
  if (service.ports && (service.ports->first == 0 || service.ports->first > service.ports->last)) {
    return bad("ports must be 1-65535, first <= last");
  }
  return Status::Ok();
}

Result<KernelView> NftablesEnforcer::ReadKernel() {
  auto out = runner_->List(nft::Batch({cmd_.ListTable()}));
  if (!out.ok()) {
    if (out.status().code() == Code::kNotFound) return KernelView{};  // no table yet
    return out.status();
  }
  return ParseListing(*out, cmd_.table());
}

Status NftablesEnforcer::RunBatch(const std::vector<json>& cmds) {
  if (cmds.empty()) return Status::Ok();
  auto out = runner_->Run(nft::Batch(cmds));
  return out.ok() ? Status::Ok() : out.status();
}

void NftablesEnforcer::PlanRepair(const KernelView& view, StateMap& state,
                                  std::vector<json>& cmds) const {
  for (const auto& [name, ks] : view.sets) {
    auto id = nft::ParseSetName(name);
    if (!id) continue;
    auto it = state.find(id->service);
    if (it != state.end()) it->second.sets.insert(*id);
  }
  auto rules_of = [&](const std::string& chain) {
    auto it = view.rules.find(chain);
    return it == view.rules.end() ? std::vector<std::string>{} : it->second;
  };

  std::vector<Service> by_id;
  for (const auto& [id, s] : state) by_id.push_back(s.service);
  std::string input(nft::kInputChain);
  bool rebuild_input = !view.input_ok || rules_of(input) != nft::InputComments(by_id);

  if (!view.table) cmds.push_back(cmd_.AddTable());
  if (rebuild_input) {
    // Emptied first so that chains of removed services lose their last reference.
    if (view.input_exists) cmds.push_back(cmd_.FlushChain(input));
    if (view.input_exists && !view.input_ok) cmds.push_back(cmd_.DeleteChain(input));
    cmds.push_back(cmd_.AddInputChain());
  }

  for (const auto& [id, s] : state) {
    std::string chain = nft::ChainName(id);
    std::vector<SetId> sets = Ordered(s.sets);
    std::vector<std::string> broken;
    for (const auto& set : sets) {
      std::string name = nft::SetName(set.service, set.family, set.prefix);
      auto it = view.sets.find(name);
      if (it != view.sets.end() && !SetUsable(it->second, set)) broken.push_back(name);
    }
    bool exists = view.chains.count(chain) > 0;
    bool rebuild =
        !exists || !broken.empty() || rules_of(chain) != nft::ServiceChainComments(s.service, sets);
    if (!exists) {
      cmds.push_back(cmd_.AddChain(chain));
    } else if (rebuild) {
      cmds.push_back(cmd_.FlushChain(chain));
    }
    for (const auto& name : broken) cmds.push_back(cmd_.DeleteSet(name));
    for (const auto& set : sets) {
      std::string name = nft::SetName(set.service, set.family, set.prefix);
      bool present = view.sets.count(name) > 0 &&
                     std::find(broken.begin(), broken.end(), name) == broken.end();
      if (!present) cmds.push_back(cmd_.AddSet(set));
    }
    if (rebuild) {
      for (auto& rule : cmd_.ServiceChainRules(s.service, sets)) cmds.push_back(std::move(rule));
    }
  }

  // Services no longer listed: their dispatch rules went with the input rebuild.
  for (const auto& chain : view.chains) {
    auto id = nft::ParseChainName(chain);
    if (!id || state.count(*id)) continue;
    cmds.push_back(cmd_.FlushChain(chain));
    cmds.push_back(cmd_.DeleteChain(chain));
  }
  for (const auto& [name, ks] : view.sets) {
    auto id = nft::ParseSetName(name);
    if (id && !state.count(id->service)) cmds.push_back(cmd_.DeleteSet(name));
  }

  if (rebuild_input) {
    for (auto& rule : cmd_.InputPreamble()) cmds.push_back(std::move(rule));
    for (const auto& s : by_id) cmds.push_back(cmd_.DispatchRule(s));
  }
}

void NftablesEnforcer::PlanElements(const std::map<HoleKey, std::optional<Time>>& changes, Time now,
                                    StateMap& state, std::vector<json>& cmds) const {
  struct SetBatch {
    json ensure = json::array();  // make every touched element exist...
    json remove = json::array();  // ...so that deleting it cannot fail...
    json add = json::array();     // ...then add back the ones to keep, with their timeout
  };
  std::map<std::string, SetBatch> batches;
  std::set<Id> grown;
  for (const auto& [key, expiry] : changes) {
    Id id = ids_.find(key.service)->second;
    ServiceState& s = state.at(id);
    SetId set = SetFor(id, key.source);
    // An expiry already past is a removal: never open a hole for no time.
    bool keep = expiry && *expiry > now;
    if (!s.sets.count(set)) {
      if (!keep) continue;  // no set, so no element to remove
      s.sets.insert(set);
      grown.insert(id);
      cmds.push_back(cmd_.AddSet(set));
    }
    std::string value = key.source.address.ToString();
    SetBatch& b = batches[nft::SetName(set.service, set.family, set.prefix)];
    b.ensure.push_back(nft::TimedElement(value, kEnsureTimeoutSeconds));
    b.remove.push_back(value);
    if (keep) {
      // nft's JSON takes whole seconds. Round up: the controller removes the
      // element at the exact expiry; the kernel timeout is the backstop for a
      // dead pinholed and may run at most one second over, never short.
      // The margin covers the kernel's coarser clock (jiffies), which could
      // otherwise fire a few milliseconds before the lease's end.
      constexpr int64_t kKernelMarginMs = 50;
      int64_t seconds =
          std::max<int64_t>(1, ((*expiry - now).count() + kKernelMarginMs + 999) / 1000);
      b.add.push_back(nft::TimedElement(value, seconds));
    }
  }
  // A new prefix set needs its lookup rule before the chain's final drop:
  // rebuild the chain in the same transaction.
  for (Id id : grown) {
    std::string chain = nft::ChainName(id);
    cmds.push_back(cmd_.FlushChain(chain));
    for (auto& rule : cmd_.ServiceChainRules(state.at(id).service, Ordered(state.at(id).sets))) {
      cmds.push_back(std::move(rule));
    }
  }
  // Upsert is delete + add in one transaction: the element is replaced with
  // no moment of closure. The "ensure" add makes removing a missing element
  // succeed without knowing what the kernel holds.
  for (auto& [set, b] : batches) {
    cmds.push_back(cmd_.AddElements(set, std::move(b.ensure)));
    cmds.push_back(cmd_.DeleteElements(set, std::move(b.remove)));
    if (!b.add.empty()) cmds.push_back(cmd_.AddElements(set, std::move(b.add)));
  }
}

Status NftablesEnforcer::SyncServices(const std::vector<Service>& services) {
  StateMap state;
  std::map<std::string, Id, std::less<>> ids;
  for (const auto& s : services) {
    if (s.backend != kNftablesBackend) continue;
    RETURN_IF_ERROR(ValidateService(s));
    if (s.id <= 0) {
      return Status::Invalid("invalid_service", "service \"" + s.name + "\" has no id");
    }
    if (state.count(s.id) || ids.count(s.name)) {
      return Status::Invalid("invalid_service", "service \"" + s.name + "\" (id " +
                                                    std::to_string(s.id) + ") is listed twice");
    }
    ids[s.name] = s.id;
    state[s.id] = ServiceState{s, {SetId{s.id, Family::kV4, 32}, SetId{s.id, Family::kV6, 128}}};
  }
  ASSIGN_OR_RETURN(KernelView view, ReadKernel());
  std::vector<json> cmds;
  PlanRepair(view, state, cmds);
  if (Status st = RunBatch(cmds); !st.ok()) {
    repair_needed_ = true;
    return st;
  }
  // Holes follow their service across a rename; those of removed services are gone.
  std::map<HoleKey, Time> applied;
  for (const auto& [key, expiry] : applied_) {
    auto old = ids_.find(key.service);
    if (old == ids_.end()) continue;
    auto now = state.find(old->second);
    if (now != state.end()) applied[HoleKey{now->second.service.name, key.source}] = expiry;
  }
  applied_ = std::move(applied);
  services_ = std::move(state);
  ids_ = std::move(ids);
  synced_ = true;
  repair_needed_ = false;
  return Status::Ok();
}

Status NftablesEnforcer::Apply(const ChangeSet& changes) {
  if (changes.empty()) return Status::Ok();
  // Check everything before touching the kernel: a bad change changes nothing.
  std::map<HoleKey, std::optional<Time>> wanted;
  auto known = [&](const HoleKey& key) -> Status {
    if (ids_.count(key.service)) return Status::Ok();
    return Status::NotFound("no nftables service \"" + key.service + "\"");
  };
  for (const auto& key : changes.remove) {
    RETURN_IF_ERROR(known(key));
    wanted[key] = std::nullopt;
  }
  for (const auto& hole : changes.upsert) {
    RETURN_IF_ERROR(known(hole.key));
    if (hole.key.source.prefix <= 0) {
      return Status::Invalid("cidr_too_wide", "refusing to open " + hole.key.service + " to " +
                                                  hole.key.source.ToString());
    }
    wanted[hole.key] = hole.expires_at;
  }

  for (int attempt = 0;; ++attempt) {
    StateMap state = services_;
    std::vector<json> cmds;
    bool repairing = repair_needed_;
    if (repairing) {
      ASSIGN_OR_RETURN(KernelView view, ReadKernel());
      PlanRepair(view, state, cmds);
    }
    Time now = clock_.Now();
    PlanElements(wanted, now, state, cmds);
    Status st = RunBatch(cmds);
    if (st.ok()) {
      services_ = std::move(state);
      repair_needed_ = false;
      for (const auto& [key, expiry] : wanted) {
        if (expiry && *expiry > now) {
          applied_[key] = *expiry;
        } else {
          applied_.erase(key);
        }
      }
      return st;
    }
    repair_needed_ = true;
    if (attempt > 0 || st.code() == Code::kPermissionDenied) return st;
    // Most likely the table changed behind our back (flushed, deleted):
    // read it, repair, and try once more.
    spdlog::warn("nftables: apply to table {} failed, re-reading it: {}", cmd_.table(),
                 st.ToString());
  }
}

Result<HoleMap> NftablesEnforcer::ListHoles() {
  if (!synced_) {
    return Status(Code::kUnavailable, "not_synced",
                  "nftables: services were never synced, cannot name holes");
  }
  ASSIGN_OR_RETURN(KernelView view, ReadKernel());
  StateMap state = services_;
  std::vector<json> cmds;
  PlanRepair(view, state, cmds);
  if (!cmds.empty()) {
    // A missing chain or rule may leave a service open: repair now, do not
    // wait for the next change.
    spdlog::warn("nftables: table {} changed behind pinhole's back; rebuilding its structure",
                 cmd_.table());
    if (Status st = RunBatch(cmds); !st.ok()) {
      repair_needed_ = true;
      return st;
    }
  }
  services_ = std::move(state);
  repair_needed_ = false;

  Time now = clock_.Now();
  HoleMap holes;
  for (const auto& [name, ks] : view.sets) {
    auto id = nft::ParseSetName(name);
    if (!id) continue;
    auto svc = services_.find(id->service);
    if (svc == services_.end() || !SetUsable(ks, *id)) continue;  // recreated empty above
    for (const auto& elem : ks.elements) {
      const json* body = &elem;
      if (elem.is_object() && elem.contains("elem")) body = &elem["elem"];
      std::string value = body->is_string() ? body->get<std::string>() : StringField(*body, "val");
      // Parsing with the prefix rejects elements with host bits set: a masked
      // lookup can never match them, so they are not holes.
      auto cidr = Cidr::Parse(value + "/" + std::to_string(id->prefix));
      if (!cidr.ok() || cidr->family() != id->family) continue;
      HoleKey key{svc->second.service.name, *cidr};
      Time expiry = Time::max();  // an element without timeout never closes
      if (body->is_object()) {
        auto left = body->find("expires");
        if (left == body->end()) left = body->find("timeout");
        if (left != body->end() && left->is_number_integer()) {
          // Kernel timeouts fit in far less than this; the cap keeps a hostile
          // or corrupt listing from overflowing the time arithmetic.
          constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 86400;
          int64_t secs =
              left->is_number_unsigned()
                  ? static_cast<int64_t>(std::min<uint64_t>(left->get<uint64_t>(), kMaxSeconds))
                  : std::clamp<int64_t>(left->get<int64_t>(), 0, kMaxSeconds);
          expiry = now + Millis(secs * 1000);
          auto ours = applied_.find(key);
          if (ours != applied_.end() && expiry - kExpirySlack <= ours->second &&
              ours->second <= expiry + kExpirySlack) {
            expiry = ours->second;
          }
        }
      }
      holes[key] = expiry;
    }
  }
  std::erase_if(applied_, [&](const auto& entry) { return !holes.count(entry.first); });
  return holes;
}

}  // namespace

Result<std::unique_ptr<Enforcer>> NewNftablesEnforcer(const EnforcerOptions& options,
                                                      std::unique_ptr<NftRunner> runner,
                                                      const Clock* clock) {
  RETURN_IF_ERROR(nft::ValidateTableName(options.nftables_table));
  if (!runner) return Status::Internal("nftables enforcer needs a runner");
  static const SystemClock kSystemClock;
  return std::unique_ptr<Enforcer>(std::make_unique<NftablesEnforcer>(
      options.nftables_table, std::move(runner), clock ? *clock : kSystemClock));
}

Result<std::unique_ptr<Enforcer>> NewNftablesEnforcer(const EnforcerOptions& options) {
  return NewNftablesEnforcer(options, NewLibNftablesRunner(), nullptr);
}

}  // namespace pinhole
