// The Api's single sign-on state (api_oidc.cc): one OIDC client per
// configured provider and the sign-ins waiting for their callback.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "auth/oidc/http_fetch.h"
#include "auth/oidc/oidc_client.h"
#include "auth/oidc/pending_logins.h"

namespace pinhole {

struct OidcState {
  std::unique_ptr<oidc::HttpFetcher> own_fetcher;  // when ApiContext brings none
  std::map<std::string, std::unique_ptr<oidc::OidcClient>> clients;
  oidc::PendingLogins pending;
};

}  // namespace pinhole
