// One suite, every Store implementation: the in-memory store must behave like
// the SQLite one (other modules' tests rely on it), and the SQLite store must
// behave the same with and without group commit.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "audit/chain.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "store_test_util.h"

namespace pinhole {
namespace {

using testing_store::Audit;
using testing_store::MakeLease;
using testing_store::MakeUser;
using testing_store::T;
using testing_store::TempDir;

struct MemoryBackend {
  static constexpr bool kPersistent = false;
  std::unique_ptr<Store> Open() { return NewMemoryStore(); }
};

template <bool kGroupCommit, int kReaders>
struct SqliteBackend {
  static constexpr bool kPersistent = true;
  TempDir dir;
  std::unique_ptr<Store> Open() {
    SqliteOptions options;
    options.group_commit = kGroupCommit;
    options.readers = kReaders;
    auto r = OpenSqliteStore(dir.File("pinhole.db"), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
};
using SqliteGrouped = SqliteBackend<true, 4>;
using SqliteSerial = SqliteBackend<false, 0>;  // one txn per change, reads on the writer

template <typename Backend>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = backend_.Open();
    ASSERT_NE(store_, nullptr);
  }

  Store& store() { return *store_; }

  // Closes and reopens a persistent store; the memory store stays as it is.
  void Reopen() {
    if constexpr (Backend::kPersistent) {
      store_.reset();
      store_ = backend_.Open();
      ASSERT_NE(store_, nullptr);
    }
  }

  int64_t AuditCount() { return static_cast<int64_t>(store().ListAudit(0, 0).size()); }

  User AddUser(const std::string& email) {
    auto r = store().CreateUser(MakeUser(email), Audit("user.create"));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : User{};
  }

  Backend backend_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<MemoryBackend, SqliteGrouped, SqliteSerial>;
class BackendNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    if (std::is_same_v<T, MemoryBackend>) return "Memory";
    if (std::is_same_v<T, SqliteGrouped>) return "SqliteGrouped";
    return "SqliteSerial";
  }
};
TYPED_TEST_SUITE(StoreTest, Backends, BackendNames);

// ---------------------------------------------------------------- users

TYPED_TEST(StoreTest, UserCrud) {
  Store& s = this->store();
  User in = MakeUser("alice@example.com");
  in.role = Role::kAdmin;
  in.must_change_password = true;
  in.groups = {"ignored"};  // membership is written through groups
  auto created = s.CreateUser(in, Audit("user.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->email, "alice@example.com");
  EXPECT_EQ(created->password_hash, in.password_hash);
  EXPECT_EQ(created->role, Role::kAdmin);
  EXPECT_TRUE(created->must_change_password);
  EXPECT_FALSE(created->disabled);
  EXPECT_EQ(created->created_at, in.created_at);
  EXPECT_TRUE(created->groups.empty());

  auto got = s.GetUser(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->email, "alice@example.com");
  EXPECT_EQ(got->created_at, in.created_at);
  auto found = s.FindUser("alice@example.com");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, created->id);

  User bob = this->AddUser("bob@example.com");
  EXPECT_GT(bob.id, created->id);
  EXPECT_EQ(s.CountUsers(), 2);
  auto list = s.ListUsers();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].email, "alice@example.com");
  EXPECT_EQ(list[1].email, "bob@example.com");

  User upd = *got;
  upd.email = "alice2@example.com";
  upd.password_hash = "";
  upd.role = Role::kUser;
  upd.must_change_password = false;
  upd.disabled = true;
  upd.created_at = T(5);  // creation time is not rewritten
  auto updated = s.UpdateUser(upd, Audit("user.update"));
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->email, "alice2@example.com");
  EXPECT_EQ(updated->password_hash, "");
  EXPECT_EQ(updated->role, Role::kUser);
  EXPECT_TRUE(updated->disabled);
  EXPECT_EQ(updated->created_at, in.created_at);
  EXPECT_EQ(s.FindUser("alice@example.com").status().code(), Code::kNotFound);
  EXPECT_TRUE(s.FindUser("alice2@example.com").ok());

  ASSERT_TRUE(s.DeleteUser(created->id, Audit("user.delete")).ok());
  EXPECT_EQ(s.GetUser(created->id).status().code(), Code::kNotFound);
  EXPECT_EQ(s.CountUsers(), 1);
  EXPECT_EQ(this->AuditCount(), 4);
}

TYPED_TEST(StoreTest, UserEmailIsUnique) {
  Store& s = this->store();
  User a = this->AddUser("a@example.com");
  User b = this->AddUser("b@example.com");
  auto dup = s.CreateUser(MakeUser("a@example.com"), Audit("user.create"));
  EXPECT_EQ(dup.status().code(), Code::kConflict);
  EXPECT_EQ(dup.status().reason(), "name_taken");
  EXPECT_NE(dup.status().message().find("a@example.com"), std::string::npos);

  b.email = "a@example.com";
  auto clash = s.UpdateUser(b, Audit("user.update"));
  EXPECT_EQ(clash.status().reason(), "name_taken");
  EXPECT_EQ(s.GetUser(b.id)->email, "b@example.com");

  a.disabled = true;  // keeping one's own email is no clash
  EXPECT_TRUE(s.UpdateUser(a, Audit("user.update")).ok());

  // A freed email can be taken again, and ids are not reused.
  ASSERT_TRUE(s.DeleteUser(a.id, Audit("user.delete")).ok());
  User again = this->AddUser("a@example.com");
  EXPECT_GT(again.id, b.id);
}

