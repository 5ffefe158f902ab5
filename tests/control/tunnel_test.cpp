// Tunnel and session state machines (RFC 2661 7.2-7.5) between two peers on
// simulated time and a simulated network.

#include "control/tunnel.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>

#include "shared/bytes.hpp"
#include "tests/control/sim_net.hpp"

using namespace l2tp::control;
using namespace l2tp::control::test;
using l2tp::wire::ResultCode;

namespace {

// One side of the link: a minimal owner of tunnels (what the Engine does,
// without sockets): IDs, the observer, routing by Tunnel ID.
class Node : public TunnelContext, public ControlObserver {
 public:
  Node(SimNet& net, int id, Role role, TunnelSettings settings)
      : net_(net), id_(id), role_(role), settings_(std::move(settings)), rng_(id * 7919 + 1) {
    net_.attach(id_, [this](int from, std::span<const uint8_t> d, TimePoint now) { on_datagram(from, d, now); });
  }

  Tunnel& open(TimePoint now) {
    Tunnel& t = make_tunnel(1 - id_, now);
    t.open(now);
    return t;
  }

  // TunnelContext
  std::optional<uint16_t> allocate_session_id(TimePoint) override {
    if (live_sessions_.size() >= max_sessions_total) return std::nullopt;
    uint16_t id;
    do id = static_cast<uint16_t>(1 + rng_() % 65535); while (live_sessions_.count(id) || quarantine_.count(id));
    live_sessions_.insert(id);
    return id;
  }
  void release_session_id(uint16_t id, TimePoint) override {
    EXPECT_EQ(live_sessions_.erase(id), 1u) << "session ID released twice";
    quarantine_.insert(id);
  }
  bool session_slot_available() const override { return live_sessions_.size() < max_sessions_total; }
  void random_bytes(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(rng_());
  }
  void send_datagram(const Tunnel& t, std::span<const uint8_t> d) override {
    sent.emplace_back(d.begin(), d.end());
    net_.send(id_, peer_of_.at(t.local_id()), d);
  }
  ControlObserver& observer() override { return *this; }

  // ControlObserver
  void tunnel_up(const Tunnel&) override { ++tunnels_up; }
  void tunnel_down(const Tunnel&, const ResultCode& rc) override {
    ++tunnels_down;
    last_tunnel_result = rc;
  }
  void session_up(const Session&) override { ++sessions_up; }
  void session_down(const Session&, const ResultCode& rc) override {
    ++sessions_down;
    last_session_result = rc;
  }

