// Unit tests of the nftables enforcer against a recording runner: the JSON
// batches it produces, and how it reads listings. The kernel itself is
// exercised by nftables_kernel_test.cc.
#include "enforce/nftables/nftables_enforcer.h"

#include <gtest/gtest.h>

#include "enforce/fake_nft_runner.h"
#include "enforce/nftables/nft_layout.h"

namespace pinhole {
namespace {

using nlohmann::json;
using testing::FakeNftRunner;

Service MakeService(Id id, std::string name, Protocol proto, std::optional<PortRange> ports,
                    bool keep = false) {
  Service s;
  s.id = id;
  s.name = std::move(name);
  s.protocol = proto;
  s.ports = ports;
  s.keep_established = keep;
  return s;
}

Service Ssh() { return MakeService(1, "ssh", Protocol::kTcp, PortRange{22, 22}); }

Cidr C(std::string_view text) {
  auto c = Cidr::Parse(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? *c : Cidr{};
}

// One line per command, e.g. "add element svc_1_4_32 198.51.100.7:3600".
std::string Describe(const json& cmd) {
  const std::string& op = cmd.begin().key();
  const json& body = cmd.begin().value();
  const std::string& kind = body.begin().key();
  const json& obj = body.begin().value();
  std::string out = op + " " + kind;
  if (kind == "rule")
    return out + " " + obj.at("chain").get<std::string>() + " " + obj.value("comment", "");
  out += " " + obj.at("name").get<std::string>();
  if (kind == "chain" && obj.contains("hook")) out += " base";
  if (kind == "element") {
    for (const auto& e : obj.at("elem")) {
      if (e.is_string()) {
        out += " " + e.get<std::string>();
      } else {
        out += " " + e["elem"]["val"].get<std::string>() + ":" +
               std::to_string(e["elem"]["timeout"].get<int64_t>());
      }
    }
  }
  return out;
}

std::vector<std::string> Describe(const std::vector<json>& batches, size_t index) {
  std::vector<std::string> out;
  for (const auto& cmd : batches.at(index).at("nftables")) out.push_back(Describe(cmd));
  return out;
}

const json* FindRule(const json& batch, std::string_view chain, std::string_view comment) {
  for (const auto& cmd : batch.at("nftables")) {
    if (!cmd.contains("add") || !cmd["add"].contains("rule")) continue;
    const auto& r = cmd["add"]["rule"];
    if (r["chain"] == chain && r.value("comment", "") == comment) return &r;
  }
  return nullptr;
}

// Builds a `list table` reply shaped like nft 1.0.6's.
class Listing {
 public:
  explicit Listing(std::string table = "pinhole") : table_(std::move(table)) {
    items_.push_back({{"metainfo", {{"version", "1.0.6"}, {"json_schema_version", 1}}}});
    items_.push_back({{"table", {{"family", "inet"}, {"name", table_}, {"handle", 1}}}});
  }
  Listing& Set(const std::string& name, json elems = json::array(), std::string type = "") {
    if (type.empty()) type = name.find("_6_") != std::string::npos ? "ipv6_addr" : "ipv4_addr";
    json s = {{"family", "inet"}, {"name", name},        {"table", table_},
              {"type", type},     {"handle", ++handle_}, {"flags", json::array({"timeout"})}};
    if (!elems.empty()) s["elem"] = std::move(elems);
    items_.push_back({{"set", s}});
    return *this;
  }
  Listing& Chain(const std::string& name, std::vector<std::string> comments) {
    json c = {{"family", "inet"}, {"table", table_}, {"name", name}, {"handle", ++handle_}};
    if (name == "input") {
      c.update({{"type", "filter"}, {"hook", "input"}, {"prio", 0}, {"policy", "accept"}});
    }
    items_.push_back({{"chain", c}});
    for (auto& comment : comments) {
      items_.push_back({{"rule",
                         {{"family", "inet"},
                          {"table", table_},
                          {"chain", name},
                          {"handle", ++handle_},
                          {"comment", comment},
                          {"expr", json::array()}}}});
    }
    return *this;
  }
  // The structure a sync of `services` creates, with no extra prefix sets.
  Listing& Synced(const std::vector<Service>& services) {
    std::vector<std::string> input = {"lo", "reply", "nd"};
    for (const auto& s : services) input.push_back(nft::DispatchComment(s));
    Chain("input", input);
    for (const auto& s : services) {
      std::string chain = nft::ChainName(s.id);
      Set(chain + "_4_32").Set(chain + "_6_128");
      std::vector<std::string> rules;
      if (s.keep_established) rules.push_back("est");
      rules.push_back("set:" + chain + "_4_32");
      rules.push_back("set:" + chain + "_6_128");
      rules.push_back("drop");
      Chain(chain, rules);
    }
    return *this;
  }
  std::string str() const { return json{{"nftables", items_}}.dump(); }

 private:
  std::string table_;
  json items_ = json::array();
  int handle_ = 1;
};

class NftablesEnforcerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e =
        NewNftablesEnforcer(EnforcerOptions{}, std::make_unique<FakeNftRunner>(&nft_), &clock_);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    enforcer_ = std::move(e).value();
  }
  // Syncs `services` against an empty kernel; afterwards the kernel "holds" them.
  void SyncFresh(const std::vector<Service>& services) {
    ASSERT_TRUE(enforcer_->SyncServices(services).ok());
    nft_.listing = Listing().Synced(services).str();
    nft_.batches.clear();
  }
  std::vector<std::string> Batch(size_t i) { return Describe(nft_.batches, i); }