TYPED_TEST(StoreTest, MissingObjectsAreNotFound) {
  Store& s = this->store();
  constexpr Id kNope = 4242;
  User u = MakeUser("ghost@example.com");
  u.id = kNope;
  EXPECT_EQ(s.GetUser(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindUser("ghost@example.com").status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateUser(u, Audit("u")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteUser(kNope, Audit("u")).code(), Code::kNotFound);

  Group g{kNope, "g", {}};
  EXPECT_EQ(s.GetGroup(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindGroup("g").status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateGroup(g, Audit("g")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteGroup(kNope, Audit("g")).code(), Code::kNotFound);

  Service svc;
  svc.id = kNope;
  svc.name = "ssh";
  EXPECT_EQ(s.GetService(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindService("ssh").status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateService(svc, Audit("s")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteService(kNope, Audit("s")).code(), Code::kNotFound);

  AccessGroup ag;
  ag.id = kNope;
  ag.name = "ag";
  EXPECT_EQ(s.GetAccessGroup(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindAccessGroup("ag").status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateAccessGroup(ag, Audit("a")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteAccessGroup(kNope, Audit("a")).code(), Code::kNotFound);

  Policy p;
  p.id = kNope;
  p.name = "p";
  EXPECT_EQ(s.GetPolicy(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindPolicy("p").status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdatePolicy(p, Audit("p")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeletePolicy(kNope, Audit("p")).code(), Code::kNotFound);

  Lease l = MakeLease(1, "x@example.com");
  l.id = kNope;
  EXPECT_EQ(s.GetLease(kNope).status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateLease(l, LeaseState::kActive, Audit("l")).status().code(), Code::kNotFound);
  EXPECT_EQ(s.UpdateLeases({{l, LeaseState::kActive, Audit("l")}}).code(), Code::kNotFound);

  EXPECT_EQ(s.FindSession("nope").status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteSession("nope").code(), Code::kNotFound);

  EXPECT_EQ(this->AuditCount(), 0);
}

// ---------------------------------------------------------------- groups

TYPED_TEST(StoreTest, GroupMembershipIsWrittenThroughGroups) {
  Store& s = this->store();
  User carol = this->AddUser("carol@example.com");
  User alice = this->AddUser("alice@example.com");
  this->AddUser("bob@example.com");

  auto ops = s.CreateGroup(
      Group{0, "ops", {"carol@example.com", "alice@example.com", "carol@example.com"}},
      Audit("group.create"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_GT(ops->id, 0);
  EXPECT_EQ(ops->members, (std::vector<std::string>{"alice@example.com", "carol@example.com"}));
  auto dev = s.CreateGroup(Group{0, "dev", {"carol@example.com"}}, Audit("group.create"));
  ASSERT_TRUE(dev.ok());

  EXPECT_EQ(s.GetUser(carol.id)->groups, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(s.FindUser("alice@example.com")->groups, (std::vector<std::string>{"ops"}));
  EXPECT_TRUE(s.FindUser("bob@example.com")->groups.empty());
  auto users = s.ListUsers();
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].groups, (std::vector<std::string>{"dev", "ops"}));
  EXPECT_EQ(users[1].groups, (std::vector<std::string>{"ops"}));

  EXPECT_EQ(s.FindGroup("ops")->id, ops->id);
  EXPECT_EQ(s.GetGroup(dev->id)->members, (std::vector<std::string>{"carol@example.com"}));
  auto groups = s.ListGroups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].name, "ops");
  EXPECT_EQ(groups[0].members.size(), 2u);

  // Rename and replace membership.
  auto renamed =
      s.UpdateGroup(Group{ops->id, "operations", {"bob@example.com"}}, Audit("group.update"));
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_EQ(renamed->name, "operations");
  EXPECT_EQ(renamed->members, (std::vector<std::string>{"bob@example.com"}));
  EXPECT_EQ(s.GetUser(carol.id)->groups, (std::vector<std::string>{"dev"}));
  EXPECT_EQ(s.FindUser("bob@example.com")->groups, (std::vector<std::string>{"operations"}));

  // Renaming a user keeps their memberships.
  User c = *s.GetUser(carol.id);
  c.email = "caroline@example.com";
  ASSERT_TRUE(s.UpdateUser(c, Audit("user.update")).ok());
  EXPECT_EQ(s.GetGroup(dev->id)->members, (std::vector<std::string>{"caroline@example.com"}));

  // Deleting a group takes it off its members.
  ASSERT_TRUE(s.DeleteGroup(dev->id, Audit("group.delete")).ok());
  EXPECT_TRUE(s.GetUser(carol.id)->groups.empty());
  EXPECT_EQ(s.ListGroups().size(), 1u);
  (void)alice;
}

TYPED_TEST(StoreTest, GroupMembersMustBeUsers) {
  Store& s = this->store();
  this->AddUser("alice@example.com");
  const int64_t before = this->AuditCount();
  auto r = s.CreateGroup(Group{0, "ops", {"alice@example.com", "mallory@example.com"}},
                         Audit("group.create"));
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("mallory@example.com"), std::string::npos);
  // Nothing of the failed change is left behind.
  EXPECT_EQ(s.FindGroup("ops").status().code(), Code::kNotFound);
  EXPECT_TRUE(s.FindUser("alice@example.com")->groups.empty());
  EXPECT_EQ(this->AuditCount(), before);

  auto ok = s.CreateGroup(Group{0, "ops", {"alice@example.com"}}, Audit("group.create"));
  ASSERT_TRUE(ok.ok());
  auto bad_update =
      s.UpdateGroup(Group{ok->id, "ops2", {"nobody@example.com"}}, Audit("group.update"));
  EXPECT_EQ(bad_update.status().code(), Code::kNotFound);
  auto still = s.GetGroup(ok->id);
  EXPECT_EQ(still->name, "ops");
  EXPECT_EQ(still->members, (std::vector<std::string>{"alice@example.com"}));
}

TYPED_TEST(StoreTest, GroupNameIsUnique) {
  Store& s = this->store();
  auto a = s.CreateGroup(Group{0, "a", {}}, Audit("group.create"));
  auto b = s.CreateGroup(Group{0, "b", {}}, Audit("group.create"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(s.CreateGroup(Group{0, "a", {}}, Audit("g")).status().reason(), "name_taken");
  EXPECT_EQ(s.UpdateGroup(Group{b->id, "a", {}}, Audit("g")).status().reason(), "name_taken");
  EXPECT_EQ(s.GetGroup(b->id)->name, "b");
}

TYPED_TEST(StoreTest, DeleteUserRemovesMembershipsAndSessions) {
  Store& s = this->store();
  User alice = this->AddUser("alice@example.com");
  User bob = this->AddUser("bob@example.com");
  auto g = s.CreateGroup(Group{0, "ops", {"alice@example.com", "bob@example.com"}},
                         Audit("group.create"));
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(s.CreateSession(Session{"h1", "c1", alice.id, T(1), T(2)}).ok());
  ASSERT_TRUE(s.CreateSession(Session{"h2", "c2", bob.id, T(1), T(2)}).ok());

  ASSERT_TRUE(s.DeleteUser(alice.id, Audit("user.delete")).ok());
  EXPECT_EQ(s.GetGroup(g->id)->members, (std::vector<std::string>{"bob@example.com"}));
  EXPECT_EQ(s.FindSession("h1").status().code(), Code::kNotFound);
  EXPECT_TRUE(s.FindSession("h2").ok());
  // The email is free again and the new user inherits nothing.
  User again = this->AddUser("alice@example.com");
  EXPECT_TRUE(again.groups.empty());
  EXPECT_EQ(s.GetGroup(g->id)->members.size(), 1u);
}

// ---------------------------------------------------------------- catalog

TYPED_TEST(StoreTest, ServiceCrud) {
  Store& s = this->store();
  Service ssh;
  ssh.name = "ssh";
  ssh.description = "bastion \"ssh\"";
  ssh.backend = "aws-sg";
  ssh.protocol = Protocol::kTcp;
  ssh.ports = PortRange{22, 22};
  ssh.target_json = R"({"region":"eu-west-1","security_groups":["sg-1"]})";
  ssh.keep_established = true;
  auto created = s.CreateService(ssh, Audit("service.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);

  Service ping;
  ping.name = "ping";
  ping.protocol = Protocol::kIcmp;
  auto p = s.CreateService(ping, Audit("service.create"));
  ASSERT_TRUE(p.ok());

  auto got = s.GetService(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "ssh");
  EXPECT_EQ(got->description, ssh.description);
  EXPECT_EQ(got->backend, "aws-sg");
  EXPECT_EQ(got->protocol, Protocol::kTcp);
  ASSERT_TRUE(got->ports.has_value());
  EXPECT_EQ(*got->ports, (PortRange{22, 22}));
  EXPECT_EQ(got->target_json, ssh.target_json);
  EXPECT_TRUE(got->keep_established);
  auto gp = s.FindService("ping");
  ASSERT_TRUE(gp.ok());
  EXPECT_FALSE(gp->ports.has_value());
  EXPECT_EQ(gp->protocol, Protocol::kIcmp);
  EXPECT_EQ(gp->backend, "nftables");

  Service upd = *got;
  upd.protocol = Protocol::kUdp;
  upd.ports = PortRange{8000, 8100};
  upd.keep_established = false;
  ASSERT_TRUE(s.UpdateService(upd, Audit("service.update")).ok());
  got = s.GetService(created->id);
  EXPECT_EQ(got->protocol, Protocol::kUdp);
  EXPECT_EQ(*got->ports, (PortRange{8000, 8100}));
  EXPECT_FALSE(got->keep_established);

  upd.name = "ping";
  EXPECT_EQ(s.UpdateService(upd, Audit("s")).status().reason(), "name_taken");
  EXPECT_EQ(s.CreateService(ping, Audit("s")).status().reason(), "name_taken");

  auto list = s.ListServices();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "ssh");
  ASSERT_TRUE(s.DeleteService(created->id, Audit("service.delete")).ok());
  EXPECT_EQ(s.ListServices().size(), 1u);
  EXPECT_EQ(this->AuditCount(), 4);
}

TYPED_TEST(StoreTest, AccessGroupCrud) {
  Store& s = this->store();
  AccessGroup g;
  g.name = "admin-panels";
  g.services = {"grafana", "kibana"};
  g.is_public = true;
  auto created = s.CreateAccessGroup(g, Audit("ag.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto got = s.FindAccessGroup("admin-panels");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->services, g.services);
  EXPECT_TRUE(got->is_public);

  AccessGroup upd = *got;
  upd.services = {};
  upd.is_public = false;
  ASSERT_TRUE(s.UpdateAccessGroup(upd, Audit("ag.update")).ok());
  got = s.GetAccessGroup(created->id);
  EXPECT_TRUE(got->services.empty());
  EXPECT_FALSE(got->is_public);

  EXPECT_EQ(s.CreateAccessGroup(upd, Audit("ag")).status().reason(), "name_taken");
  EXPECT_EQ(s.ListAccessGroups().size(), 1u);
  ASSERT_TRUE(s.DeleteAccessGroup(created->id, Audit("ag.delete")).ok());
  EXPECT_TRUE(s.ListAccessGroups().empty());
}

TYPED_TEST(StoreTest, PolicyCrud) {
  Store& s = this->store();
  Policy p;
  p.name = "ops";
  p.users = {"alice@example.com"};
  p.groups = {"ops", "sre"};
  p.services = {"ssh"};
  p.access_groups = {"panels"};
  p.default_duration = Seconds(1800);
  p.max_duration = Seconds(7200);
  p.recipients = {RecipientKind::kSelf, RecipientKind::kCidr, RecipientKind::kInvite};
  p.min_prefix_v4 = 24;
  p.min_prefix_v6 = 56;
  auto created = s.CreatePolicy(p, Audit("policy.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto got = s.GetPolicy(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "ops");
  EXPECT_EQ(got->users, p.users);
  EXPECT_EQ(got->groups, p.groups);
  EXPECT_EQ(got->services, p.services);
  EXPECT_EQ(got->access_groups, p.access_groups);
  EXPECT_EQ(got->default_duration, Seconds(1800));
  EXPECT_EQ(got->max_duration, Seconds(7200));
  EXPECT_EQ(got->recipients, p.recipients);
  EXPECT_EQ(got->min_prefix_v4, 24);
  EXPECT_EQ(got->min_prefix_v6, 56);

  Policy upd = *got;
  upd.recipients = {};
  upd.users.clear();
  ASSERT_TRUE(s.UpdatePolicy(upd, Audit("policy.update")).ok());
  got = s.FindPolicy("ops");
  EXPECT_TRUE(got->recipients.empty());
  EXPECT_TRUE(got->users.empty());

  Policy other;
  other.name = "dev";
  ASSERT_TRUE(s.CreatePolicy(other, Audit("policy.create")).ok());
  upd.name = "dev";
  EXPECT_EQ(s.UpdatePolicy(upd, Audit("p")).status().reason(), "name_taken");
  EXPECT_EQ(s.ListPolicies().size(), 2u);
  ASSERT_TRUE(s.DeletePolicy(created->id, Audit("policy.delete")).ok());
  ASSERT_EQ(s.ListPolicies().size(), 1u);
  EXPECT_EQ(s.ListPolicies()[0].recipients, (std::set<RecipientKind>{RecipientKind::kSelf}));
}

// ---------------------------------------------------------------- leases

TYPED_TEST(StoreTest, LeaseRoundTrip) {
  Store& s = this->store();
  Lease l = MakeLease(7, "alice@example.com", "2001:db8::/56");
  l.recipient = RecipientKind::kInvite;
  l.invite_email = "guest@example.com";
  l.state = LeaseState::kInvited;
  l.activated_at.reset();
  l.approved_by = "root@example.com";
  auto created = s.CreateLease(l, Audit("lease.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  auto got = s.GetLease(created->id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->id, created->id);
  EXPECT_EQ(got->owner_id, 7);
  EXPECT_EQ(got->owner, "alice@example.com");
  EXPECT_EQ(got->services, (std::vector<std::string>{"ssh", "rdp"}));
  EXPECT_EQ(got->recipient, RecipientKind::kInvite);
  EXPECT_EQ(got->invite_email, "guest@example.com");
  EXPECT_EQ(got->source, Cidr::Parse("2001:db8::/56").value());
  EXPECT_EQ(got->state, LeaseState::kInvited);
  EXPECT_EQ(got->reason, "deploy");
  EXPECT_EQ(got->policy, "ops");
  EXPECT_EQ(got->created_at, l.created_at);
  EXPECT_FALSE(got->activated_at.has_value());
  EXPECT_EQ(got->expires_at, l.expires_at);
  EXPECT_FALSE(got->ended_at.has_value());
  EXPECT_EQ(got->ended_by, "");
  EXPECT_EQ(got->approved_by, "root@example.com");
}

TYPED_TEST(StoreTest, LeaseUpdateIsCompareAndSet) {
  Store& s = this->store();
  auto created = s.CreateLease(MakeLease(1, "a@example.com"), Audit("lease.create"));
  ASSERT_TRUE(created.ok());
  Lease ended = *created;
  ended.state = LeaseState::kTerminated;
  ended.ended_at = T(1'795'000'100'000);
  ended.ended_by = "a@example.com";
  auto r = s.UpdateLease(ended, LeaseState::kActive, Audit("lease.terminate"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, LeaseState::kTerminated);
  auto got = s.GetLease(created->id);
  EXPECT_EQ(got->state, LeaseState::kTerminated);
  EXPECT_EQ(got->ended_at, ended.ended_at);
  EXPECT_EQ(got->ended_by, "a@example.com");

  // A second writer that still believes the lease is active loses.
  const int64_t before = this->AuditCount();
  Lease expired = *created;
  expired.state = LeaseState::kExpired;
  auto lost = s.UpdateLease(expired, LeaseState::kActive, Audit("lease.expire"));
  EXPECT_EQ(lost.status().code(), Code::kConflict);
  EXPECT_EQ(lost.status().reason(), "state_changed");
  EXPECT_EQ(s.GetLease(created->id)->state, LeaseState::kTerminated);
  EXPECT_EQ(this->AuditCount(), before);
}

TYPED_TEST(StoreTest, ConcurrentCasHasOneWinner) {
  Store& s = this->store();
  auto created = s.CreateLease(MakeLease(1, "a@example.com"), Audit("lease.create"));
  ASSERT_TRUE(created.ok());
  std::atomic<int> wins{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      Lease l = *created;
      l.state = i % 2 ? LeaseState::kExpired : LeaseState::kRevoked;
      auto r = s.UpdateLease(l, LeaseState::kActive, Audit("lease.end"));
      if (r.ok()) {
        ++wins;
      } else if (r.status().reason() == "state_changed") {
        ++conflicts;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 7);
  EXPECT_EQ(this->AuditCount(), 2);
}

LeaseFilter Filter(std::optional<std::vector<LeaseState>> states, std::optional<Id> owner = {},
                   int limit = 1000) {
  LeaseFilter f;
  f.states = std::move(states);
  f.owner_id = owner;
  f.limit = limit;
  return f;
}
using States = std::vector<LeaseState>;

TYPED_TEST(StoreTest, ListLeasesFiltersNewestFirst) {
  Store& s = this->store();
  std::vector<Id> ids;
  for (int i = 0; i < 6; ++i) {
    Lease l = MakeLease(i % 2 ? 2 : 1, i % 2 ? "b@example.com" : "a@example.com");
    l.state = i < 3 ? LeaseState::kActive : LeaseState::kExpired;
    if (i == 5) l.state = LeaseState::kPendingApproval;
    auto r = s.CreateLease(l, Audit("lease.create"));
    ASSERT_TRUE(r.ok());
    ids.push_back(r->id);
  }
  auto ids_of = [](const std::vector<Lease>& v) {
    std::vector<Id> out;
    for (const auto& l : v) out.push_back(l.id);
    return out;
  };
  EXPECT_EQ(ids_of(s.ListLeases({})),
            (std::vector<Id>{ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter(States{LeaseState::kActive}))),
            (std::vector<Id>{ids[2], ids[1], ids[0]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter(States{LeaseState::kActive, LeaseState::kPendingApproval}))),
            (std::vector<Id>{ids[5], ids[2], ids[1], ids[0]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter({}, 2))), (std::vector<Id>{ids[5], ids[3], ids[1]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter(States{LeaseState::kExpired}, 1))),
            (std::vector<Id>{ids[4]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter({}, {}, 2))), (std::vector<Id>{ids[5], ids[4]}));
  EXPECT_EQ(ids_of(s.ListLeases(Filter({}, 1, 1))), (std::vector<Id>{ids[4]}));
  EXPECT_TRUE(s.ListLeases(Filter(States{})).empty());
  EXPECT_TRUE(s.ListLeases(Filter({}, 99)).empty());
  EXPECT_EQ(s.ListLeases(Filter({}, {}, 0)).size(), 6u);  // no limit
}

TYPED_TEST(StoreTest, UpdateLeasesIsAllOrNothing) {
  Store& s = this->store();
  auto a = s.CreateLease(MakeLease(1, "a@example.com"), Audit("lease.create"));
  auto b = s.CreateLease(MakeLease(1, "a@example.com"), Audit("lease.create"));
  ASSERT_TRUE(a.ok() && b.ok());
  const int64_t before = this->AuditCount();

  Lease ea = *a;
  ea.state = LeaseState::kExpired;
  Lease eb = *b;
  eb.state = LeaseState::kExpired;
  // The second update expects the wrong state: the first must not stick.
  Status st = s.UpdateLeases({{ea, LeaseState::kActive, Audit("lease.expire", "lease/a")},
                              {eb, LeaseState::kPendingApproval, Audit("lease.expire")}});
  EXPECT_EQ(st.code(), Code::kConflict);
  EXPECT_EQ(st.reason(), "state_changed");
  EXPECT_EQ(s.GetLease(a->id)->state, LeaseState::kActive);
  EXPECT_EQ(s.GetLease(b->id)->state, LeaseState::kActive);
  EXPECT_EQ(this->AuditCount(), before);

  // A missing lease in the batch: same.
  Lease ghost = ea;
  ghost.id = 999;
  st = s.UpdateLeases(
      {{ea, LeaseState::kActive, Audit("x")}, {ghost, LeaseState::kActive, Audit("x")}});
  EXPECT_EQ(st.code(), Code::kNotFound);
  EXPECT_EQ(s.GetLease(a->id)->state, LeaseState::kActive);
  EXPECT_EQ(this->AuditCount(), before);

  // All good: both change, each with its own event, in order.
  ASSERT_TRUE(s.UpdateLeases({{ea, LeaseState::kActive, Audit("lease.expire", "lease/a")},
                              {eb, LeaseState::kActive, Audit("lease.expire", "lease/b")}})
                  .ok());
  EXPECT_EQ(s.GetLease(a->id)->state, LeaseState::kExpired);
  EXPECT_EQ(s.GetLease(b->id)->state, LeaseState::kExpired);
  auto events = s.ListAudit(before, 10);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].object, "lease/a");
  EXPECT_EQ(events[1].object, "lease/b");

  // A later update in a batch sees the earlier one's state.
  auto c = s.CreateLease(MakeLease(1, "a@example.com"), Audit("lease.create"));
  Lease c_active = *c;
  c_active.state = LeaseState::kPendingApproval;
  ASSERT_TRUE(s.UpdateLease(c_active, LeaseState::kActive, Audit("x")).ok());
  Lease c1 = c_active;
  c1.state = LeaseState::kActive;
  Lease c2 = c_active;
  c2.state = LeaseState::kTerminated;
  EXPECT_TRUE(s.UpdateLeases({{c1, LeaseState::kPendingApproval, Audit("approve")},
                              {c2, LeaseState::kActive, Audit("terminate")}})
                  .ok());
  EXPECT_EQ(s.GetLease(c->id)->state, LeaseState::kTerminated);

  EXPECT_TRUE(s.UpdateLeases({}).ok());
}

// ---------------------------------------------------------------- sessions

TYPED_TEST(StoreTest, Sessions) {
  Store& s = this->store();
  User alice = this->AddUser("alice@example.com");
  const int64_t before = this->AuditCount();
  Session one{"hash-1", "csrf-1", alice.id, T(1000), T(2000)};
  ASSERT_TRUE(s.CreateSession(one).ok());
  ASSERT_TRUE(s.CreateSession(Session{"hash-2", "csrf-2", alice.id, T(1), T(2)}).ok());
  auto got = s.FindSession("hash-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->token_hash, "hash-1");
  EXPECT_EQ(got->csrf_token, "csrf-1");
  EXPECT_EQ(got->user_id, alice.id);
  EXPECT_EQ(got->created_at, T(1000));
  EXPECT_EQ(got->expires_at, T(2000));

  EXPECT_EQ(s.CreateSession(one).code(), Code::kConflict);
  EXPECT_EQ(s.CreateSession(Session{"hash-3", "c", 4242, T(1), T(2)}).code(), Code::kNotFound);
  EXPECT_EQ(s.FindSession("hash-3").status().code(), Code::kNotFound);

  ASSERT_TRUE(s.DeleteSession("hash-1").ok());
  EXPECT_EQ(s.FindSession("hash-1").status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteSession("hash-1").code(), Code::kNotFound);
  ASSERT_TRUE(s.DeleteUserSessions(alice.id).ok());
  EXPECT_EQ(s.FindSession("hash-2").status().code(), Code::kNotFound);
  EXPECT_TRUE(s.DeleteUserSessions(alice.id).ok());
  // Sessions are not audited by the store.
  EXPECT_EQ(this->AuditCount(), before);
}

// ---------------------------------------------------------------- audit

TYPED_TEST(StoreTest, AuditChainIsContinuous) {
  Store& s = this->store();
  ASSERT_TRUE(s.AppendAudit(Audit("auth.login", "user/alice")).ok());
  User u = this->AddUser("alice@example.com");
  ASSERT_TRUE(s.CreateLease(MakeLease(u.id, u.email), Audit("lease.create")).ok());
  this->Reopen();
  Store& s2 = this->store();
  ASSERT_TRUE(s2.AppendAudit(Audit("auth.logout", "user/alice")).ok());
  ASSERT_TRUE(s2.DeleteUser(u.id, Audit("user.delete")).ok());

  auto events = s2.ListAudit(0, 100);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].prev_hash, kGenesisHash);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(events[i].hash, ComputeAuditHash(events[i]));
    if (i > 0) {
      EXPECT_EQ(events[i].prev_hash, events[i - 1].hash);
    }
  }
  EXPECT_EQ(FindBrokenLink(events), -1);
  EXPECT_EQ(events[0].action, "auth.login");
  EXPECT_EQ(events[0].object, "user/alice");
  EXPECT_EQ(events[0].actor, "admin@example.com");
  EXPECT_EQ(events[0].client_ip, "198.51.100.7");
  EXPECT_EQ(events[0].details_json, R"({"k":"v"})");
  EXPECT_EQ(events[0].time, Audit("x").time);
  EXPECT_EQ(events[3].action, "auth.logout");

  auto page = s2.ListAudit(2, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].seq, 3);
  EXPECT_EQ(page[1].seq, 4);
  EXPECT_TRUE(s2.ListAudit(5, 10).empty());
  EXPECT_EQ(s2.ListAudit(-3, 1).at(0).seq, 1);
}

TYPED_TEST(StoreTest, QueryAuditFiltersAndPagesNewestFirst) {
  Store& s = this->store();
  auto event = [](std::string actor, std::string action, int64_t ms) {
    AuditEntry a = Audit(std::move(action));
    a.actor = std::move(actor);
    a.time = T(ms);
    return a;
  };
  ASSERT_TRUE(s.AppendAudit(event("alice@example.com", "lease.create", 1000)).ok());  // 1
  ASSERT_TRUE(s.AppendAudit(event("bob@example.com", "lease.create", 2000)).ok());    // 2
  ASSERT_TRUE(s.AppendAudit(event("alice@example.com", "lease.terminate", 3000)).ok());
  ASSERT_TRUE(s.AppendAudit(event("alice@example.com", "leasex.other", 4000)).ok());    // 4
  ASSERT_TRUE(s.AppendAudit(event("alice@example.com", "session.create", 5000)).ok());  // 5
  ASSERT_TRUE(s.AppendAudit(event("alice@example.com", "lease_%", 6000)).ok());         // 6

  auto seqs = [&](const AuditQuery& q) {
    auto events = s.QueryAudit(q);
    std::vector<int64_t> out;
    EXPECT_TRUE(events.ok()) << events.status().message();
    if (!events.ok()) return out;
    for (const auto& e : *events) out.push_back(e.seq);
    return out;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(seqs({}), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(seqs({.actor = "alice@example.com"}), (V{1, 3, 4, 5, 6}));
  EXPECT_EQ(seqs({.actor = "ALICE@example.com"}), V{});
  EXPECT_EQ(seqs({.action_prefix = "lease."}), (V{1, 2, 3}));
  EXPECT_EQ(seqs({.action_prefix = "lease.create"}), (V{1, 2}));
  // A prefix is literal: % and _ are not wildcards.
  EXPECT_EQ(seqs({.action_prefix = "lease_%"}), (V{6}));
  EXPECT_EQ(seqs({.action_prefix = "lease%"}), V{});
  EXPECT_EQ(seqs({.since = T(2000), .until = T(4000)}), (V{2, 3}));
  EXPECT_EQ(seqs({.actor = "alice@example.com", .action_prefix = "lease", .until = T(6000)}),
            (V{1, 3, 4}));

  // Newest first, two at a time, following `before`.
  EXPECT_EQ(seqs({.newest_first = true, .limit = 2}), (V{6, 5}));
  EXPECT_EQ(seqs({.before = 5, .newest_first = true, .limit = 2}), (V{4, 3}));
  EXPECT_EQ(seqs({.before = 3, .newest_first = true, .limit = 2}), (V{2, 1}));
  EXPECT_EQ(seqs({.before = 1, .newest_first = true, .limit = 2}), V{});
  EXPECT_EQ(seqs({.before = 5, .actor = "alice@example.com", .newest_first = true}), (V{4, 3, 1}));
  EXPECT_EQ(seqs({.after = 2, .before = 5}), (V{3, 4}));
}

TYPED_TEST(StoreTest, FailedCallsAppendNoAuditEvent) {
  Store& s = this->store();
  User a = this->AddUser("a@example.com");
  User b = this->AddUser("b@example.com");
  Service svc;
  svc.name = "ssh";
  ASSERT_TRUE(s.CreateService(svc, Audit("s")).ok());
  AccessGroup ag;
  ag.name = "ag";
  ASSERT_TRUE(s.CreateAccessGroup(ag, Audit("a")).ok());
  Policy p;
  p.name = "p";
  ASSERT_TRUE(s.CreatePolicy(p, Audit("p")).ok());
  auto g = s.CreateGroup(Group{0, "g", {}}, Audit("g"));
  ASSERT_TRUE(g.ok());
  auto lease = s.CreateLease(MakeLease(a.id, a.email), Audit("l"));
  ASSERT_TRUE(lease.ok());
  const auto before = s.ListAudit(0, 0);

  EXPECT_FALSE(s.CreateUser(MakeUser("a@example.com"), Audit("bad")).ok());
  b.email = "a@example.com";
  EXPECT_FALSE(s.UpdateUser(b, Audit("bad")).ok());
  EXPECT_FALSE(s.CreateService(svc, Audit("bad")).ok());
  EXPECT_FALSE(s.CreateAccessGroup(ag, Audit("bad")).ok());
  EXPECT_FALSE(s.CreatePolicy(p, Audit("bad")).ok());
  EXPECT_FALSE(s.CreateGroup(Group{0, "g", {}}, Audit("bad")).ok());
  EXPECT_FALSE(s.CreateGroup(Group{0, "g2", {"nobody@example.com"}}, Audit("bad")).ok());
  EXPECT_FALSE(s.DeleteGroup(g->id + 100, Audit("bad")).ok());
  Lease l = *lease;
  l.state = LeaseState::kExpired;
  EXPECT_FALSE(s.UpdateLease(l, LeaseState::kInvited, Audit("bad")).ok());
  EXPECT_FALSE(s.UpdateLeases({{l, LeaseState::kActive, Audit("ok-alone")},
                               {l, LeaseState::kActive, Audit("bad")}})
                   .ok());

  const auto after = s.ListAudit(0, 0);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after.back().hash, before.back().hash);
  // And the chain continues from where it was.
  ASSERT_TRUE(s.AppendAudit(Audit("next")).ok());
  auto last = s.ListAudit(static_cast<int64_t>(before.size()), 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].prev_hash, before.back().hash);
  EXPECT_EQ(last[0].seq, before.back().seq + 1);
}

// ---------------------------------------------------------------- durability

TYPED_TEST(StoreTest, EverythingSurvivesReopen) {
  if (!TypeParam::kPersistent) GTEST_SKIP() << "nothing to reopen";
  Store& s = this->store();
  User u = this->AddUser("alice@example.com");
  ASSERT_TRUE(s.CreateGroup(Group{0, "ops", {"alice@example.com"}}, Audit("g")).ok());
  Service svc;
  svc.name = "ssh";
  svc.ports = PortRange{22, 22};
  ASSERT_TRUE(s.CreateService(svc, Audit("s")).ok());
  AccessGroup ag;
  ag.name = "panels";
  ag.services = {"ssh"};
  ASSERT_TRUE(s.CreateAccessGroup(ag, Audit("a")).ok());
  Policy p;
  p.name = "ops";
  p.groups = {"ops"};
  p.max_duration = Seconds(60);
  ASSERT_TRUE(s.CreatePolicy(p, Audit("p")).ok());
  auto lease = s.CreateLease(MakeLease(u.id, u.email), Audit("l"));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(s.CreateSession(Session{"h", "c", u.id, T(1), T(2)}).ok());

  this->Reopen();
  Store& r = this->store();
  EXPECT_EQ(r.FindUser("alice@example.com")->groups, (std::vector<std::string>{"ops"}));
  EXPECT_EQ(r.FindService("ssh")->ports, (PortRange{22, 22}));
  EXPECT_EQ(r.FindAccessGroup("panels")->services, (std::vector<std::string>{"ssh"}));
  EXPECT_EQ(r.FindPolicy("ops")->max_duration, Seconds(60));
  EXPECT_EQ(r.GetLease(lease->id)->source, lease->source);
  EXPECT_EQ(r.FindSession("h")->user_id, u.id);
  EXPECT_EQ(r.ListAudit(0, 0).size(), 6u);  // sessions are not audited
  // Ids continue after a restart.
  auto next = r.CreateLease(MakeLease(u.id, u.email), Audit("l"));
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->id, lease->id);
}

// ---------------------------------------------------------------- concurrency

TYPED_TEST(StoreTest, ConcurrentWritersKeepOneChain) {
  Store& s = this->store();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> name_taken{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<Id>> ids(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = s.CreateLease(MakeLease(t, "u@example.com"), Audit("lease.create"));
        if (r.ok()) ids[t].push_back(r->id);
        // Every thread also races for the same few service names: the
        // losers' changes must not disturb the winners' (or anyone's) batch.
        Service svc;
        svc.name = "svc-" + std::to_string(i % 5);
        auto c = s.CreateService(svc, Audit("service.create"));
        if (!c.ok() && c.status().reason() == "name_taken") ++name_taken;
      }
    });
  }
  for (auto& t : threads) t.join();

  std::set<Id> all;
  for (const auto& v : ids) {
    EXPECT_EQ(v.size(), static_cast<size_t>(kPerThread));
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(s.ListServices().size(), 5u);
  EXPECT_EQ(name_taken.load(), kThreads * kPerThread - 5);
  EXPECT_EQ(s.ListLeases(Filter({}, {}, 0)).size(), static_cast<size_t>(kThreads * kPerThread));
  auto events = s.ListAudit(0, 0);
  EXPECT_EQ(events.size(), static_cast<size_t>(kThreads * kPerThread + 5));
  EXPECT_EQ(FindBrokenLink(events), -1);
  for (const Id id : all) {
    ASSERT_TRUE(s.GetLease(id).ok()) << id;
  }
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TYPED_TEST(StoreTest, NewLeaseEventIsNamedAfterItsId) {
  Store& s = this->store();
  AuditEntry a = Audit("lease.create");
  a.object = "";
  auto created = s.CreateLease(MakeLease(1, "a@example.com"), a);
  ASSERT_TRUE(created.ok());
  auto events = s.ListAudit(0, 0);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().object, "lease/" + std::to_string(created->id));
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

TYPED_TEST(StoreTest, LeasesFilterByRecipientKind) {
  Store& s = this->store();
  Lease self = MakeLease(3, "a@example.com");
  self.recipient = RecipientKind::kSelf;
  Lease cidr = MakeLease(3, "a@example.com", "198.51.100.0/28");
  cidr.recipient = RecipientKind::kCidr;
  ASSERT_TRUE(s.CreateLease(self, Audit("lease.create")).ok());
  ASSERT_TRUE(s.CreateLease(cidr, Audit("lease.create")).ok());
  LeaseFilter f;
  f.owner_id = 3;
  f.recipient = RecipientKind::kCidr;
  auto got = s.ListLeases(f);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].recipient, RecipientKind::kCidr);
  f.recipient = RecipientKind::kSelf;
  ASSERT_EQ(s.ListLeases(f).size(), 1u);
  EXPECT_EQ(s.ListLeases(f)[0].recipient, RecipientKind::kSelf);
}

}  // namespace
}  // namespace pinhole

namespace pinhole {
namespace {

OutboxMessage Mail(std::string to, int64_t at_ms) {
  OutboxMessage m;
  m.channel = "email";
  m.target = std::move(to);
  m.event = "lease.approval_requested";
  m.subject = "Approval needed";
  m.text = "body";
  m.html = "<p>body</p>";
  m.created_at = T(at_ms);
  m.next_attempt_at = T(at_ms);
  return m;
}

TYPED_TEST(StoreTest, LeaseKeepsDurationAndReminder) {
  Store& s = this->store();
  Lease l = MakeLease(3, "a@example.com");
  l.state = LeaseState::kPendingApproval;
  l.duration = Seconds(5400);
  auto created = s.CreateLease(l, Audit("lease.create", ""));
  ASSERT_TRUE(created.ok());
  Lease approved = *created;
  approved.state = LeaseState::kApproved;
  approved.reminded = true;
  ASSERT_TRUE(s.UpdateLease(approved, LeaseState::kPendingApproval, Audit("lease.approve")).ok());
  this->Reopen();
  auto got = this->store().GetLease(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->duration, Seconds(5400));
  EXPECT_TRUE(got->reminded);
  EXPECT_EQ(got->state, LeaseState::kApproved);
}

TYPED_TEST(StoreTest, OutboxIsWrittenWithTheEventAndSurvivesReopen) {
  Store& s = this->store();
  AuditEntry a = Audit("lease.create", "");
  a.outbox = {Mail("admin1@example.com", 1000), Mail("admin2@example.com", 1000)};
  ASSERT_TRUE(s.CreateLease(MakeLease(3, "a@example.com"), a).ok());
  this->Reopen();
  Store& r = this->store();
  auto due = r.DueOutbox(T(1000), 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 2u);
  EXPECT_EQ((*due)[0].target, "admin1@example.com");
  EXPECT_EQ((*due)[0].html, "<p>body</p>");
  EXPECT_EQ((*due)[0].state, "pending");
  EXPECT_LT((*due)[0].id, (*due)[1].id);
  // Not yet due before its time.
  EXPECT_TRUE(r.DueOutbox(T(999), 10)->empty());

  OutboxMessage retry = (*due)[0];
  retry.attempts = 1;
  retry.next_attempt_at = T(6000);
  retry.last_error = "connection refused";
  ASSERT_TRUE(r.UpdateOutbox(retry).ok());
  OutboxMessage sent = (*due)[1];
  sent.attempts = 1;
  sent.state = "sent";
  sent.sent_at = T(1200);
  ASSERT_TRUE(r.UpdateOutbox(sent).ok());

  EXPECT_TRUE(r.DueOutbox(T(5999), 10)->empty());
  ASSERT_EQ(r.DueOutbox(T(6000), 10)->size(), 1u);
  auto all = r.ListOutbox("", 10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].state, "sent");  // newest first
  ASSERT_TRUE((*all)[0].sent_at.has_value());
  EXPECT_EQ(*(*all)[0].sent_at, T(1200));
  EXPECT_EQ((*all)[1].last_error, "connection refused");
  EXPECT_EQ(r.ListOutbox("sent", 10)->size(), 1u);
  OutboxMessage missing = sent;
  missing.id = 999;
  EXPECT_EQ(r.UpdateOutbox(missing).code(), Code::kNotFound);
}

TYPED_TEST(StoreTest, TokensNameTheCreatedLeaseAndAreUsedOnce) {
  Store& s = this->store();
  AuditEntry a = Audit("lease.invite", "");
  a.tokens = {ActionToken{.token_hash = "h1", .purpose = "invite", .created_at = T(1),
                          .expires_at = T(100)}};
  auto lease = s.CreateLease(MakeLease(3, "a@example.com"), a);
  ASSERT_TRUE(lease.ok());
  auto t = s.FindActionToken("h1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->lease_id, lease->id);
  EXPECT_EQ(t->purpose, "invite");
  EXPECT_FALSE(t->used_at.has_value());
  EXPECT_EQ(s.FindActionToken("nope").status().code(), Code::kNotFound);

  Lease active = *lease;
  active.state = LeaseState::kActive;
  AuditEntry use = Audit("lease.activate");
  use.consume_tokens = {"h1"};
  ASSERT_TRUE(s.UpdateLease(active, LeaseState::kActive, use).ok());
  ASSERT_TRUE(s.FindActionToken("h1")->used_at.has_value());

  // A second use fails and changes nothing: no lease change, no event.
  const size_t events = s.ListAudit(0, 0).size();
  Lease again = active;
  again.reason = "changed";
  EXPECT_EQ(s.UpdateLease(again, LeaseState::kActive, use).status().reason(), "token_used");
  EXPECT_EQ(s.GetLease(lease->id)->reason, lease->reason);
  EXPECT_EQ(s.ListAudit(0, 0).size(), events);
  // Unknown tokens cannot be consumed either.
  AuditEntry forged = Audit("lease.activate");
  forged.consume_tokens = {"forged"};
  EXPECT_EQ(s.AppendAudit(forged).reason(), "token_used");
}

TYPED_TEST(StoreTest, TokensForANewUserNameIt) {
  Store& s = this->store();
  AuditEntry a = Audit("user.create");
  a.tokens = {ActionToken{.token_hash = "pw", .purpose = "set_password", .created_at = T(1),
                          .expires_at = T(100)}};
  auto u = s.CreateUser(MakeUser("new@example.com"), a);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(s.FindActionToken("pw")->user_id, u->id);
}

TYPED_TEST(StoreTest, SecretsAreCreatedOnceAndKept) {
  auto first = this->store().GetOrCreateSecret("links");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 64u);
  EXPECT_NE(*first, *this->store().GetOrCreateSecret("other"));
  this->Reopen();
  if constexpr (TypeParam::kPersistent) {
    EXPECT_EQ(*this->store().GetOrCreateSecret("links"), *first);
  }
}

// ---------------------------------------------------------------- identity

TYPED_TEST(StoreTest, UserIdentityFieldsRoundTrip) {
  Store& s = this->store();
  User u = MakeUser("sso@example.com");
  u.source = "oidc";
  u.subject = "https://idp.example.com 1234";
  u.external_groups = {"ops", "dev"};
  auto created = s.CreateUser(u, Audit("user.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  this->Reopen();
  auto found = this->store().FindUserBySubject("oidc", "https://idp.example.com 1234");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->id, created->id);
  EXPECT_EQ(found->source, "oidc");
  EXPECT_EQ(found->external_groups, (std::vector<std::string>{"ops", "dev"}));
  EXPECT_FALSE(found->mfa_enabled);
  EXPECT_EQ(this->store().FindUserBySubject("htpasswd", "https://idp.example.com 1234")
                .status()
                .code(),
            Code::kNotFound);
  EXPECT_EQ(this->store().FindUserBySubject("local", "").status().code(), Code::kNotFound);
  // A local user made without these fields is a local user.
  User plain = this->AddUser("plain@example.com");
  EXPECT_EQ(plain.source, "local");
  EXPECT_TRUE(plain.external_groups.empty());
}

TYPED_TEST(StoreTest, LockoutCountsEveryFailureAndLocksAtTheThreshold) {
  Store& s = this->store();
  User u = this->AddUser("lock@example.com");
  const Time now = T(1'000'000);
  for (int i = 1; i <= 2; ++i) {
    auto r = s.RecordLoginFailure(u.id, now, 3, Seconds(60));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->failed_logins, i);
    EXPECT_FALSE(r->locked_until.has_value());
  }
  auto third = s.RecordLoginFailure(u.id, now, 3, Seconds(60));
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(third->locked_until.has_value());
  EXPECT_EQ(*third->locked_until, now + Seconds(60));
  // A stale copy written back does not unlock.
  User stale = u;
  stale.must_change_password = true;
  ASSERT_TRUE(s.UpdateUser(stale, Audit("user.update")).ok());
  auto after = s.GetUser(u.id);
  EXPECT_EQ(after->failed_logins, 3);
  EXPECT_TRUE(after->locked_until.has_value());
  EXPECT_TRUE(after->must_change_password);
  // Unlock, audited.
  int64_t events = this->AuditCount();
  AuditEntry unlock = Audit("user.unlock");
  ASSERT_TRUE(s.ResetLoginFailures(u.id, &unlock).ok());
  EXPECT_EQ(this->AuditCount(), events + 1);
  EXPECT_EQ(s.GetUser(u.id)->failed_logins, 0);
  EXPECT_FALSE(s.GetUser(u.id)->locked_until.has_value());
  ASSERT_TRUE(s.ResetLoginFailures(u.id, nullptr).ok());
  EXPECT_EQ(this->AuditCount(), events + 1);
  // Zero means no lockout.
  auto never = s.RecordLoginFailure(u.id, now, 0, Seconds(60));
  EXPECT_FALSE(never->locked_until.has_value());
  EXPECT_EQ(s.RecordLoginFailure(999, now, 3, Seconds(60)).status().code(), Code::kNotFound);
  EXPECT_EQ(s.ResetLoginFailures(999, nullptr).code(), Code::kNotFound);
}

TYPED_TEST(StoreTest, ConcurrentLoginFailuresAllCount) {
  Store& s = this->store();
  User u = this->AddUser("race@example.com");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) (void)s.RecordLoginFailure(u.id, T(1), 1000, Seconds(1));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(s.GetUser(u.id)->failed_logins, 40);
}

TYPED_TEST(StoreTest, TotpStepsAreUsedOnceAndInOrder) {
  Store& s = this->store();
  User u = this->AddUser("mfa@example.com");
  EXPECT_EQ(s.GetMfa(u.id).status().code(), Code::kNotFound);
  EXPECT_EQ(s.UseTotpStep(u.id, 5).code(), Code::kNotFound);
  MfaRecord m{.user_id = u.id, .secret = "JBSWY3DPEHPK3PXP", .confirmed = false,
              .last_step = -1, .recovery_hashes = {"h1", "h2"}, .created_at = T(7)};
  ASSERT_TRUE(s.PutMfa(m, Audit("mfa.enrol_start")).ok());
  EXPECT_FALSE(s.GetUser(u.id)->mfa_enabled);
  m.confirmed = true;
  ASSERT_TRUE(s.PutMfa(m, Audit("mfa.enabled")).ok());
  EXPECT_TRUE(s.GetUser(u.id)->mfa_enabled);
  EXPECT_TRUE(s.ListUsers().back().mfa_enabled);
  ASSERT_TRUE(s.UseTotpStep(u.id, 100).ok());
  EXPECT_EQ(s.UseTotpStep(u.id, 100).reason(), "code_used");
  EXPECT_EQ(s.UseTotpStep(u.id, 99).reason(), "code_used");
  ASSERT_TRUE(s.UseTotpStep(u.id, 101).ok());
  this->Reopen();
  auto back = this->store().GetMfa(u.id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->last_step, 101);
  EXPECT_EQ(back->secret, "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(back->recovery_hashes, (std::vector<std::string>{"h1", "h2"}));
  EXPECT_EQ(back->created_at, T(7));
}

TYPED_TEST(StoreTest, RecoveryCodesWorkOnce) {
  Store& s = this->store();
  User u = this->AddUser("rec@example.com");
  MfaRecord m{.user_id = u.id, .secret = "S", .confirmed = true, .recovery_hashes = {"a", "b"}};
  ASSERT_TRUE(s.PutMfa(m, Audit("mfa.enabled")).ok());
  int64_t events = this->AuditCount();
  ASSERT_TRUE(s.UseRecoveryCode(u.id, "a", Audit("mfa.recovery_used")).ok());
  EXPECT_EQ(s.UseRecoveryCode(u.id, "a", Audit("mfa.recovery_used")).code(), Code::kNotFound);
  EXPECT_EQ(this->AuditCount(), events + 1);  // the refusal wrote nothing
  EXPECT_EQ(s.GetMfa(u.id)->recovery_hashes, std::vector<std::string>{"b"});
  ASSERT_TRUE(s.DeleteMfa(u.id, Audit("mfa.reset")).ok());
  EXPECT_EQ(s.DeleteMfa(u.id, Audit("mfa.reset")).code(), Code::kNotFound);
  EXPECT_FALSE(s.GetUser(u.id)->mfa_enabled);
  EXPECT_EQ(s.PutMfa(MfaRecord{.user_id = 999}, Audit("mfa.enabled")).code(), Code::kNotFound);
}

TYPED_TEST(StoreTest, CredentialsAreUniqueListedTouchedAndDeleted) {
  Store& s = this->store();
  User a = this->AddUser("a@example.com");
  User b = this->AddUser("b@example.com");
  Credential token{.user_id = a.id, .kind = "api_token", .name = "ci", .lookup = "hash1",
                   .created_at = T(1), .expires_at = T(1000)};
  auto created = s.CreateCredential(token, Audit("token.create"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_GT(created->id, 0);
  // Same name for the same user and kind; same lookup for anyone.
  int64_t events = this->AuditCount();
  Credential dup_name = token;
  dup_name.lookup = "hash2";
  EXPECT_EQ(s.CreateCredential(dup_name, Audit("token.create")).status().reason(), "name_taken");
  Credential dup_lookup = token;
  dup_lookup.user_id = b.id;
  dup_lookup.name = "other";
  EXPECT_EQ(s.CreateCredential(dup_lookup, Audit("token.create")).status().reason(),
            "name_taken");
  EXPECT_EQ(this->AuditCount(), events);
  // The same name is fine for another user or another kind.
  Credential for_b = token;
  for_b.user_id = b.id;
  for_b.lookup = "hash3";
  ASSERT_TRUE(s.CreateCredential(for_b, Audit("token.create")).ok());
  Credential key{.user_id = a.id, .kind = "access_key", .name = "ci", .lookup = "PHKABC",
                 .secret = "s3cret", .created_at = T(2)};
  auto k = s.CreateCredential(key, Audit("access_key.create"));
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(s.FindCredential("access_key", "PHKABC")->secret, "s3cret");
  EXPECT_FALSE(s.FindCredential("access_key", "PHKABC")->expires_at.has_value());
  EXPECT_EQ(s.FindCredential("api_token", "PHKABC").status().code(), Code::kNotFound);
  EXPECT_EQ(s.ListCredentials(a.id).size(), 2u);
  EXPECT_EQ(s.ListCredentials(std::nullopt).size(), 3u);
  ASSERT_TRUE(s.TouchCredential(created->id, T(500), "198.51.100.9").ok());
  this->Reopen();
  Store& r = this->store();
  auto touched = r.GetCredential(created->id);
  ASSERT_TRUE(touched.ok());
  EXPECT_EQ(touched->last_used_at, T(500));
  EXPECT_EQ(touched->last_used_ip, "198.51.100.9");
  EXPECT_EQ(touched->expires_at, T(1000));
  ASSERT_TRUE(r.DeleteCredential(created->id, Audit("token.revoke")).ok());
  EXPECT_EQ(r.DeleteCredential(created->id, Audit("token.revoke")).code(), Code::kNotFound);
  EXPECT_EQ(r.TouchCredential(created->id, T(1), "x").code(), Code::kNotFound);
  EXPECT_EQ(r.CreateCredential(Credential{.user_id = 999, .kind = "api_token", .name = "x",
                                          .lookup = "y"},
                               Audit("token.create"))
                .status()
                .code(),
            Code::kNotFound);
}

TYPED_TEST(StoreTest, DeletingAUserRemovesTheirSecondFactorAndCredentials) {
  Store& s = this->store();
  User u = this->AddUser("gone@example.com");
  ASSERT_TRUE(s.PutMfa(MfaRecord{.user_id = u.id, .secret = "S"}, Audit("mfa")).ok());
  ASSERT_TRUE(s.CreateCredential(Credential{.user_id = u.id, .kind = "api_token", .name = "n",
                                            .lookup = "l"},
                                 Audit("token.create"))
                  .ok());
  ASSERT_TRUE(s.DeleteUser(u.id, Audit("user.delete")).ok());
  EXPECT_EQ(s.GetMfa(u.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(s.ListCredentials(std::nullopt).empty());
  EXPECT_EQ(s.FindCredential("api_token", "l").status().code(), Code::kNotFound);
}

TYPED_TEST(StoreTest, SessionsKeepHowTheyWereMade) {
  Store& s = this->store();
  User u = this->AddUser("sess@example.com");
  Session session{"hash", "csrf", u.id, T(1), T(2), "password+totp", true};
  ASSERT_TRUE(s.CreateSession(session).ok());
  this->Reopen();
  auto back = this->store().FindSession("hash");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->method, "password+totp");
  EXPECT_TRUE(back->mfa_enrolment_only);
}

TYPED_TEST(StoreTest, SettingsRoundTripAndAreAudited) {
  Store& s = this->store();
  EXPECT_EQ(s.GetSetting("mfa_policy").status().code(), Code::kNotFound);
  int64_t events = this->AuditCount();
  ASSERT_TRUE(s.PutSetting("mfa_policy", R"({"required_for_all":true})", Audit("settings")).ok());
  ASSERT_TRUE(s.PutSetting("mfa_policy", R"({"required_for_all":false})", Audit("settings")).ok());
  EXPECT_EQ(this->AuditCount(), events + 2);
  this->Reopen();
  EXPECT_EQ(*this->store().GetSetting("mfa_policy"), R"({"required_for_all":false})");
}

}  // namespace
}  // namespace pinhole
