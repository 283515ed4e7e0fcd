#include "auth/link_tokens.h"

#include <gtest/gtest.h>

#include "auth/tokens.h"

namespace pinhole {
namespace {

const Time kNow = Time(Seconds(1'795'000'000));
constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

TEST(LinkTokens, IssuedTokenVerifiesForItsPurposeUntilItExpires) {
  auto t = IssueLinkToken(kKey, "invite", 7, 0, kNow, kNow + Seconds(3600));
  EXPECT_TRUE(VerifyLinkToken(kKey, t.token, "invite", kNow).ok());
  EXPECT_TRUE(VerifyLinkToken(kKey, t.token, "invite", kNow + Seconds(3599)).ok());
  Status expired = VerifyLinkToken(kKey, t.token, "invite", kNow + Seconds(3600));
  EXPECT_EQ(expired.reason(), "link_expired");
  EXPECT_EQ(VerifyLinkToken(kKey, t.token, "approve", kNow).reason(), "invalid_link");
  EXPECT_EQ(t.record.token_hash, HashToken(t.token));
  EXPECT_EQ(t.record.purpose, "invite");
  EXPECT_EQ(t.record.lease_id, 7);
  EXPECT_EQ(t.record.expires_at, kNow + Seconds(3600));
}

TEST(LinkTokens, TokensAreRandomAndCarryAtLeast128Bits) {
  auto a = IssueLinkToken(kKey, "approve", 1, 2, kNow, kNow + Seconds(60));
  auto b = IssueLinkToken(kKey, "approve", 1, 2, kNow, kNow + Seconds(60));
  EXPECT_NE(a.token, b.token);
  // "a.<random>.<expiry>.<mac>": 24 random bytes are 32 base64url characters.
  EXPECT_EQ(a.token.substr(0, 2), "a.");
  EXPECT_EQ(a.token.find('.', 2), 34u);
}

TEST(LinkTokens, ForgedAlteredOrForeignTokensAreInvalid) {
  auto t = IssueLinkToken(kKey, "deny", 1, 2, kNow, kNow + Seconds(60));
  EXPECT_EQ(VerifyLinkToken("another-key-0123456789", t.token, "deny", kNow).reason(),
            "invalid_link");
  for (size_t i = 0; i < t.token.size(); ++i) {
    std::string changed = t.token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyLinkToken(kKey, changed, "deny", kNow).ok()) << i;
  }
  // A later expiry written in by hand breaks the signature.
  std::string extended = t.token;
  size_t exp = extended.find('.', 2) + 1;
  extended[exp] = extended[exp] == '9' ? '8' : '9';
  EXPECT_EQ(VerifyLinkToken(kKey, extended, "deny", kNow).reason(), "invalid_link");
  for (const char* junk : {"", ".", "a..", "a.b.c.d", "x.y.1.0123456789abcdef0123456789abcdef"}) {
    EXPECT_EQ(VerifyLinkToken(kKey, junk, "deny", kNow).reason(), "invalid_link") << junk;
  }
  EXPECT_EQ(VerifyLinkToken(kKey, std::string(500, 'a'), "deny", kNow).reason(), "invalid_link");
}

}  // namespace
}  // namespace pinhole
