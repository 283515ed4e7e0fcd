// How the CLI shows things to people: aligned tables, "key: value" blocks,
// relative and local times. Everything here is pure (no I/O) so it can be
// unit tested; commands decide where the text goes.
//
// Thread-safety: free functions and a value type; no shared state.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace pinhole::cli {

// A table with a header row. Columns are separated by two spaces and padded to
// the widest cell (counted in UTF-8 code points); the last column is not
// padded, so lines carry no trailing blanks.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);
  // Rows shorter than the header are padded with empty cells, longer rows
  // are cut to the header's width.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // `emphasize_header` wraps the header in ANSI bold (for a terminal).
  std::string Render(bool emphasize_header = false) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "key: value" lines with the values aligned; empty values show as "-".
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields);

// `t` relative to `now`: "in 45s", "in 12m", "in 2h", "in 1h30m", "in 3d4h",
// "5m ago", "now" (within a second). Rounded to the nearest unit shown.
std::string FormatRelative(Time now, Time t);

// "2026-11-21 10:30:00 CET" in the process's local time zone (TZ).
std::string FormatLocalTime(Time t);

// Text for one JSON value in a table cell: strings as is, arrays joined with
// ", ", null as "", objects as compact JSON, booleans as "yes"/"no".
std::string CellText(const nlohmann::json& value);

// Field `key` of `object` as cell text; "" when absent or `object` is not an
// object.
std::string FieldText(const nlohmann::json& object, const std::string& key);

// An RFC 3339 field as "local time (relative)", or the raw text when it does
// not parse, or "" when absent/null.
std::string TimeFieldText(const nlohmann::json& object, const std::string& key, Time now);
// Only the relative part ("in 2h"); raw text when it does not parse.
std::string RelativeFieldText(const nlohmann::json& object, const std::string& key, Time now);

// A lease as a headline and an indented block, e.g.
//   Lease 7 is active.
//     source:   203.0.113.7/32
//     services: ssh, db
//     expires:  2026-11-21 11:30:00 UTC (in 2h)
// `verb` goes before the state sentence ("was renewed and "). Waiting
// states say what they wait for, and their deadline is labelled as one. An
// invitation reply's link ("invitation.url") is printed, with whether it
// was emailed.
std::string RenderLeaseSummary(const nlohmann::json& lease, const std::string& verb, Time now);
// "service (backend): error" for each rule whose status is "error".
std::vector<std::string> RuleProblems(const nlohmann::json& lease);

// Removes characters that could drive the terminal (ESC, other C0 controls
// except tab, DEL), so a hostile name in a server reply cannot rewrite the
// screen.
std::string Printable(std::string_view s);

}  // namespace pinhole::cli
