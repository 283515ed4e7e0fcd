#include "auth/tokens.h"

#include <gtest/gtest.h>

#include <set>

namespace pinhole {
namespace {

TEST(TokensTest, RandomTokenIsBase64UrlWithoutPadding) {
  for (size_t bytes : {0u, 1u, 2u, 3u, 16u, 31u, 32u, 33u}) {
    std::string t = RandomToken(bytes);
    EXPECT_EQ(t.size(), (bytes * 4 + 2) / 3) << bytes;
    EXPECT_EQ(
        t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos)
        << t;
  }
  EXPECT_EQ(RandomToken().size(), 43u);
}

TEST(TokensTest, RandomTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomToken());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TokensTest, HashTokenIsHexSha256) {
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string t = RandomToken();
  EXPECT_EQ(HashToken(t), HashToken(t));
  EXPECT_NE(HashToken(t), HashToken(t + "x"));
}

TEST(TokensTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret "));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace pinhole
