// The EC2 client against a scripted transport: what goes on the wire, how
// responses and errors are read, and what is never retried or leaked.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enforce/aws/ec2_client.h"
#include "enforce/aws/errors.h"
#include "enforce/aws_fakes.h"

namespace pinhole::aws {
namespace {

using testing::Ec2Error;
using testing::FakeTransport;
using testing::FormFields;
using testing::HeaderOf;
using testing::Ok;
using testing::Reply;

class StaticCreds final : public CredentialsProvider {
 public:
  explicit StaticCreds(Credentials c) : c_(std::move(c)) {}
  Result<Credentials> Get() override {
    ++gets;
    return c_;
  }
  void Invalidate() override { ++invalidations; }
  int gets = 0;
  int invalidations = 0;

 private:
  Credentials c_;
};

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "SESSIONTOKEN-abc/def+ghi=";

struct Harness {
  explicit Harness(FakeTransport::Handler h, bool temporary = false)
      : transport(std::make_shared<FakeTransport>(std::move(h))),
        creds(std::make_shared<StaticCreds>(Credentials{
            .access_key_id = "AKIDEXAMPLE",
            .secret_access_key = kSecret,
            .session_token = temporary ? kToken : "",
            .expiration =
                temporary ? std::optional<Time>(*ParseTime("2030-01-01T00:00:00Z")) : std::nullopt,
            .source = "test"})),
        clock(std::make_shared<ManualClock>(*ParseTime("2026-11-21T10:00:00Z"))) {
    auto r = NewEc2Client({.endpoint_template = "http://127.0.0.1:9/{region}/"},
                          {.transport = transport, .credentials = creds, .clock = clock});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    client = std::move(r).value();
  }
  std::shared_ptr<FakeTransport> transport;
  std::shared_ptr<StaticCreds> creds;
  std::shared_ptr<ManualClock> clock;
  std::unique_ptr<Ec2Api> client;
};

IngressRule Rule(std::string protocol, int from, int to, std::string cidr, std::string desc = "") {
  return IngressRule{.protocol = std::move(protocol),
                     .from_port = from,
                     .to_port = to,
                     .cidr = std::move(cidr),
                     .description = std::move(desc)};
}

std::string RuleItem(const std::string& id, const std::string& group, const std::string& proto,
                     int from, int to, const std::string& cidr, bool egress = false,
                     const std::string& tags = "") {
  bool v6 = cidr.find(':') != std::string::npos;
  return "<item><securityGroupRuleId>" + id + "</securityGroupRuleId><groupId>" + group +
         "</groupId><isEgress>" + (egress ? "true" : "false") + "</isEgress><ipProtocol>" + proto +
         "</ipProtocol><fromPort>" + std::to_string(from) + "</fromPort><toPort>" +
         std::to_string(to) + "</toPort><" + (v6 ? "cidrIpv6>" : "cidrIpv4>") + cidr +
         (v6 ? "</cidrIpv6>" : "</cidrIpv4>") + "<description>d</description><tagSet>" + tags +
         "</tagSet></item>";
}

TEST(AwsEc2ClientTest, AuthorizeBatchesRulesIntoOneSignedCall) {
  Harness h([](const HttpRequest& r) -> Result<HttpResponse> {
    return Ok(
        "<AuthorizeSecurityGroupIngressResponse xmlns=\"x\"><return>true</return>"
        "<securityGroupRuleSet>" +
        RuleItem("sgr-00000000000000001", "sg-1", "tcp", 22, 22, "198.51.100.7/32") +
        RuleItem("sgr-00000000000000002", "sg-1", "tcp", 22, 22, "2001:db8::/64") +
        RuleItem("sgr-00000000000000003", "sg-1", "udp", 1000, 2000, "203.0.113.0/24") +
        "</securityGroupRuleSet></AuthorizeSecurityGroupIngressResponse>");
  });
  auto rules =
      h.client->AuthorizeIngress("eu-west-1", "sg-1",
                                 {Rule("tcp", 22, 22, "198.51.100.7/32", "pinhole lease 1"),
                                  Rule("tcp", 22, 22, "2001:db8::/64", "pinhole lease 2"),
                                  Rule("udp", 1000, 2000, "203.0.113.0/24")},
                                 {{"pinhole:owner", "test"}, {"pinhole:lease", "1 2"}});
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(h.transport->count(), 1u);
  HttpRequest req = h.transport->requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:9/eu-west-1/");
  EXPECT_EQ(HeaderOf(req, "Host"), "127.0.0.1:9");
  EXPECT_EQ(HeaderOf(req, "X-Amz-Date"), "20261121T100000Z");
  EXPECT_EQ(HeaderOf(req, "X-Amz-Security-Token"), "");
  EXPECT_EQ(
      HeaderOf(req, "Authorization")
          .rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-1/ec2/aws4_request, "
                 "SignedHeaders=content-type;host;x-amz-date, Signature=",
                 0),
      0u);
  EXPECT_EQ(req.body.rfind("Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&", 0), 0u);
  auto f = FormFields(req.body);
  EXPECT_EQ(f["GroupId"], "sg-1");
  EXPECT_EQ(f["IpPermissions.1.IpProtocol"], "tcp");
  EXPECT_EQ(f["IpPermissions.1.FromPort"], "22");
  EXPECT_EQ(f["IpPermissions.1.ToPort"], "22");
  EXPECT_EQ(f["IpPermissions.1.IpRanges.1.CidrIp"], "198.51.100.7/32");
  EXPECT_EQ(f["IpPermissions.1.IpRanges.1.Description"], "pinhole lease 1");
  EXPECT_EQ(f["IpPermissions.1.Ipv6Ranges.1.CidrIpv6"], "2001:db8::/64");
  EXPECT_EQ(f["IpPermissions.1.Ipv6Ranges.1.Description"], "pinhole lease 2");
  EXPECT_EQ(f["IpPermissions.2.IpProtocol"], "udp");
  EXPECT_EQ(f["IpPermissions.2.FromPort"], "1000");
  EXPECT_EQ(f["IpPermissions.2.IpRanges.1.CidrIp"], "203.0.113.0/24");
  EXPECT_EQ(f.count("IpPermissions.2.IpRanges.1.Description"), 0u);
  EXPECT_EQ(f["TagSpecification.1.ResourceType"], "security-group-rule");
  EXPECT_EQ(f["TagSpecification.1.Tag.1.Key"], "pinhole:lease");
  EXPECT_EQ(f["TagSpecification.1.Tag.1.Value"], "1 2");
  EXPECT_EQ(f["TagSpecification.1.Tag.2.Key"], "pinhole:owner");
  EXPECT_EQ(req.body.find(kSecret), std::string::npos);

