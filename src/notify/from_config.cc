#include "notify/from_config.h"

#include "notify/smtp_transport.h"
#include "notify/webhook_transport.h"

namespace pinhole {

NotifyOptions NotifyOptionsFromConfig(const Config& config) {
  NotifyOptions o;
  o.public_url = config.public_url;
  o.email_enabled = config.email_enabled();
  for (const auto& w : config.webhooks) o.webhooks.push_back({w.name, w.url, w.secret, w.events});
  return o;
}

Result<std::map<std::string, std::unique_ptr<Transport>>> TransportsFromConfig(
    const Config& config) {
  std::map<std::string, std::unique_ptr<Transport>> out;
  if (config.email_enabled()) {
    auto smtp = SmtpTransport::Create({.url = config.smtp_url,
                                       .from = config.smtp_from,
                                       .username = config.smtp_username,
                                       .password = config.smtp_password,
                                       .starttls = config.smtp_starttls,
                                       .timeout = config.smtp_timeout});
    if (!smtp.ok()) return Status::Invalid("invalid_config", smtp.status().message());
    out["email"] = std::move(*smtp);
  }
  if (!config.webhooks.empty()) {
    auto hooks = WebhookTransport::Create(
        {.targets = NotifyOptionsFromConfig(config).webhooks, .timeout = config.webhook_timeout});
    if (!hooks.ok()) return Status::Invalid("invalid_config", hooks.status().message());
    out["webhook"] = std::move(*hooks);
  }
  return out;
}

OutboxSenderOptions SenderOptionsFromConfig(const Config& config) {
  OutboxSenderOptions o;
  o.retry_base = config.notify_retry_base;
  o.retry_max = config.notify_retry_max;
  o.give_up_after = config.notify_give_up_after;
  return o;
}

}  // namespace pinhole
