// htpasswd and group files: parsing, every scheme made by Debian's own
// htpasswd tool, live reload, and sign-in through the API.
#include "auth/htpasswd.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../http/api_fixture.h"

namespace pinhole {
namespace {

namespace fs = std::filesystem;

bool HaveHtpasswd() { return std::system("command -v htpasswd >/dev/null 2>&1") == 0; }

class TempFiles {
 public:
  TempFiles() {
    std::string tmpl = (fs::temp_directory_path() / "pinhole-htpasswd-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) std::abort();
    dir_ = tmpl;
  }
  ~TempFiles() { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) {
    // Written aside and renamed, as editors do, so a reader never sees half a file.
    std::ofstream(Path(name + ".tmp")) << text;
    fs::rename(Path(name + ".tmp"), Path(name));
  }
  // htpasswd -b<flag> FILE USER PASSWORD (creating the file with -c).
  void Htpasswd(const std::string& flag, const std::string& user, const std::string& password) {
    std::string file = Path("users");
    std::string cmd = "htpasswd -b" + std::string(fs::exists(file) ? "" : "c") + flag + " '" + file +
                      "' '" + user + "' '" + password + "' 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

 private:
  fs::path dir_;
};

TEST(HtpasswdParseTest, ReadsEntriesAndReportsBadLines) {
  auto ok = ParseHtpasswd(
      "# comment\r\n\nalice:$2y$05$abcdefghijklmnopqrstuu5Ue7pG2bb6zIjnyUyT3mV.XzJ3Om/Qy\r\n"
      "bob:$apr1$salt$hash\ncarol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ndave:abcdefghijklm\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->size(), 4u);
  EXPECT_EQ(ok->at("alice").scheme, "bcrypt");
  EXPECT_FALSE(ok->at("alice").weak);
  EXPECT_EQ(ok->at("bob").scheme, "apr1");
  EXPECT_EQ(ok->at("carol").scheme, "sha1");
  EXPECT_EQ(ok->at("dave").scheme, "crypt");
  EXPECT_TRUE(ok->at("bob").weak && ok->at("carol").weak && ok->at("dave").weak);
  for (const char* bad : {"nocolon\n", ":hash\n", "eve:plaintext-password\n",
                          "a:$apr1$x$y\na:$apr1$x$z\n", "sp ace:$apr1$x$y\n"}) {
    auto r = ParseHtpasswd(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "invalid_htpasswd");
      EXPECT_NE(r.status().message().find("line"), std::string::npos);
    }
  }
}

TEST(HtpasswdParseTest, GroupFileMapsUsersToGroups) {
  auto g = ParseGroupFile("ops: alice bob\r\n# c\ndev:bob  carol\nempty:\n");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->at("bob"), (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(g->at("alice"), std::vector<std::string>{"ops"});
  EXPECT_FALSE(ParseGroupFile("no colon here\n").ok());
  EXPECT_FALSE(ParseGroupFile("bad group: alice\n").ok());
}

TEST(HtpasswdFileTest, EverySchemeFromDebiansHtpasswdVerifies) {
  if (!HaveHtpasswd()) GTEST_SKIP() << "htpasswd (apache2-utils) not installed";
  TempFiles files;
  files.Htpasswd("B", "bcrypt-user", "pw-bcrypt");
  files.Htpasswd("m", "md5-user", "pw-md5");
  files.Htpasswd("s", "sha-user", "pw-sha");
  files.Htpasswd("d", "crypt-user", "pw-crypt");
  ManualClock clock;
  HtpasswdDirectory dir(files.Path("users"), "", clock);
  EXPECT_EQ(dir.status().last_error, "");
  const std::pair<const char*, const char*> cases[] = {{"bcrypt-user", "pw-bcrypt"},
                                                       {"md5-user", "pw-md5"},
                                                       {"sha-user", "pw-sha"},
                                                       {"crypt-user", "pw-crypt"}};
  for (auto [user, pw] : cases) {
    auto e = dir.Find(user);
    ASSERT_TRUE(e.has_value()) << user;
    EXPECT_TRUE(VerifyHtpasswdPassword(pw, e->hash)) << user;
    EXPECT_FALSE(VerifyHtpasswdPassword("wrong", e->hash)) << user;
  }
  EXPECT_EQ(dir.Find("bcrypt-user")->scheme, "bcrypt");
  EXPECT_EQ(dir.Find("md5-user")->scheme, "apr1");
  EXPECT_EQ(dir.Find("sha-user")->scheme, "sha1");
  EXPECT_EQ(dir.Find("crypt-user")->scheme, "crypt");
  EXPECT_EQ(dir.status().weak_users,
            (std::vector<std::string>{"crypt-user", "md5-user", "sha-user"}));
}

TEST(HtpasswdFileTest, EditsAreSeenWithoutRestartAndBrokenFilesKeepTheLastGood) {
  if (!HaveHtpasswd()) GTEST_SKIP() << "htpasswd (apache2-utils) not installed";
  TempFiles files;
  files.Htpasswd("B", "alice", "pw-alice");
  files.Write("groups", "ops: alice\n");
  ManualClock clock;
  HtpasswdDirectory dir(files.Path("users"), files.Path("groups"), clock);
  EXPECT_FALSE(dir.Find("bob").has_value());
  files.Htpasswd("B", "bob", "pw-bob");
  files.Write("groups", "ops: alice bob\ndev: bob\n");
  clock.Advance(Seconds(2));
  ASSERT_TRUE(dir.Find("bob").has_value());
  EXPECT_TRUE(VerifyHtpasswdPassword("pw-bob", dir.Find("bob")->hash));
  EXPECT_EQ(dir.GroupsOf("bob"), (std::vector<std::string>{"dev", "ops"}));
  // A broken file: the last good contents stay, the error is reported.
  files.Write("users", "this is not a htpasswd file\n");
  clock.Advance(Seconds(2));
  EXPECT_TRUE(dir.Find("bob").has_value());
  EXPECT_NE(dir.status().last_error.find("line 1"), std::string::npos);
  // Fixed again, without bob.
  std::string cmd = "htpasswd -bcB '" + files.Path("users") + "' alice pw-alice 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  clock.Advance(Seconds(2));
  EXPECT_FALSE(dir.Find("bob").has_value());
  EXPECT_EQ(dir.status().last_error, "");
}

class HtpasswdApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    if (!HaveHtpasswd()) GTEST_SKIP() << "htpasswd (apache2-utils) not installed";
    ApiFixture::SetUp();
    files_.Htpasswd("B", "carol", "carol-file-password");
    files_.Htpasswd("m", "dave", "dave-file-password");
    files_.Write("groups", "ops: carol\n");
    config_.htpasswd_file = files_.Path("users");
    config_.htpasswd_group_file = files_.Path("groups");
    MakeApi();
    admin_ = Login("admin@example.com", kAdminPassword)["token"];
  }
  HttpResponse SignIn(const std::string& name, const std::string& pw) {
    return Call("POST", "/api/v1/session", {{"email", name}, {"password", pw}});
  }
  TempFiles files_;
  std::string admin_;
};

TEST_F(HtpasswdApiTest, SignInProvisionsOnceAndGroupsGrantPolicies) {
  size_t users = store_->CountUsers();
  auto bad = SignIn("carol", "wrong");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(store_->CountUsers(), users);  // nobody made on a failure
  auto r = SignIn("carol", "carol-file-password");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["user"]["email"], "carol@htpasswd.local");
  EXPECT_EQ(Body(r)["user"]["source"], "htpasswd");
  ASSERT_EQ(SignIn("carol", "carol-file-password").status, 200);
  EXPECT_EQ(store_->CountUsers(), users + 1);
  std::string carol = Body(r)["token"];
  // The group file's "ops" grants what a policy for "ops" grants.
  ASSERT_EQ(Call("POST", "/api/v1/services", {{"name", "ssh"}, {"protocol", "tcp"}, {"ports", "22"}},
                 admin_)
                .status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/policies", {{"name", "ops"}, {"groups", {"ops"}}, {"services", {"ssh"}}},
                 admin_)
                .status,
            201);
  auto me = Body(Call("GET", "/api/v1/me", nullptr, carol));
  EXPECT_EQ(me["user"]["groups"], json({"ops"}));
  auto lease = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, carol);
  EXPECT_EQ(lease.status, 201) << lease.body;
  // The password lives in the file.
  auto pw = Call("POST", "/api/v1/me/password",
                 {{"current", "carol-file-password"}, {"new", "another-long-password"}}, carol);
  EXPECT_EQ(pw.status, 403);
  EXPECT_EQ(Code(pw), "password_managed_elsewhere");
}