  ManualClock clock_;
  FakeNftRunner::Shared nft_;
  std::unique_ptr<Enforcer> enforcer_;
};

TEST_F(NftablesEnforcerTest, SyncOnEmptyKernelCreatesTableChainsSetsAndDispatch) {
  std::vector<Service> services = {
      Ssh(), MakeService(2, "web", Protocol::kTcp, PortRange{8000, 8100}, /*keep=*/true),
      MakeService(3, "ping", Protocol::kIcmp, std::nullopt),
      MakeService(4, "dns", Protocol::kUdp, PortRange{53, 53}),
      MakeService(5, "any", Protocol::kAll, std::nullopt)};
  ASSERT_TRUE(enforcer_->SyncServices(services).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(0), std::vector<std::string>{"list table pinhole"});
  std::vector<std::string> want = {"add table pinhole", "add chain input base"};
  for (const auto& s : services) {
    std::string c = nft::ChainName(s.id);
    want.push_back("add chain " + c);
    want.push_back("add set " + c + "_4_32");
    want.push_back("add set " + c + "_6_128");
    if (s.keep_established) want.push_back("add rule " + c + " est");
    want.push_back("add rule " + c + " set:" + c + "_4_32");
    want.push_back("add rule " + c + " set:" + c + "_6_128");
    want.push_back("add rule " + c + " drop");
  }
  for (std::string r : {"lo", "reply", "nd", "svc_1 tcp 22", "svc_2 tcp 8000-8100", "svc_3 icmp",
                        "svc_4 udp 53", "svc_5 all"}) {
    want.push_back("add rule input " + r);
  }
  EXPECT_EQ(Batch(1), want);

  const json& batch = nft_.batches[1];
  const json& base = batch["nftables"][1]["add"]["chain"];
  EXPECT_EQ(base["type"], "filter");
  EXPECT_EQ(base["hook"], "input");
  EXPECT_EQ(base["policy"], "accept");
  const json& set = batch["nftables"][3]["add"]["set"];
  EXPECT_EQ(set["type"], "ipv4_addr");
  EXPECT_EQ(set["flags"], json::array({"timeout"}));
  EXPECT_EQ(batch["nftables"][4]["add"]["set"]["type"], "ipv6_addr");

  const json* ssh = FindRule(batch, "input", "svc_1 tcp 22");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ(
      ssh->at("expr").dump(),
      R"([{"match":{"left":{"meta":{"key":"l4proto"}},"op":"==","right":"tcp"}},)"
      R"({"match":{"left":{"payload":{"field":"dport","protocol":"th"}},"op":"==","right":22}},)"
      R"({"jump":{"target":"svc_1"}}])");
  const json* web = FindRule(batch, "input", "svc_2 tcp 8000-8100");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->at("expr")[1]["match"]["right"], json({{"range", {8000, 8100}}}));
  const json* ping = FindRule(batch, "input", "svc_3 icmp");
  ASSERT_NE(ping, nullptr);
  EXPECT_EQ(ping->at("expr")[0]["match"]["right"], json({{"set", {"icmp", "ipv6-icmp"}}}));
  const json* any = FindRule(batch, "input", "svc_5 all");
  ASSERT_NE(any, nullptr);
  EXPECT_EQ(any->at("expr").size(), 1u);  // just the jump
  const json* est = FindRule(batch, "svc_2", "est");
  ASSERT_NE(est, nullptr);
  EXPECT_EQ(est->at("expr")[0]["match"]["right"], json({"established", "related"}));
  const json* lookup = FindRule(batch, "svc_1", "set:svc_1_4_32");
  ASSERT_NE(lookup, nullptr);
  EXPECT_EQ(lookup->at("expr")[0]["match"]["left"],
            json({{"payload", {{"protocol", "ip"}, {"field", "saddr"}}}}));
  EXPECT_EQ(lookup->at("expr")[0]["match"]["right"], "@svc_1_4_32");
  const json* lookup6 = FindRule(batch, "svc_1", "set:svc_1_6_128");
  ASSERT_NE(lookup6, nullptr);
  EXPECT_EQ(lookup6->at("expr")[0]["match"]["left"]["payload"]["protocol"], "ip6");
  const json* reply = FindRule(batch, "input", "reply");
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->at("expr")[0]["match"]["left"], json({{"ct", {{"key", "direction"}}}}));
}

