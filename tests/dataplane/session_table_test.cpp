#include <gtest/gtest.h>

#include "dataplane/checksum.hpp"
#include "fixture.hpp"

namespace l2tp::dp::test {
namespace {

using SessionTableTest = FastPathTest;

rte_be32_t be(uint32_t host) { return rte_cpu_to_be_32(host); }

TEST_F(SessionTableTest, TemplateIsTheExactOuterHeaderWithVlanAndSequencing) {
  Session s;
  ASSERT_TRUE(build_session(entry(0x123, true), s));
  Bytes expected = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x81, 0x00, 0x01, 0x23, 0x08, 0x00,
                    // IPv4: length and checksum 0 in the template
                    0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
                    // UDP 1701 -> 1701, length 0, checksum 0
                    0x06, 0xA5, 0x06, 0xA5, 0, 0, 0, 0,
                    // L2TP: S, version 2, peer tunnel 0x0457, peer session 0x22b8, Ns, Nr
                    0x08, 0x02, 0x04, 0x57, 0x22, 0xb8, 0, 0, 0, 0,
                    // PPP
                    0xFF, 0x03, 0x00, 0x21};
  EXPECT_EQ(Bytes(s.header(), s.header() + s.template_len), expected);
  EXPECT_EQ(s.ip_offset, 18);
  EXPECT_EQ(s.ns_offset, 18 + 20 + 8 + 6);
}

// An untagged, unsequenced session's template leaves room at the front of
// its line for what encap reads (DownstreamHead): the same values as the
// Session's own fields, the template itself unchanged behind it. A VLAN
// tag, sequencing or an owner above 255 leave it out.
TEST_F(SessionTableTest, ShortTemplateCarriesTheDownstreamHeadInItsLine) {
  SessionLimits limits;
  limits.mss_clamp = 1400;
  Session s;
  ASSERT_TRUE(build_session(entry(), s, limits));
  ASSERT_TRUE(s.compact);
  EXPECT_EQ(s.template_len, kCompactTemplate);
  const DownstreamHead h = s.head();
  EXPECT_EQ(h.subscriber_addr, be(kSubscriber));
  EXPECT_EQ(h.mtu, s.mtu);
  EXPECT_EQ(h.mss_max, 1400);
  EXPECT_EQ(h.owner_worker, s.owner_worker);
  EXPECT_EQ(h.template_len, s.template_len);
  // The folded sum gives the checksum the unfolded one gives, for every length.
  for (uint32_t total = 0; total <= 0xFFFF; ++total)
    ASSERT_EQ(ipv4_checksum_from_sum(h.ip_sum + total), ipv4_checksum_from_sum(s.ip_sum_without_length + total))
        << total;
  Session vlan;
  ASSERT_TRUE(build_session(entry(0x123, false), vlan, limits));
  EXPECT_EQ(Bytes(s.header() + 12, s.header() + s.template_len),
            Bytes(vlan.header() + 16, vlan.header() + vlan.template_len))
      << "the head leaves the template as it was";
  EXPECT_FALSE(vlan.compact);
  Session sequenced;
  ASSERT_TRUE(build_session(entry(0, true), sequenced, limits));
  EXPECT_FALSE(sequenced.compact);
  auto far = entry();
  far.owner_worker = 256;
  Session other;
  ASSERT_TRUE(build_session(far, other, limits));
  EXPECT_FALSE(other.compact);
}

// The direct entry tells the worker which Sessions are compact; the
// pointer it gives (and the hash's) is the Session's either way.
TEST_F(SessionTableTest, DirectEntryFlagsCompactSessions) {
  auto sequenced = entry(0, true);
  sequenced.local_session_id = 0x0202;
  sequenced.subscriber_addr = kSubscriber + 1;
  ASSERT_TRUE(table_->publish(entry()));
  ASSERT_TRUE(table_->publish(sequenced));
  uint16_t id = 0;
  const uint64_t plain_entry = table_->direct_entry(be(kSubscriber));
  EXPECT_TRUE(SessionTable::direct_compact(plain_entry));
  EXPECT_EQ(SessionTable::direct_session(plain_entry, id), table_->by_session_id(0xb7e1));
  EXPECT_EQ(id, 0xb7e1);
  const uint64_t seq_entry = table_->direct_entry(be(kSubscriber + 1));
  EXPECT_FALSE(SessionTable::direct_compact(seq_entry));
  EXPECT_EQ(SessionTable::direct_session(seq_entry, id), table_->by_session_id(0x0202));
  EXPECT_EQ(id, 0x0202);
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber)), table_->by_session_id(0xb7e1));
  // Another subscriber with the same low 16 bits: the entry says "ask the
  // hash", which gives each his own Session, compact or not.
  auto shared = entry();
  shared.local_session_id = 0x0303;
  shared.subscriber_addr = kSubscriber + 0x10000;
  ASSERT_TRUE(table_->publish(shared));
  EXPECT_EQ(SessionTable::direct_session(table_->direct_entry(be(kSubscriber)), id), nullptr);
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber)), table_->by_session_id(0xb7e1));
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber + 0x10000)), table_->by_session_id(0x0303));
}

