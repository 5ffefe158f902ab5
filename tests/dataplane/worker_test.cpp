// The worker loop on ring ports (rte_eth_from_rings): packets in, the right
// packets out of the right port or ring, and the counters to match.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane/encap.hpp"
#include "dataplane/mtu.hpp"
#include "dataplane/worker.hpp"
#include "fixture.hpp"
#include "ring_port.hpp"

namespace l2tp::dp::test {
namespace {

class WorkerTest : public FastPathTest {
 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    ASSERT_GE(access_.port, 0);
    ASSERT_GE(core_.port, 0);
    ASSERT_TRUE(table_->publish(entry()));
    ASSERT_TRUE(tunnels_.publish(0x4d2a, rte_cpu_to_be_32(kLacAddr)));  // the session's tunnel
  }
  void TearDown() override { free_control_rings(rings_); }

  WorkerConfig config(unsigned ring_size = 64) {
    rings_ = create_control_rings(next_worker_rings_++, ring_size, SOCKET_ID_ANY);
    WorkerConfig c;
    c.id = 0;
    c.access_port = access_.id();
    c.core_port = core_.id();
    c.core_hop = hop_;
    c.table = table_.get();
    c.rcu = rcu_.v;
    c.to_control = rings_.to_control;
    c.from_control = rings_.from_control;
    c.to_control_high = rings_.to_control_high;
    c.police_seed = 0x5eed;  // the same buckets every run
    c.tunnels = &tunnels_;
    return c;
  }

  // An L2TP control message (RFC 2661 3.1: T, L and S set) carrying only
  // its Message Type AVP, from a peer.
  static Bytes control_message(uint16_t tunnel, uint16_t type, uint32_t from = kLacAddr, uint16_t ns = 0) {
    Bytes b;
    put16(b, 0xC802);
    put16(b, 20);
    put16(b, tunnel);
    put16(b, 0);
    put16(b, ns);
    put16(b, 0);
    put16(b, 0x8008);  // M, length 8
    put16(b, 0);       // IETF
    put16(b, 0);       // Message Type
    put16(b, type);
    Outer o;
    o.dst = kOurAccessMac;
    o.src = kLacMac;
    o.ip_src = from;
    o.ip_dst = kOurAddr;
    return udp_frame(o, b);
  }
  static Bytes sccrq(uint32_t from = kLacAddr) { return control_message(0, 1, from); }
  static Bytes hello(uint32_t from = kLacAddr, uint16_t ns = 0) { return control_message(0x4d2a, 6, from, ns); }

  // rx (+ handed in) = forwarded + punted + every drop reason (+ handed off).
  static void expect_accounted(const WorkerCounters& c) {
    EXPECT_EQ(c.rx_access + c.rx_core + c.handed_in,
              c.decap + c.encap + c.to_control + c.dropped_total() + c.handed_off);
  }

  Bytes data(uint16_t protocol, const Bytes& info, uint16_t session = 0xb7e1) {
    return upstream(l2tp_ppp(0x4d2a, session, {}, protocol, info));
  }
  Bytes to_host(const Bytes& ip) { return cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), ip); }

  // The churn tests' sessions: ID 0x1000 + i, subscriber kSubscriber + 1 + i.
  static control::FastPathEntry session_entry(unsigned i) {
    control::FastPathEntry e = entry();
    e.local_session_id = static_cast<uint16_t>(0x1000 + i);
    e.peer_session_id = static_cast<uint16_t>(0x2000 + i);
    e.subscriber_addr = kSubscriber + 1 + i;
    return e;
  }

  // A TCP SYN header with MSS 1460 (what the MSS clamp changes); its
  // checksum is updated, not checked.
  static Bytes tcp_syn_mss_1460() {
    Bytes tcp;
    put16(tcp, 40000);
    put16(tcp, 443);
    put32(tcp, 0x01020304);
    put32(tcp, 0);
    tcp.push_back(0x60);  // data offset 24
    tcp.push_back(0x02);  // SYN
    put16(tcp, 65535);
    put16(tcp, 0x1234);
    put16(tcp, 0);
    append(tcp, Bytes{2, 4, 0x05, 0xb4});
    return tcp;
  }

  // A frame as a PMD may hand it over: where its data starts, and for a
  // chain of two segments, where the second begins.
  struct Frame {
    Bytes bytes;
    uint16_t headroom = RTE_PKTMBUF_HEADROOM;
    size_t split = 0;  // not 0: a second segment from this octet on
  };
  static rte_mbuf* mbuf_of(const Frame& f) {
    const size_t first = f.split != 0 && f.split < f.bytes.size() ? f.split : f.bytes.size();
    rte_mbuf* m = rte_pktmbuf_alloc(test_pool());
    if (m == nullptr) return m;
    m->data_off = f.headroom;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(first));
    rte_mbuf* tail = first < f.bytes.size() ? rte_pktmbuf_alloc(test_pool()) : nullptr;
    char* q = tail ? rte_pktmbuf_append(tail, static_cast<uint16_t>(f.bytes.size() - first)) : nullptr;
    if (p == nullptr || (first < f.bytes.size() && (q == nullptr || rte_pktmbuf_chain(m, tail) != 0))) {
      rte_pktmbuf_free(m);
      rte_pktmbuf_free(tail);
      return nullptr;
    }
    std::memcpy(p, f.bytes.data(), first);
    if (q != nullptr) std::memcpy(q, f.bytes.data() + first, f.bytes.size() - first);
    return m;
  }

  // f with up to three octets changed, mostly among the `span` after the
  // Ethernet addresses and often to one of `edges`, sometimes cut short or
  // lengthened, its headroom sometimes changed (even, as every PMD places
  // a frame, down to none) and, when `chains`, sometimes in two segments
  // (the second from past `whole` octets or within them).
  template <size_t N>
  static Frame mutate(Frame f, std::mt19937& rng, size_t span, const uint8_t (&edges)[N], bool chains = false,
                      size_t whole = 0) {
    const unsigned changes = rng() % 4;
    for (unsigned k = 0; k < changes && !f.bytes.empty(); ++k) {
      const size_t at = rng() % 4 != 0 ? 12 + rng() % span : rng() % f.bytes.size();
      if (at >= f.bytes.size()) continue;
      f.bytes[at] = rng() % 2 ? edges[rng() % N] : static_cast<uint8_t>(rng());
    }
    if (rng() % 8 == 0) f.bytes.resize(rng() % (f.bytes.size() + 1));
    if (rng() % 5 == 0) f.bytes.resize(f.bytes.size() + 1 + rng() % 30, static_cast<uint8_t>(rng()));
    if (rng() % 5 == 0) f.headroom = static_cast<uint16_t>(2 * (rng() % (RTE_PKTMBUF_HEADROOM / 2 + 1)));
    if (chains && rng() % 6 == 0) f.split = rng() % 2 ? whole + rng() % 40 : 1 + rng() % whole;
    return f;
  }

  // A burst of kBurst frames in random order: each of bases once, the rest
  // mutate()d copies of them.
  template <class Mutate>
  static std::vector<Frame> mixed_burst(const std::vector<Bytes>& bases, Mutate mutate, std::mt19937& rng) {
    std::vector<Frame> burst;
    for (const Bytes& b : bases) burst.push_back(Frame{b});
    while (burst.size() < kBurst) burst.push_back(mutate(burst[rng() % bases.size()]));
    std::shuffle(burst.begin(), burst.end(), rng);
    return burst;
  }

  RingPort access_{"access"};
  RingPort core_{"core"};
  ControlRings rings_;
  TunnelTable tunnels_;
  static inline uint16_t next_worker_rings_ = 100;
};

TEST_F(WorkerTest, ForwardsBothWaysPuntsToControlAndCountsDrops) {
  Worker w(config());
  const Bytes up_ip = inner_ipv4(kSubscriber, kInternetHost, 64);
  const Bytes down_ip = inner_ipv4(kInternetHost, kSubscriber, 50, 100);
  const Bytes lcp = data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4});
  Bytes arp = cat(ethernet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kRouterMac, 0, 0x0806), Bytes(28, 0));
  const Bytes from_ctl = data(0xC021, {0x0a, 0x01, 0x00, 0x08, 1, 2, 3, 4});

  inject(access_.rx, {data(0x0021, up_ip), lcp, data(0x0021, up_ip, 0x0999),
                      data(0x0021, inner_ipv4(ipv4(10, 0, 0, 1), kInternetHost, 64))});
  inject(core_.rx, {to_host(down_ip), to_host(inner_ipv4(kInternetHost, ipv4(100, 64, 9, 9), 64)), arp});
  inject(rings_.from_control, {from_ctl}, access_.id());

  w.attach();
  EXPECT_EQ(w.poll(), 8u);
  w.flush();
  w.detach();

  EXPECT_EQ(take(core_.tx), std::vector<Bytes>{cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(up_ip))});
  Bytes encapsulated;
  put16(encapsulated, 0x0002);
  put16(encapsulated, 0x0457);
  put16(encapsulated, 0x22b8);
  append(encapsulated, Bytes{0xFF, 0x03, 0x00, 0x21});
  append(encapsulated, forwarded(down_ip));
  Outer o;
  o.dst = kLacMac;
  o.src = kOurAccessMac;
  o.ip_src = kOurAddr;
  o.ip_dst = kLacAddr;
  EXPECT_EQ(take(access_.tx), (std::vector<Bytes>{udp_frame(o, encapsulated), from_ctl}));
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{lcp});
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>{arp});

  const WorkerCounters& c = w.counters();
  EXPECT_EQ(c.rx_access, 4u);
  EXPECT_EQ(c.rx_core, 3u);
  EXPECT_EQ(c.decap, 1u);
  EXPECT_EQ(c.encap, 1u);
  EXPECT_EQ(c.to_control, 2u);
  EXPECT_EQ(c.from_control, 1u);
  EXPECT_EQ(c.tx_access, 2u);
  EXPECT_EQ(c.tx_core, 1u);
  EXPECT_EQ(c.dropped(Drop::kUnknownSession), 1u);
  EXPECT_EQ(c.dropped(Drop::kSpoofedSource), 1u);
  EXPECT_EQ(c.dropped(Drop::kNoSubscriber), 1u);
  EXPECT_EQ(c.dropped_total(), 3u);
  EXPECT_EQ(table_->state(0xb7e1).rx_packets, 1u);
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, 1u);
}

