#include "notify/mime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace pinhole {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Decodes quoted-printable, for checking that encoding round-trips.
std::string DecodeQp(std::string_view qp) {
  std::string out;
  for (size_t i = 0; i < qp.size(); ++i) {
    if (qp[i] != '=') {
      out += qp[i];
    } else if (qp.compare(i, 3, "=\r\n") == 0) {
      i += 2;
    } else {
      out += static_cast<char>(std::stoi(std::string(qp.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

void ExpectCrlfOnly(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      ASSERT_GT(i, 0u);
      EXPECT_EQ(s[i - 1], '\r') << "bare LF at " << i;
    }
    if (s[i] == '\r') {
      ASSERT_LT(i + 1, s.size());
      EXPECT_EQ(s[i + 1], '\n') << "bare CR at " << i;
    }
  }
}

size_t LongestLine(std::string_view s) {
  size_t longest = 0;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find("\r\n", start);
    if (end == std::string_view::npos) end = s.size();
    longest = std::max(longest, end - start);
    start = end + 2;
  }
  return longest;
}

TEST(MailboxTest, ParsesTheUsualForms) {
  Result<Mailbox> m = ParseMailbox("Pinhole <pinhole@example.com>");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->display_name, "Pinhole");
  EXPECT_EQ(m->address, "pinhole@example.com");

  m = ParseMailbox("  pinhole@localhost ");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->display_name, "");
  EXPECT_EQ(m->address, "pinhole@localhost");

  m = ParseMailbox("\"Ops, \\\"Pinhole\\\"\" <ops+pinhole@example.com>");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->display_name, "Ops, \"Pinhole\"");
  EXPECT_EQ(FormatMailbox(*m), "\"Ops, \\\"Pinhole\\\"\" <ops+pinhole@example.com>");

  EXPECT_EQ(FormatMailbox({"Pinhole Gateway", "a@b.example"}), "Pinhole Gateway <a@b.example>");
  EXPECT_EQ(FormatMailbox({"", "a@b.example"}), "a@b.example");
  EXPECT_EQ(FormatMailbox({"Zugang Müller", "a@b.example"}),
            "=?UTF-8?B?WnVnYW5nIE3DvGxsZXI=?= <a@b.example>");
}

TEST(MailboxTest, RejectsWhatWouldBreakAHeaderOrACommand) {
  for (const char* bad :
       {"", "pinhole", "@example.com", "pinhole@", "a b@example.com", "a@b\r\nBcc: c@d", "a@b>",
        "<a@b", "Name <a@b", "Name <a@b> x", "a,b@example.com", "Na\"me <a@b>", "a@b\x01",
        "<a<b@c>", "\"unbalanced\"\" <a@b>", "müller@example.com"}) {
    Result<Mailbox> m = ParseMailbox(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.status().reason(), "invalid_address") << bad;
      EXPECT_EQ(m.status().message().find_first_of("\r\n"), std::string::npos);
    }
  }
}

TEST(HeaderTest, AsciiStaysEncodedWordsOtherwise) {
  EXPECT_EQ(EncodeHeaderText("Approval needed: a@b asks for ssh"),
            "Approval needed: a@b asks for ssh");
  EXPECT_EQ(EncodeHeaderText("Zugriff für ssh"), "=?UTF-8?B?WnVncmlmZiBmw7xyIHNzaA==?=");
  // Text that looks like an encoded word is encoded so that it reads literally.
  EXPECT_EQ(EncodeHeaderText("=?x?="), "=?UTF-8?B?PT94Pz0=?=");
  // Control characters never reach the header.
  EXPECT_EQ(EncodeHeaderText("a\r\nBcc: x"), "a  Bcc: x");

  // Long non-ASCII text: several words, none longer than 75 characters, no
  // UTF-8 sequence split (each word decodes to valid UTF-8 on its own).
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "é€";
  std::string encoded = EncodeHeaderText(long_text);
  ExpectCrlfOnly(encoded);
  size_t words = 0;
  size_t start = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    if (end == std::string::npos) end = encoded.size();
    std::string word = encoded.substr(start, end - start);
    EXPECT_LE(word.size(), 75u);
    EXPECT_TRUE(word.starts_with("=?UTF-8?B?") && word.ends_with("?=")) << word;
    ++words;
    start = end + 3;
  }
  EXPECT_GE(words, 3u);
}

TEST(QuotedPrintableTest, EncodesAndRoundTrips) {
  EXPECT_EQ(QuotedPrintable("Hello"), "Hello\r\n");
  EXPECT_EQ(QuotedPrintable("a=b"), "a=3Db\r\n");
  EXPECT_EQ(QuotedPrintable("für"), "f=C3=BCr\r\n");
  EXPECT_EQ(QuotedPrintable("line\nnext\r\nthird\rfourth\n"),
            "line\r\nnext\r\nthird\r\nfourth\r\n");
  EXPECT_EQ(QuotedPrintable("trailing space \ntab\t"), "trailing space=20\r\ntab=09\r\n");
  EXPECT_EQ(QuotedPrintable(""), "\r\n");
  // A lone "." would end SMTP DATA; a line starting with '.' loses a dot
  // without dot-stuffing. Encoded, neither can happen.
  EXPECT_EQ(QuotedPrintable(".\n.hidden\na.b"), "=2E\r\n=2Ehidden\r\na.b\r\n");

  std::string text = "Ünïcödé, = signs, tabs\t and a long line: " + std::string(300, 'x') + "\n" +
                     std::string(74, 'y') + ".z\n" + std::string(75, 'w') + ".\n.";
  std::string qp = QuotedPrintable(text);
  ExpectCrlfOnly(qp);
  EXPECT_LE(LongestLine(qp), 76u);
  // No physical line starts with '.', including after soft breaks.
  EXPECT_THAT(qp, Not(HasSubstr("\r\n.")));
  EXPECT_FALSE(qp.starts_with("."));
  std::string expected = text;
  size_t at = 0;
  while ((at = expected.find('\n', at)) != std::string::npos) {
    expected.replace(at, 1, "\r\n");
    at += 2;
  }
  EXPECT_EQ(DecodeQp(qp), expected + "\r\n");
}

