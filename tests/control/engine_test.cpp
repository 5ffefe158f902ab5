// The Engine: demultiplexing, SCCRQ handling (retransmissions, policy,
// limits, tie breaker), counted drops, ID lifetimes, PPP frames in socket
// mode; two engines on the simulated network.

#include "control/engine.hpp"
#include "control/fast_path_handoff.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "shared/bytes.hpp"
#include "tests/control/sim_net.hpp"

using namespace l2tp::control;
using namespace l2tp::control::test;
using l2tp::wire::ResultCode;
namespace result = l2tp::wire::result;

namespace {

constexpr Endpoint kA{ipv4(192, 0, 2, 1), 1701};
constexpr Endpoint kB{ipv4(192, 0, 2, 2), 1701};

// DatagramIo onto the simulated network: node 0 is kA, node 1 is kB.
class SimIo : public DatagramIo {
 public:
  SimIo(SimNet& net, int node) : net_(net), node_(node) {}
  size_t send_batch(std::span<const TxDatagram> batch) override {
    for (const auto& d : batch) {
      EXPECT_EQ(d.meta.local, node_ == 0 ? kA : kB);
      sent.emplace_back(d.data.begin(), d.data.end());
      metas.push_back(d.meta);
      net_.send(node_, d.meta.peer == kA ? 0 : 1, d.data);
      ++counters_.tx_datagrams;
    }
    return batch.size();
  }
  size_t receive_batch(size_t, const DatagramFn&) override { return 0; }
  int wait_fd() const override { return -1; }
  const IoCounters& counters() const override { return counters_; }
  bool sequences_data() const override { return sequences; }
  bool sequences = false;  // as the data plane: Ns of data is the I/O's to write
  std::vector<std::vector<uint8_t>> sent;
  std::vector<DatagramMeta> metas;

 private:
  SimNet& net_;
  int node_;
  IoCounters counters_;
};

struct Recorder : ControlObserver {
  int tunnels_up = 0, tunnels_down = 0, sessions_up = 0, sessions_down = 0;
  std::vector<std::vector<uint8_t>> frames;
  std::optional<ResultCode> last_down;
  const Session* last_session = nullptr;
  void tunnel_up(const Tunnel&) override { ++tunnels_up; }
  void tunnel_down(const Tunnel&, const ResultCode& rc) override {
    ++tunnels_down;
    last_down = rc;
  }
  void session_up(const Session& s) override {
    ++sessions_up;
    last_session = &s;
  }
  void session_down(const Session&, const ResultCode&) override { ++sessions_down; }
  void ppp_frame(const Session&, std::span<const uint8_t> f) override { frames.emplace_back(f.begin(), f.end()); }
};

// The Engine's own (mutable) Session behind an observer's const pointer.
Session& session_of(Engine& e, const Session* s) { return *e.tunnel(s->tunnel().local_id())->session(s->local_id()); }

PeerPolicy accept_all(TunnelSettings s = {}) {
  return [s](const DatagramMeta&, const std::string&) { return PeerDecision{s, ""}; };
}

class Pair {
 public:
  explicit Pair(PeerPolicy lns_policy = accept_all(), EngineLimits lns_limits = {}, PeerPolicy lac_policy = accept_all())
      : io_a(net, 0), io_b(net, 1),
        a(io_a, rec_a, std::move(lac_policy), {}, 1),
        b(io_b, rec_b, std::move(lns_policy), lns_limits, 2) {
    net.attach(0, [this](int, std::span<const uint8_t> d, TimePoint now) { a.on_datagram({kA, kB}, d, now); });
    net.attach(1, [this](int, std::span<const uint8_t> d, TimePoint now) { b.on_datagram(b_in, d, now); });
  }
  DatagramMeta b_in{kB, kA};  // how the LNS's datagrams arrive (port, VLAN, worker)
  template <class Pred>
  bool run_until(Pred pred, Duration limit) {
    const TimePoint end = net.now() + limit;
    while (!pred()) {
      std::optional<TimePoint> next = net.next_arrival();
      for (Engine* e : {&a, &b})
        if (auto d = e->next_deadline(); d && (!next || *d < *next)) next = d;
      if (!next || *next > end) return pred();
      net.advance_to(std::max(*next, net.now()));
      a.on_timer(net.now());
      b.on_timer(net.now());
    }
    return true;
  }
  TimePoint now() const { return net.now(); }