  ASSERT_EQ(rules->size(), 3u);
  EXPECT_EQ((*rules)[0].rule_id, "sgr-00000000000000001");
  EXPECT_EQ((*rules)[1].rule_id, "sgr-00000000000000002");
  EXPECT_EQ((*rules)[1].cidr, "2001:db8::/64");
  EXPECT_EQ((*rules)[2].rule_id, "sgr-00000000000000003");
  EXPECT_EQ((*rules)[2].from_port, 1000);
}

TEST(AwsEc2ClientTest, AuthorizeAllProtocolsOmitsPortsAndSendsSessionToken) {
  Harness h(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return Ok("<R><securityGroupRuleSet>" +
                  RuleItem("sgr-1", "sg-1", "-1", -1, -1, "192.0.2.0/24") +
                  "</securityGroupRuleSet></R>");
      },
      /*temporary=*/true);
  // Host bits set: AWS answers with the canonical prefix; still matched.
  auto rules =
      h.client->AuthorizeIngress("us-east-1", "sg-1", {Rule("-1", -1, -1, "192.0.2.9/24")}, {});
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].rule_id, "sgr-1");
  HttpRequest req = h.transport->requests()[0];
  auto f = FormFields(req.body);
  EXPECT_EQ(f["IpPermissions.1.IpProtocol"], "-1");
  EXPECT_EQ(f.count("IpPermissions.1.FromPort"), 0u);
  EXPECT_EQ(f.count("TagSpecification.1.ResourceType"), 0u);
  EXPECT_EQ(HeaderOf(req, "X-Amz-Security-Token"), kToken);
  EXPECT_NE(HeaderOf(req, "Authorization").find("x-amz-security-token"), std::string::npos);
}

