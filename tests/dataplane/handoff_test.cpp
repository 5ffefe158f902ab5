// Software redistribution by session (dataplane/handoff.hpp): two workers
// on ring ports with two queues each. A session owned by worker 1 whose
// packets arrive on worker 0's queues leaves decapsulated/encapsulated by
// worker 1, with worker 1's counters and state moving; pppd's frames go
// through the owner's ring and share one Ns sequence with the fast path.

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <rte_ring.h>

#include "control/net.hpp"
#include "dataplane/control_io.hpp"
#include "dataplane/handoff.hpp"
#include "dataplane/worker.hpp"
#include "fixture.hpp"
#include "ring_port.hpp"

namespace l2tp::dp::test {
namespace {

constexpr uint16_t kWorkers = 2;
constexpr uint16_t kSession = 0xb7e1;  // entry()'s

// Ns of an untagged L2TP data frame with S set (RFC 2661 3.1), or -1.
int ns_of(const Bytes& frame) {
  const size_t l2tp = 14 + 20 + 8;
  if (frame.size() < l2tp + 8) return -1;
  const uint16_t flags = static_cast<uint16_t>(frame[l2tp] << 8 | frame[l2tp + 1]);
  if ((flags & 0x8000) || !(flags & 0x0800)) return -1;
  const size_t at = l2tp + ((flags & 0x4000) ? 8 : 6);
  return frame[at] << 8 | frame[at + 1];
}

class HandoffTest : public FastPathTest {
 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    ASSERT_GE(access_.port, 0);
    ASSERT_GE(core_.port, 0);
  }
  void TearDown() override {
    workers_.clear();
    for (auto& r : control_) free_control_rings(r);
    for (auto& r : handoff_) free_handoff_rings(r);
  }

  // The session, owned by worker 1.
  static control::FastPathEntry owned_by_1(bool sequenced = false) {
    control::FastPathEntry e = entry(0, sequenced);
    e.owner_worker = 1;
    return e;
  }

  void start(unsigned handoff_size = 64) {
    for (uint16_t w = 0; w < kWorkers; ++w) {
      // Names unique in the EAL: the rings are named after the number.
      control_[w] = create_control_rings(next_rings_, 64, SOCKET_ID_ANY);
      handoff_[w] = create_handoff_rings(next_rings_++, handoff_size, SOCKET_ID_ANY);
    }
    for (uint16_t w = 0; w < kWorkers; ++w) {
      WorkerConfig c;
      c.id = w;
      c.access_port = access_.id();
      c.core_port = core_.id();
      c.rx_queue = c.tx_queue = w;
      c.core_hop = hop_;
      c.table = table_.get();
      c.rcu = rcu_.v;
      c.to_control = control_[w].to_control;
      c.from_control = control_[w].from_control;
      c.handoff = handoff_.data();
      c.workers = kWorkers;
      workers_.push_back(std::make_unique<Worker>(c));
    }
    for (auto& w : workers_) w->attach();
  }
  void stop() {
    for (auto& w : workers_) {
      w->flush();
      w->detach();
    }
  }
  Worker& worker(unsigned w) { return *workers_[w]; }

  Bytes up_data(const Bytes& ip) { return upstream(l2tp_ppp(0x4d2a, kSession, {}, 0x0021, ip)); }
  Bytes to_host(const Bytes& ip) { return cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), ip); }
  // What worker 1 sends for down_ip: the session's template around it.
  Bytes encapsulated(const Bytes& down_ip, std::optional<uint16_t> ns = std::nullopt) {
    Bytes l2tp;
    put16(l2tp, ns ? 0x0802 : 0x0002);
    put16(l2tp, 0x0457);
    put16(l2tp, 0x22b8);
    if (ns) {
      put16(l2tp, *ns);
      put16(l2tp, 0);
    }
    append(l2tp, Bytes{0xFF, 0x03, 0x00, 0x21});
    append(l2tp, forwarded(down_ip));
    Outer o;
    o.dst = kLacMac;
    o.src = kOurAccessMac;
    o.ip_src = kOurAddr;
    o.ip_dst = kLacAddr;
    return udp_frame(o, l2tp);
  }

  RingPort access_{"hacc", kWorkers};
  RingPort core_{"hcore", kWorkers};
  std::array<ControlRings, kWorkers> control_{};
  std::array<HandoffRings, kWorkers> handoff_{};
  std::vector<std::unique_ptr<Worker>> workers_;
  static inline uint16_t next_rings_ = 300;
};

