#include "notify/mime.h"

#include <openssl/evp.h>

#include <chrono>
#include <cstdio>

namespace pinhole {
namespace {

// Quoted-printable output never contains "=_" ('=' is followed by two hex
// digits or a line break), so a boundary that starts with it cannot occur in
// a part and needs no randomness.
constexpr std::string_view kBoundary = "=_pinhole_alternative";
// Encoded words are at most 75 characters: "=?UTF-8?B?" + 60 base64 + "?=".
constexpr size_t kWordBytes = 45;
// ASCII header text longer than this is encoded so that it can be folded.
constexpr size_t kMaxPlainHeader = 900;
constexpr size_t kMaxAddress = 254;
constexpr size_t kQpLine = 75;  // characters before a soft break's '='

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status BadAddress(std::string_view text, std::string_view why) {
  std::string shown;
  for (char c : text.substr(0, 100)) shown += IsControl(c) ? '?' : c;
  return Status::Invalid("invalid_address",
                         "invalid email address \"" + shown + "\": " + std::string(why));
}

// Printable ASCII without the characters that delimit addresses in headers
// and SMTP commands. Stricter than RFC 5321 (no quoted local parts), which
// no real mailbox needs.
Status CheckAddress(std::string_view text, std::string_view a) {
  if (a.empty()) return BadAddress(text, "empty");
  if (a.size() > kMaxAddress) return BadAddress(text, "longer than 254 characters");
  for (char c : a) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f ||
        std::string_view("<>()[],;:\\\"").find(c) != std::string_view::npos) {
      return BadAddress(text, "contains a character not allowed in an address");
    }
  }
  size_t at = a.rfind('@');
  if (at == std::string_view::npos) return BadAddress(text, "missing '@'");
  if (at == 0 || at + 1 == a.size()) return BadAddress(text, "needs text on both sides of '@'");
  return Status::Ok();
}

bool IsAtextOrSpace(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

void AppendHex(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '=';
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// One logical line of quoted-printable, soft-broken to fit.
void QpLine(std::string_view line, std::string& out) {
  size_t col = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    bool last = i + 1 == line.size();
    std::string token;
    if (c == '.' && col == 0) {
      AppendHex(token, c);
    } else if ((c == ' ' || c == '\t') && !last) {
      token = static_cast<char>(c);
    } else if (c >= 33 && c <= 126 && c != '=') {
      token = static_cast<char>(c);
    } else {
      AppendHex(token, c);
    }
    if (col + token.size() > kQpLine) {
      out += "=\r\n";
      col = 0;
      if (c == '.') token = "=2E";  // now at the start of a physical line
    }
    out += token;
    col += token.size();
  }
}

}  // namespace

Result<Mailbox> ParseMailbox(std::string_view text) {
  for (char c : text) {
    if (IsControl(static_cast<unsigned char>(c))) {
      return BadAddress(text, "contains a control character");
    }
  }
  std::string_view t = Trim(text);
  Mailbox m;
  size_t open = t.find('<');
  if (open == std::string_view::npos) {
    RETURN_IF_ERROR(CheckAddress(text, t));
    m.address = std::string(t);
    return m;
  }
  if (!t.ends_with('>') || t.find('<', open + 1) != std::string_view::npos) {
    return BadAddress(text, "expected \"Name <address>\"");
  }
  std::string_view address = t.substr(open + 1, t.size() - open - 2);
  RETURN_IF_ERROR(CheckAddress(text, address));
  std::string_view name = Trim(t.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    std::string unquoted;
    for (size_t i = 1; i + 1 < name.size(); ++i) {
      if (name[i] == '\\' && i + 2 < name.size())
        ++i;
      else if (name[i] == '"')
        return BadAddress(text, "unbalanced quotes in the name");
      unquoted += name[i];
    }
    m.display_name = std::move(unquoted);
  } else {
    if (name.find_first_of("\"<>") != std::string_view::npos) {
      return BadAddress(text, "quote a name that contains '\"', '<' or '>'");
    }
    m.display_name = std::string(name);
  }
  m.address = std::string(address);
  return m;
}