TEST_F(WorkerTest, AddressSharingOnlyTheLow16BitsOfASubscriberIsNoneOfHis) {
  // kSubscriber is 100.64.0.10: the subscriber array's entry for these two
  // leads to his session, which must not take their packets.
  WorkerConfig c = config();
  c.core_addr = rte_cpu_to_be_32(ipv4(100, 65, 0, 10));
  Worker w(c);
  const Bytes for_box = to_host(inner_ipv4(kInternetHost, ipv4(100, 65, 0, 10), 64));
  inject(core_.rx, {to_host(inner_ipv4(kInternetHost, ipv4(100, 66, 0, 10), 64)), for_box});
  w.attach();
  EXPECT_EQ(w.poll(), 2u);
  w.flush();
  w.detach();
  EXPECT_TRUE(take(access_.tx).empty());
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>{for_box});
  EXPECT_EQ(w.counters().encap, 0u);
  EXPECT_EQ(w.counters().dropped(Drop::kNoSubscriber), 1u);
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, 0u);
}

// Under load a full burst from either port waits for the next poll (so
// that what its sessions need arrives meanwhile): every frame still
// leaves, once, in the order the port took them in, and a worker destroyed
// while it holds bursts frees them.
TEST_F(WorkerTest, AFullBurstWaitsOnePollAndLeavesInOrder) {
  std::vector<Bytes> down, up, want_access, want_core;
  for (uint16_t i = 0; i < 2 * kBurst + 6; ++i) {
    const Bytes down_ip = inner_ipv4(kInternetHost, kSubscriber, 64, static_cast<uint16_t>(10 + i));
    down.push_back(to_host(down_ip));
    want_access.push_back(forwarded(down_ip));
    const Bytes up_ip = inner_ipv4(kSubscriber, kInternetHost, 64, static_cast<uint16_t>(10 + i));
    up.push_back(data(0x0021, up_ip));
    want_core.push_back(cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(up_ip)));
  }
  inject(core_.rx, down);
  inject(access_.rx, up);
  {
    Worker w(config());
    w.attach();
    EXPECT_EQ(w.poll(), 2 * kBurst);
    EXPECT_EQ(w.counters().encap, 0u) << "a full burst is held";
    EXPECT_EQ(w.counters().decap, 0u) << "a full burst is held";
    EXPECT_EQ(w.poll(), 2 * kBurst);
    EXPECT_EQ(w.counters().encap, kBurst) << "the first, sent when the second came in";
    EXPECT_EQ(w.counters().decap, kBurst) << "the first, sent when the second came in";
    EXPECT_EQ(w.poll(), 12u);
    EXPECT_EQ(w.counters().encap, 2u * kBurst + 6) << "a burst that is not full is not held";
    EXPECT_EQ(w.counters().decap, 2u * kBurst + 6) << "a burst that is not full is not held";
    EXPECT_EQ(w.poll(), 0u);
    w.flush();
    w.detach();
  }
  std::vector<Bytes> sent = take(access_.tx);
  ASSERT_EQ(sent.size(), want_access.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    // The inner packet follows the outer headers: what the subscriber
    // gets, in order.
    ASSERT_GE(sent[i].size(), want_access[i].size());
    EXPECT_EQ(Bytes(sent[i].end() - static_cast<std::ptrdiff_t>(want_access[i].size()), sent[i].end()),
              want_access[i])
        << "frame " << i;
  }
  EXPECT_EQ(take(core_.tx), want_core);
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, want_access.size());
  EXPECT_EQ(table_->state(0xb7e1).rx_packets, want_core.size());

  // Held, then the worker goes: nothing sent, nothing lost.
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  inject(core_.rx, std::vector<Bytes>(down.begin(), down.begin() + kBurst));
  inject(access_.rx, std::vector<Bytes>(up.begin(), up.begin() + kBurst));
  {
    Worker w(config());
    w.attach();
    EXPECT_EQ(w.poll(), 2 * kBurst);
    w.detach();
  }
  EXPECT_TRUE(take(access_.tx).empty());
  EXPECT_TRUE(take(core_.tx).empty());
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

// The worker encapsulates the common downstream frame after one look at
// it (downstream_shape) and one at its session, and sends every other frame
// through classify_downstream() and encap_ipv4(). What the access port
// sends, in order, the drop counts and each session's Ns and counters must
// be what those two alone give. Sessions: plain, sequenced and VLAN (all
// compact: their line is all the shortcut reads), VLAN and sequenced (not
// compact: the shortcut goes on to the Session), another worker's, and two
// whose addresses share their low 16 bits (the direct entry then leaves
// them to the hash). Frames: each
// subscriber's, a TCP SYN to clamp, then thousands with header octets
// changed at random, cut short or padded, some in mbufs whose headroom is
// too small for the fixed template copy.
TEST_F(WorkerTest, DownstreamShortcutSendsWhatTheGeneralPathWould) {
  struct Sub {
    uint16_t id;
    uint32_t addr;
  };
  const std::vector<Sub> subs{{0xb7e1, kSubscriber},
                              {0x0202, kSubscriber + 1},
                              {0x0303, kSubscriber + 2},
                              {0x0404, kSubscriber + 3},
                              {0x0505, kSubscriber + 4},
                              {0x0606, kSubscriber + 4 + 0x10000},
                              {0x0707, kSubscriber + 5},
                              {0x0808, kSubscriber + 6}};
  for (size_t i = 1; i < subs.size(); ++i) {
    control::FastPathEntry e = entry(i == 2 || i == 6 ? 3000 : 0, i == 1 || i == 6);
    e.local_session_id = subs[i].id;
    e.peer_session_id = static_cast<uint16_t>(0x3000 + i);
    e.subscriber_addr = subs[i].addr;
    e.owner_worker = i == 3 ? 1 : 0;
    if (subs[i].id == 0x0808) {
      // A peer address that puts the template's IPv4 header sum at 0xFFF0:
      // with the length added, the checksum's sum carries out of 16 bits.
      e.peer.addr = 0;
      Session probe;
      ASSERT_TRUE(build_session(e, probe));
      uint32_t folded = probe.ip_sum_without_length;
      while (folded > 0xFFFF) folded = (folded & 0xFFFF) + (folded >> 16);
      ASSERT_LE(folded, 0xFFF0u);
      e.peer.addr = (0xFFF0u - folded) << 16;
    }
    ASSERT_TRUE(table_->publish(e));
  }
  std::vector<Bytes> bases;
  for (const Sub& sub : subs) bases.push_back(to_host(inner_ipv4(kInternetHost, sub.addr, 64, 30)));
  // A SYN with MSS 1460: clamped to the session's limit.
  bases.push_back(
      to_host(cat(ipv4_header(kInternetHost, kSubscriber, 6, 64, 44, 0x3344, 0x4000), tcp_syn_mss_1460())));

  // The general path alone, on a copy, with its own session states.
  std::map<uint16_t, SessionState> ref_state;
  WorkerCounters ref;
  auto reference = [&](const Frame& f, std::vector<Bytes>& sent, std::vector<Bytes>& control) {
    const std::unique_ptr<rte_mbuf, void (*)(rte_mbuf*)> m(mbuf_of(f), [](rte_mbuf* b) { rte_pktmbuf_free(b); });
    ASSERT_NE(m, nullptr);
    DownstreamPacket d;
    Drop why = Drop::kCount;
    const Verdict v = classify_downstream(m.get(), d, why);
    if (v == Verdict::kControl) return control.push_back(f.bytes);
    if (v == Verdict::kDrop) return ref.count(why);
    ASSERT_EQ(v, Verdict::kFast);
    const Session* s = table_->lookup_subscriber(d.dst);
    if (s == nullptr) return ref.count(Drop::kNoSubscriber);
    ref.mss_clamped += mss_clamp_ipv4(rte_pktmbuf_mtod_offset(m.get(), uint8_t*, d.l2_len),
                                      rte_pktmbuf_data_len(m.get()) - d.l2_len, s->mss_max);
    ASSERT_LE(d.ip_len, s->mtu) << "frames this short never take the MTU path";
    if (!encap_ipv4(m.get(), d, *s, ref_state[s->local_session_id], 0, why)) return ref.count(why);
    ++ref.encap;
    sent.push_back(from_mbuf(m.get()));
  };

  std::mt19937 rng(20261127);
  // Mostly the Ethernet type and the IPv4 header, sometimes anywhere.
  static constexpr uint8_t kEdge[] = {0x00, 0x01, 0x02, 0x45, 0x46, 0x44, 0x55, 0x08, 0x81, 0x06, 0xff};
  auto mutate = [&](const Frame& f) { return WorkerTest::mutate(f, rng, 22, kEdge); };

  Worker w(config());
  w.attach();
  unsigned shortcut_candidates = 0;
  for (unsigned round = 0; round < 200; ++round) {
    const std::vector<Frame> burst = mixed_burst(bases, mutate, rng);
    std::vector<Bytes> want_sent, want_control;
    for (const Frame& f : burst) {
      reference(f, want_sent, want_control);
      rte_mbuf* m = mbuf_of(f);
      ASSERT_NE(m, nullptr);
      rte_be32_t dst;
      shortcut_candidates += downstream_shape(m, dst) != 0;
      m->port = core_.id();
      ASSERT_EQ(rte_ring_enqueue(core_.rx, m), 0);
    }
    ASSERT_EQ(w.poll(), kBurst);
    w.flush();
    const std::vector<Bytes> sent = take(access_.tx);
    // Both paths fill the outer header alike (fill_outer_lengths()): its
    // checksum is checked on its own too.
    for (const Bytes& f : sent) {
      const size_t ip_at = f[12] == 0x81 && f[13] == 0x00 ? 18 : 14;
      ASSERT_EQ(full_checksum(f.data() + ip_at, 20), 0) << "round " << round;
    }
    ASSERT_EQ(sent, want_sent) << "round " << round;
    ASSERT_EQ(take(rings_.to_control), want_control) << "round " << round;
  }
  w.detach();

  const WorkerCounters& c = w.counters();
  uint16_t id_unused = 0;
  EXPECT_EQ(c.encap, ref.encap);
  EXPECT_EQ(c.mss_clamped, ref.mss_clamped);
  EXPECT_GT(c.mss_clamped, 0u);
  for (size_t d = 0; d < kDropCount; ++d)
    EXPECT_EQ(c.drops[d], ref.drops[d]) << "drop reason " << d;
  for (const Sub& sub : subs) {
    EXPECT_EQ(table_->state(sub.id).next_ns, ref_state[sub.id].next_ns) << sub.id;
    EXPECT_EQ(table_->state(sub.id).tx_packets, ref_state[sub.id].tx_packets) << sub.id;
    EXPECT_EQ(table_->state(sub.id).tx_bytes, ref_state[sub.id].tx_bytes) << sub.id;
  }
  // Every path was taken, many times: the shortcut for compact and other
  // sessions, the general path's encapsulations (the shared low 16 bits)
  // and drops.
  EXPECT_GT(shortcut_candidates, 1000u);
  EXPECT_TRUE(table_->by_session_id(0xb7e1)->compact());
  EXPECT_TRUE(table_->by_session_id(0x0202)->compact());
  EXPECT_TRUE(table_->by_session_id(0x0303)->compact());
  EXPECT_TRUE(table_->by_session_id(0x0808)->compact());
  EXPECT_GT(ref_state[0x0808].tx_packets, 100u);
  EXPECT_FALSE(table_->by_session_id(0x0707)->compact());
  EXPECT_GT(ref_state[0x0707].next_ns, 100u);
  EXPECT_GT(ref_state[0xb7e1].tx_packets, 100u);
  EXPECT_GT(ref_state[0x0303].tx_packets, 100u);
  uint64_t shared_line[RTE_CACHE_LINE_SIZE / 8];
  ASSERT_TRUE(read_direct_line(table_->direct_line(rte_cpu_to_be_32(kSubscriber + 4)), shared_line));
  EXPECT_EQ(SessionTable::direct_session(shared_line[kDirectLineEntry], id_unused), nullptr) << "the hash decides";
  EXPECT_GT(ref_state[0x0505].tx_packets, 100u);
  EXPECT_GT(ref_state[0x0606].tx_packets, 100u);
  EXPECT_GT(ref_state[0x0202].next_ns, 100u);
  EXPECT_GT(c.dropped(Drop::kTtlExceeded), 0u);
  EXPECT_GT(c.dropped(Drop::kNotOwner), 0u);
  EXPECT_GT(c.dropped(Drop::kNoHeadroom), 0u);
  EXPECT_GT(c.dropped(Drop::kIpv4Header), 0u);
}

