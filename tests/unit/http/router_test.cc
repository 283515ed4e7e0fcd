#include "http/router.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace pinhole {
namespace {

HttpRequest Req(std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  return r;
}

// A handler that answers with its own name and the path parameters.
RouteHandler Named(std::string name) {
  return [name](const HttpRequest&, const PathParams& params) {
    HttpResponse r;
    nlohmann::json j = {{"route", name}, {"params", params}};
    r.body = j.dump();
    return r;
  };
}

std::string Header(const HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add("GET", "/healthz", Named("healthz"));
    router_.Add("GET", "/api/v1/leases", Named("list"));
    router_.Add("POST", "/api/v1/leases", Named("create"));
    router_.Add("GET", "/api/v1/leases/{id}", Named("get"));
    router_.Add("DELETE", "/api/v1/leases/{id}", Named("delete"));
    router_.Add("GET", "/api/v1/leases/mine", Named("mine"));
    router_.Add("POST", "/api/v1/leases/{id}/approve", Named("approve"));
    router_.Add("GET", "/api/v1/groups/{group}/members/{member}", Named("member"));
    router_.Add("GET", "/", Named("root"));
  }

  nlohmann::json Route(std::string method, std::string path) {
    HttpResponse r = router_.Dispatch(Req(std::move(method), std::move(path)));
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body);
  }

  Router router_;
};

TEST_F(RouterTest, LiteralRoutes) {
  EXPECT_EQ(Route("GET", "/healthz")["route"], "healthz");
  EXPECT_EQ(Route("GET", "/api/v1/leases")["route"], "list");
  EXPECT_EQ(Route("POST", "/api/v1/leases")["route"], "create");
  EXPECT_EQ(Route("GET", "/")["route"], "root");
}

TEST_F(RouterTest, Params) {
  nlohmann::json j = Route("GET", "/api/v1/leases/L123");
  EXPECT_EQ(j["route"], "get");
  EXPECT_EQ(j["params"]["id"], "L123");
  j = Route("POST", "/api/v1/leases/abc/approve");
  EXPECT_EQ(j["route"], "approve");
  EXPECT_EQ(j["params"]["id"], "abc");
  j = Route("GET", "/api/v1/groups/ops/members/a@example.com");
  EXPECT_EQ(j["params"]["group"], "ops");
  EXPECT_EQ(j["params"]["member"], "a@example.com");
}

TEST_F(RouterTest, LiteralBeatsParamWhateverTheOrder) {
  EXPECT_EQ(Route("GET", "/api/v1/leases/mine")["route"], "mine");
  Router r;
  r.Add("GET", "/x/literal", Named("literal"));
  r.Add("GET", "/x/{p}", Named("param"));
  EXPECT_THAT(r.Dispatch(Req("GET", "/x/literal")).body, ::testing::HasSubstr("\"literal\""));
  EXPECT_THAT(r.Dispatch(Req("GET", "/x/other")).body, ::testing::HasSubstr("\"param\""));
}

TEST_F(RouterTest, TrailingSlashTolerated) {
  EXPECT_EQ(Route("GET", "/healthz/")["route"], "healthz");
  EXPECT_EQ(Route("GET", "/api/v1/leases/L1/")["params"]["id"], "L1");
}

TEST_F(RouterTest, NotFound) {
  for (const char* path : {"/nope", "/api/v1", "/api/v1/leases/a/b", "/api/v1/leases//approve",
                           "/api//v1/leases", "/healthzz", "/HEALTHZ", ""}) {
    HttpResponse r = router_.Dispatch(Req("GET", path));
    if (std::string_view(path).empty()) {
      // An empty path is treated as "/".
      EXPECT_EQ(r.status, 200);
      continue;
    }
    EXPECT_EQ(r.status, 404) << path;
    nlohmann::json j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], "not_found") << path;
    EXPECT_TRUE(j["error"]["message"].is_string());
  }
}

TEST_F(RouterTest, EmptyParamDoesNotMatch) {
  // "/api/v1/leases//approve" has an empty {id}; that is not a lease.
  EXPECT_EQ(router_.Dispatch(Req("POST", "/api/v1/leases//approve")).status, 404);
}

TEST_F(RouterTest, MethodNotAllowedListsAllow) {
  HttpResponse r = router_.Dispatch(Req("PUT", "/api/v1/leases/L1"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "DELETE, GET, HEAD");
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "method_not_allowed");

  r = router_.Dispatch(Req("DELETE", "/api/v1/leases"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "GET, HEAD, POST");

  r = router_.Dispatch(Req("GET", "/api/v1/leases/L1/approve"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST");
}

TEST_F(RouterTest, HeadUsesGetRoute) {
  EXPECT_EQ(Route("HEAD", "/healthz")["route"], "healthz");
  EXPECT_EQ(router_.Dispatch(Req("HEAD", "/api/v1/leases/L1/approve")).status, 405);
}

TEST_F(RouterTest, HandlerExceptionsPropagateToTheServer) {
  Router r;
  r.Add("GET", "/boom", [](const HttpRequest&, const PathParams&) -> HttpResponse {
    throw std::runtime_error("boom");
  });
  EXPECT_THROW(r.Dispatch(Req("GET", "/boom")), std::runtime_error);
}

TEST(JsonErrorTest, EscapesAndShapes) {
  HttpResponse r = JsonError(422, "bad_thing", "quote \" backslash \\ newline \n <script>");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.content_type, "application/json");
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j.size(), 1u);
  EXPECT_EQ(j["error"].size(), 2u);
  EXPECT_EQ(j["error"]["code"], "bad_thing");
  EXPECT_EQ(j["error"]["message"], "quote \" backslash \\ newline \n <script>");
}

TEST(JsonErrorTest, InvalidUtf8DoesNotThrow) {
  HttpResponse r;
  ASSERT_NO_THROW(r = JsonError(404, "not_found", "path \xff\xfe"));
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "not_found");
}

}  // namespace
}  // namespace pinhole
