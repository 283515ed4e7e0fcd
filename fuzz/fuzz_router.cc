// Fuzzes Router::Dispatch (http/router.h) with arbitrary paths against a
// fixed route table, and compares the outcome with a plain reading of the
// documented rules: segments split on '/', one leading and one trailing '/'
// ignored, "{name}" matching any non-empty segment, a literal beating a
// placeholder at the first position where they differ, HEAD served by GET,
// 404 when no pattern matches and 405 (with Allow) when only other methods
// do. Input layout: byte 0 picks the method, the rest is the decoded path.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "http/router.h"

namespace pinhole {
namespace {

using fuzz::Escape;

struct Pattern {
  const char* method;
  const char* path;
};

constexpr Pattern kPatterns[] = {
    {"GET", "/"},
    {"GET", "/healthz"},
    {"GET", "/api/v1/leases"},
    {"POST", "/api/v1/leases"},
    {"GET", "/api/v1/leases/mine"},
    {"GET", "/api/v1/leases/{id}"},
    {"DELETE", "/api/v1/leases/{id}"},
    {"POST", "/api/v1/leases/{id}/renew"},
    {"GET", "/api/v1/{kind}/{id}"},
    {"PATCH", "/api/v1/users/{id}"},
    {"GET", "/api/v1/users/{user}/groups/{group}"},
    {"PUT", "/api/v1/users/me/password"},
};
constexpr const char* kMethods[] = {"GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS"};

std::vector<std::string> Split(std::string_view path) {
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> out;
  if (path.empty()) return out;
  std::string current;
  for (char c : path) {
    if (c == '/') {
      out.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  out.push_back(current);
  return out;
}

bool IsParam(const std::string& s) { return s.size() > 2 && s.front() == '{' && s.back() == '}'; }

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& parts) {
  if (pattern.size() != parts.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (IsParam(pattern[i]) ? parts[i].empty() : pattern[i] != parts[i]) return false;
  }
  return true;
}

// True if `a` should win over `b` (both match the same path).
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (IsParam(a[i]) != IsParam(b[i])) return !IsParam(a[i]);
  }
  return false;
}

// The index of the pattern the rules pick, -1 for none; fills `allowed`.
int Expected(std::string_view method, const std::vector<std::string>& parts,
             std::set<std::string>& allowed) {
  int best = -1;
  for (int pass = 0; pass < 2 && best < 0; ++pass) {
    // Pass 0: the method itself; pass 1: GET standing in for HEAD.
    std::string_view want = pass == 0 ? method : "GET";
    if (pass == 1 && method != "HEAD") break;
    for (int i = 0; i < static_cast<int>(std::size(kPatterns)); ++i) {
      std::vector<std::string> segs = Split(kPatterns[i].path);
      if (!Matches(segs, parts)) continue;
      allowed.insert(kPatterns[i].method);
      if (std::string_view(kPatterns[i].method) == "GET") allowed.insert("HEAD");
      if (kPatterns[i].method != want) continue;
      if (best < 0 || MoreSpecific(segs, Split(kPatterns[best].path))) best = i;
    }
  }
  return best;
}

struct Hit {
  int index = -1;
  PathParams params;
};

const Router& TheRouter(Hit& hit) {
  static Router* router = [&hit] {
    auto* r = new Router;
    for (int i = 0; i < static_cast<int>(std::size(kPatterns)); ++i) {
      r->Add(kPatterns[i].method, kPatterns[i].path,
             [i, &hit](const HttpRequest&, const PathParams& params) {
               hit.index = i;
               hit.params = params;
               HttpResponse res;
               res.body = std::to_string(i);
               return res;
             });
    }
    return r;
  }();
  return *router;
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  if (size == 0) return 0;
  static Hit hit;
  const Router& router = TheRouter(hit);
  HttpRequest request;
  request.method = kMethods[data[0] % std::size(kMethods)];
  request.path.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  request.target = request.path;
  hit = Hit{};

  HttpResponse res = router.Dispatch(request);
  std::string what = request.method + " " + Escape(request.path);
  std::vector<std::string> parts = Split(request.path);
  std::set<std::string> allowed;
  int expected = Expected(request.method, parts, allowed);

  if (expected >= 0) {
    FUZZ_CHECK(res.status == 200 && hit.index == expected,
               what + ": expected pattern " + kPatterns[expected].path + ", got status " +
                   std::to_string(res.status) + " pattern " + std::to_string(hit.index));
    std::vector<std::string> segs = Split(kPatterns[expected].path);
    PathParams want;
    for (size_t i = 0; i < segs.size(); ++i) {
      if (IsParam(segs[i])) want[segs[i].substr(1, segs[i].size() - 2)] = parts[i];
    }
    FUZZ_CHECK(hit.params == want, what + ": wrong path parameters");
    return 0;
  }
  FUZZ_CHECK(hit.index == -1, what + ": a handler ran although no route should match");
  auto body = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!body.is_discarded() && body.contains("error"), what + ": error body " + res.body);
  if (allowed.empty()) {
    FUZZ_CHECK(res.status == 404, what + ": status " + std::to_string(res.status));
    return 0;
  }
  FUZZ_CHECK(res.status == 405, what + ": status " + std::to_string(res.status));
  std::string allow;
  for (const auto& [name, value] : res.headers) {
    if (name == "Allow") allow = value;
  }
  std::string want_allow;
  for (const std::string& m : allowed) want_allow += (want_allow.empty() ? "" : ", ") + m;
  FUZZ_CHECK(allow == want_allow, what + ": Allow " + Escape(allow) + ", expected " + want_allow);
  return 0;
}