  SimNet net;
  SimIo io_a, io_b;
  Recorder rec_a, rec_b;
  Engine a, b;
};

TEST(Engine, TunnelAndCallComeUpAndPppFramesFlowInSocketMode) {
  Pair p;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1 && p.rec_b.tunnels_up == 1; }, 10s));
  ASSERT_NE(t->place_call("", p.now()), nullptr);
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.sessions_up == 1 && p.rec_b.sessions_up == 1; }, 10s));
  const std::vector<uint8_t> lcp = {0xff, 0x03, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04};
  ASSERT_TRUE(p.a.send_ppp(session_of(p.a, p.rec_a.last_session), lcp, p.now()));
  ASSERT_TRUE(p.b.send_ppp(session_of(p.b, p.rec_b.last_session), lcp, p.now()));
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.frames.size() == 1 && p.rec_b.frames.size() == 1; }, 1s));
  EXPECT_EQ(p.rec_b.frames[0], lcp);
  EXPECT_EQ(p.b.counters().data_in, 1u);
  EXPECT_EQ(p.b.tunnel_count(), 1u);
  EXPECT_EQ(p.b.session_count(), 1u);
}

TEST(Engine, EverythingForATunnelLeavesByThePortAndVlanItsPeerCameInOn) {
  Pair p;
  p.b_in.port_id = 3;
  p.b_in.vlan = 100;
  p.b_in.worker = 1;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.tunnels_up == 1; }, 10s));
  ASSERT_NE(t->place_call("", p.now()), nullptr);
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.sessions_up == 1; }, 10s));
  ASSERT_TRUE(p.b.send_ppp(session_of(p.b, p.rec_b.last_session), std::vector<uint8_t>{0xff, 0x03, 0xc0, 0x21}, p.now()));
  ASSERT_FALSE(p.io_b.metas.empty());
  for (const DatagramMeta& m : p.io_b.metas) {  // SCCRP, ICRP, ZLBs and the data message
    EXPECT_EQ(m.port_id, 3);
    EXPECT_EQ(m.vlan, 100);
    EXPECT_EQ(m.worker, 1);
  }
  const auto route = p.b.route_of(p.rec_b.last_session->tunnel().local_id());
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->peer, kA);
  EXPECT_EQ(route->vlan, 100);
}

TEST(Engine, ACallPlacedFromOutsideLeavesAtTheRescheduleNotWithTheNextEvent) {
  // A FIFO command acts on a Tunnel directly, then reschedules: the ICRQ
  // must leave then, not with the next delayed ack or Hello (it once
  // waited for them: 100 ms per call, or a minute).
  Pair p;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1 && p.rec_b.tunnels_up == 1; }, 10s));
  const size_t before = p.io_a.sent.size();
  ASSERT_NE(t->place_call("", p.now()), nullptr);
  p.a.next_deadline();  // what EngineDriver::reschedule() does
  ASSERT_EQ(p.io_a.sent.size(), before + 1);
  const auto h = l2tp::wire::decode_header(p.io_a.sent.back());
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->control);
  EXPECT_EQ(h->header_len < p.io_a.sent.back().size(), true);  // not a ZLB: the ICRQ
}