TEST_F(HtpasswdApiTest, GroupFileGroupsCountWhenAnAdminApprovesAndOnRenewal) {
  std::string carol = Body(SignIn("carol", "carol-file-password"))["token"];
  ASSERT_EQ(Call("POST", "/api/v1/services", {{"name", "ssh"}, {"protocol", "tcp"}, {"ports", "22"}},
                 admin_)
                .status,
            201);
  ASSERT_EQ(Call("POST", "/api/v1/policies",
                 {{"name", "ops"}, {"groups", {"ops"}}, {"services", {"ssh"}}, {"approval", "admin"}},
                 admin_)
                .status,
            201);
  auto asked = Call("POST", "/api/v1/leases", {{"services", {"ssh"}}}, carol);
  ASSERT_EQ(asked.status, 201) << asked.body;
  const std::string id = std::to_string(Body(asked)["id"].get<Id>());
  // The admin's decision re-checks carol's policy with her group-file groups.
  auto approved = Call("POST", "/api/v1/leases/" + id + "/approve", json::object(), admin_);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Body(approved)["state"], "active");
  auto renewed = Call("POST", "/api/v1/leases/" + id + "/renew", json::object(), admin_);
  EXPECT_EQ(renewed.status, 200) << renewed.body;
}

TEST_F(HtpasswdApiTest, RemovedFromTheFileMeansOut) {
  auto r = SignIn("dave", "dave-file-password");
  ASSERT_EQ(r.status, 200) << r.body;
  std::string dave = Body(r)["token"];
  std::string cmd = "htpasswd -D '" + files_.Path("users") + "' dave 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  clock_.Advance(Seconds(2));
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, dave).status, 401);
  EXPECT_EQ(SignIn("dave", "dave-file-password").status, 401);
}

