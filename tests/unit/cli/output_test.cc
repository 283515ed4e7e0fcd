#include "cli/output.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace pinhole::cli {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(TableTest, AlignsColumnsWithoutTrailingBlanks) {
  Table t({"ID", "STATE", "OWNER"});
  t.AddRow({"7", "active", "alice@example.com"});
  t.AddRow({"1234", "pending_approval", "b"});
  EXPECT_EQ(t.Render(),
            "ID    STATE             OWNER\n"
            "7     active            alice@example.com\n"
            "1234  pending_approval  b\n");
  EXPECT_EQ(t.rows(), 2u);
}

TEST(TableTest, EmptyTableIsJustTheHeader) { EXPECT_EQ(Table({"A", "B"}).Render(), "A  B\n"); }

TEST(TableTest, PadsShortRowsAndCutsLongOnes) {
  Table t({"A", "B"});
  t.AddRow({"x"});
  t.AddRow({"1", "2", "3"});
  EXPECT_EQ(t.Render(), "A  B\nx\n1  2\n");
}

TEST(TableTest, EmptyLastCellLeavesNoTrailingSpace) {
  Table t({"NAME", "DESCRIPTION"});
  t.AddRow({"ssh", ""});
  EXPECT_EQ(t.Render(), "NAME  DESCRIPTION\nssh\n");
}

TEST(TableTest, CountsUtf8CodePointsNotBytes) {
  Table t({"N", "X"});
  t.AddRow({"\xC3\xA9t\xC3\xA9", "1"});  // "été": 3 code points, 5 bytes
  t.AddRow({"abc", "2"});
  EXPECT_EQ(t.Render(), "N    X\n\xC3\xA9t\xC3\xA9  1\nabc  2\n");
}

TEST(TableTest, EmphasizedHeaderIsBold) {
  Table t({"A"});
  t.AddRow({"x"});
  EXPECT_EQ(t.Render(true), "\033[1mA\033[0m\nx\n");
}

TEST(TableTest, StripsTerminalControlsFromCells) {
  Table t({"NAME"});
  t.AddRow({"evil\033[2Jname\n"});
  EXPECT_EQ(t.Render(), "NAME\nevil[2Jname\n");
}

TEST(PrintableTest, DropsC0AndC1ControlsButKeepsText) {
  EXPECT_EQ(Printable("a\tb"), "a\tb");
  EXPECT_EQ(Printable("a\x07"
                      "b\x7F"
                      "c"),
            "abc");
  EXPECT_EQ(Printable("x\xC2\x9B"
                      "31m"),
            "x31m");                                   // U+009B (CSI)
  EXPECT_EQ(Printable("caf\xC3\xA9"), "caf\xC3\xA9");  // ordinary UTF-8 stays
  EXPECT_EQ(Printable("\xC2\xA0"), "\xC2\xA0");        // U+00A0 is not a control
}

TEST(RenderFieldsTest, AlignsValuesAndShowsDashForEmpty) {
  EXPECT_EQ(RenderFields({{"id", "42"}, {"services", "ssh, db"}, {"reason", ""}}),
            "id:        42\n"
            "services:  ssh, db\n"
            "reason:    -\n");
}

class RelativeTest : public ::testing::Test {
 protected:
  Time now_ = Time(std::chrono::milliseconds(1'795'000'000'000));
  std::string Rel(std::chrono::milliseconds d) { return FormatRelative(now_, now_ + d); }
};

TEST_F(RelativeTest, Future) {
  EXPECT_EQ(Rel(seconds(45)), "in 45s");
  EXPECT_EQ(Rel(minutes(12)), "in 12m");
  EXPECT_EQ(Rel(hours(2)), "in 2h");
  EXPECT_EQ(Rel(hours(1) + minutes(30)), "in 1h30m");
  EXPECT_EQ(Rel(hours(76)), "in 3d4h");
  EXPECT_EQ(Rel(hours(48)), "in 2d");
}