TEST(Engine, SocketModeDataSequencingFollowsTheLnsAndDropsStaleNs) {
  Pair p;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.tunnels_up == 1; }, 10s));
  t->place_call("", p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.sessions_up == 1 && p.rec_b.sessions_up == 1; }, 10s));
  Session& lns = session_of(p.b, p.rec_b.last_session);
  Session& lac = session_of(p.a, p.rec_a.last_session);
  const std::vector<uint8_t> lcp = {0xff, 0x03, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x04};
  // Data with S and the given Ns (none: without S), as the peer of `to` sends it.
  auto data = [&](Engine& engine, const Session& to, DatagramMeta meta, std::optional<uint16_t> ns) {
    l2tp::wire::Header h;
    h.tunnel_id = to.tunnel().local_id();
    h.session_id = to.local_id();
    h.has_sequence = ns.has_value();
    h.ns = ns.value_or(0);
    std::vector<uint8_t> d(l2tp::wire::encoded_header_size(h) + lcp.size());
    EXPECT_TRUE(l2tp::wire::encode_header(h, lcp.size(), d));
    std::copy(lcp.begin(), lcp.end(), d.end() - static_cast<ptrdiff_t>(lcp.size()));
    engine.on_datagram(meta, d, p.now());
  };
  // The LAC's data with S and Ns 5, 3 (late: dropped), 6.
  const size_t before = p.rec_b.frames.size();
  data(p.b, lns, {kB, kA}, 5);
  data(p.b, lns, {kB, kA}, 3);
  data(p.b, lns, {kB, kA}, 6);
  EXPECT_EQ(p.rec_b.frames.size(), before + 2);
  EXPECT_EQ(p.b.counters().data_stale, 1u);
  // RFC 2661 5.4: without Sequencing Required the LNS decides; a LAC's S
  // bit never switches it on, so our LNS's data stays unsequenced.
  ASSERT_TRUE(p.b.send_ppp(lns, lcp, p.now()));
  EXPECT_FALSE(l2tp::wire::decode_header(p.io_b.sent.back())->has_sequence);
  EXPECT_FALSE(lns.sends_sequenced_data());
  // A LAC follows the S bit of what it receives: unsequenced until the
  // LNS's data carries S, then Ns from 0.
  ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
  EXPECT_FALSE(l2tp::wire::decode_header(p.io_a.sent.back())->has_sequence);
  data(p.a, lac, {kA, kB}, 0);
  ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
  auto h0 = l2tp::wire::decode_header(p.io_a.sent.back());
  ASSERT_TRUE(h0);
  EXPECT_TRUE(h0->has_sequence);
  EXPECT_EQ(h0->ns, 0);
  ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
  EXPECT_EQ(l2tp::wire::decode_header(p.io_a.sent.back())->ns, 1);
  // The LNS turns it off with data without S, and on again, at any time.
  data(p.a, lac, {kA, kB}, std::nullopt);
  ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
  EXPECT_FALSE(l2tp::wire::decode_header(p.io_a.sent.back())->has_sequence);
  data(p.a, lac, {kA, kB}, 1);
  ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
  auto h2 = l2tp::wire::decode_header(p.io_a.sent.back());
  ASSERT_TRUE(h2);
  EXPECT_TRUE(h2->has_sequence);
  EXPECT_EQ(h2->ns, 2);
}

TEST(Engine, WithADataPlaneDataIsTaggedWithItsSessionAndNsIsLeftToTheOwnerWorker) {
  Pair p;
  p.io_a.sequences = true;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.tunnels_up == 1; }, 10s));
  t->place_call("", p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.sessions_up == 1 && p.rec_b.sessions_up == 1; }, 10s));
  for (const DatagramMeta& m : p.io_a.metas) EXPECT_EQ(m.session, 0) << "control messages name no session";
  Session& lac = session_of(p.a, p.rec_a.last_session);
  lac.data_sequence().peer_sequences = true;  // the LNS sequences: a LAC follows (RFC 2661 5.4)
  const std::vector<uint8_t> lcp = {0xff, 0x03, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x04};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.a.send_ppp(lac, lcp, p.now()));
    const auto h = l2tp::wire::decode_header(p.io_a.sent.back());
    ASSERT_TRUE(h);
    EXPECT_FALSE(h->control);
    EXPECT_TRUE(h->has_sequence) << "S set: the worker fills Ns in";
    EXPECT_EQ(h->ns, 0);
    EXPECT_EQ(p.io_a.metas.back().session, lac.local_id());
  }
  EXPECT_EQ(lac.data_sequence().next_ns, 0) << "the control thread keeps no second counter";
}

