// The EC2 client and the credential chain against a real moto_server with
// IAM checking on (INITIAL_NO_AUTH_ACTION_COUNT): moto verifies every SigV4
// signature and evaluates the caller's IAM policy. Skipped when moto_server
// is not installed. Everything listens on 127.0.0.1 and is stopped at the end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "cli/temp_dir.h"
#include "enforce/aws/credentials.h"
#include "enforce/aws/ec2_client.h"
#include "enforce/aws_child_process.h"
#include "enforce/aws_fakes.h"

namespace pinhole::aws {
namespace {

using testing::ChildProcess;
using testing::FindProgram;

const std::string kData = std::string(PINHOLE_TEST_DATA_DIR) + "/aws";
// Exactly the actions the client calls (what `pinhole admin aws-iam-policy`
// must grant).
const char kActions[] =
    "ec2:AuthorizeSecurityGroupIngress,ec2:RevokeSecurityGroupIngress,"
    "ec2:DescribeSecurityGroupRules,ec2:DescribeSecurityGroups,ec2:ModifySecurityGroupRules,"
    "ec2:CreateTags";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A TCP connect, not an HTTP request: moto counts every request against
// INITIAL_NO_AUTH_ACTION_COUNT.
bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Counts what reaches the wire, to prove "one attempt, no retry storm".
class CountingTransport final : public HttpTransport {
 public:
  explicit CountingTransport(std::shared_ptr<HttpTransport> inner) : inner_(std::move(inner)) {}
  Result<HttpResponse> Send(const HttpRequest& r) override {
    ++count;
    return inner_->Send(r);
  }
  std::atomic<int> count{0};

 private:
  std::shared_ptr<HttpTransport> inner_;
};

class AwsMotoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string moto = FindProgram("moto_server");
    std::string python = FindProgram("python3");
    if (moto.empty() || python.empty()) return;
    dir_ = new cli::TempDir();
    port_ = FreePort();
    endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
    moto_ = new ChildProcess({moto, "-H", "127.0.0.1", "-p", std::to_string(port_)},
                             {{"INITIAL_NO_AUTH_ACTION_COUNT", "12"}},
                             (dir_->path() / "moto.log").string());
    for (int i = 0; i < 300 && !Listening(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ChildProcess setup({python, kData + "/moto_setup.py", endpoint_, kActions}, {});
    std::optional<std::string> line = setup.ReadLine(std::chrono::seconds(60));
    if (line) setup_ = new nlohmann::json(nlohmann::json::parse(*line, nullptr, false));
  }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
    delete setup_;
    setup_ = nullptr;
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (moto_ == nullptr) GTEST_SKIP() << "moto_server or python3 not installed";
    ASSERT_NE(setup_, nullptr) << "moto setup failed; see the moto log";
    ASSERT_TRUE(setup_->is_object());
  }

  std::string S(const char* key) { return (*setup_)[key].get<std::string>(); }

  // A client whose credential chain sees only `env` (and files under it).
  std::unique_ptr<Ec2Api> Client(std::map<std::string, std::string> env, std::string profile = "",
                                 std::string imds = "http://127.0.0.1:9") {
    counting_ = std::make_shared<CountingTransport>(NewCurlTransport());
    auto chain =
        NewCredentialChain({.profile = std::move(profile),
                            .sts_endpoint = endpoint_,
                            .imds_endpoint = std::move(imds),
                            .timeout = std::chrono::seconds(10),
                            .transport = counting_,
                            .env = [env](const std::string& n) -> std::optional<std::string> {
                              auto it = env.find(n);
                              if (it == env.end()) return std::nullopt;
                              return it->second;
                            }});
    auto client =
        NewEc2Client({.endpoint_template = endpoint_, .timeout = std::chrono::seconds(10)},
                     {.transport = counting_, .credentials = chain});
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return std::move(client).value();
  }

  std::map<std::string, std::string> UserEnv() {
    return {{"AWS_ACCESS_KEY_ID", S("key_id")},
            {"AWS_SECRET_ACCESS_KEY", S("secret")},
            {"HOME", dir_->path().string()}};
  }

  // The group's inbound rules as an independent client (botocore) sees them.
  nlohmann::json BotocoreRules(const std::string& group) {
    ChildProcess p({FindProgram("python3"), kData + "/rules_via_botocore.py", endpoint_,
                    S("key_id"), S("secret"), group},
                   {});
    std::optional<std::string> line = p.ReadLine(std::chrono::seconds(30));
    EXPECT_TRUE(line.has_value());
    return line ? nlohmann::json::parse(*line, nullptr, false) : nlohmann::json();
  }

