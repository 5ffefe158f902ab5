// MTU on the fast path (dataplane/mtu.hpp), on ring ports: golden packets
// for ICMP "fragmentation needed", inner fragmentation and TCP MSS
// clamping both ways. Ring ports, not net_af_packet: the kernel would
// reassemble fragments before we saw them.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/dp_config.hpp"
#include "dataplane/mtu.hpp"
#include "dataplane/worker.hpp"
#include "fixture.hpp"
#include "ring_port.hpp"

namespace l2tp::dp::test {
namespace {

void set16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
uint16_t get16(const Bytes& b, size_t at) { return static_cast<uint16_t>((b[at] << 8) | b[at + 1]); }

// The IPv4 header at the start of ip with its checksum recomputed in full.
Bytes rechecksum(Bytes ip) {
  set16(ip, 10, 0);
  set16(ip, 10, full_checksum(ip.data(), (ip[0] & 0x0F) * 4u));
  return ip;
}

// IPv4 / TCP with no payload; the TCP checksum over the pseudo-header
// (RFC 793 3.1) computed in full.
Bytes tcp_packet(uint32_t src, uint32_t dst, uint8_t flags, const Bytes& options, uint8_t ttl = 64) {
  Bytes tcp;
  put16(tcp, 40000);
  put16(tcp, 443);
  put32(tcp, 0x01020304);
  put32(tcp, (flags & 0x10) ? 0x0a0b0c0d : 0);
  tcp.push_back(static_cast<uint8_t>(((20 + options.size()) / 4) << 4));
  tcp.push_back(flags);
  put16(tcp, 65535);
  put16(tcp, 0);  // checksum
  put16(tcp, 0);  // urgent pointer
  append(tcp, options);
  Bytes pseudo;
  put32(pseudo, src);
  put32(pseudo, dst);
  pseudo.push_back(0);
  pseudo.push_back(6);
  put16(pseudo, static_cast<uint16_t>(tcp.size()));
  append(pseudo, tcp);
  set16(tcp, 16, full_checksum(pseudo.data(), pseudo.size()));
  return cat(ipv4_header(src, dst, 6, ttl, static_cast<uint16_t>(20 + tcp.size()), 0x3344, 0x4000), tcp);
}

constexpr uint8_t kSyn = 0x02, kAck = 0x10;

// MSS, NOP, NOP, SACK permitted, NOP, window scale 7.
Bytes syn_options(uint16_t mss) {
  Bytes o{2, 4};
  put16(o, mss);
  append(o, Bytes{1, 1, 4, 2, 1, 3, 3, 7});
  return o;
}
// A NOP first: the MSS value at an odd offset, across two checksum words.
Bytes odd_syn_options(uint16_t mss) {
  Bytes o{1, 2, 4};
  put16(o, mss);
  append(o, Bytes{1, 1, 1});
  return o;
}

// A downstream IPv4 packet of total_len octets (UDP, counting payload).
Bytes big_ipv4(uint16_t total_len, bool dont_fragment, uint8_t protocol = 17) {
  Bytes b = ipv4_header(FastPathTest::kInternetHost, FastPathTest::kSubscriber, protocol, 50, total_len, 0x1c46,
                        dont_fragment ? 0x4000 : 0);
  for (uint16_t i = 20; i < total_len; ++i) b.push_back(static_cast<uint8_t>(i * 13 + 5));
  if (protocol == 17) {
    set16(b, 20, 40000);
    set16(b, 22, 53);
    set16(b, 24, static_cast<uint16_t>(total_len - 20));
    set16(b, 26, 0);
  }
  return b;
}

class MtuTest : public FastPathTest {
 public:
  static constexpr uint32_t kCoreAddr = ipv4(198, 18, 0, 1);

 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    ASSERT_GE(access_.port, 0);
    ASSERT_GE(core_.port, 0);
    indirect_ = rte_pktmbuf_pool_create(unique_name("indirect"), 511, 0, 0, 0, SOCKET_ID_ANY);
    ASSERT_NE(indirect_, nullptr);
    in_use_ = rte_mempool_in_use_count(test_pool());
  }
  void TearDown() override {
    free_control_rings(rings_);
    // Every mbuf back: the originals, the fragments' headers and their
    // indirect references.
    EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use_);
    EXPECT_EQ(rte_mempool_in_use_count(indirect_), 0u);
    rte_mempool_free(indirect_);
  }

