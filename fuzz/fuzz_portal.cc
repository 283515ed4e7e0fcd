// Fuzzes Portal::Serve (http/portal.h) with arbitrary decoded paths, reading
// from a real directory that has a secret file beside web/. Checks: a path
// never reaches outside web/ (the secret never comes back); the answer is
// the page, one of the assets, or a 404; and the embedded copy of the same
// files answers exactly as the directory does.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.h"
#include "http/portal.h"

namespace pinhole {
namespace {

const std::vector<PortalFile> kFiles = {
    {"index.html", "the page"},
    {"assets/app.js", "the script"},
    {"assets/pages/home.js", "a module"},
};

struct Fixture {
  Fixture() {
    dir = std::filesystem::temp_directory_path() /
          ("pinhole-fuzz-portal-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir / "web" / "assets" / "pages");
    for (const auto& f : kFiles) std::ofstream(dir / "web" / f.path) << f.body;
    std::ofstream(dir / "secret") << "SECRET";
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::filesystem::path dir;
};

}  // namespace
}  // namespace pinhole

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinhole;
  static Fixture fixture;
  static Portal from_disk(fixture.dir / "web");
  static Portal embedded(kFiles);

  HttpRequest request;
  request.method = "GET";
  request.path.assign(reinterpret_cast<const char*>(data), size);
  request.target = request.path;
  HttpResponse disk = from_disk.Serve(request);
  HttpResponse memory = embedded.Serve(request);

  FUZZ_CHECK(disk.body.find("SECRET") == std::string::npos, fuzz::Escape(request.path));
  FUZZ_CHECK(disk.status == 200 || disk.status == 404, fuzz::Escape(request.path));
  if (disk.status == 200) {
    bool known = false;
    for (const auto& f : kFiles) known |= disk.body == f.body;
    FUZZ_CHECK(known, fuzz::Escape(request.path));
  }
  FUZZ_CHECK(disk.status == memory.status && disk.body == memory.body, fuzz::Escape(request.path));
  return 0;
}