  static cli::TempDir* dir_;
  static int port_;
  static std::string endpoint_;
  static ChildProcess* moto_;
  static nlohmann::json* setup_;
  std::shared_ptr<CountingTransport> counting_;
};

cli::TempDir* AwsMotoTest::dir_ = nullptr;
int AwsMotoTest::port_ = 0;
std::string AwsMotoTest::endpoint_;
ChildProcess* AwsMotoTest::moto_ = nullptr;
nlohmann::json* AwsMotoTest::setup_ = nullptr;

IngressRule Rule(std::string proto, int port, std::string cidr, std::string desc) {
  return IngressRule{.protocol = std::move(proto),
                     .from_port = port,
                     .to_port = port,
                     .cidr = std::move(cidr),
                     .description = std::move(desc)};
}

TEST_F(AwsMotoTest, AuthorizeDescribeUpdateRevokeWithSignedRequests) {
  auto ec2 = Client(UserEnv());
  const std::string sg = S("sg1");
  ASSERT_TRUE(ec2->CheckGroups("us-east-1", {S("sg1"), S("sg2")}).ok());
  Status missing = ec2->CheckGroups("us-east-1", {S("sg1"), "sg-0123456789abcdef0"});
  EXPECT_EQ(missing.reason(), "InvalidGroup.NotFound") << missing.ToString();

  const std::map<std::string, std::string> tags = {{"pinhole:owner", "moto-test"},
                                                   {"pinhole:lease", "7"}};
  auto created = ec2->AuthorizeIngress(
      "us-east-1", sg,
      {Rule("tcp", 22, "198.51.100.7/32", "pinhole lease 7 until 2026-11-21T15:00:00Z"),
       Rule("tcp", 22, "2001:db8::/64", "pinhole lease 7 until 2026-11-21T15:00:00Z"),
       Rule("udp", 51820, "203.0.113.9/32", "pinhole lease 7 until 2026-11-21T15:00:00Z")},
      tags);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 3u);
  std::set<std::string> ids;
  for (const IngressRule& r : *created) {
    EXPECT_EQ(r.rule_id.rfind("sgr-", 0), 0u) << r.rule_id;
    ids.insert(r.rule_id);
  }
  EXPECT_EQ(ids.size(), 3u);

  // Ours by tag; the hand-made rule only in the unfiltered view.
  auto ours = ec2->DescribeIngress("us-east-1", sg, "pinhole:owner");
  ASSERT_TRUE(ours.ok()) << ours.status().ToString();
  EXPECT_EQ(ours->size(), 3u);
  for (const IngressRule& r : *ours) {
    EXPECT_TRUE(ids.count(r.rule_id)) << r.rule_id;
    EXPECT_EQ(r.tags.at("pinhole:lease"), "7");
    EXPECT_EQ(r.group_id, sg);
  }
  auto all = ec2->DescribeIngress("us-east-1", sg);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
  bool saw_hand = false;
  for (const IngressRule& r : *all) saw_hand |= r.rule_id == S("hand_rule");
  EXPECT_TRUE(saw_hand);

  // An independent client sees the same rules, tags and descriptions.
  nlohmann::json seen = BotocoreRules(sg);
  ASSERT_TRUE(seen.is_array());
  EXPECT_EQ(seen.size(), 4u);
  for (const auto& r : seen) {
    if (ids.count(r["id"].get<std::string>())) {
      EXPECT_EQ(r["tags"]["pinhole:owner"], "moto-test");
      EXPECT_EQ(r["description"], "pinhole lease 7 until 2026-11-21T15:00:00Z");
    }
  }

  // The same rule again: AWS's duplicate code, verbatim.
  auto dup = ec2->AuthorizeIngress("us-east-1", sg, {Rule("tcp", 22, "198.51.100.7/32", "")}, tags);
  EXPECT_EQ(dup.status().reason(), "InvalidPermission.Duplicate") << dup.status().ToString();

  // New expiry in the description and a tag, without a revoke/add gap.
  std::vector<IngressRule> refresh = *created;
  for (IngressRule& r : refresh) r.description = "pinhole lease 7 until 2026-11-21T16:00:00Z";
  Status upd =
      ec2->UpdateRules("us-east-1", sg, refresh, {{"pinhole:expires", "2026-11-21T16:00:00Z"}});
  ASSERT_TRUE(upd.ok()) << upd.ToString();
  auto after = ec2->DescribeIngress("us-east-1", sg, "pinhole:owner");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  for (const IngressRule& r : *after) {
    EXPECT_EQ(r.description, "pinhole lease 7 until 2026-11-21T16:00:00Z") << r.rule_id;
    EXPECT_EQ(r.tags.at("pinhole:expires"), "2026-11-21T16:00:00Z");
    EXPECT_EQ(r.tags.at("pinhole:lease"), "7");
  }

  Status revoked = ec2->RevokeIngress("us-east-1", sg, {ids.begin(), ids.end()});
  ASSERT_TRUE(revoked.ok()) << revoked.ToString();
  auto left = ec2->DescribeIngress("us-east-1", sg);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].rule_id, S("hand_rule"));
  EXPECT_EQ((*left)[0].description, "office");

  // Revoking them again: the not-found code, verbatim.
  Status again = ec2->RevokeIngress("us-east-1", sg, {*ids.begin()});
  EXPECT_EQ(again.code(), Code::kNotFound) << again.ToString();
  EXPECT_TRUE(again.reason() == "InvalidPermission.NotFound" ||
              again.reason() == "InvalidSecurityGroupRuleId.NotFound")
      << again.reason();
}