TEST(SessionOwner, SpreadsSessionIdsOverTheWorkers) {
  EXPECT_EQ(session_owner(7, 1), 0);
  EXPECT_EQ(session_owner(7, 0), 0);
  EXPECT_EQ(session_owner(6, 2), 0);
  EXPECT_EQ(session_owner(7, 2), 1);
  EXPECT_EQ(session_owner(65535, 4), 3);
}

TEST_F(HandoffTest, PacketsOfWorker1sSessionOnWorker0sQueuesLeaveByWorker1) {
  ASSERT_TRUE(table_->publish(owned_by_1()));
  start();
  const Bytes up_ip = inner_ipv4(kSubscriber, kInternetHost, 64);
  const Bytes down_ip = inner_ipv4(kInternetHost, kSubscriber, 50, 100);
  inject(access_.rx_queues[0], {up_data(up_ip)});
  inject(core_.rx_queues[0], {to_host(down_ip)});

  EXPECT_EQ(worker(0).poll(), 2u);
  const WorkerCounters& c0 = worker(0).counters();
  EXPECT_EQ(c0.rx_access, 1u);
  EXPECT_EQ(c0.rx_core, 1u);
  EXPECT_EQ(c0.handed_off, 2u);
  EXPECT_EQ(c0.decap + c0.encap, 0u) << "worker 0 writes nothing of the session";
  EXPECT_EQ(table_->state(kSession).rx_packets + table_->state(kSession).tx_packets, 0u);

  EXPECT_EQ(worker(1).poll(), 2u);
  stop();
  const WorkerCounters& c1 = worker(1).counters();
  EXPECT_EQ(c1.handed_in, 2u);
  EXPECT_EQ(c1.decap, 1u);
  EXPECT_EQ(c1.encap, 1u);
  EXPECT_EQ(c1.rx_access + c1.rx_core, 0u) << "received by worker 0, not by 1";
  EXPECT_EQ(table_->state(kSession).rx_packets, 1u);
  EXPECT_EQ(table_->state(kSession).tx_packets, 1u);

  EXPECT_EQ(take(core_.tx_queues[1]),
            std::vector<Bytes>{cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(up_ip))});
  EXPECT_EQ(take(access_.tx_queues[1]), std::vector<Bytes>{encapsulated(down_ip)});
  EXPECT_TRUE(take(core_.tx_queues[0]).empty());
  EXPECT_TRUE(take(access_.tx_queues[0]).empty());
  for (unsigned w = 0; w < kWorkers; ++w) {
    EXPECT_EQ(worker(w).counters().dropped_total(), 0u) << "worker " << w;
    EXPECT_EQ(worker(w).counters().dropped(Drop::kNotOwner), 0u);
  }
}

TEST_F(HandoffTest, OwnersOwnPacketsAndPppControlAreNotHandedOver) {
  ASSERT_TRUE(table_->publish(owned_by_1()));
  start();
  // On the owner's own queue: no handoff. Unsequenced LCP on worker 0: to
  // control from there (the control thread, not the owner, handles it).
  inject(access_.rx_queues[1], {up_data(inner_ipv4(kSubscriber, kInternetHost, 64))});
  const Bytes lcp = upstream(l2tp_ppp(0x4d2a, kSession, {}, 0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4}));
  inject(access_.rx_queues[0], {lcp});
  worker(0).poll();
  worker(1).poll();
  stop();
  EXPECT_EQ(worker(0).counters().handed_off + worker(1).counters().handed_off, 0u);
  EXPECT_EQ(worker(1).counters().decap, 1u);
  EXPECT_EQ(take(control_[0].to_control), std::vector<Bytes>{lcp});
}

