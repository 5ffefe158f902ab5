// Golden packets through classify, decap and encap: each input and each
// expected output is built byte by byte (packets.hpp).

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/encap.hpp"
#include "fixture.hpp"

namespace l2tp::dp::test {
namespace {

struct MbufPtr {
  rte_mbuf* m;
  explicit MbufPtr(const Bytes& b) : m(to_mbuf(b)) {}
  ~MbufPtr() { rte_pktmbuf_free(m); }
};

// ------------------------------------------------------------ upstream

// (L, S, O, FF 03, PFC, VLAN)
using Flags = std::tuple<bool, bool, bool, bool, bool, bool>;

class DecapFlags : public FastPathTest, public ::testing::WithParamInterface<Flags> {};

TEST_P(DecapFlags, StripsEverythingAndForwardsInnerIpv4ToTheCorePort) {
  auto [length, sequence, offset, acf, pfc, vlan] = GetParam();
  const uint16_t vid = vlan ? 100 : 0;
  ASSERT_TRUE(table_->publish(entry(vid)));
  L2tpOptions o;
  o.length = length;
  o.sequence = sequence;
  o.ns = 7;
  o.nr = 3;
  o.offset = offset;
  o.offset_size = offset ? 3 : 0;
  o.address_control = acf;
  o.protocol_compressed = pfc;
  const Bytes inner = inner_ipv4(kSubscriber, kInternetHost, 64);
  MbufPtr pkt(upstream(l2tp_ppp(0x4d2a, 0xb7e1, o, 0x0021, inner), vid));
  ASSERT_NE(pkt.m, nullptr);

  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(pkt.m, *table_, 0, up, why), Verdict::kFast);
  EXPECT_EQ(up.sequenced, sequence);
  if (sequence) {
    EXPECT_EQ(up.ns, 7u);
  }
  SessionState& st = table_->state(0xb7e1);
  ASSERT_TRUE(decap_ipv4(pkt.m, up, CoreL2Header(hop_), st, why));

  const Bytes expected = cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(inner));
  EXPECT_EQ(from_mbuf(pkt.m), expected);
  EXPECT_EQ(st.rx_packets, 1u);
  EXPECT_EQ(st.rx_bytes, inner.size());
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, DecapFlags,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool(),
                                            ::testing::Bool(), ::testing::Bool(), ::testing::Bool()));

TEST_F(FastPathTest, DecapPutsTheCoreVlanTagOnAndDropsPppPadding) {
  ASSERT_TRUE(table_->publish(entry()));
  hop_.vlan = 42;
  const Bytes inner = inner_ipv4(kSubscriber, kInternetHost, 30);
  Bytes padded = cat(inner, Bytes{0, 0, 0, 0});  // e.g. link padding inside PPP
  MbufPtr pkt(upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, padded)));
  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(pkt.m, *table_, 0, up, why), Verdict::kFast);
  ASSERT_TRUE(decap_ipv4(pkt.m, up, CoreL2Header(hop_), table_->state(0xb7e1), why));
  EXPECT_EQ(from_mbuf(pkt.m), cat(ethernet(kRouterMac, kOurCoreMac, 42, 0x0800), forwarded(inner)));
}

struct UpstreamCase {
  const char* name;
  Bytes frame;
  Verdict verdict;
  Drop drop;
};

class UpstreamVerdicts : public FastPathTest {
 protected:
  void expect(const Bytes& frame, Verdict verdict, Drop drop = Drop::kCount, uint16_t worker = 0) {
    MbufPtr pkt(frame);
    ASSERT_NE(pkt.m, nullptr);
    const Bytes before = from_mbuf(pkt.m);
    UpstreamPacket up;
    Drop why = Drop::kCount;
    EXPECT_EQ(classify_upstream(pkt.m, *table_, worker, up, why), verdict);
    if (verdict == Verdict::kDrop) {
      EXPECT_STREQ(drop_name(why), drop_name(drop));
    }
    EXPECT_EQ(from_mbuf(pkt.m), before) << "classification must not touch the packet";
  }
  Bytes data(uint16_t protocol, const Bytes& info, L2tpOptions o = {}, uint16_t tunnel = 0x4d2a,
             uint16_t session = 0xb7e1) {
    return upstream(l2tp_ppp(tunnel, session, o, protocol, info));
  }
  Bytes ip() { return inner_ipv4(kSubscriber, kInternetHost, 64); }
};

