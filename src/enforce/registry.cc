#include "enforce/registry.h"

#include "enforce/aws/aws_sg_enforcer.h"
#include "enforce/nftables/nftables_enforcer.h"
#include "enforce/tunnel/tunnel_enforcer.h"

namespace pinhole {

Status EnforcerRegistry::Register(std::string name, EnforcerFactory factory) {
  if (name.empty() || !factory) {
    return Status::Invalid("invalid_backend", "a backend needs a name and a factory");
  }
  if (factories_.count(name)) {
    return Status::Conflict("duplicate_backend", "backend \"" + name + "\" is registered twice");
  }
  factories_.emplace(std::move(name), std::move(factory));
  return Status::Ok();
}

Result<std::unique_ptr<Enforcer>> EnforcerRegistry::Create(std::string_view name,
                                                           const EnforcerOptions& options) const {
  auto it = factories_.find(name);
  if (it == factories_.end()) {
    return Status::NotFound("no enforcement backend \"" + std::string(name) + "\"");
  }
  return it->second(options);
}

std::vector<std::string> EnforcerRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, factory] : factories_) names.push_back(name);
  return names;
}

EnforcerRegistry DefaultEnforcerRegistry() {
  EnforcerRegistry registry;
  // The explicit list of built-in backends. A failure here is a programming
  // error (a name listed twice), caught by the registry tests.
  Status st = registry.Register(std::string(kNftablesBackend),
                                [](const EnforcerOptions& o) { return NewNftablesEnforcer(o); });
  assert(st.ok());
  st = registry.Register(std::string(kTunnelBackend),
                         [](const EnforcerOptions&) -> Result<std::unique_ptr<Enforcer>> {
                           return NewTunnelEnforcer();
                         });
  assert(st.ok());
  // No AWS call happens here: credentials are resolved at the first call, so
  // pinholed starts on hosts that never use this backend.
  st = registry.Register(std::string(kAwsSgBackend),
                         [](const EnforcerOptions& o) -> Result<std::unique_ptr<Enforcer>> {
                           auto client = aws::NewEc2Client(o.aws_client);
                           if (!client.ok()) return client.status();
                           return aws::NewAwsSgEnforcer(o.aws, std::move(client).value());
                         });
  assert(st.ok());
  (void)st;
  return registry;
}

}  // namespace pinhole