// The upstream shortcut (upstream_shape(), then decap_shaped() for the
// frames it passes) against classify_upstream() and decap_ipv4() alone on
// a copy: the same frames out of the core port, the same punts, counters
// and session states, over bursts of the common frames and of frames
// changed near their headers, with the core port untagged and tagged.
TEST_F(WorkerTest, UpstreamShortcutSendsWhatTheGeneralPathWould) {
  control::FastPathEntry other_owner = entry();
  other_owner.local_session_id = 0x0202;
  other_owner.subscriber_addr = kSubscriber + 1;
  other_owner.owner_worker = 1;
  ASSERT_TRUE(table_->publish(other_owner));
  control::FastPathEntry lac = entry();
  lac.local_session_id = 0x0303;
  lac.subscriber_addr = kSubscriber + 2;
  lac.follows_peer_sequencing = true;
  ASSERT_TRUE(table_->publish(lac));
  control::FastPathEntry not_yet = entry();
  not_yet.local_session_id = 0x0404;
  not_yet.subscriber_addr = 0;  // PPP still all the control thread's
  ASSERT_TRUE(table_->publish(not_yet));

  const Bytes udp_payload(18, 0x5a);
  auto ip_from = [&](uint32_t src, uint8_t ttl = 64) {
    return cat(ipv4_header(src, kInternetHost, 17, ttl, 38, 0x1234, 0), cat(udp_header(5000, 53, 10), Bytes(10, 7)));
  };
  Bytes with_options = ip_from(kSubscriber);
  with_options[0] = 0x46;  // IHL 6: the general path's
  with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});
  L2tpOptions with_length;
  with_length.length = true;
  const std::vector<Bytes> bases{
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber))),
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, with_length, 0x0021, ip_from(kSubscriber))),
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, cat(ip_from(kSubscriber), Bytes(6, 0)))),  // PPP padding
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021,
                        cat(ipv4_header(kSubscriber, kInternetHost, 6, 64, 44, 0x3344, 0x4000), tcp_syn_mss_1460()))),
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber + 9))),  // spoofed
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber, 1))),
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, with_options)),
      upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0xc021, Bytes{9, 1, 0, 8, 0, 0, 0, 0})),  // LCP echo
      upstream(l2tp_ppp(0x4d2a, 0x0202, {}, 0x0021, ip_from(kSubscriber + 1))),
      upstream(l2tp_ppp(0x4d2a, 0x0303, {}, 0x0021, ip_from(kSubscriber + 2))),
      upstream(l2tp_ppp(0x4d2a, 0x0404, {}, 0x0021, ip_from(kSubscriber + 3))),
  };

  std::mt19937 rng(20261128);
  // Mostly the outer headers, L2TP, PPP and the inner IPv4 header; chains
  // split within the headers or after the inner one (74 octets).
  static constexpr uint8_t kEdge[] = {0x00, 0x01, 0x02, 0x45, 0x46, 0x40, 0x44, 0x08, 0x06, 0x11, 0x21, 0xff};
  auto mutate = [&](const Frame& f) { return WorkerTest::mutate(f, rng, 62, kEdge, true, 74); };

  for (const uint16_t vlan : {uint16_t{0}, uint16_t{100}}) {
    SCOPED_TRACE(vlan);
    // The general path alone, on a copy, with its own session states.
    // Sequenced data and fragments are left out: the reorder buffer and
    // reassembly hold them, which this reference does not.
    CoreNextHop hop = hop_;
    hop.vlan = vlan;
    std::map<uint16_t, SessionState> ref_state;
    WorkerCounters ref;
    auto reference = [&](const Frame& f, std::vector<Bytes>& sent, std::vector<Bytes>& control) {
      const std::unique_ptr<rte_mbuf, void (*)(rte_mbuf*)> m(mbuf_of(f), [](rte_mbuf* b) { rte_pktmbuf_free(b); });
      if (m == nullptr) return false;
      UpstreamPacket up;
      Drop why = Drop::kCount;
      const Verdict v = classify_upstream(m.get(), *table_, 0, up, why);
      if (up.sequenced || (v == Verdict::kDrop && why == Drop::kIpv4Fragment)) return false;
      if (v == Verdict::kControl) return control.push_back(f.bytes), true;
      if (v == Verdict::kDrop) return ref.count(why), true;
      if (v == Verdict::kHandoff) return ref.count(Drop::kNotOwner), true;
      if (!decap_ipv4(m.get(), up, CoreL2Header(hop), ref_state[up.session->local_session_id], why)) return ref.count(why), true;
      ++ref.decap;
      ref.mss_clamped += mss_clamp_ipv4(rte_pktmbuf_mtod_offset(m.get(), uint8_t*, m->l2_len),
                                        rte_pktmbuf_data_len(m.get()) - m->l2_len, up.session->mss_max);
      sent.push_back(from_mbuf(m.get()));
      return true;
    };

    WorkerConfig c = config();
    c.core_hop = hop;
    c.reassembly.enabled = false;
    const PuntLimit open{1000000000, 1000000};  // nothing policed: every punt reaches the ring
    c.police = PuntPolicy{open, open, open, open, open, open, open, open};
    Worker w(c);
    w.attach();
    unsigned shaped = 0;
    for (unsigned round = 0; round < 200; ++round) {
      const std::vector<Frame> burst = mixed_burst(bases, mutate, rng);
      std::vector<Bytes> want_sent, want_control;
      unsigned n = 0;
      for (const Frame& f : burst) {
        if (!reference(f, want_sent, want_control)) continue;
        rte_mbuf* m = mbuf_of(f);
        ASSERT_NE(m, nullptr);
        UpstreamShape sh;
        shaped += upstream_shape(m, sh);
        m->port = access_.id();
        ASSERT_EQ(rte_ring_enqueue(access_.rx, m), 0);
        ++n;
      }
      ASSERT_EQ(w.poll(), n);
      w.flush();
      std::vector<Bytes> sent;
      for (void* m; rte_ring_dequeue(core_.tx, &m) == 0;) {
        const char* why = nullptr;
        EXPECT_EQ(rte_mbuf_check(static_cast<rte_mbuf*>(m), 1, &why), 0) << why;
        sent.push_back(from_mbuf(static_cast<rte_mbuf*>(m)));
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
      ASSERT_EQ(sent, want_sent) << "round " << round;
      // The policer sorts punts onto two rings (LCP on the high one).
      std::vector<Bytes> punted = take(rings_.to_control);
      for (Bytes& b : take(rings_.to_control_high)) punted.push_back(std::move(b));
      std::sort(punted.begin(), punted.end());
      std::sort(want_control.begin(), want_control.end());
      ASSERT_EQ(punted, want_control) << "round " << round;
    }
    w.detach();
    free_control_rings(rings_);

    const WorkerCounters& k = w.counters();
    EXPECT_EQ(k.decap, ref.decap);
    EXPECT_EQ(k.mss_clamped, ref.mss_clamped);
    EXPECT_GT(k.mss_clamped, 0u);
    for (size_t d = 0; d < kDropCount; ++d) EXPECT_EQ(k.drops[d], ref.drops[d]) << "drop reason " << d;
    for (const uint16_t id : {uint16_t{0xb7e1}, uint16_t{0x0303}}) {
      EXPECT_EQ(table_->state(id).rx_packets, ref_state[id].rx_packets) << id;
      EXPECT_EQ(table_->state(id).rx_bytes, ref_state[id].rx_bytes) << id;
      table_->state(id) = SessionState{};
    }
    // Every path was taken, many times.
    EXPECT_GT(shaped, 3000u);
    EXPECT_GT(ref_state[0xb7e1].rx_packets, 1000u);
    EXPECT_GT(ref_state[0x0303].rx_packets, 100u);
    EXPECT_GT(k.dropped(Drop::kSpoofedSource), 100u);
    EXPECT_GT(k.dropped(Drop::kTtlExceeded), 100u);
    EXPECT_GT(k.dropped(Drop::kNotOwner), 100u);
    EXPECT_GT(k.dropped(Drop::kInnerIpv4Header), 0u);
    EXPECT_GT(k.dropped(Drop::kUnknownSession), 0u);
  }
}

