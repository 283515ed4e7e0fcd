#include "notify/webhook_transport.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <set>

#include "notify/curl_handle.h"
#include "pinhole_version.h"

namespace pinhole {
namespace {

// Enough of a response body to quote in an error; the rest is discarded.
constexpr size_t kKeepResponse = 200;

size_t KeepSome(char* data, size_t size, size_t count, void* user) {
  auto* kept = static_cast<std::string*>(user);
  size_t n = size * count;
  if (kept->size() < kKeepResponse) kept->append(data, std::min(n, kKeepResponse - kept->size()));
  return n;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool Retryable(long status) {
  return status == 408 || status == 425 || status == 429 || status >= 500;
}

}  // namespace

std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds) + "." + std::string(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xF];
  }
  return out;
}

Result<std::unique_ptr<WebhookTransport>> WebhookTransport::Create(WebhookOptions options) {
  std::set<std::string> names;
  for (const auto& t : options.targets) {
    if (t.name.empty()) return Status::Invalid("invalid_webhook", "a webhook needs a name");
    if (!names.insert(t.name).second) {
      return Status::Invalid("invalid_webhook", "duplicate webhook name \"" + t.name + "\"");
    }
    if (!t.url.starts_with("http://") && !t.url.starts_with("https://")) {
      return Status::Invalid("invalid_webhook",
                             "webhook \"" + t.name + "\": url must start with http:// or https://");
    }
  }
  if (options.timeout.count() <= 0) {
    return Status::Invalid("invalid_webhook", "webhook timeout must be positive");
  }
  curl::EnsureGlobalInit();
  return std::unique_ptr<WebhookTransport>(new WebhookTransport(std::move(options)));
}

WebhookTransport::WebhookTransport(WebhookOptions options) : options_(std::move(options)) {}

Status WebhookTransport::Deliver(const OutboxMessage& message, Time now) {
  const WebhookTarget* target = nullptr;
  for (const auto& t : options_.targets) {
    if (t.name == message.target) target = &t;
  }
  if (target == nullptr) {
    return Status::NotFound("webhook \"" + message.target + "\" is no longer configured");
  }
  int64_t timestamp = std::chrono::duration_cast<Seconds>(now.time_since_epoch()).count();

  curl::Easy handle(curl_easy_init());
  if (!handle) return Status::Unavailable("curl_easy_init failed");
  CURL* c = handle.get();
  curl::Slist headers;
  bool ok = curl::Append(headers, "Content-Type: application/json") &&
            curl::Append(headers, "X-Pinhole-Event: " + message.event) &&
            curl::Append(headers, "X-Pinhole-Delivery: " + std::to_string(message.id)) &&
            curl::Append(headers, "X-Pinhole-Timestamp: " + std::to_string(timestamp)) &&
            curl::Append(headers, "Expect:");  // no 100-continue round trip
  if (ok && !target->secret.empty()) {
    ok = curl::Append(headers, "X-Pinhole-Signature: " +
                                   WebhookSignature(target->secret, timestamp, message.text));
  }
  if (!ok) return Status::Unavailable("out of memory building webhook headers");

  std::string response;
  char error[CURL_ERROR_SIZE] = {0};
  static const std::string kUserAgent = std::string("pinholed/") + PINHOLE_VERSION;
  long timeout = static_cast<long>(options_.timeout.count());
  curl_easy_setopt(c, CURLOPT_URL, target->url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, message.text.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(message.text.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &KeepSome);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);

  // The URL may hold a token (Slack's do), so errors name the webhook only.
  std::string where = "webhook \"" + target->name + "\": ";
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return Status::Unavailable(where + curl::ErrorText(rc, error, target->secret));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return Status::Ok();
  std::string what = where + "HTTP " + std::to_string(status);
  std::string body = Printable(response);
  if (!body.empty()) what += ": " + body;
  if (Retryable(status)) return Status::Unavailable(what);
  return Status::Invalid("rejected", what);
}

}  // namespace pinhole