  void on_timer(TimePoint now) {
    for (auto& [id, t] : tunnels_) t->on_timer(now);
    for (auto it = tunnels_.begin(); it != tunnels_.end();) {
      if (it->second->dead() && it->second->sessions().empty()) {
        peer_of_.erase(it->first);
        it = tunnels_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::optional<TimePoint> next_deadline() const {
    std::optional<TimePoint> d;
    for (auto& [id, t] : tunnels_)
      if (auto x = t->next_deadline(); x && (!d || *x < *d)) d = x;
    return d;
  }

  Tunnel* tunnel(uint16_t id) {
    auto it = tunnels_.find(id);
    return it == tunnels_.end() ? nullptr : it->second.get();
  }
  const std::map<uint16_t, std::unique_ptr<Tunnel>>& tunnels() const { return tunnels_; }
  size_t live_session_ids() const { return live_sessions_.size(); }

  size_t max_sessions_total = 65535;
  int tunnels_up = 0, tunnels_down = 0, sessions_up = 0, sessions_down = 0;
  std::optional<ResultCode> last_tunnel_result, last_session_result;
  std::vector<std::vector<uint8_t>> sent;

 private:
  Tunnel& make_tunnel(int peer_node, TimePoint now) {
    uint16_t id;
    do id = static_cast<uint16_t>(1 + rng_() % 65535); while (tunnels_.count(id));
    auto t = std::make_unique<Tunnel>(*this, id, role_, settings_, now);
    Tunnel& ref = *t;
    tunnels_.emplace(id, std::move(t));
    peer_of_[id] = peer_node;
    return ref;
  }

  void on_datagram(int from, std::span<const uint8_t> d, TimePoint now) {
    auto h = l2tp::wire::decode_header(d);
    ASSERT_TRUE(h) << h.error().to_string();
    ASSERT_TRUE(h->control);
    const auto avps = d.subspan(h->header_len, h->message_len - h->header_len);
    Tunnel* t = nullptr;
    if (h->tunnel_id == 0) {
      // An SCCRQ: a retransmission of one we already answered goes to that
      // tunnel (the Engine keys this on peer address and Assigned Tunnel ID).
      auto m = l2tp::wire::decode_message(avps);
      ASSERT_TRUE(m);
      const auto key = std::make_pair(from, *m->assigned_tunnel_id);
      if (auto it = by_peer_.find(key); it != by_peer_.end()) t = tunnel(it->second);
      if (!t) {
        t = &make_tunnel(from, now);
        by_peer_[key] = t->local_id();
      }
    } else {
      t = tunnel(h->tunnel_id);
    }
    if (t) t->receive(*h, avps, now);
  }

  SimNet& net_;
  int id_;
  Role role_;
  TunnelSettings settings_;
  std::mt19937_64 rng_;
  std::map<uint16_t, std::unique_ptr<Tunnel>> tunnels_;
  std::map<uint16_t, int> peer_of_;
  std::map<std::pair<int, uint16_t>, uint16_t> by_peer_;
  std::set<uint16_t> live_sessions_, quarantine_;
};

class Link {
 public:
  Link(TunnelSettings lac, TunnelSettings lns, LinkProfile profile = {}, uint64_t seed = 3)
      : net(seed), lac(net, 0, Role::kLac, std::move(lac)), lns(net, 1, Role::kLns, std::move(lns)) {
    net.set_profile(profile);
  }
  TimePoint now() const { return net.now(); }

  template <class Pred>
  bool run_until(Pred pred, Duration limit) {
    const TimePoint end = net.now() + limit;
    while (!pred()) {
      std::optional<TimePoint> next = net.next_arrival();
      for (Node* n : {&lac, &lns})
        if (auto d = n->next_deadline(); d && (!next || *d < *next)) next = d;
      if (!next || *next > end) return pred();
      net.advance_to(std::max(*next, net.now()));
      lac.on_timer(net.now());
      lns.on_timer(net.now());
    }
    return true;
  }
  void run_for(Duration d) {
    run_until([] { return false; }, d);
  }

  SimNet net;
  Node lac, lns;
};

TunnelSettings named(const char* host) {
  TunnelSettings s;
  s.host_name = host;
  return s;
}

TEST(Tunnel, LacAndLnsBringUpATunnelAndACallAndTearThemDown) {
  Link l(named("lac"), named("lns"));
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established() && l.lns.tunnels_up == 1; }, 10s));
  Tunnel& peer = *l.lns.tunnels().begin()->second;
  EXPECT_EQ(peer.peer_id(), t.local_id());
  EXPECT_EQ(t.peer_id(), peer.local_id());
  EXPECT_EQ(peer.peer_host_name(), "lac");

  Session* s = t.place_call("", l.now());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.sessions_up == 1 && l.lns.sessions_up == 1; }, 10s));
  EXPECT_TRUE(s->established());
  const Session& ps = *peer.sessions().begin()->second;
  EXPECT_EQ(ps.peer_id(), s->local_id());
  EXPECT_EQ(s->peer_id(), ps.local_id());
  EXPECT_EQ(ps.direction(), CallDirection::kIncoming);
  EXPECT_EQ(ps.info().call_serial_number, 1u);

  t.hang_up(s->local_id(), {l2tp::wire::result::kAdministrative, 0, "bye"}, l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lns.sessions_down == 1 && peer.sessions().empty(); }, 10s));
  EXPECT_EQ(l.lns.last_session_result->result, l2tp::wire::result::kAdministrative);
  EXPECT_EQ(l.lac.live_session_ids(), 0u);
  EXPECT_EQ(l.lns.live_session_ids(), 0u);

  t.close({l2tp::wire::result::kGeneralClearControl, 0, "done"}, l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels().empty() && l.lns.tunnels().empty(); }, 60s));
  EXPECT_EQ(l.lns.last_tunnel_result->result, l2tp::wire::result::kGeneralClearControl);
  EXPECT_EQ(l.lns.last_tunnel_result->message, "done");
}

TEST(Tunnel, AuthenticatedTunnelComesUpWhenBothKnowTheSecret) {
  TunnelSettings a = named("lac"), b = named("lns");
  a.secret = b.secret = "s3cr3t";
  a.challenge = b.challenge = true;
  Link l(a, b);
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lns.tunnels_up == 1 && t.established(); }, 10s));
  EXPECT_TRUE(t.authenticated());
  EXPECT_TRUE(l.lns.tunnels().begin()->second->authenticated());
}