TEST_F(NftablesEnforcerTest, SyncChangesNothingWhenKernelMatches) {
  std::vector<Service> services = {Ssh(),
                                   MakeService(2, "web", Protocol::kTcp, PortRange{80, 80}, true)};
  nft_.listing = Listing().Synced(services).str();
  ASSERT_TRUE(enforcer_->SyncServices(services).ok());
  ASSERT_EQ(nft_.batches.size(), 1u);  // only the listing
}

TEST_F(NftablesEnforcerTest, SyncRemovesStaleServicesAndRewritesChangedDispatch) {
  Service old_ssh = Ssh();
  Service gone = MakeService(9, "gone", Protocol::kUdp, PortRange{53, 53});
  nft_.listing =
      Listing().Synced({old_ssh, gone}).Set("svc_9_4_24", json::array({"10.0.0.0"})).str();
  Service new_ssh = old_ssh;
  new_ssh.ports = PortRange{2222, 2222};
  ASSERT_TRUE(enforcer_->SyncServices({new_ssh}).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1), (std::vector<std::string>{
                          "flush chain input", "add chain input base", "flush chain svc_9",
                          "delete chain svc_9", "delete set svc_9_4_24", "delete set svc_9_4_32",
                          "delete set svc_9_6_128", "add rule input lo", "add rule input reply",
                          "add rule input nd", "add rule input svc_1 tcp 2222"}));
}

TEST_F(NftablesEnforcerTest, SyncRebuildsChainWhenKeepEstablishedChanges) {
  Service ssh = Ssh();
  nft_.listing = Listing().Synced({ssh}).str();
  ssh.keep_established = true;
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1),
            (std::vector<std::string>{"flush chain svc_1", "add rule svc_1 est",
                                      "add rule svc_1 set:svc_1_4_32",
                                      "add rule svc_1 set:svc_1_6_128", "add rule svc_1 drop"}));
}

TEST_F(NftablesEnforcerTest, SyncKeepsPrefixSetsTheKernelAlreadyHas) {
  Service ssh = Ssh();
  nft_.listing =
      Listing()
          .Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
          .Set("svc_1_4_32")
          .Set("svc_1_4_28", json::array({"198.51.100.0"}))
          .Set("svc_1_6_128")
          .Chain("svc_1", {"set:svc_1_4_32", "set:svc_1_4_28", "set:svc_1_6_128", "drop"})
          .str();
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  EXPECT_EQ(nft_.batches.size(), 1u);
}

TEST_F(NftablesEnforcerTest, SyncReplacesSetOfWrongType) {
  Service ssh = Ssh();
  Listing l;
  l.Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
      .Set("svc_1_4_32", json::array(), "ipv6_addr")
      .Set("svc_1_6_128")
      .Chain("svc_1", {"set:svc_1_4_32", "set:svc_1_6_128", "drop"});
  nft_.listing = l.str();
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1),
            (std::vector<std::string>{"flush chain svc_1", "delete set svc_1_4_32",
                                      "add set svc_1_4_32", "add rule svc_1 set:svc_1_4_32",
                                      "add rule svc_1 set:svc_1_6_128", "add rule svc_1 drop"}));
}

