#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <chrono>
#include <atomic>

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

// What the worker reads of a subscriber's DirectLine, consistently.
struct Line {
  uint64_t w[RTE_CACHE_LINE_SIZE / 8];
  DirectHead h;
  const uint8_t* bytes() const { return reinterpret_cast<const uint8_t*>(w); }
  // A field the template carries for encap (kDirect*FromIp), host order.
  uint16_t carried(size_t from_ip) const {
    uint16_t v;
    std::memcpy(&v, bytes() + direct_line_ip_at(h) + from_ip, 2);
    return v;
  }
};
Line line_of(const SessionTable& t, uint32_t addr) {
  Line l{};
  EXPECT_TRUE(read_direct_line(t.direct_line(rte_cpu_to_be_32(addr)), l.w));
  l.h = direct_head(l.w[0]);
  return l;
}

// A session of an owner below 256 whose template is tagged or sequenced
// but not both leaves room in a cache line for its template and what else
// encap reads.
TEST_F(SessionTableTest, SessionsAreCompactUnlessTaggedAndSequenced) {
  Session s;
  ASSERT_TRUE(build_session(entry(), s));
  EXPECT_TRUE(s.compact());
  EXPECT_EQ(s.template_len, 52);
  ASSERT_TRUE(build_session(entry(0x123, false), s));
  EXPECT_TRUE(s.compact());
  EXPECT_EQ(s.template_len, kCompactTemplate);
  ASSERT_TRUE(build_session(entry(0, true), s));
  EXPECT_TRUE(s.compact());
  EXPECT_EQ(s.template_len, kCompactTemplate);
  EXPECT_EQ(s.ns_offset, s.ip_offset + kDirectNsFromIp);
  ASSERT_TRUE(build_session(entry(0x123, true), s));
  EXPECT_FALSE(s.compact());
  auto far = entry();
  far.owner_worker = 256;
  ASSERT_TRUE(build_session(far, s));
  EXPECT_FALSE(s.compact());
}

// A compact session's line holds what its Session says encap needs: the
// head, and the template with, in the fields encap fills per packet, the
// MTU, the MSS limit and the header sum that gives the checksum the
// Session's gives, for every length. Any other line holds the direct
// entry: a tagged and sequenced session's, or "ask the hash" once two
// subscribers share the low 16 bits, or nothing once withdrawn. Each
// rewrite leaves the count even and higher.
TEST_F(SessionTableTest, DirectLinesHoldCompactSessionsOrTheEntry) {
  SessionLimits limits;
  limits.mss_clamp = 1400;
  table_->set_limits(limits);
  struct Kind {
    uint16_t vlan;
    bool sequenced;
    uint16_t id;
    uint8_t shape_flags;
  };
  const Kind kinds[] = {{0, false, 0xb7e1, 0},
                        {0, true, 0x0202, DirectHead::kShapeSequenced},
                        {0x123, false, 0x0303, DirectHead::kShapeTagged}};
  for (size_t k = 0; k < std::size(kinds); ++k) {
    auto e = entry(kinds[k].vlan, kinds[k].sequenced);
    e.local_session_id = kinds[k].id;
    e.subscriber_addr = kSubscriber + static_cast<uint32_t>(k);
    e.owner_worker = static_cast<uint16_t>(200 + k);
    ASSERT_TRUE(table_->publish(e));
  }
  for (size_t k = 0; k < std::size(kinds); ++k) {
    SCOPED_TRACE(k);
    const Session& s = *table_->by_session_id(kinds[k].id);
    const Line l = line_of(*table_, kSubscriber + static_cast<uint32_t>(k));
    EXPECT_EQ(l.h.session_id, kinds[k].id);
    EXPECT_EQ(l.h.addr_high, rte_cpu_to_be_16(kSubscriber >> 16));
    EXPECT_EQ(l.h.owner_worker, 200 + k);
    EXPECT_EQ(l.h.shape, s.template_len | kinds[k].shape_flags);
    ASSERT_EQ(l.h.template_len(), s.template_len);
    EXPECT_EQ(l.h.ip_offset(), s.ip_offset);
    EXPECT_EQ(l.h.sequenced(), kinds[k].sequenced);
    EXPECT_EQ(l.carried(kDirectMtuFromIp), s.mtu);
    EXPECT_EQ(l.carried(kDirectMssFromIp), 1400);
    EXPECT_LT(s.mtu, 1500);  // the template's length came off it
    const uint16_t sum = l.carried(kDirectSumFromIp);
    if (k == 0) {
      for (uint32_t total = 0; total <= 0xFFFF; ++total)
        ASSERT_EQ(ipv4_checksum_from_sum(sum + total), ipv4_checksum_from_sum(s.ip_sum_without_length + total))
            << total;
    } else {
      EXPECT_EQ(ipv4_checksum_from_sum(sum + 100u), ipv4_checksum_from_sum(s.ip_sum_without_length + 100u));
    }
    // The rest is the template: those fields are 0 there.
    const size_t at = RTE_CACHE_LINE_SIZE - s.template_len;
    Bytes template_bytes(l.bytes() + at, l.bytes() + RTE_CACHE_LINE_SIZE);
    for (size_t from_ip : {kDirectMtuFromIp, kDirectSumFromIp, kDirectMssFromIp})
      template_bytes[s.ip_offset + from_ip] = template_bytes[s.ip_offset + from_ip + 1] = 0;
    EXPECT_EQ(template_bytes, Bytes(s.header(), s.header() + s.template_len));
    EXPECT_EQ(l.h.seq % 2, 0);
  }

  auto both = entry(0x123, true);
  both.local_session_id = 0x0404;
  both.subscriber_addr = kSubscriber + 4;
  ASSERT_TRUE(table_->publish(both));
  Line q = line_of(*table_, kSubscriber + 4);
  EXPECT_EQ(q.h.shape, 0);
  uint16_t id = 0;
  EXPECT_EQ(SessionTable::direct_session(q.w[kDirectLineEntry], id), table_->by_session_id(0x0404));
  EXPECT_EQ(id, 0x0404);

  const uint16_t seq = line_of(*table_, kSubscriber).h.seq;
  const uint8_t shape = line_of(*table_, kSubscriber).h.shape;
  auto shared = entry();
  shared.local_session_id = 0x0505;
  shared.subscriber_addr = kSubscriber + 0x10000;
  ASSERT_TRUE(table_->publish(shared));
  Line l = line_of(*table_, kSubscriber);
  EXPECT_EQ(l.h.shape, 0);
  EXPECT_EQ(SessionTable::direct_session(l.w[kDirectLineEntry], id), nullptr);
  EXPECT_EQ(l.h.seq, static_cast<uint16_t>(seq + 2));
  EXPECT_EQ(table_->lookup_subscriber(rte_cpu_to_be_32(kSubscriber)), table_->by_session_id(0xb7e1));
  EXPECT_EQ(table_->lookup_subscriber(rte_cpu_to_be_32(kSubscriber + 0x10000)), table_->by_session_id(0x0505));

  // Back to one: compact again; then none.
  ASSERT_TRUE(table_->withdraw(0x0505));
  EXPECT_EQ(line_of(*table_, kSubscriber).h.session_id, 0xb7e1);
  EXPECT_EQ(line_of(*table_, kSubscriber).h.shape, shape);
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  l = line_of(*table_, kSubscriber);
  EXPECT_EQ(l.h.shape, 0);
  EXPECT_EQ(l.w[kDirectLineEntry], 0u);
}