TEST_F(SessionTableTest, RefusesZeroIds) {
  for (int field = 0; field < 4; ++field) {
    auto e = entry();
    if (field == 0) e.local_tunnel_id = 0;
    if (field == 1) e.local_session_id = 0;
    if (field == 2) e.peer_tunnel_id = 0;
    if (field == 3) e.peer_session_id = 0;
    EXPECT_FALSE(table_->publish(e)) << field;
  }
  EXPECT_EQ(table_->sessions(), 0u);
}

TEST_F(SessionTableTest, PublishFindsBothWaysAndWithdrawRemoves) {
  ASSERT_TRUE(table_->publish(entry()));
  const Session* s = table_->by_session_id(0xb7e1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->local_tunnel_id, 0x4d2a);
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber)), s);
  EXPECT_EQ(table_->sessions(), 1u);
  EXPECT_TRUE(table_->withdraw(0xb7e1));
  EXPECT_EQ(table_->by_session_id(0xb7e1), nullptr);
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber)), nullptr);
  EXPECT_FALSE(table_->withdraw(0xb7e1));
  EXPECT_EQ(table_->sessions(), 0u);
}

TEST_F(SessionTableTest, SubscribersSharingTheirLow16BitsAreFoundThroughTheHash) {
  // 100.64.0.5, 100.65.0.5 and 10.0.0.5 share one direct-array index.
  const uint32_t addrs[3] = {ipv4(100, 64, 0, 5), ipv4(100, 65, 0, 5), ipv4(10, 0, 0, 5)};
  for (uint16_t i = 0; i < 3; ++i) {
    auto e = entry();
    e.local_session_id = static_cast<uint16_t>(100 + i);
    e.subscriber_addr = addrs[i];
    ASSERT_TRUE(table_->publish(e));
  }
  auto find = [&](uint32_t a) -> int {
    const Session* s = table_->lookup_subscriber(be(a));
    return s == nullptr ? -1 : s->local_session_id;
  };
  EXPECT_EQ(find(addrs[0]), 100);
  EXPECT_EQ(find(addrs[1]), 101);
  EXPECT_EQ(find(addrs[2]), 102);
  EXPECT_EQ(find(ipv4(100, 66, 0, 5)), -1);
  // Bulk, with the ID of each hit.
  const rte_be32_t keys_be[4] = {be(addrs[2]), be(ipv4(1, 2, 0, 5)), be(addrs[0]), be(addrs[1])};
  const rte_be32_t* keys[4] = {&keys_be[0], &keys_be[1], &keys_be[2], &keys_be[3]};
  const Session* out[4];
  uint16_t ids[4];
  table_->lookup_subscribers(keys, 4, out, ids);
  EXPECT_EQ(ids[0], 102);
  EXPECT_EQ(out[1], nullptr);
  EXPECT_EQ(ids[1], 0);
  EXPECT_EQ(ids[2], 100);
  EXPECT_EQ(ids[3], 101);
  ASSERT_NE(out[3], nullptr);
  EXPECT_EQ(out[3]->local_session_id, 101);
  // Down to one: the survivor is found directly, the others not at all.
  EXPECT_TRUE(table_->withdraw(100));
  EXPECT_TRUE(table_->withdraw(102));
  EXPECT_EQ(find(addrs[0]), -1);
  EXPECT_EQ(find(addrs[1]), 101);
  EXPECT_EQ(find(addrs[2]), -1);
  EXPECT_TRUE(table_->withdraw(101));
  EXPECT_EQ(find(addrs[1]), -1);
}