TEST_F(NftablesEnforcerTest, SyncRejectsBadServicesAndTouchesNothing) {
  Service no_id = Ssh();
  no_id.id = 0;
  EXPECT_EQ(enforcer_->SyncServices({no_id}).reason(), "invalid_service");
  Service twin = Ssh();
  twin.id = 2;
  EXPECT_EQ(enforcer_->SyncServices({Ssh(), twin}).reason(), "invalid_service");
  Service bad_target = Ssh();
  bad_target.target_json = R"({"host":"a"})";
  EXPECT_EQ(enforcer_->SyncServices({bad_target}).reason(), "invalid_target");
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, SyncIgnoresServicesOfOtherBackends) {
  Service aws = MakeService(7, "db", Protocol::kTcp, PortRange{5432, 5432});
  aws.backend = "aws-sg";
  aws.target_json = R"({"region":"eu-west-1"})";
  ASSERT_TRUE(enforcer_->SyncServices({Ssh(), aws}).ok());
  for (const auto& line : Batch(1)) EXPECT_EQ(line.find("svc_7"), std::string::npos) << line;
}

TEST_F(NftablesEnforcerTest, UpsertIsOneBatchWithoutListing) {
  SyncFresh({Ssh()});
  Time exp = clock_.Now() + Seconds(3600) + Millis(500);
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}}, {}}).ok());
  ASSERT_EQ(nft_.batches.size(), 1u);
  EXPECT_EQ(Batch(0), (std::vector<std::string>{"add element svc_1_4_32 198.51.100.7:1",
                                                "delete element svc_1_4_32 198.51.100.7",
                                                "add element svc_1_4_32 198.51.100.7:3601"}));
  // Renewal: same shape, new timeout (rounded up to whole seconds).
  clock_.Advance(Seconds(10));
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp + Seconds(7200)}}, {}}).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1), (std::vector<std::string>{"add element svc_1_4_32 198.51.100.7:1",
                                                "delete element svc_1_4_32 198.51.100.7",
                                                "add element svc_1_4_32 198.51.100.7:10791"}));
}

// Rounded up: the kernel may close a hole up to a second after its lease
// (pinholed removes it on time), never before.
TEST_F(NftablesEnforcerTest, TimeoutsAreWholeSecondsRoundedUp) {
  SyncFresh({Ssh()});
  ASSERT_TRUE(enforcer_
                  ->Apply({{{{"ssh", C("198.51.100.7")}, clock_.Now() + Millis(300)},
                            {{"ssh", C("198.51.100.8")}, clock_.Now() + Millis(1999)}},
                           {}})
                  .ok());
  std::map<std::string, int64_t> timeouts;
  for (const auto& cmd : nft_.batches.at(0)["nftables"]) {
    if (!cmd.contains("add")) continue;
    for (const auto& e : cmd["add"]["element"]["elem"]) {
      ASSERT_TRUE(e["elem"]["timeout"].is_number_integer());
      timeouts[e["elem"]["val"]] = e["elem"]["timeout"];  // the last add is the real one
    }
  }
  EXPECT_EQ(timeouts["198.51.100.7"], 1);
  EXPECT_EQ(timeouts["198.51.100.8"], 3);  // 1.999 s plus the kernel-clock margin
}

TEST_F(NftablesEnforcerTest, ManyChangesShareOneTransactionGroupedBySet) {
  SyncFresh({Ssh(), MakeService(2, "web", Protocol::kTcp, PortRange{443, 443})});
  Time exp = clock_.Now() + Seconds(60);
  ChangeSet cs;
  cs.upsert = {{{"ssh", C("198.51.100.7")}, exp},
               {{"ssh", C("198.51.100.8")}, exp},
               {{"web", C("2001:db8::1")}, exp}};
  cs.remove = {{"ssh", C("198.51.100.9")}};
  ASSERT_TRUE(enforcer_->Apply(cs).ok());
  ASSERT_EQ(nft_.batches.size(), 1u);
  EXPECT_EQ(Batch(0),
            (std::vector<std::string>{
                "add element svc_1_4_32 198.51.100.7:1 198.51.100.8:1 198.51.100.9:1",
                "delete element svc_1_4_32 198.51.100.7 198.51.100.8 198.51.100.9",
                "add element svc_1_4_32 198.51.100.7:61 198.51.100.8:61",
                "add element svc_2_6_128 2001:db8::1:1", "delete element svc_2_6_128 2001:db8::1",
                "add element svc_2_6_128 2001:db8::1:61"}));
}

TEST_F(NftablesEnforcerTest, RemoveMakesSureTheElementExistsThenDeletesIt) {
  SyncFresh({Ssh()});
  ASSERT_TRUE(enforcer_->Apply({{}, {{"ssh", C("2001:db8::7")}}}).ok());
  EXPECT_EQ(Batch(0), (std::vector<std::string>{"add element svc_1_6_128 2001:db8::7:1",
                                                "delete element svc_1_6_128 2001:db8::7"}));
}

