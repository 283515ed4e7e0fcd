// Internet Message Format (RFC 5322) and MIME (RFC 2045-2047) for the emails
// Pinhole sends: a multipart/alternative message with a plain-text and an
// HTML part, both UTF-8 in quoted-printable, and RFC 2047 encoded words for
// non-ASCII header text.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

// English day and month abbreviations, as RFC 5322 dates and readable
// email text use them (Sunday first; January first).
inline constexpr const char* kShortDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
inline constexpr const char* kShortMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// A mailbox as written in the config: "Pinhole <pinhole@example.com>" or a
// bare "pinhole@example.com".
struct Mailbox {
  std::string display_name;  // "" when absent
  std::string address;       // local@domain
};
// InvalidArgument (reason "invalid_address") for anything else, including
// control characters, a missing '@', or characters that would break a header
// or an SMTP command (<, >, comma, quotes, spaces inside the address).
Result<Mailbox> ParseMailbox(std::string_view text);

// The "From:"/"To:" form: `address`, or `"Display" <address>` with the name
// quoted or RFC 2047 encoded as needed.
std::string FormatMailbox(const Mailbox& m);

// Header text: returned as is when printable ASCII, else as RFC 2047
// encoded words ("=?UTF-8?B?...?=") of at most 75 characters each, split on
// UTF-8 character boundaries and folded with CRLF SP.
std::string EncodeHeaderText(std::string_view text);

// Quoted-printable (RFC 2045 6.7) of UTF-8 text: line breaks (LF, CRLF or CR)
// become CRLF, lines are soft-broken before 76 characters, and a '.' at the
// start of a line is encoded so that no line can end the SMTP DATA phase.
std::string QuotedPrintable(std::string_view text);

// RFC 5322 date, e.g. "Sat, 21 Nov 2026 09:30:00 +0000".
std::string FormatRfc5322Date(Time t);

struct EmailMessage {
  Mailbox from;
  std::string to;  // a bare address
  std::string subject;
  std::string text;
  std::string html;  // "" = text only
  Time date{};
  std::string message_id;  // without the angle brackets, e.g. "42.abcd@example.com"
};

// The whole message with CRLF line endings, ready for SMTP DATA.
// InvalidArgument when `to` is not a bare address or the message id is
// malformed; header text is encoded, never trusted to be one line.
Result<std::string> BuildEmail(const EmailMessage& m);

}  // namespace pinhole