TEST_F(SessionTableTest, DirectEntryFollowsARepublishAndLeavesTheAddressCheckToTheCaller) {
  ASSERT_TRUE(table_->publish(entry()));
  // 100.65.0.10 shares only its low 16 bits with the subscriber.
  const rte_be32_t other = be(ipv4(100, 65, 0, 10));
  EXPECT_EQ(table_->lookup_subscriber(other), nullptr);
  const rte_be32_t* key = &other;
  const Session* out = nullptr;
  table_->lookup_subscribers(&key, 1, &out);
  EXPECT_TRUE(out == nullptr || out->subscriber_addr != other);
  // Same address, new Session: the entry must lead to it, not to the old
  // one, which is freed once the grace period is over.
  auto e = entry();
  e.peer_session_id = 0x1234;
  ASSERT_TRUE(table_->publish(e));
  table_->synchronize();
  const rte_be32_t mine = be(kSubscriber);
  key = &mine;
  uint16_t id = 0;
  table_->lookup_subscribers(&key, 1, &out, &id);
  EXPECT_EQ(out, table_->by_session_id(0xb7e1));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->peer_session_id, 0x1234);
  EXPECT_EQ(id, 0xb7e1);
}

TEST_F(SessionTableTest, RepublishReplacesTheSubscriberAddressAndKeepsTheState) {
  ASSERT_TRUE(table_->publish(entry(0, true)));
  table_->state(0xb7e1).next_ns = 77;
  auto e = entry(0, true);
  e.subscriber_addr = ipv4(100, 64, 0, 20);
  ASSERT_TRUE(table_->publish(e));
  EXPECT_EQ(table_->lookup_subscriber(be(kSubscriber)), nullptr);
  ASSERT_NE(table_->lookup_subscriber(be(e.subscriber_addr)), nullptr);
  EXPECT_EQ(table_->lookup_subscriber(be(e.subscriber_addr))->local_session_id, 0xb7e1);
  EXPECT_EQ(table_->state(0xb7e1).next_ns, 77) << "Ns continues across an IPCP renegotiation";
  EXPECT_EQ(table_->sessions(), 1u);
  // Back out of the fast path: the session stays known.
  e.subscriber_addr = 0;
  ASSERT_TRUE(table_->publish(e));
  EXPECT_EQ(table_->lookup_subscriber(be(ipv4(100, 64, 0, 20))), nullptr);
  ASSERT_NE(table_->by_session_id(0xb7e1), nullptr);
  EXPECT_FALSE(table_->by_session_id(0xb7e1)->in_fast_path());
}

TEST_F(SessionTableTest, OneSubscriberAddressBelongsToOneSession) {
  ASSERT_TRUE(table_->publish(entry()));
  auto other = entry();
  other.local_session_id = 0x1111;
  EXPECT_FALSE(table_->publish(other));
  other.subscriber_addr = ipv4(100, 64, 0, 11);
  EXPECT_TRUE(table_->publish(other));
}

TEST_F(SessionTableTest, WithdrawnEntryIsFreedOnlyAfterEveryWorkerWasQuiescent) {
  ASSERT_EQ(rte_rcu_qsbr_thread_register(rcu_.v, 1), 0);
  rte_rcu_qsbr_thread_online(rcu_.v, 1);
  ASSERT_TRUE(table_->publish(entry()));
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  EXPECT_EQ(table_->reclaim(), 1u) << "worker 1 has not been quiescent since";
  auto e = entry();
  e.local_session_id = 0x0202;
  e.subscriber_addr = ipv4(100, 64, 0, 2);
  ASSERT_TRUE(table_->publish(e));  // replaces nothing: still one waiting
  EXPECT_EQ(table_->reclaim(), 1u);
  rte_rcu_qsbr_quiescent(rcu_.v, 1);
  EXPECT_EQ(table_->reclaim(), 0u);
  rte_rcu_qsbr_thread_offline(rcu_.v, 1);
  rte_rcu_qsbr_thread_unregister(rcu_.v, 1);
}

TEST_F(SessionTableTest, ANewSessionUnderAnOldIdStartsWithFreshState) {
  ASSERT_TRUE(table_->publish(entry(0, true)));
  table_->state(0xb7e1).next_ns = 5;
  table_->state(0xb7e1).rx_packets = 9;
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  ASSERT_TRUE(table_->publish(entry(0, true)));
  EXPECT_EQ(table_->state(0xb7e1).next_ns, 0);
  EXPECT_EQ(table_->state(0xb7e1).rx_packets, 0u);
}

TEST_F(SessionTableTest, BulkLookupReportsHitsAndMisses) {
  ASSERT_TRUE(table_->publish(entry()));
  rte_be32_t a = be(kSubscriber), b = be(ipv4(100, 64, 0, 99));
  const rte_be32_t* keys[] = {&b, &a, &b};
  const Session* out[3];
  table_->lookup_subscribers(keys, 3, out);
  EXPECT_EQ(out[0], nullptr);
  EXPECT_EQ(out[1], table_->by_session_id(0xb7e1));
  EXPECT_EQ(out[2], nullptr);
}

}  // namespace
}  // namespace l2tp::dp::test