TEST_F(UpstreamVerdicts, PppControlProtocolsGoToControl) {
  ASSERT_TRUE(table_->publish(entry()));
  const Bytes lcp_echo{0x09, 0x01, 0x00, 0x08, 0x12, 0x34, 0x56, 0x78};
  for (uint16_t proto : {0xC021, 0xC023, 0xC223, 0x8021, 0x8057, 0x80FD})
    expect(data(proto, lcp_echo), Verdict::kControl);
}

TEST_F(UpstreamVerdicts, Ipv6DataGoesToControl) {
  ASSERT_TRUE(table_->publish(entry()));
  expect(data(0x0057, Bytes(40, 0x60)), Verdict::kControl);
}

TEST_F(UpstreamVerdicts, ControlMessageGoesToControl) {
  L2tpOptions o;
  o.control = o.length = o.sequence = true;
  // A ZLB of an unknown tunnel: the control thread decides, not the worker.
  Bytes zlb;
  put16(zlb, 0xC802);
  put16(zlb, 12);
  put16(zlb, 0x4d2a);
  put16(zlb, 0);
  put16(zlb, 1);
  put16(zlb, 2);
  expect(upstream(zlb), Verdict::kControl);
}

TEST_F(UpstreamVerdicts, ArpGoesToControl) {
  Bytes arp = ethernet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kLacMac, 0, 0x0806);
  append(arp, Bytes(28, 0));
  expect(arp, Verdict::kControl);
}

TEST_F(UpstreamVerdicts, KnownSessionNotInTheFastPathGoesToControl) {
  auto e = entry();
  e.subscriber_addr = 0;
  ASSERT_TRUE(table_->publish(e));
  expect(data(0x0021, ip()), Verdict::kControl);
}

TEST_F(UpstreamVerdicts, UnknownSessionIsACountedDrop) {
  ASSERT_TRUE(table_->publish(entry()));
  expect(data(0x0021, ip(), {}, 0x4d2a, 0xb7e2), Verdict::kDrop, Drop::kUnknownSession);
  expect(data(0xC021, ip(), {}, 0x4d2a, 0xb7e2), Verdict::kDrop, Drop::kUnknownSession);
}

TEST_F(UpstreamVerdicts, WrongTunnelIdIsAnUnknownSession) {
  ASSERT_TRUE(table_->publish(entry()));
  expect(data(0x0021, ip(), {}, 0x4d2b), Verdict::kDrop, Drop::kUnknownSession);
}

TEST_F(UpstreamVerdicts, WrongPeerAddressOrPortIsAnUnknownSession) {
  ASSERT_TRUE(table_->publish(entry()));
  Outer o;
  o.dst = kOurAccessMac;
  o.src = kLacMac;
  o.ip_src = ipv4(198, 51, 100, 8);
  o.ip_dst = kOurAddr;
  const Bytes l2tp = l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip());
  expect(udp_frame(o, l2tp), Verdict::kDrop, Drop::kUnknownSession);
  o.ip_src = kLacAddr;
  o.sport = 1702;
  expect(udp_frame(o, l2tp), Verdict::kDrop, Drop::kUnknownSession);
}