TEST(DateTest, Rfc5322) {
  EXPECT_EQ(FormatRfc5322Date(Time(Millis(1'795'253'400'123))), "Sat, 21 Nov 2026 09:30:00 +0000");
  EXPECT_EQ(FormatRfc5322Date(Time(Millis(0))), "Thu, 01 Jan 1970 00:00:00 +0000");
}

EmailMessage Sample() {
  return EmailMessage{
      .from = {"Pinhole", "pinhole@example.com"},
      .to = "alice@example.com",
      .subject = "Zugriff für ssh",
      .text = "Hello Alice,\nyour access is open.\n.\n",
      .html = "<p>Hello <b>Alice</b></p>\n",
      .date = Time(Millis(1'795'253'400'000)),
      .message_id = "outbox.1.1795253400000@example.com",
  };
}

TEST(BuildEmailTest, MultipartAlternative) {
  Result<std::string> built = BuildEmail(Sample());
  ASSERT_TRUE(built.ok()) << built.status().ToString();
  const std::string& m = *built;
  ExpectCrlfOnly(m);
  EXPECT_LE(LongestLine(m), 998u);
  size_t header_end = m.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  std::string headers = m.substr(0, header_end + 2);
  EXPECT_THAT(headers, HasSubstr("Date: Sat, 21 Nov 2026 09:30:00 +0000\r\n"));
  EXPECT_THAT(headers, HasSubstr("From: Pinhole <pinhole@example.com>\r\n"));
  EXPECT_THAT(headers, HasSubstr("To: alice@example.com\r\n"));
  EXPECT_THAT(headers, HasSubstr("Subject: =?UTF-8?B?WnVncmlmZiBmw7xyIHNzaA==?=\r\n"));
  EXPECT_THAT(headers, HasSubstr("Message-ID: <outbox.1.1795253400000@example.com>\r\n"));
  EXPECT_THAT(headers, HasSubstr("MIME-Version: 1.0\r\n"));
  EXPECT_THAT(headers, HasSubstr("Auto-Submitted: auto-generated\r\n"));
  EXPECT_THAT(headers, HasSubstr("Content-Type: multipart/alternative; boundary=\""));

  std::string boundary = "=_pinhole_alternative";
  size_t text_at = m.find("--" + boundary +
                          "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                          "Hello Alice,\r\nyour access is open.\r\n=2E\r\n");
  size_t html_at = m.find("--" + boundary + "\r\nContent-Type: text/html; charset=utf-8\r\n");
  size_t end_at = m.find("--" + boundary + "--\r\n");
  EXPECT_NE(text_at, std::string::npos) << m;
  EXPECT_NE(html_at, std::string::npos);
  EXPECT_NE(end_at, std::string::npos);
  EXPECT_LT(text_at, html_at);
  EXPECT_LT(html_at, end_at);
  EXPECT_TRUE(m.ends_with("--" + boundary + "--\r\n"));
  EXPECT_THAT(m, HasSubstr("<p>Hello <b>Alice</b></p>\r\n"));
}

TEST(BuildEmailTest, TextOnlyWhenNoHtml) {
  EmailMessage e = Sample();
  e.html.clear();
  Result<std::string> built = BuildEmail(e);
  ASSERT_TRUE(built.ok());
  EXPECT_THAT(*built, HasSubstr("Content-Type: text/plain; charset=utf-8\r\n"));
  EXPECT_THAT(*built, Not(HasSubstr("multipart")));
}

TEST(BuildEmailTest, BadInputIsAClearError) {
  for (const char* to : {"", "alice", "Alice <alice@example.com>", "a@b\r\nBcc: c@d", "a@b, c@d"}) {
    EmailMessage e = Sample();
    e.to = to;
    Result<std::string> built = BuildEmail(e);
    EXPECT_FALSE(built.ok()) << to;
    if (!built.ok()) {
      EXPECT_EQ(built.status().reason(), "invalid_address");
    }
  }
  for (const char* id : {"", "no-at-sign", "a@b>\r\nBcc: x", "a b@c"}) {
    EmailMessage e = Sample();
    e.message_id = id;
    Result<std::string> built = BuildEmail(e);
    EXPECT_FALSE(built.ok()) << id;
    if (!built.ok()) {
      EXPECT_EQ(built.status().reason(), "invalid_message_id");
    }
  }
  // A subject with a line break stays one header line.
  EmailMessage e = Sample();
  e.subject = "hi\r\nBcc: victim@example.com";
  Result<std::string> built = BuildEmail(e);
  ASSERT_TRUE(built.ok());
  EXPECT_THAT(*built, Not(HasSubstr("\r\nBcc:")));
}

}  // namespace
}  // namespace pinhole
