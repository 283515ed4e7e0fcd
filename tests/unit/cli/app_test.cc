// Runs whole pinhole command lines against a fake server transport: checks
// the requests each command sends, what it prints, and its exit status.
#include "cli/app.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <sstream>

#include "cli/fake_http_client.h"
#include "cli/temp_dir.h"

namespace pinhole::cli {
namespace {

using nlohmann::json;

// The Context owns its HttpClient; this one forwards to the test's fake.
class Forwarding final : public HttpClient {
 public:
  explicit Forwarding(HttpClient* target) : target_(target) {}
  Result<HttpResponse> Send(const HttpRequest& r) override { return target_->Send(r); }

 private:
  HttpClient* target_;
};

constexpr char kServer[] = "https://p.example.com";
constexpr char kToken[] = "tok-very-secret";

class CliTest : public ::testing::Test {
 protected:
  // Runs `pinhole args...`; stdin is `input`.
  int Run(std::vector<std::string> args, const std::string& input = "") {
    out_.str("");
    err_.str("");
    std::istringstream in(input);
    Context ctx(
        env_, out_, err_, in,
        [this](const TransportOptions& o) {
          transport_ = o;
          return std::make_unique<Forwarding>(&http_);
        },
        clock_);
    std::vector<const char*> argv = {"pinhole"};
    for (const auto& a : args) argv.push_back(a.c_str());
    return RunCli(static_cast<int>(argv.size()), argv.data(), ctx);
  }

  void SaveLogin(const std::string& server = kServer) {
    ASSERT_TRUE(SaveCredentials(CredentialsFile(), {server, kToken, "alice@example.com"}).ok());
  }
  std::filesystem::path CredentialsFile() const {
    return home_.path() / ".config" / "pinhole" / "credentials.json";
  }
  const HttpRequest& Request(size_t i) const { return http_.requests().at(i); }
  json Body(size_t i) const { return json::parse(Request(i).body); }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

  // 2026-11-21T09:30:00Z
  ManualClock clock_{Time(std::chrono::seconds(1795253400))};
  TempDir home_;
  Environment env_{std::nullopt, std::nullopt, std::nullopt, home_.path().string()};
  FakeHttpClient http_;
  TransportOptions transport_;
  std::ostringstream out_, err_;
};

constexpr char kLease[] = R"({"id":7,"owner":"alice@example.com","services":["ssh","db"],
  "recipient":{"kind":"self"},"source_cidr":"203.0.113.7/32","state":"active","reason":"",
  "created_at":"2026-11-21T09:30:00Z","activated_at":"2026-11-21T09:30:00Z",
  "expires_at":"2026-11-21T11:30:00Z","approved_by":"","policy":"p","ended_at":null,
  "ended_by":"","rules":[{"service":"ssh","backend":"nftables","status":"applied"},
  {"service":"db","backend":"nftables","status":"error","error":"set is full"}]})";