TEST(AwsEc2ClientTest, AuthorizeRefusesRulesWithDifferentTagsWithoutCalling) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> { return Ok("<R/>"); });
  IngressRule a = Rule("tcp", 22, 22, "198.51.100.1/32");
  IngressRule b = Rule("tcp", 22, 22, "198.51.100.2/32");
  a.tags = {{"pinhole:lease", "1"}};
  b.tags = {{"pinhole:lease", "2"}};
  auto r = h.client->AuthorizeIngress("us-east-1", "sg-1", {a, b}, {});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(h.transport->count(), 0u);
  auto empty = h.client->AuthorizeIngress("us-east-1", "sg-1", {}, {});
  EXPECT_TRUE(empty.ok());
  EXPECT_EQ(h.transport->count(), 0u);
}

TEST(AwsEc2ClientTest, AuthorizeLearnsMissingIdsWithOneDescribe) {
  // moto reports only the rules of the last IpPermission.
  Harness h([](const HttpRequest& r) -> Result<HttpResponse> {
    auto f = FormFields(r.body);
    if (f["Action"] == "AuthorizeSecurityGroupIngress") {
      return Ok("<R><securityGroupRuleSet>" +
                RuleItem("sgr-2", "sg-1", "udp", 53, 53, "10.0.0.1/32") +
                "</securityGroupRuleSet></R>");
    }
    return Ok(
        "<R><securityGroupRuleSet>" + RuleItem("sgr-1", "sg-1", "tcp", 22, 22, "10.0.0.1/32") +
        RuleItem("sgr-2", "sg-1", "udp", 53, 53, "10.0.0.1/32") + "</securityGroupRuleSet></R>");
  });
  auto rules = h.client->AuthorizeIngress(
      "us-east-1", "sg-1", {Rule("tcp", 22, 22, "10.0.0.1/32"), Rule("udp", 53, 53, "10.0.0.1/32")},
      {});
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].rule_id, "sgr-1");
  EXPECT_EQ((*rules)[1].rule_id, "sgr-2");
  ASSERT_EQ(h.transport->count(), 2u);
  EXPECT_EQ(FormFields(h.transport->requests()[1].body)["Action"], "DescribeSecurityGroupRules");
}

TEST(AwsEc2ClientTest, RevokeSendsRuleIdsInOneCall) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok(
        "<RevokeSecurityGroupIngressResponse><return>true</return>"
        "</RevokeSecurityGroupIngressResponse>");
  });
  ASSERT_TRUE(h.client->RevokeIngress("us-east-1", "sg-9", {"sgr-a", "sgr-b"}).ok());
  auto f = FormFields(h.transport->requests()[0].body);
  EXPECT_EQ(f["Action"], "RevokeSecurityGroupIngress");
  EXPECT_EQ(f["GroupId"], "sg-9");
  EXPECT_EQ(f["SecurityGroupRuleId.1"], "sgr-a");
  EXPECT_EQ(f["SecurityGroupRuleId.2"], "sgr-b");
  EXPECT_TRUE(h.client->RevokeIngress("us-east-1", "sg-9", {}).ok());
  EXPECT_EQ(h.transport->count(), 1u);
}

