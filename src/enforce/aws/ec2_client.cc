#include "enforce/aws/ec2_client.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <tuple>

#include "core/cidr.h"
#include "enforce/aws/errors.h"
#include "sigv4/query.h"
#include "sigv4/sigv4.h"

namespace pinhole::aws {
namespace {

constexpr int kMaxPages = 1000;
constexpr int kPageSize = 1000;

std::string NormaliseProtocol(std::string p) {
  for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (p == "6") return "tcp";
  if (p == "17") return "udp";
  if (p == "1") return "icmp";
  if (p == "58") return "icmpv6";
  return p;
}

int ParseInt(const std::string& s, int fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (end == s.c_str() || *end != '\0' || v < -1 || v > 65535) return fallback;
  return static_cast<int>(v);
}

std::string CanonicalCidr(const std::string& cidr) {
  // AWS stores prefixes with host bits cleared and IPv6 in its shortest form.
  size_t slash = cidr.find('/');
  Result<IpAddress> addr = IpAddress::Parse(cidr.substr(0, slash));
  if (!addr.ok()) return cidr;
  int prefix = addr->bits();
  if (slash != std::string::npos) prefix = ParseInt(cidr.substr(slash + 1), -2);
  if (prefix < 0 || prefix > addr->bits()) return cidr;
  IpAddress masked = *addr;
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(prefix - i * 8, 0, 8);
    masked.bytes[i] &= static_cast<uint8_t>(keep == 0 ? 0 : (0xFF << (8 - keep)) & 0xFF);
  }
  return masked.ToString() + "/" + std::to_string(prefix);
}

using RuleKey = std::tuple<std::string, int, int, std::string>;
RuleKey KeyOf(const IngressRule& r) {
  bool all = r.protocol == "-1";
  return {NormaliseProtocol(r.protocol), all ? -1 : r.from_port, all ? -1 : r.to_port,
          CanonicalCidr(r.cidr)};
}

bool IsV6(const std::string& cidr) { return cidr.find(':') != std::string::npos; }

void AddTags(QueryParams& q, const std::string& prefix,
             const std::map<std::string, std::string>& tags) {
  int n = 0;
  for (const auto& [k, v] : tags) {
    ++n;
    q.Add(prefix + std::to_string(n) + ".Key", k);
    q.Add(prefix + std::to_string(n) + ".Value", v);
  }
}

Status BadRequest(std::string message) {
  return Status::Invalid("aws_request", std::move(message));
}

class Ec2Client final : public Ec2Api {
 public:
  Ec2Client(ClientOptions options, Ec2ClientDeps deps)
      : options_(std::move(options)), deps_(std::move(deps)) {
    if (!deps_.clock) deps_.clock = std::make_shared<SystemClock>();
  }

