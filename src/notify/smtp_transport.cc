#include "notify/smtp_transport.h"

#include <algorithm>
#include <cstring>

#include "notify/curl_handle.h"

namespace pinhole {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t n = std::min(size * count, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

Status BadSmtp(std::string what) { return Status::Invalid("invalid_smtp", std::move(what)); }

}  // namespace

Result<std::unique_ptr<SmtpTransport>> SmtpTransport::Create(SmtpOptions options) {
  std::string_view url = options.url;
  std::string_view rest;
  if (url.starts_with("smtp://")) {
    rest = url.substr(7);
  } else if (url.starts_with("smtps://")) {
    rest = url.substr(8);
  } else {
    return BadSmtp("smtp url must start with smtp:// or smtps://");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return BadSmtp("smtp url must not contain spaces or control characters");
    }
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.empty()) return BadSmtp("smtp url has no host");
  if (authority.find('@') != std::string_view::npos) {
    return BadSmtp("smtp url must not contain credentials; set username and password instead");
  }
  if (options.timeout.count() <= 0) return BadSmtp("smtp timeout must be positive");
  Result<Mailbox> from = ParseMailbox(options.from);
  if (!from.ok()) return BadSmtp("smtp from: " + from.status().message());
  curl::EnsureGlobalInit();
  return std::unique_ptr<SmtpTransport>(new SmtpTransport(std::move(options), std::move(*from)));
}

SmtpTransport::SmtpTransport(SmtpOptions options, Mailbox from)
    : options_(std::move(options)), from_(std::move(from)) {}

Status SmtpTransport::Deliver(const OutboxMessage& message, Time now) {
  std::string domain = from_.address.substr(from_.address.rfind('@') + 1);
  EmailMessage email{
      .from = from_,
      .to = message.target,
      .subject = message.subject,
      .text = message.text,
      .html = message.html,
      .date = message.created_at,
      .message_id = "outbox." + std::to_string(message.id) + "." +
                    std::to_string(message.created_at.time_since_epoch().count()) + "@" + domain,
  };
  Result<std::string> built = BuildEmail(email);
  if (!built.ok()) return Status::Invalid("rejected", built.status().message());

  curl::Easy handle(curl_easy_init());
  if (!handle) return Status::Unavailable("curl_easy_init failed");
  CURL* c = handle.get();
  curl::Slist rcpt;
  if (!curl::Append(rcpt, "<" + message.target + ">")) {
    return Status::Unavailable("out of memory building the recipient list");
  }
  std::string mail_from = "<" + from_.address + ">";
  Upload upload{&*built};
  char error[CURL_ERROR_SIZE] = {0};
  long timeout = static_cast<long>(options_.timeout.count());

  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(built->size()));
  curl_easy_setopt(
      c, CURLOPT_USE_SSL,
      options_.starttls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);

  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return Status::Ok();

  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  std::string what = "SMTP " + options_.url + ": " + curl::ErrorText(rc, error, options_.password);
  if (reply >= 400 && what.find(std::to_string(reply)) == std::string::npos) {
    what += " (reply " + std::to_string(reply) + ")";
  }
  if (rc == CURLE_USE_SSL_FAILED) what += " (the server does not offer STARTTLS; smtp.starttls)";
  // 550-554: the mailbox or the message is refused for good; everything else
  // (4xx, authentication, connection, TLS) may get better by itself or by a
  // config fix, so it is retried until the sender gives up.
  if (reply >= 550 && reply <= 554 && rc != CURLE_LOGIN_DENIED) {
    return Status::Invalid("rejected", what);
  }
  return Status::Unavailable(what);
}

}  // namespace pinhole
