// The credential chain with files in a temp dir, injected environment, and a
// scripted STS / instance metadata service; a manual clock drives refreshes.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/temp_dir.h"
#include "enforce/aws/credentials.h"
#include "enforce/aws/xml.h"
#include "enforce/aws_fakes.h"

namespace pinhole::aws {
namespace {

using testing::FakeTransport;
using testing::FormFields;
using testing::HeaderOf;
using testing::Ok;
using testing::Reply;

class AwsCredentialChainTest : public ::testing::Test {
 protected:
  AwsCredentialChainTest()
      : clock_(std::make_shared<ManualClock>(*ParseTime("2026-11-21T10:00:00Z"))) {
    env_["HOME"] = dir_.path().string();
  }

  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir_.path() / rel).parent_path());
    std::ofstream(dir_.path() / rel) << text;
  }

  std::shared_ptr<CredentialsProvider> Chain(FakeTransport::Handler handler = nullptr,
                                             std::string profile = "") {
    if (!handler) {
      handler = [](const HttpRequest&) -> Result<HttpResponse> {
        return Status(Code::kUnavailable, "aws_transport", "connection refused");
      };
    }
    transport_ = std::make_shared<FakeTransport>(std::move(handler));
    return NewCredentialChain({.profile = std::move(profile),
                               .sts_endpoint = "http://sts.test/{region}",
                               .imds_endpoint = "http://imds.test/",
                               .transport = transport_,
                               .clock = clock_,
                               .env = [this](const std::string& n) -> std::optional<std::string> {
                                 auto it = env_.find(n);
                                 if (it == env_.end()) return std::nullopt;
                                 return it->second;
                               }});
  }

  cli::TempDir dir_;
  std::map<std::string, std::string> env_;
  std::shared_ptr<ManualClock> clock_;
  std::shared_ptr<FakeTransport> transport_;
};

std::string AssumeRoleXml(const std::string& key, const std::string& expiration) {
  return "<AssumeRoleResponse "
         "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
         "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn></AssumedRoleUser>"
         "<Credentials><SessionToken>TOKEN-" +
         key + "</SessionToken><SecretAccessKey>SECRET-" + key + "</SecretAccessKey><Expiration>" +
         expiration + "</Expiration><AccessKeyId>" + key +
         "</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>";
}

TEST_F(AwsCredentialChainTest, EnvironmentComesFirst) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "envsecret";
  env_["AWS_SESSION_TOKEN"] = "envtoken";
  Write(".aws/credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = f\n");
  auto c = Chain()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAENV");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "envtoken");
  EXPECT_EQ(c->source, "environment");
  EXPECT_EQ(transport_->count(), 0u);
}

