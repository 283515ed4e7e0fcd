// The HTTP seam of the AWS client: one request, one response, no retries.
// The libcurl implementation is what production uses; tests substitute a
// fake (or point the real one at a loopback server).
//
// Thread-safety: HttpTransport implementations are thread-safe; the curl one
// keeps a small pool of connections (keep-alive across calls) behind a mutex.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "sigv4/sigv4.h"

namespace pinhole::aws {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT"
  std::string url;     // absolute http:// or https://
  HeaderList headers;
  std::string body;  // sent when non-empty, or always for POST/PUT
  std::chrono::milliseconds timeout{10000};
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // names as received
  std::string body;
  // The first header called `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Any HTTP status is a completed exchange. A Status means no complete
  // response: kUnavailable with reason "aws_timeout" when the deadline passed,
  // "aws_transport" for anything else (DNS, connect, TLS, reset, oversized).
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct UrlParts {
  std::string scheme;     // "http" | "https"
  std::string authority;  // "host[:port]", what the Host header carries
  std::string path;       // "/" when the URL has none; without the query
};
// Splits an absolute http(s) URL; kInvalidArgument (reason "aws_endpoint")
// for anything else, including user info ("user@host").
Result<UrlParts> SplitUrl(std::string_view url);

// Calls curl_global_init once. Responses over `max_response_bytes` fail.
// `ca_file` (PEM) replaces the system trust store when non-empty (AWS_CA_BUNDLE,
// e.g. for a VPC endpoint behind a TLS-inspecting proxy).
std::shared_ptr<HttpTransport> NewCurlTransport(size_t max_response_bytes = 32 << 20,
                                                std::string ca_file = "");

}  // namespace pinhole::aws