// A LAC behind NAT speaks from another port than 1701: its session is
// matched on its port as the source and ours as the destination, by the
// general classifier and the one-look shape alike, never the other way
// round.
TEST_F(UpstreamVerdicts, PeerPortIsTheSourceAndOursTheDestination) {
  auto e = entry();
  e.peer.port = 40001;
  ASSERT_TRUE(table_->publish(e));
  Outer o;
  o.dst = kOurAccessMac;
  o.src = kLacMac;
  o.ip_src = kLacAddr;
  o.ip_dst = kOurAddr;
  const Bytes l2tp = l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip());
  for (const auto& [sport, dport, want] : {std::tuple{40001, 1701, Verdict::kFast},
                                           std::tuple{1701, 40001, Verdict::kDrop},
                                           std::tuple{1701, 1701, Verdict::kDrop}}) {
    SCOPED_TRACE(std::to_string(sport) + " -> " + std::to_string(dport));
    o.sport = static_cast<uint16_t>(sport);
    o.dport = static_cast<uint16_t>(dport);
    const Bytes frame = udp_frame(o, l2tp);
    expect(frame, want, Drop::kUnknownSession);
    MbufPtr pkt(frame);
    ASSERT_NE(pkt.m, nullptr);
    UpstreamShape sh;
    ASSERT_TRUE(upstream_shape(pkt.m, sh));
    UpstreamPacket up;
    Drop why = Drop::kCount;
    EXPECT_EQ(classify_shaped(sh, *table_, 0, up, why), want);
    if (want == Verdict::kDrop) {
      EXPECT_EQ(why, Drop::kUnknownSession);
    }
  }
}

TEST_F(UpstreamVerdicts, SessionOfAnotherWorkerIsHandedToItsOwner) {
  ASSERT_TRUE(table_->publish(entry()));
  expect(data(0x0021, ip()), Verdict::kHandoff, Drop::kCount, 1);
  MbufPtr pkt(data(0x0021, ip()));
  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(pkt.m, *table_, 1, up, why), Verdict::kHandoff);
  ASSERT_NE(up.session, nullptr);
  EXPECT_EQ(up.session->owner_worker, 0) << "names the owner to hand it to";
  // Its PPP control still goes to the control thread from any worker.
  expect(data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4}), Verdict::kControl, Drop::kCount, 1);
}

TEST_F(UpstreamVerdicts, VersionOtherThanTwoIsDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  L2tpOptions o;
  o.version = 3;
  expect(data(0x0021, ip(), o), Verdict::kDrop, Drop::kL2tpVersion);
}

TEST_F(UpstreamVerdicts, LengthFieldMustMatchTheDatagram) {
  ASSERT_TRUE(table_->publish(entry()));
  L2tpOptions o;
  o.length = true;
  Bytes l2tp = l2tp_ppp(0x4d2a, 0xb7e1, o, 0x0021, ip());
  l2tp[3] = static_cast<uint8_t>(l2tp[3] - 1);  // one short
  expect(upstream(l2tp), Verdict::kDrop, Drop::kL2tpHeader);
  l2tp[3] = static_cast<uint8_t>(l2tp[3] + 2);  // one past
  expect(upstream(l2tp), Verdict::kDrop, Drop::kL2tpHeader);
}

TEST_F(UpstreamVerdicts, OffsetPastTheDatagramIsDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  L2tpOptions o;
  o.offset = true;
  o.offset_size = 0;
  Bytes l2tp = l2tp_ppp(0x4d2a, 0xb7e1, o, 0x0021, Bytes{0x21});
  l2tp[6] = 0x01;  // Offset Size 256 > what follows
  expect(upstream(l2tp), Verdict::kDrop, Drop::kL2tpHeader);
}

TEST_F(UpstreamVerdicts, TruncatedSequenceFieldsAreDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  Bytes l2tp{0x08, 0x02, 0x4d, 0x2a, 0xb7, 0xe1, 0x00};  // S set, Ns cut short
  expect(upstream(l2tp), Verdict::kDrop, Drop::kL2tpHeader);
}