TEST_F(CliTest, VersionAndHelpSucceed) {
  EXPECT_EQ(Run({"--version"}), 0);
  EXPECT_EQ(out().rfind("pinhole ", 0), 0u) << out();
  EXPECT_EQ(Run({"--help"}), 0);
  EXPECT_NE(out().find("admin"), std::string::npos);
  EXPECT_EQ(Run({"open", "--help"}), 0);
  EXPECT_NE(out().find("--for"), std::string::npos);
  EXPECT_NE(out().find("--json"), std::string::npos);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(CliTest, UsageErrorsExitTwoAndSendNothing) {
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_EQ(Run({"frobnicate"}), kExitUsage);
  EXPECT_NE(err().find("unknown command \"frobnicate\""), std::string::npos) << err();
  EXPECT_EQ(Run({"ls", "--bogus"}), kExitUsage);
  SaveLogin();
  EXPECT_EQ(Run({"open"}), kExitUsage);
  EXPECT_EQ(Run({"open", "ssh", "--for", "2 hours"}), kExitUsage);
  EXPECT_NE(err().find("(invalid_duration)"), std::string::npos) << err();
  EXPECT_EQ(Run({"open", "ssh", "--cidr", "198.51.100.7/28"}), kExitUsage);
  EXPECT_EQ(Run({"admin", "users", "update", "bob@example.com"}), kExitUsage);
  EXPECT_EQ(Run({"admin", "services", "create", "web", "--protocol", "tcp"}), kExitUsage);
  EXPECT_EQ(Run({"admin", "users", "create", "bob@example.com", "--role", "root"}), kExitUsage);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(CliTest, NoServerIsAUsageError) {
  EXPECT_EQ(Run({"ls"}), kExitUsage);
  EXPECT_NE(err().find("(no_server)"), std::string::npos) << err();
}

TEST_F(CliTest, NotLoggedInExitsOneWithoutARequest) {
  EXPECT_EQ(Run({"--server", kServer, "ls"}), kExitRefused);
  EXPECT_NE(err().find("(not_logged_in)"), std::string::npos) << err();
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(CliTest, LoginSavesAPrivateFileAndNeverPrintsTheToken) {
  http_.Reply(200, json{{"token", kToken},
                        {"csrf_token", "csrf-secret"},
                        {"user", {{"email", "alice@example.com"}, {"role", "user"}}},
                        {"must_change_password", false},
                        {"expires_at", "2026-11-22T09:30:00Z"}}
                       .dump());
  ASSERT_EQ(Run({"login", "p.example.com/", "--email", "alice@example.com", "--password-stdin"},
                "hunter2\n"),
            0)
      << err();
  EXPECT_EQ(Request(0).method, "POST");
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/session");
  EXPECT_EQ(Body(0), json::parse(R"({"email":"alice@example.com","password":"hunter2"})"));
  EXPECT_EQ(out(), "Logged in to https://p.example.com as alice@example.com (user).\n");
  EXPECT_EQ(out().find(kToken), std::string::npos);
  EXPECT_EQ(out().find("hunter2"), std::string::npos);

  auto saved = LoadCredentials(CredentialsFile());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->server, kServer);
  EXPECT_EQ(saved->token, kToken);
  struct stat st {};
  ASSERT_EQ(::stat(CredentialsFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CliTest, LoginJsonOmitsSecrets) {
  http_.Reply(200, json{{"token", kToken},
                        {"csrf_token", "csrf-secret"},
                        {"user", {{"email", "a@x"}}},
                        {"must_change_password", true}}
                       .dump());
  ASSERT_EQ(Run({"login", kServer, "--email", "a@x", "--password-stdin", "--json"}, "pw\n"), 0);
  json shown = json::parse(out());
  EXPECT_FALSE(shown.contains("token"));
  EXPECT_FALSE(shown.contains("csrf_token"));
  EXPECT_EQ(shown["must_change_password"], true);
  EXPECT_EQ(out().find(kToken), std::string::npos);
}

TEST_F(CliTest, LoginTellsAboutARequiredPasswordChange) {
  http_.Reply(
      200,
      json{{"token", kToken}, {"user", {{"email", "a@x"}}}, {"must_change_password", true}}.dump());
  ASSERT_EQ(Run({"login", kServer, "--email", "a@x", "--password-stdin"}, "pw\n"), 0);
  EXPECT_NE(out().find("must be changed"), std::string::npos) << out();
  EXPECT_NE(out().find("pinhole passwd"), std::string::npos) << out();
}

TEST_F(CliTest, LoginTellsAboutARequiredSecondFactor) {
  http_.Reply(200, json{{"token", kToken},
                        {"user", {{"email", "a@x"}}},
                        {"mfa_enrolment_required", true}}
                       .dump());
  ASSERT_EQ(Run({"login", kServer, "--email", "a@x", "--password-stdin"}, "pw\n"), 0);
  EXPECT_NE(out().find("second factor"), std::string::npos) << out();
}

TEST_F(CliTest, LoginMfaRequiredWithoutATerminalIsRefusedNotPrompted) {
  http_.Reply(401, R"({"error":{"code":"mfa_required","message":"send the one-time code"}})");
  EXPECT_EQ(Run({"login", kServer, "--email", "a@x", "--password-stdin"}, "pw\n"), kExitRefused);
  EXPECT_EQ(http_.requests().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(CredentialsFile()));
}

TEST_F(CliTest, LoginFailureSavesNothing) {
  http_.Reply(401,
              R"({"error":{"code":"invalid_credentials","message":"wrong email or password"}})");
  EXPECT_EQ(Run({"login", kServer, "--email", "a@x", "--password-stdin"}, "bad\n"), kExitRefused);
  EXPECT_EQ(err(), "pinhole: wrong email or password (invalid_credentials)\n");
  EXPECT_FALSE(std::filesystem::exists(CredentialsFile()));
}

TEST_F(CliTest, PasswordStdinNeedsEmail) {
  EXPECT_EQ(Run({"login", kServer, "--password-stdin"}, "pw\n"), kExitUsage);
  EXPECT_TRUE(http_.requests().empty());
}

TEST_F(CliTest, OpenSendsTheLeaseRequestAndSummarizes) {
  SaveLogin();
  http_.Reply(201, kLease);
  ASSERT_EQ(Run({"open", "ssh", "db", "--for", "2h", "--reason", "deploy"}), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases");
  EXPECT_EQ(http_.Header(0, "Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(Body(0), json::parse(R"({"services":["ssh","db"],"duration":"2h","reason":"deploy"})"));
  EXPECT_NE(out().find("Lease 7 is active."), std::string::npos) << out();
  EXPECT_NE(out().find("203.0.113.7/32"), std::string::npos);
  EXPECT_NE(out().find("ssh, db"), std::string::npos);
  EXPECT_NE(out().find("(in 2h)"), std::string::npos) << out();
  // The rule that failed is reported, on stderr.
  EXPECT_NE(err().find("db (nftables): set is full"), std::string::npos) << err();
}

TEST_F(CliTest, OpenForACidrOrAnAccessGroup) {
  SaveLogin();
  http_.Reply(201, kLease);
  http_.Reply(201, kLease);
  ASSERT_EQ(Run({"open", "ssh", "--cidr", "198.51.100.0/28"}), 0);
  EXPECT_EQ(Body(0)["recipient"], json::parse(R"({"kind":"cidr","cidr":"198.51.100.0/28"})"));
  ASSERT_EQ(Run({"open", "--access-group", "bastions"}), 0);
  EXPECT_EQ(Body(1), json::parse(R"({"access_group":"bastions"})"));
}

TEST_F(CliTest, JsonPrintsTheServerReply) {
  SaveLogin();
  http_.Reply(201, kLease);
  ASSERT_EQ(Run({"open", "ssh", "--json"}), 0);
  EXPECT_EQ(json::parse(out()), json::parse(kLease));
}

TEST_F(CliTest, ServerRefusalExitsOne) {
  SaveLogin();
  http_.Reply(403, R"({"error":{"code":"not_permitted","message":"no policy allows ssh"}})");
  EXPECT_EQ(Run({"open", "ssh"}), kExitRefused);
  EXPECT_EQ(err(), "pinhole: no policy allows ssh (not_permitted)\n");
  EXPECT_EQ(out(), "");
}

TEST_F(CliTest, UnreachableExitsThree) {
  SaveLogin();
  http_.FailToConnect("Connection refused");
  EXPECT_EQ(Run({"ls"}), kExitUnreachable);
  EXPECT_EQ(err(),
            "pinhole: cannot reach server at https://p.example.com: Connection refused "
            "(unreachable)\n");
}

TEST_F(CliTest, ExpiredSessionGetsAHint) {
  SaveLogin();
  http_.Reply(401, R"({"error":{"code":"unauthenticated","message":"sign in first"}})");
  EXPECT_EQ(Run({"whoami"}), kExitRefused);
  EXPECT_NE(err().find("pinhole login"), std::string::npos) << err();
}

TEST_F(CliTest, LsShowsATableOfMyLeases) {
  SaveLogin();
  http_.Reply(200, std::string(R"({"items":[)") + kLease + "]}");
  ASSERT_EQ(Run({"ls"}), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases?mine=true");
  EXPECT_EQ(out(),
            "ID  STATE   SOURCE          SERVICES  EXPIRES  OWNER\n"
            "7   active  203.0.113.7/32  ssh, db   in 2h    alice@example.com\n");
}

TEST_F(CliTest, LsAllWithState) {
  SaveLogin();
  http_.Reply(200, R"({"items":[]})");
  ASSERT_EQ(Run({"ls", "--all", "--state", "pending_approval"}), 0);
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases?state=pending_approval");
  EXPECT_EQ(out(), "No leases.\n");
}

TEST_F(CliTest, CloseRenewShowAddressTheLease) {
  SaveLogin();
  http_.Reply(200, kLease);
  http_.Reply(200, kLease);
  http_.Reply(200, kLease);
  ASSERT_EQ(Run({"close", "7"}), 0);
  EXPECT_EQ(Request(0).method, "DELETE");
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases/7");
  ASSERT_EQ(Run({"renew", "7", "--for", "3h"}), 0);
  EXPECT_EQ(Request(1).url, std::string(kServer) + "/api/v1/leases/7/renew");
  EXPECT_EQ(Body(1), json::parse(R"({"duration":"3h"})"));
  ASSERT_EQ(Run({"show", "7"}), 0);
  EXPECT_EQ(Request(2).method, "GET");
  EXPECT_NE(out().find("set is full"), std::string::npos) << out();
}

TEST_F(CliTest, SavedTokenIsNeverSentToAnotherServer) {
  SaveLogin("https://a.example.com");
  EXPECT_EQ(Run({"ls", "--server", "https://b.example.com"}), kExitRefused);
  EXPECT_TRUE(http_.requests().empty());
  env_.token = "env-token";
  http_.Reply(200, R"({"items":[]})");
  EXPECT_EQ(Run({"ls", "--server", "https://b.example.com"}), 0);
  EXPECT_EQ(http_.Header(0, "Authorization"), "Bearer env-token");
}

TEST_F(CliTest, EnvironmentServerAndTlsFlags) {
  env_.server = "https://env.example.com";
  env_.token = "env-token";
  http_.Reply(200, R"({"user":{"email":"a@x","role":"admin"},"client_ip":"198.51.100.9"})");
  ASSERT_EQ(Run({"whoami", "--insecure"}), 0);
  EXPECT_EQ(Request(0).url, "https://env.example.com/api/v1/me");
  EXPECT_TRUE(transport_.insecure);
  EXPECT_NE(out().find("address seen by the server: 198.51.100.9"), std::string::npos) << out();
  EXPECT_NE(out().find("admin"), std::string::npos);
}

TEST_F(CliTest, LogoutEndsTheSessionAndRemovesTheFile) {
  SaveLogin();
  http_.Reply(204, "");
  ASSERT_EQ(Run({"logout"}), 0) << err();
  EXPECT_EQ(Request(0).method, "DELETE");
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/session");
  EXPECT_FALSE(std::filesystem::exists(CredentialsFile()));
  EXPECT_EQ(Run({"logout"}), 0);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CliTest, PasswdFromStdin) {
  SaveLogin();
  http_.Reply(204, "");
  ASSERT_EQ(Run({"passwd", "--password-stdin"}, "old\nnew\n"), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/me/password");
  EXPECT_EQ(Body(0), json::parse(R"({"current":"old","new":"new"})"));
  EXPECT_EQ(Run({"passwd", "--password-stdin"}, "only-one-line\n"), kExitUsage);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CliTest, AdminCreateMapsFlags) {
  SaveLogin();
  http_.Reply(201, R"({"id":3,"name":"default"})");
  ASSERT_EQ(
      Run({"admin",           "policies", "create",       "default",   "--group",         "ops",
           "--service",       "ssh",      "--service",    "db",        "--default",       "1h",
           "--max",           "10h",      "--recipients", "self,cidr", "--min-prefix-v4", "24",
           "--min-prefix-v6", "56"}),
      0)
      << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/policies");
  EXPECT_EQ(Body(0), json::parse(R"({"name":"default","groups":["ops"],"services":["ssh","db"],
      "default_duration":"1h","max_duration":"10h","recipients":["self","cidr"],
      "min_prefix":{"ipv4":24,"ipv6":56}})"));
  EXPECT_EQ(out(), "Created policy default (id 3).\n");
}

TEST_F(CliTest, AdminUpdateSendsOnlyGivenFlags) {
  SaveLogin();
  http_.Reply(200, R"({"id":9,"email":"bob@example.com"})");
  ASSERT_EQ(Run({"admin", "users", "update", "bob@example.com", "--enabled", "--group", ""}), 0)
      << err();
  EXPECT_EQ(Request(0).method, "PATCH");
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/users/bob@example.com");
  EXPECT_EQ(Body(0), json::parse(R"({"disabled":false,"groups":[]})"));
}

TEST_F(CliTest, AdminUpdateOfOneMinPrefixKeepsTheOther) {
  SaveLogin();
  http_.Reply(200, R"({"id":3,"name":"p","min_prefix":{"ipv4":24,"ipv6":56}})");
  http_.Reply(200, R"({"id":3,"name":"p"})");
  ASSERT_EQ(Run({"admin", "policies", "update", "p", "--min-prefix-v6", "64"}), 0) << err();
  EXPECT_EQ(Request(0).method, "GET");
  EXPECT_EQ(Request(1).method, "PATCH");
  EXPECT_EQ(Body(1), json::parse(R"({"min_prefix":{"ipv4":24,"ipv6":64}})"));
}

TEST_F(CliTest, AdminGeneratedPasswordIsSentAndShownOnce) {
  SaveLogin();
  http_.Reply(201, R"({"id":4,"email":"bob@example.com"})");
  ASSERT_EQ(Run({"admin", "users", "create", "bob@example.com", "--generate-password"}), 0);
  json body = Body(0);
  std::string password = body["password"];
  EXPECT_EQ(password.size(), 20u);
  EXPECT_EQ(body["must_change_password"], true);
  EXPECT_NE(out().find("Generated password: " + password), std::string::npos) << out();
}

TEST_F(CliTest, AdminNamesAreEscapedInPaths) {
  SaveLogin();
  http_.Reply(204, "");
  ASSERT_EQ(Run({"admin", "groups", "delete", "../users/1"}), 0);
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/groups/..%2Fusers%2F1");
}

TEST_F(CliTest, AdminListAndAudit) {
  SaveLogin();
  http_.Reply(200, R"({"items":[{"id":1,"name":"ssh","protocol":"tcp","ports":"22",
      "backend":"nftables","description":"bastion","target":{},"keep_established":false}]})");
  ASSERT_EQ(Run({"admin", "services", "ls"}), 0);
  EXPECT_EQ(out(),
            "ID  NAME  PROTOCOL  PORTS  BACKEND   DESCRIPTION\n"
            "1   ssh   tcp       22     nftables  bastion\n");
  http_.Reply(200, R"({"items":[{"seq":5,"time":"2026-11-21T09:30:00Z","actor":"a@x",
      "action":"lease.create","object":"lease/7","client_ip":"203.0.113.7"}],"next_after":5})");
  ASSERT_EQ(Run({"admin", "audit", "--after", "4", "--limit", "1"}), 0);
  EXPECT_EQ(Request(1).url, std::string(kServer) + "/api/v1/audit?after=4&limit=1");
  EXPECT_NE(out().find("lease.create"), std::string::npos);
  EXPECT_NE(err().find("--after 5"), std::string::npos);
}

// ---- issue 4: approvals, invitations, welcome emails, schedules, outbox ----

constexpr char kInvited[] = R"({"id":8,"owner":"alice@example.com","services":["ssh"],
  "recipient":{"kind":"invite","email":"guest@example.com"},"source_cidr":null,
  "state":"invited","created_at":"2026-11-21T09:30:00Z","expires_at":"2026-11-24T09:30:00Z",
  "duration":"1h","rules":[],"invitation":{"url":"https://p.example.com/invite/tok123",
  "expires_at":"2026-11-24T09:30:00Z","emailed":false}})";

TEST_F(CliTest, OpenInvitePrintsTheLink) {
  SaveLogin();
  http_.Reply(201, kInvited);
  ASSERT_EQ(Run({"open", "ssh", "--invite", "guest@example.com", "--no-email", "--invite-expires",
                 "3d"}),
            0)
      << err();
  EXPECT_EQ(Body(0), json::parse(R"({"services":["ssh"],"recipient":{"kind":"invite",
      "email":"guest@example.com","send_email":false,"expires_in":"3d"}})"));
  EXPECT_NE(out().find("Lease 8 is waiting for guest@example.com to accept the invitation."),
            std::string::npos)
      << out();
  EXPECT_NE(out().find("https://p.example.com/invite/tok123"), std::string::npos) << out();
  EXPECT_NE(out().find("no: pass the link on yourself"), std::string::npos) << out();
  // The invite options alone are a usage error, and nothing is sent.
  EXPECT_EQ(Run({"open", "ssh", "--no-email"}), kExitUsage);
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CliTest, LsShowsAnUnopenedInvitationByEmail) {
  SaveLogin();
  http_.Reply(200, std::string(R"({"items":[)") + kInvited + "]}");
  ASSERT_EQ(Run({"ls", "--state", "invited"}), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases?mine=true&state=invited");
  EXPECT_NE(out().find("invite: guest@example.com"), std::string::npos) << out();
}

TEST_F(CliTest, AdminApproveAndDeny) {
  SaveLogin();
  http_.Reply(200, kLease);
  ASSERT_EQ(Run({"admin", "approve", "7", "--reason", "ok for the release"}), 0) << err();
  EXPECT_EQ(Request(0).method, "POST");
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases/7/approve");
  EXPECT_EQ(Body(0), json::parse(R"({"reason":"ok for the release"})"));
  EXPECT_NE(out().find("Lease 7 was approved and is active."), std::string::npos) << out();

  std::string denied = json::parse(kLease).dump();
  json d = json::parse(denied);
  d["state"] = "denied";
  http_.Reply(200, d.dump());
  ASSERT_EQ(Run({"admin", "deny", "7"}), 0) << err();
  EXPECT_EQ(Request(1).url, std::string(kServer) + "/api/v1/leases/7/deny");
  EXPECT_EQ(Body(1), json::object());
  EXPECT_NE(out().find("Lease 7 was denied."), std::string::npos) << out();

  http_.Reply(409, R"({"error":{"code":"not_pending","message":"lease 7 is active"}})");
  EXPECT_EQ(Run({"admin", "approve", "7"}), kExitRefused);
  EXPECT_EQ(err(), "pinhole: lease 7 is active (not_pending)\n");
  EXPECT_EQ(Run({"admin", "approve"}), kExitUsage);  // the id is required
  EXPECT_EQ(http_.requests().size(), 3u);
}

TEST_F(CliTest, AdminPendingListsWaitingRequests) {
  SaveLogin();
  http_.Reply(200, R"({"items":[{"id":12,"owner":"bob@example.com","services":["db"],
      "recipient":{"kind":"self"},"source_cidr":"198.51.100.4/32","state":"pending_approval",
      "duration":"2h","reason":"migration","created_at":"2026-11-21T09:00:00Z",
      "expires_at":"2026-11-22T09:00:00Z"}]})");
  ASSERT_EQ(Run({"admin", "pending"}), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/leases?state=pending_approval");
  EXPECT_EQ(out(),
            "ID  OWNER            SERVICES  SOURCE           FOR  ASKED    DECIDE BY  REASON\n"
            "12  bob@example.com  db        198.51.100.4/32  2h   30m ago  in 1d      migration\n");
  http_.Reply(200, R"({"items":[]})");
  ASSERT_EQ(Run({"admin", "pending"}), 0);
  EXPECT_EQ(out(), "Nothing is waiting for approval.\n");
}

