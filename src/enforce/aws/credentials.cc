#include "enforce/aws/credentials.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <vector>

#include "enforce/aws/errors.h"
#include "sigv4/query.h"
#include "enforce/aws/xml.h"

namespace pinhole::aws {
namespace {

constexpr int kMaxRoleChain = 5;
constexpr auto kImdsTokenTtl = std::chrono::seconds(21600);
constexpr auto kUnreachableBackoff = std::chrono::seconds(15);

Status CredError(std::string message) {
  return Status(Code::kPermissionDenied, "aws_credentials", std::move(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string SubstituteRegion(std::string tmpl, std::string_view region) {
  size_t pos;
  while ((pos = tmpl.find("{region}")) != std::string::npos) tmpl.replace(pos, 8, region);
  return tmpl;
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// --- Static ------------------------------------------------------------------

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : creds_(std::move(c)) {}
  Result<Credentials> Get() override { return creds_; }

 private:
  const Credentials creds_;
};

// --- Refreshing (shared by AssumeRole and IMDS) -------------------------------

class RefreshingProvider : public CredentialsProvider {
 public:
  RefreshingProvider(std::shared_ptr<const Clock> clock, std::chrono::seconds refresh_before)
      : clock_(std::move(clock)), refresh_before_(refresh_before) {}

  Result<Credentials> Get() final {
    std::lock_guard lock(mu_);
    const Time now = clock_->Now();
    if (cached_ && (!cached_->expiration || now + refresh_before_ < *cached_->expiration)) {
      return *cached_;
    }
    Result<Credentials> fresh = Fetch();
    if (fresh.ok()) {
      cached_ = fresh.value();
      return fresh;
    }
    if (cached_ && cached_->expiration && now < *cached_->expiration) {
      spdlog::warn(
          "aws: refreshing credentials from {} failed ({}); the current ones are valid "
          "until {}",
          cached_->source, fresh.status().ToString(), FormatTime(*cached_->expiration));
      return *cached_;
    }
    return fresh.status();
  }

  void Invalidate() final {
    std::lock_guard lock(mu_);
    cached_.reset();
  }

 protected:
  // Called with the lock held.
  virtual Result<Credentials> Fetch() = 0;
  const Clock& clock() const { return *clock_; }

 private:
  std::shared_ptr<const Clock> clock_;
  const std::chrono::seconds refresh_before_;
  std::mutex mu_;
  std::optional<Credentials> cached_;
};

// --- STS AssumeRole -----------------------------------------------------------

struct AssumeRoleParams {
  std::string role_arn;
  std::string session_name;
  std::string external_id;
  int duration_seconds = 3600;
  std::string region;    // STS signing region
  std::string endpoint;  // full URL
};

class AssumeRoleProvider final : public RefreshingProvider {
 public:
  AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, AssumeRoleParams params,
                     const ChainOptions& options)
      : RefreshingProvider(options.clock, options.refresh_before),
        source_(std::move(source)),
        params_(std::move(params)),
        transport_(options.transport),
        timeout_(options.timeout) {}

 protected:
  Result<Credentials> Fetch() override {
    ASSIGN_OR_RETURN(Credentials source, source_->Get());
    ASSIGN_OR_RETURN(UrlParts url, SplitUrl(params_.endpoint));
    QueryParams q;
    q.Add("Action", "AssumeRole").Add("Version", "2011-06-15");
    q.Add("RoleArn", params_.role_arn).Add("RoleSessionName", params_.session_name);
    q.Add("DurationSeconds", params_.duration_seconds);
    if (!params_.external_id.empty()) q.Add("ExternalId", params_.external_id);
    const std::string body = q.Encode();

    HttpRequest request{
        .method = "POST", .url = params_.endpoint, .body = body, .timeout = timeout_};
    request.headers = {{"Host", url.authority},
                       {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    SigningResult signed_request = SignRequest(
        {.method = "POST",
         .path = UriDecode(url.path),
         .headers = request.headers,
         .payload_hash = Sha256Hex(body)},
        source.Signing(), {.region = params_.region, .service = "sts", .time = clock().Now()});
    for (auto& h : signed_request.headers_to_add) request.headers.push_back(std::move(h));

    Result<HttpResponse> response = transport_->Send(request);
    if (!response.ok()) {
      return Status(response.status().code(), response.status().reason(),
                    "STS AssumeRole " + params_.role_arn + ": " + response.status().message());
    }
    if (response->status < 200 || response->status >= 300) {
      Status st = AwsErrorStatus("AssumeRole", response->status, response->body);
      if (st.code() == Code::kPermissionDenied) source_->Invalidate();
      return Status(st.code(), st.reason(),
                    Redact("STS AssumeRole " + params_.role_arn + " as " + source.source + ": " +
                               st.message(),
                           {source.secret_access_key, source.session_token}));
    }
    ASSIGN_OR_RETURN(Credentials creds, ParseAssumeRoleResponse(response->body));
    creds.source = "assume-role " + params_.role_arn;
    return creds;
  }

 private:
  std::shared_ptr<CredentialsProvider> source_;
  const AssumeRoleParams params_;
  std::shared_ptr<HttpTransport> transport_;
  const std::chrono::milliseconds timeout_;
};

// --- IMDSv2 ---------------------------------------------------------------------

class ImdsProvider final : public RefreshingProvider {
 public:
  explicit ImdsProvider(const ChainOptions& options)
      : RefreshingProvider(options.clock, options.refresh_before),
        endpoint_(TrimSlash(options.imds_endpoint)),
        transport_(options.transport),
        // The metadata service answers in milliseconds or not at all (not on
        // EC2): do not let it hold a call for the full AWS timeout.
        timeout_(std::min<std::chrono::milliseconds>(options.timeout, std::chrono::seconds(3))) {}

 protected:
  Result<Credentials> Fetch() override {
    // Not on EC2 and nothing else configured: do not make every call wait
    // for the metadata service to time out again.
    if (!reached_ && last_failure_ && clock().Now() < retry_after_) return *last_failure_;
    Result<Credentials> creds = FetchOnce();
    if (!creds.ok() && !token_.empty()) {
      // The session token may have been revoked (e.g. IMDS restarted): one
      // more try with a fresh token.
      token_.clear();
      creds = FetchOnce();
    }
    if (creds.ok()) {
      reached_ = true;
      last_failure_.reset();
    } else if (!reached_) {
      last_failure_ = creds.status();
      retry_after_ = clock().Now() + kUnreachableBackoff;
    }
    return creds;
  }

 private:
  Result<Credentials> FetchOnce() {
    if (token_.empty() || clock().Now() + std::chrono::seconds(60) >= token_expiry_) {
      HttpRequest put{.method = "PUT",
                      .url = endpoint_ + "/latest/api/token",
                      .headers = {{"X-aws-ec2-metadata-token-ttl-seconds",
                                   std::to_string(kImdsTokenTtl.count())}},
                      .timeout = timeout_};
      ASSIGN_OR_RETURN(HttpResponse r, Send(put, "token"));
      token_ = std::string(Trim(r.body));
      if (token_.empty()) return Failure("empty session token");
      token_expiry_ = clock().Now() + kImdsTokenTtl;
    }
    const std::string base = endpoint_ + "/latest/meta-data/iam/security-credentials/";
    ASSIGN_OR_RETURN(HttpResponse roles, Send(MetadataGet(base), "role name"));
    std::string_view role = Trim(roles.body);
    role = role.substr(0, role.find('\n'));
    role = Trim(role);
    if (role.empty() || role.find('/') != std::string_view::npos) {
      return Failure("no IAM role attached to this instance");
    }
    ASSIGN_OR_RETURN(HttpResponse doc, Send(MetadataGet(base + UriEncode(role)), "credentials"));
    ASSIGN_OR_RETURN(Credentials creds, ParseImdsCredentials(doc.body));
    creds.source = "imds role " + std::string(role);
    return creds;
  }

  HttpRequest MetadataGet(std::string url) const {
    return HttpRequest{.method = "GET",
                       .url = std::move(url),
                       .headers = {{"X-aws-ec2-metadata-token", token_}},
                       .timeout = timeout_};
  }

  Result<HttpResponse> Send(const HttpRequest& request, std::string_view what) {
    Result<HttpResponse> r = transport_->Send(request);
    if (!r.ok()) return Failure(std::string(what) + ": " + r.status().message());
    if (r->status == 401) token_.clear();
    if (r->status != 200) {
      return Failure(std::string(what) + ": HTTP " + std::to_string(r->status));
    }
    return r;
  }

  Status Failure(std::string message) const {
    // Before IMDS ever answered this is the usual "not on EC2 and nothing
    // else configured"; afterwards it is an outage worth retrying.
    if (!reached_) {
      return Status(Code::kPermissionDenied, "aws_no_credentials",
                    "no credentials in the environment or the shared files, and instance "
                    "metadata at " +
                        endpoint_ + " failed: " + message);
    }
    return Status(Code::kUnavailable, "aws_imds", "instance metadata: " + message);
  }

  const std::string endpoint_;
  std::shared_ptr<HttpTransport> transport_;
  const std::chrono::milliseconds timeout_;
  std::string token_;  // IMDS session token (not an AWS secret, but not logged)
  Time token_expiry_{};
  bool reached_ = false;
  std::optional<Status> last_failure_;
  Time retry_after_{};
};

// --- Shared files and the chain ---------------------------------------------------

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Result<std::optional<IniSections>> ReadIniFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<IniSections>();
  std::stringstream ss;
  ss << in.rdbuf();
  Result<IniSections> ini = ParseIni(ss.str());
  if (!ini.ok()) return CredError(path + ": " + ini.status().message());
  return std::optional<IniSections>(std::move(ini).value());
}

class Chain final : public CredentialsProvider {
 public:
  explicit Chain(ChainOptions options) : options_(std::move(options)) {
    if (!options_.env) options_.env = &ProcessEnv;
    if (!options_.clock) options_.clock = std::make_shared<SystemClock>();
  }

  Result<Credentials> Get() override {
    std::shared_ptr<CredentialsProvider> provider;
    {
      std::lock_guard lock(mu_);
      if (!resolved_) {
        Result<std::shared_ptr<CredentialsProvider>> r = Resolve();
        // Configuration errors are not cached: a fixed file is picked up on
        // the next call.
        if (!r.ok()) return r.status();
        resolved_ = std::move(r).value();
      }
      provider = resolved_;
    }
    return provider->Get();
  }

  void Invalidate() override {
    std::shared_ptr<CredentialsProvider> provider;
    {
      std::lock_guard lock(mu_);
      provider = resolved_;
    }
    if (provider) provider->Invalidate();
  }

 private:
  std::string Env(const std::string& name) const {
    std::optional<std::string> v = options_.env(name);
    return v ? *v : std::string();
  }

  Result<std::shared_ptr<CredentialsProvider>> Resolve() {
    // An explicitly configured profile wins over keys in the environment.
    if (options_.profile.empty()) {
      ASSIGN_OR_RETURN(auto env, FromEnvironment());
      if (env) return env;
    }
    std::string profile = options_.profile;
    bool named = !profile.empty();
    if (profile.empty()) profile = Env("AWS_PROFILE");
    if (profile.empty()) profile = Env("AWS_DEFAULT_PROFILE");
    named = named || !profile.empty();
    if (profile.empty()) profile = "default";

    std::string home = Env("HOME");
    std::string cred_path = Env("AWS_SHARED_CREDENTIALS_FILE");
    if (cred_path.empty() && !home.empty()) cred_path = home + "/.aws/credentials";
    std::string config_path = Env("AWS_CONFIG_FILE");
    if (config_path.empty() && !home.empty()) config_path = home + "/.aws/config";
    if (!cred_path.empty()) {
      ASSIGN_OR_RETURN(auto f, ReadIniFile(cred_path));
      if (f) credentials_file_ = std::move(*f);
    }
    if (!config_path.empty()) {
      ASSIGN_OR_RETURN(auto f, ReadIniFile(config_path));
      if (f) config_file_ = std::move(*f);
    }
    if (ProfileExists(profile)) {
      std::set<std::string> visiting;
      return FromProfile(profile, visiting, 0);
    }
    if (named) {
      return CredError("profile '" + profile + "' is in neither " + cred_path + " nor " +
                       config_path);
    }
    if (Lower(Env("AWS_EC2_METADATA_DISABLED")) == "true") {
      return Status(Code::kPermissionDenied, "aws_no_credentials",
                    "no credentials in the environment or the shared files, and instance "
                    "metadata is disabled (AWS_EC2_METADATA_DISABLED)");
    }
    return std::shared_ptr<CredentialsProvider>(std::make_shared<ImdsProvider>(options_));
  }

  Result<std::shared_ptr<CredentialsProvider>> FromEnvironment() const {
    std::string id = Env("AWS_ACCESS_KEY_ID");
    std::string secret = Env("AWS_SECRET_ACCESS_KEY");
    if (id.empty() && secret.empty()) return std::shared_ptr<CredentialsProvider>();
    if (id.empty() || secret.empty()) {
      return CredError(std::string(id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                       " is not set but the other one is");
    }
    Credentials c{.access_key_id = id,
                  .secret_access_key = secret,
                  .session_token = Env("AWS_SESSION_TOKEN"),
                  .source = "environment"};
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticProvider>(std::move(c)));
  }

  bool ProfileExists(const std::string& profile) const {
    return credentials_file_.count(profile) > 0 || config_file_.count(ConfigSection(profile)) > 0;
  }

  static std::string ConfigSection(const std::string& profile) {
    return profile == "default" ? profile : "profile " + profile;
  }

  // The credentials file wins over the config file for the same key.
  std::map<std::string, std::string> ProfileSettings(const std::string& profile) const {
    std::map<std::string, std::string> out;
    if (auto it = config_file_.find(ConfigSection(profile)); it != config_file_.end()) {
      out = it->second;
    }
    if (profile == "default") {
      // Some tools write "[profile default]".
      if (auto it = config_file_.find("profile default"); it != config_file_.end()) {
        for (const auto& [k, v] : it->second) out.emplace(k, v);
      }
    }
    if (auto it = credentials_file_.find(profile); it != credentials_file_.end()) {
      for (const auto& [k, v] : it->second) out[k] = v;
    }
    return out;
  }

  Result<std::shared_ptr<CredentialsProvider>> StaticFromProfile(
      const std::string& profile, const std::map<std::string, std::string>& s) const {
    auto id = s.find("aws_access_key_id");
    auto secret = s.find("aws_secret_access_key");
    if (id == s.end() || secret == s.end() || id->second.empty() || secret->second.empty()) {
      return CredError("profile '" + profile +
                       "' has neither role_arn nor aws_access_key_id and aws_secret_access_key");
    }
    Credentials c{.access_key_id = id->second,
                  .secret_access_key = secret->second,
                  .source = "profile " + profile};
    if (auto t = s.find("aws_session_token"); t != s.end()) c.session_token = t->second;
    return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticProvider>(std::move(c)));
  }

  Result<std::shared_ptr<CredentialsProvider>> FromProfile(const std::string& profile,
                                                           std::set<std::string>& visiting,
                                                           int depth) {
    if (!ProfileExists(profile)) return CredError("source profile '" + profile + "' not found");
    if (depth > kMaxRoleChain) return CredError("role chain longer than 5 profiles");
    if (!visiting.insert(profile).second) {
      return CredError("source_profile loop through profile '" + profile + "'");
    }
    const std::map<std::string, std::string> s = ProfileSettings(profile);
    auto role = s.find("role_arn");
    if (role == s.end() || role->second.empty()) return StaticFromProfile(profile, s);

    std::shared_ptr<CredentialsProvider> source;
    auto source_profile = s.find("source_profile");
    auto credential_source = s.find("credential_source");
    if (source_profile != s.end() && credential_source != s.end()) {
      return CredError("profile '" + profile + "' sets both source_profile and credential_source");
    }
    if (source_profile != s.end()) {
      if (source_profile->second == profile) {
        ASSIGN_OR_RETURN(source, StaticFromProfile(profile, s));
      } else {
        ASSIGN_OR_RETURN(source, FromProfile(source_profile->second, visiting, depth + 1));
      }
    } else if (credential_source != s.end()) {
      if (credential_source->second == "Environment") {
        ASSIGN_OR_RETURN(source, FromEnvironment());
        if (!source) return CredError("profile '" + profile + "': no keys in the environment");
      } else if (credential_source->second == "Ec2InstanceMetadata") {
        source = std::make_shared<ImdsProvider>(options_);
      } else {
        return CredError("profile '" + profile + "': unsupported credential_source '" +
                         credential_source->second + "'");
      }
    } else {
      return CredError("profile '" + profile +
                       "' sets role_arn without source_profile or credential_source");
    }

    AssumeRoleParams params;
    params.role_arn = role->second;
    if (auto it = s.find("role_session_name"); it != s.end()) params.session_name = it->second;
    if (params.session_name.empty()) {
      params.session_name =
          "pinhole-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          options_.clock->Now().time_since_epoch())
                                          .count());
    }
    if (auto it = s.find("external_id"); it != s.end()) params.external_id = it->second;
    if (auto it = s.find("duration_seconds"); it != s.end()) {
      char* end = nullptr;
      long v = std::strtol(it->second.c_str(), &end, 10);
      if (end == it->second.c_str() || *end != '\0' || v < 900 || v > 43200) {
        return CredError("profile '" + profile + "': duration_seconds must be 900..43200");
      }
      params.duration_seconds = static_cast<int>(v);
    }
    params.region = Env("AWS_REGION");
    if (params.region.empty()) params.region = Env("AWS_DEFAULT_REGION");
    if (params.region.empty()) {
      if (auto it = s.find("region"); it != s.end()) params.region = it->second;
    }
    if (params.region.empty()) params.region = "us-east-1";
    std::string sts = options_.sts_endpoint;
    if (sts.empty()) {
      sts = std::string("https://sts.{region}.amazonaws.com") +
            (params.region.rfind("cn-", 0) == 0 ? ".cn" : "");
    }
    params.endpoint = SubstituteRegion(sts, params.region);
    if (Result<UrlParts> u = SplitUrl(params.endpoint); !u.ok()) {
      return CredError("STS endpoint: " + u.status().message());
    }
    return std::shared_ptr<CredentialsProvider>(
        std::make_shared<AssumeRoleProvider>(std::move(source), std::move(params), options_));
  }

  ChainOptions options_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> resolved_;
  IniSections credentials_file_;
  IniSections config_file_;
};

}  // namespace

std::shared_ptr<CredentialsProvider> NewCredentialChain(ChainOptions options) {
  return std::make_shared<Chain>(std::move(options));
}

Result<IniSections> ParseIni(std::string_view text) {
  IniSections out;
  std::map<std::string, std::string>* section = nullptr;
  std::string* last_value = nullptr;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    if (line.front() == '[') {
      if (line.back() != ']') {
        return Status::Invalid("aws_credentials",
                               "line " + std::to_string(line_no) + ": unterminated section header");
      }
      std::string name(Trim(line.substr(1, line.size() - 2)));
      // "[profile   x]" means "[profile x]".
      if (name.rfind("profile", 0) == 0 && name.size() > 7 &&
          std::isspace(static_cast<unsigned char>(name[7]))) {
        name = "profile " + std::string(Trim(std::string_view(name).substr(7)));
      }
      if (name.empty()) {
        return Status::Invalid("aws_credentials",
                               "line " + std::to_string(line_no) + ": empty section name");
      }
      section = &out[name];
      last_value = nullptr;
      continue;
    }
    if (indented && last_value != nullptr) {
      // A nested setting of the previous key; kept as text, not interpreted.
      *last_value += "\n" + std::string(line);
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || section == nullptr) {
      return Status::Invalid("aws_credentials", "line " + std::to_string(line_no) +
                                                    (section ? ": expected key = value"
                                                             : ": setting outside a section"));
    }
    std::string key = Lower(Trim(line.substr(0, eq)));
    if (key.empty()) {
      return Status::Invalid("aws_credentials", "line " + std::to_string(line_no) + ": empty key");
    }
    std::string& value = (*section)[key];
    value = std::string(Trim(line.substr(eq + 1)));
    last_value = &value;
  }
  return out;
}

std::optional<Time> ParseAwsTime(std::string_view text) {
  std::string s(Trim(text));
  // Fractional seconds of any length: keep at most milliseconds.
  size_t dot = s.find('.');
  if (dot != std::string::npos) {
    size_t end = dot + 1;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    std::string frac = s.substr(dot + 1, end - dot - 1).substr(0, 3);
    if (frac.empty()) return std::nullopt;
    while (frac.size() < 3) frac += '0';
    s = s.substr(0, dot) + "." + frac + s.substr(end);
  }
  return ParseTime(s);
}

Result<Credentials> ParseImdsCredentials(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) {
    return Status(Code::kUnavailable, "aws_imds", "instance metadata credentials are not JSON");
  }
  auto str = [&](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (std::string code = str("Code"); !code.empty() && code != "Success") {
    return Status(Code::kUnavailable, "aws_imds", "instance metadata credentials: Code " + code);
  }
  Credentials c{.access_key_id = str("AccessKeyId"),
                .secret_access_key = str("SecretAccessKey"),
                .session_token = str("Token")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(Code::kUnavailable, "aws_imds",
                  "instance metadata credentials lack AccessKeyId or SecretAccessKey");
  }
  if (std::string exp = str("Expiration"); !exp.empty()) {
    c.expiration = ParseAwsTime(exp);
    if (!c.expiration) {
      return Status(Code::kUnavailable, "aws_imds", "instance metadata: bad Expiration");
    }
  }
  return c;
}

Result<Credentials> ParseAssumeRoleResponse(std::string_view xml) {
  Result<XmlElement> doc = ParseXml(xml);
  if (!doc.ok()) {
    return Status(Code::kUnavailable, "aws_transport",
                  "STS AssumeRole: unreadable response: " + doc.status().message());
  }
  const XmlElement* creds = doc->Find("AssumeRoleResult/Credentials");
  if (creds == nullptr) {
    return Status(Code::kUnavailable, "aws_transport",
                  "STS AssumeRole: no Credentials in response");
  }
  Credentials c{.access_key_id = creds->ChildText("AccessKeyId"),
                .secret_access_key = creds->ChildText("SecretAccessKey"),
                .session_token = creds->ChildText("SessionToken")};
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return Status(Code::kUnavailable, "aws_transport", "STS AssumeRole: incomplete Credentials");
  }
  c.expiration = ParseAwsTime(creds->ChildText("Expiration"));
  if (!c.expiration) {
    return Status(Code::kUnavailable, "aws_transport", "STS AssumeRole: bad Expiration");
  }
  return c;
}

}  // namespace pinhole::aws