TEST_F(UpstreamVerdicts, InvalidPppProtocolIsDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  expect(data(0x0022, ip()), Verdict::kDrop, Drop::kPppHeader);  // even: RFC 1661 2
  // FF 03 and no protocol field.
  expect(upstream(Bytes{0x00, 0x02, 0x4d, 0x2a, 0xb7, 0xe1, 0xFF, 0x03}), Verdict::kDrop, Drop::kPppHeader);
}

TEST_F(UpstreamVerdicts, OuterFragmentIsDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  Outer o;
  o.dst = kOurAccessMac;
  o.src = kLacMac;
  o.ip_src = kLacAddr;
  o.ip_dst = kOurAddr;
  o.frag = 0x2000;  // MF
  expect(udp_frame(o, l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip())), Verdict::kDrop, Drop::kIpv4Fragment);
}

TEST_F(UpstreamVerdicts, MalformedOuterHeadersAreDropped) {
  ASSERT_TRUE(table_->publish(entry()));
  Bytes f = data(0x0021, ip());
  Bytes bad_ihl = f;
  bad_ihl[14] = 0x44;
  expect(bad_ihl, Verdict::kDrop, Drop::kIpv4Header);
  Bytes long_total = f;
  long_total[17] = static_cast<uint8_t>(long_total[17] + 1);  // total length past the frame
  expect(long_total, Verdict::kDrop, Drop::kIpv4Header);
  Bytes bad_udp = f;
  bad_udp[14 + 20 + 5] = static_cast<uint8_t>(bad_udp[14 + 20 + 5] - 1);
  expect(bad_udp, Verdict::kDrop, Drop::kUdpLength);
  Bytes other_port = f;
  other_port[14 + 20 + 1] = 0xA6;  // 1701 -> 1702 both ways
  other_port[14 + 20 + 3] = 0xA6;
  expect(other_port, Verdict::kDrop, Drop::kNotL2tp);
  expect(Bytes(f.begin(), f.begin() + 10), Verdict::kDrop, Drop::kRunt);
  Bytes ipv6 = ethernet(kOurAccessMac, kLacMac, 0, 0x86DD);
  append(ipv6, Bytes(60, 0));
  expect(ipv6, Verdict::kDrop, Drop::kNotIpv4);
}

TEST_F(UpstreamVerdicts, PuntedDataReportsItsSessionAndNsAndOtherPuntsNone) {
  // RFC 2661 5.4: a punted PPP frame consumes an Ns too; the worker needs
  // it to keep the session's order.
  ASSERT_TRUE(table_->publish(entry()));
  L2tpOptions o;
  o.sequence = true;
  o.ns = 0xfffe;
  MbufPtr lcp(data(0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4}, o));
  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(lcp.m, *table_, 0, up, why), Verdict::kControl);
  EXPECT_TRUE(up.sequenced);
  EXPECT_EQ(up.ns, 0xfffeu);
  ASSERT_NE(up.session, nullptr);
  EXPECT_EQ(up.session->local_session_id, 0xb7e1u);
  // The same UpstreamPacket next takes an ARP frame: nothing to sequence.
  Bytes arp = ethernet({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kLacMac, 0, 0x0806);
  append(arp, Bytes(28, 0));
  MbufPtr a(arp);
  ASSERT_EQ(classify_upstream(a.m, *table_, 0, up, why), Verdict::kControl);
  EXPECT_FALSE(up.sequenced);
  // And an unsequenced fixed-shape data message clears it too.
  MbufPtr plain(data(0x0021, ip()));
  up.sequenced = true;
  ASSERT_EQ(classify_upstream(plain.m, *table_, 0, up, why), Verdict::kFast);
  EXPECT_FALSE(up.sequenced);
}