TEST_F(CliTest, AdminUsersCreateWithWelcomeEmail) {
  SaveLogin();
  http_.Reply(201, R"({"id":4,"email":"bob@example.com"})");
  ASSERT_EQ(Run({"admin", "users", "create", "bob@example.com", "--send-welcome"}), 0) << err();
  EXPECT_EQ(Body(0), json::parse(R"({"email":"bob@example.com","send_welcome":true})"));
  http_.Reply(201, R"({"id":5,"email":"eve@example.com"})");
  ASSERT_EQ(Run({"admin", "users", "create", "eve@example.com", "--send-welcome",
                 "--include-password", "--generate-password"}),
            0)
      << err();
  json body = Body(1);
  EXPECT_EQ(body["send_welcome"], true);
  EXPECT_EQ(body["include_password"], true);
  EXPECT_EQ(body["password"].get<std::string>().size(), 20u);
  // Without a password to include, or without the email: usage errors.
  EXPECT_EQ(Run({"admin", "users", "create", "x@example.com", "--send-welcome",
                 "--include-password"}),
            kExitUsage);
  EXPECT_EQ(Run({"admin", "users", "create", "x@example.com", "--include-password",
                 "--generate-password"}),
            kExitUsage);
  EXPECT_EQ(http_.requests().size(), 2u);
  // Update has no welcome email.
  EXPECT_EQ(Run({"admin", "users", "update", "bob@example.com", "--send-welcome"}), kExitUsage);
}