// The worker encapsulates from the subscriber's line when its count is
// even and its head names the subscriber and this worker, and from the
// Session otherwise. A mark put in the line's template (as no writer
// would) shows which: the outer IPv4 ID.
TEST_F(WorkerTest, EncapTakesTheLineOnlyWhenItsCountIsEvenAndItsHeadIsTheSubscribersAndOurs) {
  auto& l = const_cast<DirectLine&>(table_->direct_line(rte_cpu_to_be_32(kSubscriber)));
  const uint64_t w0 = l.w[0];
  const DirectHead h = direct_head(w0);
  ASSERT_NE(h.shape, 0) << "the plain session is compact";
  auto* bytes = reinterpret_cast<uint8_t*>(l.w);
  const size_t id_at = direct_line_ip_at(h) + 4;  // the outer IPv4 ID
  const uint16_t unmarked = static_cast<uint16_t>(bytes[id_at] << 8 | bytes[id_at + 1]);
  bytes[id_at] = 0x5a;
  bytes[id_at + 1] = 0xa5;
  auto outer_id = [&](uint64_t head) {
    __atomic_store_n(&l.w[0], head, __ATOMIC_RELEASE);
    WorkerConfig c = config();
    Worker w(c);
    inject(core_.rx, {to_host(inner_ipv4(kInternetHost, kSubscriber, 64))});
    w.attach();
    w.poll();
    w.flush();
    w.detach();
    free_control_rings(rings_);
    const std::vector<Bytes> sent = take(access_.tx);
    if (sent.size() != 1) return -1;
    const size_t at = RTE_ETHER_HDR_LEN + 4;
    return sent[0][at] << 8 | sent[0][at + 1];
  };
  EXPECT_EQ(outer_id(w0), 0x5aa5) << "the line";
  EXPECT_EQ(outer_id(w0 | 1), unmarked) << "being rewritten: the Session";
  // A head for another subscriber's high octets, or for another owner:
  // not the line (the general path finds the session by the hash).
  EXPECT_EQ(outer_id(w0 ^ (uint64_t{0x0100} << 32)), unmarked);
  EXPECT_EQ(outer_id(w0 ^ (uint64_t{1} << 48)), unmarked);
  bytes[id_at] = static_cast<uint8_t>(unmarked >> 8);
  bytes[id_at + 1] = static_cast<uint8_t>(unmarked);
  __atomic_store_n(&l.w[0], w0, __ATOMIC_RELEASE);
}

// A line that changed between the worker's first look and its read: the
// frame is left exactly as it came (nothing is stored before the read is
// known whole), nothing is counted, and the general path gets it.
TEST_F(WorkerTest, EncapFromALineThatChangedLeavesTheFrameAsItWas) {
  const Bytes frame = to_host(inner_ipv4(kInternetHost, kSubscriber, 64, 30));
  rte_mbuf* m = to_mbuf(frame);
  ASSERT_NE(m, nullptr);
  const DirectLine& l = table_->direct_line(rte_cpu_to_be_32(kSubscriber));
  const uint64_t w0 = __atomic_load_n(&l.w[0], __ATOMIC_ACQUIRE);
  const DirectHead h = direct_head(w0);
  ASSERT_NE(h.shape, 0) << "the plain session is compact";
  SessionState state;
  uint64_t clamped = 0;
  const uint64_t stale = w0 - 2;  // what the line began with one rewrite ago
  EXPECT_FALSE(encap_from_line(m, static_cast<uint16_t>(frame.size() - 14), l, stale, h, state, clamped));
  EXPECT_EQ(from_mbuf(m), frame);
  EXPECT_EQ(state.tx_packets, 0u);
  EXPECT_TRUE(encap_from_line(m, static_cast<uint16_t>(frame.size() - 14), l, w0, h, state, clamped));
  EXPECT_EQ(state.tx_packets, 1u);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), h.template_len() + frame.size() - 14);
  rte_pktmbuf_free(m);

  // Above the MTU the line carries: left as it was too (the general path
  // answers it).
  const uint16_t mtu = table_->by_session_id(0xb7e1)->mtu;
  const Bytes big = to_host(inner_ipv4(kInternetHost, kSubscriber, 64, static_cast<uint16_t>(mtu - 28 + 1)));
  m = to_mbuf(big);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(encap_from_line(m, static_cast<uint16_t>(big.size() - 14), l, w0, h, state, clamped));
  EXPECT_EQ(from_mbuf(m), big);
  EXPECT_EQ(state.tx_packets, 1u);
  rte_pktmbuf_free(m);
}

TEST_F(WorkerTest, FullControlRingIsACountedDropAndFreesTheMbufs) {
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  {
    Worker w(config(4));  // a ring of 4 holds 3
    std::vector<Bytes> lcp(5, data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4}));
    inject(access_.rx, lcp);
    w.attach();
    w.poll();
    w.detach();
    EXPECT_EQ(w.counters().to_control, 3u);
    EXPECT_EQ(w.counters().dropped(Drop::kControlRingFull), 2u);
    EXPECT_EQ(take(rings_.to_control_high).size(), 3u);
  }
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

TEST_F(WorkerTest, PacketsWaitInTheTxBufferUntilTheDeadlineOrAFlush) {
  WorkerConfig c = config();
  c.drain_us = 60u * 1000 * 1000;  // far beyond this test
  Worker w(c);
  inject(access_.rx, {data(0x0021, inner_ipv4(kSubscriber, kInternetHost, 64))});
  w.attach();
  w.poll();
  EXPECT_TRUE(take(core_.tx).empty()) << "a lone packet is buffered, not sent at once";
  w.flush();
  EXPECT_EQ(take(core_.tx).size(), 1u);
  w.detach();
}

TEST_F(WorkerTest, RunningWorkerFlushesWhenIdleLetsGracePeriodsEndAndStops) {
  WorkerConfig c = config();
  c.drain_us = 60u * 1000 * 1000;  // only the idle back-off can send it
  c.idle_polls = 4;
  c.idle_sleep_us = 10;
  Worker w(c);
  std::atomic<bool> stop{false};
  std::thread t([&] { w.run(stop); });
  inject(access_.rx, {data(0x0021, inner_ipv4(kSubscriber, kInternetHost, 64))});
  // Waits for an event, not for a time: the bound only stops a broken loop.
  std::vector<Bytes> sent;
  for (int i = 0; i < 100000 && sent.empty(); ++i) {
    sent = take(core_.tx);
    if (sent.empty()) std::this_thread::yield();
  }
  EXPECT_EQ(sent.size(), 1u) << "an idle worker sends what it buffered";
  // The worker is online: a withdraw's grace period ends only because it
  // reports quiescent states (synchronize would wait forever otherwise,
  // and the test's timeout would catch it).
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  table_->synchronize();
  EXPECT_EQ(table_->reclaim(), 0u);
  stop = true;
  t.join();
  EXPECT_EQ(w.counters().decap, 1u);
}