TEST_F(FastPathTest, SpoofedInnerSourceIsACountedDrop) {
  ASSERT_TRUE(table_->publish(entry()));
  MbufPtr pkt(upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner_ipv4(ipv4(100, 64, 0, 11), kInternetHost, 64))));
  const Bytes before = from_mbuf(pkt.m);
  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(pkt.m, *table_, 0, up, why), Verdict::kFast);
  EXPECT_FALSE(decap_ipv4(pkt.m, up, CoreL2Header(hop_), table_->state(0xb7e1), why));
  EXPECT_EQ(why, Drop::kSpoofedSource);
  EXPECT_EQ(from_mbuf(pkt.m), before);
  EXPECT_EQ(table_->state(0xb7e1).rx_packets, 0u);
}

TEST_F(FastPathTest, UpstreamTtlOfOneIsDroppedAndMalformedInnerToo) {
  ASSERT_TRUE(table_->publish(entry()));
  for (auto [inner, drop] : {std::pair{inner_ipv4(kSubscriber, kInternetHost, 1), Drop::kTtlExceeded},
                             std::pair{Bytes{0x45, 0, 0, 10}, Drop::kInnerIpv4Header},
                             std::pair{Bytes(30, 0x65), Drop::kInnerIpv4Header}}) {
    MbufPtr pkt(upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, inner)));
    UpstreamPacket up;
    Drop why = Drop::kCount;
    ASSERT_EQ(classify_upstream(pkt.m, *table_, 0, up, why), Verdict::kFast);
    EXPECT_FALSE(decap_ipv4(pkt.m, up, CoreL2Header(hop_), table_->state(0xb7e1), why));
    EXPECT_STREQ(drop_name(why), drop_name(drop));
  }
}

// ---------------------------------------------------------- downstream

// The outer headers we must send for the fixture's session.
Bytes expected_encap(const Bytes& inner_forwarded, uint16_t vlan, bool sequenced, uint16_t ns) {
  Bytes l2tp;
  put16(l2tp, sequenced ? 0x0802 : 0x0002);
  put16(l2tp, 0x0457);
  put16(l2tp, 0x22b8);
  if (sequenced) {
    put16(l2tp, ns);
    put16(l2tp, 0);
  }
  append(l2tp, Bytes{0xFF, 0x03, 0x00, 0x21});
  append(l2tp, inner_forwarded);
  Outer o;
  o.dst = FastPathTest::kLacMac;
  o.src = FastPathTest::kOurAccessMac;
  o.vlan = vlan;
  o.ip_src = FastPathTest::kOurAddr;
  o.ip_dst = FastPathTest::kLacAddr;
  return udp_frame(o, l2tp);
}

class EncapFlags : public FastPathTest, public ::testing::WithParamInterface<std::tuple<bool, bool, bool>> {};

TEST_P(EncapFlags, PrependsTheSessionTemplateWithLengthsChecksumAndNs) {
  auto [vlan, sequenced, core_vlan] = GetParam();
  const uint16_t vid = vlan ? 3000 : 0;
  ASSERT_TRUE(table_->publish(entry(vid, sequenced)));
  for (uint16_t ns = 0; ns < 3; ++ns) {
    const Bytes inner = inner_ipv4(kInternetHost, kSubscriber, 57, static_cast<uint16_t>(18 + ns * 101));
    MbufPtr pkt(cat(ethernet(kOurCoreMac, kRouterMac, core_vlan ? 7 : 0, 0x0800), inner));
    DownstreamPacket down;
    Drop why = Drop::kCount;
    ASSERT_EQ(classify_downstream(pkt.m, down, why), Verdict::kFast);
    const Session* s = table_->lookup_subscriber(down.dst);
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(encap_ipv4(pkt.m, down, *s, table_->state(s->local_session_id), 0, why));
    EXPECT_EQ(from_mbuf(pkt.m), expected_encap(forwarded(inner), vid, sequenced, ns)) << "packet " << ns;
  }
  EXPECT_EQ(table_->state(0xb7e1).tx_packets, 3u);
}

INSTANTIATE_TEST_SUITE_P(VlanSequencedCoreVlan, EncapFlags,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool()));