  void publish(uint16_t peer_mru, SessionLimits limits = {}, bool sequenced = false) {
    table_->set_limits(limits);
    control::FastPathEntry e = entry(0, sequenced);
    e.peer_mru = peer_mru;
    ASSERT_TRUE(table_->publish(e));
  }

  WorkerConfig config() {
    rings_ = create_control_rings(next_rings_++, 64, SOCKET_ID_ANY);
    WorkerConfig c;
    c.access_port = access_.id();
    c.core_port = core_.id();
    c.core_hop = hop_;
    c.core_addr = rte_cpu_to_be_32(kCoreAddr);
    c.table = table_.get();
    c.rcu = rcu_.v;
    c.to_control = rings_.to_control;
    c.from_control = rings_.from_control;
    c.mtu.fragment_indirect = indirect_;
    return c;
  }

  // One turn of a worker over what the test injected.
  WorkerCounters run(const WorkerConfig& c) {
    Worker w(c);
    w.attach();
    w.poll();
    w.flush();
    w.detach();
    return w.counters();
  }

  Bytes from_core(const Bytes& ip) { return cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), ip); }
  Bytes to_core(const Bytes& ip) { return cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), ip); }
  Bytes from_subscriber(const Bytes& ip) { return upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip)); }
  // What the session sends the LAC: outer headers, L2TP, PPP, inner.
  static Bytes to_lac(const Bytes& inner, const L2tpOptions& l2tp = {}) {
    Outer o;
    o.dst = kLacMac;
    o.src = kOurAccessMac;
    o.ip_src = kOurAddr;
    o.ip_dst = kLacAddr;
    return udp_frame(o, l2tp_ppp(0x0457, 0x22b8, l2tp, 0x0021, inner));
  }
  // to_lac() of each, sequenced from Ns ns on.
  static std::vector<Bytes> to_lac_sequenced(const std::vector<Bytes>& inner, uint16_t ns) {
    std::vector<Bytes> v;
    for (const Bytes& b : inner) {
      L2tpOptions o;
      o.sequence = true;
      o.ns = ns++;
      v.push_back(to_lac(b, o));
    }
    return v;
  }

  RingPort access_{"access"};
  RingPort core_{"core"};
  ControlRings rings_;
  rte_mempool* indirect_ = nullptr;
  unsigned in_use_ = 0;
  static inline uint16_t next_rings_ = 300;
};

// ---- the session MTU ---------------------------------------------------------

TEST(SessionMtu, IsThePeerMruOrTheAccessMtuLessTheOuterHeadersWhicheverIsSmaller) {
  control::FastPathEntry e;
  e.local_tunnel_id = e.local_session_id = e.peer_tunnel_id = e.peer_session_id = 1;
  e.subscriber_addr = control::ipv4(100, 64, 0, 1);
  Session s;
  ASSERT_TRUE(build_session(e, s));
  EXPECT_EQ(s.mtu, 1462);  // 1500 - IPv4 20 - UDP 8 - L2TP 6 - PPP 4
  EXPECT_EQ(s.mss_max, 1422);
  e.vlan = 7;  // the L2 header is not the IP MTU's business
  ASSERT_TRUE(build_session(e, s));
  EXPECT_EQ(s.mtu, 1462);
  e.sequenced = true;  // Ns, Nr: 4 more
  ASSERT_TRUE(build_session(e, s));
  EXPECT_EQ(s.mtu, 1458);
  e.peer_mru = 1400;
  ASSERT_TRUE(build_session(e, s));
  EXPECT_EQ(s.mtu, 1400);
  EXPECT_EQ(s.mss_max, 1360);
  e.peer_mru = 9000;
  ASSERT_TRUE(build_session(e, s, {9000, kMssClampAuto}));
  EXPECT_EQ(s.mtu, 8958);
  ASSERT_TRUE(build_session(e, s, {1500, 0}));
  EXPECT_EQ(s.mss_max, 0);  // mss clamp = no
  ASSERT_TRUE(build_session(e, s, {1500, 1200}));
  EXPECT_EQ(s.mss_max, 1200);
  // RFC 791: never below 68, whatever LCP said.
  EXPECT_EQ(session_mtu(40, 1500, 38), 68);
  EXPECT_EQ(session_mtu(1500, 60, 38), 68);
}