  Result<std::vector<IngressRule>> AuthorizeIngress(
      const std::string& region, const std::string& group_id, const std::vector<IngressRule>& rules,
      const std::map<std::string, std::string>& tags) override {
    if (rules.empty()) return std::vector<IngressRule>();
    RETURN_IF_ERROR(CheckGroupId(group_id));
    std::map<std::string, std::string> all_tags = tags;
    for (const IngressRule& r : rules) {
      if (r.tags != rules.front().tags) {
        return BadRequest("rules authorized in one call must carry the same tags");
      }
      if (r.protocol.empty() || r.cidr.empty()) {
        return BadRequest("a rule needs a protocol and a CIDR");
      }
    }
    for (const auto& [k, v] : rules.front().tags) all_tags[k] = v;

    QueryParams q;
    q.Add("GroupId", group_id);
    // Rules with the same protocol and ports share one IpPermission (with
    // several ranges), which is also what makes moto report them all.
    std::vector<std::tuple<std::string, int, int>> order;
    std::map<std::tuple<std::string, int, int>, std::vector<const IngressRule*>> perms;
    for (const IngressRule& r : rules) {
      std::tuple<std::string, int, int> k{r.protocol, r.from_port, r.to_port};
      if (perms.find(k) == perms.end()) order.push_back(k);
      perms[k].push_back(&r);
    }
    int p = 0;
    for (const auto& k : order) {
      const std::string prefix = "IpPermissions." + std::to_string(++p) + ".";
      const auto& [protocol, from, to] = k;
      q.Add(prefix + "IpProtocol", protocol);
      if (protocol != "-1") {
        q.Add(prefix + "FromPort", from);
        q.Add(prefix + "ToPort", to);
      }
      int v4 = 0, v6 = 0;
      for (const IngressRule* r : perms[k]) {
        std::string range = IsV6(r->cidr) ? prefix + "Ipv6Ranges." + std::to_string(++v6) + "."
                                          : prefix + "IpRanges." + std::to_string(++v4) + ".";
        q.Add(range + (IsV6(r->cidr) ? "CidrIpv6" : "CidrIp"), r->cidr);
        if (!r->description.empty()) q.Add(range + "Description", r->description);
      }
    }
    if (!all_tags.empty()) {
      q.Add("TagSpecification.1.ResourceType", "security-group-rule");
      AddTags(q, "TagSpecification.1.Tag.", all_tags);
    }
    ASSIGN_OR_RETURN(XmlElement doc, Call("AuthorizeSecurityGroupIngress", region, q));

    std::vector<IngressRule> created;
    std::map<RuleKey, IngressRule> by_key;
    for (DescribedRule& d : ParseRuleSet(doc.Child("securityGroupRuleSet"))) {
      if (!d.is_egress) by_key[KeyOf(d.rule)] = std::move(d.rule);
    }
    std::vector<const IngressRule*> missing;
    for (const IngressRule& r : rules) {
      if (by_key.find(KeyOf(r)) == by_key.end()) missing.push_back(&r);
    }
    if (!missing.empty()) {
      // Only emulators answer with fewer rules than were created; learn the
      // ids with one describe rather than leaving the caller without them.
      Result<std::vector<IngressRule>> existing = DescribeIngress(region, group_id, "");
      if (existing.ok()) {
        for (IngressRule& e : *existing) by_key.emplace(KeyOf(e), std::move(e));
      } else {
        spdlog::warn("aws: could not learn the ids of new rules in {}: {}", group_id,
                     existing.status().ToString());
      }
    }
    for (const IngressRule& r : rules) {
      auto it = by_key.find(KeyOf(r));
      if (it == by_key.end()) continue;
      IngressRule out = it->second;
      if (out.group_id.empty()) out.group_id = group_id;
      if (out.tags.empty()) out.tags = all_tags;
      created.push_back(std::move(out));
    }
    return created;
  }

  Status RevokeIngress(const std::string& region, const std::string& group_id,
                       const std::vector<std::string>& rule_ids) override {
    if (rule_ids.empty()) return Status::Ok();
    RETURN_IF_ERROR(CheckGroupId(group_id));
    QueryParams q;
    q.Add("GroupId", group_id);
    int n = 0;
    for (const std::string& id : rule_ids) q.Add("SecurityGroupRuleId." + std::to_string(++n), id);
    ASSIGN_OR_RETURN(XmlElement doc, Call("RevokeSecurityGroupIngress", region, q));
    if (doc.ChildText("return") == "false") {
      return Status(Code::kNotFound, "InvalidPermission.NotFound",
                    "RevokeSecurityGroupIngress returned false for " + group_id);
    }
    return Status::Ok();
  }

  Result<std::vector<IngressRule>> DescribeIngress(const std::string& region,
                                                   const std::string& group_id,
                                                   const std::string& tag_key) override {
    RETURN_IF_ERROR(CheckGroupId(group_id));
    std::vector<IngressRule> out;
    std::string next_token;
    std::set<std::string> seen_tokens;
    for (int page = 0; page < kMaxPages; ++page) {
      QueryParams q;
      q.Add("Filter.1.Name", "group-id").Add("Filter.1.Value.1", group_id);
      if (!tag_key.empty()) q.Add("Filter.2.Name", "tag-key").Add("Filter.2.Value.1", tag_key);
      q.Add("MaxResults", kPageSize);
      if (!next_token.empty()) q.Add("NextToken", next_token);
      ASSIGN_OR_RETURN(XmlElement doc, Call("DescribeSecurityGroupRules", region, q));
      for (DescribedRule& d : ParseRuleSet(doc.Child("securityGroupRuleSet"))) {
        if (d.is_egress || d.rule.group_id != group_id) continue;
        if (!tag_key.empty() && d.rule.tags.count(tag_key) == 0) continue;
        out.push_back(std::move(d.rule));
      }
      next_token = doc.ChildText("nextToken");
      if (next_token.empty()) return out;
      if (!seen_tokens.insert(next_token).second) {
        return Status(Code::kUnavailable, "aws_transport",
                      "DescribeSecurityGroupRules repeated a page token");
      }
    }
    return Status(Code::kUnavailable, "aws_transport",
                  "DescribeSecurityGroupRules: more than " + std::to_string(kMaxPages) + " pages");
  }