TEST_F(HandoffTest, AHandedPacketIsNeverHandedOnAgain) {
  ASSERT_TRUE(table_->publish(owned_by_1()));
  start();
  inject(access_.rx_queues[0], {up_data(inner_ipv4(kSubscriber, kInternetHost, 64))});
  inject(core_.rx_queues[0], {to_host(inner_ipv4(kInternetHost, kSubscriber, 64))});
  worker(0).poll();
  ASSERT_EQ(worker(0).counters().handed_off, 2u);
  // Republished with worker 0 as owner while the packets wait in worker
  // 1's ring: worker 1 drops them instead of handing them back.
  ASSERT_TRUE(table_->publish(entry()));
  worker(1).poll();
  worker(0).poll();
  stop();
  const WorkerCounters& c1 = worker(1).counters();
  EXPECT_EQ(c1.handed_in, 2u);
  EXPECT_EQ(c1.handed_off, 0u);
  EXPECT_EQ(c1.dropped(Drop::kNotOwner), 2u);
  EXPECT_EQ(worker(0).counters().handed_in, 0u);
  EXPECT_EQ(c1.decap + c1.encap, 0u);
}

TEST_F(HandoffTest, FullHandoffRingIsACountedDropAndFreesTheMbufs) {
  ASSERT_TRUE(table_->publish(owned_by_1()));
  const unsigned in_use = rte_mempool_in_use_count(test_pool());
  start(4);  // a ring of 4 holds 3
  inject(access_.rx_queues[0], std::vector<Bytes>(5, up_data(inner_ipv4(kSubscriber, kInternetHost, 64))));
  inject(core_.rx_queues[0], std::vector<Bytes>(2, to_host(inner_ipv4(kInternetHost, kSubscriber, 64))));
  worker(0).poll();
  const WorkerCounters& c0 = worker(0).counters();
  EXPECT_EQ(c0.handed_off, 5u);  // 3 up, 2 down: a ring per direction
  EXPECT_EQ(c0.dropped(Drop::kHandoffRingFull), 2u);
  EXPECT_STREQ(drop_name(Drop::kHandoffRingFull), "handoff_ring_full");
  worker(1).poll();
  stop();
  EXPECT_EQ(worker(1).counters().decap, 3u);
  EXPECT_EQ(worker(1).counters().encap, 2u);
  take(core_.tx_queues[1]);
  take(access_.tx_queues[1]);
  TearDown();  // the rings' mbufs too
  EXPECT_EQ(rte_mempool_in_use_count(test_pool()), in_use);
}

