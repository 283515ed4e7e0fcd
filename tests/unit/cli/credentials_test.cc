#include "cli/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "cli/temp_dir.h"

namespace pinhole::cli {
namespace {

namespace fs = std::filesystem;

mode_t Mode(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

TEST(CredentialsPathTest, PrefersAbsoluteXdgConfigHome) {
  EXPECT_EQ(*CredentialsPath("/x/cfg", "/home/a"), fs::path("/x/cfg/pinhole/credentials.json"));
  EXPECT_EQ(*CredentialsPath(nullptr, "/home/a"),
            fs::path("/home/a/.config/pinhole/credentials.json"));
  // The XDG spec says relative values are to be ignored.
  EXPECT_EQ(*CredentialsPath("relative/cfg", "/home/a"),
            fs::path("/home/a/.config/pinhole/credentials.json"));
  EXPECT_EQ(*CredentialsPath("", "/home/a"), fs::path("/home/a/.config/pinhole/credentials.json"));
}

TEST(CredentialsPathTest, ErrorsWithoutAnyLocation) {
  EXPECT_FALSE(CredentialsPath(nullptr, nullptr).ok());
  EXPECT_FALSE(CredentialsPath("", "").ok());
}

TEST(CredentialsTest, SaveCreatesPrivateFileAndDirectoriesAndRoundTrips) {
  TempDir home;
  fs::path file = *CredentialsPath(nullptr, home.path().c_str());
  ASSERT_TRUE(
      SaveCredentials(file, {"https://p.example.com", "secret-token", "a@example.com"}).ok());
  EXPECT_EQ(Mode(file), 0600u);
  EXPECT_EQ(Mode(file.parent_path()), 0700u);                // .config/pinhole
  EXPECT_EQ(Mode(file.parent_path().parent_path()), 0700u);  // .config, created by us
  auto loaded = LoadCredentials(file);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->server, "https://p.example.com");
  EXPECT_EQ(loaded->token, "secret-token");
  EXPECT_EQ(loaded->email, "a@example.com");
  // Only the file itself is left: no temporary files.
  EXPECT_EQ(std::distance(fs::directory_iterator(file.parent_path()), fs::directory_iterator()), 1);
}

TEST(CredentialsTest, SaveIsPrivateEvenWithAPermissiveUmaskAndLooseDirectory) {
  TempDir home;
  fs::path dir = home.path() / "cfg" / "pinhole";
  fs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  mode_t old = ::umask(0);
  Status st = SaveCredentials(dir / "credentials.json", {"https://a", "t", "e"});
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(dir / "credentials.json"), 0600u);
}

TEST(CredentialsTest, SaveReplacesAnExistingFile) {
  TempDir home;
  fs::path file = home.path() / "pinhole" / "credentials.json";
  ASSERT_TRUE(SaveCredentials(file, {"https://a", "old", "e"}).ok());
  ASSERT_TRUE(SaveCredentials(file, {"https://b", "new", "e"}).ok());
  EXPECT_EQ(LoadCredentials(file)->token, "new");
  EXPECT_EQ(Mode(file), 0600u);
}

TEST(CredentialsTest, SaveFailsWhenTheDirectoryIsAFile) {
  TempDir home;
  std::ofstream(home.path() / "pinhole") << "x";
  EXPECT_FALSE(
      SaveCredentials(home.path() / "pinhole" / "credentials.json", {"https://a", "t", "e"}).ok());
}

TEST(CredentialsTest, LoadMissingIsNotFound) {
  TempDir home;
  auto loaded = LoadCredentials(home.path() / "nope.json");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kNotFound);
}

TEST(CredentialsTest, LoadRejectsMalformedFiles) {
  TempDir home;
  fs::path file = home.path() / "credentials.json";
  for (const char* bad : {"", "not json", "[]", R"({"server":"https://a"})",
                          R"({"server":"https://a","token":42})", R"({"server":"","token":"t"})"}) {
    std::ofstream(file, std::ios::trunc) << bad;
    auto loaded = LoadCredentials(file);
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.status().reason(), "bad_credentials_file") << bad;
  }
}

TEST(CredentialsTest, RemoveIsIdempotent) {
  TempDir home;
  fs::path file = home.path() / "pinhole" / "credentials.json";
  ASSERT_TRUE(SaveCredentials(file, {"https://a", "t", "e"}).ok());
  EXPECT_TRUE(RemoveCredentials(file).ok());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(RemoveCredentials(file).ok());
}

}  // namespace
}  // namespace pinhole::cli