TEST_F(AwsCredentialChainTest, HalfSetEnvironmentIsAnError) {
  env_["AWS_ACCESS_KEY_ID"] = "AKIAENV";
  auto c = Chain()->Get();
  EXPECT_EQ(c.status().reason(), "aws_credentials");
  EXPECT_NE(c.status().message().find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST_F(AwsCredentialChainTest, DefaultProfileFromTheCredentialsFile) {
  Write(".aws/credentials",
        "# comment\n[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key =  s3cr3t  \n"
        "aws_session_token = tok\n[other]\naws_access_key_id = O\naws_secret_access_key = o\n");
  auto c = Chain()->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKIAFILE");
  EXPECT_EQ(c->secret_access_key, "s3cr3t");
  EXPECT_EQ(c->session_token, "tok");
  EXPECT_EQ(c->source, "profile default");
}

TEST_F(AwsCredentialChainTest, NamedProfileFromEnvOrOptionsAndFileLocationsFromEnv) {
  Write("elsewhere/creds", "[dev]\naws_access_key_id = DEV\naws_secret_access_key = d\n");
  Write("elsewhere/config", "[profile cfg]\naws_access_key_id = CFG\naws_secret_access_key = c\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = (dir_.path() / "elsewhere/creds").string();
  env_["AWS_CONFIG_FILE"] = (dir_.path() / "elsewhere/config").string();
  env_["AWS_PROFILE"] = "dev";
  EXPECT_EQ(Chain()->Get()->access_key_id, "DEV");
  EXPECT_EQ(Chain(nullptr, "cfg")->Get()->access_key_id, "CFG");
  // An explicit profile also wins over keys in the environment.
  env_["AWS_ACCESS_KEY_ID"] = "ENV";
  env_["AWS_SECRET_ACCESS_KEY"] = "e";
  EXPECT_EQ(Chain(nullptr, "cfg")->Get()->access_key_id, "CFG");
  EXPECT_EQ(Chain()->Get()->access_key_id, "ENV");
}

TEST_F(AwsCredentialChainTest, MissingNamedProfileIsAnErrorNotAFallback) {
  Write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
  env_["AWS_PROFILE"] = "nope";
  auto c = Chain()->Get();
  EXPECT_EQ(c.status().reason(), "aws_credentials");
  EXPECT_NE(c.status().message().find("nope"), std::string::npos);
  EXPECT_EQ(transport_->count(), 0u);
}

TEST_F(AwsCredentialChainTest, MalformedFileIsReportedAndPickedUpOnceFixed) {
  Write(".aws/credentials", "[default\naws_access_key_id = A\n");
  auto chain = Chain();
  auto c = chain->Get();
  EXPECT_EQ(c.status().reason(), "aws_credentials");
  EXPECT_NE(c.status().message().find("credentials"), std::string::npos);
  Write(".aws/credentials", "[default]\naws_access_key_id = A\naws_secret_access_key = s\n");
  EXPECT_EQ(chain->Get()->access_key_id, "A");
}

TEST_F(AwsCredentialChainTest, ProfileWithoutKeysIsAnError) {
  Write(".aws/config", "[default]\nregion = eu-west-1\n");
  auto c = Chain()->Get();
  EXPECT_EQ(c.status().reason(), "aws_credentials");
}

TEST_F(AwsCredentialChainTest, AssumeRoleThroughSourceProfileSignedAndCached) {
  Write(".aws/credentials",
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = basesecret\n");
  Write(".aws/config",
        "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/pinhole\nsource_profile = base\n"
        "role_session_name = pinhole-test\nexternal_id = ext-1\nduration_seconds = 1800\n"
        "region = eu-central-1\n");
  int calls = 0;
  auto chain = Chain(
      [&](const HttpRequest& r) -> Result<HttpResponse> {
        ++calls;
        return Ok(
            AssumeRoleXml("ASIA" + std::to_string(calls),
                          calls == 1 ? "2026-11-21T11:00:00Z" : "2026-11-21T12:00:00.123456Z"));
      },
      "ops");
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIA1");
  EXPECT_EQ(c->secret_access_key, "SECRET-ASIA1");
  EXPECT_EQ(c->session_token, "TOKEN-ASIA1");
  EXPECT_EQ(c->expiration, ParseTime("2026-11-21T11:00:00Z"));
  EXPECT_EQ(c->source, "assume-role arn:aws:iam::123456789012:role/pinhole");

  ASSERT_EQ(transport_->count(), 1u);
  HttpRequest req = transport_->requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://sts.test/eu-central-1");
  auto f = FormFields(req.body);
  EXPECT_EQ(f["Action"], "AssumeRole");
  EXPECT_EQ(f["Version"], "2011-06-15");
  EXPECT_EQ(f["RoleArn"], "arn:aws:iam::123456789012:role/pinhole");
  EXPECT_EQ(f["RoleSessionName"], "pinhole-test");
  EXPECT_EQ(f["ExternalId"], "ext-1");
  EXPECT_EQ(f["DurationSeconds"], "1800");
  EXPECT_EQ(
      HeaderOf(req, "Authorization")
          .rfind("AWS4-HMAC-SHA256 Credential=AKIABASE/20261121/eu-central-1/sts/aws4_request", 0),
      0u);
  EXPECT_EQ(req.body.find("basesecret"), std::string::npos);

  // Cached until five minutes before expiry, then refreshed.
  clock_->Advance(std::chrono::minutes(50));
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA1");
  EXPECT_EQ(calls, 1);
  clock_->Advance(std::chrono::minutes(6));
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA2");
  EXPECT_EQ(calls, 2);
  // Invalidate forces a new AssumeRole.
  chain->Invalidate();
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA3");
}

TEST_F(AwsCredentialChainTest, AssumeRoleDeniedKeepsTheStsCodeAndNoSecret) {
  Write(".aws/credentials",
        "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = basesecret\n");
  Write(".aws/config", "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
  auto chain = Chain([](const HttpRequest&) -> Result<HttpResponse> {
    return Reply(403,
                 "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User "
                 "basesecret is not authorized to perform: sts:AssumeRole</Message></Error>"
                 "<RequestId>x</RequestId></ErrorResponse>");
  });
  auto c = chain->Get();
  EXPECT_EQ(c.status().reason(), "AccessDenied");
  EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  EXPECT_NE(c.status().message().find("sts:AssumeRole"), std::string::npos);
  EXPECT_EQ(c.status().message().find("basesecret"), std::string::npos);
  // The default STS region when nothing names one.
  EXPECT_EQ(transport_->requests()[0].url, "http://sts.test/us-east-1");
}

TEST_F(AwsCredentialChainTest, RoleChainsLoopsAndBadSettings) {
  Write(".aws/config",
        "[profile a]\nrole_arn = arn:1\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:2\nsource_profile = a\n"
        "[profile self]\nrole_arn = arn:3\nsource_profile = self\naws_access_key_id = S\n"
        "aws_secret_access_key = s\n"
        "[profile nosource]\nrole_arn = arn:4\n"
        "[profile both]\nrole_arn = arn:5\nsource_profile = self\ncredential_source = Environment\n"
        "[profile weird]\nrole_arn = arn:6\ncredential_source = EcsContainer\n"
        "[profile dur]\nrole_arn = arn:7\nsource_profile = self\nduration_seconds = 60\n"
        "[profile envsrc]\nrole_arn = arn:8\ncredential_source = Environment\n");
  auto handler = [](const HttpRequest&) -> Result<HttpResponse> {
    return Ok(AssumeRoleXml("ASIAX", "2026-11-21T11:00:00Z"));
  };
  EXPECT_NE(Chain(handler, "a")->Get().status().message().find("loop"), std::string::npos);
  EXPECT_TRUE(Chain(handler, "self")->Get().ok());
  EXPECT_NE(HeaderOf(transport_->requests()[0], "Authorization").find("Credential=S/"),
            std::string::npos);
  EXPECT_EQ(Chain(handler, "nosource")->Get().status().reason(), "aws_credentials");
  EXPECT_EQ(Chain(handler, "both")->Get().status().reason(), "aws_credentials");
  EXPECT_EQ(Chain(handler, "weird")->Get().status().reason(), "aws_credentials");
  EXPECT_EQ(Chain(handler, "dur")->Get().status().reason(), "aws_credentials");
  EXPECT_EQ(Chain(handler, "envsrc")->Get().status().reason(), "aws_credentials");
  env_["AWS_ACCESS_KEY_ID"] = "E";
  env_["AWS_SECRET_ACCESS_KEY"] = "e";
  EXPECT_TRUE(Chain(handler, "envsrc")->Get().ok());
}

// A scripted IMDSv2: PUT token, then role name, then the credentials JSON.
class FakeImds {
 public:
  Result<HttpResponse> Handle(const HttpRequest& r) {
    if (down) return Status(Code::kUnavailable, "aws_transport", "connection refused");
    if (r.url == "http://imds.test/latest/api/token") {
      if (r.method != "PUT" || HeaderOf(r, "X-aws-ec2-metadata-token-ttl-seconds").empty()) {
        return Reply(400, "");
      }
      ++tokens;
      return Ok("tok-" + std::to_string(tokens));
    }
    if (HeaderOf(r, "X-aws-ec2-metadata-token") != "tok-" + std::to_string(tokens)) {
      return Reply(401, "");
    }
    if (r.url == "http://imds.test/latest/meta-data/iam/security-credentials/")
      return Ok(role + "\n");
    if (r.url == "http://imds.test/latest/meta-data/iam/security-credentials/" + role) {
      ++fetches;
      return Ok(R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS)" +
                std::to_string(fetches) +
                R"(","SecretAccessKey":"imdssecret","Token":"imdstoken",)"
                R"("Expiration":")" +
                expiration + "\"}");
    }
    return Reply(404, "");
  }
  std::string role = "web-role";
  std::string expiration = "2026-11-21T16:00:00Z";
  int tokens = 0;
  int fetches = 0;
  bool down = false;
};

TEST_F(AwsCredentialChainTest, ImdsV2WhenNothingElseIsConfiguredAndRefreshBeforeExpiry) {
  FakeImds imds;
  auto chain = Chain([&](const HttpRequest& r) { return imds.Handle(r); });
  auto c = chain->Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS1");
  EXPECT_EQ(c->session_token, "imdstoken");
  EXPECT_EQ(c->source, "imds role web-role");
  EXPECT_EQ(c->expiration, ParseTime("2026-11-21T16:00:00Z"));
  EXPECT_EQ(imds.tokens, 1);

  clock_->Advance(std::chrono::hours(5));  // 15:00, an hour before expiry
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAIMDS1");
  imds.expiration = "2026-11-21T22:00:00Z";
  clock_->Advance(std::chrono::minutes(56));  // 15:56, inside the refresh window
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAIMDS2");
  EXPECT_EQ(imds.tokens, 1) << "the session token is reused while valid";

  // IMDS down during a refresh: the still-valid credentials are kept...
  clock_->Advance(std::chrono::hours(6) + std::chrono::minutes(1));  // 21:57
  imds.down = true;
  auto kept = chain->Get();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "ASIAIMDS2");
  // ...until they expire; then the outage is reported as retryable.
  clock_->Advance(std::chrono::minutes(10));
  auto gone = chain->Get();
  EXPECT_EQ(gone.status().reason(), "aws_imds");
  EXPECT_EQ(gone.status().code(), Code::kUnavailable);
  imds.down = false;
  EXPECT_EQ(chain->Get()->access_key_id, "ASIAIMDS3");
  EXPECT_GE(imds.tokens, 2) << "the old session token was older than its TTL";
}

TEST_F(AwsCredentialChainTest, NoCredentialsAnywhere) {
  auto chain = Chain();
  auto c = chain->Get();
  EXPECT_EQ(c.status().reason(), "aws_no_credentials");
  EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  EXPECT_NE(c.status().message().find("http://imds.test"), std::string::npos);
  // The unreachable metadata service is not asked again on every call...
  EXPECT_EQ(chain->Get().status().reason(), "aws_no_credentials");
  EXPECT_EQ(transport_->count(), 1u);
  // ...but again after a pause.
  clock_->Advance(std::chrono::seconds(16));
  EXPECT_EQ(chain->Get().status().reason(), "aws_no_credentials");
  EXPECT_EQ(transport_->count(), 2u);
  env_["AWS_EC2_METADATA_DISABLED"] = "true";
  auto d = Chain()->Get();
  EXPECT_EQ(d.status().reason(), "aws_no_credentials");
  EXPECT_EQ(transport_->count(), 0u);
}

TEST_F(AwsCredentialChainTest, ImdsWithoutRoleOrWithBadDocument) {
  FakeImds imds;
  imds.role = "";
  EXPECT_EQ(Chain([&](const HttpRequest& r) { return imds.Handle(r); })->Get().status().reason(),
            "aws_no_credentials");
  EXPECT_FALSE(ParseImdsCredentials("not json").ok());
  EXPECT_FALSE(ParseImdsCredentials(R"({"Code":"Failure"})").ok());
  EXPECT_FALSE(ParseImdsCredentials(R"({"AccessKeyId":"A"})").ok());
  EXPECT_FALSE(
      ParseImdsCredentials(R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})")
          .ok());
  EXPECT_TRUE(ParseImdsCredentials(R"({"AccessKeyId":"A","SecretAccessKey":"s"})").ok());
}