TEST(Engine, RetransmittedSccrqReachesTheSameTunnel) {
  Pair p;
  p.net.set_profile({.loss = 0, .min_delay = 10ms, .max_delay = 10ms});
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_NE(t, nullptr);
  const std::vector<uint8_t> sccrq = p.io_a.sent.at(0);
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.tunnels_up == 0 && p.b.tunnel_count() == 1; }, 1s));
  // The same SCCRQ again (as if our SCCRP were lost): no second tunnel.
  p.b.on_datagram({kB, kA}, sccrq, p.now());
  EXPECT_EQ(p.b.tunnel_count(), 1u);
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1 && p.rec_b.tunnels_up == 1; }, 10s));
  EXPECT_EQ(p.b.tunnel_count(), 1u);
}

TEST(Engine, OtherVersionsAreDroppedSilentlyAndCounted) {
  Pair p;
  const std::vector<uint8_t> v3 = {0xc8, 0x03, 0x00, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0};
  p.b.on_datagram({kB, kA}, v3, p.now());
  EXPECT_EQ(p.b.counters().bad_version, 1u);
  EXPECT_TRUE(p.io_b.sent.empty());
  p.b.on_datagram({kB, kA}, std::vector<uint8_t>{0xc8}, p.now());
  EXPECT_EQ(p.b.counters().malformed, 1u);
}

TEST(Engine, PacketsForUnknownTunnelsAndSessionsAreCountedDrops) {
  Pair p;
  l2tp::wire::ControlMessage empty;
  empty.zlb = true;
  auto zlb = l2tp::wire::encode_control(l2tp::wire::control_header(777, 0, 0, 0), empty).value();
  p.b.on_datagram({kB, kA}, zlb, p.now());
  EXPECT_EQ(p.b.counters().unknown_tunnel, 1u);
  const std::vector<uint8_t> data = {0x00, 0x02, 0x03, 0x09, 0x00, 0x05, 0xff, 0x03, 0x00, 0x21};
  p.b.on_datagram({kB, kA}, data, p.now());
  EXPECT_EQ(p.b.counters().data_unknown, 1u);
  EXPECT_TRUE(p.io_b.sent.empty());
}

TEST(Engine, PolicyRefusalIsAOneShotStopCcnNotAuthorizedAndKeepsNoState) {
  Pair p([](const DatagramMeta&, const std::string& host) {
    return PeerDecision{std::nullopt, "host " + host + " is not in any lac list"};
  });
  TunnelSettings stranger;
  stranger.host_name = "stranger";
  p.a.open_tunnel(kA, kB, stranger, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_down == 1; }, 10s));
  EXPECT_EQ(p.rec_a.last_down->result, result::kNotAuthorized);
  EXPECT_EQ(p.rec_a.last_down->message, "host stranger is not in any lac list");
  EXPECT_EQ(p.b.tunnel_count(), 0u);
  EXPECT_EQ(p.b.counters().tunnels_refused, 1u);
}

TEST(Engine, TunnelLimitRefusesWithInsufficientResources) {
  EngineLimits limits;
  limits.max_tunnels = 2;
  Pair p(accept_all(), limits);
  for (int i = 0; i < 3; ++i) ASSERT_NE(p.a.open_tunnel(kA, kB, {}, p.now()), nullptr);
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 2 && p.rec_a.tunnels_down == 1; }, 10s));
  EXPECT_EQ(p.rec_a.last_down->error, l2tp::wire::error_code::kInsufficientResources);
  EXPECT_EQ(p.b.tunnel_count(), 2u);
}

TEST(Engine, SimultaneousSccrqsLeaveOneTunnelByTieBreaker) {
  Pair p;
  TunnelSettings low, high;
  low.tie_breaker = 0x1111;
  high.tie_breaker = 0x9999;
  p.a.open_tunnel(kA, kB, low, p.now());
  p.b.open_tunnel(kB, kA, high, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1 && p.rec_b.tunnels_up == 1; }, 10s));
  p.run_until([] { return false; }, 5s);
  // A's SCCRQ (lower) wins: B dropped its own and answered A's.
  EXPECT_EQ(p.a.tunnel_count(), 1u);
  EXPECT_EQ(p.b.tunnel_count(), 1u);
  EXPECT_EQ(p.b.counters().tie_breaker_lost, 1u);
  EXPECT_EQ(p.a.counters().tie_breaker_lost, 0u);
}