TEST_F(HandoffTest, PppdFramesAndFastPathPacketsShareTheOwnersNsSequence) {
  ASSERT_TRUE(table_->publish(owned_by_1(true)));
  start();
  DataPlaneConfig dc;
  dc.access_port = access_.id();
  dc.core_port = core_.id();
  dc.access_addr = kOurAddr;
  dc.access_prefix = 0;  // the LAC is on-link
  std::vector<ControlIo::WorkerRings> rings;
  for (auto& r : control_) rings.push_back({r.to_control, r.from_control});
  ControlIo io(dc, test_pool(), std::move(rings), to_ether(kOurAccessMac), to_ether(kOurCoreMac));
  ASSERT_TRUE(io.sequences_data());
  io.neighbours().learn(access_.id(), kLacAddr, to_ether(kLacMac));

  // What Engine::send_ppp builds with a data plane: S set, Ns left 0,
  // tagged with the session; the tunnel's control arrived on worker 0.
  Bytes lcp_l2tp;
  put16(lcp_l2tp, 0x0802);
  put16(lcp_l2tp, 0x0457);
  put16(lcp_l2tp, 0x22b8);
  put16(lcp_l2tp, 0);
  put16(lcp_l2tp, 0);
  append(lcp_l2tp, Bytes{0xFF, 0x03, 0xC0, 0x21, 0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4});
  control::TxDatagram pppd;
  pppd.meta.local = {kOurAddr, 1701};
  pppd.meta.peer = {kLacAddr, 1701};
  pppd.meta.worker = 0;
  pppd.meta.session = kSession;
  pppd.data = lcp_l2tp;
  // A control message (T=1) of the tunnel, tagged or not: Ns is the
  // transport's, never touched, and it goes by meta.worker.
  Bytes zlb;
  put16(zlb, 0xC802);
  put16(zlb, 12);
  put16(zlb, 0x0457);
  put16(zlb, 0);
  put16(zlb, 0x1234);
  put16(zlb, 0x0042);
  control::TxDatagram control = pppd;
  control.data = zlb;

  const Bytes down_ip = inner_ipv4(kInternetHost, kSubscriber, 64);
  ASSERT_EQ(io.send_batch(std::span(&pppd, 1)), 1u);     // Ns 0
  ASSERT_EQ(io.send_batch(std::span(&control, 1)), 1u);  // by worker 0
  EXPECT_EQ(rte_ring_count(control_[0].from_control), 1u) << "only the control message";
  EXPECT_EQ(rte_ring_count(control_[1].from_control), 1u) << "pppd's frame: the owner's ring";
  worker(1).poll();
  inject(core_.rx_queues[0], {to_host(down_ip)});
  worker(0).poll();                                      // handed to worker 1
  worker(1).poll();                                      // Ns 1
  ASSERT_EQ(io.send_batch(std::span(&pppd, 1)), 1u);     // Ns 2
  inject(core_.rx_queues[1], {to_host(down_ip)});
  worker(1).poll();                                      // the core port first: Ns 2, then pppd's: 3
  worker(0).poll();
  stop();

  const std::vector<Bytes> sent = take(access_.tx_queues[1]);
  ASSERT_EQ(sent.size(), 4u);
  std::vector<int> ns;
  for (const Bytes& f : sent) ns.push_back(ns_of(f));
  EXPECT_EQ(ns, (std::vector<int>{0, 1, 2, 3})) << "one counter for the session";
  EXPECT_EQ(sent[1], encapsulated(down_ip, 1));
  EXPECT_EQ(sent[2], encapsulated(down_ip, 2));
  for (size_t i : {size_t{0}, size_t{3}}) {
    // pppd's frame as the control thread built it, Ns aside, and with no
    // UDP checksum (the owner writes Ns after ControlIo built the frame).
    ASSERT_EQ(sent[i].size(), 14 + 20 + 8 + lcp_l2tp.size());
    EXPECT_EQ(sent[i][14 + 20 + 6], 0);
    EXPECT_EQ(sent[i][14 + 20 + 7], 0);
    EXPECT_TRUE(std::equal(lcp_l2tp.begin() + 8, lcp_l2tp.end(), sent[i].begin() + 14 + 20 + 8 + 8));
    EXPECT_TRUE(std::equal(lcp_l2tp.begin(), lcp_l2tp.begin() + 6, sent[i].begin() + 14 + 20 + 8));
  }
  EXPECT_EQ(table_->state(kSession).next_ns, 4);

  const std::vector<Bytes> by_0 = take(access_.tx_queues[0]);
  ASSERT_EQ(by_0.size(), 1u);
  EXPECT_TRUE(std::equal(zlb.begin(), zlb.end(), by_0[0].begin() + 14 + 20 + 8)) << "control Ns untouched";
  EXPECT_EQ(worker(0).counters().from_control, 1u);
  EXPECT_EQ(worker(1).counters().from_control, 2u);
}

TEST_F(HandoffTest, SequencedDataHandedToItsOwnerIsPutInOrderThere) {
  // RFC 2661 5.4 on the owner: worker 0 only hands the frames on, worker 1
  // (which holds the session's expected Ns) puts the swapped pair back.
  ASSERT_TRUE(table_->publish(owned_by_1()));
  start();
  auto seq = [&](uint16_t ns, const Bytes& ip) {
    L2tpOptions o;
    o.sequence = true;
    o.ns = ns;
    return upstream(l2tp_ppp(0x4d2a, kSession, o, 0x0021, ip));
  };
  const Bytes first = inner_ipv4(kSubscriber, kInternetHost, 64, 20);
  const Bytes second = inner_ipv4(kSubscriber, kInternetHost, 64, 30);
  inject(access_.rx_queues[0], {seq(1, second), seq(0, first)});
  EXPECT_EQ(worker(0).poll(), 2u);
  EXPECT_EQ(worker(0).counters().handed_off, 2u);
  EXPECT_FALSE(table_->state(kSession).rx_sequenced) << "worker 0 writes nothing of the session";
  EXPECT_EQ(worker(1).poll(), 2u);
  stop();
  EXPECT_EQ(take(core_.tx_queues[1]),
            (std::vector<Bytes>{cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(first)),
                                cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(second))}));
  EXPECT_EQ(worker(1).counters().reordered, 1u);
  EXPECT_EQ(table_->state(kSession).rx_expected_ns, 2u);
}

