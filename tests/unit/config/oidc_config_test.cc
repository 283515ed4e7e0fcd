#include <gtest/gtest.h>

#include "config/config.h"

namespace pinhole {
namespace {

std::string ErrorOf(std::string_view text) {
  auto c = ParseConfig(text, "p.toml");
  return c.ok() ? "" : c.status().message();
}

TEST(OidcConfigTest, ParsesProvidersWithDefaults) {
  auto c = ParseConfig(R"(
[auth]
local_passwords = false

[[oidc]]
name = "corp"
display_name = "Corp SSO"
issuer = "https://login.example.com"
client_id = "pinhole"
client_secret = "xyz"
groups_claim = "roles"
group_map = { "eng" = "engineers", "sre" = "operators" }

[[oidc]]
name = "local-idp"
issuer = "http://127.0.0.1:9000"
client_id = "c"
token_auth = "post"
scopes = ["openid", "email"]
require_verified_email = false
provision = false
)",
                       "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->local_passwords, LocalPasswords::kAdminsOnly);
  ASSERT_EQ(c->oidc.size(), 2u);
  const auto& a = c->oidc[0];
  EXPECT_EQ(a.display_name, "Corp SSO");
  EXPECT_EQ(a.scopes, (std::vector<std::string>{"openid", "email", "profile"}));
  EXPECT_EQ(a.email_claim, "email");
  EXPECT_TRUE(a.require_verified_email);
  EXPECT_TRUE(a.provision);
  EXPECT_EQ(a.token_auth, "basic");
  EXPECT_EQ(a.groups_claim, "roles");
  EXPECT_EQ(a.group_map.size(), 2u);
  const auto& b = c->oidc[1];
  EXPECT_EQ(b.display_name, "local-idp");
  EXPECT_EQ(b.token_auth, "post");
  EXPECT_FALSE(b.provision);
  EXPECT_FALSE(b.require_verified_email);
  EXPECT_EQ(b.groups_claim, "groups");

  EXPECT_EQ(ParseConfig("", "p.toml")->local_passwords, LocalPasswords::kAll);
  EXPECT_EQ(ParseConfig("[auth]\nlocal_passwords = \"none\"\n", "p.toml")->local_passwords,
            LocalPasswords::kNone);
}

TEST(OidcConfigTest, ErrorsNameTheKey) {
  const std::string base = "[[oidc]]\nname = \"corp\"\nclient_id = \"c\"\n";
  EXPECT_EQ(ErrorOf(base), "p.toml:1: oidc.issuer: missing");
  EXPECT_EQ(ErrorOf("[[oidc]]\nissuer = \"https://x\"\nclient_id = \"c\"\n"),
            "p.toml:1: oidc.name: missing");
  EXPECT_EQ(ErrorOf("[[oidc]]\nname = \"corp\"\nissuer = \"https://x\"\n"),
            "p.toml:1: oidc.client_id: missing");
  EXPECT_NE(ErrorOf(base + "issuer = \"http://idp.example\"\n").find("oidc.issuer: "),
            std::string::npos);
  EXPECT_NE(ErrorOf("[[oidc]]\nname = \"Bad Name\"\n").find("oidc.name: "), std::string::npos);
  EXPECT_NE(ErrorOf(base + "issuer = \"https://x\"\nscopes = [\"email\"]\n")
                .find("oidc.scopes: must include \"openid\""),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(base + "issuer = \"https://x\"\ntoken_auth = \"jwt\"\n").find("oidc.token_auth"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(base + "issuer = \"https://x\"\ngroup_map = { a = 1 }\n").find("oidc.group_map"),
      std::string::npos);
  EXPECT_NE(ErrorOf(base + "issuer = \"https://x\"\nfoo = 1\n").find("oidc.foo: unknown key"),
            std::string::npos);
  std::string twice = base + "issuer = \"https://x\"\n" + base + "issuer = \"https://y\"\n";
  EXPECT_NE(ErrorOf(twice).find("duplicate provider name"), std::string::npos);
  EXPECT_NE(ErrorOf("[oidc]\nname = \"x\"\n").find("oidc: expected [[oidc]]"), std::string::npos);
  EXPECT_NE(ErrorOf("[auth]\nlocal_passwords = \"admins\"\n").find("auth.local_passwords"),
            std::string::npos);
}

}  // namespace
}  // namespace pinhole
