// WebhookTransport: delivers "webhook" outbox messages as an HTTP(S) POST of
// the message's JSON body to the webhook named by the message's target.
//
// Each request carries:
//   Content-Type: application/json
//   X-Pinhole-Event: <event>
//   X-Pinhole-Delivery: <outbox message id>   (the same on every retry)
//   X-Pinhole-Timestamp: <unix seconds at sending>
//   X-Pinhole-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
// (no signature header when the webhook has no secret). A receiver checks
// the signature over the raw body and rejects old timestamps to stop replays.
//
// Outcome: 2xx is delivered. 408, 425, 429 and 5xx, timeouts and connection
// errors are retried. Any other status (3xx: redirects are not followed;
// 4xx: the receiver refuses this request) fails the message at once, since
// sending the same bytes again cannot succeed.
//
// Deliver() blocks for at most `timeout`. Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "notify/notifier.h"
#include "notify/transport.h"

namespace pinhole {

struct WebhookOptions {
  std::vector<WebhookTarget> targets;
  Seconds timeout{10};
};

class WebhookTransport final : public Transport {
 public:
  // InvalidArgument (reason "invalid_webhook") for a duplicate or empty
  // name, or a URL that is not http:// or https://.
  static Result<std::unique_ptr<WebhookTransport>> Create(WebhookOptions options);

  // A target no longer configured fails the message (NotFound).
  Status Deliver(const OutboxMessage& message, Time now) override;

 private:
  explicit WebhookTransport(WebhookOptions options);

  WebhookOptions options_;
};

// "sha256=" + lower-case hex HMAC-SHA256 of `timestamp + "." + body` keyed
// with `secret`.
std::string WebhookSignature(std::string_view secret, int64_t unix_seconds, std::string_view body);

}  // namespace pinhole