TEST(AwsEc2ClientTest, RevokeOfUnknownRuleKeepsTheAwsCode) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Reply(400, Ec2Error("InvalidSecurityGroupRuleId.NotFound",
                               "The security group rule ID 'sgr-a' does not exist"));
  });
  Status st = h.client->RevokeIngress("us-east-1", "sg-9", {"sgr-a"});
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.reason(), "InvalidSecurityGroupRuleId.NotFound");
  EXPECT_NE(st.message().find("sgr-a"), std::string::npos);
  EXPECT_NE(st.message().find("HTTP 400"), std::string::npos);
  EXPECT_FALSE(IsRetryable(st));
}

TEST(AwsEc2ClientTest, DescribeFollowsPagesKeepsInboundAndFiltersByTag) {
  Harness h([](const HttpRequest& r) -> Result<HttpResponse> {
    auto f = FormFields(r.body);
    std::string tag = "<item><key>pinhole:owner</key><value>me</value></item>";
    if (f["NextToken"].empty()) {
      return Ok("<R><securityGroupRuleSet>" +
                RuleItem("sgr-1", "sg-1", "tcp", 22, 22, "10.0.0.1/32", false, tag) +
                RuleItem("sgr-e", "sg-1", "-1", -1, -1, "0.0.0.0/0", true, tag) +
                RuleItem("sgr-x", "sg-other", "tcp", 22, 22, "10.0.0.3/32", false, tag) +
                "</securityGroupRuleSet><nextToken>page 2/+</nextToken></R>");
    }
    EXPECT_EQ(f["NextToken"], "page 2/+");
    return Ok("<R><securityGroupRuleSet>" +
              RuleItem("sgr-2", "sg-1", "6", 443, 443, "2001:db8::/64", false, tag) +
              RuleItem("sgr-hand", "sg-1", "tcp", 80, 80, "10.0.0.9/32") +
              "</securityGroupRuleSet></R>");
  });
  auto rules = h.client->DescribeIngress("us-east-1", "sg-1", "pinhole:owner");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].rule_id, "sgr-1");
  EXPECT_EQ((*rules)[0].tags.at("pinhole:owner"), "me");
  EXPECT_EQ((*rules)[1].rule_id, "sgr-2");
  EXPECT_EQ((*rules)[1].protocol, "tcp");
  EXPECT_EQ((*rules)[1].cidr, "2001:db8::/64");
  ASSERT_EQ(h.transport->count(), 2u);
  auto f = FormFields(h.transport->requests()[0].body);
  EXPECT_EQ(f["Filter.1.Name"], "group-id");
  EXPECT_EQ(f["Filter.1.Value.1"], "sg-1");
  EXPECT_EQ(f["Filter.2.Name"], "tag-key");
  EXPECT_EQ(f["Filter.2.Value.1"], "pinhole:owner");
  EXPECT_EQ(f["MaxResults"], "1000");

  // Without a tag key every inbound rule of the group counts (quota).
  auto all = h.client->DescribeIngress("us-east-1", "sg-1", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(FormFields(h.transport->requests()[2].body).count("Filter.2.Name"), 0u);
}

TEST(AwsEc2ClientTest, DescribeStopsOnARepeatedPageToken) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok("<R><securityGroupRuleSet/><nextToken>same</nextToken></R>");
  });
  auto r = h.client->DescribeIngress("us-east-1", "sg-1");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(h.transport->count(), 2u);
}

