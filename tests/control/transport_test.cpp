// Reliable delivery (RFC 2661 5.8, Appendix A) on simulated time and a
// simulated network that drops, delays, reorders and duplicates.

#include "control/transport.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "shared/bytes.hpp"
#include "tests/control/sim_net.hpp"

using namespace l2tp::control;
using namespace l2tp::control::test;
using l2tp::wire::Header;

namespace {

std::vector<uint8_t> payload(uint32_t i) {
  // Any non-empty AVP bytes will do: the transport does not read them.
  std::vector<uint8_t> p(8);
  l2tp::wire::store_be32(p.data(), 0x80080000);
  l2tp::wire::store_be32(p.data() + 4, i);
  return p;
}
uint32_t payload_id(std::span<const uint8_t> p) { return l2tp::wire::load_be32(p.data() + 4); }

struct Side {
  std::unique_ptr<Transport> t;
  std::vector<uint32_t> delivered;
  std::vector<TimePoint> sent_at;  // every datagram this side put on the wire
  size_t zlbs = 0;
  size_t max_unacked = 0;
};

class Pair {
 public:
  Pair(const TransportConfig& config, const LinkProfile& profile, uint64_t seed = 7) : net_(seed) {
    net_.set_profile(profile);
    for (int i = 0; i < 2; ++i) {
      Side& s = side_[i];
      s.t = std::make_unique<Transport>(
          config,
          [this, i](std::span<const uint8_t> d) {
            Side& me = side_[i];
            me.sent_at.push_back(net_.now());
            if (d.size() == l2tp::wire::kControlHeaderSize) ++me.zlbs;
            me.max_unacked = std::max(me.max_unacked, me.t ? me.t->unacked() : 0);
            net_.send(i, 1 - i, d);
          },
          [this, i](const Header&, std::span<const uint8_t> avps) {
            side_[i].delivered.push_back(payload_id(avps));
          });
      net_.attach(i, [this, i](int, std::span<const uint8_t> bytes, TimePoint now) {
        auto h = l2tp::wire::decode_header(bytes);
        ASSERT_TRUE(h);
        side_[i].t->receive(*h, bytes.subspan(h->header_len, h->message_len - h->header_len), now);
      });
    }
  }

  Side& a() { return side_[0]; }
  Side& b() { return side_[1]; }
  SimNet& net() { return net_; }
  TimePoint now() const { return net_.now(); }

  // Runs events until pred() holds or nothing is left to do before `limit`.
  template <class Pred>
  bool run_until(Pred pred, Duration limit) {
    const TimePoint end = net_.now() + limit;
    while (!pred()) {
      std::optional<TimePoint> next = net_.next_arrival();
      for (Side& s : side_)
        if (auto d = s.t->next_deadline(); d && (!next || *d < *next)) next = d;
      if (!next || *next > end) return pred();
      net_.advance_to(*next);
      for (Side& s : side_) s.t->on_timer(net_.now());
    }
    return true;
  }