TEST_F(CliTest, AdminPolicyApprovalAndScheduleFlags) {
  SaveLogin();
  http_.Reply(201, R"({"id":3,"name":"office"})");
  ASSERT_EQ(Run({"admin", "policies", "create", "office", "--group", "ops", "--service", "ssh",
                 "--approval", "admin", "--activate-on", "next_login", "--notify-admins",
                 "--schedule-tz", "Europe/Berlin", "--window", "mon-fri 08:00-18:00", "--window",
                 "sat 09:00-12:00", "--may-outlive-window"}),
            0)
      << err();
  EXPECT_EQ(Body(0), json::parse(R"({"name":"office","groups":["ops"],"services":["ssh"],
      "approval":"admin","activate_on":"next_login","notify_admins":true,
      "may_outlive_window":true,"schedule":{"timezone":"Europe/Berlin","windows":[
      {"days":["mon","tue","wed","thu","fri"],"from":"08:00","to":"18:00"},
      {"days":["sat"],"from":"09:00","to":"12:00"}]}})"));
  // A window without a time zone, or a malformed one: usage errors, nothing sent.
  EXPECT_EQ(Run({"admin", "policies", "create", "p", "--window", "mon-fri 08:00-18:00"}),
            kExitUsage);
  EXPECT_EQ(Run({"admin", "policies", "create", "p", "--schedule-tz", "UTC", "--window",
                 "mon-fri 8-18"}),
            kExitUsage);
  EXPECT_NE(err().find("HH:MM"), std::string::npos) << err();
  EXPECT_EQ(http_.requests().size(), 1u);
}