TEST(AwsEc2ClientTest, UpdateModifiesDescriptionsThenTags) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Ok("<R><return>true</return></R>");
  });
  IngressRule a = Rule("tcp", 22, 22, "10.0.0.1/32", "pinhole lease 1 until 2026-11-21T12:00:00Z");
  a.rule_id = "sgr-a";
  IngressRule b =
      Rule("tcp", 22, 22, "2001:db8::1/128", "pinhole lease 2 until 2026-11-21T12:00:00Z");
  b.rule_id = "sgr-b";
  ASSERT_TRUE(h.client->UpdateRules("us-east-1", "sg-1", {a, b}, {{"pinhole:expires", "x"}}).ok());
  ASSERT_EQ(h.transport->count(), 2u);
  auto m = FormFields(h.transport->requests()[0].body);
  EXPECT_EQ(m["Action"], "ModifySecurityGroupRules");
  EXPECT_EQ(m["GroupId"], "sg-1");
  EXPECT_EQ(m["SecurityGroupRule.1.SecurityGroupRuleId"], "sgr-a");
  EXPECT_EQ(m["SecurityGroupRule.1.SecurityGroupRule.IpProtocol"], "tcp");
  EXPECT_EQ(m["SecurityGroupRule.1.SecurityGroupRule.FromPort"], "22");
  EXPECT_EQ(m["SecurityGroupRule.1.SecurityGroupRule.CidrIpv4"], "10.0.0.1/32");
  EXPECT_EQ(m["SecurityGroupRule.1.SecurityGroupRule.Description"], a.description);
  EXPECT_EQ(m["SecurityGroupRule.2.SecurityGroupRule.CidrIpv6"], "2001:db8::1/128");
  auto t = FormFields(h.transport->requests()[1].body);
  EXPECT_EQ(t["Action"], "CreateTags");
  EXPECT_EQ(t["ResourceId.1"], "sgr-a");
  EXPECT_EQ(t["ResourceId.2"], "sgr-b");
  EXPECT_EQ(t["Tag.1.Key"], "pinhole:expires");
  EXPECT_EQ(t["Tag.1.Value"], "x");

  IngressRule no_id = Rule("tcp", 22, 22, "10.0.0.1/32");
  EXPECT_EQ(h.client->UpdateRules("us-east-1", "sg-1", {no_id}, {}).code(), Code::kInvalidArgument);
  EXPECT_TRUE(h.client->UpdateRules("us-east-1", "sg-1", {a}, {}).ok());
  EXPECT_EQ(h.transport->count(), 3u);  // no CreateTags without tags
}

TEST(AwsEc2ClientTest, CheckGroupsNamesTheMissingGroup) {
  Harness h([](const HttpRequest& r) -> Result<HttpResponse> {
    auto f = FormFields(r.body);
    if (f.count("GroupId.2")) {
      return Reply(400,
                   Ec2Error("InvalidGroup.NotFound", "The security group 'sg-2' does not exist"));
    }
    return Ok("<R><securityGroupInfo><item><groupId>sg-1</groupId></item></securityGroupInfo></R>");
  });
  EXPECT_TRUE(h.client->CheckGroups("us-east-1", {"sg-1"}).ok());
  Status st = h.client->CheckGroups("us-east-1", {"sg-1", "sg-2"});
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(st.reason(), "InvalidGroup.NotFound");
  EXPECT_NE(st.message().find("sg-2"), std::string::npos);
}