 private:
  SimNet net_;
  Side side_[2];
};

std::vector<uint32_t> iota(uint32_t n) {
  std::vector<uint32_t> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST(Transport, DeliversEveryMessageExactlyOnceInOrderUnder20PercentLossReorderingAndDuplication) {
  TransportConfig c;
  c.max_retries = 50;  // 20% loss on both legs would, rarely, exhaust 5 (see the issue)
  c.max_pending = 4096;
  Pair p(c, {.loss = 0.2, .duplicate = 0.1, .min_delay = 5ms, .max_delay = 80ms});
  constexpr uint32_t kMessages = 2000;
  for (uint32_t i = 0; i < kMessages; ++i) {
    ASSERT_TRUE(p.a().t->send(0, payload(i), p.now()));
    ASSERT_TRUE(p.b().t->send(0, payload(i), p.now()));
  }
  ASSERT_TRUE(p.run_until([&] { return p.a().t->idle() && p.b().t->idle(); }, 3600s));
  EXPECT_EQ(p.b().delivered, iota(kMessages));
  EXPECT_EQ(p.a().delivered, iota(kMessages));
  EXPECT_FALSE(p.a().t->failed());
  EXPECT_FALSE(p.b().t->failed());
  EXPECT_GT(p.a().t->counters().retransmitted, 0u);
  EXPECT_GT(p.b().t->counters().duplicates + p.b().t->counters().out_of_order, 0u);
  EXPECT_GT(p.net().dropped(), kMessages / 5);
}

TEST(Transport, SilentPeerIsGivenUpAfterMaxRetriesWithExponentialBackoffCappedAt8s) {
  TransportConfig c;  // defaults: 5 retries, 1 s first timeout, cap 8 s
  Pair p(c, {.loss = 1.0});
  const TimePoint t0 = p.now();
  ASSERT_TRUE(p.a().t->send(0, payload(1), t0));
  p.run_until([&] { return p.a().t->failed(); }, 120s);
  ASSERT_TRUE(p.a().t->failed());
  // The first transmission and 5 retransmissions: 1, 2, 4, 8, 8 s apart,
  // then 8 s more without an answer.
  const std::vector<Duration> gaps = {1s, 2s, 4s, 8s, 8s};
  ASSERT_EQ(p.a().sent_at.size(), 6u);
  for (size_t i = 0; i < gaps.size(); ++i) EXPECT_EQ(p.a().sent_at[i + 1] - p.a().sent_at[i], gaps[i]) << i;
  EXPECT_EQ(p.now() - t0, 31s);
  EXPECT_EQ(p.a().t->counters().retransmitted, 5u);
  EXPECT_FALSE(p.a().t->send(0, payload(2), p.now()));  // nothing more once failed
  EXPECT_EQ(p.a().t->next_deadline(), std::nullopt);
}

TEST(Transport, NeverHasMoreUnacknowledgedThanThePeersReceiveWindow) {
  TransportConfig c;
  Pair p(c, {.min_delay = 20ms, .max_delay = 20ms});
  p.a().t->set_peer_window(4);
  for (uint32_t i = 0; i < 200; ++i) ASSERT_TRUE(p.a().t->send(0, payload(i), p.now()));
  EXPECT_EQ(p.a().t->unacked(), 1u);  // slow start begins at one message
  ASSERT_TRUE(p.run_until([&] { return p.a().t->idle(); }, 600s));
  EXPECT_EQ(p.b().delivered, iota(200));
  EXPECT_LE(p.a().max_unacked, 4u);
  EXPECT_EQ(p.a().t->congestion_window(), 4);
}

TEST(Transport, SlowStartGrowsTheWindowPerAckAndATimeoutHalvesTheThreshold) {
  TransportConfig c;
  c.receive_window = 64;
  Pair p(c, {.min_delay = 10ms, .max_delay = 10ms});
  p.a().t->set_peer_window(32);
  for (uint32_t i = 0; i < 40; ++i) ASSERT_TRUE(p.a().t->send(0, payload(i), p.now()));
  ASSERT_TRUE(p.run_until([&] { return p.a().t->idle(); }, 60s));
  EXPECT_GT(p.a().t->congestion_window(), 16);  // grew quickly from 1
  const uint16_t before = p.a().t->congestion_window();
  // Now the peer goes silent: one timeout restarts slow start.
  p.net().set_profile({.loss = 1.0});
  ASSERT_TRUE(p.a().t->send(0, payload(99), p.now()));
  p.run_until([&] { return p.a().t->counters().retransmitted == 1; }, 10s);
  EXPECT_EQ(p.a().t->congestion_window(), 1);
  EXPECT_EQ(p.a().t->slow_start_threshold(), before / 2);
}

TEST(Transport, RetransmissionTimeoutAdaptsToTheMeasuredRoundTrip) {
  TransportConfig c;
  c.ack_delay = 0ms;
  Pair p(c, {.min_delay = 300ms, .max_delay = 300ms});
  for (uint32_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(p.a().t->send(0, payload(i), p.now()));
    ASSERT_TRUE(p.run_until([&] { return p.a().t->idle(); }, 10s));
  }
  // Round trip 600 ms, no variance: the timeout converges on it, far from
  // the 1 s start, and nothing was retransmitted on the way.
  EXPECT_GE(p.a().t->rto(), 600ms);
  EXPECT_LT(p.a().t->rto(), 700ms);
  EXPECT_EQ(p.a().t->counters().retransmitted, 0u);
  EXPECT_EQ(p.a().t->counters().rtt_samples, 50u);
}

TEST(Transport, WithoutAdaptiveTimeoutTheFirstRetransmissionStaysAtOneSecond) {
  TransportConfig c;
  c.adaptive_rto = false;
  Pair p(c, {.min_delay = 300ms, .max_delay = 300ms});
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(p.a().t->send(0, payload(i), p.now()));
    ASSERT_TRUE(p.run_until([&] { return p.a().t->idle(); }, 10s));
  }
  EXPECT_EQ(p.a().t->rto(), 1s);
}

// Direct feeding: one transport, datagrams crafted by the test.
struct Lone {
  std::vector<std::vector<uint8_t>> out;
  std::vector<uint32_t> delivered;
  Transport t;
  explicit Lone(TransportConfig c = {})
      : t(c, [this](std::span<const uint8_t> d) { out.emplace_back(d.begin(), d.end()); },
          [this](const Header&, std::span<const uint8_t> a) { delivered.push_back(payload_id(a)); }) {}
  void feed(uint16_t ns, uint16_t nr, uint32_t id, TimePoint now) {
    t.receive(l2tp::wire::control_header(1, 0, ns, nr), payload(id), now);
  }
  Header last_header() const { return l2tp::wire::decode_header(out.back()).value(); }
};

TEST(Transport, DuplicateIsDroppedAndAcknowledgedAtOnce) {
  Lone l;
  const TimePoint t{};
  l.feed(0, 0, 100, t);
  l.t.on_timer(t + 1s);  // delayed ZLB goes out
  ASSERT_EQ(l.out.size(), 1u);
  l.feed(0, 0, 100, t + 2s);  // our ZLB was lost; the peer retransmits
  EXPECT_EQ(l.delivered, std::vector<uint32_t>{100});
  EXPECT_EQ(l.t.counters().duplicates, 1u);
  ASSERT_EQ(l.out.size(), 2u);  // re-acknowledged immediately, no timer
  EXPECT_EQ(l.out.back().size(), l2tp::wire::kControlHeaderSize);
  EXPECT_EQ(l.last_header().nr, 1);
}

TEST(Transport, OutOfOrderMessagesAreHeldAndDeliveredWhenTheGapFills) {
  Lone l;
  const TimePoint t{};
  l.feed(2, 0, 102, t);
  l.feed(1, 0, 101, t);
  l.feed(1, 0, 101, t);  // a duplicate of a held one
  EXPECT_TRUE(l.delivered.empty());
  EXPECT_EQ(l.t.counters().out_of_order, 2u);
  l.feed(0, 0, 100, t);
  EXPECT_EQ(l.delivered, (std::vector<uint32_t>{100, 101, 102}));
  EXPECT_EQ(l.t.expected_ns(), 3);
  l.t.on_timer(t + 1s);
  EXPECT_EQ(l.last_header().nr, 3);  // one ZLB acknowledges all three
}

TEST(Transport, MessageBeyondTheReceiveWindowIsDropped) {
  TransportConfig c;
  c.receive_window = 4;
  Lone l(c);
  l.feed(4, 0, 104, TimePoint{});  // window holds Ns 0..3
  l.feed(3, 0, 103, TimePoint{});
  EXPECT_EQ(l.t.counters().outside_window, 1u);
  EXPECT_EQ(l.t.counters().out_of_order, 1u);
}

TEST(Transport, AcknowledgementRidesOnAnAnswerInsteadOfAZlb) {
  std::vector<std::vector<uint8_t>> out;
  Transport* self = nullptr;
  Transport t(
      {}, [&](std::span<const uint8_t> d) { out.emplace_back(d.begin(), d.end()); },
      [&](const Header&, std::span<const uint8_t>) { self->send(0, payload(7), TimePoint{}); });
  self = &t;
  t.receive(l2tp::wire::control_header(1, 0, 0, 0), payload(1), TimePoint{});
  t.on_timer(TimePoint{} + 500ms);  // past the ack delay, before a retransmission
  ASSERT_EQ(out.size(), 1u);        // the answer only
  const Header h = l2tp::wire::decode_header(out[0]).value();
  EXPECT_EQ(h.nr, 1);
  EXPECT_EQ(t.counters().zlb_sent, 0u);
}

TEST(Transport, ZlbGoesOutAfterTheAckDelayWhenNothingElseDoes) {
  Lone l;
  const TimePoint t{};
  l.feed(0, 0, 1, t);
  EXPECT_TRUE(l.out.empty());
  EXPECT_EQ(l.t.next_deadline(), t + 100ms);
  l.t.on_timer(t + 99ms);
  EXPECT_TRUE(l.out.empty());
  l.t.on_timer(t + 100ms);
  ASSERT_EQ(l.out.size(), 1u);
  const Header h = l.last_header();
  EXPECT_EQ(h.ns, 0);  // 5.8: a ZLB does not consume a sequence number
  EXPECT_EQ(h.nr, 1);
  EXPECT_EQ(l.t.counters().zlb_sent, 1u);
}

TEST(Transport, ZlbGoesOutAtOnceWhenHalfOurReceiveWindowAwaitsAnAck) {
  TransportConfig c;
  c.receive_window = 4;  // xl2tpd's and our default "tunnel rws"
  std::vector<std::vector<uint8_t>> out;
  Transport t(c, [&](std::span<const uint8_t> d) { out.emplace_back(d.begin(), d.end()); },
              [](const Header&, std::span<const uint8_t>) {});
  const TimePoint now{};
  t.receive(l2tp::wire::control_header(1, 0, 0, 0), payload(1), now);
  EXPECT_TRUE(out.empty());  // one owed: the ack may wait for an answer
  t.receive(l2tp::wire::control_header(1, 0, 1, 0), payload(2), now);
  ASSERT_EQ(out.size(), 1u);  // two owed of a window of four: at once
  EXPECT_EQ(l2tp::wire::decode_header(out[0]).value().nr, 2);
  EXPECT_EQ(t.counters().zlb_window_half, 1u);
  EXPECT_EQ(t.next_deadline(), std::nullopt);  // no delayed ack left pending
}

TEST(Transport, AnAckForWhatWasNeverSentIsIgnored) {
  Lone l;
  ASSERT_TRUE(l.t.send(0, payload(1), TimePoint{}));
  l.feed(0, 5, 9, TimePoint{});  // Nr 5, but only Ns 0 was sent
  EXPECT_EQ(l.t.counters().bad_nr, 1u);
  EXPECT_EQ(l.t.unacked(), 1u);
  l.feed(1, 1, 10, TimePoint{});
  EXPECT_EQ(l.t.unacked(), 0u);
}

TEST(Transport, SequenceNumbersWrapAroundPast65535) {
  TransportConfig c;
  c.receive_window = 8;
  Pair p(c, {.min_delay = 1ms, .max_delay = 3ms});
  p.a().t->set_peer_window(8);
  constexpr uint32_t kMessages = 66000;
  uint32_t queued = 0;
  // Keep the queue short: send as the window drains.
  ASSERT_TRUE(p.run_until(
      [&] {
        while (queued < kMessages && p.a().t->pending() < 16) p.a().t->send(0, payload(queued++), p.now());
        return queued == kMessages && p.a().t->idle();
      },
      36000s));
  ASSERT_EQ(p.b().delivered.size(), kMessages);
  EXPECT_EQ(p.b().delivered, iota(kMessages));
  EXPECT_EQ(p.a().t->next_ns(), static_cast<uint16_t>(kMessages));
}

TEST(Transport, RefusesToQueueBeyondMaxPending) {
  TransportConfig c;
  c.max_pending = 10;
  Lone l(c);
  int accepted = 0;
  for (int i = 0; i < 20; ++i) accepted += l.t.send(0, payload(i), TimePoint{});
  EXPECT_EQ(accepted, 11);  // one in flight, ten waiting
  EXPECT_EQ(l.t.counters().refused, 9u);
}

TEST(Transport, RetransmissionCarriesTheCurrentNr) {
  Lone l;
  const TimePoint t{};
  ASSERT_TRUE(l.t.send(0, payload(1), t));
  EXPECT_EQ(l.last_header().nr, 0);
  l.feed(0, 0, 50, t + 10ms);  // the peer's message, not acknowledging ours
  l.t.on_timer(t + 1s);        // retransmission due (and the owed ack rides on it)
  EXPECT_EQ(l.last_header().ns, 0);
  EXPECT_EQ(l.last_header().nr, 1);
  EXPECT_EQ(l.t.counters().zlb_sent, 0u);
}

}  // namespace
