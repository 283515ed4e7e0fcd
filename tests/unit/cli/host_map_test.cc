// The ~/.config/pinhole/hosts mapping: parsing (good and bad lines),
// glob matching, first-match-wins lookup, and loading from disk.
#include "cli/host_map.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cli/temp_dir.h"

namespace pinhole::cli {
namespace {

TEST(GlobMatchTest, MatchesLiteralsAndStars) {
  EXPECT_TRUE(GlobMatch("db1.example.com", "db1.example.com"));
  EXPECT_TRUE(GlobMatch("DB1.Example.com", "db1.example.COM"));
  EXPECT_FALSE(GlobMatch("db1.example.com", "db2.example.com"));
  EXPECT_FALSE(GlobMatch("db1", "db1.example.com"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything.at.all"));
  EXPECT_TRUE(GlobMatch("*.prod.example.com", "a.b.prod.example.com"));
  EXPECT_FALSE(GlobMatch("*.prod.example.com", "prod.example.com"));
  EXPECT_TRUE(GlobMatch("db*", "db"));
  EXPECT_TRUE(GlobMatch("db-*-eu", "db-17-eu"));
  EXPECT_FALSE(GlobMatch("db-*-eu", "db-17-us"));
  EXPECT_TRUE(GlobMatch("*a*b", "xxaxxab"));
  EXPECT_TRUE(GlobMatch("**", "x"));
  EXPECT_FALSE(GlobMatch("", "x"));
  EXPECT_TRUE(GlobMatch("", ""));
}

TEST(GlobMatchTest, PathologicalPatternsStayFast) {
  std::string text(5000, 'a');
  std::string pattern;
  for (int i = 0; i < 50; ++i) pattern += "*a";
  pattern += "*b";
  EXPECT_FALSE(GlobMatch(pattern, text));  // would never finish if exponential
}

TEST(HostMapTest, ParsesEntriesCommentsAndBlankLines) {
  Result<HostMap> map = HostMap::Parse(
      "# ssh hosts\n"
      "\n"
      "bastion.example.com   ssh-bastion   # the jump host\n"
      "\t*.prod.example.com\tssh-prod\r\n"
      "[2001:db8::5]  v6-ssh\n"
      "*  fallback\n");
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  ASSERT_EQ(map->entries().size(), 4u);
  EXPECT_EQ(map->entries()[0].pattern, "bastion.example.com");
  EXPECT_EQ(map->entries()[0].service, "ssh-bastion");
  EXPECT_EQ(map->entries()[0].line, 3);
  EXPECT_EQ(map->entries()[1].service, "ssh-prod");
  EXPECT_EQ(map->entries()[1].line, 4);
  EXPECT_EQ(map->entries()[3].line, 6);
}

TEST(HostMapTest, FirstMatchWinsAndUnmappedHostsAreServices) {
  Result<HostMap> map = HostMap::Parse(
      "db1.prod.example.com  db-special\n"
      "*.prod.example.com    ssh-prod\n"
      "*.PROD.example.com    never-reached\n");
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->Lookup("db1.prod.example.com"), "db-special");
  EXPECT_EQ(map->Lookup("WEB.prod.example.com"), "ssh-prod");
  EXPECT_EQ(map->Lookup("web.staging.example.com"), std::nullopt);
  EXPECT_EQ(ServiceForHost(*map, "web.staging.example.com"), "web.staging.example.com");
  EXPECT_EQ(ServiceForHost(*map, "x.prod.example.com"), "ssh-prod");
  EXPECT_EQ(ServiceForHost(HostMap(), "ssh"), "ssh");
}

TEST(HostMapTest, EmptyAndCommentOnlyFilesAreEmptyMaps) {
  for (const char* text : {"", "\n\n", "# nothing\n   # here\n", "   \t  "}) {
    Result<HostMap> map = HostMap::Parse(text);
    ASSERT_TRUE(map.ok()) << text;
    EXPECT_TRUE(map->entries().empty());
  }
}

// Each bad file must fail with the file name and the right line number.
TEST(HostMapTest, BadLinesNameTheLine) {
  using namespace std::string_literals;
  struct Case {
    std::string text;
    const char* expected;
  };
  const Case cases[] = {
      {"good svc\nlonely\n", "hosts:2: expected `HOST SERVICE`, found 1 field"},
      {"a b c\n", "hosts:1: expected `HOST SERVICE`, found 3 fields"},
      {"# c\n\nhost svc extra # comment\n", "hosts:3: expected `HOST SERVICE`, found 3 fields"},
      {"ho/st svc\n", "hosts:1: invalid '/' in host pattern"},
      {"host sv\x01\n", "hosts:1: unexpected byte 0x01"},
      {"host s\xc3\xa9rvice\n", "hosts:1: invalid byte 0xc3 in service name"},
      {"ok svc\nh\xff svc\n", "hosts:2: invalid byte 0xff in host pattern"},
      {"host\0svc\n"s, "hosts:1: unexpected byte 0x00"},
  };
  for (const Case& c : cases) {
    Result<HostMap> map = HostMap::Parse(c.text);
    ASSERT_FALSE(map.ok()) << c.text;
    EXPECT_EQ(map.status().reason(), "bad_hosts_file");
    EXPECT_EQ(map.status().message(), c.expected);
  }
}

TEST(HostMapTest, RejectsOverlongTokensAndFiles) {
  std::string long_host(300, 'a');
  Result<HostMap> map = HostMap::Parse("x svc\n" + long_host + " svc\n", "/etc/h");
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.status().message().rfind("/etc/h:2: host pattern longer than", 0), 0u)
      << map.status().message();
  map = HostMap::Parse("host " + long_host + "\n");
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.status().message().find("service name longer"), std::string::npos);
  map = HostMap::Parse(std::string(kMaxHostMapBytes + 1, '#'));
  ASSERT_FALSE(map.ok());
  EXPECT_NE(map.status().message().find("larger than"), std::string::npos);
}

TEST(HostMapTest, PathFollowsXdgThenHome) {
  EXPECT_EQ(*HostMapPath("/x/cfg", "/home/a"), std::filesystem::path("/x/cfg/pinhole/hosts"));
  EXPECT_EQ(*HostMapPath("relative", "/home/a"),
            std::filesystem::path("/home/a/.config/pinhole/hosts"));
  EXPECT_EQ(*HostMapPath(nullptr, "/home/a"),
            std::filesystem::path("/home/a/.config/pinhole/hosts"));
  EXPECT_FALSE(HostMapPath(nullptr, nullptr).ok());
}

TEST(HostMapTest, LoadsFromDiskAndReportsMissingFiles) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "hosts";
  Result<HostMap> missing = LoadHostMap(file);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);

  std::ofstream(file) << "*.lab  lab-ssh\nbroken line here\n";
  Result<HostMap> bad = LoadHostMap(file);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), file.string() + ":2: expected `HOST SERVICE`, found 3 fields");

  std::ofstream(file) << "*.lab  lab-ssh\n";
  Result<HostMap> good = LoadHostMap(file);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->Lookup("box.lab"), "lab-ssh");
}

}  // namespace
}  // namespace pinhole::cli