TEST_F(NftablesEnforcerTest, RemovingFromAPrefixSetThatDoesNotExistDoesNothing) {
  SyncFresh({Ssh()});
  ASSERT_TRUE(enforcer_->Apply({{}, {{"ssh", C("198.51.100.0/28")}}}).ok());
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, CidrLeaseCreatesMaskedPrefixSetInSameTransaction) {
  SyncFresh({Ssh()});
  Time exp = clock_.Now() + Seconds(120);
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.0/28")}, exp}}, {}}).ok());
  ASSERT_EQ(nft_.batches.size(), 1u);
  EXPECT_EQ(
      Batch(0),
      (std::vector<std::string>{
          "add set svc_1_4_28", "flush chain svc_1", "add rule svc_1 set:svc_1_4_32",
          "add rule svc_1 set:svc_1_4_28", "add rule svc_1 set:svc_1_6_128", "add rule svc_1 drop",
          "add element svc_1_4_28 198.51.100.0:1", "delete element svc_1_4_28 198.51.100.0",
          "add element svc_1_4_28 198.51.100.0:121"}));
  const json* rule = FindRule(nft_.batches[0], "svc_1", "set:svc_1_4_28");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(
      rule->at("expr")[0]["match"]["left"],
      json({{"&", {{{"payload", {{"protocol", "ip"}, {"field", "saddr"}}}}, "255.255.255.240"}}}));
  EXPECT_EQ(rule->at("expr")[0]["match"]["right"], "@svc_1_4_28");
  EXPECT_EQ(nft_.batches[0]["nftables"][0]["add"]["set"]["type"], "ipv4_addr");

  // The set now exists: the next /28 element needs no structure change.
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("203.0.113.16/28")}, exp}}, {}}).ok());
  EXPECT_EQ(Batch(1).size(), 3u);
}

TEST_F(NftablesEnforcerTest, Ipv6PrefixUsesIpv6MaskAndSet) {
  SyncFresh({Ssh()});
  Time exp = clock_.Now() + Seconds(120);
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("2001:db8:0:100::/56")}, exp}}, {}}).ok());
  const json& batch = nft_.batches.at(0);
  EXPECT_EQ(batch["nftables"][0]["add"]["set"]["name"], "svc_1_6_56");
  EXPECT_EQ(batch["nftables"][0]["add"]["set"]["type"], "ipv6_addr");
  const json* rule = FindRule(batch, "svc_1", "set:svc_1_6_56");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->at("expr")[0]["match"]["left"]["&"][0]["payload"]["protocol"], "ip6");
  EXPECT_EQ(rule->at("expr")[0]["match"]["left"]["&"][1], "ffff:ffff:ffff:ff00::");
  EXPECT_EQ(Batch(0).back(), "add element svc_1_6_56 2001:db8:0:100:::121");
}

TEST_F(NftablesEnforcerTest, UnknownServiceIsNotFoundAndChangesNothing) {
  SyncFresh({Ssh()});
  Time exp = clock_.Now() + Seconds(60);
  Status st =
      enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}, {{"nope", C("1.2.3.4")}, exp}}, {}});
  EXPECT_EQ(st.code(), Code::kNotFound);
  st = enforcer_->Apply({{}, {{"nope", C("1.2.3.4")}}});
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, ApplyBeforeSyncKnowsNoService) {
  EXPECT_EQ(enforcer_->Apply({{{{"ssh", C("1.2.3.4")}, clock_.Now() + Seconds(5)}}, {}}).code(),
            Code::kNotFound);
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, RefusesToOpenToTheWholeInternet) {
  SyncFresh({Ssh()});
  Status st = enforcer_->Apply({{{{"ssh", C("0.0.0.0/0")}, clock_.Now() + Seconds(60)}}, {}});
  EXPECT_EQ(st.reason(), "cidr_too_wide");
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, ExpiredUpsertBecomesRemoval) {
  SyncFresh({Ssh()});
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, clock_.Now()}}, {}}).ok());
  EXPECT_EQ(Batch(0), (std::vector<std::string>{"add element svc_1_4_32 198.51.100.7:1",
                                                "delete element svc_1_4_32 198.51.100.7"}));
}

