// Enforcer backends by name. Each backend registers a factory in the explicit
// list of DefaultEnforcerRegistry() (static registrars get dropped by the
// linker); registering a name twice is an error.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "enforce/aws/aws_sg_options.h"
#include "enforce/aws/ec2_api.h"
#include "enforce/enforcer.h"

namespace pinhole {

// Settings the backends read, from the [nftables] and [aws] sections.
struct EnforcerOptions {
  std::string nftables_table = "pinhole";
  aws::ClientOptions aws_client;
  aws::AwsSgOptions aws;
};

using EnforcerFactory = std::function<Result<std::unique_ptr<Enforcer>>(const EnforcerOptions&)>;

class EnforcerRegistry {
 public:
  // Conflict "duplicate_backend" if `name` is already registered.
  Status Register(std::string name, EnforcerFactory factory);
  // NotFound if no backend of that name; otherwise what the factory returns.
  Result<std::unique_ptr<Enforcer>> Create(std::string_view name,
                                           const EnforcerOptions& options) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, EnforcerFactory, std::less<>> factories_;
};

// The registry with every built-in backend ("nftables", "tunnel", "aws-sg").
EnforcerRegistry DefaultEnforcerRegistry();

}  // namespace pinhole
