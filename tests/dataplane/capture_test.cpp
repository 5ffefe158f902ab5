// A real data message from xl2tpd 1.3.18 (tests/captures/xl2tpd-user.pcap,
// Length bit set, FF 03 present) through classify and decap, and the
// reverse direction's inner packet through encap.

#include <gtest/gtest.h>

#include <string>

#include "dataplane/classify.hpp"
#include "dataplane/decap.hpp"
#include "dataplane/encap.hpp"
#include "fixture.hpp"
#include "shared/header.hpp"
#include "shared/ppp.hpp"
#include "tools/pcap_frames.hpp"

namespace l2tp::dp::test {
namespace {

using CaptureTest = FastPathTest;

uint32_t host_addr(const std::array<uint8_t, 4>& a) { return ipv4(a[0], a[1], a[2], a[3]); }

TEST_F(CaptureTest, XL2tpdDataMessageDecapsulatesToItsInnerPacket) {
  auto cap = tools::read_capture(std::string(L2TP_TEST_CAPTURES) + "/xl2tpd-user.pcap");
  ASSERT_TRUE(cap.error.empty()) << cap.error;
  // The first IPv4 data message, and the first one the other way.
  const tools::Datagram* there = nullptr;
  const tools::Datagram* back = nullptr;
  for (const auto& d : cap.frames) {
    auto h = wire::decode_header(d.payload);
    if (!h || h->control) continue;
    auto ppp = wire::parse_ppp(std::span<const uint8_t>(d.payload).subspan(h->header_len, h->message_len - h->header_len));
    if (!ppp || ppp->protocol != wire::ppp::kIpv4) continue;
    if (there == nullptr) there = &d;
    else if (back == nullptr && d.src_ip != there->src_ip) back = &d;
  }
  ASSERT_NE(there, nullptr);
  ASSERT_NE(back, nullptr);
  auto h_there = *wire::decode_header(there->payload);
  auto h_back = *wire::decode_header(back->payload);
  ASSERT_TRUE(h_there.has_length);
  auto inner_of = [](const tools::Datagram& d, const wire::Header& h) {
    auto ppp = *wire::parse_ppp(std::span<const uint8_t>(d.payload).subspan(h.header_len, h.message_len - h.header_len));
    return Bytes(ppp.information.begin(), ppp.information.end());
  };
  const Bytes inner = inner_of(*there, h_there);
  const Bytes inner_back = inner_of(*back, h_back);

  // We are the receiver of `there`: its IDs are ours, `back`'s the peer's.
  control::FastPathEntry e;
  e.local_tunnel_id = h_there.tunnel_id;
  e.local_session_id = h_there.session_id;
  e.peer_tunnel_id = h_back.tunnel_id;
  e.peer_session_id = h_back.session_id;
  e.local = {host_addr(there->dst_ip), there->dst_port};
  e.peer = {host_addr(there->src_ip), there->src_port};
  e.subscriber_addr = ipv4(inner[12], inner[13], inner[14], inner[15]);
  e.local_mac = kOurAccessMac;
  e.peer_mac = kLacMac;
  ASSERT_TRUE(table_->publish(e));

  Outer o;
  o.dst = kOurAccessMac;
  o.src = kLacMac;
  o.ip_src = e.peer.addr;
  o.ip_dst = e.local.addr;
  o.sport = there->src_port;
  o.dport = there->dst_port;
  rte_mbuf* m = to_mbuf(udp_frame(o, there->payload));
  ASSERT_NE(m, nullptr);
  UpstreamPacket up;
  Drop why = Drop::kCount;
  ASSERT_EQ(classify_upstream(m, *table_, 0, up, why), Verdict::kFast);
  ASSERT_TRUE(decap_ipv4(m, up, CoreL2Header(hop_), table_->state(e.local_session_id), why)) << drop_name(why);
  EXPECT_EQ(from_mbuf(m), cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(inner)));
  rte_pktmbuf_free(m);

  // The reply comes from the core side; after encap, xl2tpd would read the
  // same PPP frame it sent (less one TTL), under the peer's IDs.
  m = to_mbuf(cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), inner_back));
  ASSERT_NE(m, nullptr);
  DownstreamPacket down;
  ASSERT_EQ(classify_downstream(m, down, why), Verdict::kFast);
  const Session* s = table_->lookup_subscriber(down.dst);
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(encap_ipv4(m, down, *s, table_->state(s->local_session_id), 0, why));
  const Bytes out = from_mbuf(m);
  rte_pktmbuf_free(m);
  ASSERT_GT(out.size(), 14u + 28u);
  const std::span<const uint8_t> datagram(out.data() + 14 + 28, out.size() - 14 - 28);
  auto h = wire::decode_header(datagram);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->tunnel_id, h_back.tunnel_id);
  EXPECT_EQ(h->session_id, h_back.session_id);
  auto ppp = wire::parse_ppp(datagram.subspan(h->header_len));
  ASSERT_TRUE(ppp);
  EXPECT_EQ(ppp->protocol, wire::ppp::kIpv4);
  EXPECT_EQ(Bytes(ppp->information.begin(), ppp->information.end()), forwarded(inner_back));
}

}  // namespace
}  // namespace l2tp::dp::test