TEST_F(NftablesEnforcerTest, FailedApplyRereadsRepairsAndRetriesOnce) {
  SyncFresh({Ssh()});
  nft_.change_failures.push_back(NftErrorStatus("Error: No such file or directory"));
  nft_.listing.reset();  // someone deleted the table
  Time exp = clock_.Now() + Seconds(60);
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}}, {}}).ok());
  ASSERT_EQ(nft_.batches.size(), 3u);
  EXPECT_EQ(Batch(0).size(), 3u);  // the failed attempt
  EXPECT_EQ(Batch(1), std::vector<std::string>{"list table pinhole"});
  std::vector<std::string> retry = Batch(2);
  ASSERT_GE(retry.size(), 4u);
  EXPECT_EQ(retry.front(), "add table pinhole");
  EXPECT_EQ(retry.back(), "add element svc_1_4_32 198.51.100.7:61");
  EXPECT_NE(std::find(retry.begin(), retry.end(), "add rule input svc_1 tcp 22"), retry.end());
}

TEST_F(NftablesEnforcerTest, ApplyGivesUpAfterOneRetryAndRepairsNextTime) {
  SyncFresh({Ssh()});
  nft_.change_failures = {Status::Unavailable("boom"), Status::Unavailable("boom again")};
  Time exp = clock_.Now() + Seconds(60);
  Status st = enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}}, {}});
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_EQ(nft_.batches.size(), 3u);  // try, list, retry
  nft_.batches.clear();
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}}, {}}).ok());
  ASSERT_EQ(nft_.batches.size(), 2u);  // list (kernel matches: no repair), then the change
  EXPECT_EQ(Batch(0), std::vector<std::string>{"list table pinhole"});
  EXPECT_EQ(Batch(1).size(), 3u);
}

TEST_F(NftablesEnforcerTest, PermissionDeniedIsNotRetried) {
  SyncFresh({Ssh()});
  nft_.change_failures = {NftErrorStatus("Error: Operation not permitted")};
  Status st = enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, clock_.Now() + Seconds(9)}}, {}});
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(nft_.batches.size(), 1u);
}

TEST_F(NftablesEnforcerTest, ListHolesReadsElementsOfEveryPrefixSet) {
  Service ssh = Ssh();
  nft_.listing =
      Listing()
          .Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
          .Set("svc_1_4_32",
               json::array(
                   {{{"elem", {{"val", "198.51.100.7"}, {"timeout", 3600}, {"expires", 3599}}}},
                    "198.51.100.8"}))
          .Set("svc_1_4_28",
               json::array(
                   {{{"elem", {{"val", "198.51.100.0"}, {"timeout", 60}, {"expires", 30}}}},
                    {{"elem", {{"val", "198.51.100.7"}, {"timeout", 60}, {"expires", 30}}}}}))
          .Set("svc_1_6_128",
               json::array({{{"elem", {{"val", "2001:db8::1"}, {"timeout", 10}, {"expires", 5}}}}}))
          .Chain("svc_1", {"set:svc_1_4_32", "set:svc_1_4_28", "set:svc_1_6_128", "drop"})
          .str();
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  nft_.batches.clear();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok()) << holes.status().ToString();
  EXPECT_EQ(nft_.batches.size(), 1u);  // nothing to repair
  Time now = clock_.Now();
  HoleMap want = {
      {{"ssh", C("198.51.100.7")}, now + Seconds(3599)},
      {{"ssh", C("198.51.100.8")}, Time::max()},  // no timeout: a permanent hole
      {{"ssh", C("198.51.100.0/28")}, now + Seconds(30)},
      {{"ssh", C("2001:db8::1")}, now + Seconds(5)},
      // 198.51.100.7 in the /28 set can never match a masked lookup: not a hole.
  };
  EXPECT_EQ(*holes, want);
}

TEST_F(NftablesEnforcerTest, ListHolesReportsTheExactExpiryItSetWhenTheKernelAgrees) {
  SyncFresh({Ssh()});
  Time exp = clock_.Now() + Seconds(3600) + Millis(700);
  ASSERT_TRUE(
      enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}, {{"ssh", C("198.51.100.8")}, exp}}, {}})
          .ok());
  clock_.Advance(Seconds(100));
  Listing l;
  l.Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
      .Set("svc_1_4_32",
           json::array({{{"elem", {{"val", "198.51.100.7"}, {"timeout", 3600}, {"expires", 3499}}}},
                        // someone re-added this one by hand with another timeout
                        {{"elem", {{"val", "198.51.100.8"}, {"timeout", 60}, {"expires", 50}}}}}))
      .Set("svc_1_6_128")
      .Chain("svc_1", {"set:svc_1_4_32", "set:svc_1_6_128", "drop"});
  nft_.listing = l.str();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(holes->at({"ssh", C("198.51.100.7")}), exp);
  EXPECT_EQ(holes->at({"ssh", C("198.51.100.8")}), clock_.Now() + Seconds(50));
}

