#pragma once
// Ring ports for the worker tests: a port whose RX queue is a ring the test
// fills and whose TX queue is a ring the test drains (rte_eth_from_rings).

#include <gtest/gtest.h>

#include <vector>

#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "packets.hpp"

namespace l2tp::dp::test {

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

inline void inject(rte_ring* ring, const std::vector<Bytes>& frames, uint16_t port = 0) {
  for (const Bytes& f : frames) {
    rte_mbuf* m = to_mbuf(f);
    ASSERT_NE(m, nullptr);
    m->port = port;
    ASSERT_EQ(rte_ring_enqueue(ring, m), 0);
  }
}

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
