#include "cli/output.h"

#include <algorithm>
#include <ctime>

namespace pinhole::cli {
namespace {

size_t DisplayWidth(const std::string& s) {
  size_t width = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++width;  // count lead bytes only
  }
  return width;
}

void AppendPadded(std::string& out, const std::string& cell, size_t width) {
  out += cell;
  out.append(width - std::min(width, DisplayWidth(cell)), ' ');
}

std::string Amount(int64_t big, char big_unit, int64_t small, char small_unit) {
  std::string s = std::to_string(big) + big_unit;
  if (small > 0) s += std::to_string(small) + small_unit;
  return s;
}

}  // namespace

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::string& cell : cells) cell = Printable(cell);
  rows_.push_back(std::move(cells));
}

std::string Table::Render(bool emphasize_header) const {
  std::vector<size_t> widths(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  auto render_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size()) {
        line += row[i];
      } else {
        AppendPadded(line, row[i], widths[i]);
        line += "  ";
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line + "\n";
  };
  std::string out;
  std::string header = render_row(headers_);
  if (emphasize_header) {
    header.pop_back();
    header = "\033[1m" + header + "\033[0m\n";
  }
  out += header;
  for (const auto& row : rows_) out += render_row(row);
  return out;
}

std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, DisplayWidth(key) + 1);
  std::string out;
  for (const auto& [key, value] : fields) {
    AppendPadded(out, key + ":", width);
    out += "  ";
    out += value.empty() ? "-" : Printable(value);
    out += "\n";
  }
  return out;
}

std::string FormatRelative(Time now, Time t) {
  int64_t ms = (t - now).count();
  bool future = ms > 0;
  int64_t s = (future ? ms : -ms) / 1000;
  if (s == 0) return "now";
  // Round to the smallest unit shown, so a lease made for 2h a moment ago
  // reads "in 2h", not "in 1h59m".
  std::string amount;
  if (s < 60) {
    amount = std::to_string(s) + "s";
  } else if (s < 3600 - 30) {
    amount = std::to_string((s + 30) / 60) + "m";
  } else if (s < 86400 - 30 * 60) {
    int64_t minutes = (s + 30) / 60;
    amount = Amount(minutes / 60, 'h', minutes % 60, 'm');
  } else {
    int64_t hours = (s + 1800) / 3600;
    amount = Amount(hours / 24, 'd', hours % 24, 'h');
  }
  return future ? "in " + amount : amount + " ago";
}

std::string FormatLocalTime(Time t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm local{};
  if (localtime_r(&secs, &local) == nullptr) return FormatTime(t);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", &local);
  return n == 0 ? FormatTime(t) : std::string(buf, n);
}

std::string CellText(const nlohmann::json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_array()) {
    std::string out;
    for (const auto& item : value) {
      if (!out.empty()) out += ", ";
      out += CellText(item);
    }
    return out;
  }
  return value.dump();
}

std::string FieldText(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it == object.end() ? "" : CellText(*it);
}

std::string TimeFieldText(const nlohmann::json& object, const std::string& key, Time now) {
  std::string raw = FieldText(object, key);
  if (raw.empty()) return "";
  std::optional<Time> t = ParseTime(raw);
  if (!t) return raw;
  return FormatLocalTime(*t) + " (" + FormatRelative(now, *t) + ")";
}

std::string RelativeFieldText(const nlohmann::json& object, const std::string& key, Time now) {
  std::string raw = FieldText(object, key);
  if (raw.empty()) return "";
  std::optional<Time> t = ParseTime(raw);
  return t ? FormatRelative(now, *t) : raw;
}

std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7F) continue;
    // C1 controls (U+0080..U+009F, e.g. the one-byte CSI) encoded as UTF-8.
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      ++i;
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

namespace {

bool HasText(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && !object[key].is_null() &&
         !(object[key].is_string() && object[key].get<std::string>().empty());
}

std::string StateSentence(const nlohmann::json& lease) {
  std::string state = FieldText(lease, "state");
  if (state == "pending_approval") return "is waiting for an admin's approval";
  if (state == "approved") {
    return "waits for the owner's next sign-in, where it opens for that address";
  }
  if (state == "invited") {
    std::string email =
        lease.is_object() ? FieldText(lease.value("recipient", nlohmann::json::object()), "email")
                          : "";
    return email.empty() ? "is waiting for the invitation to be accepted"
                         : "is waiting for " + email + " to accept the invitation";
  }
  if (state == "denied") return "was denied";
  return "is " + (state.empty() ? std::string("in an unknown state") : state);
}

}  // namespace

std::string RenderLeaseSummary(const nlohmann::json& lease, const std::string& verb, Time now) {
  std::string out = "Lease " + Printable(FieldText(lease, "id")) + " " + verb +
                    Printable(StateSentence(lease)) + ".\n";
  std::string state = FieldText(lease, "state");
  std::string source = FieldText(lease, "source_cidr");
  if (source.empty() && state == "invited") source = "(the address the invitation is opened from)";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"source", source},
      {"services", FieldText(lease, "services")},
  };
  if (HasText(lease, "ended_at")) {
    fields.emplace_back("ended", TimeFieldText(lease, "ended_at", now));
  } else if (state == "pending_approval") {
    fields.emplace_back("decide by", TimeFieldText(lease, "expires_at", now));
  } else if (state == "approved") {
    fields.emplace_back("sign in by", TimeFieldText(lease, "expires_at", now));
  } else if (state == "invited") {
    fields.emplace_back("link expires", TimeFieldText(lease, "expires_at", now));
  } else {
    fields.emplace_back("expires", TimeFieldText(lease, "expires_at", now));
  }
  if (HasText(lease, "invitation")) {
    const nlohmann::json& inv = lease["invitation"];
    fields.emplace_back("link", FieldText(inv, "url"));
    bool emailed = inv.is_object() && inv.value("emailed", false);
    fields.emplace_back("emailed", emailed ? "yes" : "no: pass the link on yourself");
  }
  std::string rendered = RenderFields(fields);
  size_t start = 0;
  while (start < rendered.size()) {
    size_t end = rendered.find('\n', start);
    out += "  " + rendered.substr(start, end - start + 1);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> RuleProblems(const nlohmann::json& lease) {
  std::vector<std::string> out;
  if (!lease.is_object() || !lease.contains("rules") || !lease["rules"].is_array()) return out;
  for (const auto& rule : lease["rules"]) {
    if (FieldText(rule, "status") != "error") continue;
    out.push_back(Printable(FieldText(rule, "service")) + " (" +
                  Printable(FieldText(rule, "backend")) +
                  "): " + Printable(FieldText(rule, "error")));
  }
  return out;
}

}  // namespace pinhole::cli