TEST(TokenBucket, SpendsItsBurstThenOneTokenPerIntervalAndBanksNoMoreThanTheBurst) {
  TokenBucket b;
  b.configure(10, 50, 1000, 0);  // 10 a second at 1000 cycles a second: one per 100 cycles, burst 10
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.take(0)) << i;
  EXPECT_FALSE(b.take(0));
  EXPECT_FALSE(b.take(99));
  EXPECT_TRUE(b.take(100));
  EXPECT_FALSE(b.take(150));
  EXPECT_TRUE(b.take(205));
  int taken = 0;
  while (b.take(1000000)) ++taken;  // a long quiet spell refills the burst, no more
  EXPECT_EQ(taken, 10);
  TokenBucket none;
  none.configure(0, 50, 1000, 0);
  EXPECT_FALSE(none.take(0));
  EXPECT_FALSE(none.take(1u << 30));
}

// ---- DF set: ICMP fragmentation needed ------------------------------------

// RFC 792 / RFC 1191 4: type 3 code 4, next-hop MTU in the low 16 bits of
// the second word, the original header and 8 octets; IPv4 from our core
// address, precedence 6.
Bytes frag_needed(uint32_t to, uint16_t mtu, const Bytes& original, uint16_t id) {
  const size_t quote = (original[0] & 0x0F) * 4u + 8;
  Bytes icmp{3, 4, 0, 0, 0, 0};
  put16(icmp, mtu);
  icmp.insert(icmp.end(), original.begin(), original.begin() + static_cast<long>(quote));
  set16(icmp, 2, full_checksum(icmp.data(), icmp.size()));
  Bytes ip = ipv4_header(MtuTest::kCoreAddr, to, 1, 64, static_cast<uint16_t>(20 + icmp.size()), id, 0);
  ip[1] = 0xC0;
  return cat(rechecksum(ip), icmp);
}

TEST_F(MtuTest, DfSetPacketLongerThanTheSessionMtuIsAnsweredWithFragmentationNeeded) {
  publish(1500);  // session MTU 1462
  const Bytes big = big_ipv4(1463, true);
  const Bytes fits = big_ipv4(1462, true);
  inject(core_.rx, {from_core(big), from_core(fits)});
  const WorkerCounters c = run(config());

  const std::vector<Bytes> icmp = take(core_.tx);
  ASSERT_EQ(icmp.size(), 1u);
  EXPECT_EQ(icmp[0], to_core(frag_needed(kInternetHost, 1462, big, 0)));
  // Independent of the builder: both checksums verify over what was sent.
  const Bytes& f = icmp[0];
  EXPECT_EQ(full_checksum(f.data() + 14, 20), 0);
  EXPECT_EQ(full_checksum(f.data() + 34, f.size() - 34), 0);
  EXPECT_EQ(get16(f, 34 + 6), 1462);
  EXPECT_EQ(f.size(), 14u + 20 + 8 + 28);
  // The packet that fits goes through; the big one does not.
  EXPECT_EQ(take(access_.tx), std::vector<Bytes>{to_lac(forwarded(fits))});
  EXPECT_EQ(c.icmp_frag_needed, 1u);
  EXPECT_EQ(c.dropped(Drop::kFragmentationNeeded), 1u);
  EXPECT_EQ(c.dropped_total(), 1u);
  EXPECT_EQ(c.encap, 1u);
  EXPECT_EQ(c.tx_core, 1u);
}

