// SigV4 against the AWS signing test suite (tests/data/sigv4-testsuite, copied
// from aws-c-auth): every case, header signing and query signing, read at run
// time; plus the pieces the suite does not pin down.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sigv4/query.h"
#include "sigv4/sigv4.h"

namespace pinhole::aws {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(PINHOLE_TEST_DATA_DIR) / "sigv4-testsuite";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ParsedRequest {
  std::string method;
  std::string path;
  HeaderList query;
  HeaderList headers;  // folded lines joined with "\n"
  std::string body;
};

// Parses the suite's request.txt / header-signed-request.txt format.
ParsedRequest ParseRequestFile(const std::string& text) {
  ParsedRequest r;
  std::vector<std::string> lines;
  size_t pos = 0;
  size_t body_start = std::string::npos;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!lines.empty() && line.empty()) {
      body_start = nl + 1;
      break;
    }
    lines.push_back(line);
    pos = nl + 1;
  }
  if (body_start != std::string::npos && body_start <= text.size())
    r.body = text.substr(body_start);
  const std::string& first = lines.at(0);
  size_t sp = first.find(' ');
  size_t http = first.rfind(" HTTP/");
  r.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, http - sp - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    size_t p = 0;
    while (p <= query.size()) {
      size_t amp = query.find('&', p);
      if (amp == std::string::npos) amp = query.size();
      std::string part = query.substr(p, amp - p);
      if (!part.empty()) {
        size_t eq = part.find('=');
        std::string k = part.substr(0, eq);
        std::string v = eq == std::string::npos ? "" : part.substr(eq + 1);
        r.query.emplace_back(UriDecode(k), UriDecode(v));
      }
      p = amp + 1;
    }
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      r.headers.back().second += "\n" + line;
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

