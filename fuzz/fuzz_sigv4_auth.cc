// Fuzzes the SigV4 Authorization-header parser and the verifier
// (auth/sigv4_verify.h), which read headers straight from the network:
// arbitrary text never crashes, a parsed header always satisfies the
// parser's promises, and an arbitrary header never authenticates.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "auth/sigv4_verify.h"
#include "fuzz_check.h"

namespace pinhole {
namespace {

using fuzz::Escape;

bool LowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseSigV4Authorization(text);
  if (parsed.ok()) {
    FUZZ_CHECK(parsed->signature.size() == 64 && LowerHex(parsed->signature), Escape(text));
    FUZZ_CHECK(parsed->day.size() == 8, Escape(text));
    FUZZ_CHECK(!parsed->access_key_id.empty() && !parsed->signed_headers.empty(), Escape(text));
  } else {
    FUZZ_CHECK(parsed.status().reason() == "invalid_authorization", parsed.status().ToString());
  }
  // The whole verifier, with the input as the Authorization header and a key
  // that exists for any id: without the secret nothing passes.
  std::map<std::string, std::string> headers = {{"authorization", std::string(text)},
                                                {"host", "gw"},
                                                {"x-amz-date", "20261121T000000Z"}};
  static SigV4Verifier verifier({});
  SignedRequest request{"POST", "/connection", &headers, ""};
  Time now = Time(std::chrono::duration_cast<Millis>(Seconds(1'795'219'200)));
  auto who = verifier.Verify(
      request,
      [](std::string_view id) -> Result<Credential> {
        Credential c;
        c.kind = "access_key";
        c.lookup = std::string(id);
        c.secret = "fuzz-secret";
        return c;
      },
      now);
  FUZZ_CHECK(!who.ok(), Escape(text) + " authenticated");
  return 0;
}
