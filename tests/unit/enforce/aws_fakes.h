// Test doubles for the AWS client: a scripted HttpTransport that records what
// was sent, and a helper to read a form-encoded body back.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "enforce/aws/http_transport.h"
#include "sigv4/query.h"

namespace pinhole::aws::testing {

class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  Result<HttpResponse> Send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    return handler_(request);
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  Handler handler_;
  mutable std::mutex mu_;
  std::vector<HttpRequest> requests_;
};

inline HttpResponse Ok(std::string body) {
  return HttpResponse{.status = 200, .body = std::move(body)};
}
inline HttpResponse Reply(int status, std::string body) {
  return HttpResponse{.status = status, .body = std::move(body)};
}

inline std::string Ec2Error(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>" + code +
         "</Code><Message>" + message +
         "</Message></Error></Errors><RequestID>r-1</RequestID></Response>";
}

// Decodes "a=1&b=2" into a map (later keys win).
inline std::map<std::string, std::string> FormFields(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t p = 0;
  while (p <= body.size()) {
    size_t amp = body.find('&', p);
    if (amp == std::string::npos) amp = body.size();
    std::string part = body.substr(p, amp - p);
    if (!part.empty()) {
      size_t eq = part.find('=');
      out[FormDecode(part.substr(0, eq))] =
          eq == std::string::npos ? "" : FormDecode(part.substr(eq + 1));
    }
    p = amp + 1;
  }
  return out;
}

inline std::string HeaderOf(const HttpRequest& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace pinhole::aws::testing