TEST_F(NftablesEnforcerTest, ListHolesRepairsAFlushedServiceChain) {
  Service ssh = Ssh();
  SyncFresh({ssh});
  Listing l;
  l.Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
      .Set("svc_1_4_32",
           json::array({{{"elem", {{"val", "198.51.100.7"}, {"timeout", 60}, {"expires", 50}}}}}))
      .Set("svc_1_6_128")
      .Chain("svc_1", {});  // flushed: the service would be open to everyone
  nft_.listing = l.str();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(holes->size(), 1u);
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1),
            (std::vector<std::string>{"flush chain svc_1", "add rule svc_1 set:svc_1_4_32",
                                      "add rule svc_1 set:svc_1_6_128", "add rule svc_1 drop"}));
}

TEST_F(NftablesEnforcerTest, ListHolesRecreatesAMissingTable) {
  SyncFresh({Ssh()});
  nft_.listing.reset();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_TRUE(holes->empty());
  ASSERT_EQ(nft_.batches.size(), 2u);
  EXPECT_EQ(Batch(1).front(), "add table pinhole");
}

TEST_F(NftablesEnforcerTest, ListHolesFollowsARename) {
  Service ssh = Ssh();
  nft_.listing = Listing().Synced({ssh}).str();
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  Time exp = clock_.Now() + Seconds(60);
  ASSERT_TRUE(enforcer_->Apply({{{{"ssh", C("198.51.100.7")}, exp}}, {}}).ok());
  ssh.name = "bastion";
  ASSERT_TRUE(enforcer_->SyncServices({ssh}).ok());
  nft_.listing =
      Listing()
          .Chain("input", {"lo", "reply", "nd", "svc_1 tcp 22"})
          .Set("svc_1_4_32",
               json::array(
                   {{{"elem", {{"val", "198.51.100.7"}, {"timeout", 60}, {"expires", 59}}}}}))
          .Set("svc_1_6_128")
          .Chain("svc_1", {"set:svc_1_4_32", "set:svc_1_6_128", "drop"})
          .str();
  auto holes = enforcer_->ListHoles();
  ASSERT_TRUE(holes.ok());
  EXPECT_EQ(*holes, (HoleMap{{{"bastion", C("198.51.100.7")}, exp}}));
  EXPECT_EQ(enforcer_->Apply({{}, {{"ssh", C("198.51.100.7")}}}).code(), Code::kNotFound);
}

TEST_F(NftablesEnforcerTest, ListHolesNeedsASyncFirst) {
  auto holes = enforcer_->ListHoles();
  EXPECT_FALSE(holes.ok());
  EXPECT_EQ(holes.status().reason(), "not_synced");
  EXPECT_TRUE(nft_.batches.empty());
}

TEST_F(NftablesEnforcerTest, ListHolesRejectsGarbage) {
  SyncFresh({Ssh()});
  nft_.listing = "this is not json";
  EXPECT_EQ(enforcer_->ListHoles().status().code(), Code::kInternal);
}

TEST_F(NftablesEnforcerTest, ValidateService) {
  Service s = Ssh();
  EXPECT_TRUE(enforcer_->ValidateService(s).ok());
  s.target_json = " { } ";
  EXPECT_TRUE(enforcer_->ValidateService(s).ok());
  for (std::string bad :
       {"", "[]", "null", "not json", "{\"host\":\"a\"}", "{\"x\":1}", "\"{}\""}) {
    s.target_json = bad;
    Status st = enforcer_->ValidateService(s);
    EXPECT_EQ(st.reason(), "invalid_target") << bad;
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
  }
  s = Ssh();
  s.backend = "aws-sg";
  EXPECT_EQ(enforcer_->ValidateService(s).reason(), "invalid_target");
  s = Ssh();
  s.ports.reset();
  EXPECT_FALSE(enforcer_->ValidateService(s).ok());
  s.protocol = Protocol::kUdp;
  EXPECT_FALSE(enforcer_->ValidateService(s).ok());
  s.ports = PortRange{0, 10};
  EXPECT_FALSE(enforcer_->ValidateService(s).ok());
  s.ports = PortRange{10, 9};
  EXPECT_FALSE(enforcer_->ValidateService(s).ok());
  s.ports = PortRange{1, 65535};
  EXPECT_TRUE(enforcer_->ValidateService(s).ok());
  s.protocol = Protocol::kIcmp;
  EXPECT_FALSE(enforcer_->ValidateService(s).ok());  // icmp takes no ports
  s.ports.reset();
  EXPECT_TRUE(enforcer_->ValidateService(s).ok());
  s.protocol = Protocol::kAll;
  EXPECT_TRUE(enforcer_->ValidateService(s).ok());
  EXPECT_EQ(enforcer_->backend(), "nftables");
}

