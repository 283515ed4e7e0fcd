// An HttpClient for CLI tests: records every request and answers from a
// queue of canned responses (or a transport failure).
#pragma once

#include <deque>
#include <vector>

#include "cli/http_client.h"

namespace pinhole::cli {

class FakeHttpClient final : public HttpClient {
 public:
  void Reply(int status, std::string body) {
    replies_.push_back(HttpResponse{status, std::move(body)});
  }
  void FailToConnect(std::string why) {
    replies_.push_back(Status(Code::kUnavailable, "unreachable", std::move(why)));
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    requests_.push_back(request);
    if (replies_.empty())
      return HttpResponse{500, R"({"error":{"code":"test","message":"no reply queued"}}")"};
    Result<HttpResponse> next = std::move(replies_.front());
    replies_.pop_front();
    return next;
  }

  const std::vector<HttpRequest>& requests() const { return requests_; }

  // The value of `name` in request `i`, or "" when absent.
  std::string Header(size_t i, const std::string& name) const {
    for (const auto& [k, v] : requests_.at(i).headers) {
      if (k == name) return v;
    }
    return "";
  }

 private:
  std::deque<Result<HttpResponse>> replies_;
  std::vector<HttpRequest> requests_;
};

}  // namespace pinhole::cli
