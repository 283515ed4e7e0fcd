#include "control/controller.h"

#include <gtest/gtest.h>

#include "enforce/fake/fake_enforcer.h"
#include "store/store.h"

namespace pinhole {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = NewMemoryStore();
    Service svc;
    svc.name = "ssh";
    svc.backend = "fake";
    svc.ports = PortRange{22, 22};
    ASSERT_TRUE(store_->CreateService(svc, Audit("service.create")).ok());
    User u;
    u.email = "alice@example.com";
    auto created = store_->CreateUser(u, Audit("user.create"));
    ASSERT_TRUE(created.ok());
    alice_ = *created;
  }

  void TearDown() override {
    if (controller_) controller_->Stop();
  }

  AuditEntry Audit(std::string action) {
    return AuditEntry{clock_.Now(), "test", std::move(action), "x", "", "{}"};
  }

  // Builds the controller around a fake enforcer that expires holes on the manual clock.
  void MakeController() {
    auto fake = std::make_unique<FakeEnforcer>("fake", &clock_);
    fake_ = fake.get();
    std::map<std::string, std::unique_ptr<Enforcer>> enforcers;
    enforcers["fake"] = std::move(fake);
    ControllerOptions options;
    options.resync_interval = hours(1);  // tests trigger resyncs by hand
    options.retry_interval = seconds(2);
    controller_ = std::make_unique<Controller>(*store_, clock_, std::move(enforcers), options);
  }

  Lease CommitLease(const std::string& source, Millis duration) {
    Lease l;
    l.owner_id = alice_.id;
    l.owner = alice_.email;
    l.services = {"ssh"};
    l.source = *Cidr::Parse(source);
    l.state = LeaseState::kActive;
    l.policy = "p";
    l.created_at = clock_.Now();
    l.activated_at = clock_.Now();
    l.expires_at = clock_.Now() + duration;
    auto created = store_->CreateLease(l, Audit("lease.create"));
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return *created;
  }

  std::vector<std::string> AuditActions() {
    std::vector<std::string> actions;
    for (const auto& e : store_->ListAudit(0, 1000)) actions.push_back(e.action);
    return actions;
  }

  static bool Contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
  User alice_;
  FakeEnforcer* fake_ = nullptr;
  std::unique_ptr<Controller> controller_;
};

TEST_F(ControllerTest, StartMakesEnforcerMatchStore) {
  Lease lease = CommitLease("198.51.100.7", hours(1));
  MakeController();
  fake_->Inject(Hole{{"ssh", *Cidr::Parse("203.0.113.9")}, clock_.Now() + hours(5)});
  EXPECT_FALSE(controller_->ready());
  ASSERT_TRUE(controller_->Start().ok());
  EXPECT_TRUE(controller_->ready());
  HoleMap holes = fake_->holes();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes.begin()->first.source.ToString(), "198.51.100.7/32");
  EXPECT_EQ(holes.begin()->second, lease.expires_at);
  EXPECT_TRUE(Contains(AuditActions(), "enforcement.drift_repaired"));
}

TEST_F(ControllerTest, LeasesThatEndedWhileDownAreExpiredAtStart) {
  Lease lease = CommitLease("198.51.100.7", minutes(5));
  clock_.Advance(minutes(6));
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  EXPECT_EQ(store_->GetLease(lease.id)->state, LeaseState::kExpired);
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(controller_->Stats().active_leases, 0);
}

TEST_F(ControllerTest, ActivateAppliesBeforeReturning) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease lease = CommitLease("2001:db8::7", hours(2));
  ASSERT_TRUE(controller_->LeaseActivated(lease).ok());
  HoleMap holes = fake_->holes();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes.begin()->first.source.ToString(), "2001:db8::7/128");
  auto rules = controller_->RulesFor(lease);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].status, "applied");
  EXPECT_EQ(rules[0].backend, "fake");
}

TEST_F(ControllerTest, SharedHoleLivesUntilLastLeaseAndTakesLatestExpiry) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease short_one = CommitLease("198.51.100.7", hours(1));
  Lease long_one = CommitLease("198.51.100.7", hours(3));
  ASSERT_TRUE(controller_->LeaseActivated(short_one).ok());
  ASSERT_TRUE(controller_->LeaseActivated(long_one).ok());
  ASSERT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(fake_->holes().begin()->second, long_one.expires_at);
  // Ending the longer lease shortens the hole to the remaining lease's end.
  ASSERT_TRUE(controller_->LeaseEnded(long_one).ok());
  ASSERT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(fake_->holes().begin()->second, short_one.expires_at);
  ASSERT_TRUE(controller_->LeaseEnded(short_one).ok());
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(controller_->RulesFor(short_one)[0].status, "removed");
}

