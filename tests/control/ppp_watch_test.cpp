#include "control/ppp_watch.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/net.hpp"
#include "shared/header.hpp"
#include "tools/pcap_frames.hpp"

namespace l2tp::control {
namespace {

constexpr std::array<uint8_t, 4> kLac{192, 0, 2, 1};

struct Recorder {
  std::vector<std::string> events;
  PppLinkState last;
  PppWatch watch{[this](PppEvent e, const PppLinkState& s) {
    events.emplace_back(ppp_event_name(e));
    last = s;
  }};
};

// Replays the PPP frames of a real capture (xl2tpd LAC and LNS, each with
// pppd) as the LNS's handler sees them: the LAC's frames come from the
// peer, the LNS's from the local pppd.
void replay(const std::string& pcap, Recorder& r) {
  auto cap = l2tp::tools::read_capture(std::string(L2TP_TEST_DATA) + "/captures/" + pcap);
  ASSERT_EQ(cap.error, "");
  for (const auto& d : cap.frames) {
    auto h = wire::decode_header(d.payload);
    if (!h || h->control) continue;
    const auto payload = std::span(d.payload).subspan(h->header_len, h->message_len - h->header_len);
    r.watch.observe(d.src_ip == kLac ? PppDirection::kFromPeer : PppDirection::kFromLocal, payload);
  }
}

TEST(PppWatch, RealPppdSessionGoesUpAndDownWithItsAddresses) {
  Recorder r;
  replay("xl2tpd-basic.pcap", r);
  // pppd on both ends: LCP, IPCP and IPV6CP open, then the LAC's pppd
  // ends LCP (Terminate-Request), taking the network protocols down first.
  ASSERT_GE(r.events.size(), 4u);
  EXPECT_EQ(r.events.front(), "LCP up");
  EXPECT_NE(std::find(r.events.begin(), r.events.end(), "IPCP up"), r.events.end());
  EXPECT_NE(std::find(r.events.begin(), r.events.end(), "IPV6CP up"), r.events.end());
  EXPECT_EQ(r.events.back(), "LCP down");
  EXPECT_FALSE(r.watch.state().lcp_up);
  EXPECT_FALSE(r.watch.state().ipcp_up);
  // The addresses outlive the link in the state (the shared capture README:
  // subscriber 10.9.0.10, LNS 10.9.0.1).
  EXPECT_EQ(r.watch.state().peer_ipv4, ipv4(10, 9, 0, 10));
  EXPECT_EQ(r.watch.state().local_ipv4, ipv4(10, 9, 0, 1));
  EXPECT_NE(r.watch.state().peer_interface_id, 0u);
  EXPECT_NE(r.watch.state().local_interface_id, 0u);
  EXPECT_NE(r.watch.state().peer_interface_id, r.watch.state().local_interface_id);
  EXPECT_EQ(r.watch.counters().unparsable, 0u);
}

TEST(PppWatch, IpcpUpCarriesBothAddresses) {
  PppLinkState at_ipcp;
  PppWatch w([&](PppEvent e, const PppLinkState& s) {
    if (e == PppEvent::kIpcpUp) at_ipcp = s;
  });
  auto cap = l2tp::tools::read_capture(std::string(L2TP_TEST_DATA) + "/captures/xl2tpd-user.pcap");
  ASSERT_EQ(cap.error, "");
  for (const auto& d : cap.frames) {
    auto h = wire::decode_header(d.payload);
    if (!h || h->control) continue;
    w.observe(d.src_ip == kLac ? PppDirection::kFromPeer : PppDirection::kFromLocal,
              std::span(d.payload).subspan(h->header_len, h->message_len - h->header_len));
  }
  EXPECT_TRUE(at_ipcp.ipcp_up);
  EXPECT_TRUE(at_ipcp.lcp_up);
  EXPECT_EQ(at_ipcp.peer_ipv4, ipv4(10, 9, 0, 10));
  EXPECT_EQ(at_ipcp.local_ipv4, ipv4(10, 9, 0, 1));
}

TEST(PppWatch, PapNameIsTheOneTheLnsAcknowledged) {
  Recorder r;
  replay("xl2tpd-auth.pcap", r);
  EXPECT_NE(std::find(r.events.begin(), r.events.end(), "authenticated"), r.events.end());
  // LCP down still says who went (for accounting), then the name is cleared.
  EXPECT_EQ(r.events.back(), "LCP down");
  EXPECT_EQ(r.last.peer_auth_name, "alice");
  EXPECT_EQ(r.watch.state().peer_auth_name, "");
  // The event itself carried it.
  std::string name;
  PppWatch w([&](PppEvent e, const PppLinkState& s) {
    if (e == PppEvent::kAuthenticated) name = s.peer_auth_name;
  });
  auto cap = l2tp::tools::read_capture(std::string(L2TP_TEST_DATA) + "/captures/xl2tpd-auth.pcap");
  for (const auto& d : cap.frames) {
    auto h = wire::decode_header(d.payload);
    if (!h || h->control) continue;
    w.observe(d.src_ip == kLac ? PppDirection::kFromPeer : PppDirection::kFromLocal,
              std::span(d.payload).subspan(h->header_len, h->message_len - h->header_len));
  }
  EXPECT_EQ(name, "alice");
}

// Hand-made frames: FF 03, protocol, code, id, length, options.
std::vector<uint8_t> cp(uint16_t proto, uint8_t code, uint8_t id, std::vector<uint8_t> options) {
  std::vector<uint8_t> f{0xFF, 0x03, static_cast<uint8_t>(proto >> 8), static_cast<uint8_t>(proto), code, id, 0, 0};
  const size_t len = 4 + options.size();
  f[6] = static_cast<uint8_t>(len >> 8);
  f[7] = static_cast<uint8_t>(len);
  for (uint8_t b : options) f.push_back(b);  // (insert() trips gcc 12's -Warray-bounds)
  return f;
}

TEST(PppWatch, MruOfEachSideComesFromTheAckOfItsRequest) {
  PppWatch w;
  const std::vector<uint8_t> peer_mru{1, 4, 0x05, 0xD4};   // 1492
  const std::vector<uint8_t> local_mru{1, 4, 0x05, 0x78};  // 1400
  w.observe(PppDirection::kFromPeer, cp(0xC021, 1, 1, peer_mru));
  w.observe(PppDirection::kFromLocal, cp(0xC021, 1, 7, local_mru));
  w.observe(PppDirection::kFromLocal, cp(0xC021, 2, 1, peer_mru));  // local acks the peer's
  EXPECT_FALSE(w.state().lcp_up);  // one direction only
  w.observe(PppDirection::kFromPeer, cp(0xC021, 2, 7, local_mru));
  EXPECT_TRUE(w.state().lcp_up);
  EXPECT_EQ(w.state().peer_mru, 1492);
  EXPECT_EQ(w.state().local_mru, 1400);
}

TEST(PppWatch, RenegotiationTakesLcpAndTheNetworkProtocolsDown) {
  std::vector<std::string> events;
  PppWatch w([&](PppEvent e, const PppLinkState&) { events.emplace_back(ppp_event_name(e)); });
  auto open = [&](uint16_t proto, std::vector<uint8_t> peer_opts, std::vector<uint8_t> local_opts) {
    w.observe(PppDirection::kFromPeer, cp(proto, 1, 1, peer_opts));
    w.observe(PppDirection::kFromLocal, cp(proto, 1, 2, local_opts));
    w.observe(PppDirection::kFromLocal, cp(proto, 2, 1, peer_opts));
    w.observe(PppDirection::kFromPeer, cp(proto, 2, 2, local_opts));
  };
  open(0xC021, {}, {});
  open(0x8021, {3, 6, 10, 0, 0, 5}, {3, 6, 10, 0, 0, 1});
  EXPECT_TRUE(w.state().ipcp_up);
  EXPECT_EQ(w.state().peer_ipv4, ipv4(10, 0, 0, 5));
  // The peer starts LCP over: everything above LCP is down with it.
  w.observe(PppDirection::kFromPeer, cp(0xC021, 1, 9, {}));
  EXPECT_FALSE(w.state().lcp_up);
  EXPECT_FALSE(w.state().ipcp_up);
  EXPECT_EQ(events, (std::vector<std::string>{"LCP up", "IPCP up", "IPCP down", "LCP down"}));
  // IPCP's own Terminate-Request takes only IPCP down.
  events.clear();
  open(0xC021, {}, {});
  open(0x8021, {3, 6, 10, 0, 0, 5}, {3, 6, 10, 0, 0, 1});
  w.observe(PppDirection::kFromLocal, cp(0x8021, 5, 3, {}));
  EXPECT_TRUE(w.state().lcp_up);
  EXPECT_FALSE(w.state().ipcp_up);
  EXPECT_EQ(events, (std::vector<std::string>{"LCP up", "IPCP up", "IPCP down"}));
}

TEST(PppWatch, ChapNameComesFromTheResponseThatGotSuccess) {
  PppWatch w;
  // Response: Value-Size 2, value, name "bob"; then Success from pppd.
  w.observe(PppDirection::kFromPeer, cp(0xC223, 2, 1, {2, 0xAA, 0xBB, 'b', 'o', 'b'}));
  EXPECT_EQ(w.state().peer_auth_name, "");
  w.observe(PppDirection::kFromLocal, cp(0xC223, 3, 1, {}));
  EXPECT_EQ(w.state().peer_auth_name, "bob");
  EXPECT_EQ(w.state().local_auth_name, "");
}

TEST(PppWatch, CompressedFramesAreReadToo) {
  PppWatch w;
  // No FF 03 (ACFC) and a one-octet protocol would be invalid for LCP
  // (0xC021 cannot compress), so only ACFC here.
  auto strip = [](std::vector<uint8_t> f) { return std::vector<uint8_t>(f.begin() + 2, f.end()); };
  w.observe(PppDirection::kFromPeer, strip(cp(0xC021, 1, 1, {})));
  w.observe(PppDirection::kFromLocal, strip(cp(0xC021, 1, 2, {})));
  w.observe(PppDirection::kFromLocal, strip(cp(0xC021, 2, 1, {})));
  w.observe(PppDirection::kFromPeer, strip(cp(0xC021, 2, 2, {})));
  EXPECT_TRUE(w.state().lcp_up);
}

TEST(PppWatch, MalformedPacketsAreCountedAndChangeNothing) {
  PppWatch w;
  w.observe(PppDirection::kFromPeer, std::vector<uint8_t>{});                   // no protocol
  w.observe(PppDirection::kFromPeer, std::vector<uint8_t>{0xFF, 0x03, 0xC0, 0x21, 2});  // short header
  auto bad_len = cp(0xC021, 2, 1, {});
  bad_len[7] = 200;  // Length beyond the frame
  w.observe(PppDirection::kFromPeer, bad_len);
  w.observe(PppDirection::kFromPeer, cp(0x8021, 2, 1, {3, 1}));     // option length below 2
  w.observe(PppDirection::kFromPeer, cp(0x8021, 2, 1, {3, 9, 1}));  // option past the end
  w.observe(PppDirection::kFromPeer, cp(0xC023, 1, 1, {9, 'x'}));   // PAP peer-id past the end
  EXPECT_EQ(w.counters().unparsable, 6u);
  EXPECT_FALSE(w.state().lcp_up);
  EXPECT_FALSE(w.state().ipcp_up);
}

}  // namespace
}  // namespace l2tp::control
