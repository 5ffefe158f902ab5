#pragma once
// Ports on rings (rte_eth_from_rings) for the worker tests: RX queue q is
// a ring the test fills, TX queue q a ring it drains.

#include <gtest/gtest.h>

#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "eal_environment.hpp"
#include "packets.hpp"

namespace l2tp::dp::test {

struct RingPort {
  std::vector<rte_ring*> rx_queues, tx_queues;
  rte_ring* rx = nullptr;  // queue 0's
  rte_ring* tx = nullptr;
  int port = -1;

  explicit RingPort(const char* name, uint16_t queues = 1) {
    for (uint16_t q = 0; q < queues; ++q) {
      rx_queues.push_back(rte_ring_create(unique_name("rx"), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
      tx_queues.push_back(rte_ring_create(unique_name("tx"), 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ));
      if (rx_queues.back() == nullptr || tx_queues.back() == nullptr) return;
    }
    rx = rx_queues[0];
    tx = tx_queues[0];
    port = rte_eth_from_rings(unique_name(name), rx_queues.data(), queues, tx_queues.data(), queues, SOCKET_ID_ANY);
    if (port < 0) return;
    const auto p = static_cast<uint16_t>(port);
    rte_eth_conf conf{};
    bool ok = rte_eth_dev_configure(p, queues, queues, &conf) == 0;
    for (uint16_t q = 0; ok && q < queues; ++q)
      ok = rte_eth_rx_queue_setup(p, q, 256, SOCKET_ID_ANY, nullptr, test_pool()) == 0 &&
           rte_eth_tx_queue_setup(p, q, 256, SOCKET_ID_ANY, nullptr) == 0;
    if (!ok || rte_eth_dev_start(p) != 0) port = -1;
  }
  ~RingPort() {
    if (port >= 0) {
      rte_eth_dev_stop(static_cast<uint16_t>(port));
      rte_eth_dev_close(static_cast<uint16_t>(port));
    }
    for (rte_ring* r : rx_queues) drain_and_free(r);
    for (rte_ring* r : tx_queues) drain_and_free(r);
  }
  RingPort(const RingPort&) = delete;
  RingPort& operator=(const RingPort&) = delete;
  static void drain_and_free(rte_ring* r) {
    if (r == nullptr) return;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
  uint16_t id() const { return static_cast<uint16_t>(port); }
};

inline void inject(rte_ring* ring, const std::vector<Bytes>& frames, uint16_t port = 0) {
  for (const Bytes& f : frames) {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    m->port = port;
    ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
  }
}

// Everything the ring holds, freed.
inline std::vector<Bytes> take(rte_ring* ring) {
  std::vector<Bytes> out;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) {
    out.push_back(from_mbuf(static_cast<rte_mbuf*>(m)));
    rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  }
  return out;
}

}  // namespace l2tp::dp::test