TEST(Tunnel, WrongSecretIsRefusedWithNotAuthorized) {
  TunnelSettings a = named("lac"), b = named("lns");
  a.secret = "one";
  b.secret = "two";
  b.challenge = true;
  Link l(a, b);
  l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels_down == 1; }, 10s));
  EXPECT_EQ(l.lac.tunnels_up, 1);  // the LAC saw a valid SCCRP (no challenge of its own)
  ASSERT_TRUE(l.lns.last_tunnel_result);
  EXPECT_EQ(l.lns.last_tunnel_result->result, l2tp::wire::result::kNotAuthorized);
  EXPECT_EQ(l.lac.last_tunnel_result->result, l2tp::wire::result::kNotAuthorized);
  EXPECT_EQ(l.lns.tunnels_up, 0);
}

TEST(Tunnel, ChallengedWithoutASecretRefusesWithNotAuthorized) {
  TunnelSettings a = named("lac"), b = named("lns");
  a.secret = "s";
  a.challenge = true;  // the LNS has no secret and cannot answer
  Link l(a, b);
  l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels_down == 1; }, 10s));
  EXPECT_EQ(l.lac.last_tunnel_result->result, l2tp::wire::result::kNotAuthorized);
}

TEST(Tunnel, HiddenAvpsAreSentOnceThePeerProvedTheSecretAndUnderstood) {
  TunnelSettings a = named("lac"), b = named("lns");
  a.secret = b.secret = "hide-me";
  a.challenge = b.challenge = true;
  a.hide_avps = b.hide_avps = true;
  Link l(a, b);
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established(); }, 10s));
  ASSERT_NE(t.place_call("", l.now()), nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lns.sessions_up == 1 && l.lac.sessions_up == 1; }, 10s));
  // Some AVP went hidden, none in SCCRQ/SCCRP.
  size_t hidden = 0;
  for (Node* n : {&l.lac, &l.lns}) {
    for (const auto& d : n->sent) {
      auto h = l2tp::wire::decode_header(d).value();
      auto m = l2tp::wire::decode_message(std::span(d).subspan(h.header_len), {l2tp::wire::as_bytes("hide-me")});
      ASSERT_TRUE(m) << m.error().to_string();
      for (const auto& a : m->wire_order) {
        if (!a.hidden) continue;
        ++hidden;
        EXPECT_NE(m->type(), l2tp::wire::MessageType::kSccrq);
        EXPECT_NE(m->type(), l2tp::wire::MessageType::kSccrp);
      }
    }
  }
  EXPECT_GT(hidden, 0u);
}

TEST(Tunnel, PerTunnelSessionLimitRefusesTheCallWithTemporaryLackOfFacilities) {
  TunnelSettings b = named("lns");
  b.max_sessions = 2;
  Link l(named("lac"), b);
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established() && l.lns.tunnels_up == 1; }, 10s));
  for (int i = 0; i < 3; ++i) ASSERT_NE(t.place_call("", l.now()), nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.sessions_up == 2 && l.lac.sessions_down == 1; }, 10s));
  EXPECT_EQ(l.lac.last_session_result->result, l2tp::wire::result::kNoFacilitiesTemporary);
  EXPECT_EQ(l.lac.last_session_result->error, l2tp::wire::error_code::kInsufficientResources);
  EXPECT_EQ(l.lns.tunnels().begin()->second->counters().sessions_refused, 1u);
  l.run_for(1s);
  EXPECT_EQ(t.sessions().size(), 2u);  // the refused one is freed
}

TEST(Tunnel, BoxWideSessionLimitRefusesToo) {
  Link l(named("lac"), named("lns"));
  l.lns.max_sessions_total = 1;
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established() && l.lns.tunnels_up == 1; }, 10s));
  ASSERT_NE(t.place_call("", l.now()), nullptr);
  ASSERT_NE(t.place_call("", l.now()), nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.sessions_up == 1 && l.lac.sessions_down == 1; }, 10s));
  EXPECT_EQ(l.lac.last_session_result->result, l2tp::wire::result::kNoFacilitiesTemporary);
}

TEST(Tunnel, LnsPlacesAnOutgoingCallThroughTheLac) {
  Link l(named("lac"), named("lns"));
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established() && l.lns.tunnels_up == 1; }, 10s));
  Tunnel& lns_t = *l.lns.tunnels().begin()->second;
  Session* s = lns_t.place_call("5551234", l.now());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.sessions_up == 1 && l.lns.sessions_up == 1; }, 10s));
  EXPECT_EQ(s->direction(), CallDirection::kOutgoing);
  const Session& lac_s = *t.sessions().begin()->second;
  EXPECT_EQ(lac_s.info().called_number, "5551234");
  EXPECT_EQ(lac_s.direction(), CallDirection::kOutgoing);
}

