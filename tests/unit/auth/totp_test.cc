// TOTP against RFC 6238's vectors and Debian's oathtool, the otpauth URI,
// the QR code and recovery codes.
#include "auth/totp.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace pinhole {
namespace {

// RFC 6238 appendix B's SHA-1 key "12345678901234567890", in base32.
constexpr char kRfcSecret[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

Time At(int64_t unix_seconds) { return Time(std::chrono::duration_cast<Millis>(Seconds(unix_seconds))); }

TEST(TotpTest, MatchesRfc6238Vectors) {
  // The RFC lists 8 digits; 6-digit codes are their last six.
  EXPECT_EQ(*TotpCode(kRfcSecret, At(59)), "287082");
  EXPECT_EQ(*TotpCode(kRfcSecret, At(1111111109)), "081804");
  EXPECT_EQ(*TotpCode(kRfcSecret, At(1234567890)), "005924");
  EXPECT_EQ(*TotpCode(kRfcSecret, At(2000000000)), "279037");
  auto step = VerifyTotp(kRfcSecret, "005924", At(1234567890));
  ASSERT_TRUE(step.ok()) << step.status().ToString();
  EXPECT_EQ(*step, 1234567890 / 30);
}

TEST(TotpTest, AcceptsOneStepEitherWayButNotTwo) {
  const Time now = At(1'795'000'000);
  const int64_t step = 1'795'000'000 / 30;
  for (int offset : {-1, 0, 1}) {
    std::string code = *TotpCode(kRfcSecret, now + Seconds(30 * offset));
    auto r = VerifyTotp(kRfcSecret, code, now);
    ASSERT_TRUE(r.ok()) << offset;
    EXPECT_EQ(*r, step + offset);
  }
  for (int offset : {-2, 2}) {
    std::string code = *TotpCode(kRfcSecret, now + Seconds(30 * offset));
    EXPECT_EQ(VerifyTotp(kRfcSecret, code, now).status().reason(), "invalid_totp") << offset;
  }
}

TEST(TotpTest, RefusesMalformedCodes) {
  const Time now = At(1'795'000'000);
  for (const char* bad : {"", "12345", "1234567", "abcdef", "12 456", "-12345"}) {
    EXPECT_EQ(VerifyTotp(kRfcSecret, bad, now).status().reason(), "invalid_totp") << bad;
  }
}

TEST(TotpTest, AgreesWithOathtool) {
  if (std::system("command -v oathtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "no oathtool";
  const std::string secret = NewTotpSecret();
  EXPECT_EQ(secret.size(), 32u);  // 160 bits
  FILE* p = popen(("oathtool --totp -b --now '2026-11-21 10:00:00 UTC' " + secret).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[32] = {};
  ASSERT_NE(fgets(buf, sizeof buf, p), nullptr);
  pclose(p);
  std::string code(buf);
  code.erase(code.find_last_not_of("\n") + 1);
  const Time at = At(1'795'255'200);  // 2026-11-21T10:00:00Z
  EXPECT_EQ(*TotpCode(secret, at), code);
  EXPECT_TRUE(VerifyTotp(secret, code, at).ok());
}

TEST(TotpTest, UriNamesTheAccountAndParameters) {
  EXPECT_EQ(TotpUri("ABC", "bob+x@example.com"),
            "otpauth://totp/Pinhole:bob%2Bx@example.com?secret=ABC&issuer=Pinhole&algorithm=SHA1"
            "&digits=6&period=30");
}

TEST(TotpTest, QrCodeIsAnSvgOfTheRightSize) {
  auto svg = QrSvg(TotpUri(kRfcSecret, "bob@example.com"));
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 0), 0u);
  EXPECT_NE(svg->find("</svg>"), std::string::npos);
  // A QR symbol is 17 + 4 * version modules wide, plus the quiet zone.
  auto at = svg->find("viewBox=\"0 0 ") + 13;
  int size = std::stoi(svg->substr(at));
  EXPECT_EQ((size - 8 - 17) % 4, 0);
  EXPECT_GT(size, 21 + 8);
  EXPECT_FALSE(QrSvg(std::string(8000, 'x')).ok());
}

TEST(TotpTest, RecoveryCodesAreDistinctAndHashIgnoresFormatting) {
  auto codes = NewRecoveryCodes();
  ASSERT_EQ(codes.size(), 10u);
  std::set<std::string> unique(codes.begin(), codes.end());
  EXPECT_EQ(unique.size(), 10u);
  for (const auto& c : codes) {
    EXPECT_EQ(c.size(), 14u);
    EXPECT_EQ(c[4], '-');
    EXPECT_EQ(c[9], '-');
  }
  std::string c = codes[0];
  std::string retyped;
  for (char ch : c) {
    if (ch != '-') retyped += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  EXPECT_EQ(HashRecoveryCode(c), HashRecoveryCode(retyped));
  EXPECT_NE(HashRecoveryCode(codes[0]), HashRecoveryCode(codes[1]));
}

}  // namespace
}  // namespace pinhole