TEST_F(MtuTest, FragmentationNeededCarriesTheMruLcpGaveAndQuotesTheWholeHeaderWithOptions) {
  publish(1280);
  Bytes big = big_ipv4(1400, true);
  // IHL 6: a 4-octet option (NOP x3, EOL) the quote must keep.
  Bytes with_option(big.begin(), big.begin() + 20);
  append(with_option, Bytes{1, 1, 1, 0});
  with_option.insert(with_option.end(), big.begin() + 20, big.end() - 4);
  with_option[0] = 0x46;
  with_option = rechecksum(with_option);
  inject(core_.rx, {from_core(with_option), from_core(big)});
  const WorkerCounters c = run(config());
  EXPECT_EQ(take(core_.tx), (std::vector<Bytes>{to_core(frag_needed(kInternetHost, 1280, with_option, 0)),
                                                to_core(frag_needed(kInternetHost, 1280, big, 1))}));
  EXPECT_EQ(c.icmp_frag_needed, 2u);
  EXPECT_TRUE(take(access_.tx).empty());
}

TEST_F(MtuTest, NoFragmentationNeededAboutIcmpErrorsLaterFragmentsOrNonHostSources) {
  publish(1500);
  Bytes unreachable = big_ipv4(1500, true, 1);
  unreachable[20] = 3;  // an ICMP error itself (RFC 1122 3.2.2)
  Bytes echo = big_ipv4(1500, true, 1);
  echo[20] = 8;  // an echo request is no error: it gets the answer
  Bytes later = big_ipv4(1500, true);
  set16(later, 6, 0x4000 | 185);  // offset 1480
  later = rechecksum(later);
  Bytes multicast = big_ipv4(1500, true);
  set16(multicast, 12, 0xE000);  // 224.0.x.x as the source
  multicast = rechecksum(multicast);
  inject(core_.rx, {from_core(unreachable), from_core(echo), from_core(later), from_core(multicast)});
  const WorkerCounters c = run(config());
  EXPECT_EQ(take(core_.tx), std::vector<Bytes>{to_core(frag_needed(kInternetHost, 1462, echo, 0))});
  EXPECT_EQ(c.icmp_frag_needed, 1u);
  EXPECT_EQ(c.dropped(Drop::kFragmentationNeeded), 4u);
  EXPECT_TRUE(take(access_.tx).empty());
}

TEST_F(MtuTest, FragmentationNeededIsRateLimitedAndCounted) {
  publish(1500);
  std::vector<Bytes> frames(kIcmpBurst + 5, from_core(big_ipv4(1500, true)));
  // Two bursts: the ring port's RX hands out 32 at a time.
  WorkerConfig c = config();
  c.mtu.icmp_per_second = 1;  // a token a second: none comes back during the test
  Worker w(c);
  inject(core_.rx, frames);
  w.attach();
  w.poll();
  w.poll();
  w.flush();
  w.detach();
  EXPECT_EQ(take(core_.tx).size(), 1u);  // the burst of a 1-a-second bucket is 1
  EXPECT_EQ(w.counters().icmp_frag_needed, 1u);
  EXPECT_EQ(w.counters().icmp_rate_limited, kIcmpBurst + 4);
  EXPECT_EQ(w.counters().dropped(Drop::kFragmentationNeeded), kIcmpBurst + 5);
}

TEST_F(MtuTest, WithoutAnIcmpRateOrACoreAddressTheDfPacketIsOnlyDropped) {
  publish(1500);
  inject(core_.rx, {from_core(big_ipv4(1500, true))});
  WorkerConfig c = config();
  c.mtu.icmp_per_second = 0;
  WorkerCounters n = run(c);
  EXPECT_EQ(n.icmp_rate_limited, 1u);
  free_control_rings(rings_);
  inject(core_.rx, {from_core(big_ipv4(1500, true))});
  c = config();
  c.core_addr = 0;
  n = run(c);
  EXPECT_EQ(n.icmp_frag_needed, 0u);
  EXPECT_EQ(n.dropped(Drop::kFragmentationNeeded), 1u);
  EXPECT_TRUE(take(core_.tx).empty());
}

// ---- DF clear: fragmentation ------------------------------------------------

