// Fuzzes VerifyLinkToken (auth/link_tokens.h), which reads tokens straight
// from URLs: arbitrary text never passes, and never crashes; a real token
// passes for its own purpose only, and any change to it fails.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/link_tokens.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

constexpr std::string_view kKey = "fuzz-key-0123456789abcdef";
constexpr std::string_view kPurposes[] = {"invite", "approve", "deny", "set_password"};

void CheckArbitrary(std::string_view text, Time now) {
  for (std::string_view purpose : kPurposes) {
    Status st = VerifyLinkToken(kKey, text, purpose, now);
    // Without the key nobody makes a valid signature, so text from outside
    // is at best malformed, at worst (a valid token's exact bytes) expired.
    FUZZ_CHECK(!st.ok(), Escape(text) + " passed as " + std::string(purpose));
    FUZZ_CHECK(st.reason() == "invalid_link" || st.reason() == "link_expired",
               st.ToString());
  }
}

void CheckRoundTrip(std::string_view mutation, Time now) {
  IssuedLinkToken issued = IssueLinkToken(kKey, "approve", 1, 2, now, now + Seconds(60));
  FUZZ_CHECK(VerifyLinkToken(kKey, issued.token, "approve", now).ok(), issued.token);
  FUZZ_CHECK(!VerifyLinkToken(kKey, issued.token, "deny", now).ok(), issued.token);
  FUZZ_CHECK(!VerifyLinkToken(kKey, issued.token, "approve", now + Seconds(60)).ok(),
             issued.token);
  if (mutation.empty()) return;
  // Overwrite a byte of the token with the fuzzer's choice.
  std::string changed = issued.token;
  size_t at = static_cast<unsigned char>(mutation[0]) % changed.size();
  char c = mutation.size() > 1 ? mutation[1] : 'x';
  if (changed[at] == c) return;
  changed[at] = c;
  FUZZ_CHECK(!VerifyLinkToken(kKey, changed, "approve", now).ok(), Escape(changed));
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const Time now = Time(Seconds(1'795'000'000));
  CheckArbitrary(text, now);
  CheckRoundTrip(text.substr(0, 2), now);
  return 0;
}