std::string FormatMailbox(const Mailbox& m) {
  if (m.display_name.empty()) return m.address;
  bool ascii = true;
  bool atext = true;
  for (char c : m.display_name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) ascii = false;
    if (!IsAtextOrSpace(c)) atext = false;
  }
  std::string name;
  if (!ascii || m.display_name.find("=?") != std::string::npos) {
    name = EncodeHeaderText(m.display_name);
  } else if (atext) {
    name = m.display_name;
  } else {
    name = "\"";
    for (char c : m.display_name) {
      if (c == '"' || c == '\\') name += '\\';
      name += c;
    }
    name += '"';
  }
  return name + " <" + m.address + ">";
}

std::string EncodeHeaderText(std::string_view raw) {
  std::string text;
  bool plain = raw.size() <= kMaxPlainHeader && raw.find("=?") == std::string_view::npos;
  for (char c : raw) {
    unsigned char u = static_cast<unsigned char>(c);
    text += IsControl(u) ? ' ' : c;  // a header value is one line
    if (u >= 0x80) plain = false;
  }
  if (plain) return text;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t n = std::min(kWordBytes, text.size() - i);
    // Never split a UTF-8 sequence across two words (RFC 2047 section 5).
    while (n > 0 && i + n < text.size() &&
           (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) {
      --n;
    }
    if (n == 0) n = std::min(kWordBytes, text.size() - i);  // not UTF-8; split anyway
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64(std::string_view(text).substr(i, n)) + "?=";
    i += n;
  }
  return out;
}

std::string QuotedPrintable(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) end = text.size();
    QpLine(text.substr(start, end - start), out);
    if (end == text.size()) break;
    out += "\r\n";
    start = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
    if (start == text.size()) break;
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

std::string FormatRfc5322Date(Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<Millis> hms{t - day};
  char buf[64];
  int n = std::snprintf(
      buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", kShortDays[weekday(day).c_encoding()],
      static_cast<unsigned>(ymd.day()), kShortMonths[static_cast<unsigned>(ymd.month()) - 1],
      static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf, n);
}

Result<std::string> BuildEmail(const EmailMessage& m) {
  ASSIGN_OR_RETURN(Mailbox to, ParseMailbox(m.to));
  if (!to.display_name.empty() || to.address != m.to) {
    return BadAddress(m.to, "expected a bare address");
  }
  RETURN_IF_ERROR(CheckAddress(FormatMailbox(m.from), m.from.address));
  if (m.message_id.empty() || m.message_id.size() > 200 ||
      m.message_id.find('@') == std::string::npos) {
    return Status::Invalid("invalid_message_id", "invalid Message-ID \"" + m.message_id + "\"");
  }
  for (char c : m.message_id) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>') {
      return Status::Invalid("invalid_message_id", "invalid Message-ID \"" + m.message_id + "\"");
    }
  }

  std::string out;
  out += "Date: " + FormatRfc5322Date(m.date) + "\r\n";
  out += "From: " + FormatMailbox(m.from) + "\r\n";
  out += "To: " + to.address + "\r\n";
  out += "Subject: " + EncodeHeaderText(m.subject) + "\r\n";
  out += "Message-ID: <" + m.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  // RFC 3834: tells auto-responders not to answer.
  out += "Auto-Submitted: auto-generated\r\n";
  auto part_headers = [](std::string_view type) {
    return "Content-Type: " + std::string(type) +
           "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
  };
  if (m.html.empty()) {
    out += part_headers("text/plain") + "\r\n";
    out += QuotedPrintable(m.text);
    return out;
  }
  out += "Content-Type: multipart/alternative; boundary=\"" + std::string(kBoundary) + "\"\r\n";
  out += "\r\n";
  out += "--" + std::string(kBoundary) + "\r\n";
  out += part_headers("text/plain") + "\r\n";
  out += QuotedPrintable(m.text);
  out += "--" + std::string(kBoundary) + "\r\n";
  out += part_headers("text/html") + "\r\n";
  out += QuotedPrintable(m.html);
  out += "--" + std::string(kBoundary) + "--\r\n";
  return out;
}

}  // namespace pinhole