// The fragments of `original` as RFC 791 3.2 makes them for mtu (no
// options): data in multiples of 8, MF on all but the last, TTL - 1.
std::vector<Bytes> expected_fragments(const Bytes& original, uint16_t mtu) {
  const size_t data = (mtu - 20u) / 8 * 8;
  const size_t body = original.size() - 20;
  std::vector<Bytes> out;
  for (size_t off = 0; off < body; off += data) {
    const size_t len = std::min(data, body - off);
    const bool more = off + len < body;
    Bytes f = ipv4_header(FastPathTest::kInternetHost, FastPathTest::kSubscriber, original[9],
                          static_cast<uint8_t>(original[8] - 1), static_cast<uint16_t>(20 + len),
                          get16(original, 4), static_cast<uint16_t>((more ? 0x2000 : 0) | off / 8));
    f.insert(f.end(), original.begin() + 20 + static_cast<long>(off),
             original.begin() + 20 + static_cast<long>(off + len));
    out.push_back(f);
  }
  return out;
}

// Reassembles the inner IPv4 fragments of encapsulated frames (52 octets of
// outer headers, no VLAN or Ns) on their own terms: offsets, MF, lengths
// and checksums as found on the wire.
Bytes reassemble(const std::vector<Bytes>& frames, uint16_t mtu) {
  std::map<size_t, Bytes> parts;
  bool saw_last = false;
  for (const Bytes& f : frames) {
    EXPECT_GE(f.size(), 52u + 20);
    Bytes ip(f.begin() + 52, f.end());
    EXPECT_EQ(full_checksum(ip.data(), 20), 0) << "inner header checksum";
    EXPECT_EQ(full_checksum(f.data() + 14, 20), 0) << "outer header checksum";
    EXPECT_EQ(get16(f, 14 + 2), f.size() - 14) << "outer total length";
    EXPECT_EQ(get16(f, 34 + 4), f.size() - 34) << "UDP length";
    EXPECT_LE(ip.size(), mtu);
    EXPECT_EQ(get16(ip, 2), ip.size());
    const uint16_t frag = get16(ip, 6);
    const size_t off = (frag & 0x1FFF) * 8u;
    const bool more = frag & 0x2000;
    if (more) {
      EXPECT_EQ((ip.size() - 20) % 8, 0u);
    }
    if (!more) saw_last = true;
    parts[off] = Bytes(ip.begin() + 20, ip.end());
  }
  EXPECT_TRUE(saw_last);
  Bytes body;
  for (const auto& [off, data] : parts) {
    EXPECT_EQ(off, body.size()) << "a hole or an overlap";
    append(body, data);
  }
  return body;
}

TEST_F(MtuTest, DfClearPacketLongerThanTheSessionMtuIsFragmentedAndEachFragmentEncapsulated) {
  publish(576);  // session MTU 576: 552 octets of data a fragment
  const Bytes big = big_ipv4(2000, false);
  inject(core_.rx, {from_core(big)});
  const WorkerCounters c = run(config());

  const std::vector<Bytes> out = take(access_.tx);
  const std::vector<Bytes> fragments = expected_fragments(big, 576);
  ASSERT_EQ(fragments.size(), 4u);  // 552 + 552 + 552 + 324
  std::vector<Bytes> expected;
  for (const Bytes& f : fragments) expected.push_back(to_lac(f));
  EXPECT_EQ(out, expected);
  EXPECT_EQ(reassemble(out, 576), Bytes(big.begin() + 20, big.end()));
  EXPECT_EQ(c.fragmented, 1u);
  EXPECT_EQ(c.fragments, 4u);
  EXPECT_EQ(c.encap, 4u);
  EXPECT_EQ(c.tx_access, 4u);
  EXPECT_EQ(c.dropped_total(), 0u);
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, 4u);
  EXPECT_TRUE(take(core_.tx).empty());
}

TEST_F(MtuTest, FragmentsOfASequencedSessionEachTakeTheNextNs) {
  publish(1000, {}, true);
  const Bytes big = big_ipv4(1800, false);
  inject(core_.rx, {from_core(big)});
  run(config());
  const std::vector<Bytes> fragments = expected_fragments(big, 1000);
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(take(access_.tx), to_lac_sequenced(fragments, 0));
}