TEST(Tunnel, IdleTunnelSendsHelloAndASilentPeerIsDetectedAndFreed) {
  TunnelSettings a = named("lac");
  a.hello_interval = 30s;
  Link l(a, named("lns"));
  Tunnel& t = l.lac.open(l.now());
  ASSERT_NE(&t, nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels_up == 1 && l.lns.tunnels_up == 1; }, 10s));
  ASSERT_NE(t.place_call("", l.now()), nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lns.sessions_up == 1; }, 10s));
  l.run_for(100s);
  EXPECT_GE(t.counters().hellos_sent, 3u);
  EXPECT_EQ(l.lac.tunnels_down, 0);
  // Now the LNS vanishes: at the default retry limit the next Hello goes
  // unanswered through 5 retransmissions (31 s) and everything is freed.
  l.net.set_profile({.loss = 1.0});
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels().empty(); }, 120s));
  EXPECT_EQ(l.lac.tunnels_down, 1);
  EXPECT_EQ(l.lac.sessions_down, 1);
  EXPECT_EQ(l.lac.live_session_ids(), 0u);
  EXPECT_EQ(l.lac.last_tunnel_result->message, "peer not responding");
}

TEST(Tunnel, StopCcnIsHeldForTheHoldTimeThenFreed) {
  Link l(named("lac"), named("lns"));
  Tunnel& t = l.lac.open(l.now());
  ASSERT_TRUE(l.run_until([&] { return t.established() && l.lns.tunnels_up == 1; }, 10s));
  const TimePoint closed_at = l.now();
  t.close({l2tp::wire::result::kGeneralClearControl, 0, ""}, l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lns.tunnels_down == 1; }, 10s));
  l.run_until([&] { return l.lns.tunnels().empty(); }, 60s);
  EXPECT_TRUE(l.lns.tunnels().empty());
  EXPECT_GE(l.now() - closed_at, 31s);
}

TEST(Tunnel, HundredTunnelsOfTenSessionsComeUpUnder20PercentLossReorderingAndDuplication) {
  TunnelSettings a = named("lac"), b = named("lns");
  // 20% loss on both legs exhausts 5 retries now and then by design (the
  // issue's note): raise the limit so that this test is about correctness.
  a.transport.max_retries = b.transport.max_retries = 30;
  Link l(a, b, {.loss = 0.2, .duplicate = 0.1, .min_delay = 5ms, .max_delay = 100ms}, 11);
  std::vector<Tunnel*> tunnels;
  for (int i = 0; i < 100; ++i) tunnels.push_back(&l.lac.open(l.now()));
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels_up == 100 && l.lns.tunnels_up == 100; }, 3600s));
  for (Tunnel* t : tunnels)
    for (int i = 0; i < 10; ++i) ASSERT_NE(t->place_call("", l.now()), nullptr);
  ASSERT_TRUE(l.run_until([&] { return l.lac.sessions_up == 1000 && l.lns.sessions_up == 1000; }, 3600s));
  EXPECT_EQ(l.lac.tunnels_down, 0);
  EXPECT_EQ(l.lns.tunnels_down, 0);
  EXPECT_EQ(l.lac.live_session_ids(), 1000u);
  EXPECT_EQ(l.lns.live_session_ids(), 1000u);
  uint64_t retransmitted = 0;
  for (const auto& [id, t] : l.lns.tunnels()) {
    EXPECT_EQ(t->counters().malformed, 0u);
    EXPECT_EQ(t->sessions().size(), 10u);
    retransmitted += t->transport().counters().retransmitted;
  }
  EXPECT_GT(retransmitted, 100u);
  EXPECT_GT(l.net.dropped(), 1000u);
  // Teardown frees everything on both sides.
  for (Tunnel* t : tunnels) t->close({l2tp::wire::result::kGeneralClearControl, 0, ""}, l.now());
  ASSERT_TRUE(l.run_until([&] { return l.lac.tunnels().empty() && l.lns.tunnels().empty(); }, 3600s));
  EXPECT_EQ(l.lac.live_session_ids(), 0u);
  EXPECT_EQ(l.lns.live_session_ids(), 0u);
  EXPECT_EQ(l.lns.sessions_down, 1000);
  EXPECT_EQ(l.lac.sessions_down, 1000);
}

}  // namespace
