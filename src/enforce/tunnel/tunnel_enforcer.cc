#include "enforce/tunnel/tunnel_enforcer.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/cidr.h"

namespace pinhole {
namespace {

using nlohmann::json;

// A DNS name as RFC 1123 allows it: labels of letters, digits and '-', not
// starting or ending with '-', at most 253 characters in all.
bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t end = s.find('.', start);
    std::string_view label = s.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

class TunnelEnforcer final : public Enforcer {
 public:
  std::string_view backend() const override { return kTunnelBackend; }

  Status ValidateService(const Service& service) const override {
    if (service.backend != kTunnelBackend) {
      return Status::Invalid("invalid_target", "service \"" + service.name + "\": backend \"" +
                                                   service.backend + "\" is not tunnel");
    }
    ASSIGN_OR_RETURN(TunnelTarget target, ParseTunnelTarget(service));
    if (service.protocol != Protocol::kTcp) {
      return Status::Invalid("invalid_target", "service \"" + service.name +
                                                   "\": a tunnel carries TCP only (protocol tcp)");
    }
    if (service.keep_established) {
      return Status::Invalid("invalid_target",
                             "service \"" + service.name +
                                 "\": keep_established does not apply to tunnels, which always "
                                 "end with their lease");
    }
    if (service.ports &&
        (service.ports->first != target.port || service.ports->last != target.port)) {
      return Status::Invalid("invalid_target", "service \"" + service.name +
                                                   "\": ports must be the target's port " +
                                                   std::to_string(target.port));
    }
    return Status::Ok();
  }

  Status SyncServices(const std::vector<Service>& services) override {
    std::set<std::string> names;
    for (const auto& s : services) names.insert(s.name);
    // Holes of services that are gone go with them, as in any backend.
    for (auto it = holes_.begin(); it != holes_.end();) {
      it = names.count(it->first.service) ? std::next(it) : holes_.erase(it);
    }
    services_ = std::move(names);
    return Status::Ok();
  }

  Status Apply(const ChangeSet& changes) override {
    for (const auto& h : changes.upsert) {
      if (!services_.count(h.key.service)) {
        return Status::NotFound("no tunnel service \"" + h.key.service + "\"");
      }
    }
    for (const auto& h : changes.upsert) holes_[h.key] = h.expires_at;
    for (const auto& k : changes.remove) holes_.erase(k);
    return Status::Ok();
  }

  Result<HoleMap> ListHoles() override { return holes_; }

 private:
  std::set<std::string> services_;
  HoleMap holes_;
};

}  // namespace

std::string TunnelTarget::ToString() const {
  std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  return host + ":" + std::to_string(port);
}

Result<TunnelTarget> ParseTunnelTarget(const Service& service) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_target", "service \"" + service.name + "\": " + why);
  };
  json target = json::parse(service.target_json, nullptr, /*allow_exceptions=*/false);
  if (target.is_discarded() || !target.is_object()) {
    return bad(R"(a tunnel target is {"address": "10.0.0.5", "port": 22})");
  }
  for (const auto& [key, value] : target.items()) {
    if (key != "address" && key != "port") return bad("unknown target field \"" + key + "\"");
  }
  auto address = target.find("address");
  if (address == target.end() || !address->is_string()) {
    return bad("target.address: an IP address or host name is required");
  }
  TunnelTarget out;
  out.address = address->get<std::string>();
  if (!IpAddress::Parse(out.address).ok() && !IsHostName(out.address)) {
    return bad("target.address: \"" + out.address.substr(0, 64) +
               "\" is neither an IP address nor a host name");
  }
  auto port = target.find("port");
  if (port == target.end() || !port->is_number_integer() || port->get<int64_t>() < 1 ||
      port->get<int64_t>() > 65535) {
    return bad("target.port: a port number 1..65535 is required");
  }
  out.port = static_cast<uint16_t>(port->get<int64_t>());
  return out;
}

std::unique_ptr<Enforcer> NewTunnelEnforcer() { return std::make_unique<TunnelEnforcer>(); }

}  // namespace pinhole