// The control thread rewrites a line while a worker reads it: every read
// the worker takes is one whole version, never half of each. Two versions
// of one session alternate, differing in two words of the template: the
// MTU it carries (from the peer's MRU) and the peer's session ID.
TEST_F(SessionTableTest, ALineReadWhileItIsRewrittenIsWholeOrRefused) {
  auto a = entry();
  a.peer_session_id = 0x1111;
  a.peer_mru = 1400;
  auto b = entry();
  b.peer_session_id = 0x2222;
  b.peer_mru = 1300;
  ASSERT_TRUE(table_->publish(a));
  Session sa, sb;
  ASSERT_TRUE(build_session(a, sa));
  ASSERT_TRUE(build_session(b, sb));
  ASSERT_NE(sa.mtu, sb.mtu);
  // The peer's session ID: the template's last 6 octets are it and PPP's 4.
  const size_t sid_at = RTE_CACHE_LINE_SIZE - 6;

  std::atomic<bool> stop{false};
  uint64_t taken = 0, refused = 0, torn = 0;
  std::thread reader([&] {
    const DirectLine& l = table_->direct_line(rte_cpu_to_be_32(kSubscriber));
    // Both ways the worker reads: the whole line, and encap's read with
    // the fields it carries, against the first word read before.
    for (bool in_place = false; !stop.load(std::memory_order_relaxed); in_place = !in_place) {
      uint64_t w[RTE_CACHE_LINE_SIZE / 8];
      const uint64_t w0 = __atomic_load_n(&l.w[0], __ATOMIC_ACQUIRE);
      DirectLineRead r{};
      const bool whole = in_place ? w0 % 2 == 0 && load_direct_line(l, w0, direct_line_ip_at(direct_head(w0)), r)
                                  : read_direct_line(l, w);
      if (!whole) {
        ++refused;
        continue;
      }
      ++taken;
      if (in_place) std::memcpy(w, r.q, sizeof w);
      Line got;
      std::memcpy(got.w, w, sizeof w);
      got.h = direct_head(w[0]);
      const uint16_t sid = static_cast<uint16_t>(got.bytes()[sid_at] << 8 | got.bytes()[sid_at + 1]);
      const uint16_t mtu = got.carried(kDirectMtuFromIp);
      // encap's own read of the MTU, in the same window.
      if (in_place && r.mtu != mtu) ++torn;
      if (!((sid == 0x1111 && mtu == sa.mtu) || (sid == 0x2222 && mtu == sb.mtu))) ++torn;
    }
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  unsigned rewrites = 0;
  while (std::chrono::steady_clock::now() < until || taken < 1000) {
    ASSERT_TRUE(table_->publish(rewrites++ % 2 ? a : b));
    if (rewrites % 64 == 0) table_->synchronize();
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0u) << taken << " reads taken, " << refused << " refused, " << rewrites << " rewrites";
  EXPECT_GT(taken, 1000u);
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