// RFC 2661 5.4: a LAC that did not require sequencing sends Ns while the
// LNS's data carries S, so its MTU leaves room for Ns and Nr, and the
// general path (here: fragments) writes them when sequencing is on.
TEST_F(MtuTest, ALacFollowingTheLnsKeepsRoomForNsAndFragmentsWithItWhenOn) {
  publish(1500);
  ASSERT_EQ(table_->by_session_id(0xb7e1)->mtu, 1462);
  control::FastPathEntry e = entry();
  e.follows_peer_sequencing = true;
  ASSERT_TRUE(table_->publish(e));
  ASSERT_EQ(table_->by_session_id(0xb7e1)->mtu, 1458);
  table_->state(0xb7e1).peer_sequences = true;  // as the worker records the LNS's S
  const Bytes big = big_ipv4(1800, false);
  inject(core_.rx, {from_core(big)});
  run(config());
  const std::vector<Bytes> fragments = expected_fragments(big, 1458);
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(take(access_.tx), to_lac_sequenced(fragments, 0));
  // Off again: the same packet leaves in unsequenced fragments of the same size.
  table_->state(0xb7e1).peer_sequences = false;
  inject(core_.rx, {from_core(big)});
  run(config());
  EXPECT_EQ(take(access_.tx), (std::vector<Bytes>{to_lac(fragments[0]), to_lac(fragments[1])}));
}

TEST_F(MtuTest, FragmentsCopiedIntoOneSegmentForAPortWithoutChainsAreTheSameBytes) {
  publish(576);
  const Bytes big = big_ipv4(2000, false);
  inject(core_.rx, {from_core(big)});
  WorkerConfig c = config();
  c.mtu.linearize_fragments = true;
  run(c);
  std::vector<Bytes> out;
  void* m;
  while (rte_ring_dequeue(access_.tx, &m) == 0) {
    EXPECT_EQ(static_cast<rte_mbuf*>(m)->nb_segs, 1);
    out.push_back(from_mbuf(static_cast<rte_mbuf*>(m)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  std::vector<Bytes> expected;
  for (const Bytes& f : expected_fragments(big, 576)) expected.push_back(to_lac(f));
  EXPECT_EQ(out, expected);
}

TEST_F(MtuTest, WithFragmentNoADfClearPacketLongerThanTheSessionMtuIsACountedDrop) {
  publish(576);
  inject(core_.rx, {from_core(big_ipv4(2000, false)), from_core(big_ipv4(576, false))});
  WorkerConfig c = config();
  c.mtu.fragment_indirect = nullptr;  // fragment = no
  const WorkerCounters n = run(c);
  EXPECT_EQ(n.dropped(Drop::kMtuExceeded), 1u);
  EXPECT_EQ(n.fragmented, 0u);
  EXPECT_EQ(take(access_.tx), std::vector<Bytes>{to_lac(forwarded(big_ipv4(576, false)))});
}

TEST_F(MtuTest, TooBigPacketForAnotherWorkersSessionOrAtTtlOneIsDroppedAsBefore) {
  publish(576);
  Bytes ttl1 = big_ipv4(2000, true);
  ttl1[8] = 1;
  ttl1 = rechecksum(ttl1);
  inject(core_.rx, {from_core(ttl1)});
  WorkerCounters n = run(config());
  EXPECT_EQ(n.dropped(Drop::kTtlExceeded), 1u);
  free_control_rings(rings_);
  inject(core_.rx, {from_core(big_ipv4(2000, false))});
  WorkerConfig c = config();
  c.id = 1;  // the session is worker 0's
  n = run(c);
  EXPECT_EQ(n.dropped(Drop::kNotOwner), 1u);
  EXPECT_TRUE(take(core_.tx).empty());
  EXPECT_TRUE(take(access_.tx).empty());
}

// ---- TCP MSS clamping ---------------------------------------------------------

TEST_F(MtuTest, SynMssAboveTheLimitIsClampedBothWaysWithTheChecksumFixed) {
  publish(1400);  // MSS limit 1360
  const Bytes down = tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1460), 50);
  const Bytes up = tcp_packet(kSubscriber, kInternetHost, kSyn | kAck, syn_options(1460));
  const Bytes down_odd = tcp_packet(kInternetHost, kSubscriber, kSyn, odd_syn_options(1460), 50);
  const Bytes up_odd = tcp_packet(kSubscriber, kInternetHost, kSyn, odd_syn_options(65535));
  inject(core_.rx, {from_core(down), from_core(down_odd)});
  inject(access_.rx, {from_subscriber(up), from_subscriber(up_odd)});
  const WorkerCounters c = run(config());
  EXPECT_EQ(take(access_.tx),
            (std::vector<Bytes>{to_lac(forwarded(tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1360), 50))),
                                to_lac(forwarded(tcp_packet(kInternetHost, kSubscriber, kSyn, odd_syn_options(1360), 50)))}));
  EXPECT_EQ(take(core_.tx),
            (std::vector<Bytes>{to_core(forwarded(tcp_packet(kSubscriber, kInternetHost, kSyn | kAck, syn_options(1360)))),
                                to_core(forwarded(tcp_packet(kSubscriber, kInternetHost, kSyn, odd_syn_options(1360))))}));
  EXPECT_EQ(c.mss_clamped, 4u);
}