TEST(Engine, TeardownFreesEveryIdIntoQuarantine) {
  Pair p;
  Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1; }, 10s));
  for (int i = 0; i < 5; ++i) t->place_call("", p.now());
  ASSERT_TRUE(p.run_until([&] { return p.rec_b.sessions_up == 5; }, 10s));
  p.a.close_all({result::kBeingShutDown, 0, "shutting down"}, p.now());
  ASSERT_TRUE(p.run_until([&] { return p.a.tunnel_count() == 0 && p.b.tunnel_count() == 0; }, 60s));
  for (Engine* e : {&p.a, &p.b}) {
    EXPECT_EQ(e->session_ids().live(), 0u);
    EXPECT_EQ(e->tunnel_ids().live(), 0u);
    EXPECT_EQ(e->tunnel_ids().quarantined(), 1u);
  }
  EXPECT_EQ(p.b.session_ids().quarantined(), 5u);
  EXPECT_EQ(p.rec_b.last_down->result, result::kBeingShutDown);
}

TEST(Engine, ReplyFromAnotherPeerPortIsAccepted) {
  // RFC 2661 8.1: the SCCRP may come from a port other than 1701.
  Pair p;
  Tunnel* t = p.a.open_tunnel(kA, Endpoint{kB.addr, 1701}, {}, p.now());
  ASSERT_NE(t, nullptr);
  // Hand B's answers to A as if from port 40000.
  p.net.attach(0, [&](int, std::span<const uint8_t> d, TimePoint now) {
    p.a.on_datagram({kA, Endpoint{kB.addr, 40000}}, d, now);
  });
  ASSERT_TRUE(p.run_until([&] { return p.rec_a.tunnels_up == 1; }, 10s));
  bool found = false;
  p.a.for_each_tunnel([&](const Tunnel&, const Endpoint&, const Endpoint& peer) { found = peer.port == 40000; });
  EXPECT_TRUE(found);
}

}  // namespace

// ---- the fast-path handoff, on a call the Engine brought up ---------------

namespace {

struct RecordingFastPath : FastPath {
  std::vector<FastPathEntry> published;
  std::vector<uint16_t> withdrawn;
  uint32_t refuse_subscriber = 0;  // publish fails for this address
  bool publish(const FastPathEntry& e) override {
    if (e.subscriber_addr != 0 && e.subscriber_addr == refuse_subscriber) return false;
    published.push_back(e);
    return true;
  }
  bool withdraw(uint16_t sid) override {
    withdrawn.push_back(sid);
    return true;
  }
  // The live tunnels, with how many datagrams had left when each came up.
  struct Up {
    uint16_t id;
    Endpoint peer;
    size_t sent_before;
  };
  std::vector<Up> tunnels_up;
  std::vector<uint16_t> tunnels_down;
  const SimIo* io = nullptr;  // whose datagrams sent_before counts
  void tunnel_up(uint16_t id, const Endpoint& peer) override {
    tunnels_up.push_back({id, peer, io ? io->sent.size() : 0});
  }
  void tunnel_down(uint16_t id) override { tunnels_down.push_back(id); }
};

struct HandoffCall {
  Pair p;
  RecordingFastPath fp;
  FastPathHandoff handoff{fp};
  const Session* lns_session = nullptr;
  HandoffCall() {
    p.b_in.port_id = 1;
    p.b_in.vlan = 7;
    p.b_in.worker = 1;
    Tunnel* t = p.a.open_tunnel(kA, kB, {}, p.now());
    EXPECT_TRUE(p.run_until([&] { return p.rec_b.tunnels_up == 1; }, 10s));
    t->place_call("", p.now());
    EXPECT_TRUE(p.run_until([&] { return p.rec_b.sessions_up == 1; }, 10s));
    lns_session = p.rec_b.last_session;
    handoff.session_up(*lns_session, *p.b.route_of(lns_session->tunnel().local_id()));
  }
};

PppLinkState ipcp(uint32_t peer) {
  PppLinkState s;
  s.lcp_up = s.ipcp_up = true;
  s.peer_ipv4 = peer;
  s.local_ipv4 = ipv4(10, 9, 0, 1);
  return s;
}

}  // namespace

