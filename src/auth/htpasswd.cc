#include "auth/htpasswd.h"

#include <apr_general.h>
#include <apr_md5.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace pinhole {
namespace {

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsCryptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Unavailable("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().size() > 64 * 1024 * 1024) return Status::Invalid("invalid_htpasswd", path + " is too large");
  return s.str();
}

std::string Stamp(const std::string& path) {
  struct stat st {};
  if (path.empty()) return "-";
  if (stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

Status LineError(const char* reason, const char* file, size_t line, const std::string& what) {
  return Status::Invalid(reason, std::string(file) + " line " + std::to_string(line) + ": " + what);
}

}  // namespace

std::string HtpasswdScheme(std::string_view hash) {
  if (hash.starts_with("$2y$") || hash.starts_with("$2a$") || hash.starts_with("$2b$")) return "bcrypt";
  if (hash.starts_with("$apr1$")) return "apr1";
  if (hash.starts_with("{SHA}") && hash.size() == 33) return "sha1";
  if (hash.size() == 13 && std::all_of(hash.begin(), hash.end(), IsCryptChar)) return "crypt";
  return "";
}

Result<std::map<std::string, HtpasswdEntry>> ParseHtpasswd(std::string_view text) {
  std::map<std::string, HtpasswdEntry> out;
  size_t n = 0;
  for (std::string_view line : Lines(text)) {
    ++n;
    if (Trim(line).empty() || Trim(line).front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return LineError("invalid_htpasswd", "htpasswd", n, "expected user:hash");
    }
    std::string user(line.substr(0, colon));
    std::string_view hash = line.substr(colon + 1);
    if (user.size() > 255 || user.find_first_of(" \t") != std::string::npos) {
      return LineError("invalid_htpasswd", "htpasswd", n, "bad user name");
    }
    std::string scheme = HtpasswdScheme(hash);
    if (scheme.empty()) {
      return LineError("invalid_htpasswd", "htpasswd", n,
                       "user " + user +
                           ": unsupported hash (bcrypt, apr1, SHA-1 or crypt; plain text is refused)");
    }
    if (out.contains(user)) return LineError("invalid_htpasswd", "htpasswd", n, "user " + user + " twice");
    out[user] = HtpasswdEntry{user, std::string(hash), scheme, scheme != "bcrypt"};
  }
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> ParseGroupFile(std::string_view text) {
  std::map<std::string, std::set<std::string>> sets;
  std::set<std::string> seen_groups;
  size_t n = 0;
  for (std::string_view line : Lines(text)) {
    ++n;
    if (Trim(line).empty() || Trim(line).front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return LineError("invalid_group_file", "group file", n, "expected group: user user...");
    }
    std::string group(Trim(line.substr(0, colon)));
    if (group.empty() || group.size() > 64 || group.find_first_of(" \t") != std::string::npos) {
      return LineError("invalid_group_file", "group file", n, "bad group name");
    }
    seen_groups.insert(group);
    std::string_view members = line.substr(colon + 1);
    while (true) {
      members = Trim(members);
      if (members.empty()) break;
      auto end = members.find_first_of(" \t");
      sets[std::string(members.substr(0, end))].insert(group);
      if (end == std::string_view::npos) break;
      members.remove_prefix(end);
    }
  }
  std::map<std::string, std::vector<std::string>> out;
  for (auto& [user, groups] : sets) out[user].assign(groups.begin(), groups.end());
  return out;
}

bool VerifyHtpasswdPassword(std::string_view password, const std::string& hash) {
  static std::once_flag once;
  std::call_once(once, [] { apr_initialize(); });
  if (HtpasswdScheme(hash).empty()) return false;
  std::string pw(password);
  return apr_password_validate(pw.c_str(), hash.c_str()) == APR_SUCCESS;
}

HtpasswdDirectory::HtpasswdDirectory(std::string file, std::string group_file, const Clock& clock)
    : file_(std::move(file)), group_file_(std::move(group_file)), clock_(clock) {
  Status st = Load();
  if (!st.ok()) {
    spdlog::error("htpasswd: {}", st.message());
    last_error_ = st.message();
    stamp_ = Stamp(file_) + "|" + Stamp(group_file_);
  }
}

Status HtpasswdDirectory::Load() {
  const std::string stamp = Stamp(file_) + "|" + Stamp(group_file_);
  ASSIGN_OR_RETURN(std::string text, ReadFile(file_));
  ASSIGN_OR_RETURN(auto users, ParseHtpasswd(text));
  std::map<std::string, std::vector<std::string>> groups;
  if (!group_file_.empty()) {
    ASSIGN_OR_RETURN(std::string gtext, ReadFile(group_file_));
    ASSIGN_OR_RETURN(groups, ParseGroupFile(gtext));
  }
  std::vector<std::string> weak;
  for (const auto& [name, e] : users) {
    if (e.weak) weak.push_back(name + " (" + e.scheme + ")");
  }
  if (!weak.empty()) {
    std::string list;
    for (const auto& w : weak) list += (list.empty() ? "" : ", ") + w;
    spdlog::warn("htpasswd: {} user(s) have weak password hashes; re-hash them with htpasswd -B: {}",
                 weak.size(), list);
  }
  std::unique_lock lock(mu_);
  users_ = std::move(users);
  groups_ = std::move(groups);
  loaded_at_ = clock_.Now();
  last_error_.clear();
  stamp_ = stamp;
  return Status::Ok();
}

void HtpasswdDirectory::Refresh() {
  std::lock_guard lock(refresh_mu_);
  const Time now = clock_.Now();
  if (now - checked_at_ < std::chrono::seconds(1) && checked_at_ != Time{}) return;
  checked_at_ = now;
  std::string stamp = Stamp(file_) + "|" + Stamp(group_file_);
  {
    std::shared_lock read(mu_);
    if (stamp == stamp_) return;
  }
  Status st = Load();
  if (!st.ok()) {
    spdlog::error("htpasswd: keeping the last good contents: {}", st.message());
    std::unique_lock write(mu_);
    last_error_ = st.message();
    stamp_ = stamp;  // one report per change, not one per request
  } else {
    spdlog::info("htpasswd: reloaded {} and {}", file_, group_file_.empty() ? "no group file" : group_file_);
  }
}

std::optional<HtpasswdEntry> HtpasswdDirectory::Find(const std::string& user) {
  Refresh();
  std::shared_lock lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> HtpasswdDirectory::GroupsOf(const std::string& user) {
  Refresh();
  std::shared_lock lock(mu_);
  auto it = groups_.find(user);
  return it == groups_.end() ? std::vector<std::string>{} : it->second;
}

HtpasswdStatus HtpasswdDirectory::status() {
  Refresh();
  std::shared_lock lock(mu_);
  HtpasswdStatus s{file_, group_file_, loaded_at_, users_.size(), 0, {}, last_error_};
  std::set<std::string> groups;
  for (const auto& [u, gs] : groups_) groups.insert(gs.begin(), gs.end());
  s.groups = groups.size();
  for (const auto& [name, e] : users_) {
    if (e.weak) s.weak_users.push_back(name);
  }
  return s;
}

}  // namespace pinhole
