// The HTTP seam of the pinhole CLI: a tiny request/response interface and its
// libcurl implementation. Commands talk to ApiClient (api_client.h), which
// sits on top of an HttpClient so tests can substitute a fake transport.
//
// Thread-safety: an HttpClient instance is used from one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace pinhole::cli {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PATCH", "DELETE"
  std::string url;     // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent only when non-empty
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Performs one request. Any HTTP status, including 4xx/5xx, is a successful
  // exchange; a Status (code kUnavailable, reason "unreachable") means no
  // response was received at all: DNS, connect, TLS, timeout, or an oversized
  // reply.
  [[nodiscard]] virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct TransportOptions {
  bool insecure = false;  // skip TLS certificate and host name verification
  std::string ca_file;    // PEM bundle to trust instead of the system store
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds total_timeout{60};
  size_t max_response_bytes = 16 << 20;
};

// Needs curl_global_init to have been called (main() does it once).
std::unique_ptr<HttpClient> MakeCurlHttpClient(TransportOptions options);

}  // namespace pinhole::cli