TEST(FastPathHandoff, EstablishedCallIsPublishedWithItsRouteAndNoSubscriberYet) {
  HandoffCall c;
  ASSERT_EQ(c.fp.published.size(), 1u);
  const FastPathEntry& e = c.fp.published[0];
  EXPECT_EQ(e.local_session_id, c.lns_session->local_id());
  EXPECT_EQ(e.local_tunnel_id, c.lns_session->tunnel().local_id());
  EXPECT_EQ(e.peer_session_id, c.lns_session->peer_id());
  EXPECT_EQ(e.peer_tunnel_id, c.lns_session->tunnel().peer_id());
  EXPECT_EQ(e.local, kB);
  EXPECT_EQ(e.peer, kA);
  EXPECT_EQ(e.access_port, 1);
  EXPECT_EQ(e.vlan, 7);
  EXPECT_EQ(e.owner_worker, 1);
  EXPECT_EQ(e.subscriber_addr, 0u);  // PPP all to the control thread until IPCP
  EXPECT_FALSE(e.sequenced);
  EXPECT_FALSE(e.follows_peer_sequencing) << "RFC 2661 5.4: the LNS decides, a LAC's S never switches it on";
}

TEST(FastPathHandoff, ALacsCallWithoutSequencingRequiredFollowsTheLns) {
  HandoffCall c;
  const Session* lac = c.p.rec_a.last_session;
  ASSERT_NE(lac, nullptr);
  ASSERT_EQ(lac->role(), Role::kLac);
  c.handoff.session_up(*lac, *c.p.a.route_of(lac->tunnel().local_id()));
  ASSERT_EQ(c.fp.published.size(), 2u);
  EXPECT_FALSE(c.fp.published[1].sequenced);
  EXPECT_TRUE(c.fp.published[1].follows_peer_sequencing);
}

TEST(FastPathHandoff, IpcpUpPutsTheSubscriberInTheFastPathAndDownTakesItOut) {
  HandoffCall c;
  const uint16_t sid = c.lns_session->local_id();
  c.handoff.link_event(sid, PppEvent::kLcpUp, PppLinkState{});
  EXPECT_EQ(c.fp.published.size(), 1u);  // LCP alone changes nothing
  c.handoff.link_event(sid, PppEvent::kIpcpUp, ipcp(ipv4(10, 9, 0, 10)));
  ASSERT_EQ(c.fp.published.size(), 2u);
  EXPECT_EQ(c.fp.published[1].subscriber_addr, ipv4(10, 9, 0, 10));
  EXPECT_EQ(c.fp.published[1].local_session_id, sid);
  c.handoff.link_event(sid, PppEvent::kIpcpDown, PppLinkState{});
  ASSERT_EQ(c.fp.published.size(), 3u);
  EXPECT_EQ(c.fp.published[2].subscriber_addr, 0u);
  c.handoff.link_event(sid, PppEvent::kLcpDown, PppLinkState{});  // already out: nothing again
  EXPECT_EQ(c.fp.published.size(), 3u);
  c.handoff.session_down(sid);
  EXPECT_EQ(c.fp.withdrawn, std::vector<uint16_t>{sid});
  EXPECT_EQ(c.handoff.sessions(), 0u);
  EXPECT_EQ(c.handoff.counters().fast, 1u);
  EXPECT_EQ(c.handoff.counters().slow, 1u);
}

