// Transport: delivers one outbox message over one channel (SMTP, webhook).
// The outbox sender picks the transport by OutboxMessage::channel.
//
// Implementations must be safe to call from the sender's thread while other
// threads construct or destroy unrelated transports; a single transport is
// only called by one thread at a time.
#pragma once

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"

namespace pinhole {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends `message` (its id identifies the delivery to the receiver). `now`
  // is the sender's clock, e.g. for a signature timestamp.
  // OK: delivered (the receiver accepted it).
  // Unavailable: not delivered this time; the sender tries again later.
  // Any other code: the message cannot be delivered as it is (a rejected
  // address, a webhook that refuses the request, a target no longer
  // configured); the sender marks it failed at once.
  // Error messages never contain a configured password or webhook secret.
  virtual Status Deliver(const OutboxMessage& message, Time now) = 0;
};

}  // namespace pinhole