TEST_F(HandoffTest, SequencedPppFrameOnAnotherWorkerKeepsItsPlaceAtTheOwner) {
  // A sequenced LCP echo between two data messages, all on worker 0's
  // queue: punted by worker 0 it would leave a gap at Ns 1 in worker 1's
  // reorder buffer, and Ns 2 would wait for the timeout.
  ASSERT_TRUE(table_->publish(owned_by_1()));
  start();
  L2tpOptions o;
  o.sequence = true;
  auto seq = [&](uint16_t ns, uint16_t protocol, const Bytes& info) {
    o.ns = ns;
    return upstream(l2tp_ppp(0x4d2a, kSession, o, protocol, info));
  };
  const Bytes a = inner_ipv4(kSubscriber, kInternetHost, 64, 20);
  const Bytes b = inner_ipv4(kSubscriber, kInternetHost, 64, 30);
  const Bytes echo = seq(1, 0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4});
  inject(access_.rx_queues[0], {seq(0, 0x0021, a), echo, seq(2, 0x0021, b)});
  EXPECT_EQ(worker(0).poll(), 3u);
  EXPECT_EQ(worker(0).counters().handed_off, 3u);
  EXPECT_EQ(worker(0).counters().to_control, 0u);
  EXPECT_EQ(worker(1).poll(), 3u);
  stop();
  EXPECT_EQ(take(core_.tx_queues[1]),
            (std::vector<Bytes>{cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(a)),
                                cat(ethernet(kRouterMac, kOurCoreMac, 0, 0x0800), forwarded(b))}));
  EXPECT_EQ(take(control_[1].to_control), std::vector<Bytes>{echo});
  EXPECT_TRUE(take(control_[0].to_control).empty());
  EXPECT_EQ(worker(1).reorder().held(), 0u);
  EXPECT_EQ(table_->state(kSession).rx_expected_ns, 3u);
}

TEST_F(HandoffTest, ALacSessionsPppFramesReachTheOwnerWhichFollowsTheirSBit) {
  // RFC 2661 5.4: the LNS turns sequencing off with data without S, an
  // LCP echo included; the owner, which writes Ns, must see it.
  control::FastPathEntry e = owned_by_1();
  e.follows_peer_sequencing = true;
  ASSERT_TRUE(table_->publish(e));
  start();
  L2tpOptions o;
  o.sequence = true;
  inject(access_.rx_queues[0], {upstream(l2tp_ppp(0x4d2a, kSession, o, 0x0021, inner_ipv4(kSubscriber, kInternetHost, 64)))});
  worker(0).poll();
  worker(1).poll();
  EXPECT_TRUE(table_->state(kSession).peer_sequences);
  const Bytes echo = upstream(l2tp_ppp(0x4d2a, kSession, {}, 0xC021, {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4}));
  inject(access_.rx_queues[0], {echo});
  EXPECT_EQ(worker(0).poll(), 1u);
  EXPECT_EQ(worker(0).counters().handed_off, 2u);
  EXPECT_EQ(worker(1).poll(), 1u);
  stop();
  EXPECT_FALSE(table_->state(kSession).peer_sequences);
  EXPECT_EQ(take(control_[1].to_control), std::vector<Bytes>{echo});
  EXPECT_TRUE(take(control_[0].to_control).empty());
}

}  // namespace
}  // namespace l2tp::dp::test