  Status UpdateRules(const std::string& region, const std::string& group_id,
                     const std::vector<IngressRule>& rules,
                     const std::map<std::string, std::string>& tags) override {
    if (rules.empty()) return Status::Ok();
    RETURN_IF_ERROR(CheckGroupId(group_id));
    QueryParams q;
    q.Add("GroupId", group_id);
    int n = 0;
    for (const IngressRule& r : rules) {
      if (r.rule_id.empty() || r.protocol.empty() || r.cidr.empty()) {
        return BadRequest("updating a rule needs its rule_id, protocol and CIDR");
      }
      const std::string prefix = "SecurityGroupRule." + std::to_string(++n) + ".";
      q.Add(prefix + "SecurityGroupRuleId", r.rule_id);
      const std::string rule = prefix + "SecurityGroupRule.";
      q.Add(rule + "IpProtocol", r.protocol);
      q.Add(rule + "FromPort", r.protocol == "-1" ? -1 : r.from_port);
      q.Add(rule + "ToPort", r.protocol == "-1" ? -1 : r.to_port);
      q.Add(rule + (IsV6(r.cidr) ? "CidrIpv6" : "CidrIpv4"), r.cidr);
      q.Add(rule + "Description", r.description);
    }
    ASSIGN_OR_RETURN(XmlElement doc, Call("ModifySecurityGroupRules", region, q));
    if (doc.ChildText("return") == "false") {
      return Status(Code::kConflict, "aws_not_modified",
                    "ModifySecurityGroupRules returned false for " + group_id);
    }
    // One CreateTags per distinct tag set (usually exactly one).
    std::map<std::map<std::string, std::string>, std::vector<std::string>> by_tags;
    for (const IngressRule& r : rules) {
      std::map<std::string, std::string> t = tags;
      for (const auto& [k, v] : r.tags) t[k] = v;
      if (!t.empty()) by_tags[t].push_back(r.rule_id);
    }
    for (const auto& [t, ids] : by_tags) {
      QueryParams tq;
      int i = 0;
      for (const std::string& id : ids) tq.Add("ResourceId." + std::to_string(++i), id);
      AddTags(tq, "Tag.", t);
      ASSIGN_OR_RETURN(XmlElement ignored, Call("CreateTags", region, tq));
      (void)ignored;
    }
    return Status::Ok();
  }

  Status CheckGroups(const std::string& region,
                     const std::vector<std::string>& group_ids) override {
    if (group_ids.empty()) return Status::Ok();
    QueryParams q;
    int n = 0;
    for (const std::string& id : group_ids) {
      RETURN_IF_ERROR(CheckGroupId(id));
      q.Add("GroupId." + std::to_string(++n), id);
    }
    ASSIGN_OR_RETURN(XmlElement doc, Call("DescribeSecurityGroups", region, q));
    std::set<std::string> found;
    if (const XmlElement* set = doc.Child("securityGroupInfo")) {
      for (const XmlElement* item : set->Children("item")) found.insert(item->ChildText("groupId"));
    }
    for (const std::string& id : group_ids) {
      if (found.count(id) == 0) {
        return Status(Code::kNotFound, "InvalidGroup.NotFound",
                      "security group " + id + " does not exist in " + region);
      }
    }
    return Status::Ok();
  }

 private:
  static Status CheckGroupId(const std::string& id) {
    if (id.empty() || id.size() > 64) return BadRequest("bad security group id '" + id + "'");
    return Status::Ok();
  }