TEST_F(WorkerTest, ChurningSessionsUnderTrafficFreesNothingEarlyAndLosesNoMbuf) {
  // A running worker forwards both ways while this thread withdraws and
  // republishes sessions under it. RCU must keep every Session the worker
  // holds alive until its next quiescent state (ASan would catch a use
  // after free in the sanitizer build), and every mbuf must come back.
  constexpr unsigned kSessions = 64, kRounds = 400, kPerRound = 16;
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  for (unsigned i = 0; i < kSessions; ++i) ASSERT_TRUE(table_->publish(session_entry(i)));
  WorkerConfig c = config(1024);
  c.idle_sleep = false;
  Worker w(c);
  table_->synchronize();
  const unsigned baseline = rte_mempool_avail_count(test_pool());

  std::atomic<bool> stop{false};
  std::thread t([&] { w.run(stop); });
  std::mt19937 rng(7);
  std::vector<bool> published(kSessions, true);
  uint64_t injected = 0;
  auto drain = [&] {
    for (rte_ring* r : {access_.tx, core_.tx, rings_.to_control, rings_.to_control_high}) {
      void* m;
      while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    }
  };
  for (unsigned round = 0; round < kRounds; ++round) {
    std::vector<Bytes> up, down;
    for (unsigned k = 0; k < kPerRound; ++k) {
      const unsigned i = rng() % kSessions;
      up.push_back(data(0x0021, inner_ipv4(kSubscriber + 1 + i, kInternetHost, 64), static_cast<uint16_t>(0x1000 + i)));
      down.push_back(to_host(inner_ipv4(kInternetHost, kSubscriber + 1 + (rng() % kSessions), 64)));
    }
    inject(access_.rx, up);
    inject(core_.rx, down);
    injected += 2 * kPerRound;
    // Churn while those are in flight.
    for (unsigned k = 0; k < 4; ++k) {
      const unsigned i = rng() % kSessions;
      if (published[i]) {
        ASSERT_TRUE(table_->withdraw(static_cast<uint16_t>(0x1000 + i)));
      } else {
        ASSERT_TRUE(table_->publish(session_entry(i)));
      }
      published[i] = !published[i];
    }
    table_->reclaim();
    // Wait for the worker to take this round in (an event, not a time: the
    // bound only stops a broken loop).
    for (int spin = 0; spin < 1000000 && (rte_ring_count(access_.rx) || rte_ring_count(core_.rx)); ++spin)
      std::this_thread::yield();
    drain();
  }
  stop = true;
  t.join();
  w.flush();
  drain();
  table_->synchronize();
  EXPECT_EQ(table_->reclaim(), 0u);

  const WorkerCounters& wc = w.counters();
  EXPECT_EQ(wc.rx_access + wc.rx_core, injected);
  // Every packet ended one way: forwarded, punted or a counted drop.
  EXPECT_EQ(wc.decap + wc.encap + wc.to_control + wc.dropped_total(), injected);
  EXPECT_GT(wc.decap, 0u);
  EXPECT_GT(wc.encap, 0u);
  EXPECT_GT(wc.dropped(Drop::kUnknownSession) + wc.dropped(Drop::kNoSubscriber), 0u);
  EXPECT_EQ(rte_mempool_avail_count(test_pool()), baseline);
}

// Outer IPv4 reassembly in the worker (dataplane/reassembly.hpp): on ring
// ports, since net_af_packet lets the kernel reassemble before we see it.
class WorkerReassemblyTest : public WorkerTest {
 protected:
  void SetUp() override {
    WorkerTest::SetUp();
    baseline_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), baseline_) << "an mbuf was lost";
    WorkerTest::TearDown();
  }
  static Bytes outer(const Bytes& l2tp, uint16_t ip_id) { return upstream(l2tp, 0, ip_id); }
  static void poll_once(Worker& w) {
    w.attach();
    w.poll();
    w.flush();
    w.detach();
  }
  Bytes routed(const Bytes& ip) { return cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(ip)); }
  unsigned baseline_ = 0;
};

TEST_F(WorkerReassemblyTest, DataInTwoOrThreeOuterFragmentsInAnyOrderIsDecapsulatedWhole) {
  Worker w(config());
  uint16_t ip_id = 0x3000;
  unsigned expected_fragments = 0;
  // Two pieces, and three with a first fragment that holds only the UDP
  // header (the L2TP header then starts in the second).
  for (const std::vector<size_t>& cuts : {std::vector<size_t>{496}, std::vector<size_t>{8, 504}}) {
    for (bool reversed : {false, true}) {
      const Bytes inner = inner_ipv4(kSubscriber, kInternetHost, 64, static_cast<uint16_t>(900 + ip_id % 16));
      std::vector<Bytes> parts = fragments(outer(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner), ip_id++), cuts);
      expected_fragments += static_cast<unsigned>(parts.size());
      if (reversed) {
        // One fragment per poll: the datagram waits across bursts.
        for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
          EXPECT_TRUE(take(core_.tx).empty());
          inject(access_.rx, {*it});
          poll_once(w);
        }
      } else {
        inject(access_.rx, parts);
        poll_once(w);
      }
      EXPECT_EQ(take(core_.tx), std::vector<Bytes>{routed(inner)}) << cuts.size() + 1 << " pieces, reversed " << reversed;
    }
  }
  const WorkerCounters& c = w.counters();
  EXPECT_EQ(c.rx_access, expected_fragments);
  EXPECT_EQ(c.outer_fragments, expected_fragments);
  EXPECT_EQ(c.reassembled, 4u);
  EXPECT_EQ(c.decap, 4u);
  EXPECT_EQ(c.dropped_total(), 0u);
  EXPECT_EQ(table_->state(0xb7e1).rx_packets, 4u);
}

TEST_F(WorkerReassemblyTest, ControlMessageInOuterFragmentsReachesTheControlRingWhole) {
  Worker w(config());
  // SCCRQ-sized control message: T, L, S, version 2; AVPs as opaque bytes.
  Bytes l2tp;
  put16(l2tp, 0xC802);
  put16(l2tp, 12 + 300);
  put16(l2tp, 0);  // tunnel 0: an SCCRQ
  put16(l2tp, 0);
  put16(l2tp, 0);  // Ns
  put16(l2tp, 0);  // Nr
  for (unsigned i = 0; i < 300; ++i) l2tp.push_back(static_cast<uint8_t>(i * 13 + 5));
  const Bytes frame = outer(l2tp, 0x4242);
  std::vector<Bytes> parts = fragments(frame, {104, 208});
  ASSERT_EQ(parts.size(), 3u);
  inject(access_.rx, {parts[1], parts[2], parts[0]});
  poll_once(w);
  const std::vector<Bytes> punted = take(rings_.to_control);
  ASSERT_EQ(punted.size(), 1u);
  // The whole frame as if it had never been cut, so its L2TP message too.
  EXPECT_EQ(punted[0], frame);
  EXPECT_EQ(Bytes(punted[0].end() - static_cast<std::ptrdiff_t>(l2tp.size()), punted[0].end()), l2tp);
  EXPECT_EQ(w.counters().to_control, 1u);
  EXPECT_EQ(w.counters().reassembled, 1u);
  EXPECT_EQ(w.counters().dropped_total(), 0u);
}

TEST_F(WorkerReassemblyTest, LoneFragmentIsGivenUpAfterTheTimeoutAndCounted) {
  WorkerConfig c = config();
  c.reassembly.flows = 1;  // the next datagram needs the lone one's room
  c.reassembly.timeout_ms = 1;
  Worker w(c);
  const Bytes inner = inner_ipv4(kSubscriber, kInternetHost, 64, 900);
  const std::vector<Bytes> lone = fragments(outer(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner), 0x51), {496});
  const std::vector<Bytes> next = fragments(outer(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner), 0x52), {496});
  inject(access_.rx, {lone[0]});
  poll_once(w);
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), baseline_ + 1) << "the fragment is held";
  // Past the timeout by the TSC the worker reads (a bound on a counter,
  // not a wall-clock assertion).
  const uint64_t until = rte_rdtsc() + 2 * ((rte_get_tsc_hz() + 999) / 1000);
  while (rte_rdtsc() < until) rte_pause();
  inject(access_.rx, next);
  poll_once(w);
  EXPECT_EQ(take(core_.tx), std::vector<Bytes>{routed(inner)});
  EXPECT_EQ(w.counters().dropped(Drop::kReassembly), 1u);
  EXPECT_EQ(w.counters().dropped_total(), 1u);
  EXPECT_EQ(w.counters().outer_fragments, 3u);
  EXPECT_EQ(w.counters().reassembled, 1u);
  // Freed, not merely forgotten: the worker holds no mbuf now.
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), baseline_);
}

TEST_F(WorkerReassemblyTest, HeldFragmentsAreFreedWithTheWorker) {
  {
    Worker w(config());
    inject(access_.rx, {fragments(outer(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner_ipv4(kSubscriber, kInternetHost, 64, 900)), 0x61), {496})[1]});
    poll_once(w);
    EXPECT_EQ(w.counters().outer_fragments, 1u);
  }
  // TearDown: back to the baseline.
}

TEST_F(WorkerReassemblyTest, ReassemblyOffLeavesFragmentsCountedDrops) {
  WorkerConfig c = config();
  c.reassembly.enabled = false;
  Worker w(c);
  inject(access_.rx, fragments(outer(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner_ipv4(kSubscriber, kInternetHost, 64, 900)), 0x71), {496}));
  poll_once(w);
  EXPECT_TRUE(take(core_.tx).empty());
  EXPECT_EQ(w.counters().dropped(Drop::kIpv4Fragment), 2u);
  EXPECT_EQ(w.counters().dropped_total(), 2u);
  EXPECT_EQ(w.counters().outer_fragments, 0u);
}

TEST_F(WorkerTest, SccrqBurstAboveThePeersBucketIsPolicedExactlyWhileItsTunnelsControlPasses) {
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  {
    WorkerConfig c = config(1024);
    c.police.sccrq = {1, 5};             // 5 at once, then one a second
    c.police.sccrq_worker = {1000, 1000};  // not the limit here
    Worker w(c);
    const Bytes lcp = data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4});
    std::vector<Bytes> in, high;
    for (uint16_t i = 0; i < 20; ++i) {
      in.push_back(sccrq());
      if (i % 5 == 4) {
        in.push_back(hello(kLacAddr, i));
        in.push_back(lcp);
        high.push_back(hello(kLacAddr, i));
        high.push_back(lcp);
      }
    }
    ASSERT_LE(in.size(), kBurst);  // one burst: one TSC reading, no refill
    inject(access_.rx, in);
    w.attach();
    w.poll();
    w.detach();
    EXPECT_EQ(take(rings_.to_control_high), high) << "the tunnel's control and LCP, in order, on the high ring";
    EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>(5, sccrq()));
    const WorkerCounters& wc = w.counters();
    EXPECT_EQ(wc.dropped(Drop::kPolicedSccrq), 15u);
    EXPECT_EQ(wc.dropped(Drop::kPolicedSccrqWorker), 0u);
    EXPECT_EQ(wc.dropped(Drop::kPolicedControl), 0u);
    EXPECT_EQ(wc.to_control, 5u + high.size());
    EXPECT_EQ(wc.dropped_total(), 15u);
    expect_accounted(wc);
  }
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use) << "policed mbufs are freed";
}

