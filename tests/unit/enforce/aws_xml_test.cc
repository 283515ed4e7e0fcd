// The XML reader on real EC2/STS response shapes and on broken input.
#include <gtest/gtest.h>

#include "enforce/aws/xml.h"

namespace pinhole::aws {
namespace {

TEST(AwsXmlTest, ReadsAnEc2ResponseWithNamespaceAndEntities) {
  Result<XmlElement> doc = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<DescribeSecurityGroupRulesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
      "  <requestId>abc</requestId>\n"
      "  <securityGroupRuleSet>\n"
      "    <item><toPort>22</toPort><groupId>sg-1</groupId>"
      "<description>a &amp; b &lt;c&gt; &#65;&#x42; &quot;q&quot; &apos;</description>"
      "<tagSet><item><key>pinhole:lease</key><value>42</value></item></tagSet></item>\n"
      "    <item><groupId>sg-2</groupId><!-- comment --><x:cidrIpv6 xmlns:x=\"u\">"
      "<![CDATA[2001:db8::/64 <raw>]]></x:cidrIpv6><empty/></item>\n"
      "  </securityGroupRuleSet>\n"
      "</DescribeSecurityGroupRulesResponse>");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "DescribeSecurityGroupRulesResponse");
  EXPECT_EQ(doc->ChildText("requestId"), "abc");
  std::vector<const XmlElement*> items = doc->Find("securityGroupRuleSet")->Children("item");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]->ChildText("description"), "a & b <c> AB \"q\" '");
  EXPECT_EQ(items[0]->Find("tagSet/item/value")->text, "42");
  EXPECT_EQ(items[1]->ChildText("cidrIpv6"), "2001:db8::/64 <raw>");
  ASSERT_NE(items[1]->Child("empty"), nullptr);
  EXPECT_EQ(items[1]->Child("empty")->text, "");
  EXPECT_EQ(doc->Find("nope/deeper"), nullptr);
  EXPECT_EQ(doc->ChildText("absent"), "");
}

TEST(AwsXmlTest, Utf8CharacterReferences) {
  Result<XmlElement> doc = ParseXml("<a>&#xE9;&#8364;&#x1F600;</a>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(AwsXmlTest, ToleratesBareAmpersandAndUnknownEntity) {
  Result<XmlElement> doc = ParseXml("<a>x & y &nbsp;</a>");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->text, "x & y &nbsp;");
}

TEST(AwsXmlTest, RejectsBrokenDocuments) {
  for (const char* bad : {"",
                          "   ",
                          "text",
                          "<a>",
                          "<a></b>",
                          "<a><b></a></b>",
                          "<a x=1></a>",
                          "<a x=\"1></a>",
                          "<a></a><b></b>",
                          "<a></a>trailing",
                          "<!DOCTYPE a><a/>",
                          "<a><!DOCTYPE x></a>",
                          "<a><![CDATA[x</a>",
                          "<a><!-- x</a>",
                          "<a>&#0;</a>",
                          "<a>&#xD800;</a>",
                          "<a>&#x110000;</a>",
                          "<a>&#xZZ;</a>",
                          "</a>",
                          "<>",
                          "<a",
                          "<a/"}) {
    Result<XmlElement> doc = ParseXml(bad);
    EXPECT_FALSE(doc.ok()) << bad;
    if (!doc.ok()) {
      EXPECT_EQ(doc.status().reason(), "aws_bad_xml") << bad;
    }
  }
}

TEST(AwsXmlTest, LimitsDepthAndElementCount) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  for (int i = 0; i < 100; ++i) deep += "</a>";
  EXPECT_FALSE(ParseXml(deep).ok());
  EXPECT_TRUE(ParseXml(deep, {.max_depth = 100}).ok());
  EXPECT_FALSE(ParseXml("<a><b/><b/><b/></a>", {.max_elements = 3}).ok());
  EXPECT_TRUE(ParseXml("<a><b/><b/><b/></a>", {.max_elements = 4}).ok());
}

TEST(AwsXmlTest, WriteAndReadBack) {
  XmlElement e{.name = "r", .text = "<&>\"'", .children = {XmlElement{.name = "c", .text = "x"}}};
  Result<XmlElement> back = ParseXml(WriteXml(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->text, e.text);
  EXPECT_EQ(back->ChildText("c"), "x");
}

}  // namespace
}  // namespace pinhole::aws