TEST(AwsEc2ClientTest, ErrorsMapToCodesAndRetryability) {
  struct Case {
    int status;
    std::string body;
    Code code;
    std::string reason;
    bool retryable;
  };
  std::vector<Case> cases = {
      {503, Ec2Error("RequestLimitExceeded", "Request limit exceeded."), Code::kResourceExhausted,
       "RequestLimitExceeded", true},
      {500, Ec2Error("InternalError", "oops"), Code::kUnavailable, "InternalError", true},
      {503, "<html>Service Unavailable</html>", Code::kUnavailable, "aws_http_503", true},
      {502, "", Code::kUnavailable, "aws_http_502", true},
      {401, Ec2Error("AuthFailure", "AWS was not able to validate the provided access credentials"),
       Code::kPermissionDenied, "AuthFailure", false},
      {403, Ec2Error("UnauthorizedOperation", "You are not authorized to perform: ec2:CreateTags"),
       Code::kPermissionDenied, "UnauthorizedOperation", false},
      {400, Ec2Error("InvalidPermission.Duplicate", "the specified rule already exists"),
       Code::kConflict, "InvalidPermission.Duplicate", false},
      {400, Ec2Error("RulesPerSecurityGroupLimitExceeded", "limit"), Code::kConflict,
       "RulesPerSecurityGroupLimitExceeded", false},
      {400, Ec2Error("InvalidParameterValue", "bad"), Code::kInvalidArgument,
       "InvalidParameterValue", false},
      {400, Ec2Error("RequestExpired", "skew"), Code::kPermissionDenied, "RequestExpired", false},
  };
  for (const Case& c : cases) {
    Harness h([&](const HttpRequest&) -> Result<HttpResponse> { return Reply(c.status, c.body); });
    Status st = h.client->RevokeIngress("us-east-1", "sg-1", {"sgr-1"});
    EXPECT_EQ(st.code(), c.code) << c.reason;
    EXPECT_EQ(st.reason(), c.reason);
    EXPECT_EQ(IsRetryable(st), c.retryable) << c.reason;
    EXPECT_EQ(h.transport->count(), 1u) << "exactly one attempt for " << c.reason;
  }
}

TEST(AwsEc2ClientTest, TransportFailuresAreRetryableAndNamed) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Status(Code::kUnavailable, "aws_timeout", "no response within 10 ms");
  });
  Status st = h.client->RevokeIngress("us-east-1", "sg-1", {"sgr-1"});
  EXPECT_EQ(st.reason(), "aws_timeout");
  EXPECT_TRUE(IsRetryable(st));
  EXPECT_EQ(h.transport->count(), 1u);
  EXPECT_FALSE(IsRetryable(Status::Ok()));
  EXPECT_FALSE(IsRetryable(Status(Code::kResourceExhausted, "capacity_exhausted", "")));
}

TEST(AwsEc2ClientTest, SecretsInAwsMessagesAreRedacted) {
  Harness h(
      [](const HttpRequest&) -> Result<HttpResponse> {
        return Reply(
            400, Ec2Error("SignatureDoesNotMatch", std::string("canonical x-amz-security-token:") +
                                                       kToken + " secret " + kSecret));
      },
      /*temporary=*/true);
  Status st = h.client->RevokeIngress("us-east-1", "sg-1", {"sgr-1"});
  EXPECT_EQ(st.reason(), "SignatureDoesNotMatch");
  EXPECT_EQ(st.message().find(kToken), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find(kSecret), std::string::npos);
  EXPECT_NE(st.message().find("[redacted]"), std::string::npos);
}

TEST(AwsEc2ClientTest, ExpiredTemporaryCredentialsAreRefetchedOnce) {
  int calls = 0;
  Harness h(
      [&](const HttpRequest&) -> Result<HttpResponse> {
        ++calls;
        return Reply(
            400, Ec2Error("ExpiredToken", "The security token included in the request is expired"));
      },
      /*temporary=*/true);
  Status st = h.client->RevokeIngress("us-east-1", "sg-1", {"sgr-1"});
  EXPECT_EQ(st.reason(), "ExpiredToken");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(h.creds->invalidations, 1);
  EXPECT_EQ(h.creds->gets, 2);
}

TEST(AwsEc2ClientTest, LongTermKeysAreNotRetriedOnAuthFailure) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> {
    return Reply(401, Ec2Error("AuthFailure",
                               "AWS was not able to validate the provided access credentials"));
  });
  Status st = h.client->RevokeIngress("us-east-1", "sg-1", {"sgr-1"});
  EXPECT_EQ(st.reason(), "AuthFailure");
  EXPECT_EQ(h.transport->count(), 1u);
  EXPECT_EQ(h.creds->invalidations, 0);
  EXPECT_NE(st.message().find("credentials: test"), std::string::npos);
}

