// The real xl2tpd captures replayed against our LNS: the LAC's control
// messages, exactly as xl2tpd sent them, go into one of our tunnels, and
// what it answers must be a valid LNS sequence.

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "control/tunnel.hpp"
#include "shared/bytes.hpp"
#include "shared/challenge.hpp"
#include "tools/pcap_frames.hpp"

using namespace l2tp::control;
using namespace l2tp::wire;

namespace {

constexpr std::array<uint8_t, 4> kLac = {192, 0, 2, 1};

class Replay : public TunnelContext, public ControlObserver {
 public:
  explicit Replay(TunnelSettings s) : tunnel_(*this, 4242, Role::kLns, s, TimePoint{}) {}

  std::optional<uint16_t> allocate_session_id(TimePoint) override { return next_session_++; }
  void release_session_id(uint16_t, TimePoint) override {}
  bool session_slot_available() const override { return true; }
  void random_bytes(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(rng_());
  }
  void send_datagram(const Tunnel&, std::span<const uint8_t> d) override { out.emplace_back(d.begin(), d.end()); }
  ControlObserver& observer() override { return *this; }
  void session_up(const Session&) override { ++sessions_up; }
  void tunnel_up(const Tunnel&) override { ++tunnels_up; }
  void tunnel_down(const Tunnel&, const ResultCode& rc) override { down = rc; }

  // Feeds the LAC's control messages of a capture; returns our answers'
  // message types in order ("ZLB" for acknowledgements).
  std::vector<std::string> run(const std::string& pcap) {
    auto cap = l2tp::tools::read_capture(std::string(L2TP_TEST_DATA) + "/captures/" + pcap);
    EXPECT_EQ(cap.error, "");
    TimePoint now{};
    uint16_t xl2tpd_session = 0;
    for (const auto& d : cap.frames) {
      if (d.src_ip != kLac) continue;
      auto h = decode_header(d.payload);
      EXPECT_TRUE(h);
      if (!h || !h->control) continue;
      Header hh = *h;
      // The captured LAC addressed xl2tpd's IDs; ours differ: translate.
      if (hh.tunnel_id != 0) hh.tunnel_id = tunnel_.local_id();
      if (hh.session_id != 0 && hh.session_id == xl2tpd_session && !tunnel_.sessions().empty())
        hh.session_id = tunnel_.sessions().begin()->first;
      now += 10ms;
      tunnel_.receive(hh, std::span(d.payload).subspan(h->header_len, h->message_len - h->header_len), now);
      tunnel_.on_timer(now + 200ms);  // delayed acknowledgements
      // Learn xl2tpd's session ID from the capture's ICRP for translation.
      if (xl2tpd_session == 0) xl2tpd_session = captured_lns_session(cap);
    }
    std::vector<std::string> types;
    for (const auto& o : out) {
      auto h = decode_header(o).value();
      auto m = decode_message(std::span(o).subspan(h.header_len), {as_bytes(secret)});
      EXPECT_TRUE(m) << m.error().to_string();
      if (!m) continue;
      if (!m->zlb) {
        auto v = validate_message(*m);
        EXPECT_TRUE(v) << v.error().to_string();
      }
      types.push_back(m->zlb ? "ZLB" : message_type_name(m->message_type));
      answers.push_back(*m);
    }
    return types;
  }

  static uint16_t captured_lns_session(const l2tp::tools::Capture& cap) {
    for (const auto& d : cap.frames) {
      if (d.src_ip == kLac) continue;
      auto h = decode_header(d.payload);
      if (!h || !h->control) continue;
      auto m = decode_message(std::span(d.payload).subspan(h->header_len));
      if (m && !m->zlb && m->type() == MessageType::kIcrp) return *m->assigned_session_id;
    }
    return 0;
  }

  Tunnel tunnel_;
  std::vector<std::vector<uint8_t>> out;
  std::vector<ControlMessage> answers;
  std::string secret;
  int sessions_up = 0, tunnels_up = 0;
  std::optional<ResultCode> down;

 private:
  uint16_t next_session_ = 100;
  std::mt19937 rng_{5};
};

TEST(CaptureReplay, LnsAnswersXl2tpdsLacWithAValidSequence) {
  Replay r(TunnelSettings{});
  const auto types = r.run("xl2tpd-basic.pcap");
  EXPECT_EQ(types, (std::vector<std::string>{"SCCRP", "ZLB", "ICRP", "ZLB", "ZLB"}));
  EXPECT_EQ(r.tunnels_up, 1);
  EXPECT_EQ(r.sessions_up, 1);
  ASSERT_TRUE(r.down);  // the capture ends with the LAC's StopCCN
  EXPECT_EQ(r.down->message, "Goodbye!");
  EXPECT_EQ(r.tunnel_.state(), TunnelState::kClosing);
  EXPECT_EQ(*r.answers[0].assigned_tunnel_id, 4242);
  EXPECT_EQ(r.tunnel_.peer_id(), 33131);  // the Assigned Tunnel ID in xl2tpd's SCCRQ
}

TEST(CaptureReplay, LnsAnswersXl2tpdsChallengeWithTheSameResponseXl2tpdGave) {
  TunnelSettings s;
  s.secret = "s3cr3t-tunnel-key";
  Replay r(s);
  r.secret = s.secret;
  const auto types = r.run("xl2tpd-auth.pcap");
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "SCCRP");
  // Same secret, same challenge, same ID (2): the same response xl2tpd's
  // LNS sent in the capture.
  ASSERT_TRUE(r.answers[0].challenge_response);
  EXPECT_EQ(to_hex(*r.answers[0].challenge_response), "02d7092092906f638b6e65e041419b8d");
  EXPECT_EQ(r.tunnels_up, 1);
  EXPECT_EQ(r.sessions_up, 1);
}

TEST(CaptureReplay, LnsWithoutTheSecretRefusesXl2tpdsChallenge) {
  Replay r(TunnelSettings{});
  const auto types = r.run("xl2tpd-auth.pcap");
  ASSERT_FALSE(types.empty());
  EXPECT_EQ(types.front(), "StopCCN");
  EXPECT_EQ(r.answers[0].result_code->result, result::kNotAuthorized);
  EXPECT_EQ(r.tunnels_up, 0);
}

}  // namespace