TEST_F(FastPathTest, NsWrapsModulo65536) {
  ASSERT_TRUE(table_->publish(entry(0, true)));
  table_->state(0xb7e1).next_ns = 0xFFFF;
  for (uint16_t ns : {0xFFFF, 0x0000}) {
    const Bytes inner = inner_ipv4(kInternetHost, kSubscriber, 64);
    MbufPtr pkt(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner));
    DownstreamPacket down;
    Drop why;
    ASSERT_EQ(classify_downstream(pkt.m, down, why), Verdict::kFast);
    ASSERT_TRUE(encap_ipv4(pkt.m, down, *table_->lookup_subscriber(down.dst), table_->state(0xb7e1), 0, why));
    EXPECT_EQ(from_mbuf(pkt.m), expected_encap(forwarded(inner), 0, true, ns));
  }
}

TEST_F(FastPathTest, EncapDropsEthernetPaddingOfShortPackets) {
  ASSERT_TRUE(table_->publish(entry()));
  const Bytes inner = inner_ipv4(kInternetHost, kSubscriber, 64, 2);  // 30 octets: padded to 60
  Bytes frame = cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner);
  frame.resize(60, 0);
  MbufPtr pkt(frame);
  DownstreamPacket down;
  Drop why;
  ASSERT_EQ(classify_downstream(pkt.m, down, why), Verdict::kFast);
  ASSERT_TRUE(encap_ipv4(pkt.m, down, *table_->lookup_subscriber(down.dst), table_->state(0xb7e1), 0, why));
  EXPECT_EQ(from_mbuf(pkt.m), expected_encap(forwarded(inner), 0, false, 0));
}

TEST_F(FastPathTest, DownstreamDropsAndPunts) {
  ASSERT_TRUE(table_->publish(entry()));
  DownstreamPacket down;
  Drop why = Drop::kCount;
  {
    MbufPtr arp(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0806), Bytes(28, 0)));
    EXPECT_EQ(classify_downstream(arp.m, down, why), Verdict::kControl);
  }
  {
    MbufPtr v6(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x86DD), Bytes(40, 0)));
    EXPECT_EQ(classify_downstream(v6.m, down, why), Verdict::kDrop);
    EXPECT_EQ(why, Drop::kNotIpv4);
  }
  {
    MbufPtr other(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner_ipv4(kInternetHost, ipv4(100, 64, 0, 99), 64)));
    ASSERT_EQ(classify_downstream(other.m, down, why), Verdict::kFast);
    EXPECT_EQ(table_->lookup_subscriber(down.dst), nullptr);
  }
  {
    MbufPtr ttl(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner_ipv4(kInternetHost, kSubscriber, 1)));
    ASSERT_EQ(classify_downstream(ttl.m, down, why), Verdict::kFast);
    const Bytes before = from_mbuf(ttl.m);
    EXPECT_FALSE(encap_ipv4(ttl.m, down, *table_->lookup_subscriber(down.dst), table_->state(0xb7e1), 0, why));
    EXPECT_EQ(why, Drop::kTtlExceeded);
    EXPECT_EQ(from_mbuf(ttl.m), before);
    EXPECT_FALSE(encap_ipv4(ttl.m, down, *table_->lookup_subscriber(down.dst), table_->state(0xb7e1), 1, why));
    EXPECT_EQ(why, Drop::kNotOwner);
  }
  {
    Bytes bad = cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner_ipv4(kInternetHost, kSubscriber, 64));
    bad[14] = 0x46;  // IHL 24 with no options: total length still fine, header check is on IHL vs data
    bad[16] = 0;
    bad[17] = 20;  // total length shorter than IHL
    MbufPtr m(bad);
    EXPECT_EQ(classify_downstream(m.m, down, why), Verdict::kDrop);
    EXPECT_EQ(why, Drop::kIpv4Header);
  }
}

}  // namespace
}  // namespace l2tp::dp::test

