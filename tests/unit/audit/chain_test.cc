#include "audit/chain.h"

#include <gtest/gtest.h>

namespace pinhole {
namespace {

std::vector<AuditEvent> MakeChain(int n) {
  std::vector<AuditEvent> events;
  std::string prev(kGenesisHash);
  for (int i = 1; i <= n; ++i) {
    AuditEvent e;
    e.seq = i;
    e.time = Time(Millis(1'795'000'000'000 + i * 1000));
    e.actor = "alice@example.com";
    e.action = "lease.create";
    e.object = "lease/" + std::to_string(i);
    e.client_ip = "203.0.113.7";
    e.details_json = R"({"services":["ssh"]})";
    e.prev_hash = prev;
    e.hash = ComputeAuditHash(e);
    prev = e.hash;
    events.push_back(e);
  }
  return events;
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuditChainTest, HashIsHexAndDeterministic) {
  auto events = MakeChain(1);
  EXPECT_EQ(events[0].hash.size(), 64u);
  EXPECT_EQ(events[0].hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ComputeAuditHash(events[0]), events[0].hash);
}

TEST(AuditChainTest, EveryFieldIsCovered) {
  AuditEvent base = MakeChain(1)[0];
  std::string h = ComputeAuditHash(base);
  auto changed = [&](auto mutate) {
    AuditEvent e = base;
    mutate(e);
    return ComputeAuditHash(e) != h;
  };
  EXPECT_TRUE(changed([](AuditEvent& e) { e.seq++; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.time += Millis(1); }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.actor = "mallory@example.com"; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.action = "lease.delete"; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.object = "lease/2"; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.client_ip = "203.0.113.8"; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.details_json = "{}"; }));
  EXPECT_TRUE(changed([](AuditEvent& e) { e.prev_hash[0] = e.prev_hash[0] == '0' ? '1' : '0'; }));
  // The stored hash itself is not an input.
  EXPECT_FALSE(changed([](AuditEvent& e) { e.hash = "x"; }));
}

TEST(AuditChainTest, EncodingIsUnambiguous) {
  AuditEvent a = MakeChain(1)[0];
  AuditEvent b = a;
  a.actor = "ab";
  a.action = "c";
  b.actor = "a";
  b.action = "bc";
  EXPECT_NE(ComputeAuditHash(a), ComputeAuditHash(b));
  a.action = "";
  a.object = "x";
  b.action = "x";
  b.object = "";
  b.actor = "ab";
  EXPECT_NE(ComputeAuditHash(a), ComputeAuditHash(b));
}

TEST(AuditChainTest, IntactChainHasNoBrokenLink) {
  EXPECT_EQ(FindBrokenLink(MakeChain(5)), -1);
  EXPECT_EQ(FindBrokenLink({}), -1);
  // A window that starts mid-log is checked from its first event's prev_hash.
  auto events = MakeChain(5);
  events.erase(events.begin(), events.begin() + 2);
  EXPECT_EQ(FindBrokenLink(events), -1);
}

TEST(AuditChainTest, DetectsEditedEvent) {
  auto events = MakeChain(5);
  events[2].details_json = R"({"services":["rdp"]})";
  EXPECT_EQ(FindBrokenLink(events), 2);
}

TEST(AuditChainTest, DetectsRehashedEdit) {
  // An attacker who recomputes the edited event's hash still breaks the next link.
  auto events = MakeChain(5);
  events[2].actor = "mallory@example.com";
  events[2].hash = ComputeAuditHash(events[2]);
  EXPECT_EQ(FindBrokenLink(events), 3);
}

TEST(AuditChainTest, DetectsRemovedEvent) {
  auto events = MakeChain(5);
  events.erase(events.begin() + 1);
  EXPECT_EQ(FindBrokenLink(events), 1);
}

TEST(AuditChainTest, DetectsReorderedEvents) {
  auto events = MakeChain(5);
  std::swap(events[3], events[4]);
  EXPECT_EQ(FindBrokenLink(events), 3);
}

TEST(AuditChainTest, DetectsSeqGapEvenWithMatchingHashes) {
  auto events = MakeChain(3);
  events[2].seq = 10;
  events[2].hash = ComputeAuditHash(events[2]);
  EXPECT_EQ(FindBrokenLink(events), 2);
}

}  // namespace
}  // namespace pinhole