TEST(AwsEc2ClientTest, UnreadableSuccessIsATransportError) {
  Harness h([](const HttpRequest&) -> Result<HttpResponse> { return Ok("<half"); });
  auto r = h.client->DescribeIngress("us-east-1", "sg-1");
  EXPECT_EQ(r.status().reason(), "aws_transport");
  EXPECT_TRUE(IsRetryable(r.status()));
}

TEST(AwsEc2ClientTest, EndpointTemplatesAndRegions) {
  EXPECT_EQ(*Ec2Endpoint("", "eu-west-1"), "https://ec2.eu-west-1.amazonaws.com");
  EXPECT_EQ(*Ec2Endpoint("https://vpce-1.ec2.{region}.vpce.amazonaws.com", "us-east-2"),
            "https://vpce-1.ec2.us-east-2.vpce.amazonaws.com");
  EXPECT_EQ(*Ec2Endpoint("https://ec2.{region}.amazonaws.com.cn", "cn-north-1"),
            "https://ec2.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(*Ec2Endpoint("", "cn-northwest-1"), "https://ec2.cn-northwest-1.amazonaws.com.cn");
  for (const char* bad : {"", "EU", "eu-west-1/../x", "a@b", "x.evil.com", "eu west"}) {
    EXPECT_FALSE(Ec2Endpoint("", bad).ok()) << bad;
  }
  EXPECT_FALSE(Ec2Endpoint("ftp://x/{region}", "us-east-1").ok());
  EXPECT_FALSE(Ec2Endpoint("http://user@host/", "us-east-1").ok());
  auto bad = NewEc2Client({.endpoint_template = "not a url"});
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "aws_endpoint");

  Harness h([](const HttpRequest&) -> Result<HttpResponse> { return Ok("<R/>"); });
  EXPECT_EQ(h.client->DescribeIngress("../evil", "sg-1").status().reason(), "aws_endpoint");
  EXPECT_EQ(h.transport->count(), 0u);
}

TEST(AwsEc2ClientTest, NewClientDoesNotNeedCredentialsUntilTheFirstCall) {
  // No keys, no files, IMDS disabled: creating the client succeeds; the call
  // says why it cannot authenticate.
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  ::setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_PROFILE");
  auto client = NewEc2Client({.endpoint_template = "http://127.0.0.1:9/"});
  ASSERT_TRUE(client.ok());
  Status st = (*client)->CheckGroups("us-east-1", {"sg-1"});
  EXPECT_EQ(st.reason(), "aws_no_credentials");
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  ::unsetenv("AWS_EC2_METADATA_DISABLED");
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  ::unsetenv("AWS_CONFIG_FILE");
}

// The real transport against a socket that accepts and never answers.
TEST(AwsEc2ClientTest, CurlTransportTimesOut) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  auto transport = NewCurlTransport();
  auto start = std::chrono::steady_clock::now();
  auto r = transport->Send(
      {.method = "POST", .url = url, .body = "x", .timeout = std::chrono::milliseconds(300)});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "aws_timeout");
  EXPECT_LT(took, std::chrono::seconds(3));
  ::close(fd);

  // Nothing listening any more: a transport error, not a timeout.
  auto refused =
      transport->Send({.method = "GET", .url = url, .timeout = std::chrono::milliseconds(1000)});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "aws_transport");
  EXPECT_TRUE(IsRetryable(refused.status()));
}

TEST(AwsEc2ClientTest, SplitUrl) {
  auto u = SplitUrl("http://127.0.0.1:5000/a%20b/?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->authority, "127.0.0.1:5000");
  EXPECT_EQ(u->path, "/a%20b/");
  EXPECT_EQ(SplitUrl("https://h")->path, "/");
  EXPECT_EQ(SplitUrl("https://[::1]:8443")->authority, "[::1]:8443");
  EXPECT_FALSE(SplitUrl("h/x").ok());
  EXPECT_FALSE(SplitUrl("https:///x").ok());
}

}  // namespace
}  // namespace pinhole::aws