namespace l2tp::dp::test {
namespace {

TEST_F(FastPathTest, SessionHintFindsTheSessionIdBehindEveryHeaderVariant) {
  for (bool length : {false, true})
    for (uint16_t vlan : {0, 100}) {
      L2tpOptions o;
      o.length = length;
      o.sequence = true;
      MbufPtr m(upstream(l2tp_ppp(0x4d2a, 0xb7e1, o, 0x0021, Bytes(20, 0x45)), vlan));
      EXPECT_EQ(upstream_session_hint(m.m), 0xb7e1) << length << " " << vlan;
    }
  L2tpOptions control;
  control.control = control.length = control.sequence = true;
  MbufPtr c(upstream(l2tp_ppp(0x4d2a, 0xb7e1, control, 0xC021, {})));
  EXPECT_EQ(upstream_session_hint(c.m), 0) << "control messages are not prefetched";
  MbufPtr runt(Bytes(20, 0));
  EXPECT_EQ(upstream_session_hint(runt.m), 0);
}

TEST_F(FastPathTest, TheControlPlaneSeesOnlyTheFastPathInterface) {
  control::FastPath& seam = *table_;
  ASSERT_TRUE(seam.publish(entry()));
  EXPECT_NE(table_->lookup_subscriber(rte_cpu_to_be_32(kSubscriber)), nullptr);
  EXPECT_TRUE(seam.withdraw(0xb7e1));
  EXPECT_EQ(table_->by_session_id(0xb7e1), nullptr);
}


// The worker reads the common data message in one look (upstream_shape)
// and then checks only its session (classify_shaped): for every frame the
// shortcut takes, the verdict, the packet description and the drop reason
// must be classify_upstream()'s. Every flag combination, known and unknown
// sessions, a session outside the fast path, another owner, and thousands
// of frames with header octets changed at random or cut short.
TEST_F(FastPathTest, TheCommonShapeShortcutAgreesWithTheFullClassifier) {
  control::FastPathEntry slow = entry();
  slow.local_session_id = 0x0101;
  slow.subscriber_addr = 0;  // known, PPP all to control
  ASSERT_TRUE(table_->publish(entry()));
  ASSERT_TRUE(table_->publish(slow));
  std::vector<Bytes> seeds;
  const Bytes ip = inner_ipv4(kSubscriber, kInternetHost, 64);
  for (unsigned bits = 0; bits < 64; ++bits) {
    L2tpOptions o;
    o.length = bits & 1;
    o.sequence = bits & 2;
    o.offset = bits & 4;
    o.address_control = !(bits & 8);
    o.protocol_compressed = bits & 16;
    for (uint16_t session : {uint16_t{0xb7e1}, uint16_t{0x0101}, uint16_t{0x0999}})
      seeds.push_back(upstream(l2tp_ppp(0x4d2a, session, o, 0x0021, ip), (bits & 32) ? 7 : 0));
  }
  seeds.push_back(upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0xC021, {1, 1, 0, 4})));
  std::mt19937 rng(11);
  unsigned shaped = 0, fast = 0, compared = 0;
  auto check = [&](const Bytes& frame, uint16_t worker) {
    MbufPtr pkt(frame);
    UpstreamPacket full, quick;
    Drop full_drop = Drop::kCount, quick_drop = Drop::kCount;
    const Verdict v = classify_upstream(pkt.m, *table_, worker, full, full_drop);
    UpstreamShape sh;
    if (!upstream_shape(pkt.m, sh)) return;
    ++shaped;
    const Verdict q = classify_shaped(sh, *table_, worker, quick, quick_drop);
    ASSERT_EQ(q, v);
    ASSERT_EQ(quick_drop, full_drop);
    if (v != Verdict::kDrop) {
      ASSERT_EQ(quick.session, full.session);
      ASSERT_EQ(quick.sequenced, full.sequenced);
      ASSERT_EQ(quick.ns, full.ns);
    }
    if (v == Verdict::kFast) {
      ++fast;
      ASSERT_EQ(quick.inner_offset, full.inner_offset);
      ASSERT_EQ(quick.inner_len, full.inner_len);
    }
    ++compared;
  };
  for (const Bytes& seed : seeds) {
    for (uint16_t worker : {uint16_t{0}, uint16_t{1}}) check(seed, worker);
    for (int k = 0; k < 600; ++k) {
      Bytes b = seed;
      const int changes = 1 + static_cast<int>(rng() % 3);
      for (int c = 0; c < changes; ++c) {
        const size_t at = rng() % std::min<size_t>(b.size(), 64);
        // Mostly small changes, so that lengths and ports stay near valid.
        b[at] = (rng() & 1) ? static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8))) : static_cast<uint8_t>(rng());
      }
      if (rng() % 8 == 0) b.resize(b.size() - 1 - rng() % std::min<size_t>(b.size() - 1, 40));
      check(b, 0);
    }
  }
  EXPECT_GT(fast, 4u);      // the valid shapes took the shortcut to the fast path
  EXPECT_GT(shaped, 1000u);  // and many changed frames were compared
  EXPECT_EQ(compared, shaped);
}

