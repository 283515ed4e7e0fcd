// Fuzzes the AWS shared credentials/config file parser and the credential
// chain over it: nothing crashes, parsed keys are lower-case and trimmed, and
// a chain reading arbitrary files either yields credentials from them or a
// Status (never a network call: the transport here fails every request).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "enforce/aws/credentials.h"
#include "fuzz_check.h"

namespace pinhole::aws {
namespace {

using fuzz::Escape;

class NoNetwork final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest&) override {
    return Status(Code::kUnavailable, "aws_transport", "no network in the fuzzer");
  }
};

void Check(std::string_view text) {
  Result<IniSections> ini = ParseIni(text);
  if (ini.ok()) {
    for (const auto& [section, keys] : *ini) {
      FUZZ_CHECK(!section.empty(), Escape(text));
      for (const auto& [key, value] : keys) {
        FUZZ_CHECK(!key.empty(), Escape(text));
        for (char c : key)
          FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), Escape(text) + " key " + Escape(key));
        FUZZ_CHECK(key.front() != ' ' && key.back() != ' ', Escape(text));
      }
    }
  } else {
    FUZZ_CHECK(ini.status().reason() == "aws_credentials", ini.status().ToString());
  }

  // The chain reads real files; one private directory, removed at exit.
  struct ScratchDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("pinhole-fuzz-ini-" + std::to_string(::getpid()));
    ScratchDir() { std::filesystem::create_directories(path); }
    ~ScratchDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const ScratchDir scratch;
  const std::filesystem::path& dir = scratch.path;
  { std::ofstream(dir / "config", std::ios::binary | std::ios::trunc) << text; }
  auto chain =
      NewCredentialChain({.profile = "",
                          .transport = std::make_shared<NoNetwork>(),
                          .env = [&dir](const std::string& n) -> std::optional<std::string> {
                            if (n == "AWS_CONFIG_FILE") return (dir / "config").string();
                            if (n == "AWS_SHARED_CREDENTIALS_FILE")
                              return (dir / "config").string();
                            return std::nullopt;
                          }});
  Result<Credentials> c = chain->Get();
  if (c.ok()) FUZZ_CHECK(!c->access_key_id.empty() && !c->secret_access_key.empty(), Escape(text));
}

}  // namespace
}  // namespace pinhole::aws

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pinhole::aws::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