std::vector<std::string> NormalisedHeaderLines(const HeaderList& headers) {
  std::vector<std::string> out;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    out.push_back(lower + ":" + value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SuiteCases() {
  std::vector<std::string> names;
  if (!fs::exists(kSuite)) return names;
  for (const auto& entry : fs::directory_iterator(kSuite)) {
    if (entry.is_directory() && fs::exists(entry.path() / "context.json")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

class Sigv4SuiteTest : public ::testing::TestWithParam<std::string> {};

TEST_P(Sigv4SuiteTest, HeaderSigningMatchesEveryStep) {
  const fs::path dir = kSuite / GetParam();
  nlohmann::json context = nlohmann::json::parse(ReadFile(dir / "context.json"));
  ParsedRequest parsed = ParseRequestFile(ReadFile(dir / "request.txt"));

  SigningCredentials creds{context["credentials"]["access_key_id"],
                           context["credentials"]["secret_access_key"],
                           context["credentials"].value("token", "")};
  std::optional<Time> when = ParseTime(context["timestamp"].get<std::string>());
  ASSERT_TRUE(when.has_value());
  SigningOptions options{.region = context["region"],
                         .service = context["service"],
                         .time = *when,
                         .normalize_path = context.value("normalize", true),
                         .sign_session_token = !context.value("omit_session_token", false),
                         .add_content_sha256 = context.value("sign_body", false)};
  SigningRequest request{.method = parsed.method,
                         .path = parsed.path,
                         .query = parsed.query,
                         .headers = parsed.headers,
                         .payload_hash = Sha256Hex(parsed.body)};
  SigningResult result = SignRequest(request, creds, options);

  EXPECT_EQ(result.canonical_request, ReadFile(dir / "header-canonical-request.txt"));
  EXPECT_EQ(result.string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(result.signature, ReadFile(dir / "header-signature.txt"));

  ParsedRequest expected = ParseRequestFile(ReadFile(dir / "header-signed-request.txt"));
  HeaderList ours = parsed.headers;
  for (const auto& h : result.headers_to_add) ours.push_back(h);
  EXPECT_EQ(NormalisedHeaderLines(ours), NormalisedHeaderLines(expected.headers));
  EXPECT_EQ(parsed.body, expected.body);
}

TEST_P(Sigv4SuiteTest, QuerySigningMatchesEveryStep) {
  const fs::path dir = kSuite / GetParam();
  nlohmann::json context = nlohmann::json::parse(ReadFile(dir / "context.json"));
  ParsedRequest parsed = ParseRequestFile(ReadFile(dir / "request.txt"));
  SigningCredentials creds{context["credentials"]["access_key_id"],
                           context["credentials"]["secret_access_key"],
                           context["credentials"].value("token", "")};
  SigningOptions options{.region = context["region"],
                         .service = context["service"],
                         .time = *ParseTime(context["timestamp"].get<std::string>()),
                         .normalize_path = context.value("normalize", true),
                         .sign_session_token = !context.value("omit_session_token", false)};
  SigningRequest request{.method = parsed.method,
                         .path = parsed.path,
                         .query = parsed.query,
                         .headers = parsed.headers,
                         .payload_hash = Sha256Hex(parsed.body)};
  PresignResult result = PresignRequest(
      request, creds, options, std::chrono::seconds(context["expiration_in_seconds"].get<int>()));

  EXPECT_EQ(result.canonical_request, ReadFile(dir / "query-canonical-request.txt"));
  EXPECT_EQ(result.string_to_sign, ReadFile(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(result.signature, ReadFile(dir / "query-signature.txt"));

  ParsedRequest expected = ParseRequestFile(ReadFile(dir / "query-signed-request.txt"));
  HeaderList ours = parsed.query;
  for (const auto& q : result.query_to_add) ours.push_back(q);
  std::sort(ours.begin(), ours.end());
  std::sort(expected.query.begin(), expected.query.end());
  EXPECT_EQ(ours, expected.query);
  EXPECT_EQ(NormalisedHeaderLines(parsed.headers), NormalisedHeaderLines(expected.headers));
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, Sigv4SuiteTest, ::testing::ValuesIn(SuiteCases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(Sigv4Test, SuiteIsPresentAndComplete) {
  // A missing or truncated copy must fail loudly, not run zero cases.
  EXPECT_GE(SuiteCases().size(), 37u);
  EXPECT_TRUE(fs::exists(kSuite / "LICENSE"));
}

// Computed offline with botocore's SigV4Auth (clock frozen at the same time)
// for an EC2 Query API call with a session token: the shape the client sends.
constexpr char kBotocoreEc2Signature[] =
    "38ddb39912e595187b6ac0005705274d5d4e7e9e9f05ab2b7c4b8a95db5db9b0";

TEST(Sigv4Test, MatchesBotocoreForAnEc2QueryCall) {
  const std::string body =
      "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-0123456789abcdef0";
  SigningRequest request{
      .method = "POST",
      .path = "/",
      .headers = {{"Host", "ec2.eu-west-1.amazonaws.com"},
                  {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
      .payload_hash = Sha256Hex(body)};
  SigningCredentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "TOKEN/+="};
  SigningOptions options{
      .region = "eu-west-1", .service = "ec2", .time = *ParseTime("2026-11-21T10:00:00Z")};
  SigningResult result = SignRequest(request, creds, options);
  EXPECT_EQ(result.signature, kBotocoreEc2Signature);
  ASSERT_EQ(result.headers_to_add.size(), 3u);
  EXPECT_EQ(result.headers_to_add[0],
            (std::pair<std::string, std::string>{"X-Amz-Date", "20261121T100000Z"}));
  EXPECT_EQ(result.headers_to_add[1].first, "X-Amz-Security-Token");
  EXPECT_EQ(result.headers_to_add[2].second,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/eu-west-1/ec2/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=" +
                std::string(kBotocoreEc2Signature));
}

TEST(Sigv4Test, SecretNeverAppearsInTheOutput) {
  SigningRequest request{.method = "POST", .headers = {{"Host", "h"}}, .payload_hash = ""};
  SigningCredentials creds{"AKID", "SECRETSECRETSECRET", ""};
  SigningOptions options{.region = "r", .service = "s", .time = *ParseTime("2026-01-01T00:00:00Z")};
  SigningResult result = SignRequest(request, creds, options);
  for (const auto& [name, value] : result.headers_to_add) {
    EXPECT_EQ(value.find("SECRETSECRETSECRET"), std::string::npos) << name;
  }
  EXPECT_EQ(result.canonical_request.find("SECRET"), std::string::npos);
  EXPECT_EQ(result.string_to_sign.find("SECRET"), std::string::npos);
}

TEST(Sigv4Test, DifferentSecretsGiveDifferentSignatures) {
  SigningRequest request{.method = "GET", .headers = {{"Host", "h"}}, .payload_hash = ""};
  SigningOptions options{.region = "r", .service = "s", .time = *ParseTime("2026-01-01T00:00:00Z")};
  EXPECT_NE(SignRequest(request, {"AKID", "a", ""}, options).signature,
            SignRequest(request, {"AKID", "b", ""}, options).signature);
}

TEST(Sigv4Test, CanonicalUriEdgeCases) {
  EXPECT_EQ(CanonicalUri("", true), "/");
  EXPECT_EQ(CanonicalUri("/a/./b/../c/", true), "/a/c/");
  EXPECT_EQ(CanonicalUri("/../../", true), "/");
  EXPECT_EQ(CanonicalUri("/a b/%", false), "/a%20b/%25");
}

TEST(Sigv4Test, CanonicalQuerySortsByEncodedKeyThenValue) {
  EXPECT_EQ(CanonicalQuery({{"b", "2"}, {"a", "z"}, {"a", "y"}, {"c d", "e+f"}}),
            "a=y&a=z&b=2&c%20d=e%2Bf");
  EXPECT_EQ(CanonicalQuery({}), "");
}

TEST(Sigv4Test, HeadersTrimAndJoin) {
  CanonicalHeaders h = CanonicalizeHeaders({{"X-B", "  a\t\t b  "}, {"x-a", "1"}, {"X-A", "2"}});
  EXPECT_EQ(h.block, "x-a:1,2\nx-b:a b\n");
  EXPECT_EQ(h.signed_headers, "x-a;x-b");
}

TEST(AwsQueryTest, EncodesLikeAws) {
  EXPECT_EQ(UriEncode("a-_.~Z9 /+=&é"), "a-_.~Z9%20%2F%2B%3D%26%C3%A9");
  EXPECT_EQ(UriEncode("/a b/", true), "/a%20b/");
  EXPECT_EQ(UriDecode("%41%2f%zz%4"), "A/%zz%4");
  QueryParams p;
  p.Add("Action", "X").Add("N", 5).Add("Tag.1.Value", "a b&c");
  EXPECT_EQ(p.Encode(), "Action=X&N=5&Tag.1.Value=a+b%26c");
  EXPECT_EQ(FormEncode(" a  b+"), "+a++b%2B");
  EXPECT_EQ(FormDecode("+a++b%2B"), " a  b+");
}

}  // namespace
}  // namespace pinhole::aws