TEST_F(HtpasswdApiTest, WeakSchemesAreFlaggedForAdmins) {
  auto s = Call("GET", "/api/v1/identity/htpasswd", nullptr, admin_);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(Body(s)["users"], 2);
  EXPECT_EQ(Body(s)["weak_password_schemes"], json::parse(R"([{"user":"dave","scheme":"apr1"}])"));
  std::string bob = Login("bob@example.com", kUserPassword)["token"];
  EXPECT_EQ(Call("GET", "/api/v1/identity/htpasswd", nullptr, bob).status, 403);
}

TEST_F(HtpasswdApiTest, AFileEntryCannotTakeOverAnExistingAccount) {
  files_.Htpasswd("B", "bob@example.com", "file-password-for-bob");
  clock_.Advance(Seconds(2));
  auto r = SignIn("bob@example.com", "file-password-for-bob");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(store_->FindUser("bob@example.com")->source, "local");
  EXPECT_EQ(SignIn("bob@example.com", kUserPassword).status, 200);
  // A file name that maps onto an existing address is refused, not merged.
  files_.Htpasswd("B", "admin", "file-password-for-admin");
  config_.htpasswd_email_domain = "example.com";
  MakeApi();
  auto takeover = SignIn("admin", "file-password-for-admin");
  EXPECT_EQ(takeover.status, 403);
  EXPECT_EQ(Code(takeover), "account_conflict");
  EXPECT_EQ(store_->FindUser("admin@example.com")->role, Role::kAdmin);
  EXPECT_EQ(store_->FindUser("admin@example.com")->source, "local");
}

}  // namespace
}  // namespace pinhole
