#include "notify/curl_handle.h"

#include <mutex>

namespace pinhole::curl {

void EnsureGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool Append(Slist& list, const std::string& item) {
  curl_slist* grown = curl_slist_append(list.get(), item.c_str());
  if (grown == nullptr) return false;
  // On success curl_slist_append returns the head, which is unchanged unless
  // the list was empty.
  list.release();
  list.reset(grown);
  return true;
}

std::string ErrorText(CURLcode rc, const char* error_buffer, std::string_view secret) {
  std::string text = (error_buffer != nullptr && error_buffer[0] != '\0')
                         ? std::string(error_buffer)
                         : std::string(curl_easy_strerror(rc));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (!secret.empty()) {
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
      text.replace(at, secret.size(), "***");
      at += 3;
    }
  }
  return text;
}

}  // namespace pinhole::curl