TEST(NftablesFactoryTest, ChecksTheTableNameAndUsesIt) {
  for (std::string bad :
       std::vector<std::string>{"", "1abc", "a b", "a\"b", "a;b", std::string(65, 'a')}) {
    EnforcerOptions o;
    o.nftables_table = bad;
    auto e = NewNftablesEnforcer(o);
    EXPECT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().reason(), "invalid_config");
  }
  FakeNftRunner::Shared nft;
  EnforcerOptions o;
  o.nftables_table = "pinhole_test-2";
  auto e = NewNftablesEnforcer(o, std::make_unique<FakeNftRunner>(&nft));
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE((*e)->SyncServices({Ssh()}).ok());
  EXPECT_EQ(nft.batches.at(0)["nftables"][0]["list"]["table"]["name"], "pinhole_test-2");
  for (const auto& cmd : nft.batches.at(1)["nftables"]) {
    const json& obj = cmd.begin().value().begin().value();
    if (obj.contains("table") && obj["table"].is_string())
      EXPECT_EQ(obj["table"], "pinhole_test-2");
  }
}

TEST(NftLayoutTest, NamesRoundTrip) {
  EXPECT_EQ(nft::SetName(7, Family::kV4, 28), "svc_7_4_28");
  EXPECT_EQ(nft::SetName(12, Family::kV6, 128), "svc_12_6_128");
  auto id = nft::ParseSetName("svc_12_6_56");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, (nft::SetId{12, Family::kV6, 56}));
  for (std::string_view bad :
       {"svc_1", "svc__4_32", "svc_0_4_32", "svc_1_5_32", "svc_1_4_33", "svc_1_4_0", "svc_1_6_129",
        "svc_01_4_32", "svc_1_4_032", "svc_x_4_32", "foo_1_4_32", "svc_1_4_32_", "_4_32", ""}) {
    EXPECT_FALSE(nft::ParseSetName(bad)) << bad;
  }
  EXPECT_EQ(nft::ParseChainName("svc_42"), 42);
  EXPECT_FALSE(nft::ParseChainName("svc_"));
  EXPECT_FALSE(nft::ParseChainName("svc_-1"));
  EXPECT_FALSE(nft::ParseChainName("input"));
}

TEST(NftLayoutTest, PrefixMasks) {
  EXPECT_EQ(nft::PrefixMask(Family::kV4, 28), "255.255.255.240");
  EXPECT_EQ(nft::PrefixMask(Family::kV4, 24), "255.255.255.0");
  EXPECT_EQ(nft::PrefixMask(Family::kV4, 1), "128.0.0.0");
  EXPECT_EQ(nft::PrefixMask(Family::kV4, 31), "255.255.255.254");
  EXPECT_EQ(nft::PrefixMask(Family::kV6, 56), "ffff:ffff:ffff:ff00::");
  EXPECT_EQ(nft::PrefixMask(Family::kV6, 64), "ffff:ffff:ffff:ffff::");
  EXPECT_EQ(nft::PrefixMask(Family::kV6, 1), "8000::");
  EXPECT_EQ(nft::PrefixMask(Family::kV6, 127), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
}

TEST(NftRunnerTest, MapsErrorTexts) {
  EXPECT_EQ(NftErrorStatus("Error: Could not process rule: No such file or directory\n").code(),
            Code::kNotFound);
  EXPECT_EQ(NftErrorStatus("Error: Could not process rule: Operation not permitted").code(),
            Code::kPermissionDenied);
  Status other = NftErrorStatus("Error: syntax error");
  EXPECT_EQ(other.code(), Code::kUnavailable);
  EXPECT_EQ(other.reason(), "nft_failed");
  EXPECT_FALSE(NftErrorStatus("").message().empty());
  EXPECT_LE(NftErrorStatus(std::string(100000, 'x')).message().size(), 2100u);
}

}  // namespace
}  // namespace pinhole
