// pinhole: the command-line client for pinholed.
#include <curl/curl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>

#include "cli/app.h"
#include "cli/context.h"
#include "cli/http_client.h"

int main(int argc, char** argv) {
  using namespace pinhole::cli;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    std::cerr << "pinhole: cannot initialise libcurl\n";
    return 1;
  }
  // `pinhole tunnel` holds two descriptors per connection; lift the usual
  // soft limit of 1,024 to what the system allows.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &files);
  }
  pinhole::SystemClock clock;
  Context ctx(
      Environment::FromProcess(), std::cout, std::cerr, std::cin,
      [](const TransportOptions& options) { return MakeCurlHttpClient(options); }, clock);
  ctx.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  int code = RunCli(argc, argv, ctx);
  std::cout.flush();
  curl_global_cleanup();
  return code;
}