TEST_F(ControllerTest, OverlappingPrefixesAreSeparateHoles) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease host = CommitLease("198.51.100.7", hours(1));
  Lease net = CommitLease("198.51.100.0/28", hours(1));
  ASSERT_TRUE(controller_->LeaseActivated(host).ok());
  ASSERT_TRUE(controller_->LeaseActivated(net).ok());
  EXPECT_EQ(fake_->holes().size(), 2u);
  ASSERT_TRUE(controller_->LeaseEnded(net).ok());
  ASSERT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(fake_->holes().begin()->first.source.ToString(), "198.51.100.7/32");
}

TEST_F(ControllerTest, ExpiryMarksLeaseExpiredAndRemovesHole) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease lease = CommitLease("198.51.100.7", seconds(90));
  ASSERT_TRUE(controller_->LeaseActivated(lease).ok());
  clock_.Advance(seconds(91));
  ASSERT_TRUE(controller_->Resync().ok());  // wakes the worker at the new time
  auto stored = store_->GetLease(lease.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state, LeaseState::kExpired);
  EXPECT_EQ(stored->ended_by, "system");
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_TRUE(Contains(AuditActions(), "lease.expire"));
  EXPECT_EQ(controller_->Stats().expired_leases, 1);
}

TEST_F(ControllerTest, FailedApplyIsReportedAndRetried) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  fake_->FailApply(1);
  Lease lease = CommitLease("198.51.100.7", hours(1));
  Status st = controller_->LeaseActivated(lease);
  EXPECT_FALSE(st.ok());
  auto rules = controller_->RulesFor(lease);
  // Unavailable is transient: pending, with the error that holds it up.
  EXPECT_EQ(rules[0].status, "pending");
  EXPECT_NE(rules[0].error.find("injected"), std::string::npos);
  EXPECT_TRUE(fake_->holes().empty());
  EXPECT_EQ(controller_->Stats().apply_errors, 1);
  // After the retry interval the pending hole is applied.
  clock_.Advance(seconds(3));
  ASSERT_TRUE(controller_->Resync().ok());
  EXPECT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(controller_->RulesFor(lease)[0].status, "applied");
}

TEST_F(ControllerTest, PermanentApplyErrorIsShownAsError) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  fake_->FailApply(1, Status::Denied("AuthFailure", "credentials not accepted"));
  Lease lease = CommitLease("198.51.100.7", hours(1));
  EXPECT_FALSE(controller_->LeaseActivated(lease).ok());
  auto rules = controller_->RulesFor(lease);
  EXPECT_EQ(rules[0].status, "error");
  EXPECT_EQ(rules[0].error, "credentials not accepted");
}

TEST_F(ControllerTest, HolesCarryTheLeaseWithTheLatestExpiry) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease a = CommitLease("198.51.100.7", hours(1));
  Lease b = CommitLease("198.51.100.7", hours(2));
  ASSERT_TRUE(controller_->LeaseActivated(a).ok());
  ASSERT_TRUE(controller_->LeaseActivated(b).ok());
  auto applies = fake_->applies();
  ASSERT_FALSE(applies.empty());
  ASSERT_EQ(applies.back().upsert.size(), 1u);
  EXPECT_EQ(applies.back().upsert[0].lease, b.id);
  EXPECT_EQ(applies.back().upsert[0].expires_at, b.expires_at);
}

TEST_F(ControllerTest, CapacityIsAskedOfTheServicesBackend) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Service ssh = *store_->FindService("ssh");
  Time until = clock_.Now() + hours(1);
  EXPECT_TRUE(controller_->CheckCapacity({ssh}, *Cidr::Parse("198.51.100.7"), until).ok());
  fake_->RefuseCapacity(Status::Conflict("capacity_exhausted", "full"));
  EXPECT_EQ(controller_->CheckCapacity({ssh}, *Cidr::Parse("198.51.100.7"), until).reason(),
            "capacity_exhausted");
  // A service of a backend this controller does not have is not its concern.
  Service other = ssh;
  other.backend = "elsewhere";
  EXPECT_TRUE(controller_->CheckCapacity({other}, *Cidr::Parse("198.51.100.7"), until).ok());
}

