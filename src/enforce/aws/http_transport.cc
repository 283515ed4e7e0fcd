#include "enforce/aws/http_transport.h"

#include <curl/curl.h>
#include <strings.h>

#include <mutex>
#include <vector>

namespace pinhole::aws {
namespace {

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
  HttpResponse* response;
  size_t limit;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->response->body.size() + n > sink->limit) {
    sink->overflow = true;
    return 0;  // curl aborts with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    sink->response->headers.clear();  // a new response (after 100 Continue)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  sink->response->headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return n;
}

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport(size_t max_response_bytes, std::string ca_file)
      : max_response_bytes_(max_response_bytes), ca_file_(std::move(ca_file)) {}
  ~CurlTransport() override {
    for (CURL* c : pool_) curl_easy_cleanup(c);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    CURL* c = Acquire();
    if (c == nullptr) return Status::Internal("curl_easy_init failed");
    Result<HttpResponse> result = Perform(c, request);
    Release(c, result.ok());
    return result;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!pool_.empty()) {
        CURL* c = pool_.back();
        pool_.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* c, bool healthy) {
    static constexpr size_t kMaxPooled = 8;
    if (healthy) {
      std::lock_guard lock(mu_);
      if (pool_.size() < kMaxPooled) {
        pool_.push_back(c);
        return;
      }
    }
    curl_easy_cleanup(c);
  }

  Result<HttpResponse> Perform(CURL* c, const HttpRequest& request) {
    curl_easy_reset(c);
    curl_slist* raw = nullptr;
    for (const auto& [name, value] : request.headers) {
      raw = curl_slist_append(raw, (name + ": " + value).c_str());
    }
    // No "Expect: 100-continue" round trip for larger bodies.
    raw = curl_slist_append(raw, "Expect:");
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

    HttpResponse response;
    Sink sink{&response, max_response_bytes_};
    char error[CURL_ERROR_SIZE] = {0};
    const long timeout_ms = static_cast<long>(std::max<int64_t>(1, request.timeout.count()));

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    if (request.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pinhole-aws");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &WriteHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    // A signed request is never replayed to another URL.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      if (rc == CURLE_OPERATION_TIMEDOUT) {
        return Status(Code::kUnavailable, "aws_timeout",
                      "no response within " + std::to_string(timeout_ms) + " ms");
      }
      std::string what = sink.overflow ? "response larger than the limit"
                                       : (error[0] ? error : curl_easy_strerror(rc));
      return Status(Code::kUnavailable, "aws_transport", what);
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

  const size_t max_response_bytes_;
  const std::string ca_file_;
  std::mutex mu_;
  std::vector<CURL*> pool_;
};

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return "";
}

Result<UrlParts> SplitUrl(std::string_view url) {
  UrlParts parts;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return Status::Invalid("aws_endpoint", "not an absolute URL: " + std::string(url));
  }
  parts.scheme = std::string(url.substr(0, sep));
  for (char& ch : parts.scheme)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (parts.scheme != "http" && parts.scheme != "https") {
    return Status::Invalid("aws_endpoint", "only http and https endpoints: " + std::string(url));
  }
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string_view::npos ||
      authority.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Status::Invalid("aws_endpoint", "bad host in URL: " + std::string(url));
  }
  parts.authority = std::string(authority);
  if (end == std::string_view::npos || rest[end] != '/') {
    parts.path = "/";
  } else {
    std::string_view path = rest.substr(end);
    path = path.substr(0, path.find_first_of("?#"));
    parts.path = std::string(path);
  }
  return parts;
}

std::shared_ptr<HttpTransport> NewCurlTransport(size_t max_response_bytes, std::string ca_file) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_shared<CurlTransport>(max_response_bytes, std::move(ca_file));
}

}  // namespace pinhole::aws