TEST_F(RelativeTest, Past) {
  EXPECT_EQ(Rel(-minutes(5)), "5m ago");
  EXPECT_EQ(Rel(-seconds(1)), "1s ago");
  EXPECT_EQ(Rel(-hours(25)), "1d1h ago");
}

TEST_F(RelativeTest, WithinASecondIsNow) {
  EXPECT_EQ(Rel(std::chrono::milliseconds(0)), "now");
  EXPECT_EQ(Rel(std::chrono::milliseconds(999)), "now");
  EXPECT_EQ(Rel(std::chrono::milliseconds(-999)), "now");
}

TEST_F(RelativeTest, RoundsToTheUnitShown) {
  // A 2h lease seen a few seconds after the server made it.
  EXPECT_EQ(Rel(hours(2) - seconds(3)), "in 2h");
  EXPECT_EQ(Rel(minutes(59) + seconds(45)), "in 1h");
  EXPECT_EQ(Rel(minutes(90) - seconds(20)), "in 1h30m");
  EXPECT_EQ(Rel(minutes(89)), "in 1h29m");
  EXPECT_EQ(Rel(hours(23) + minutes(50)), "in 1d");
  EXPECT_EQ(Rel(seconds(59)), "in 59s");
  EXPECT_EQ(Rel(seconds(61)), "in 1m");
}

