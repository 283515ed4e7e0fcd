// Helpers shared by the store tests: a temporary directory that removes
// itself, and builders for test objects.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/model.h"

namespace pinhole::testing_store {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "pinhole-store-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline Time T(int64_t ms) { return Time(Millis(ms)); }

inline AuditEntry Audit(std::string action, std::string object = "x/1") {
  AuditEntry a;
  a.time = T(1'795'000'000'000);
  a.actor = "admin@example.com";
  a.action = std::move(action);
  a.object = std::move(object);
  a.client_ip = "198.51.100.7";
  a.details_json = R"({"k":"v"})";
  return a;
}

inline User MakeUser(std::string email) {
  User u;
  u.email = std::move(email);
  u.password_hash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA";
  u.role = Role::kUser;
  u.created_at = T(1'795'000'000'123);
  return u;
}

inline Lease MakeLease(Id owner_id, std::string owner, std::string cidr = "198.51.100.7/32") {
  Lease l;
  l.owner_id = owner_id;
  l.owner = std::move(owner);
  l.services = {"ssh", "rdp"};
  l.recipient = RecipientKind::kSelf;
  l.source = Cidr::Parse(cidr).value();
  l.state = LeaseState::kActive;
  l.reason = "deploy";
  l.policy = "ops";
  l.created_at = T(1'795'000'000'000);
  l.activated_at = T(1'795'000'000'500);
  l.expires_at = T(1'795'003'600'000);
  return l;
}

}  // namespace pinhole::testing_store
