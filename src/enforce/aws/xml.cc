#include "enforce/aws/xml.h"

namespace pinhole::aws {
namespace {

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsNameChar(char c) {
  return !IsXmlSpace(c) && c != '<' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' &&
         c != '&' && c != '\0';
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view doc, const XmlLimits& limits) : doc_(doc), limits_(limits) {}

  Result<XmlElement> Document() {
    if (doc_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    RETURN_IF_ERROR(SkipMisc());
    if (AtEnd() || doc_[pos_] != '<') return Error("no root element");
    XmlElement root;
    RETURN_IF_ERROR(Element(root, 1));
    RETURN_IF_ERROR(SkipMisc());
    if (!AtEnd()) return Error("content after the root element");
    return root;
  }

 private:
  bool AtEnd() const { return pos_ >= doc_.size(); }
  bool StartsWith(std::string_view s) const { return doc_.substr(pos_, s.size()) == s; }

  Status Error(std::string_view what) const {
    return Status::Invalid("aws_bad_xml", std::string(what) + " at byte " + std::to_string(pos_));
  }

  void SkipSpace() {
    while (!AtEnd() && IsXmlSpace(doc_[pos_])) ++pos_;
  }

  // Skips up to and including `terminator`.
  Status SkipPast(std::string_view terminator, std::string_view what) {
    size_t end = doc_.find(terminator, pos_);
    if (end == std::string_view::npos)
      return Error(std::string("unterminated ") + std::string(what));
    pos_ = end + terminator.size();
    return Status::Ok();
  }

  // Whitespace, comments and processing instructions outside the root.
  Status SkipMisc() {
    while (true) {
      SkipSpace();
      if (StartsWith("<?")) {
        RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!--")) {
        RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsWith("<!")) {
        return Error("DTDs are not accepted");
      } else {
        return Status::Ok();
      }
    }
  }

  Result<std::string> Name() {
    size_t start = pos_;
    while (!AtEnd() && IsNameChar(doc_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected a name");
    return std::string(doc_.substr(start, pos_ - start));
  }

  static std::string LocalName(const std::string& qname) {
    size_t colon = qname.rfind(':');
    if (colon == std::string::npos || colon + 1 == qname.size()) return qname;
    return qname.substr(colon + 1);
  }

  // Decodes one reference starting at '&'.
  Status Reference(std::string& out) {
    size_t semi = doc_.find(';', pos_);
    if (semi == std::string_view::npos || semi - pos_ > 12) {
      // Tolerated: a bare '&' is kept as it is.
      out += '&';
      ++pos_;
      return Status::Ok();
    }
    std::string_view ref = doc_.substr(pos_ + 1, semi - pos_ - 1);
    if (ref == "lt") {
      out += '<';
    } else if (ref == "gt") {
      out += '>';
    } else if (ref == "amp") {
      out += '&';
    } else if (ref == "quot") {
      out += '"';
    } else if (ref == "apos") {
      out += '\'';
    } else if (!ref.empty() && ref[0] == '#') {
      uint32_t cp = 0;
      bool hex = ref.size() > 1 && (ref[1] == 'x' || ref[1] == 'X');
      std::string_view digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return Error("empty character reference");
      for (char c : digits) {
        int v;
        if (c >= '0' && c <= '9') {
          v = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
          v = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
          v = c - 'A' + 10;
        } else {
          return Error("bad character reference");
        }
        cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
        if (cp > 0x10FFFF) return Error("character reference out of range");
      }
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) return Error("invalid character reference");
      AppendUtf8(out, cp);
    } else {
      // Unknown named entity: kept literally (no DTD can define it).
      out.append(doc_.substr(pos_, semi - pos_ + 1));
    }
    pos_ = semi + 1;
    return Status::Ok();
  }

  Status Attributes(bool& self_closing) {
    while (true) {
      SkipSpace();
      if (AtEnd()) return Error("unterminated start tag");
      if (StartsWith("/>")) {
        pos_ += 2;
        self_closing = true;
        return Status::Ok();
      }
      if (doc_[pos_] == '>') {
        ++pos_;
        self_closing = false;
        return Status::Ok();
      }
      ASSIGN_OR_RETURN(std::string attr, Name());
      SkipSpace();
      if (AtEnd() || doc_[pos_] != '=') return Error("expected '=' after attribute " + attr);
      ++pos_;
      SkipSpace();
      if (AtEnd() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) return Error("unquoted attribute");
      char quote = doc_[pos_++];
      size_t end = doc_.find(quote, pos_);
      if (end == std::string_view::npos) return Error("unterminated attribute value");
      if (doc_.substr(pos_, end - pos_).find('<') != std::string_view::npos) {
        return Error("'<' in an attribute value");
      }
      pos_ = end + 1;
    }
  }

  Status Element(XmlElement& element, size_t depth) {
    if (depth > limits_.max_depth) return Error("nesting too deep");
    if (++elements_ > limits_.max_elements) return Error("too many elements");
    ++pos_;  // '<'
    ASSIGN_OR_RETURN(std::string qname, Name());
    element.name = LocalName(qname);
    bool self_closing = false;
    RETURN_IF_ERROR(Attributes(self_closing));
    if (self_closing) return Status::Ok();

    while (true) {
      if (AtEnd()) return Error("unterminated element " + qname);
      char c = doc_[pos_];
      if (c == '&') {
        RETURN_IF_ERROR(Reference(element.text));
      } else if (c != '<') {
        element.text += c;
        ++pos_;
      } else if (StartsWith("</")) {
        pos_ += 2;
        ASSIGN_OR_RETURN(std::string closing, Name());
        if (closing != qname) return Error("</" + closing + "> closes <" + qname + ">");
        SkipSpace();
        if (AtEnd() || doc_[pos_] != '>') return Error("unterminated end tag");
        ++pos_;
        return Status::Ok();
      } else if (StartsWith("<!--")) {
        RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsWith("<![CDATA[")) {
        pos_ += 9;
        size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        element.text.append(doc_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (StartsWith("<?")) {
        RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (StartsWith("<!")) {
        return Error("unexpected markup declaration");
      } else {
        element.children.emplace_back();
        RETURN_IF_ERROR(Element(element.children.back(), depth + 1));
      }
    }
  }

  std::string_view doc_;
  XmlLimits limits_;
  size_t pos_ = 0;
  size_t elements_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const auto& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const auto& c : children) {
    if (c.name == child_name) out.push_back(&c);
  }
  return out;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c ? c->text : std::string();
}

const XmlElement* XmlElement::Find(std::string_view path) const {
  const XmlElement* cur = this;
  while (cur && !path.empty()) {
    size_t slash = path.find('/');
    cur = cur->Child(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return cur;
}

Result<XmlElement> ParseXml(std::string_view document, const XmlLimits& limits) {
  return Parser(document, limits).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string WriteXml(const XmlElement& element) {
  std::string out = "<" + element.name + ">" + XmlEscape(element.text);
  for (const auto& c : element.children) out += WriteXml(c);
  out += "</" + element.name + ">";
  return out;
}

}  // namespace pinhole::aws