TEST(FastPathHandoff, IpcpUpCarriesThePeerMruFromLcpAndARenegotiatedMruIsRepublished) {
  HandoffCall c;
  const uint16_t sid = c.lns_session->local_id();
  EXPECT_EQ(c.fp.published[0].peer_mru, 1500);  // RFC 1661 6.1 default until LCP says otherwise
  PppLinkState st = ipcp(ipv4(10, 9, 0, 10));
  st.peer_mru = 1492;
  c.handoff.link_event(sid, PppEvent::kIpcpUp, st);
  ASSERT_EQ(c.fp.published.size(), 2u);
  EXPECT_EQ(c.fp.published[1].peer_mru, 1492);
  EXPECT_EQ(c.handoff.entry(sid)->peer_mru, 1492);
  // Going slow keeps the MRU; LCP renegotiated a smaller one before IPCP
  // reopened: the fast path gets it.
  c.handoff.link_event(sid, PppEvent::kLcpDown, PppLinkState{});
  ASSERT_EQ(c.fp.published.size(), 3u);
  EXPECT_EQ(c.fp.published[2].peer_mru, 1492);
  st.peer_mru = 1400;
  c.handoff.link_event(sid, PppEvent::kIpcpUp, st);
  ASSERT_EQ(c.fp.published.size(), 4u);
  EXPECT_EQ(c.fp.published[3].subscriber_addr, ipv4(10, 9, 0, 10));
  EXPECT_EQ(c.fp.published[3].peer_mru, 1400);
}

TEST(FastPathHandoff, RefusedAddressStaysOnTheSlowPathAndIsCounted) {
  HandoffCall c;
  const uint16_t sid = c.lns_session->local_id();
  c.fp.refuse_subscriber = ipv4(10, 9, 0, 10);  // another session holds it
  c.handoff.link_event(sid, PppEvent::kIpcpUp, ipcp(ipv4(10, 9, 0, 10)));
  EXPECT_EQ(c.handoff.entry(sid)->subscriber_addr, 0u);
  EXPECT_EQ(c.handoff.counters().refused, 1u);
  EXPECT_EQ(c.handoff.counters().fast, 0u);
}

TEST(FastPathHandoff, EventsForUnknownSessionsAndDoubleWithdrawalsDoNothing) {
  HandoffCall c;
  c.handoff.link_event(4242, PppEvent::kIpcpUp, ipcp(ipv4(10, 9, 0, 11)));
  c.handoff.session_down(4242);
  EXPECT_EQ(c.fp.published.size(), 1u);
  EXPECT_TRUE(c.fp.withdrawn.empty());
  c.handoff.session_down(c.lns_session->local_id());
  c.handoff.session_down(c.lns_session->local_id());
  EXPECT_EQ(c.fp.withdrawn.size(), 1u);
}

// ---- the live tunnels, as the Engine tells the fast path -------------------

namespace {

struct TunnelSeam {
  Pair p;
  RecordingFastPath fa, fb;
  explicit TunnelSeam(PeerPolicy lns_policy = accept_all()) : p(std::move(lns_policy)) {
    fa.io = &p.io_a;
    fb.io = &p.io_b;
    p.a.set_fast_path(&fa);
    p.b.set_fast_path(&fb);
  }
  uint16_t only_tunnel(const Engine& e) {
    uint16_t id = 0;
    e.for_each_tunnel([&](const Tunnel& t, const Endpoint&, const Endpoint&) { id = t.local_id(); });
    return id;
  }
};

}  // namespace