class TzGuard {
 public:
  explicit TzGuard(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    setenv("TZ", tz, 1);
    tzset();
  }
  ~TzGuard() {
    if (old_) {
      setenv("TZ", old_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

 private:
  std::optional<std::string> old_;
};

TEST(LocalTimeTest, UsesTheLocalZone) {
  Time t = *ParseTime("2026-11-21T09:30:00Z");
  {
    TzGuard tz("UTC");
    EXPECT_EQ(FormatLocalTime(t), "2026-11-21 09:30:00 UTC");
  }
  {
    TzGuard tz("CET-1");
    EXPECT_EQ(FormatLocalTime(t), "2026-11-21 10:30:00 CET");
  }
}

TEST(CellTextTest, RendersJsonValues) {
  using nlohmann::json;
  EXPECT_EQ(CellText(json("ssh")), "ssh");
  EXPECT_EQ(CellText(json::array({"a", "b"})), "a, b");
  EXPECT_EQ(CellText(json::array()), "");
  EXPECT_EQ(CellText(json(nullptr)), "");
  EXPECT_EQ(CellText(json(true)), "yes");
  EXPECT_EQ(CellText(json(false)), "no");
  EXPECT_EQ(CellText(json(42)), "42");
  EXPECT_EQ(CellText(json{{"ipv4", 24}}), "{\"ipv4\":24}");
}

TEST(FieldTextTest, HandlesMissingFieldsAndNonObjects) {
  nlohmann::json lease = {{"id", 7}, {"services", {"ssh"}}};
  EXPECT_EQ(FieldText(lease, "id"), "7");
  EXPECT_EQ(FieldText(lease, "owner"), "");
  EXPECT_EQ(FieldText(nlohmann::json::array(), "id"), "");
  EXPECT_EQ(FieldText(nlohmann::json("x"), "id"), "");
}

TEST(TimeFieldTextTest, LocalPlusRelativeOrRawWhenUnparseable) {
  TzGuard tz("UTC");
  Time now = *ParseTime("2026-11-21T07:30:00Z");
  nlohmann::json lease = {
      {"expires_at", "2026-11-21T09:30:00Z"}, {"ended_at", nullptr}, {"odd", "tomorrow-ish"}};
  EXPECT_EQ(TimeFieldText(lease, "expires_at", now), "2026-11-21 09:30:00 UTC (in 2h)");
  EXPECT_EQ(RelativeFieldText(lease, "expires_at", now), "in 2h");
  EXPECT_EQ(TimeFieldText(lease, "ended_at", now), "");
  EXPECT_EQ(TimeFieldText(lease, "missing", now), "");
  EXPECT_EQ(TimeFieldText(lease, "odd", now), "tomorrow-ish");
  EXPECT_EQ(RelativeFieldText(lease, "odd", now), "tomorrow-ish");
}

TEST(LeaseSummaryTest, ActiveLease) {
  TzGuard tz("UTC");
  Time now = *ParseTime("2026-11-21T09:30:00Z");
  nlohmann::json lease = {{"id", 7},
                          {"state", "active"},
                          {"source_cidr", "203.0.113.7/32"},
                          {"services", {"ssh", "db"}},
                          {"expires_at", "2026-11-21T11:30:00Z"},
                          {"ended_at", nullptr}};
  EXPECT_EQ(RenderLeaseSummary(lease, "was renewed and ", now),
            "Lease 7 was renewed and is active.\n"
            "  source:    203.0.113.7/32\n"
            "  services:  ssh, db\n"
            "  expires:   2026-11-21 11:30:00 UTC (in 2h)\n");
}

TEST(LeaseSummaryTest, InvitationShowsTheLinkAndWhetherItWasEmailed) {
  TzGuard tz("UTC");
  Time now = *ParseTime("2026-11-21T09:30:00Z");
  nlohmann::json lease = {
      {"id", 8},
      {"state", "invited"},
      {"source_cidr", nullptr},
      {"services", {"ssh"}},
      {"recipient", {{"kind", "invite"}, {"email", "guest@example.com"}}},
      {"expires_at", "2026-11-28T09:30:00Z"},
      {"invitation",
       {{"url", "https://p.example.com/invite/abc"}, {"expires_at", "2026-11-28T09:30:00Z"},
        {"emailed", false}}}};
  std::string out = RenderLeaseSummary(lease, "", now);
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "Lease 8 is waiting for guest@example.com to accept the invitation.");
  EXPECT_NE(out.find("link expires:  2026-11-28 09:30:00 UTC (in 7d)"), std::string::npos) << out;
  EXPECT_NE(out.find("link:          https://p.example.com/invite/abc\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("emailed:       no: pass the link on yourself"), std::string::npos) << out;
  lease["invitation"]["emailed"] = true;
  EXPECT_NE(RenderLeaseSummary(lease, "", now).find("emailed:       yes"), std::string::npos);
}

TEST(LeaseSummaryTest, WaitingStatesNameTheirDeadline) {
  TzGuard tz("UTC");
  Time now = *ParseTime("2026-11-21T09:30:00Z");
  nlohmann::json lease = {{"id", 9},
                          {"state", "pending_approval"},
                          {"source_cidr", "203.0.113.7/32"},
                          {"services", {"ssh"}},
                          {"expires_at", "2026-11-22T09:30:00Z"}};
  std::string out = RenderLeaseSummary(lease, "", now);
  EXPECT_NE(out.find("Lease 9 is waiting for an admin's approval."), std::string::npos) << out;
  EXPECT_NE(out.find("decide by:"), std::string::npos) << out;
  lease["state"] = "approved";
  out = RenderLeaseSummary(lease, "was approved and ", now);
  EXPECT_NE(out.find("Lease 9 was approved and waits for the owner's next sign-in, where it opens "
                     "for that address."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("sign in by:"), std::string::npos) << out;
  lease["state"] = "denied";
  EXPECT_EQ(RenderLeaseSummary(lease, "", now).rfind("Lease 9 was denied.\n", 0), 0u);
}

TEST(LeaseSummaryTest, RuleProblemsAreListedAndSanitized) {
  nlohmann::json lease = {
      {"rules",
       {{{"service", "ssh"}, {"backend", "nftables"}, {"status", "applied"}},
        {{"service", "db\x1b[2J"}, {"backend", "nftables"}, {"status", "error"}, {"error", "full"}}}}};
  EXPECT_EQ(RuleProblems(lease), std::vector<std::string>{"db[2J (nftables): full"});
  EXPECT_TRUE(RuleProblems(nlohmann::json::array()).empty());
}

}  // namespace
}  // namespace pinhole::cli
