#include "auth/password.h"

#include <gtest/gtest.h>

#include <set>

namespace pinhole {
namespace {

TEST(PasswordTest, HashAndVerify) {
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << *h;
  EXPECT_TRUE(VerifyPassword("correct horse battery", *h));
  EXPECT_FALSE(VerifyPassword("correct horse batterY", *h));
  EXPECT_FALSE(VerifyPassword("", *h));
  EXPECT_FALSE(VerifyPassword("correct horse battery ", *h));
}

TEST(PasswordTest, SaltsDiffer) {
  auto a = HashPassword("same password");
  auto b = HashPassword("same password");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword("same password", *a));
  EXPECT_TRUE(VerifyPassword("same password", *b));
}

TEST(PasswordTest, EmptyPasswordHashesAndVerifies) {
  auto h = HashPassword("");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(VerifyPassword("", *h));
  EXPECT_FALSE(VerifyPassword("x", *h));
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h.ok());
  std::string good = *h;
  std::string truncated = good.substr(0, good.size() - 5);
  std::string wrong_type = good;
  wrong_type.replace(0, 9, "$argon2i$");
  std::string huge_memory = good;
  huge_memory.replace(huge_memory.find("m=19456"), 7, "m=4194304");
  for (const std::string& bad :
       {std::string(), std::string("plain"), std::string("$argon2id$"), truncated, wrong_type,
        huge_memory, std::string("$2y$10$abcdefghijklmnopqrstuv"),
        good + std::string(1, '\0') + "x"}) {
    EXPECT_FALSE(VerifyPassword("correct horse battery", bad)) << bad;
  }
}

TEST(PasswordTest, OverlongPasswordRefused) {
  std::string big(5000, 'a');
  EXPECT_FALSE(HashPassword(big).ok());
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h.ok());
  EXPECT_FALSE(VerifyPassword(big, *h));
}

TEST(PasswordTest, Policy) {
  EXPECT_EQ(CheckPasswordPolicy("short").reason(), "weak_password");
  EXPECT_EQ(CheckPasswordPolicy("123456789").reason(), "weak_password");
  EXPECT_EQ(CheckPasswordPolicy("").code(), Code::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordPolicy("q8v!w2m#z0").ok());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(1024, 'x')).ok());
  EXPECT_EQ(CheckPasswordPolicy(std::string(1025, 'x')).reason(), "weak_password");
}

TEST(PasswordTest, GeneratedPasswords) {
  const std::string ambiguous = "0O1lIo";
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    std::string p = GeneratePassword();
    ASSERT_EQ(p.size(), 20u);
    EXPECT_EQ(p.find_first_of(ambiguous), std::string::npos) << p;
    for (char c : p) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << p;
      chars.insert(c);
    }
    EXPECT_TRUE(CheckPasswordPolicy(p).ok());
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 200u);
  // 4000 draws from a 56-letter alphabet reach every letter with overwhelming probability.
  EXPECT_EQ(chars.size(), 56u);
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TEST(PasswordPolicyTest, RefusesCommonPasswords) {
  EXPECT_TRUE(IsCommonPassword("password1"));
  EXPECT_TRUE(IsCommonPassword("PassWord1"));  // case does not help
  EXPECT_TRUE(IsCommonPassword("1234567890"));
  EXPECT_FALSE(IsCommonPassword("correct horse battery staple"));
  Status common = CheckPasswordPolicy("1234567890");
  EXPECT_EQ(common.reason(), "weak_password");
  EXPECT_NE(common.message().find("common"), std::string::npos);
  EXPECT_TRUE(CheckPasswordPolicy("a-good-long-passphrase").ok());
  EXPECT_EQ(CheckPasswordPolicy("short").reason(), "weak_password");
}

}  // namespace
}  // namespace pinhole