TEST_F(MtuTest, SynWithASmallMssNonSynSegmentsAndClampingOffLeaveTcpUntouched) {
  publish(1400);
  const Bytes small = tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1200), 50);
  const Bytes ack = tcp_packet(kInternetHost, kSubscriber, kAck, syn_options(1460), 50);
  const Bytes up = tcp_packet(kSubscriber, kInternetHost, kAck, syn_options(1460));
  inject(core_.rx, {from_core(small), from_core(ack)});
  inject(access_.rx, {from_subscriber(up)});
  WorkerCounters c = run(config());
  EXPECT_EQ(take(access_.tx), (std::vector<Bytes>{to_lac(forwarded(small)), to_lac(forwarded(ack))}));
  EXPECT_EQ(take(core_.tx), std::vector<Bytes>{to_core(forwarded(up))});
  EXPECT_EQ(c.mss_clamped, 0u);

  // mss clamp = no: even a SYN above the session's MTU - 40 passes as is.
  free_control_rings(rings_);
  publish(1400, {1500, 0});
  const Bytes syn = tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1460), 50);
  inject(core_.rx, {from_core(syn)});
  c = run(config());
  EXPECT_EQ(take(access_.tx), std::vector<Bytes>{to_lac(forwarded(syn))});
  EXPECT_EQ(c.mss_clamped, 0u);
}

TEST_F(MtuTest, AFixedMssClampAppliesWhateverTheSessionMtu) {
  publish(1500, {1500, 1000});
  inject(core_.rx, {from_core(tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1200), 50))});
  const WorkerCounters c = run(config());
  EXPECT_EQ(take(access_.tx),
            std::vector<Bytes>{to_lac(forwarded(tcp_packet(kInternetHost, kSubscriber, kSyn, syn_options(1000), 50)))});
  EXPECT_EQ(c.mss_clamped, 1u);
}

TEST(MssClamp, TruncatedOrMalformedOptionsAndLaterFragmentsAreLeftAlone) {
  Bytes syn = tcp_packet(ipv4(1, 2, 3, 4), ipv4(5, 6, 7, 8), kSyn, syn_options(1460));
  Bytes copy = syn;
  // Only the IPv4 header and part of the TCP header readable.
  EXPECT_EQ(mss_clamp_ipv4(copy.data(), 30, 1000), 0u);
  // A length byte running past the header.
  copy[40 + 1] = 40;
  EXPECT_EQ(mss_clamp_ipv4(copy.data(), static_cast<uint32_t>(copy.size()), 1000), 0u);
  // A later fragment's octets are no TCP header.
  copy = syn;
  set16(copy, 6, 0x2000 | 10);
  EXPECT_EQ(mss_clamp_ipv4(copy.data(), static_cast<uint32_t>(copy.size()), 1000), 0u);
  // UDP that happens to look like a SYN.
  copy = syn;
  copy[9] = 17;
  EXPECT_EQ(mss_clamp_ipv4(copy.data(), static_cast<uint32_t>(copy.size()), 1000), 0u);
  copy[9] = 6;
  EXPECT_EQ(copy, syn);
  EXPECT_EQ(mss_clamp_ipv4(copy.data(), static_cast<uint32_t>(copy.size()), 1000), 1u);
  EXPECT_EQ(copy, tcp_packet(ipv4(1, 2, 3, 4), ipv4(5, 6, 7, 8), kSyn, syn_options(1000)));
}

