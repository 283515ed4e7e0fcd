#include "cli/api_client.h"

#include <gtest/gtest.h>

#include "cli/fake_http_client.h"

namespace pinhole::cli {
namespace {

TEST(ApiClientTest, SendsBearerTokenAndJsonBody) {
  FakeHttpClient http;
  http.Reply(201, R"({"id":7,"state":"active"})");
  ApiClient api(&http, "https://p.example.com/", "tok");
  auto reply = api.Post("/api/v1/leases", {{"services", {"ssh"}}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["id"], 7);
  ASSERT_EQ(http.requests().size(), 1u);
  const HttpRequest& req = http.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://p.example.com/api/v1/leases");
  EXPECT_EQ(Json::parse(req.body), Json::parse(R"({"services":["ssh"]})"));
  EXPECT_EQ(http.Header(0, "Authorization"), "Bearer tok");
  EXPECT_EQ(http.Header(0, "Content-Type"), "application/json");
  EXPECT_EQ(http.Header(0, "Accept"), "application/json");
}

TEST(ApiClientTest, NoTokenNoAuthorizationHeaderAndNoBodyOnGet) {
  FakeHttpClient http;
  http.Reply(200, R"({"items":[]})");
  ApiClient api(&http, "http://localhost:8080", "");
  ASSERT_TRUE(api.Get("/api/v1/leases?mine=true").ok());
  EXPECT_EQ(http.requests()[0].method, "GET");
  EXPECT_EQ(http.requests()[0].body, "");
  EXPECT_EQ(http.Header(0, "Authorization"), "");
  EXPECT_EQ(http.Header(0, "Content-Type"), "");
}

TEST(ApiClientTest, EmptyBodyIsNull) {
  FakeHttpClient http;
  http.Reply(204, "");
  ApiClient api(&http, "https://p", "t");
  auto reply = api.Delete("/api/v1/session");
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->is_null());
  EXPECT_EQ(http.requests()[0].method, "DELETE");
}

TEST(ApiClientTest, ErrorReplyBecomesStatus) {
  FakeHttpClient http;
  http.Reply(403, R"({"error":{"code":"not_permitted","message":"no policy allows ssh"}})");
  ApiClient api(&http, "https://p", "t");
  auto reply = api.Post("/api/v1/leases", Json::object());
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kPermissionDenied);
  EXPECT_EQ(reply.status().reason(), "not_permitted");
  EXPECT_EQ(reply.status().message(), "no policy allows ssh");
}

TEST(ApiClientTest, UnreachableNamesTheServer) {
  FakeHttpClient http;
  http.FailToConnect("Connection refused");
  ApiClient api(&http, "https://p.example.com", "t");
  auto reply = api.Get("/api/v1/me");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_EQ(reply.status().reason(), "unreachable");
  EXPECT_EQ(reply.status().message(),
            "cannot reach server at https://p.example.com: Connection refused");
}

TEST(ApiClientTest, NonJsonSuccessIsAnError) {
  FakeHttpClient http;
  http.Reply(200, "<html>proxy login</html>");
  ApiClient api(&http, "https://p", "t");
  auto reply = api.Get("/api/v1/me");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().reason(), "bad_response");
}

TEST(StatusFromErrorReplyTest, MapsHttpStatusToCode) {
  const std::string body = R"({"error":{"code":"x","message":"m"}})";
  EXPECT_EQ(StatusFromErrorReply(400, body).code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromErrorReply(401, body).code(), Code::kUnauthenticated);
  EXPECT_EQ(StatusFromErrorReply(403, body).code(), Code::kPermissionDenied);
  EXPECT_EQ(StatusFromErrorReply(404, body).code(), Code::kNotFound);
  EXPECT_EQ(StatusFromErrorReply(409, body).code(), Code::kConflict);
  EXPECT_EQ(StatusFromErrorReply(422, body).code(), Code::kInvalidArgument);
  EXPECT_EQ(StatusFromErrorReply(429, body).code(), Code::kResourceExhausted);
  EXPECT_EQ(StatusFromErrorReply(500, body).code(), Code::kInternal);
  EXPECT_EQ(StatusFromErrorReply(503, body).code(), Code::kUnavailable);
}

TEST(StatusFromErrorReplyTest, ForeignBodiesAreNotEchoed) {
  for (const char* body : {"<html>Bad Gateway</html>", "", "[]", R"({"error":"string"})"}) {
    Status st = StatusFromErrorReply(502, body);
    EXPECT_EQ(st.reason(), "http_502") << body;
    EXPECT_EQ(st.message(), "server replied with HTTP 502") << body;
  }
}

TEST(StatusFromErrorReplyTest, FillsInMissingCodeOrMessage) {
  Status st = StatusFromErrorReply(409, R"({"error":{"message":"name taken"}})");
  EXPECT_EQ(st.reason(), "http_409");
  EXPECT_EQ(st.message(), "name taken");
  st = StatusFromErrorReply(422, R"({"error":{"code":"cidr_too_wide"}})");
  EXPECT_EQ(st.reason(), "cidr_too_wide");
  EXPECT_FALSE(st.message().empty());
}

TEST(EscapePathSegmentTest, KeepsNamesAndEmailsButNotSeparators) {
  EXPECT_EQ(EscapePathSegment("ssh-bastion_1.x~"), "ssh-bastion_1.x~");
  EXPECT_EQ(EscapePathSegment("alice@example.com"), "alice@example.com");
  EXPECT_EQ(EscapePathSegment("a/../b"), "a%2F..%2Fb");
  EXPECT_EQ(EscapePathSegment("x?y#z"), "x%3Fy%23z");
  EXPECT_EQ(EscapePathSegment("a b%"), "a%20b%25");
  EXPECT_EQ(EscapePathSegment("\xC3\xA9"), "%C3%A9");
}

TEST(QueryStringTest, SkipsAbsentValuesAndEncodes) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"state", std::nullopt}}), "");
  EXPECT_EQ(QueryString({{"mine", "true"}, {"state", "active"}}), "?mine=true&state=active");
  EXPECT_EQ(QueryString({{"q", "a&b=c d"}}), "?q=a%26b%3Dc%20d");
}

TEST(NormalizeServerUrlTest, AcceptsAndCanonicalizes) {
  EXPECT_EQ(*NormalizeServerUrl("https://p.example.com"), "https://p.example.com");
  EXPECT_EQ(*NormalizeServerUrl("https://p.example.com///"), "https://p.example.com");
  EXPECT_EQ(*NormalizeServerUrl("p.example.com:8443"), "https://p.example.com:8443");
  EXPECT_EQ(*NormalizeServerUrl("HTTP://localhost:8080/"), "http://localhost:8080");
  EXPECT_EQ(*NormalizeServerUrl("https://p.example.com/pinhole/"), "https://p.example.com/pinhole");
  EXPECT_EQ(*NormalizeServerUrl("  https://p  "), "https://p");
}

TEST(NormalizeServerUrlTest, RejectsBadUrls) {
  for (const char* bad : {"", "   ", "ftp://p", "file:///etc/passwd", "https://", "https:///x",
                          "https://p/?x=1", "https://p/#f", "https://p q"}) {
    auto url = NormalizeServerUrl(bad);
    EXPECT_FALSE(url.ok()) << bad;
    if (!url.ok()) {
      EXPECT_EQ(url.status().reason(), "invalid_server") << bad;
    }
  }
}

}  // namespace
}  // namespace pinhole::cli
