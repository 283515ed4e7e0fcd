// The portal's file serving: the page for client-side routes, assets by
// path, validators, the strict headers, and paths that try to leave web/.
#include "http/portal.h"

#include <gtest/gtest.h>

#include <fstream>

namespace pinhole {
namespace {

HttpRequest Get(std::string path, std::map<std::string, std::string> headers = {}) {
  HttpRequest r;
  r.method = "GET";
  r.target = path;
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

const std::vector<PortalFile> kFiles = {
    {"index.html", "<!doctype html><title>Pinhole</title>"},
    {"assets/app.js", "console.log('hi');"},
    {"assets/app.css", "body{}"},
    {"assets/pages/leases.js", "export {};"},
};

TEST(PortalTest, ClaimsGetsOutsideTheApi) {
  EXPECT_TRUE(Portal::Claims(Get("/")));
  EXPECT_TRUE(Portal::Claims(Get("/leases")));
  EXPECT_TRUE(Portal::Claims(Get("/admin/users")));
  EXPECT_TRUE(Portal::Claims(Get("/assets/app.js")));
  EXPECT_FALSE(Portal::Claims(Get("/api/v1/me")));
  EXPECT_FALSE(Portal::Claims(Get("/api")));
  EXPECT_FALSE(Portal::Claims(Get("/healthz")));
  EXPECT_FALSE(Portal::Claims(Get("/readyz")));
  EXPECT_FALSE(Portal::Claims(Get("/metrics")));
  EXPECT_FALSE(Portal::Claims(Get("/connection")));
  HttpRequest post = Get("/");
  post.method = "POST";
  EXPECT_FALSE(Portal::Claims(post));
}

TEST(PortalTest, PagePathsServeThePageWithStrictHeaders) {
  Portal portal(kFiles);
  for (const char* path : {"/", "/leases", "/admin/audit", "/invite/abc"}) {
    auto r = portal.Serve(Get(path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "<!doctype html><title>Pinhole</title>") << path;
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  }
  auto r = portal.Serve(Get("/"));
  std::string csp = Header(r, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(Header(r, "Cache-Control"), "no-cache");
}

TEST(PortalTest, AssetsByPathWithTypes) {
  Portal portal(kFiles);
  auto js = portal.Serve(Get("/assets/app.js"));
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "console.log('hi');");
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(portal.Serve(Get("/assets/app.css")).content_type, "text/css; charset=utf-8");
  EXPECT_EQ(portal.Serve(Get("/assets/pages/leases.js")).body, "export {};");
  // A missing asset is a 404, not the page: a script must not get HTML.
  auto missing = portal.Serve(Get("/assets/nope.js"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.content_type, "text/plain; charset=utf-8");
}

TEST(PortalTest, MatchingEtagGets304) {
  Portal portal(kFiles);
  auto first = portal.Serve(Get("/assets/app.js"));
  std::string etag = Header(first, "ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_NE(etag, Header(portal.Serve(Get("/assets/app.css")), "ETag"));
  auto again = portal.Serve(Get("/assets/app.js", {{"if-none-match", etag}}));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(portal.Serve(Get("/assets/app.js", {{"if-none-match", "\"other\""}})).status, 200);
}

TEST(PortalTest, PathsThatTryToLeaveWebAreNotFound) {
  // Paths arrive percent-decoded, so %2e%2e is ".." here.
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "pinhole-portal-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "web" / "assets");
  std::ofstream(dir / "web" / "index.html") << "page";
  std::ofstream(dir / "web" / "assets" / "app.js") << "from disk";
  std::ofstream(dir / "secret.txt") << "secret";
  Portal portal(dir / "web");
  EXPECT_EQ(portal.Serve(Get("/assets/app.js")).body, "from disk");
  EXPECT_EQ(portal.Serve(Get("/leases")).body, "page");
  for (const char* path : {"/assets/../../secret.txt", "/assets/../index.html", "/assets/./app.js",
                           "/assets//app.js", "/assets/", "/assets/a\\b.js"}) {
    auto r = portal.Serve(Get(path));
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
  }
  Portal embedded(kFiles);
  EXPECT_EQ(embedded.Serve(Get("/assets/../index.html")).status, 404);
  std::filesystem::remove_all(dir);
}

TEST(PortalTest, EmbeddedFilesIncludeThePage) {
  bool has_index = false;
  for (const auto& f : EmbeddedPortalFiles()) has_index |= f.path == "index.html";
  EXPECT_TRUE(has_index);
}

}  // namespace
}  // namespace pinhole