TEST_F(WorkerTest, SpoofedSccrqsAreCappedPerWorkerAndAnEstablishedPeersHelloStillPasses) {
  WorkerConfig c = config(1024);
  c.police.sccrq = {50, 16};
  c.police.sccrq_worker = {1, 10};
  Worker w(c);
  std::vector<Bytes> in;
  for (uint32_t i = 0; i < 30; ++i) in.push_back(sccrq(ipv4(203, 0, 113, 1) + i));  // 30 sources
  in.push_back(hello());
  inject(access_.rx, in);
  w.attach();
  w.poll();
  w.detach();
  EXPECT_EQ(take(rings_.to_control).size(), 10u);
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{hello()});
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedSccrqWorker), 20u);
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedSccrq), 0u);
  expect_accounted(w.counters());
}

TEST_F(WorkerTest, SpoofedControlAndOtherTrafficIsCappedPerWorker) {
  WorkerConfig c = config(1024);
  c.police.control_worker = {1, 6};
  c.police.other_worker = {1, 4};
  c.access_addr = rte_cpu_to_be_32(kOurAddr);  // pings of it go up
  Worker w(c);
  std::vector<Bytes> in;
  // Control of ten live tunnels and pings of our address, each from a
  // source of its own: every peer bucket has room, the worker's not.
  for (uint32_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(tunnels_.publish(static_cast<uint16_t>(0x100 + i), rte_cpu_to_be_32(ipv4(203, 0, 113, 1) + i)));
    in.push_back(control_message(static_cast<uint16_t>(0x100 + i), 6, ipv4(203, 0, 113, 1) + i));
  }
  for (uint32_t i = 0; i < 10; ++i) {
    Bytes ping = cat(ethernet(kOurAccessMac, kLacMac, 0, 0x0800), ipv4_header(ipv4(203, 0, 114, 1) + i, kOurAddr, 1, 64, 28));
    append(ping, Bytes{8, 0, 0xf7, 0xff, 0, 0, 0, 0});  // ICMP echo request
    in.push_back(ping);
  }
  inject(access_.rx, in);
  w.attach();
  w.poll();
  w.detach();
  EXPECT_EQ(take(rings_.to_control_high).size(), 6u);
  EXPECT_EQ(take(rings_.to_control).size(), 4u);
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedControlWorker), 4u);
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedOtherWorker), 6u);
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedControl) + w.counters().dropped(Drop::kPolicedOther), 0u);
  expect_accounted(w.counters());
}

TEST_F(WorkerTest, ControlAndOtherClassesArePolicedPerPeer) {
  constexpr uint32_t kOtherLac = ipv4(198, 51, 100, 99);
  WorkerConfig c = config(1024);
  c.police.control = {1, 4};
  c.police.other = {1, 3};
  Worker w(c);
  ASSERT_TRUE(tunnels_.publish(0x4d2b, rte_cpu_to_be_32(kOtherLac)));
  auto other_hello = [](uint16_t ns) { return control_message(0x4d2b, 6, kOtherLac, ns); };
  const Bytes ipcp = data(0x8021, {0x01, 0x01, 0x00, 0x04});
  std::vector<Bytes> in;
  for (uint16_t i = 0; i < 8; ++i) in.push_back(hello(kLacAddr, i));
  for (uint16_t i = 0; i < 3; ++i) in.push_back(other_hello(i));
  for (uint16_t i = 0; i < 5; ++i) in.push_back(ipcp);
  inject(access_.rx, in);
  w.attach();
  w.poll();
  w.detach();
  EXPECT_EQ(take(rings_.to_control_high),
            (std::vector<Bytes>{hello(kLacAddr, 0), hello(kLacAddr, 1), hello(kLacAddr, 2), hello(kLacAddr, 3),
                                other_hello(0), other_hello(1), other_hello(2)}))
      << "the other peer has a bucket of its own";
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>(3, ipcp));
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedControl), 4u);
  EXPECT_EQ(w.counters().dropped(Drop::kPolicedOther), 2u);
  expect_accounted(w.counters());
}

TEST_F(WorkerTest, SpoofedControlForTunnelsNotLiveIsPolicedAsStrayWhileTheTunnelsHellosPass) {
  constexpr uint32_t kSpoofer = ipv4(203, 0, 113, 200);
  WorkerConfig c = config(1024);
  c.police.control_worker = {1, 4};  // room for the tunnel's 4 Hellos and nothing else
  c.police.stray = {1, 2};
  c.police.stray_worker = {1, 10};
  Worker w(c);
  std::vector<Bytes> in, stray_up, hellos;
  // The live tunnel's ID from another source: stray, its peer bucket holds 2.
  for (uint16_t i = 0; i < 3; ++i) in.push_back(hello(kSpoofer, i));
  stray_up = {hello(kSpoofer, 0), hello(kSpoofer, 1)};
  // Random tunnel IDs from random sources, the tunnel's Hellos among them:
  // the stray cap takes 8 more, the Hellos go through the control class.
  for (uint32_t i = 0; i < 20; ++i) {
    const Bytes m = control_message(static_cast<uint16_t>(0x100 + i * 7), 6, ipv4(198, 18, 0, 1) + i);
    in.push_back(m);
    if (stray_up.size() < 10) stray_up.push_back(m);
    if (i % 5 == 4) {
      in.push_back(hello(kLacAddr, static_cast<uint16_t>(i)));
      hellos.push_back(in.back());
    }
  }
  ASSERT_LE(in.size(), kBurst);  // one burst: one TSC reading, no refill
  inject(access_.rx, in);
  w.attach();
  w.poll();
  w.detach();
  EXPECT_EQ(take(rings_.to_control_high), hellos) << "every Hello of the tunnel, on the high ring";
  EXPECT_EQ(take(rings_.to_control), stray_up) << "strays on the normal ring, up to the caps";
  const WorkerCounters& wc = w.counters();
  EXPECT_EQ(wc.dropped(Drop::kPolicedStray), 1u);
  EXPECT_EQ(wc.dropped(Drop::kPolicedStrayWorker), 12u);
  EXPECT_EQ(wc.dropped(Drop::kPolicedControl) + wc.dropped(Drop::kPolicedControlWorker), 0u)
      << "strays take no control tokens";
  EXPECT_EQ(wc.dropped_total(), 13u);
  expect_accounted(wc);
}

TEST_F(WorkerTest, ControlOfAWithdrawnTunnelBecomesStray) {
  Worker w(config(1024));
  w.attach();
  inject(access_.rx, {hello(kLacAddr, 1)});
  w.poll();
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{hello(kLacAddr, 1)});
  tunnels_.withdraw(0x4d2a);
  inject(access_.rx, {hello(kLacAddr, 2)});
  w.poll();
  EXPECT_TRUE(take(rings_.to_control_high).empty());
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>{hello(kLacAddr, 2)});
  // The ID reused for another peer: the old peer's control stays stray.
  ASSERT_TRUE(tunnels_.publish(0x4d2a, rte_cpu_to_be_32(ipv4(198, 51, 100, 8))));
  inject(access_.rx, {hello(kLacAddr, 3), hello(ipv4(198, 51, 100, 8), 3)});
  w.poll();
  w.detach();
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{hello(ipv4(198, 51, 100, 8), 3)});
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>{hello(kLacAddr, 3)});
  expect_accounted(w.counters());
}

TEST(TunnelTable, PublishesAndWithdrawsPeersByTunnelId) {
  TunnelTable t;
  const uint32_t a = rte_cpu_to_be_32(0xC6336407), b = rte_cpu_to_be_32(0xC6336408);
  EXPECT_EQ(t.published(), 0u);
  EXPECT_FALSE(t.matches(7, a));
  EXPECT_FALSE(t.publish(0, a)) << "tunnel ID 0 is the SCCRQ's, never a tunnel";
  EXPECT_FALSE(t.publish(7, 0));
  EXPECT_FALSE(t.matches(7, 0));
  EXPECT_TRUE(t.publish(7, a));
  EXPECT_TRUE(t.publish(65535, b));
  EXPECT_EQ(t.published(), 2u);
  EXPECT_TRUE(t.matches(7, a));
  EXPECT_FALSE(t.matches(7, b));
  EXPECT_FALSE(t.matches(8, a));
  EXPECT_TRUE(t.publish(7, b));  // replaced, still one
  EXPECT_EQ(t.published(), 2u);
  EXPECT_EQ(t.peer(7), b);
  t.withdraw(7);
  t.withdraw(7);
  t.withdraw(9);  // never published
  EXPECT_EQ(t.published(), 1u);
  EXPECT_EQ(t.peer(7), 0u);
  EXPECT_TRUE(t.matches(65535, b));
}