TEST(MssClamp, ChecksumStaysValidWhereverTheOptionSitsAndWhateverTheValues) {
  std::mt19937 rng(11);
  const uint32_t src = ipv4(100, 64, 3, 4), dst = ipv4(203, 0, 113, 9);
  for (int i = 0; i < 2000; ++i) {
    Bytes options(rng() % 4, 1);  // 0 to 3 NOPs: every alignment of the MSS value
    if (rng() % 2) append(options, Bytes{8, 10, 1, 2, 3, 4, 5, 6, 7, 8});  // a timestamp before it
    const uint16_t mss = static_cast<uint16_t>(rng());
    options.push_back(2);
    options.push_back(4);
    put16(options, mss);
    while (options.size() % 4) options.push_back(0);  // end of list, padding
    Bytes ip = tcp_packet(src, dst, (rng() % 2) ? kSyn : kSyn | kAck, options);
    const uint16_t limit = static_cast<uint16_t>(500 + rng() % 1000);
    EXPECT_EQ(mss_clamp_ipv4(ip.data(), static_cast<uint32_t>(ip.size()), limit), mss > limit ? 1u : 0u);
    // The MSS as found, and the checksum verified over the pseudo-header.
    size_t o = 40;
    while (ip[o] == 1 || ip[o] == 8) o += ip[o] == 1 ? 1 : 10;
    ASSERT_EQ(ip[o], 2);
    EXPECT_EQ(get16(ip, o + 2), std::min(mss, limit));
    Bytes pseudo;
    put32(pseudo, src);
    put32(pseudo, dst);
    pseudo.push_back(0);
    pseudo.push_back(6);
    put16(pseudo, static_cast<uint16_t>(ip.size() - 20));
    pseudo.insert(pseudo.end(), ip.begin() + 20, ip.end());
    EXPECT_EQ(full_checksum(pseudo.data(), pseudo.size()), 0) << "iteration " << i;
  }
}

// ---- [dataplane] keys ------------------------------------------------------

TEST(DataPlaneConfigParse, MtuKeysHaveCarrierDefaultsAndBadValuesAreNamed) {
  std::map<std::string, std::string> s{
      {"access address", "192.0.2.2/24"}, {"core address", "198.51.100.1/24"}, {"core next hop", "198.51.100.254"}};
  auto r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->access_mtu, 1500);
  EXPECT_TRUE(r.config->fragment);
  EXPECT_EQ(r.config->mss_clamp, kMssClampAuto);
  EXPECT_EQ(r.config->icmp_rate, 1000u);

  s["access mtu"] = "9000";
  s["fragment"] = "no";
  s["mss clamp"] = "1400";
  s["icmp rate"] = "0";
  r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config) << r.errors[0];
  EXPECT_EQ(r.config->access_mtu, 9000);
  EXPECT_FALSE(r.config->fragment);
  EXPECT_EQ(r.config->mss_clamp, 1400);
  EXPECT_EQ(r.config->icmp_rate, 0u);
  s["mss clamp"] = "no";
  r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->mss_clamp, 0);
  s["mss clamp"] = "auto";
  r = parse_dataplane_config(s, {}, 1701);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->mss_clamp, kMssClampAuto);

  s["access mtu"] = "100";
  s["fragment"] = "sometimes";
  s["mss clamp"] = "yes";
  s["icmp rate"] = "-1";
  r = parse_dataplane_config(s, {}, 1701);
  EXPECT_FALSE(r.config);
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_NE(r.errors[0].find("\"access mtu\": \"100\": an IP MTU of 576 to 65535"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[1].find("\"fragment\": \"sometimes\": yes or no"), std::string::npos) << r.errors[1];
  EXPECT_NE(r.errors[2].find("\"icmp rate\": \"-1\""), std::string::npos) << r.errors[2];
  EXPECT_NE(r.errors[3].find("\"mss clamp\": \"yes\": auto"), std::string::npos) << r.errors[3];
}

}  // namespace
}  // namespace l2tp::dp::test