TEST_F(CliTest, AdminPolicyUpdateCompletesOrClearsTheSchedule) {
  SaveLogin();
  http_.Reply(200, R"({"id":3,"name":"p","schedule":{"timezone":"Europe/Berlin",
      "windows":[{"days":["mon"],"from":"08:00","to":"18:00"}]}})");
  http_.Reply(200, R"({"id":3,"name":"p"})");
  ASSERT_EQ(Run({"admin", "policies", "update", "p", "--window", "tue-wed 22:00-02:00"}), 0)
      << err();
  EXPECT_EQ(Request(0).method, "GET");
  EXPECT_EQ(Request(1).method, "PATCH");
  EXPECT_EQ(Body(1), json::parse(R"({"schedule":{"timezone":"Europe/Berlin","windows":[
      {"days":["tue","wed"],"from":"22:00","to":"02:00"}]}})"));
  http_.Reply(200, R"({"id":3,"name":"p"})");
  ASSERT_EQ(Run({"admin", "policies", "update", "p", "--window", "", "--no-may-outlive-window"}),
            0)
      << err();
  EXPECT_EQ(Request(2).method, "PATCH");
  EXPECT_EQ(Body(2), json::parse(R"({"schedule":null,"may_outlive_window":false})"));
  // Only a time zone, but the policy has no schedule to keep the windows of.
  http_.Reply(200, R"({"id":3,"name":"p","schedule":null})");
  EXPECT_EQ(Run({"admin", "policies", "update", "p", "--schedule-tz", "UTC"}), kExitUsage);
  EXPECT_EQ(http_.requests().size(), 4u);  // the GET, no PATCH
}