// A remote backend that cannot be reached at start-up does not stop the
// controller: its holes are pending and applied once it answers.
class RemoteFake final : public Enforcer {
 public:
  explicit RemoteFake(FakeEnforcer* inner) : inner_(inner) {}
  std::string_view backend() const override { return inner_->backend(); }
  Status ValidateService(const Service& s) const override { return inner_->ValidateService(s); }
  Status SyncServices(const std::vector<Service>& s) override { return inner_->SyncServices(s); }
  Status Apply(const ChangeSet& c) override { return inner_->Apply(c); }
  Result<HoleMap> ListHoles() override { return inner_->ListHoles(); }
  bool remote() const override { return true; }

 private:
  FakeEnforcer* inner_;
};

TEST_F(ControllerTest, UnreachableRemoteBackendDoesNotStopStart) {
  Lease lease = CommitLease("198.51.100.7", hours(1));
  FakeEnforcer inner("fake", &clock_);
  std::map<std::string, std::unique_ptr<Enforcer>> enforcers;
  enforcers["fake"] = std::make_unique<RemoteFake>(&inner);
  ControllerOptions options;
  options.resync_interval = hours(1);
  options.retry_interval = seconds(2);
  controller_ = std::make_unique<Controller>(*store_, clock_, std::move(enforcers), options);
  inner.FailListHoles(Status::Unavailable("EC2 unreachable"));
  ASSERT_TRUE(controller_->Start().ok());
  auto rules = controller_->RulesFor(lease);
  EXPECT_EQ(rules[0].status, "pending");
  EXPECT_NE(rules[0].error.find("EC2 unreachable"), std::string::npos);
  clock_.Advance(seconds(3));
  inner.ClearFailures();
  ASSERT_TRUE(controller_->Resync().ok());
  EXPECT_EQ(inner.holes().size(), 1u);
  EXPECT_EQ(controller_->RulesFor(lease)[0].status, "applied");
  controller_->Stop();
  controller_.reset();
}

TEST_F(ControllerTest, UnreachableLocalBackendStopsStart) {
  MakeController();
  fake_->FailListHoles(Status::Unavailable("nft broken"));
  EXPECT_FALSE(controller_->Start().ok());
}

TEST_F(ControllerTest, DriftIsRepairedAndAudited) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease lease = CommitLease("198.51.100.7", hours(1));
  ASSERT_TRUE(controller_->LeaseActivated(lease).ok());
  auto before = AuditActions().size();
  fake_->DriftAll();
  fake_->Inject(Hole{{"ssh", *Cidr::Parse("203.0.113.9")}, clock_.Now() + hours(5)});
  ASSERT_TRUE(controller_->Resync().ok());
  HoleMap holes = fake_->holes();
  ASSERT_EQ(holes.size(), 1u);
  EXPECT_EQ(holes.begin()->first.source.ToString(), "198.51.100.7/32");
  auto actions = AuditActions();
  ASSERT_GT(actions.size(), before);
  EXPECT_EQ(actions.back(), "enforcement.drift_repaired");
  EXPECT_EQ(controller_->Stats().drift_repairs, 1);
}

TEST_F(ControllerTest, NoDriftMeansNoAuditNoise) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease lease = CommitLease("198.51.100.7", hours(1));
  ASSERT_TRUE(controller_->LeaseActivated(lease).ok());
  auto before = AuditActions().size();
  ASSERT_TRUE(controller_->Resync().ok());
  ASSERT_TRUE(controller_->Resync().ok());
  EXPECT_EQ(AuditActions().size(), before);
}

TEST_F(ControllerTest, RenewExtendsHole) {
  MakeController();
  ASSERT_TRUE(controller_->Start().ok());
  Lease lease = CommitLease("198.51.100.7", hours(1));
  ASSERT_TRUE(controller_->LeaseActivated(lease).ok());
  lease.expires_at = clock_.Now() + hours(4);
  ASSERT_TRUE(controller_->LeaseRenewed(lease).ok());
  EXPECT_EQ(fake_->holes().begin()->second, lease.expires_at);
  // The old expiry passing does nothing to a renewed lease.
  clock_.Advance(hours(2));
  ASSERT_TRUE(controller_->Resync().ok());
  EXPECT_EQ(fake_->holes().size(), 1u);
  EXPECT_EQ(controller_->Stats().active_leases, 1);
}

TEST_F(ControllerTest, CallsFailCleanlyWhenNotRunning) {
  MakeController();
  Lease lease = CommitLease("198.51.100.7", hours(1));
  EXPECT_EQ(controller_->LeaseActivated(lease).code(), Code::kUnavailable);
}

}  // namespace
}  // namespace pinhole
