// JSON forms of the API objects (../shared/API.md), and reading them back
// from request bodies onto an object (create: onto defaults; PATCH: onto the
// stored object, so absent fields stay as they were).
#pragma once

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "core/result.h"

namespace pinhole {

nlohmann::json ToJson(const User& u);
nlohmann::json ToJson(const Group& g);
nlohmann::json ToJson(const Service& s);
nlohmann::json ToJson(const AccessGroup& g);
nlohmann::json ToJson(const Policy& p);

// Each Apply*Fields validates what it reads and changes `out` only on success.
// Users' passwords are handled by the caller (they need hashing).
Status ApplyUserFields(const nlohmann::json& body, User& out);
Status ApplyGroupFields(const nlohmann::json& body, Group& out);
Status ApplyServiceFields(const nlohmann::json& body, Service& out);
Status ApplyAccessGroupFields(const nlohmann::json& body, AccessGroup& out);
Status ApplyPolicyFields(const nlohmann::json& body, Policy& out);

}  // namespace pinhole