// decap_shaped() takes the frames nearly every LAC sends, with the same
// result as decap_ipv4(), and refuses, changing nothing, what the general
// path must judge (its drop reasons are decap_ipv4()'s).
TEST_F(FastPathTest, DecapShapedTakesTheCommonFramesAsDecapIpv4AndRefusesTheRest) {
  ASSERT_TRUE(table_->publish(entry()));
  const Session& s = *table_->by_session_id(0xb7e1);
  auto ip_from = [](uint32_t src, uint8_t ttl = 64) { return inner_ipv4(src, kInternetHost, ttl); };
  Bytes with_options = ip_from(kSubscriber);
  with_options[0] = 0x46;
  with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});
  L2tpOptions with_length;
  with_length.length = true;
  struct Case {
    Bytes frame;
    bool taken;
  };
  const std::vector<Case> cases{
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber))), true},
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, with_length, 0x0021, ip_from(kSubscriber))), true},
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, cat(ip_from(kSubscriber), Bytes(7, 0)))), true},
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber + 1))), false},  // spoofed
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, ip_from(kSubscriber, 1))), false},
      {upstream(l2tp_ppp(0x4d2a, 0xb7e1, {}, 0x0021, with_options)), false},
  };
  for (const uint16_t vlan : {uint16_t{0}, uint16_t{42}}) {
    CoreNextHop hop = hop_;
    hop.vlan = vlan;
    const CoreL2Header l2(hop);
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(testing::Message() << "case " << i << " vlan " << vlan);
      MbufPtr quick(cases[i].frame), general(cases[i].frame);
      UpstreamShape sh;
      ASSERT_TRUE(upstream_shape(quick.m, sh));
      SessionState quick_state, general_state;
      ASSERT_EQ(decap_shaped(quick.m, sh, s, l2, quick_state), cases[i].taken);
      if (!cases[i].taken) {
        EXPECT_EQ(from_mbuf(quick.m), cases[i].frame) << "refused: unchanged";
        EXPECT_EQ(quick_state.rx_packets, 0u);
        continue;
      }
      UpstreamPacket up;
      Drop why = Drop::kCount;
      ASSERT_EQ(classify_upstream(general.m, *table_, 0, up, why), Verdict::kFast);
      ASSERT_TRUE(decap_ipv4(general.m, up, l2, general_state, why));
      EXPECT_EQ(from_mbuf(quick.m), from_mbuf(general.m));
      EXPECT_EQ(quick.m->l2_len, general.m->l2_len);
      EXPECT_EQ(quick.m->l3_len, general.m->l3_len);
      EXPECT_EQ(quick_state.rx_packets, 1u);
      EXPECT_EQ(quick_state.rx_bytes, general_state.rx_bytes);
    }
  }
}

}  // namespace
}  // namespace l2tp::dp::test
