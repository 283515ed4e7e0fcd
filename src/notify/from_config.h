// Builds the notification pieces from pinholed's configuration: the
// Notifier's options, the transports by channel, and the outbox sender's
// timing. Kept here so that pinholed's main and tests wire notifications
// the same way.
//
// Pure functions of the Config (transports are created, not connected);
// thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/result.h"
#include "notify/notifier.h"
#include "notify/outbox_sender.h"
#include "notify/transport.h"

namespace pinhole {

// public_url, email_enabled (smtp.url set) and the [[webhooks]] entries.
NotifyOptions NotifyOptionsFromConfig(const Config& config);

// "email" (only when smtp.url is set) and "webhook" (only with webhooks).
// InvalidArgument naming the setting when a transport refuses its options.
Result<std::map<std::string, std::unique_ptr<Transport>>> TransportsFromConfig(
    const Config& config);

// retry_base, retry_max and give_up_after from [notify].
OutboxSenderOptions SenderOptionsFromConfig(const Config& config);

}  // namespace pinhole