TEST_F(CliTest, AdminOutboxListsDeliveries) {
  SaveLogin();
  http_.Reply(200, R"({"items":[{"id":3,"channel":"email","target":"ops@example.com",
      "event":"approval.requested","subject":"Approve?","state":"pending","attempts":2,
      "created_at":"2026-11-21T09:00:00Z","next_attempt_at":"2026-11-21T09:35:00Z",
      "last_error":"connection refused","sent_at":null}]})");
  ASSERT_EQ(Run({"admin", "outbox", "--state", "pending", "--limit", "5"}), 0) << err();
  EXPECT_EQ(Request(0).url, std::string(kServer) + "/api/v1/outbox?limit=5&state=pending");
  EXPECT_EQ(out(),
            "ID  STATE    CHANNEL  TARGET           EVENT               TRIES  CREATED  "
            "NEXT/SENT  LAST ERROR\n"
            "3   pending  email    ops@example.com  approval.requested  2      30m ago  "
            "in 5m      connection refused\n");
  EXPECT_EQ(Run({"admin", "outbox", "--state", "lost"}), kExitUsage);
}

TEST_F(CliTest, HelpListsTheNewCommands) {
  EXPECT_EQ(Run({"admin", "--help"}), 0);
  for (const char* name : {"approve", "deny", "pending", "outbox"}) {
    EXPECT_NE(out().find(name), std::string::npos) << name << "\n" << out();
  }
  EXPECT_EQ(Run({"open", "--help"}), 0);
  EXPECT_NE(out().find("--invite-expires"), std::string::npos) << out();
  EXPECT_NE(out().find("--no-email"), std::string::npos) << out();
  EXPECT_EQ(Run({"admin", "policies", "create", "--help"}), 0);
  for (const char* flag : {"--window", "--schedule-tz", "--activate-on", "--may-outlive-window"}) {
    EXPECT_NE(out().find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace pinhole::cli
