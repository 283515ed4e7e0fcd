// A small, tolerant XML reader for EC2 and STS responses: elements, text,
// entities, CDATA; attributes, comments, processing instructions and
// namespace prefixes are read and dropped. Callers look children up by name,
// so element order is never relied upon. No DTDs (entity expansion attacks
// are impossible), bounded depth and element count.
//
// Thread-safety: pure functions; XmlElement is a plain value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace pinhole::aws {

struct XmlElement {
  std::string name;  // local name, namespace prefix removed
  std::string text;  // character data directly inside, entities decoded
  std::vector<XmlElement> children;

  // The first child called `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // All children called `name`, in document order.
  std::vector<const XmlElement*> Children(std::string_view child_name) const;
  // The text of the first child called `name`; "" when absent.
  std::string ChildText(std::string_view child_name) const;
  // Follows a path of child names ("Errors/Error/Code"); nullptr when absent.
  const XmlElement* Find(std::string_view path) const;
};

struct XmlLimits {
  size_t max_depth = 64;
  size_t max_elements = 1'000'000;
};

// Fails with kInvalidArgument, reason "aws_bad_xml", for malformed documents,
// documents with a DTD, and documents over the limits.
Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits = {});

// Escapes &, <, >, " and ' for text or attribute values.
std::string XmlEscape(std::string_view text);
// Writes an element tree back out (text before children); for tests and the
// fuzzer's round trip.
std::string WriteXml(const XmlElement& element);

}  // namespace pinhole::aws