TEST_F(WorkerTest, PuntClassesSortArpLcpPriorityDataAndTheRest) {
  uint32_t peer = 0;
  auto cls = [&](const Bytes& frame) {
    rte_mbuf* m = to_mbuf(frame);
    EXPECT_NE(m, nullptr);
    const PuntClass k = punt_class(m, &tunnels_, peer);
    rte_pktmbuf_free(m);
    return k;
  };
  auto arp = [](uint16_t op) {
    Bytes b = ethernet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kRouterMac, 0, 0x0806);
    put16(b, 1);
    put16(b, 0x0800);
    b.push_back(6);
    b.push_back(4);
    put16(b, op);
    append(b, Bytes(6, 0x02));
    put32(b, ipv4(198, 51, 100, 254));
    append(b, Bytes(6, 0));
    put32(b, kOurAddr);
    return b;
  };
  EXPECT_EQ(cls(arp(2)), PuntClass::kControl);
  EXPECT_EQ(peer, rte_cpu_to_be_32(ipv4(198, 51, 100, 254)));
  EXPECT_EQ(cls(arp(1)), PuntClass::kOther);
  EXPECT_EQ(cls(sccrq()), PuntClass::kSccrq);
  EXPECT_EQ(peer, rte_cpu_to_be_32(kLacAddr));
  EXPECT_EQ(cls(hello()), PuntClass::kControl);
  EXPECT_EQ(cls(hello(ipv4(203, 0, 113, 9))), PuntClass::kStray) << "the tunnel is another peer's";
  EXPECT_EQ(peer, rte_cpu_to_be_32(ipv4(203, 0, 113, 9)));
  EXPECT_EQ(cls(control_message(0x4d2b, 6)), PuntClass::kStray) << "no such tunnel";
  EXPECT_EQ(cls(data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4})), PuntClass::kControl);
  EXPECT_EQ(cls(data(0x8021, {0x01, 0x01, 0x00, 0x04})), PuntClass::kOther);
  EXPECT_EQ(cls(data(0xC223, {0x01, 0x01, 0x00, 0x04})), PuntClass::kOther);  // CHAP
  L2tpOptions o;
  o.address_control = false;  // ACFC
  o.sequence = true;
  o.offset = true;
  o.offset_size = 3;
  EXPECT_EQ(cls(upstream(l2tp_ppp(0x4d2a, 0xb7e1, o, 0xC021, {0x09, 0x01, 0x00, 0x04}))), PuntClass::kControl);
  EXPECT_EQ(cls(upstream(l2tp_ppp(0x4d2a, 0xb7e1, o, 0x8021, {0x01, 0x01, 0x00, 0x04}))), PuntClass::kOther);
  Bytes priority = l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0057, {0x60});
  priority[0] |= 0x01;  // P (RFC 2661 3.1)
  EXPECT_EQ(cls(upstream(priority)), PuntClass::kControl);
  EXPECT_EQ(cls(upstream(Bytes{0xC8, 0x02})), PuntClass::kOther) << "too short to tell";
  rte_mbuf* m = to_mbuf(hello());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(punt_class(m, nullptr, peer), PuntClass::kStray) << "no table: no tunnel is live";
  rte_pktmbuf_free(m);
}

TEST_F(WorkerTest, FloodOfSccrqsUnknownSessionsAndMalformedPacketsIsCountedWhileTheSessionForwards) {
  WorkerConfig c = config(1024);
  c.police.sccrq_worker = {100, 64};
  Worker w(c);
  std::mt19937 rng(11);
  const Bytes up_ip = inner_ipv4(kSubscriber, kInternetHost, 64);
  Bytes bad_version = data(0x0021, up_ip);
  bad_version[14 + 20 + 8 + 1] = 0x03;  // L2TPv3 header on 1701
  Bytes truncated = data(0x0021, up_ip);
  truncated.resize(14 + 20 + 8 + 3);  // the IPv4 and UDP lengths say more
  constexpr unsigned kRounds = 40;
  uint64_t sccrqs = 0, unknown = 0, malformed = 0, hellos = 0, fast = 0;
  w.attach();
  for (unsigned round = 0; round < kRounds; ++round) {
    std::vector<Bytes> in;
    in.push_back(hello(kLacAddr, static_cast<uint16_t>(round)));
    ++hellos;
    for (unsigned k = 0; k < 31; ++k) {
      switch (k % 6) {
        case 0: case 1:
          in.push_back(sccrq(ipv4(10, 0, 0, 0) + (rng() & 0xFFFFFF)));
          ++sccrqs;
          break;
        case 2:
          in.push_back(data(0x0021, up_ip, static_cast<uint16_t>(0x100 + (rng() & 0xFF))));
          ++unknown;
          break;
        case 3: in.push_back(bad_version); ++malformed; break;
        case 4: in.push_back(truncated); ++malformed; break;
        case 5: in.push_back(data(0x0021, up_ip)); ++fast; break;
      }
    }
    inject(access_.rx, in);
    w.poll();
  }
  w.flush();
  w.detach();
  const WorkerCounters& wc = w.counters();
  EXPECT_EQ(wc.rx_access, kRounds * 32u);
  expect_accounted(wc);
  EXPECT_EQ(take(rings_.to_control_high).size(), hellos) << "every Hello went up";
  EXPECT_EQ(take(core_.tx).size(), fast);
  EXPECT_EQ(wc.decap, fast) << "the session kept forwarding";
  EXPECT_EQ(wc.dropped(Drop::kUnknownSession), unknown);
  EXPECT_EQ(wc.dropped(Drop::kL2tpVersion), malformed / 2);
  const uint64_t sccrqs_up = take(rings_.to_control).size();
  const uint64_t policed = wc.dropped(Drop::kPolicedSccrq) + wc.dropped(Drop::kPolicedSccrqWorker);
  EXPECT_EQ(sccrqs_up + policed, sccrqs);
  EXPECT_EQ(wc.dropped(Drop::kControlRingFull), 0u);
  EXPECT_EQ(wc.dropped_total() - policed - unknown, malformed) << "each malformed packet has its own reason";
  EXPECT_GE(sccrqs_up, 64u);
  EXPECT_LT(sccrqs_up, sccrqs) << "the worker cap held";
}

// RFC 2661 5.4 on the worker: upstream data with S set leaves in Ns order,
// whichever way classify sends it (core port or control ring).
class SequencedWorkerTest : public WorkerTest {
 protected:
  static constexpr uint16_t kLcp = 0xC021;
  // Inner packets told apart by their length.
  static Bytes ip(uint16_t n) { return inner_ipv4(kSubscriber, kInternetHost, 64, static_cast<uint16_t>(18 + n % 100)); }
  static Bytes seq(uint16_t ns, uint16_t protocol, const Bytes& info) {
    L2tpOptions o;
    o.sequence = true;
    o.ns = ns;
    o.nr = 0x5555;  // RFC 2661 5.4: Nr is ignored in data messages
    return upstream(l2tp_ppp(0x4d2a, 0xb7e1, o, protocol, info));
  }
  static Bytes seq_ip(uint16_t ns) { return seq(ns, 0x0021, ip(ns)); }
  static Bytes lcp(uint16_t ns) { return seq(ns, kLcp, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, static_cast<uint8_t>(ns)}); }
  static std::vector<Bytes> routed(std::initializer_list<uint16_t> ns) {
    std::vector<Bytes> v;
    for (uint16_t n : ns) v.push_back(cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(ip(n))));
    return v;
  }
  // A timeout far beyond the test: only a filled gap releases packets.
  WorkerConfig holding_config() {
    WorkerConfig c = config();
    c.reorder.timeout_us = 60u * 1000 * 1000;
    return c;
  }
  std::vector<Bytes> step(Worker& w, const std::vector<Bytes>& frames) {
    inject(access_.rx, frames);
    w.poll();
    w.flush();
    return take(core_.tx);
  }
};

TEST_F(SequencedWorkerTest, InOrderSequencedDataIsForwardedAtOnce) {
  Worker w(holding_config());
  w.attach();
  EXPECT_EQ(step(w, {seq_ip(0), seq_ip(1), seq_ip(2)}), routed({0, 1, 2}));
  w.detach();
  EXPECT_EQ(w.counters().decap, 3u);
  EXPECT_EQ(w.counters().reordered, 0u);
  EXPECT_EQ(w.reorder().contexts_in_use(), 0u);
}

TEST_F(SequencedWorkerTest, SwappedPairLeavesInOrder) {
  Worker w(holding_config());
  w.attach();
  EXPECT_EQ(step(w, {seq_ip(1), seq_ip(0)}), routed({0, 1}));
  w.detach();
  EXPECT_EQ(w.counters().reordered, 1u);
  EXPECT_EQ(w.counters().decap, 2u);
}

TEST_F(SequencedWorkerTest, GapFilledByALaterBurstReleasesTheHeldPacketsInOrder) {
  Worker w(holding_config());
  w.attach();
  EXPECT_EQ(step(w, {seq_ip(0), seq_ip(2), seq_ip(3)}), routed({0}));
  EXPECT_EQ(w.reorder().held(), 2u);
  EXPECT_EQ(step(w, {seq_ip(1), seq_ip(4)}), routed({1, 2, 3, 4}));
  w.detach();
  EXPECT_EQ(w.counters().reordered, 2u);
  EXPECT_EQ(w.counters().rx_access, 5u);
  EXPECT_EQ(w.counters().decap, 5u);
}

TEST_F(SequencedWorkerTest, GapNeverFilledIsSkippedAfterTheTimeout) {
  WorkerConfig c = config();
  c.reorder.timeout_us = 1000;
  Worker w(c);
  w.attach();
  std::vector<Bytes> out = step(w, {seq_ip(0), seq_ip(2), seq_ip(3)});
  // Waits for the event, not for a time: the bound only stops a broken loop.
  for (int i = 0; i < 100000 && out.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    w.poll();
    w.flush();
    for (Bytes& b : take(core_.tx)) out.push_back(std::move(b));
  }
  w.detach();
  EXPECT_EQ(out, routed({0, 2, 3}));
  EXPECT_EQ(w.counters().reorder_gaps, 1u);
  EXPECT_EQ(w.reorder().held(), 0u);
}

TEST_F(SequencedWorkerTest, DuplicateAndLateDataAreCountedDrops) {
  Worker w(holding_config());
  w.attach();
  EXPECT_EQ(step(w, {seq_ip(0), seq_ip(1), seq_ip(1), seq_ip(0), seq_ip(3), seq_ip(3)}), routed({0, 1}));
  EXPECT_EQ(step(w, {seq_ip(2)}), routed({2, 3}));
  w.detach();
  EXPECT_EQ(w.counters().dropped(Drop::kSeqStale), 3u);
  EXPECT_EQ(w.counters().dropped_total(), 3u);
}

TEST_F(SequencedWorkerTest, SequenceWrapsFrom65535ToZero) {
  Worker w(holding_config());
  w.attach();
  EXPECT_EQ(step(w, {seq_ip(65534), seq_ip(0), seq_ip(65535), seq_ip(1)}), routed({65534, 65535, 0, 1}));
  w.detach();
}