TEST(AwsIniTest, ParsesSectionsCommentsAndNestedValues) {
  auto ini = ParseIni(
      "; top comment\n[default]\nRegion = eu-west-1\ns3 =\n  max_concurrent_requests = 10\n"
      "\n[profile   spaced ]\nkey=a=b\n\t# indented comment\nempty =\n[ x ]\nk = 1\nk = 2\r\n");
  ASSERT_TRUE(ini.ok()) << ini.status().ToString();
  EXPECT_EQ(ini->at("default").at("region"), "eu-west-1");
  EXPECT_EQ(ini->at("default").at("s3"), "\nmax_concurrent_requests = 10");
  EXPECT_EQ(ini->at("profile spaced").at("key"), "a=b");
  EXPECT_EQ(ini->at("profile spaced").at("empty"), "");
  EXPECT_EQ(ini->at("x").at("k"), "2");
  for (const char* bad : {"k = v\n", "[a\n", "[a]\nno equals\n", "[]\n", "[a]\n = v\n"}) {
    EXPECT_FALSE(ParseIni(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseIni("").ok());
}

TEST(AwsTimeTest, ParsesAwsTimestamps) {
  EXPECT_EQ(ParseAwsTime("2026-11-21T10:00:00Z"), ParseTime("2026-11-21T10:00:00Z"));
  EXPECT_EQ(ParseAwsTime("2026-11-21T10:00:00.123456Z"), ParseTime("2026-11-21T10:00:00.123Z"));
  EXPECT_EQ(ParseAwsTime(" 2026-11-21T10:00:00.5Z\n"), ParseTime("2026-11-21T10:00:00.500Z"));
  EXPECT_FALSE(ParseAwsTime("2026-11-21T10:00:00.Z").has_value());
  EXPECT_FALSE(ParseAwsTime("yesterday").has_value());
}

}  // namespace
}  // namespace pinhole::aws
