// The OIDC client's only I/O: GET a document, POST a form. An interface so
// tests feed documents and tokens without a network; CurlHttpFetcher is the
// real one (libcurl).
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace pinhole::oidc {

struct FetchReply {
  long status = 0;
  std::string body;
};

class HttpFetcher {
 public:
  virtual ~HttpFetcher() = default;
  // A transport failure (connect, TLS, timeout, oversized body) is
  // Unavailable; any HTTP status is a reply.
  virtual Result<FetchReply> Get(const std::string& url) = 0;
  virtual Result<FetchReply> PostForm(
      const std::string& url, const std::string& form_body,
      const std::vector<std::pair<std::string, std::string>>& headers) = 0;
};

// libcurl: no redirects followed, http/https only, TLS peers verified
// against the system store, 10 s per request, replies over 1 MiB refused.
std::unique_ptr<HttpFetcher> MakeCurlHttpFetcher();

}  // namespace pinhole::oidc
