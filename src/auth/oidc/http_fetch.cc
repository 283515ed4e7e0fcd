#include "auth/oidc/http_fetch.h"

#include <curl/curl.h>

#include <mutex>

namespace pinhole::oidc {
namespace {

constexpr size_t kMaxBody = 1 << 20;

struct Sink {
  std::string body;
  bool too_big = false;
};

size_t Write(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t len = size * n;
  if (sink->body.size() + len > kMaxBody) {
    sink->too_big = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  sink->body.append(data, len);
  return len;
}

class CurlHttpFetcher : public HttpFetcher {
 public:
  CurlHttpFetcher() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  Result<FetchReply> Get(const std::string& url) override { return Do(url, nullptr, {}); }

  Result<FetchReply> PostForm(
      const std::string& url, const std::string& form_body,
      const std::vector<std::pair<std::string, std::string>>& headers) override {
    return Do(url, &form_body, headers);
  }

 private:
  Result<FetchReply> Do(const std::string& url, const std::string* post,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return Status::Internal("libcurl could not make a handle");
    Sink sink;
    char error[CURL_ERROR_SIZE] = {0};
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Accept: application/json");
    for (const auto& [name, value] : headers) {
      list = curl_slist_append(list, (name + ": " + value).c_str());
    }
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> owned(list, curl_slist_free_all);
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, owned.get());
    curl_easy_setopt(c, CURLOPT_USERAGENT, "pinholed-oidc");
    if (post != nullptr) {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, post->c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(post->size()));
    }
    CURLcode rc = curl_easy_perform(c);
    if (sink.too_big) return Status::Unavailable("reply from " + url + " is larger than 1 MiB");
    if (rc != CURLE_OK) {
      return Status::Unavailable(url + ": " + (error[0] ? error : curl_easy_strerror(rc)));
    }
    FetchReply reply;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = std::move(sink.body);
    return reply;
  }
};

}  // namespace

std::unique_ptr<HttpFetcher> MakeCurlHttpFetcher() { return std::make_unique<CurlHttpFetcher>(); }

}  // namespace pinhole::oidc