TEST_F(AwsMotoTest, OneClientFromManyThreads) {
  auto ec2 = Client(UserEnv());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string cidr = "203.0.113." + std::to_string(10 + t) + "/32";
      for (int i = 0; i < 5; ++i) {
        auto added =
            ec2->AuthorizeIngress("us-east-1", S("sg2"), {Rule("tcp", 9000 + i, cidr, "t")},
                                  {{"pinhole:owner", "threads"}});
        if (!added.ok() || added->size() != 1) {
          ++failures;
          continue;
        }
        if (!ec2->DescribeIngress("us-east-1", S("sg2"), "pinhole:owner").ok()) ++failures;
        if (!ec2->RevokeIngress("us-east-1", S("sg2"), {(*added)[0].rule_id}).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(counting_->count.load(), 4 * 5 * 3);
  auto left = ec2->DescribeIngress("us-east-1", S("sg2"), "pinhole:owner");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
}

TEST_F(AwsMotoTest, WrongSecretIsAuthFailureAfterOneAttempt) {
  auto env = UserEnv();
  env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret";
  auto ec2 = Client(env);
  Result<std::vector<IngressRule>> r = ec2->DescribeIngress("us-east-1", S("sg1"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "AuthFailure") << r.status().ToString();
  EXPECT_EQ(r.status().code(), Code::kPermissionDenied);
  EXPECT_FALSE(IsRetryable(r.status()));
  EXPECT_EQ(counting_->count.load(), 1);
  EXPECT_EQ(r.status().message().find("not-the-secret"), std::string::npos);
}

TEST_F(AwsMotoTest, PolicyWithoutAnActionNamesIt) {
  auto ec2 = Client(
      {{"AWS_ACCESS_KEY_ID", S("partial_key_id")}, {"AWS_SECRET_ACCESS_KEY", S("partial_secret")}});
  auto created = ec2->AuthorizeIngress("us-east-1", S("sg2"),
                                       {Rule("tcp", 8443, "198.51.100.8/32", "partial")}, {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 1u);
  IngressRule r = (*created)[0];
  r.description = "changed";
  Status st = ec2->UpdateRules("us-east-1", S("sg2"), {r}, {});
  EXPECT_EQ(st.code(), Code::kPermissionDenied) << st.ToString();
  // moto says AccessDenied, AWS says UnauthorizedOperation; both name the action.
  EXPECT_TRUE(st.reason() == "AccessDenied" || st.reason() == "UnauthorizedOperation")
      << st.reason();
  EXPECT_NE(st.message().find("ec2:ModifySecurityGroupRules"), std::string::npos) << st.message();
  EXPECT_TRUE(ec2->RevokeIngress("us-east-1", S("sg2"), {r.rule_id}).ok());
}

TEST_F(AwsMotoTest, AssumeRoleThroughMotoSts) {
  std::ofstream(dir_->path() / "credentials")
      << "[base]\naws_access_key_id = " << S("key_id")
      << "\naws_secret_access_key = " << S("secret") << "\n";
  std::ofstream(dir_->path() / "config") << "[profile pinhole]\nrole_arn = " << S("role_arn")
                                         << "\nsource_profile = base\nregion = us-east-1\n";
  auto ec2 = Client({{"AWS_SHARED_CREDENTIALS_FILE", (dir_->path() / "credentials").string()},
                     {"AWS_CONFIG_FILE", (dir_->path() / "config").string()},
                     {"AWS_PROFILE", "pinhole"}});
  auto rules = ec2->DescribeIngress("us-east-1", S("sg1"));
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_GE(counting_->count.load(), 2);  // AssumeRole, then the EC2 call
  int before = counting_->count.load();
  ASSERT_TRUE(ec2->DescribeIngress("us-east-1", S("sg1")).ok());
  EXPECT_EQ(counting_->count.load(), before + 1) << "the role's credentials are cached";
}

TEST_F(AwsMotoTest, ImdsV2ServedByTheTest) {
  ChildProcess imds({FindProgram("python3"), kData + "/imds_fake.py", S("key_id"), S("secret")},
                    {});
  std::optional<std::string> port = imds.ReadLine(std::chrono::seconds(20));
  ASSERT_TRUE(port.has_value());
  auto ec2 =
      Client({{"HOME", dir_->path().string() + "/empty-home"}}, "", "http://127.0.0.1:" + *port);
  Status st = ec2->CheckGroups("us-east-1", {S("sg1")});
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(counting_->count.load(), 4);  // token, role, credentials, DescribeSecurityGroups
}

}  // namespace
}  // namespace pinhole::aws
