// Users and groups from Apache htpasswd and group files, for sites that
// already keep their people there. Passwords are checked by apr-util's
// apr_password_validate, exactly as Apache does: bcrypt ($2y$), apr1-MD5
// ($apr1$), SHA-1 ({SHA}) and crypt. The last three are weak (fast hashes);
// they still work, but are flagged. Plain-text entries are refused.
//
// The files are re-read when they change (checked at most once a second,
// on use), so edits take effect without a restart. A file that cannot be
// read or parsed on reload leaves the last good contents in place and the
// error in status().
//
// Thread-safety: HtpasswdDirectory is safe to share; the parsers are pure.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace pinhole {

struct HtpasswdEntry {
  std::string user;
  std::string hash;
  std::string scheme;  // "bcrypt" | "apr1" | "sha1" | "crypt"
  bool weak = false;
};

// "bcrypt", "apr1", "sha1", "crypt", or "" for anything else (refused).
std::string HtpasswdScheme(std::string_view hash);
// user -> entry. InvalidArgument "invalid_htpasswd" naming the line for a
// malformed line, a duplicate user or an unsupported (e.g. plain) hash.
Result<std::map<std::string, HtpasswdEntry>> ParseHtpasswd(std::string_view text);
// user -> the groups listing them ("group: user1 user2" lines).
// InvalidArgument "invalid_group_file" naming the line.
Result<std::map<std::string, std::vector<std::string>>> ParseGroupFile(std::string_view text);
// apr_password_validate: true when `password` matches `hash`.
bool VerifyHtpasswdPassword(std::string_view password, const std::string& hash);

struct HtpasswdStatus {
  std::string file, group_file;
  Time loaded_at{};
  size_t users = 0, groups = 0;
  std::vector<std::string> weak_users;  // names, never hashes
  std::string last_error;               // "" when the last read worked
};

class HtpasswdDirectory {
 public:
  // Reads both files now. If they cannot be read yet, the directory starts
  // empty with the error in status() and keeps looking for them.
  HtpasswdDirectory(std::string file, std::string group_file, const Clock& clock);
  std::optional<HtpasswdEntry> Find(const std::string& user);
  std::vector<std::string> GroupsOf(const std::string& user);
  HtpasswdStatus status();

 private:
  // Re-reads the files if they changed since the last look (at most once a second).
  void Refresh();
  Status Load();

  const std::string file_, group_file_;
  const Clock& clock_;
  std::mutex refresh_mu_;
  Time checked_at_{};
  std::string stamp_;  // inode, size and mtime of both files at the last read
  std::shared_mutex mu_;
  std::map<std::string, HtpasswdEntry> users_;
  std::map<std::string, std::vector<std::string>> groups_;
  Time loaded_at_{};
  std::string last_error_;
};

}  // namespace pinhole