  Result<XmlElement> Call(std::string_view action, const std::string& region,
                          const QueryParams& params) {
    ASSIGN_OR_RETURN(std::string url, Ec2Endpoint(options_.endpoint_template, region));
    ASSIGN_OR_RETURN(UrlParts parts, SplitUrl(url));
    std::string body = "Action=" + std::string(action) + "&Version=" + std::string(kEc2ApiVersion);
    if (std::string rest = params.Encode(); !rest.empty()) body += "&" + rest;

    for (int attempt = 0;; ++attempt) {
      ASSIGN_OR_RETURN(Credentials creds, deps_.credentials->Get());
      HttpRequest request{.method = "POST", .url = url, .body = body, .timeout = options_.timeout};
      request.headers = {{"Host", parts.authority},
                         {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
      SigningResult sig = SignRequest(
          {.method = "POST",
           .path = UriDecode(parts.path),
           .headers = request.headers,
           .payload_hash = Sha256Hex(body)},
          creds.Signing(), {.region = region, .service = "ec2", .time = deps_.clock->Now()});
      for (auto& h : sig.headers_to_add) request.headers.push_back(std::move(h));

      const auto start = std::chrono::steady_clock::now();
      Result<HttpResponse> response = deps_.transport->Send(request);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      if (!response.ok()) {
        spdlog::debug("aws: {} {} failed after {} ms: {}", action, region, ms,
                      response.status().ToString());
        return Status(response.status().code(), response.status().reason(),
                      std::string(action) + " " + region + ": " + response.status().message());
      }
      spdlog::debug("aws: {} {} -> HTTP {} in {} ms", action, region, response->status, ms);
      if (response->status >= 200 && response->status < 300) {
        Result<XmlElement> doc = ParseXml(response->body);
        if (!doc.ok()) {
          return Status(Code::kUnavailable, "aws_transport",
                        std::string(action) + ": unreadable response: " + doc.status().message());
        }
        return doc;
      }
      Status st = AwsErrorStatus(action, response->status, response->body);
      st = Status(st.code(), st.reason(),
                  Redact(st.message(), {creds.secret_access_key, creds.session_token}));
      const bool expired_temporary =
          creds.expiration.has_value() &&
          (st.reason() == "ExpiredToken" || st.reason() == "RequestExpired" ||
           st.reason() == "AuthFailure");
      if (expired_temporary && attempt == 0) {
        // Temporary credentials can be revoked or expire early; fetch fresh
        // ones once rather than failing until the cache would have expired.
        deps_.credentials->Invalidate();
        continue;
      }
      if (st.code() == Code::kPermissionDenied) {
        st = Status(st.code(), st.reason(), st.message() + " [credentials: " + creds.source + "]");
      }
      return st;
    }
  }

  const ClientOptions options_;
  Ec2ClientDeps deps_;
};

}  // namespace

Result<std::string> Ec2Endpoint(std::string_view endpoint_template, std::string_view region) {
  if (region.empty() || region.size() > 32 ||
      region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string_view::npos) {
    return Status::Invalid("aws_endpoint", "bad region '" + std::string(region) + "'");
  }
  std::string url(endpoint_template);
  if (url.empty()) {
    // The China regions live in their own partition and DNS suffix.
    url = std::string(kDefaultEc2Endpoint) + (region.rfind("cn-", 0) == 0 ? ".cn" : "");
  }
  size_t pos;
  while ((pos = url.find("{region}")) != std::string::npos) url.replace(pos, 8, region);
  RETURN_IF_ERROR(SplitUrl(url).status());
  return url;
}

std::vector<DescribedRule> ParseRuleSet(const XmlElement* rule_set) {
  std::vector<DescribedRule> out;
  if (rule_set == nullptr) return out;
  for (const XmlElement* item : rule_set->Children("item")) {
    DescribedRule d;
    d.is_egress = item->ChildText("isEgress") == "true";
    IngressRule& r = d.rule;
    r.rule_id = item->ChildText("securityGroupRuleId");
    r.group_id = item->ChildText("groupId");
    r.protocol = NormaliseProtocol(item->ChildText("ipProtocol"));
    r.from_port = ParseInt(item->ChildText("fromPort"), -1);
    r.to_port = ParseInt(item->ChildText("toPort"), -1);
    r.cidr = item->ChildText("cidrIpv4");
    if (r.cidr.empty()) r.cidr = item->ChildText("cidrIpv6");
    r.description = item->ChildText("description");
    if (const XmlElement* tags = item->Child("tagSet")) {
      for (const XmlElement* t : tags->Children("item"))
        r.tags[t->ChildText("key")] = t->ChildText("value");
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::unique_ptr<Ec2Api>> NewEc2Client(const ClientOptions& options, Ec2ClientDeps deps) {
  if (!options.endpoint_template.empty()) {
    // Checked once here with a sample region so that a typo fails at start-up.
    RETURN_IF_ERROR(Ec2Endpoint(options.endpoint_template, "us-east-1").status());
  }
  if (!deps.transport || !deps.credentials) {
    return Status::Internal("NewEc2Client needs a transport and a credential provider");
  }
  return std::unique_ptr<Ec2Api>(std::make_unique<Ec2Client>(options, std::move(deps)));
}

Result<std::unique_ptr<Ec2Api>> NewEc2Client(const ClientOptions& options) {
  const char* ca_bundle = std::getenv("AWS_CA_BUNDLE");
  std::shared_ptr<HttpTransport> transport =
      NewCurlTransport(32 << 20, ca_bundle != nullptr ? ca_bundle : "");
  auto clock = std::make_shared<SystemClock>();
  ChainOptions chain{.profile = options.profile,
                     .sts_endpoint = options.sts_endpoint,
                     .imds_endpoint = options.imds_endpoint,
                     .timeout = options.timeout,
                     .transport = transport,
                     .clock = clock};
  if (chain.imds_endpoint.empty()) chain.imds_endpoint = "http://169.254.169.254";
  return NewEc2Client(options, Ec2ClientDeps{.transport = transport,
                                             .credentials = NewCredentialChain(std::move(chain)),
                                             .clock = clock});
}

}  // namespace pinhole::aws
