// The worker loop on ring ports (rte_eth_from_rings): packets in, the right
// packets out of the right port or ring, and the counters to match.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane/worker.hpp"
#include "fixture.hpp"

namespace l2tp::dp::test {
namespace {

// A port whose RX queue is a ring we fill and whose TX queue is a ring we
// drain.
struct RingPort {
  rte_ring* rx = nullptr;
  rte_ring* tx = nullptr;
  int port = -1;

  explicit RingPort(const char* name) {
    rx = rte_ring_create(unique_name("rx"), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create(unique_name("tx"), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (rx == nullptr || tx == nullptr) return;
    port = rte_eth_from_rings(unique_name(name), &rx, 1, &tx, 1, SOCKET_ID_ANY);
    if (port < 0) return;
    const auto p = static_cast<uint16_t>(port);
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(p, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(p, 0, 256, SOCKET_ID_ANY, nullptr, test_pool()) != 0 ||
        rte_eth_tx_queue_setup(p, 0, 256, SOCKET_ID_ANY, nullptr) != 0 || rte_eth_dev_start(p) != 0)
      port = -1;
  }
  ~RingPort() {
    if (port >= 0) {
      rte_eth_dev_stop(static_cast<uint16_t>(port));
      rte_eth_dev_close(static_cast<uint16_t>(port));
    }
    drain_and_free(rx);
    drain_and_free(tx);
  }
  static void drain_and_free(rte_ring* r) {
    if (r == nullptr) return;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  uint16_t id() const { return static_cast<uint16_t>(port); }
};

void inject(rte_ring* ring, const std::vector<Bytes>& frames, uint16_t port = 0) {
  for (const Bytes& f : frames) {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    m->port = port;
    ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
  }
}

std::vector<Bytes> take(rte_ring* ring) {
  std::vector<Bytes> out;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) {
    out.push_back(from_mbuf(static_cast<rte_mbuf*>(m)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  return out;
}

class WorkerTest : public FastPathTest {
 protected:
  void SetUp() override {
    FastPathTest::SetUp();
    ASSERT_GE(access_.port, 0);
    ASSERT_GE(core_.port, 0);
    ASSERT_TRUE(table_->publish(entry()));
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
    return c;
  }

  Bytes data(uint16_t protocol, const Bytes& info, uint16_t session = 0xb7e1) {
    return upstream(l2tp_ppp(0x4d2a, session, {}, protocol, info));
  }
  Bytes to_host(const Bytes& ip) { return cat(ethernet(kOurCoreMac, kRouterMac, 0, 0x0800), ip); }

  RingPort access_{"access"};
  RingPort core_{"core"};
  ControlRings rings_;
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
  EXPECT_EQ(take(rings_.to_control), (std::vector<Bytes>{lcp, arp}));

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
    EXPECT_EQ(take(rings_.to_control).size(), 3u);
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

}  // namespace
}  // namespace l2tp::dp::test