TEST_F(SequencedWorkerTest, PuntedLcpFrameConsumesItsNsAndKeepsItsPlace) {
  Worker w(holding_config());
  w.attach();
  // The LCP frame (Ns 2) waits for Ns 1 like any data message.
  EXPECT_EQ(step(w, {seq_ip(0), lcp(2)}), routed({0}));
  EXPECT_TRUE(take(rings_.to_control_high).empty());
  EXPECT_EQ(step(w, {seq_ip(1)}), routed({1}));
  // LCP goes up on the high ring (dataplane/police.hpp).
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{lcp(2)});
  // In order, it goes straight to the control ring, and Ns 4 follows it.
  EXPECT_EQ(step(w, {lcp(3), seq_ip(4)}), routed({4}));
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{lcp(3)});
  w.detach();
  EXPECT_EQ(w.counters().to_control, 2u);
  EXPECT_EQ(w.counters().dropped_total(), 0u);
}

TEST_F(SequencedWorkerTest, UnsequencedDataIsNeitherHeldNorCounted) {
  Worker w(holding_config());
  w.attach();
  // Data without S, even of a session that sequences, passes as it comes.
  EXPECT_EQ(step(w, {seq_ip(0), seq_ip(2), data(0x0021, ip(50))}), routed({0, 50}));
  EXPECT_EQ(step(w, {data(0x0021, ip(51)), data(0x0021, ip(52))}), routed({51, 52}));
  w.detach();
  EXPECT_EQ(w.reorder().held(), 1u);
}

// RFC 2661 5.4: without Sequencing Required the LNS decides, with the S
// bit of its data, at any time; a LAC follows, and an LNS is never
// switched on by a LAC's S.
TEST_F(SequencedWorkerTest, ALacFollowsTheSBitOfTheLnsDataAndAnLnsIgnoresTheLacs) {
  control::FastPathEntry lac = entry();
  lac.follows_peer_sequencing = true;  // we are the LAC of this session
  ASSERT_TRUE(table_->publish(lac));
  const Session* s = table_->by_session_id(0xb7e1);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->follows_peer);
  EXPECT_FALSE(s->compact()) << "the line cannot hold both forms: encap goes through the Session";
  const Bytes down_ip = inner_ipv4(kInternetHost, kSubscriber, 50, 100);
  auto to_peer = [&](std::optional<uint16_t> ns) {
    L2tpOptions o;
    if (ns) {
      o.sequence = true;
      o.ns = *ns;
      o.nr = 0;
    }
    Outer out;
    out.dst = kLacMac;
    out.src = kOurAccessMac;
    out.ip_src = kOurAddr;
    out.ip_dst = kLacAddr;
    return udp_frame(out, l2tp_ppp(0x0457, 0x22b8, o, 0x0021, forwarded(down_ip)));
  };
  Worker w(holding_config());
  w.attach();
  auto down = [&](unsigned n) {
    inject(core_.rx, std::vector<Bytes>(n, to_host(down_ip)));
    w.poll();
    w.flush();
    return take(access_.tx);
  };
  EXPECT_EQ(down(1), std::vector<Bytes>{to_peer(std::nullopt)}) << "unsequenced until the peer's data carries S";
  EXPECT_EQ(step(w, {seq_ip(0)}), routed({0}));
  EXPECT_EQ(down(2), (std::vector<Bytes>{to_peer(0), to_peer(1)}));
  EXPECT_EQ(step(w, {data(0x0021, ip(7))}), routed({7}));
  EXPECT_EQ(down(1), std::vector<Bytes>{to_peer(std::nullopt)}) << "the peer's data without S turns it off";
  // A punted PPP frame with S counts as much as IPv4 does.
  EXPECT_TRUE(step(w, {lcp(1)}).empty());
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{lcp(1)});
  EXPECT_EQ(down(1), std::vector<Bytes>{to_peer(2)}) << "Ns goes on from where it was";
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, 5u);

  // The same session with us as the LNS: the peer's S changes nothing.
  control::FastPathEntry lns = entry();
  ASSERT_TRUE(table_->publish(lns));
  EXPECT_EQ(step(w, {seq_ip(2)}), routed({2}));
  EXPECT_EQ(down(1), std::vector<Bytes>{to_peer(std::nullopt)});
  w.detach();
  EXPECT_EQ(w.counters().encap, 6u);
  expect_accounted(w.counters());
}

TEST_F(SequencedWorkerTest, RepublishedSessionKeepsItsExpectedNs) {
  control::FastPathEntry e = entry();
  e.subscriber_addr = 0;  // known, not yet in the fast path: all to control
  ASSERT_TRUE(table_->publish(e));
  Worker w(holding_config());
  w.attach();
  EXPECT_TRUE(step(w, {lcp(0), seq_ip(1)}).empty());
  EXPECT_EQ(take(rings_.to_control_high), std::vector<Bytes>{lcp(0)});
  EXPECT_EQ(take(rings_.to_control), std::vector<Bytes>{seq_ip(1)});
  ASSERT_TRUE(table_->publish(entry()));  // IPCP up
  EXPECT_EQ(step(w, {seq_ip(3), seq_ip(2), seq_ip(1)}), routed({2, 3}));
  w.detach();
  EXPECT_EQ(w.counters().dropped(Drop::kSeqStale), 1u);
}

TEST_F(SequencedWorkerTest, HeldPacketsOfAWithdrawnSessionAreFreedAndCounted) {
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  {
    WorkerConfig c = config();
    c.reorder.timeout_us = 1000;
    Worker w(c);
    w.attach();
    EXPECT_EQ(step(w, {seq_ip(0), seq_ip(2), seq_ip(3)}), routed({0}));
    ASSERT_TRUE(table_->withdraw(0xb7e1));
    for (int i = 0; i < 100000 && w.reorder().held() != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
      w.poll();
    }
    w.flush();
    w.detach();
    EXPECT_TRUE(take(core_.tx).empty()) << "nothing of a withdrawn session is forwarded";
    EXPECT_EQ(w.counters().dropped(Drop::kReorderFlushed), 2u);
    EXPECT_EQ(w.reorder().contexts_in_use(), 0u);
  }
  table_->synchronize();
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

TEST_F(SequencedWorkerTest, StoppedWorkerFreesWhatItHolds) {
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  {
    Worker w(holding_config());
    w.attach();
    EXPECT_EQ(step(w, {seq_ip(0), seq_ip(2), lcp(3)}), routed({0}));
    w.detach();
    EXPECT_EQ(w.reorder().held(), 2u);
  }
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

TEST_F(SequencedWorkerTest, ChurningSequencedSessionsWhilePacketsWaitLosesNoMbuf) {
  // A running worker takes shuffled sequenced data of many sessions while
  // this thread withdraws and republishes them: held packets of withdrawn
  // sessions are freed and counted, held ones of new sessions under an old
  // ID are not delivered into them, and every mbuf comes back.
  constexpr unsigned kSessions = 32, kRounds = 200, kPerRound = 16;
  ASSERT_TRUE(table_->withdraw(0xb7e1));
  for (unsigned i = 0; i < kSessions; ++i) ASSERT_TRUE(table_->publish(session_entry(i)));
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  uint64_t injected = 0;
  WorkerCounters seen;
  {
    WorkerConfig c = config(1024);
    c.idle_sleep = false;
    c.reorder.timeout_us = 200;
    c.reorder.contexts = 8;  // fewer than the sessions: the pool runs dry too
    Worker w(c);
    table_->synchronize();
    std::atomic<bool> stop{false};
    std::thread t([&] { w.run(stop); });
    std::mt19937 rng(11);
    std::vector<uint16_t> next_ns(kSessions, 0);
    std::vector<bool> published(kSessions, true);
    auto drain = [&] {
      for (rte_ring* r : {access_.tx, core_.tx, rings_.to_control, rings_.to_control_high}) {
        void* m;
        while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
      }
    };
    for (unsigned round = 0; round < kRounds; ++round) {
      std::vector<Bytes> up;
      for (unsigned k = 0; k < kPerRound; ++k) {
        const unsigned i = rng() % kSessions;
        L2tpOptions o;
        o.sequence = true;
        // Mostly in order, some early, some late, some duplicated.
        o.ns = static_cast<uint16_t>(next_ns[i] + (rng() % 8) - 2);
        ++next_ns[i];
        const uint16_t proto = rng() % 8 == 0 ? kLcp : 0x0021;
        up.push_back(upstream(l2tp_ppp(0x4d2a, static_cast<uint16_t>(0x1000 + i), o, proto,
                                       inner_ipv4(kSubscriber + 1 + i, kInternetHost, 64))));
      }
      std::shuffle(up.begin(), up.end(), rng);
      inject(access_.rx, up);
      injected += kPerRound;
      for (unsigned k = 0; k < 3; ++k) {
        const unsigned i = rng() % kSessions;
        if (published[i]) {
          ASSERT_TRUE(table_->withdraw(static_cast<uint16_t>(0x1000 + i)));
        } else {
          ASSERT_TRUE(table_->publish(session_entry(i)));
          next_ns[i] = 0;
        }
        published[i] = !published[i];
      }
      table_->reclaim();
      for (int spin = 0; spin < 1000000 && rte_ring_count(access_.rx); ++spin) std::this_thread::yield();
      drain();
    }
    stop = true;
    t.join();
    w.flush();
    drain();
    seen = w.counters();
    // Every packet ended one way, or still waits in the buffer.
    EXPECT_EQ(seen.rx_access, injected);
    EXPECT_EQ(seen.decap + seen.to_control + seen.dropped_total() + w.reorder().held(), injected);
    EXPECT_GT(seen.reordered, 0u);
    EXPECT_GT(seen.dropped(Drop::kSeqStale), 0u);
  }
  table_->synchronize();
  EXPECT_EQ(table_->reclaim(), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

}  // namespace
}  // namespace l2tp::dp::test
