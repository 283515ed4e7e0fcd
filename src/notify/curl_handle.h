// Small RAII pieces around libcurl shared by the SMTP and webhook
// transports. Internal to src/notify.
//
// EnsureCurlGlobalInit is thread-safe (std::call_once); the handles are
// owned by one thread at a time, like the CURL handles they wrap.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

namespace pinhole::curl {

// curl_global_init must run once before any handle is made, and is not
// thread-safe in every libcurl build; this runs it exactly once.
void EnsureGlobalInit();

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Appends `item` to `list`, keeping ownership in the unique_ptr.
bool Append(Slist& list, const std::string& item);

// The curl error text for `rc`: the error buffer if filled, else
// curl_easy_strerror. `secret` (a password) is blanked out if it occurs.
std::string ErrorText(CURLcode rc, const char* error_buffer, std::string_view secret);

}  // namespace pinhole::curl
