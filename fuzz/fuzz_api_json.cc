// Fuzzes the API request readers (http/json_fields.h, http/api_codec.h):
// ParseJsonObject, then one Apply*Fields onto a fresh object (create) or a
// stored one (PATCH). Input layout: byte 0 picks the kind and the mode, the
// rest is the request body.
//
// Nothing here may throw: an exception escaping is a bug (the fuzzer lets it
// crash). What an Apply accepts must be what the API can answer with
// (ToJson(...).dump() works), and reading that answer back as a create
// request must give the same object: otherwise a client that GETs an object
// and PUTs it back changes it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/api_codec.h"
#include "http/json_fields.h"

namespace pinhole {
namespace {

using nlohmann::json;

// Objects as the store would hand them to a PATCH.
User StoredUser() {
  User u;
  u.id = 7;
  u.email = "alice@example.com";
  u.role = Role::kAdmin;
  u.groups = {"ops", "sre"};
  return u;
}
Group StoredGroup() { return Group{3, "ops", {"alice@example.com", "bob@example.com"}}; }
Service StoredService() {
  Service s;
  s.id = 4;
  s.name = "ssh";
  s.description = "bastion";
  s.ports = PortRange{22, 22};
  return s;
}
AccessGroup StoredAccessGroup() { return AccessGroup{5, "admin-tools", {"ssh", "vnc"}, true}; }
Policy StoredPolicy() {
  Policy p;
  p.id = 6;
  p.name = "oncall";
  p.groups = {"ops"};
  p.services = {"ssh"};
  p.recipients = {RecipientKind::kSelf, RecipientKind::kCidr};
  p.min_prefix_v4 = 24;
  return p;
}

bool Same(const User& a, const User& b) {
  return a.email == b.email && a.role == b.role &&
         a.must_change_password == b.must_change_password && a.disabled == b.disabled &&
         a.groups == b.groups;
}
bool Same(const Group& a, const Group& b) { return a.name == b.name && a.members == b.members; }
bool Same(const Service& a, const Service& b) {
  return a.name == b.name && a.description == b.description && a.backend == b.backend &&
         a.protocol == b.protocol && a.ports == b.ports &&
         json::parse(a.target_json) == json::parse(b.target_json) &&
         a.keep_established == b.keep_established;
}
bool Same(const AccessGroup& a, const AccessGroup& b) {
  return a.name == b.name && a.services == b.services && a.is_public == b.is_public;
}
bool Same(const Policy& a, const Policy& b) {
  return a.name == b.name && a.users == b.users && a.groups == b.groups &&
         a.services == b.services && a.access_groups == b.access_groups &&
         a.default_duration == b.default_duration && a.max_duration == b.max_duration &&
         a.recipients == b.recipients && a.min_prefix_v4 == b.min_prefix_v4 &&
         a.min_prefix_v6 == b.min_prefix_v6 && a.approval == b.approval &&
         a.activate_on == b.activate_on && a.notify_admins == b.notify_admins &&
         a.schedule == b.schedule && a.may_outlive_window == b.may_outlive_window;
}

// How deeply arrays and objects nest in JSON text (brackets inside strings
// do not count). nlohmann::json serialises recursively; in this Debug+ASan
// build a frame takes kilobytes, so ~1000 levels (2 KB of input) overflow the
// 8 MB stack, while a release build handles the 32,000 levels a 64 KB body
// allows. Deeper inputs are skipped so that the fuzzer keeps looking for
// real bugs instead of reporting that.
size_t NestingDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}
constexpr size_t kMaxNesting = 100;

// Applies `body` onto `start`; on success checks the answer and its
// round trip as a create request.
template <typename T>
void Check(const json& body, T start, Status (*apply)(const json&, T&), const char* kind) {
  T out = start;
  Status st = apply(body, out);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == Code::kInvalidArgument && !st.reason().empty(), st.ToString());
    FUZZ_CHECK(Same(out, start), std::string(kind) + ": a failed Apply changed the object");
    return;
  }
  FUZZ_CHECK(out.id == start.id, std::string(kind) + ": Apply changed the id");
  json answer = ToJson(out);
  std::string text = answer.dump();  // throws on invalid UTF-8: let it crash
  // What the server keeps about an object rather than what a request sets:
  // identity and timestamps, and a user's sign-in state (where they sign in,
  // their provider's groups, lockout, second factor).
  for (const char* state : {"id", "created_at", "source", "external_groups", "failed_logins",
                            "locked_until", "mfa_enabled"}) {
    answer.erase(state);
  }
  T created{};
  Status again = apply(answer, created);
  FUZZ_CHECK(again.ok(), std::string(kind) + ": the API's own answer " + text +
                             " is refused as a create request: " + again.ToString() +
                             "\n  request body: " + body.dump());
  FUZZ_CHECK(Same(created, out), std::string(kind) + ": " + text + " reads back as " +
                                     ToJson(created).dump() + "\n  request body: " + body.dump());
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (NestingDepth(text) > kMaxNesting) return -1;  // -1: keep out of the corpus
  Result<json> body = ParseJsonObject(text, /*empty_ok=*/(selector & 0x10) != 0);
  if (!body.ok()) {
    FUZZ_CHECK(body.status().reason() == "malformed_json", body.status().ToString());
    return 0;
  }
  FUZZ_CHECK(body->is_object(), "ParseJsonObject returned " + body->dump());
  const bool patch = (selector & 0x08) != 0;
  switch (selector % 5) {
    case 0:
      Check(*body, patch ? StoredUser() : User{}, ApplyUserFields, "user");
      break;
    case 1:
      Check(*body, patch ? StoredGroup() : Group{}, ApplyGroupFields, "group");
      break;
    case 2:
      Check(*body, patch ? StoredService() : Service{}, ApplyServiceFields, "service");
      break;
    case 3:
      Check(*body, patch ? StoredAccessGroup() : AccessGroup{}, ApplyAccessGroupFields,
            "access group");
      break;
    default:
      Check(*body, patch ? StoredPolicy() : Policy{}, ApplyPolicyFields, "policy");
      break;
  }
  return 0;
}