TEST(EngineTunnelSeam, TunnelIdsAreLiveBeforeTheirSccrqOrSccrpLeavesAndUntilTheyAreFreed) {
  TunnelSeam s;
  Tunnel* t = s.p.a.open_tunnel(kA, kB, {}, s.p.now());
  ASSERT_NE(t, nullptr);
  // LAC: the ID is live for the LNS before our SCCRQ leaves.
  ASSERT_EQ(s.fa.tunnels_up.size(), 1u);
  EXPECT_EQ(s.fa.tunnels_up[0].id, t->local_id());
  EXPECT_EQ(s.fa.tunnels_up[0].peer, kB);
  EXPECT_EQ(s.fa.tunnels_up[0].sent_before, 0u);
  EXPECT_EQ(s.p.io_a.sent.size(), 1u);
  ASSERT_TRUE(s.p.run_until([&] { return s.p.rec_a.tunnels_up == 1 && s.p.rec_b.tunnels_up == 1; }, 10s));
  // LNS: live from the SCCRQ, before its SCCRP.
  ASSERT_EQ(s.fb.tunnels_up.size(), 1u);
  EXPECT_EQ(s.fb.tunnels_up[0].id, s.only_tunnel(s.p.b));
  EXPECT_EQ(s.fb.tunnels_up[0].peer, kA);
  EXPECT_EQ(s.fb.tunnels_up[0].sent_before, 0u);
  EXPECT_EQ(s.fa.tunnels_up.size(), 1u) << "the SCCRP publishes nothing more";

  const uint16_t a_id = t->local_id(), b_id = s.fb.tunnels_up[0].id;
  s.p.a.close_all({result::kBeingShutDown, 0, "shutting down"}, s.p.now());
  s.p.run_until([] { return false; }, 1s);
  // RFC 2661 5.7: both ends keep the tunnel a while for the StopCCN's
  // acknowledgement: still live for the workers.
  EXPECT_TRUE(s.fa.tunnels_down.empty());
  ASSERT_TRUE(s.p.run_until([&] { return s.p.a.tunnel_count() == 0 && s.p.b.tunnel_count() == 0; }, 60s));
  EXPECT_EQ(s.fa.tunnels_down, std::vector<uint16_t>{a_id});
  EXPECT_EQ(s.fb.tunnels_down, std::vector<uint16_t>{b_id});
  EXPECT_TRUE(s.fa.withdrawn.empty()) << "tunnels only: sessions are the handoff's";
}

TEST(EngineTunnelSeam, ARefusedSccrqPublishesNothingAndTheLacsOwnTunnelIsWithdrawnOnceFreed) {
  TunnelSeam s([](const DatagramMeta&, const std::string&) { return PeerDecision{std::nullopt, "go away"}; });
  s.p.a.open_tunnel(kA, kB, {}, s.p.now());
  ASSERT_TRUE(s.p.run_until([&] { return s.p.rec_a.tunnels_down == 1; }, 10s));
  EXPECT_TRUE(s.fb.tunnels_up.empty()) << "a refusal costs no state, and no live tunnel";
  // The LAC's own tunnel is freed after it heard the StopCCN.
  ASSERT_TRUE(s.p.run_until([&] { return s.p.a.tunnel_count() == 0; }, 60s));
  ASSERT_EQ(s.fa.tunnels_up.size(), 1u);
  EXPECT_EQ(s.fa.tunnels_down, std::vector<uint16_t>{s.fa.tunnels_up[0].id});
}

TEST(EngineTunnelSeam, TheTieBreakersLoserIsWithdrawnAndTheWinnerStaysLive) {
  TunnelSeam s;
  TunnelSettings low, high;
  low.tie_breaker = 0x1111;
  high.tie_breaker = 0x9999;
  s.p.a.open_tunnel(kA, kB, low, s.p.now());
  Tunnel* lost = s.p.b.open_tunnel(kB, kA, high, s.p.now());
  const uint16_t lost_id = lost->local_id();
  ASSERT_TRUE(s.p.run_until([&] { return s.p.rec_a.tunnels_up == 1 && s.p.rec_b.tunnels_up == 1; }, 10s));
  s.p.run_until([] { return false; }, 5s);
  ASSERT_EQ(s.p.b.tunnel_count(), 1u);
  ASSERT_EQ(s.fb.tunnels_up.size(), 2u);  // its own SCCRQ's, then the one answering A's
  EXPECT_EQ(s.fb.tunnels_up[0].id, lost_id);
  EXPECT_EQ(s.fb.tunnels_down, std::vector<uint16_t>{lost_id});
  EXPECT_EQ(s.fb.tunnels_up[1].id, s.only_tunnel(s.p.b));
  EXPECT_EQ(s.fb.tunnels_up[1].peer, kA);
}
