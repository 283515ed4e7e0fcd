// Fuzzes the AWS XML reader (enforce/aws/xml.h) and what the EC2 client and
// the credential chain read with it: nothing crashes, a parsed tree written
// back parses to the same tree, and error responses always become a failed
// Status with a non-empty reason.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "enforce/aws/credentials.h"
#include "enforce/aws/ec2_client.h"
#include "enforce/aws/errors.h"
#include "enforce/aws/xml.h"
#include "fuzz_check.h"

namespace pinhole::aws {
namespace {

using fuzz::Escape;

bool SameTree(const XmlElement& a, const XmlElement& b) {
  if (a.name != b.name || a.text != b.text || a.children.size() != b.children.size()) return false;
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameTree(a.children[i], b.children[i])) return false;
  }
  return true;
}

void Check(std::string_view text) {
  Result<XmlElement> doc = ParseXml(text);
  if (!doc.ok()) {
    FUZZ_CHECK(doc.status().reason() == "aws_bad_xml", doc.status().ToString());
  } else {
    std::string written = WriteXml(*doc);
    Result<XmlElement> back = ParseXml(written);
    FUZZ_CHECK(back.ok(), Escape(text) + " wrote unparseable " + Escape(written));
    FUZZ_CHECK(SameTree(*doc, *back), Escape(text) + " changed when written as " + Escape(written));
    for (const DescribedRule& r : ParseRuleSet(doc->Find("securityGroupRuleSet"))) {
      FUZZ_CHECK(r.rule.from_port >= -1 && r.rule.from_port <= 65535, Escape(text));
      FUZZ_CHECK(r.rule.to_port >= -1 && r.rule.to_port <= 65535, Escape(text));
    }
  }
  for (int status : {400, 403, 503}) {
    Status st = AwsErrorStatus("Fuzz", status, text);
    FUZZ_CHECK(!st.ok() && !st.reason().empty(), Escape(text));
  }
  (void)ParseAssumeRoleResponse(text);
  (void)ParseImdsCredentials(text);
}

}  // namespace
}  // namespace pinhole::aws

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pinhole::aws::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
