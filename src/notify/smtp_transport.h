// SmtpTransport: delivers "email" outbox messages through an SMTP server
// with libcurl (smtp:// with optional or required STARTTLS, or smtps://),
// optionally authenticating. One connection per message: notifications are
// rare, and a fresh connection never inherits a broken one's state.
//
// Deliver() blocks for at most `timeout`. Thread-compatible: the outbox
// sender calls it from one thread.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "notify/mime.h"
#include "notify/transport.h"

namespace pinhole {

struct SmtpOptions {
  std::string url;  // "smtp://mail.example.com:587" or "smtps://mail.example.com"
  std::string from = "Pinhole <pinhole@localhost>";
  std::string username;  // "" = no AUTH
  std::string password;
  // smtp:// only: true refuses to send unless the server accepts STARTTLS;
  // false never starts TLS. smtps:// is always TLS.
  bool starttls = true;
  Seconds timeout{30};
};

class SmtpTransport final : public Transport {
 public:
  // InvalidArgument (reason "invalid_smtp") when the URL is not smtp:// or
  // smtps:// with a host, carries credentials, or `from` is not a mailbox.
  static Result<std::unique_ptr<SmtpTransport>> Create(SmtpOptions options);

  // Sends message.subject/text/html to message.target. The Date header is
  // the message's created_at and the Message-ID is derived from its id and
  // created_at, so a resent message (at-least-once delivery) can be
  // recognised as the same one by mail clients.
  // Unavailable when the server is unreachable, times out, refuses TLS or
  // AUTH, or answers with a temporary or unexpected error; InvalidArgument
  // (reason "rejected") when it rejects the recipient or the message with a
  // 550-554 reply, or the target is not an address. The error names the
  // server and its reply code, never the password.
  Status Deliver(const OutboxMessage& message, Time now) override;

 private:
  SmtpTransport(SmtpOptions options, Mailbox from);

  SmtpOptions options_;
  Mailbox from_;
};

}  // namespace pinhole
